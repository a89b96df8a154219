"""The activity inbox: what people are told, grouped as an inbox shows it, read state per person (real store)."""

from __future__ import annotations

import pytest

from feed_store.media import MediaFolder
from studio import Studio


@pytest.fixture
def town(tmp_path, store, clock):
    """ana posts a video; ben, cat and dan react to it in turn."""
    studio = Studio(store, MediaFolder(tmp_path / "media"), None, lambda: None, provenance=None)
    ids = {h: store.create_user(h)["id"] for h in ("ana", "ben", "cat", "dan")}
    post = store.create_post(ids["ana"], "a red ball on a beach", visibility="public")["id"]
    clock.advance(60)
    return studio, store, clock, ids, post


def lines(studio: Studio, user: int) -> list[tuple[str, str, int | None, bool]]:
    return [(" ".join(i.actors), i.text, i.post_id, i.unread) for i in studio.activity(user)]


def test_likes_comments_follows_remixes_and_mentions_reach_the_author_grouped(town):
    studio, store, clock, ids, post = town
    for who in ("ben", "cat", "dan"):
        store.like(ids[who], post)
        clock.advance(1)
    store.comment(ids["ben"], post, "nice, @cat look")
    clock.advance(1)
    store.follow(ids["ben"], ids["ana"])
    store.follow(ids["cat"], ids["ana"])
    clock.advance(1)
    remix = store.create_post(ids["dan"], "a blue ball on a beach", parent_id=post, visibility="public")["id"]
    clock.advance(1)
    mention = store.create_post(ids["ben"], "@ana and a green ball", visibility="public")["id"]

    assert lines(studio, ids["ana"]) == [
        ("ben", "mentioned you", mention, True),
        ("dan", "remixed your video", remix, True),
        ("cat ben", "followed you", None, True),
        ("ben", "commented on your video", post, True),
        ("dan cat ben", "liked your video", post, True),
    ]
    assert lines(studio, ids["cat"]) == [("ben", "mentioned you", post, True)]  # the comment's @cat
    assert studio.unread_activity(ids["ana"]) == 8


def test_opening_the_inbox_reads_it_for_that_person_only(town):
    studio, store, clock, ids, post = town
    store.like(ids["ben"], post)
    store.comment(ids["cat"], post, "hi @ben")
    assert studio.unread_activity(ids["ana"]) == 2 and studio.unread_activity(ids["ben"]) == 1
    studio.mark_activity_read(ids["ana"])
    assert studio.unread_activity(ids["ana"]) == 0 and not any(i.unread for i in studio.activity(ids["ana"]))
    assert studio.unread_activity(ids["ben"]) == 1
    store.like(ids["dan"], post)
    assert [i.unread for i in studio.activity(ids["ana"])] == [True, False]  # the new like is a new line


def test_nobody_is_told_of_their_own_acts_or_across_a_block(town):
    studio, store, clock, ids, post = town
    store.like(ids["ana"], post)
    store.comment(ids["ana"], post, "my own @ana")
    store.block(ids["ana"], ids["dan"])
    with pytest.raises(Exception):
        store.like(ids["dan"], post)  # blocked: cannot even see it
    assert studio.activity(ids["ana"]) == ()


def test_a_moderators_decision_reaches_the_author(town, open_store):
    studio, store, clock, ids, post = town
    admin = store.create_user("mod", is_admin=True)["id"]
    report = store.report(ids["ben"], "post", post, "violence")
    store.resolve_report(admin, report["id"], "take_down")
    (line,) = studio.activity(ids["ana"])
    assert line.kind == "moderation" and line.actors == () and line.post_id is None
    assert line.text == "The moderators took down your video (reported as violence)."
    assert studio.activity(ids["ben"]) == ()  # the reporter is not told who was taken down


def test_the_inbox_needs_an_account(town):
    studio, *_ = town
    with pytest.raises(Exception, match="Sign in"):
        studio.activity(None)
    assert studio.unread_activity(None) == 0
