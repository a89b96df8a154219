"""Who may put a cameo in a video, and what its owner controls (real FeedStore files)."""

from __future__ import annotations

import pytest

from feed_store import Conflict, InvalidInput, NotFound, PermissionDenied

from conftest import befriend


def may_use(store, user, cameo) -> bool:
    return store.cameo_use_refusal(user, cameo) is None


@pytest.fixture
def cameo(store, people) -> int:
    """erin's cameo. In the community: alice-bob and bob-dave are friends; erin knows nobody."""
    return store.create_cameo(people.erin, {"embedding": [0.0] * 128})["id"]


def test_a_new_cameo_is_usable_by_its_owner_only(store, people, cameo):
    assert may_use(store, people.erin, cameo)
    assert not any(may_use(store, u, cameo) for u in (people.alice, people.bob, people.carol, people.dave))
    assert "has not allowed you" in store.cameo_use_refusal(people.alice, cameo)


def test_each_permission_level(store, people, cameo):
    befriend(store, people.erin, people.carol)
    store.follow(people.dave, people.erin)  # a one-way follower is no mutual

    store.set_cameo_permission(people.erin, cameo, "approved", approved_ids=[people.bob])
    assert [u for u in (people.alice, people.bob, people.carol, people.dave) if may_use(store, u, cameo)] == [people.bob]

    store.set_cameo_permission(people.erin, cameo, "mutuals")
    assert [u for u in (people.alice, people.bob, people.carol, people.dave) if may_use(store, u, cameo)] == [people.carol]

    store.set_cameo_permission(people.erin, cameo, "everyone")
    assert all(may_use(store, u, cameo) for u in (people.alice, people.bob, people.carol, people.dave))

    store.set_cameo_permission(people.erin, cameo, "only_me")
    assert not any(may_use(store, u, cameo) for u in (people.alice, people.bob, people.carol, people.dave))


def test_revoking_refuses_the_next_use_at_once(store, people, cameo):
    store.set_cameo_permission(people.erin, cameo, "approved", approved_ids=[people.bob])
    store.create_post(people.bob, "erin surfing", cameo_ids=[cameo])
    store.set_cameo_permission(people.erin, cameo, "approved", approved_ids=[])
    with pytest.raises(PermissionDenied, match="has not allowed you"):
        store.create_post(people.bob, "erin surfing again", cameo_ids=[cameo])


def test_a_user_who_blocks_the_owner_may_no_longer_use_their_cameo(store, people, cameo):
    store.set_cameo_permission(people.erin, cameo, "everyone")
    store.block(people.alice, people.erin)
    assert not may_use(store, people.alice, cameo)
    assert may_use(store, people.bob, cameo)
    assert [c["id"] for c in store.usable_cameos(people.alice)] == []
    assert [c["handle"] for c in store.usable_cameos(people.bob)] == ["erin"]


def test_only_the_owner_controls_the_cameo(store, people, cameo):
    with pytest.raises(PermissionDenied):
        store.set_cameo_permission(people.bob, cameo, "everyone")
    with pytest.raises(PermissionDenied):
        store.delete_cameo(people.bob, cameo)
    with pytest.raises(PermissionDenied):
        store.posts_with_cameo(people.bob, cameo)
    with pytest.raises(InvalidInput):
        store.set_cameo_permission(people.erin, cameo, "my friends and family")
    with pytest.raises(Conflict, match="already have a cameo"):
        store.create_cameo(people.erin, {})


def test_the_owner_sees_and_can_delete_every_video_with_their_cameo_and_is_notified(store, open_store, people,
                                                                                     cameo):
    store.set_cameo_permission(people.erin, cameo, "everyone")
    draft = store.create_post(people.bob, "erin on the moon", cameo_ids=[cameo])["id"]
    public = store.create_post(people.alice, "erin dancing", cameo_ids=[cameo], visibility="friends")["id"]
    store.create_post(people.alice, "no cameo")
    assert [p["id"] for p in store.posts_with_cameo(people.erin, cameo)] == [public, draft]
    uses = [n["data"] for n in store.notifications(people.erin) if n["kind"] == "cameo_used"]
    assert [(u["post_id"], u["by"]) for u in uses] == [(public, people.alice), (draft, people.bob)]
    assert [n for n in store.notifications(people.bob) if n["kind"] == "cameo_used"] == []  # his own use
    store.close()
    store = open_store()  # notifications survive a restart
    assert [n["data"]["post_id"] for n in store.notifications(people.erin)] == [public, draft]

    store.delete_post(people.erin, draft)
    store.delete_post(people.erin, public)
    assert store.posts_with_cameo(people.erin, cameo) == []
    with pytest.raises(NotFound):
        store.get_post(people.alice, public)


def test_a_deleted_cameo_cannot_be_used_and_a_new_one_can_be_made(store, people, cameo):
    store.set_cameo_permission(people.erin, cameo, "everyone")
    store.delete_cameo(people.erin, cameo)
    assert store.cameo_of(people.erin) is None
    assert store.cameo_use_refusal(people.bob, cameo) == "That cameo no longer exists."
    with pytest.raises(NotFound):
        store.create_post(people.bob, "erin", cameo_ids=[cameo])
    assert store.create_cameo(people.erin, {})["id"] != cameo


def test_an_owner_who_blocks_someone_bars_them_from_the_cameo(store, people, cameo):
    """erin (the owner) blocks alice: alice may no longer use erin's cameo, although erin did the blocking."""
    store.set_cameo_permission(people.erin, cameo, "everyone")
    store.block(people.erin, people.alice)
    assert not may_use(store, people.alice, cameo)
    assert may_use(store, people.bob, cameo)
    with pytest.raises(PermissionDenied, match="cannot use"):
        store.create_post(people.alice, "erin dancing", cameo_ids=[cameo])
    store.unblock(people.erin, people.alice)
    assert may_use(store, people.alice, cameo)


def test_who_may_delete_a_video_with_a_cameo_in_it(store, people, cameo):
    """Its author, an admin, and the owner of a cameo in it; not a stranger, not a viewer who may see it."""
    admin = store.create_user("moderator", is_admin=True)["id"]
    other_owner = store.create_user("frank")["id"]
    store.create_cameo(other_owner, {"embedding": [0.0] * 128})  # owns a cameo, but not the one in the video
    store.set_cameo_permission(people.erin, cameo, "everyone")
    posts = [store.create_post(people.bob, f"erin surfing {n}", cameo_ids=[cameo], visibility="public")["id"]
             for n in range(3)]
    for stranger in (people.carol, people.alice, other_owner):  # alice is bob's friend: she sees it, no more
        with pytest.raises(PermissionDenied, match="Only the author, an admin or a cameo's owner"):
            store.delete_post(stranger, posts[0])
        assert store.get_post(None, posts[0])["deleted_at"] is None
    for deleter, post in zip((people.bob, admin, people.erin), posts):
        store.delete_post(deleter, post)
        with pytest.raises(NotFound):
            store.get_post(None, post)


def test_an_owner_can_clear_their_restrictions(store, people, cameo):
    store.set_cameo_permission(people.erin, cameo, "everyone", restrictions="no political content")
    assert store.get_cameo(cameo)["restrictions"] == "no political content"
    store.set_cameo_permission(people.erin, cameo, "everyone", restrictions="")
    assert store.get_cameo(cameo)["restrictions"] == ""
