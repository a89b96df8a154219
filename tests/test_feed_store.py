"""FeedStore behaviour: visibility rules, the four feeds, drafts, cameos, remix lineage, bad input."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from feed_store import Conflict, FeedStore, InvalidInput, NotFound, PermissionDenied, StoreError

from conftest import ids, stored_state, walk


def all_feeds(store: FeedStore, viewer: int | None) -> dict[str, list[int]]:
    """Every post id ``viewer`` is shown in each feed (whole walks, not just the first page)."""
    out = {"for_you": walk(lambda **kw: store.for_you(viewer, **kw), limit=3),
           "latest": walk(lambda **kw: store.latest(viewer, **kw), limit=3)}
    if viewer is not None:
        out["following"] = walk(lambda **kw: store.following_feed(viewer, **kw), limit=3)
    return out


def in_any_feed(store: FeedStore, viewer: int | None, post_id: int) -> bool:
    return any(post_id in shown for shown in all_feeds(store, viewer).values())


# -- engagement basics -----------------------------------------------------------------------------


def test_likes_comments_and_views_are_counted_and_survive_reopen(store, open_store, people, clock):
    post = store.create_post(people.bob, "a whale in the sky", visibility="public")["id"]
    assert store.like(people.alice, post) == 1
    assert store.like(people.carol, post) == 2
    assert store.unlike(people.carol, post) == 1
    first = store.comment(people.alice, post, "  so dreamy  ")
    assert first["text"] == "so dreamy"
    store.comment(people.erin, post, "x" * 500)  # the longest allowed
    store.comment(people.dave, post, "!")  # the shortest allowed
    assert store.record_view(people.dave, post) == 1
    assert store.record_view(people.dave, post) == 1
    got = store.get_post(people.alice, post)
    assert (got["likes"], got["comments"], got["views"], got["liked"]) == (1, 3, 1, True)
    assert store.get_post(people.carol, post)["liked"] is False
    assert store.likers(people.alice, post) == [people.alice]
    store.close()

    reopened = open_store()
    got = reopened.get_post(people.alice, post)
    assert (got["likes"], got["comments"], got["views"]) == (1, 3, 1)
    assert [c["text"] for c in reopened.comments(people.bob, post)] == ["so dreamy", "x" * 500, "!"]
    # Likes from before the reopen and after it, given and taken back, list together.
    reopened.like(people.dave, post)
    reopened.unlike(people.alice, post)
    reopened.like(people.alice, post)
    reopened.unlike(people.dave, post)
    reopened.like(people.erin, post)
    assert reopened.likers(people.bob, post) == sorted([people.alice, people.erin])
    assert reopened.get_post(people.dave, post)["liked"] is False


def test_deleting_a_comment_is_for_its_author_the_posts_author_or_an_admin(store, people):
    admin = store.create_user("mod", is_admin=True)["id"]
    post = store.create_post(people.bob, "a cat", visibility="public")["id"]
    c1, c2, c3 = (store.comment(people.carol, post, f"comment {n}")["id"] for n in range(3))
    store.delete_comment(people.carol, c1)  # its author
    store.delete_comment(people.bob, c2)  # the post's author
    store.delete_comment(admin, c3)
    assert store.comments(people.alice, post) == []
    assert store.get_post(people.alice, post)["comments"] == 0


def test_counts_and_feeds_are_the_same_after_reopening(store, open_store, people, clock):
    """Every count the store keeps in memory is rebuilt from disk to the same value."""
    fans = [store.create_user(f"fan{i}")["id"] for i in range(5)]
    original = store.create_post(people.bob, "original", visibility="public")["id"]
    other = store.create_post(people.carol, "other", visibility="public")["id"]
    clock.advance(60)
    remix = store.create_post(people.erin, "remix", parent_id=original, visibility="public")["id"]
    deleted_remix = store.create_post(people.dave, "remix 2", parent_id=original, visibility="public")["id"]
    draft_remix = store.create_post(people.alice, "remix 3", parent_id=original)["id"]
    for fan in fans:
        store.like(fan, original)
        store.like(fan, other)
    clock.advance(60)
    store.unlike(fans[0], original)
    comments = [store.comment(fan, other, f"c{fan}")["id"] for fan in fans]
    store.delete_comment(people.carol, comments[1])
    store.delete_post(people.dave, deleted_remix)
    store.publish(people.alice, draft_remix, "friends")
    clock.advance(60)

    def seen(s: FeedStore) -> dict:
        return {
            "counts": {p: {k: s.get_post(people.bob, p)[k] for k in ("likes", "comments", "remixes")}
                       for p in (original, other, remix)},
            "stats": s.stats(),
            "for_you": [(i.post["id"], i.reasons) for i in s.for_you(people.alice).items],
            "latest": ids(s.latest(None)),
        }

    live = seen(store)
    assert live["counts"][original] == {"likes": 4, "comments": 0, "remixes": 2}
    assert live["counts"][other] == {"likes": 5, "comments": 4, "remixes": 0}
    store.close()
    assert seen(open_store()) == live


def test_a_hidden_prompt_is_shown_only_to_the_author(store, people, clock):
    post = store.create_post(people.bob, "secret sauce", visibility="public", hide_prompt=True)["id"]
    clock.advance(60)
    assert store.get_post(people.bob, post)["prompt"] == "secret sauce"
    assert store.get_post(people.alice, post)["prompt"] is None
    assert [i.post["prompt"] for i in store.for_you(people.alice).items] == [None]
    assert [i.post["prompt"] for i in store.latest(None).items] == [None]


def test_user_records_never_expose_the_password_hash(store):
    bob = store.create_user("Bob", "Bob B.", password_hash="$2b$12$secret")["id"]
    assert "password_hash" not in store.get_user(bob)
    assert "password_hash" not in store.user_by_handle("@bob")
    assert store.password_hash("BOB") == (bob, "$2b$12$secret")


def test_an_invite_is_spent_by_the_user_it_brings_in(store, people):
    code = store.create_invite(people.alice)
    newbie = store.create_user("newbie", invite_code=code)
    assert newbie["invited_by"] == people.alice
    assert [(i["code"], i["used_by"]) for i in store.invites_of(people.alice)] == [(code, newbie["id"])]


# -- visibility ------------------------------------------------------------------------------------


def test_blocked_users_never_see_each_other_in_either_direction(store, people, clock):
    bobs = store.create_post(people.bob, "bob's", visibility="public")["id"]
    alices = store.create_post(people.alice, "alice's", visibility="public")["id"]
    store.comment(people.bob, alices, "hi from bob")
    clock.advance(60)
    assert in_any_feed(store, people.alice, bobs) and in_any_feed(store, people.bob, alices)

    store.block(people.alice, people.bob)
    clock.advance(60)
    assert store.is_blocked(people.bob, people.alice)
    for viewer, hidden in ((people.alice, bobs), (people.bob, alices)):  # the blocker and the blocked
        for name, shown in all_feeds(store, viewer).items():
            assert hidden not in shown, f"{name} feed of user {viewer} shows a blocked user's post"
        with pytest.raises(NotFound):
            store.get_post(viewer, hidden)
    with pytest.raises(NotFound, match="not available"):
        store.profile_feed(people.bob, people.alice)
    with pytest.raises(NotFound, match="not available"):
        store.profile_feed(people.alice, people.bob)
    assert store.comments(people.alice, alices) == []  # bob's comment is hidden from alice
    assert store.friends(people.alice) == []  # the block ended the follows both ways
    with pytest.raises(PermissionDenied):
        store.follow(people.bob, people.alice)
    # Everyone else still sees both.
    assert {bobs, alices} <= set(all_feeds(store, people.carol)["for_you"])

    store.unblock(people.alice, people.bob)
    clock.advance(60)
    assert bobs in all_feeds(store, people.alice)["latest"]


def test_deleted_posts_never_appear(store, people, clock):
    post = store.create_post(people.bob, "soon gone", visibility="public")["id"]
    store.like(people.alice, post)
    clock.advance(60)
    assert in_any_feed(store, people.alice, post)
    deleted = store.delete_post(people.bob, post)
    assert deleted["deleted_at"] is not None and deleted["deleted_by"] == people.bob
    clock.advance(60)
    for viewer in (None, people.alice, people.carol, people.bob):
        assert not in_any_feed(store, viewer, post)
    assert ids(store.profile_feed(people.bob, people.bob)) == []
    for viewer in (people.alice, people.bob):
        with pytest.raises(NotFound):
            store.get_post(viewer, post)
    with pytest.raises(NotFound):
        store.like(people.carol, post)
    assert store.stats()["videos"] == 0


def test_a_reported_post_leaves_the_reporters_feeds_only(store, people, clock):
    post = store.create_post(people.erin, "spammy", visibility="public")["id"]
    other = store.create_post(people.erin, "fine", visibility="public")["id"]
    clock.advance(60)
    report = store.report(people.alice, "post", post, "spam")
    assert report["status"] == "open"
    clock.advance(60)
    feeds = all_feeds(store, people.alice)
    assert all(post not in shown for shown in feeds.values())
    assert other in feeds["for_you"] and other in feeds["latest"]
    assert post not in ids(store.profile_feed(people.alice, people.erin))
    assert post in all_feeds(store, people.carol)["for_you"]
    assert post in all_feeds(store, None)["latest"]


def test_friends_only_posts_reach_only_friends_and_the_author(store, people, clock):
    frank = store.create_user("frank")["id"]
    store.follow(frank, people.bob)  # frank follows bob, bob does not follow back: not friends
    admin = store.create_user("mod", is_admin=True)["id"]
    post = store.create_post(people.bob, "friends only", visibility="friends")["id"]
    public = store.create_post(people.bob, "for all", visibility="public")["id"]
    clock.advance(60)

    for viewer in (people.alice, people.dave, people.bob):  # two mutual follows and the author
        feeds = all_feeds(store, viewer)
        assert post in feeds["for_you"] and post in feeds["latest"]
        assert post in ids(store.profile_feed(viewer, people.bob))
        assert store.get_post(viewer, post)["prompt"] == "friends only"
    assert post in all_feeds(store, people.alice)["following"]

    for viewer in (frank, people.carol, people.erin, None):  # a one-way follower, strangers, signed out
        assert not in_any_feed(store, viewer, post)
        assert post not in ids(store.profile_feed(viewer, people.bob))
        assert public in ids(store.profile_feed(viewer, people.bob))
        with pytest.raises(NotFound):
            store.get_post(viewer, post)
    with pytest.raises(NotFound):
        store.like(frank, post)
    assert not in_any_feed(store, admin, post)  # admins may open it (moderation) but it is not fed to them
    assert store.get_post(admin, post)["id"] == post

    store.unfollow(people.alice, people.bob)  # no longer mutual
    assert not in_any_feed(store, people.alice, post)


def test_drafts_never_appear_in_feeds(store, people, clock):
    draft = store.create_post(people.bob, "work in progress")["id"]
    assert store.get_post(people.bob, draft)["published_at"] is None
    clock.advance(60)
    for viewer in (None, people.alice, people.bob, people.carol):
        assert not in_any_feed(store, viewer, draft)
    assert ids(store.profile_feed(people.bob, people.bob)) == []
    assert [d["id"] for d in store.drafts(people.bob)] == [draft]
    assert store.drafts(people.alice) == []
    with pytest.raises(NotFound):
        store.get_post(people.alice, draft)
    with pytest.raises(PermissionDenied, match="draft"):
        store.like(people.bob, draft)

    store.publish(people.bob, draft, "public")
    clock.advance(60)
    assert draft in all_feeds(store, people.alice)["latest"]
    assert store.drafts(people.bob) == []


# -- the other feeds -------------------------------------------------------------------------------


def test_following_latest_and_profile_feeds(store, people, clock):
    posted = {}
    for n, author in enumerate([people.bob, people.carol, people.erin, people.bob, people.dave, people.carol]):
        posted[n] = store.create_post(author, f"post {n}", visibility="public")["id"]
        clock.advance(60)
    carols_friends_only = store.create_post(people.carol, "carol's friends", visibility="friends")["id"]
    clock.advance(60)
    newest_first = [posted[n] for n in range(5, -1, -1)]

    following = ids(store.following_feed(people.alice))  # alice follows bob and carol
    assert following == [p for p in newest_first if store.get_post(None, p)["author_id"] in (people.bob, people.carol)]
    assert carols_friends_only not in following  # carol does not follow alice back
    assert ids(store.latest(people.alice)) == newest_first
    assert ids(store.latest(None)) == newest_first
    assert ids(store.profile_feed(people.alice, people.bob)) == [posted[3], posted[0]]
    assert ids(store.profile_feed(people.carol, people.carol)) == [carols_friends_only, posted[5], posted[1]]
    assert ids(store.following_feed(people.erin)) == []


# -- remixes ---------------------------------------------------------------------------------------


def test_remix_lineage_and_an_unavailable_deleted_ancestor(store, people, clock):
    original = store.create_post(people.bob, "a dragon", visibility="public")["id"]
    clock.advance(60)
    remix = store.create_post(people.carol, "a dragon, in space", parent_id=original, visibility="public")["id"]
    clock.advance(60)
    remix_of_remix = store.create_post(people.erin, "a dragon, in space, singing", parent_id=remix,
                                       visibility="public")["id"]
    draft_remix = store.create_post(people.dave, "unfinished", parent_id=original)["id"]
    clock.advance(60)

    assert [p["id"] for p in store.remixes(people.alice, original)] == [remix]
    assert [p["id"] for p in store.remixes(people.alice, remix)] == [remix_of_remix]
    assert store.get_post(people.alice, original)["remixes"] == 1  # the draft is not counted
    assert [p["id"] for p in store.lineage(people.alice, remix_of_remix)] == [original, remix, remix_of_remix]

    store.delete_post(people.bob, original)
    chain = store.lineage(people.alice, remix_of_remix)
    assert chain[0] == {"id": original, "unavailable": True}
    assert [p["id"] for p in chain[1:]] == [remix, remix_of_remix]
    assert chain[1]["prompt"] == "a dragon, in space"
    assert store.get_post(people.dave, draft_remix)["parent_id"] == original

    store.delete_post(people.erin, remix_of_remix)
    assert store.remixes(people.alice, remix) == []
    assert store.get_post(people.alice, remix)["remixes"] == 0


def test_publishing_a_draft_remix_counts_it_on_the_parent(store, open_store, people):
    original = store.create_post(people.bob, "a dragon", visibility="public")["id"]
    draft = store.create_post(people.carol, "remix", parent_id=original)["id"]
    assert store.get_post(people.alice, original)["remixes"] == 0
    store.publish(people.carol, draft, "public")
    assert store.get_post(people.alice, original)["remixes"] == 1
    assert [p["id"] for p in store.remixes(people.alice, original)] == [draft]
    store.close()
    assert open_store().get_post(people.alice, original)["remixes"] == 1


# -- cameos ----------------------------------------------------------------------------------------


def test_a_cameo_owner_can_see_and_delete_a_draft_that_uses_their_cameo(store, people):
    cameo = store.create_cameo(people.erin, {"name": "erin waving"})["id"]
    assert store.get_cameo(cameo)["owner_id"] == people.erin
    store.set_cameo_permission(people.erin, cameo, "approved", approved_ids=[people.bob])
    draft = store.create_post(people.bob, "erin on the moon", cameo_ids=[cameo])["id"]
    other_draft = store.create_post(people.bob, "no cameo here")["id"]

    assert store.get_post(people.erin, draft)["cameo_ids"] == [cameo]
    with pytest.raises(NotFound):
        store.get_post(people.erin, other_draft)
    with pytest.raises(NotFound):
        store.get_post(people.alice, draft)  # bob's friend, but it is a draft and not her cameo
    with pytest.raises(NotFound):
        store.delete_post(people.alice, draft)
    with pytest.raises(PermissionDenied):
        store.publish(people.erin, draft, "public")  # seeing is not publishing
    assert not in_any_feed(store, people.erin, draft)

    store.delete_post(people.erin, draft)
    assert [d["id"] for d in store.drafts(people.bob)] == [other_draft]
    with pytest.raises(NotFound):
        store.get_post(people.bob, draft)


# -- bad input: a typed error with a clear message, and nothing written ------------------------------


@pytest.fixture
def world(store, people, clock) -> SimpleNamespace:
    admin = store.create_user("moderator", is_admin=True)["id"]
    cameo = store.create_cameo(people.erin, {"name": "erin"})["id"]
    post = store.create_post(people.bob, "bob's public video", visibility="public")["id"]
    draft = store.create_post(people.bob, "bob's draft")["id"]
    liked = store.create_post(people.carol, "carol's video", visibility="public")["id"]
    store.like(people.alice, liked)
    comment = store.comment(people.carol, post, "carol was here")["id"]
    clock.advance(60)
    return SimpleNamespace(admin=admin, cameo=cameo, post=post, draft=draft, liked=liked, comment=comment, **vars(people))


def _no_setup(s, w):
    return None


BAD_INPUT = [
    # (case id, error, message pattern, call[, a valid call that sets the scene first])
    ("empty handle", InvalidInput, "handle is 3 to 30 lowercase letters", lambda s, w: s.create_user("")),
    ("no handle", InvalidInput, "handle is 3 to 30 lowercase letters", lambda s, w: s.create_user(None)),
    ("short handle", InvalidInput, "handle is 3 to 30 lowercase letters", lambda s, w: s.create_user("ab")),
    ("long handle", InvalidInput, "handle is 3 to 30 lowercase letters", lambda s, w: s.create_user("a" * 31)),
    ("handle with space", InvalidInput, "lowercase letters, digits or underscores", lambda s, w: s.create_user("bob smith")),
    ("handle with dash", InvalidInput, "lowercase letters, digits or underscores", lambda s, w: s.create_user("bob-smith")),
    ("handle with accent", InvalidInput, "lowercase letters, digits or underscores", lambda s, w: s.create_user("émile")),
    ("handle taken", Conflict, "@bob is taken", lambda s, w: s.create_user("Bob")),
    ("duplicate like", Conflict, "already like", lambda s, w: s.like(w.alice, w.liked)),
    ("duplicate follow", Conflict, "already follow", lambda s, w: s.follow(w.alice, w.bob)),
    ("duplicate block", Conflict, "already blocked", lambda s, w: s.block(w.alice, w.erin),
     lambda s, w: s.block(w.alice, w.erin)),
    ("empty comment", InvalidInput, "1 to 500 characters", lambda s, w: s.comment(w.alice, w.post, "")),
    ("blank comment", InvalidInput, "1 to 500 characters", lambda s, w: s.comment(w.alice, w.post, " \n\t ")),
    ("no comment", InvalidInput, "1 to 500 characters", lambda s, w: s.comment(w.alice, w.post, None)),
    ("long comment", InvalidInput, r"1 to 500 characters \(it is 501\)",
     lambda s, w: s.comment(w.alice, w.post, "y" * 501)),
    ("empty prompt", InvalidInput, "prompt must be 1 to 500", lambda s, w: s.create_post(w.alice, "  ")),
    ("bad visibility", InvalidInput, "Visibility must be one of",
     lambda s, w: s.create_post(w.alice, "hi", visibility="everyone")),
    ("publish to drafts", InvalidInput, "friends or public", lambda s, w: s.publish(w.bob, w.draft, "draft")),
    ("follow self", InvalidInput, "cannot follow yourself", lambda s, w: s.follow(w.alice, w.alice)),
    ("bad report kind", InvalidInput, "report a post", lambda s, w: s.report(w.alice, "video", w.post, "bad")),
    ("empty report reason", InvalidInput, "reason must be 1 to 500",
     lambda s, w: s.report(w.alice, "post", w.post, "")),
    ("like unknown post", NotFound, "No video with id 9999", lambda s, w: s.like(w.alice, 9999)),
    ("like by unknown user", NotFound, "No user with id 9999", lambda s, w: s.like(9999, w.post)),
    ("comment on unknown post", NotFound, "No video with id 9999", lambda s, w: s.comment(w.alice, 9999, "hi")),
    ("post id not a number", NotFound, "No video with that id", lambda s, w: s.comment(w.alice, "abc", "hi")),
    ("follow unknown user", NotFound, "No user with id 9999", lambda s, w: s.follow(w.alice, 9999)),
    ("unknown user follows", NotFound, "No user with id 9999", lambda s, w: s.follow(9999, w.alice)),
    ("delete unknown post", NotFound, "No video with id 9999", lambda s, w: s.delete_post(w.bob, 9999)),
    ("delete unknown comment", NotFound, "No comment with id 9999", lambda s, w: s.delete_comment(w.bob, 9999)),
    ("remix of unknown post", NotFound, "No video with id 9999",
     lambda s, w: s.create_post(w.alice, "remix", parent_id=9999, visibility="public")),
    ("unknown cameo", NotFound, "No cameo with id 9999", lambda s, w: s.create_post(w.alice, "me", cameo_ids=[9999])),
    ("unknown author", NotFound, "No user with id 9999", lambda s, w: s.create_post(9999, "hi")),
    ("unlike what was not liked", NotFound, "not liked this video", lambda s, w: s.unlike(w.bob, w.post)),
    ("unfollow who was not followed", NotFound, "do not follow", lambda s, w: s.unfollow(w.erin, w.bob)),
    ("like someone else's draft", NotFound, "No video with id", lambda s, w: s.like(w.alice, w.draft)),
    ("remix someone else's draft", NotFound, "No video with id",
     lambda s, w: s.create_post(w.alice, "remix", parent_id=w.draft)),
    ("view unknown post", NotFound, "No video with id 9999", lambda s, w: s.record_view(w.alice, 9999)),
    ("profile of unknown user", NotFound, "No user with id 9999", lambda s, w: s.profile_feed(w.alice, 9999)),
    ("feed of unknown viewer", NotFound, "No user with id 9999", lambda s, w: s.for_you(9999)),
    ("delete another user's post", PermissionDenied, "Only the author, an admin or a cameo's owner",
     lambda s, w: s.delete_post(w.alice, w.post)),
    ("publish another user's post", PermissionDenied, "Only the author can publish",
     lambda s, w: s.publish(w.alice, w.post, "friends")),
    ("delete another user's comment", PermissionDenied, "Only the comment's author",
     lambda s, w: s.delete_comment(w.erin, w.comment)),
    ("like own draft", PermissionDenied, "still a draft", lambda s, w: s.like(w.bob, w.draft)),
    ("comment on own draft", PermissionDenied, "still a draft", lambda s, w: s.comment(w.bob, w.draft, "hmm")),
    ("follow someone who blocked you", PermissionDenied, "cannot follow this user",
     lambda s, w: s.follow(w.dave, w.erin), lambda s, w: s.block(w.erin, w.dave)),
    ("like a blocker's post", NotFound, "No video with id",
     lambda s, w: s.like(w.bob, w.liked), lambda s, w: s.block(w.carol, w.bob)),
    ("unknown invite code", InvalidInput, "invite code is not valid",
     lambda s, w: s.create_user("newbie", invite_code="nope")),
    ("used invite code", InvalidInput, "invite code is not valid or has been used",
     lambda s, w: s.create_user("second", invite_code=w.code),
     lambda s, w: (setattr(w, "code", s.create_invite(w.alice)), s.create_user("first", invite_code=w.code))),
    ("account already registered", Conflict, "already registered",
     lambda s, w: s.create_user("other", external_id="hf:42"), lambda s, w: s.create_user("hfuser", external_id="hf:42")),
]


def observable(store: FeedStore, w: SimpleNamespace) -> dict:
    """Everything a user could look at that the calls above might have changed."""
    return {
        "stats": store.stats(),
        "posts": {p: store.get_post(w.admin, p) for p in (w.post, w.draft, w.liked)},
        "likers": {p: store.likers(w.admin, p) for p in (w.post, w.liked)},
        "comments": store.comments(w.admin, w.post),
        "following": {u: store.following(u) for u in (w.alice, w.bob, w.carol, w.dave, w.erin)},
        "blocked": {(a, b): store.is_blocked(a, b) for a in (w.alice, w.dave) for b in (w.erin, w.bob)},
        "drafts": {u: [d["id"] for d in store.drafts(u)] for u in (w.alice, w.bob)},
        "latest": {u: ids(store.latest(u, limit=100)) for u in (w.alice, w.dave)},
        "handles": [store.get_user(u)["handle"] for u in range(1, store.stats()["users"] + 1)],
    }


@pytest.mark.parametrize("error, message, call, setup",
                         [(*case[1:4], case[4] if len(case) > 4 else _no_setup) for case in BAD_INPUT],
                         ids=[case[0] for case in BAD_INPUT])
def test_bad_input_raises_a_typed_error_and_writes_nothing(store, open_store, world, error, message, call, setup):
    setup(store, world)
    before = observable(store, world)
    before_disk = stored_state(store)

    with pytest.raises(StoreError) as raised:
        call(store, world)
    err = raised.value
    assert type(err) is error, f"{type(err).__name__} raised where {error.__name__} was expected: {err}"
    assert re.search(message, str(err)), f"unclear message: {err!r}"

    assert stored_state(store) == before_disk, "the failed call wrote to the store"
    assert observable(store, world) == before, "the failed call changed what users see"
    store.close()
    assert observable(open_store(), world) == before, "the reopened store differs"


# -- ids reserved before a video exists, suspensions, refusals --------------------------------------


def test_a_reserved_post_id_is_never_handed_out_twice_even_after_a_restart(store_dir, open_store, people):
    store = open_store()
    reserved = store.reserve_post_id()
    other = store.create_post(people.bob, "made while the first one was generating")["id"]
    assert other != reserved
    mine = store.create_post(people.alice, "the reserved one", post_id=reserved)
    assert mine["id"] == reserved and store.get_post(people.alice, reserved)["prompt"] == "the reserved one"
    with pytest.raises(InvalidInput, match="not reserved, or is taken"):
        store.create_post(people.alice, "again", post_id=reserved)
    unused = store.reserve_post_id()  # its generation failed: the id stays spent
    store.close()
    reopened = open_store()
    assert reopened.reserve_post_id() > unused
    assert reopened.create_post(people.bob, "after the restart")["id"] > unused
    with pytest.raises(InvalidInput):
        reopened.create_post(people.bob, "an id nobody reserved", post_id=10_000)


def test_a_suspended_account_leaves_every_feed_and_its_videos_go_dark(store, open_store, people, clock):
    admin = store.create_user("moderator", is_admin=True)["id"]
    post = store.create_post(people.erin, "erin's video", visibility="public")["id"]
    clock.advance(60)
    report = store.report(people.alice, "user", people.erin, "harassment")
    store.resolve_report(admin, report["id"], "take_down")
    assert store.is_suspended(people.erin)
    assert not in_any_feed(store, people.alice, post) and not in_any_feed(store, None, post)
    with pytest.raises(NotFound):
        store.get_post(people.bob, post)
    assert store.get_post(admin, post)["id"] == post  # moderators still see what they acted on
    assert [e["action"] for e in store.moderation_log(admin)] == ["take_down"]
    store.close()
    assert open_store().is_suspended(people.erin)  # durable


def test_moderators_cannot_be_suspended(store, people):
    admin = store.create_user("moderator", is_admin=True)["id"]
    other_admin = store.create_user("moderator2", is_admin=True)["id"]
    report = store.report(people.alice, "user", other_admin, "spam")
    with pytest.raises(PermissionDenied, match="cannot be suspended"):
        store.resolve_report(admin, report["id"], "take_down")
    assert store.open_reports(admin)[0]["id"] == report["id"]  # the report stays open


def test_refused_prompts_are_kept_for_moderators_only(store, people):
    admin = store.create_user("moderator", is_admin=True)["id"]
    store.record_refusal(people.erin, "prompt", "violence", "a refused prompt")
    store.record_refusal(people.erin, "comment", "hate", "a refused comment")
    assert [(r["handle"], r["what"], r["category"]) for r in store.refusals(admin)] == [
        ("erin", "comment", "hate"), ("erin", "prompt", "violence")]
    with pytest.raises(PermissionDenied):
        store.refusals(people.alice)


def test_reported_posts_stay_out_of_the_reporters_feeds_after_a_restart(open_store, clock):
    store = open_store()
    alice, erin = store.create_user("alice")["id"], store.create_user("erin")["id"]
    store.follow(alice, erin)
    post = store.create_post(erin, "spammy", visibility="public")["id"]
    other = store.create_post(erin, "fine", visibility="public")["id"]
    clock.advance(60)
    store.report(alice, "post", post, "spam")
    clock.advance(60)
    store.close()
    reopened = open_store()
    feeds = all_feeds(reopened, alice)
    assert all(post not in shown for shown in feeds.values()) and other in feeds["following"]
    assert post not in ids(reopened.profile_feed(alice, erin))
    assert post in all_feeds(reopened, None)["latest"]  # for everyone else it is still there


ADMIN_ONLY = {
    "open_reports": lambda s, who, w: s.open_reports(who),
    "refusals": lambda s, who, w: s.refusals(who),
    "moderation_log": lambda s, who, w: s.moderation_log(who),
    "resolve_report": lambda s, who, w: s.resolve_report(who, w.report, "take_down"),
}


def test_every_admin_only_action_refuses_a_non_admin(store, people, clock):
    """Take-down, dismissal, suspension, the queue, refusals and the log; any method added later that calls
    ``_require_admin`` must be listed in ADMIN_ONLY, so it is tried here too."""
    import inspect

    guarded = {name for name, fn in inspect.getmembers(FeedStore, inspect.isfunction)
               if "self._require_admin(" in inspect.getsource(fn) and name != "_require_admin"}
    assert guarded == set(ADMIN_ONLY)
    admin = store.create_user("moderator", is_admin=True)["id"]
    post = store.create_post(people.erin, "reported", visibility="public")["id"]
    comment = store.comment(people.bob, post, "rude")["id"]
    world = SimpleNamespace(report=store.report(people.alice, "post", post, "spam")["id"])
    reports = [world.report, store.report(people.alice, "comment", comment, "rude")["id"],
               store.report(people.alice, "user", people.erin, "spam")["id"]]
    before = stored_state(store)
    for name, action in ADMIN_ONLY.items():
        for who in (people.alice, people.erin, 9999):
            with pytest.raises((PermissionDenied, NotFound)):
                action(store, who, world)
    for report in reports:
        for action in ("take_down", "dismiss"):
            with pytest.raises(PermissionDenied, match="Only moderators"):
                store.resolve_report(people.bob, report, action)
    assert stored_state(store) == before
    assert not store.is_suspended(people.erin) and store.get_post(None, post)["deleted_at"] is None
    assert len(store.open_reports(admin)) == 3


def test_drafts_are_listed_newest_first_and_only_to_their_author(store, people, clock):
    made = []
    for n in range(4):
        made.append(store.create_post(people.bob, f"draft {n}")["id"])
        clock.advance(60)
    store.publish(people.bob, made[1], "public")
    assert [d["id"] for d in store.drafts(people.bob)] == [made[3], made[2], made[0]]
    assert store.drafts(people.alice) == []
