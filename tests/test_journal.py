"""JournalStorage / JournalTable: durability, torn writes, corruption, compaction, transactions."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from tinydb import TinyDB, where
from tinydb.operations import add
from tinydb.storages import JSONStorage

from feed_store import CorruptStoreError, JournalStorage
from feed_store.tinydb.journal import JOURNAL_NAME, SNAPSHOT_NAME

from conftest import JournalDB, disk_state


@pytest.fixture
def backend() -> str:
    """The journal and TinyDB's schema versions are the TinyDB store's own: these tests run on it alone."""
    return "tinydb"


def open_db(directory: Path, **kwargs) -> JournalDB:
    return JournalDB(directory, storage=JournalStorage, **kwargs)


def contents(db: TinyDB) -> dict[str, dict[int, dict]]:
    return {name: {doc.doc_id: dict(doc) for doc in db.table(name).all()} for name in sorted(db.tables())}


def journal_lines(directory: Path) -> list[bytes]:
    return (directory / JOURNAL_NAME).read_bytes().splitlines(keepends=True)


def test_inserts_updates_and_removes_survive_reopen(tmp_path):
    db = open_db(tmp_path)
    posts = db.table("posts")
    a = posts.insert({"title": "a", "likes": 0})
    b = posts.insert({"title": "b", "likes": 0})
    c = posts.insert({"title": "c", "likes": 0})
    posts.update({"likes": 5}, doc_ids=[a])
    posts.remove(doc_ids=[b])
    db.table("users").insert({"handle": "bob"})
    expected = contents(db)
    db.close()

    reopened = open_db(tmp_path)
    assert contents(reopened) == expected
    assert reopened.table("posts").get(doc_id=a)["likes"] == 5
    assert reopened.table("posts").get(doc_id=b) is None
    assert reopened.table("posts").get(doc_id=c)["title"] == "c"
    reopened.close()


def test_torn_last_line_is_dropped_and_the_journal_stays_writable(tmp_path):
    db = open_db(tmp_path)
    for n in range(3):
        db.insert({"n": n})
    db.close()
    whole = (tmp_path / JOURNAL_NAME).read_bytes()
    # A write the process never finished (so never acknowledged): no newline at the end.
    with open(tmp_path / JOURNAL_NAME, "ab") as f:
        f.write(b'[["_default","4",{"n":3,"tex')

    db = open_db(tmp_path)
    assert [d["n"] for d in db.all()] == [0, 1, 2]
    assert (tmp_path / JOURNAL_NAME).read_bytes() == whole, "the torn tail must be cut off on open"
    new_id = db.insert({"n": "after"})
    db.close()

    db = open_db(tmp_path)  # the next write did not get glued to the torn bytes
    assert [d["n"] for d in db.all()] == [0, 1, 2, "after"]
    assert db.get(doc_id=new_id)["n"] == "after"
    db.close()


def test_a_torn_transaction_is_dropped_as_a_whole(tmp_path):
    db = open_db(tmp_path)
    db.insert({"n": 0})
    with db.storage.transaction():
        db.insert({"n": 1})
        db.insert({"n": 2})
        db.update({"n": 100}, doc_ids=[1])
    db.close()
    data = (tmp_path / JOURNAL_NAME).read_bytes()
    (tmp_path / JOURNAL_NAME).write_bytes(data[:-7])  # cut inside the transaction's record

    db = open_db(tmp_path)
    assert [dict(d) for d in db.all()] == [{"n": 0}], "either all of a transaction persists or none of it"
    db.close()


def test_a_corrupted_middle_line_raises_corrupt_store_error(tmp_path):
    db = open_db(tmp_path)
    for n in range(3):
        db.insert({"n": n})
    db.close()
    lines = journal_lines(tmp_path)
    assert len(lines) == 3
    lines[1] = b'[["_default","2",{"n":\x00\x00garbage\n'
    (tmp_path / JOURNAL_NAME).write_bytes(b"".join(lines))
    before = disk_state(tmp_path)

    with pytest.raises(CorruptStoreError, match=r"journal\.jsonl line 2"):
        open_db(tmp_path)
    assert disk_state(tmp_path) == before, "a damaged store must not be 'repaired' by dropping data"


def test_a_corrupted_snapshot_raises_corrupt_store_error(tmp_path):
    db = open_db(tmp_path)
    db.insert({"n": 1})
    db.storage.compact()
    db.close()
    (tmp_path / SNAPSHOT_NAME).write_bytes(b'{"_default": {"1": {"n": ')
    with pytest.raises(CorruptStoreError, match="snapshot.json"):
        open_db(tmp_path)


def test_compaction_with_a_tiny_threshold_keeps_every_document(tmp_path):
    db = open_db(tmp_path, compact_min_bytes=256)
    table = db.table("things")
    for n in range(300):
        table.insert({"n": n, "pad": "x" * 40})
        if n % 3 == 0:
            table.update({"n": -n}, doc_ids=[n + 1])
        if n % 7 == 0:
            table.remove(doc_ids=[n + 1])
    expected = contents(db)
    journal_size = (tmp_path / JOURNAL_NAME).stat().st_size
    snapshot_size = (tmp_path / SNAPSHOT_NAME).stat().st_size
    db.close()

    # Compaction happened: the journal holds only what came after the last snapshot.
    assert journal_size <= max(256, snapshot_size)
    assert snapshot_size > 0
    reopened = open_db(tmp_path, compact_min_bytes=256)
    assert contents(reopened) == expected
    assert len(reopened.table("things")) == 300 - len(range(0, 300, 7))
    reopened.close()


def test_after_compaction_the_snapshot_is_a_plain_tinydb_file(tmp_path):
    db = open_db(tmp_path)
    db.table("users").insert({"handle": "bob"})
    db.table("users").insert({"handle": "carol"})
    db.storage.compact()
    db.close()
    assert (tmp_path / JOURNAL_NAME).read_bytes() == b""

    stock = TinyDB(tmp_path / SNAPSHOT_NAME, storage=JSONStorage)
    assert [u["handle"] for u in stock.table("users").all()] == ["bob", "carol"]
    stock.close()


def test_replaying_an_old_journal_over_a_new_snapshot_changes_nothing(tmp_path):
    """A crash between the snapshot rename and the journal truncation leaves both behind."""
    db = open_db(tmp_path)
    t = db.table("t")
    for n in range(5):
        t.insert({"n": n})
    t.update({"n": 40}, doc_ids=[4])
    t.remove(doc_ids=[2])
    t.insert({"n": 5})
    expected = contents(db)
    old_journal = (tmp_path / JOURNAL_NAME).read_bytes()
    db.storage.compact()
    db.close()
    (tmp_path / JOURNAL_NAME).write_bytes(old_journal)

    reopened = open_db(tmp_path)
    assert contents(reopened) == expected
    reopened.close()


def test_a_transaction_that_raises_rolls_back_memory_and_writes_nothing(tmp_path):
    db = open_db(tmp_path)
    t = db.table("accounts")
    alice = t.insert({"name": "alice", "balance": 100})
    bob = t.insert({"name": "bob", "balance": 0})
    gone = t.insert({"name": "gone", "balance": 1})
    before_memory = contents(db)
    before_disk = disk_state(tmp_path)

    with pytest.raises(RuntimeError, match="transfer failed"):
        with db.storage.transaction():
            t.update({"balance": 50}, doc_ids=[alice])
            t.update({"balance": 50}, doc_ids=[bob])
            t.remove(doc_ids=[gone])
            t.insert({"name": "new", "balance": 7})
            assert len(t) == 3  # the changes were visible inside the transaction
            raise RuntimeError("transfer failed")

    assert contents(db) == before_memory
    assert t.get(doc_id=alice)["balance"] == 100
    assert t.get(doc_id=gone) is not None
    assert disk_state(tmp_path) == before_disk
    db.close()
    reopened = open_db(tmp_path)
    assert contents(reopened) == before_memory
    reopened.close()


def test_a_committed_transaction_persists_every_change(tmp_path):
    db = open_db(tmp_path)
    t = db.table("accounts")
    alice = t.insert({"name": "alice", "balance": 100})
    bob = t.insert({"name": "bob", "balance": 0})
    lines_before = len(journal_lines(tmp_path))
    with db.storage.transaction():
        t.update({"balance": 40}, doc_ids=[alice])
        t.update({"balance": 60}, doc_ids=[bob])
    assert len(journal_lines(tmp_path)) == lines_before + 1, "a transaction is one journal record"
    db.close()
    reopened = open_db(tmp_path)
    assert [d["balance"] for d in reopened.table("accounts").all()] == [40, 60]
    reopened.close()


def test_queries_after_a_rolled_back_transaction_do_not_see_its_documents(tmp_path):
    """A search made inside a transaction must not leak rolled-back documents afterwards
    (TinyDB caches query results per table)."""
    db = open_db(tmp_path)
    t = db.table("users")
    t.insert({"handle": "bob"})
    with pytest.raises(RuntimeError):
        with db.storage.transaction():
            t.insert({"handle": "carol"})
            assert t.search(where("handle") == "carol")  # e.g. a read-your-writes check
            raise RuntimeError("abort")
    assert [u["handle"] for u in t.all()] == ["bob"]
    assert t.search(where("handle") == "carol") == [], "a rolled-back document is still returned by search()"
    db.close()


def test_feed_store_data_survives_compaction_of_its_storage(open_store, store_dir, clock):
    s = open_store()
    bob = s.create_user("bob")["id"]
    carol = s.create_user("carol")["id"]
    post = s.create_post(bob, "a cat surfing", visibility="public")["id"]
    s.like(carol, post)
    s.comment(carol, post, "rad")
    s.follow(carol, bob)
    s.close()

    storage = JournalStorage(store_dir, compact_min_bytes=1)
    storage.compact()
    storage.close()
    assert (store_dir / JOURNAL_NAME).read_bytes() == b""

    s = open_store()
    got = s.get_post(carol, post)
    assert (got["likes"], got["comments"], got["prompt"]) == (1, 1, "a cat surfing")
    assert s.following(carol) == [bob]
    assert s.stats() == {"users": 2, "videos": 1, "likes": 1, "comments": 1}


def test_journal_records_are_json_lines(tmp_path):
    """The on-disk format is one JSON array of [table, id, document|null] per line."""
    db = open_db(tmp_path)
    db.table("t").insert({"n": 1})
    db.table("t").remove(doc_ids=[1])
    db.close()
    records = [orjson.loads(line) for line in journal_lines(tmp_path)]
    assert records == [[["t", "1", {"n": 1}]], [["t", "1", None]]]


def test_an_update_that_extends_a_list_field_survives_reopen(tmp_path):
    """TinyDB's own ``operations.add`` on a list field extends the list in place."""
    db = open_db(tmp_path)
    t = db.table("posts")
    post = t.insert({"title": "a", "tags": ["cats"]})
    t.update(add("tags", ["space"]), doc_ids=[post])
    assert t.get(doc_id=post)["tags"] == ["cats", "space"]
    db.close()

    reopened = open_db(tmp_path)
    assert reopened.table("posts").get(doc_id=post)["tags"] == ["cats", "space"], "an acknowledged update was lost"
    reopened.close()


def test_a_rolled_back_transaction_restores_list_fields(tmp_path):
    db = open_db(tmp_path)
    t = db.table("posts")
    post = t.insert({"title": "a", "tags": ["cats"]})
    with pytest.raises(RuntimeError):
        with db.storage.transaction():
            t.update(add("tags", ["space"]), doc_ids=[post])
            raise RuntimeError("abort")
    assert t.get(doc_id=post)["tags"] == ["cats"]
    db.close()


def test_dropping_and_truncating_tables_is_durable(tmp_path):
    db = open_db(tmp_path)
    db.table("keep").insert({"n": 1})
    db.table("empty_me").insert_multiple([{"n": 1}, {"n": 2}])
    db.table("drop_me").insert({"n": 1})
    db.table("empty_me").truncate()
    db.drop_table("drop_me")
    db.close()

    reopened = open_db(tmp_path)
    assert reopened.table("keep").all() == [{"n": 1}]
    assert reopened.table("empty_me").all() == []
    assert "drop_me" not in reopened.tables()
    reopened.close()


def test_a_write_is_acknowledged_only_after_its_journal_line_is_synced(open_store, monkeypatch):
    """A SIGKILL cannot show a missing sync (the page cache survives it); counting syncs can.

    Every fdatasync/fsync of the journal records how many bytes the file held at that moment; when a
    store method returns, the last sync must have covered the whole journal.
    """
    import os

    synced: dict[int, int] = {}
    real_fdatasync, real_fsync = os.fdatasync, os.fsync

    def recording(real):
        def sync(fd: int) -> None:
            real(fd)
            synced[os.fstat(fd).st_ino] = os.fstat(fd).st_size
        return sync

    monkeypatch.setattr(os, "fdatasync", recording(real_fdatasync))
    monkeypatch.setattr(os, "fsync", recording(real_fsync))
    store = open_store()
    journal = store.directory / JOURNAL_NAME
    alice, bob = store.create_user("alice")["id"], store.create_user("bob")["id"]
    post = store.create_post(alice, "a synced post", visibility="public")["id"]
    writes = [lambda: store.follow(bob, alice), lambda: store.like(bob, post), lambda: store.unlike(bob, post),
              lambda: store.comment(bob, post, "synced"), lambda: store.report(bob, "post", post, "spam"),
              lambda: store.block(alice, bob), lambda: store.start_session(alice, 2e9)]
    for write in writes:
        write()
        stat = journal.stat()
        assert stat.st_size > 0 and synced.get(stat.st_ino) == stat.st_size, "acknowledged before its sync"
