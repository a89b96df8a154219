"""Schema versions: newer stores are refused, v1 (stock TinyDB dreamreel.json) stores migrate on open."""

from __future__ import annotations

import pytest
from tinydb import TinyDB
from tinydb.storages import JSONStorage

from feed_store import FeedStore, JournalStorage, SchemaError
from feed_store.tinydb.schema import SCHEMA_VERSION

from conftest import HOUR, START, JournalDB, disk_state


@pytest.fixture
def backend() -> str:
    """The journal and TinyDB's schema versions are the TinyDB store's own: these tests run on it alone."""
    return "tinydb"


def test_a_new_store_records_its_schema_version(open_store, store_dir):
    open_store().close()
    db = JournalDB(store_dir, storage=JournalStorage)
    assert db.table("_meta").get(doc_id=1) == {"schema_version": SCHEMA_VERSION}
    db.close()


def test_a_store_from_a_newer_version_is_refused_with_a_clear_message(open_store, store_dir):
    s = open_store()
    s.create_user("bob")
    s.close()
    # A newer Dreamreel bumped the version in _meta.
    db = JournalDB(store_dir, storage=JournalStorage)
    db.table("_meta").update({"schema_version": SCHEMA_VERSION + 1}, doc_ids=[1])
    db.close()
    before = disk_state(store_dir)

    with pytest.raises(SchemaError) as err:
        FeedStore(store_dir)
    message = str(err.value)
    assert "newer" in message and f"schema {SCHEMA_VERSION + 1}" in message and "Upgrade" in message
    assert disk_state(store_dir) == before, "refusing a store must not touch its files"


def test_tables_without_a_schema_version_are_refused(store_dir):
    db = JournalDB(store_dir, storage=JournalStorage)
    db.table("users").insert({"handle": "bob"})
    db.close()
    with pytest.raises(SchemaError, match="no schema version"):
        FeedStore(store_dir)


def write_v1_store(directory):
    """The v1 layout: one stock TinyDB JSONStorage file, no _meta, posts without the v2 fields."""
    directory.mkdir(parents=True, exist_ok=True)
    db = TinyDB(directory / "dreamreel.json", storage=JSONStorage)
    users = db.table("users")
    for handle in ("alice", "bob", "carol"):
        users.insert({"handle": handle, "display_name": handle.title(), "password_hash": None,
                      "external_id": None, "is_admin": False, "created_at": START, "invited_by": None})
    follows = db.table("follows")
    follows.insert({"follower_id": 1, "followee_id": 2, "created_at": START})
    follows.insert({"follower_id": 2, "followee_id": 1, "created_at": START})
    posts = db.table("posts")
    posts.insert({"author_id": 2, "prompt": "a public dream", "video": "v1.mp4", "thumbnail": None,
                  "preview": None, "visibility": "public", "model": {}, "created_at": START + 10})
    posts.insert({"author_id": 2, "prompt": "for friends", "video": "v2.mp4", "thumbnail": None,
                  "preview": None, "visibility": "friends", "model": {}, "created_at": START + 20})
    posts.insert({"author_id": 3, "prompt": "still a draft", "video": "v3.mp4", "thumbnail": None,
                  "preview": None, "visibility": "draft", "model": {}, "created_at": START + 30})
    db.table("likes").insert({"user_id": 1, "post_id": 1, "created_at": START + 40})
    db.table("likes").insert({"user_id": 3, "post_id": 1, "created_at": START + 41})
    db.table("comments").insert({"user_id": 3, "post_id": 1, "text": "love it", "created_at": START + 50,
                                 "deleted_at": None})
    db.close()


def test_a_v1_store_migrates_on_open_and_keeps_its_data(store_dir, open_store, clock):
    write_v1_store(store_dir)
    clock.advance(HOUR)
    s = open_store()

    assert s.user_by_handle("bob")["display_name"] == "Bob"
    assert s.friends(1) == [2]
    post = s.get_post(3, 1)
    assert (post["prompt"], post["likes"], post["comments"], post["remixes"]) == ("a public dream", 2, 1, 0)
    assert post["published_at"] == START + 10 and post["parent_id"] is None and post["cameo_ids"] == []
    assert [c["text"] for c in s.comments(1, 1)] == ["love it"]
    assert [i.post["id"] for i in s.latest(1).items] == [2, 1]  # alice is bob's friend
    assert [i.post["id"] for i in s.latest(None).items] == [1]
    assert [d["id"] for d in s.drafts(3)] == [3]
    assert s.stats() == {"users": 3, "videos": 2, "likes": 2, "comments": 1}

    # The migrated store is a v2 store from now on, and the old file is set aside.
    assert not (store_dir / "dreamreel.json").exists()
    assert (store_dir / "dreamreel.json.migrated").exists()
    new_post = s.create_post(1, "after the upgrade", visibility="public")["id"]
    s.close()
    db = JournalDB(store_dir, storage=JournalStorage)
    assert db.table("_meta").get(doc_id=1) == {"schema_version": SCHEMA_VERSION}
    db.close()
    s = open_store()
    assert s.get_post(None, new_post)["prompt"] == "after the upgrade"
    assert s.get_post(3, 1)["likes"] == 2
    assert s.stats() == {"users": 3, "videos": 3, "likes": 2, "comments": 1}


def test_a_v1_store_with_blocks_migrates_so_unblocking_works(store_dir, open_store, clock):
    write_v1_store(store_dir)
    db = TinyDB(store_dir / "dreamreel.json", storage=JSONStorage)
    db.table("blocks").insert({"blocker_id": 1, "blocked_id": 3, "created_at": START + 60})
    db.close()
    clock.advance(HOUR)
    s = open_store()
    assert s.is_blocked(1, 3) and s.is_blocked(3, 1)
    s.unblock(1, 3)
    assert not s.is_blocked(1, 3)
    s.close()
    s = open_store()  # and it stays unblocked
    assert not s.is_blocked(1, 3)
    s.follow(1, 3)
    assert s.following(1) == [2, 3]
