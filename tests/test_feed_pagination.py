"""Cursor pagination: a walk through a feed serves every post once, even while the store changes."""

from __future__ import annotations

import base64
import random
from types import SimpleNamespace

import pytest

from feed_store import FeedStore, InvalidInput, NotFound

from conftest import HOUR, ids, stored_state, walk

FEEDS = ["for_you", "latest", "following", "profile"]


def feed(store: FeedStore, kind: str, viewer: int | None, author: int | None = None):
    """A ``fetch(cursor=, limit=)`` callable for one of the four feeds."""
    if kind == "for_you":
        return lambda **kw: store.for_you(viewer, **kw)
    if kind == "latest":
        return lambda **kw: store.latest(viewer, **kw)
    if kind == "following":
        return lambda **kw: store.following_feed(viewer, **kw)
    return lambda **kw: store.profile_feed(viewer, author, **kw)


def can_see(store: FeedStore, viewer: int | None, post: int) -> bool:
    try:
        store.get_post(viewer, post)
        return True
    except NotFound:
        return False


@pytest.fixture
def busy(store, people, clock) -> SimpleNamespace:
    """42 posts over seven authors (every fifth for friends only) with likes, seen by alice."""
    rng = random.Random(3)
    extra = {h: store.create_user(h)["id"] for h in ("frank", "gina")}
    fans = [store.create_user(f"fan{i}")["id"] for i in range(8)]
    authors = [people.alice, people.bob, people.carol, people.dave, people.erin, extra["frank"], extra["gina"]]
    posts = []
    for n in range(42):
        author = authors[n % len(authors)]
        visibility = "friends" if n % 5 == 0 else "public"
        posts.append(store.create_post(author, f"post {n}", visibility=visibility)["id"])
        clock.advance(rng.randint(60, 1800))
    for post in posts:
        for fan in rng.sample(fans, rng.randint(0, 4)):
            try:
                store.like(fan, post)
            except NotFound:
                pass  # friends-only posts are not visible to fans
        clock.advance(5)
    clock.advance(HOUR)
    return SimpleNamespace(posts=posts, fans=fans, **vars(people), **extra)


@pytest.mark.parametrize("kind", FEEDS)
@pytest.mark.parametrize("limit", [1, 4, 7])
def test_walking_the_pages_serves_the_whole_feed_once_in_order(store, busy, kind, limit):
    fetch = feed(store, kind, busy.alice, busy.bob)
    whole = ids(fetch(cursor=None, limit=100))
    assert len(whole) >= 5
    walked = walk(fetch, limit)
    assert walked == whole
    assert len(set(walked)) == len(walked)


def test_a_walk_covers_every_post_the_viewer_may_see(store, busy):
    latest = walk(feed(store, "latest", busy.alice), limit=5)
    visible = [p for p in busy.posts if can_see(store, busy.alice, p)]
    assert 0 < len(visible) < len(busy.posts)  # some of the friends-only posts are not alice's to see
    assert sorted(latest) == sorted(visible)
    assert latest == sorted(latest, key=lambda p: -store.get_post(busy.alice, p)["published_at"])


@pytest.mark.parametrize("kind", ["for_you", "latest", "following", "profile"])
def test_pages_stay_put_while_new_posts_likes_and_comments_arrive(store, busy, clock, kind):
    fetch = feed(store, kind, busy.alice, busy.bob)
    whole = ids(fetch(cursor=None, limit=100))
    new_posts = []

    def meanwhile(pages: int, served: list[int]) -> None:
        clock.advance(30)
        # bob (alice's friend, followed, on his own profile) posts: it would rank first everywhere.
        new_posts.append(store.create_post(busy.bob, f"new {pages}", visibility="public")["id"])
        # The post at the bottom of the feed suddenly gets a lot of engagement and a remix.
        last = next(p for p in reversed(whole) if can_see(store, None, p))  # a public one
        for fan in busy.fans:
            if fan not in store.likers(fan, last):
                store.like(fan, last)
            store.comment(fan, last, "late to the party")
        store.create_post(busy.carol, "remix", parent_id=last, visibility="public")
        clock.advance(30)

    walked = walk(fetch, limit=4, between=meanwhile)
    assert walked == whole
    assert new_posts and not set(new_posts) & set(walked)
    # Sanity: the activity did change the feed; a fresh first page shows it.
    assert new_posts[-1] in ids(fetch(cursor=None, limit=100))


@pytest.mark.parametrize("kind", ["for_you", "latest"])
def test_deleting_a_post_on_an_earlier_page_does_not_shift_later_pages(store, busy, clock, kind):
    fetch = feed(store, kind, busy.alice)
    whole = ids(fetch(cursor=None, limit=100))

    def meanwhile(pages: int, served: list[int]) -> None:
        if pages == 2:
            victim = served[0]
            author = store.get_post(busy.alice, victim)["author_id"]
            clock.advance(10)
            store.delete_post(author, victim)

    walked = walk(fetch, limit=5, between=meanwhile)
    assert walked == whole
    assert whole[0] not in ids(fetch(cursor=None, limit=100))


@pytest.mark.parametrize("kind", ["for_you", "latest"])
def test_a_post_deleted_before_its_page_is_served_is_left_out_without_shifting(store, busy, clock, kind):
    fetch = feed(store, kind, busy.alice)
    whole = ids(fetch(cursor=None, limit=100))
    victim = whole[12]

    def meanwhile(pages: int, served: list[int]) -> None:
        if pages == 1:
            clock.advance(10)
            store.delete_post(store.get_post(busy.alice, victim)["author_id"], victim)

    assert walk(fetch, limit=5, between=meanwhile) == [p for p in whole if p != victim]


def test_posts_reported_or_blocked_mid_scroll_are_left_out_without_shifting(store, busy, clock):
    fetch = feed(store, "for_you", busy.alice)
    whole = ids(fetch(cursor=None, limit=100))
    erins = {p for p in whole if store.get_post(busy.alice, p)["author_id"] == busy.erin}
    reported = next(p for p in whole[10:] if p not in erins)

    def meanwhile(pages: int, served: list[int]) -> None:
        if pages == 1:
            clock.advance(10)
            store.report(busy.alice, "post", reported, "spam")
            store.block(busy.alice, busy.erin)  # a stranger: no follows change

    walked = walk(fetch, limit=5, between=meanwhile)
    assert walked == [p for p in whole[:5]] + [p for p in whole[5:] if p != reported and p not in erins]


def test_pages_stay_put_when_the_viewer_follows_someone_mid_scroll(store, busy, clock):
    """Following an author from the feed and scrolling on must not repeat or skip posts."""
    fetch = feed(store, "for_you", busy.alice)
    whole = ids(fetch(cursor=None, limit=100))

    def meanwhile(pages: int, served: list[int]) -> None:
        if pages == 1:
            clock.advance(10)
            store.follow(busy.alice, busy.gina)  # a stranger until now: her posts jump up the ranking

    walked = walk(fetch, limit=5, between=meanwhile)
    assert len(walked) == len(set(walked)), f"posts served twice: {sorted({p for p in walked if walked.count(p) > 1})}"
    assert walked == whole, f"posts never served: {sorted(set(whole) - set(walked))}"


@pytest.mark.parametrize("kind", ["for_you", "latest"])
def test_a_post_made_in_the_same_clock_tick_as_the_first_page_does_not_enter_the_walk(store, busy, clock, kind):
    """The cursor freezes the feed at the first page; a post made right after it, before the clock
    moves on (a coarse clock, a fast client), must wait for the next refresh like any later post."""
    fetch = feed(store, kind, busy.alice)
    whole = ids(fetch(cursor=None, limit=100))
    added = []

    def meanwhile(pages: int, served: list[int]) -> None:
        if pages == 1:
            added.append(store.create_post(busy.bob, "same tick", visibility="public")["id"])

    walked = walk(fetch, limit=5, between=meanwhile)
    assert len(walked) == len(set(walked)), "a post was served twice"
    assert walked == whole


@pytest.mark.parametrize("kind", ["for_you", "latest"])
def test_posts_published_at_the_same_moment_page_without_repeats_or_gaps(store, clock, kind):
    """E.g. a bulk import or a coarse clock: 60 posts share one timestamp."""
    viewer = store.create_user("viewer")["id"]
    authors = [store.create_user(f"maker{i}")["id"] for i in range(20)]
    posts = [store.create_post(authors[n % 20], f"post {n}", visibility="public")["id"] for n in range(60)]
    clock.advance(60)
    fetch = feed(store, kind, viewer)

    whole = ids(fetch(cursor=None, limit=100))
    assert sorted(whole) == sorted(posts)
    assert whole == sorted(posts, reverse=True), "equal scores go to the newer post"
    walked = walk(fetch, limit=10)
    assert len(set(walked)) == len(walked) == 60, f"{len(set(walked))} distinct posts in a walk of {len(walked)}"
    assert walked == whole


@pytest.mark.parametrize("cursor", [
    "not a cursor", "!!!!", base64.urlsafe_b64encode(b"[1, -5]").decode(),
    base64.urlsafe_b64encode(b'{"as_of": 1}').decode(), base64.urlsafe_b64encode(b'["x", 3]').decode(),
    base64.urlsafe_b64encode(b"[1, 2, 3]").decode(), base64.urlsafe_b64encode(b"[1.5, 2.5]").decode(),
])
def test_a_damaged_cursor_is_refused_clearly(store, busy, cursor):
    before = stored_state(store)
    with pytest.raises(InvalidInput, match="feed position is damaged"):
        store.for_you(busy.alice, cursor=cursor)
    assert stored_state(store) == before


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_a_page_size_out_of_range_is_refused(store, busy, limit):
    with pytest.raises(InvalidInput, match="1 to 100"):
        store.latest(busy.alice, limit=limit)


def test_the_last_page_has_no_cursor_and_an_empty_feed_is_one_empty_page(store, people):
    page = store.for_you(people.alice)
    assert page.items == [] and page.next_cursor is None
    post = store.create_post(people.bob, "only one", visibility="public")["id"]
    page = store.for_you(people.alice, limit=1)
    assert ids(page) == [post] and page.next_cursor is None


@pytest.mark.parametrize("kind", ["for_you", "latest"])
def test_unlikes_mid_scroll_neither_repeat_nor_skip_a_post(store, busy, clock, kind):
    fetch = feed(store, kind, busy.alice)
    whole = ids(fetch(cursor=None, limit=100))
    liked = [(fan, post) for post in whole for fan in store.likers(busy.alice, post) if fan in busy.fans]
    assert len(liked) > 10

    def meanwhile(pages: int, served: list[int]) -> None:
        clock.advance(30)
        for fan, post in liked[pages * 5:(pages + 1) * 5]:  # the most liked posts lose their likes
            store.unlike(fan, post)
        clock.advance(30)

    walked = walk(fetch, limit=4, between=meanwhile)
    assert walked == whole
    assert len(set(walked)) == len(walked)
    if kind == "for_you":  # the unlikes did change the ranking: a fresh first page shows it
        assert ids(fetch(cursor=None, limit=100)) != whole
