"""Crash safety: a writer process is SIGKILLed mid-stream; every write it acknowledged is still there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from feed_store import JournalStorage, open_store
from feed_store.tinydb.journal import SNAPSHOT_NAME

from conftest import REPO, JournalDB, drop_database, new_database

WRITER = Path(__file__).with_name("crash_writer.py")
RUN_SECONDS = 1.2


def run_and_kill(mode: str, directory: Path, round_: int, min_acks: int) -> list[list[str]]:
    """Start the writer, let it write for a while, SIGKILL it mid-stream; return the lines it acknowledged.

    It runs for RUN_SECONDS, longer if needed (a slow disk) until it has acknowledged ``min_acks`` writes.
    """
    proc = subprocess.Popen([sys.executable, str(WRITER), mode, str(directory), str(round_)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            if line.endswith("\n"):  # a line cut by the kill was never fully acknowledged
                lines.append(line)
                if line == "ready\n":
                    ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(60), f"the writer did not start: {proc.stderr.read() if proc.poll() is not None else ''}"
        started = time.monotonic()
        while time.monotonic() - started < RUN_SECONDS or len(lines) <= min_acks:
            assert proc.poll() is None, f"the writer died on its own: {proc.stderr.read()}"
            assert time.monotonic() - started < 60, f"only {len(lines) - 1} writes acknowledged in a minute"
            time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        reader.join(10)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return [line.split() for line in lines if line != "ready\n"]


def check_feed_store(where, acked: list[list[str]], setup_follows: int, kills: int) -> dict:
    store = open_store(where)
    try:
        posts = [int(f[1]) for f in acked if f[0] == "post"]
        likes = [(int(f[1]), int(f[2])) for f in acked if f[0] == "like"]
        comments = [(int(f[1]), int(f[2])) for f in acked if f[0] == "comment"]
        follows = [(int(f[1]), int(f[2])) for f in acked if f[0] == "follow"]

        for post in posts:
            assert store.get_post(None, post)["id"] == post
        for post, user in likes:
            assert user in store.likers(None, post), f"acknowledged like of {post} by {user} lost"
        for comment, post in comments:
            assert comment in [c["id"] for c in store.comments(None, post)], f"acknowledged comment {comment} lost"
        for a, b in follows:
            assert b in store.following(a), f"acknowledged follow {a}->{b} lost"

        # Consistent: counts agree with the rows behind them, for every post in the store.
        stats = store.stats()
        every_post = []
        cursor = None
        while True:
            page = store.latest(None, cursor=cursor, limit=100)
            every_post += [item.post for item in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert stats["videos"] == len(every_post)
        for post in every_post:
            assert post["likes"] == len(store.likers(None, post["id"]))
            assert post["comments"] == len(store.comments(None, post["id"]))
        assert stats["likes"] == sum(p["likes"] for p in every_post)
        assert stats["comments"] == sum(p["comments"] for p in every_post)

        # Nothing beyond the acknowledged writes, except the one in flight when each kill came.
        users = [store.user_by_handle(f"writer{i}")["id"] for i in range(6)]
        total_follows = sum(len(store.following(u)) for u in users) - setup_follows
        unacknowledged = ((stats["videos"] - len(set(posts))) + (stats["likes"] - len(set(likes)))
                          + (stats["comments"] - len(set(comments))) + (total_follows - len(set(follows))))
        assert 0 <= unacknowledged <= kills, f"{unacknowledged} writes nobody acknowledged after {kills} kills"
        return {"stats": stats, "following": {u: store.following(u) for u in users},
                "posts": {p["id"]: (p["likes"], p["comments"]) for p in every_post}}
    finally:
        store.close()


@pytest.fixture
def store_location(backend, tmp_path, request):
    """Where a store lives on each backend: a folder, or a fresh PostgreSQL database's URL."""
    if backend == "tinydb":
        yield tmp_path / "store"
        return
    server = request.getfixturevalue("postgres_server")
    url = new_database(server)
    yield url
    drop_database(server, url)


def test_a_killed_feed_store_writer_loses_no_acknowledged_write(store_location):
    """On PostgreSQL the writer is the app's side: every like it saw committed is in the database after the kill."""
    directory = store_location
    setup = open_store(directory)
    users = [setup.create_user(f"writer{i}")["id"] for i in range(6)]
    setup.follow(users[0], users[1])
    setup.close()

    acked: list[list[str]] = []
    for round_ in range(2):  # kill, reopen, write on, kill again
        new = run_and_kill("feed", directory, round_, min_acks=60)
        kinds = Counter(f[0] for f in new)
        assert kinds["post"] >= 10 and kinds["like"] >= 10 and kinds["comment"] >= 10, kinds
        acked += new
        state = check_feed_store(directory, acked, setup_follows=1, kills=round_ + 1)

    # Reopening again changes nothing, and the store still takes writes.
    assert check_feed_store(directory, acked, setup_follows=1, kills=2) == state
    store = open_store(directory)
    post = store.create_post(users[0], "after the crashes", visibility="public")["id"]
    store.like(users[1], post)
    store.close()
    store = open_store(directory)
    assert store.get_post(None, post)["likes"] == 1
    store.close()


def test_a_killed_writer_compacting_often_loses_no_acknowledged_write(tmp_path):
    """With a tiny compaction threshold the kill often lands during or around a compaction."""
    acked_inserts: dict[int, tuple[int, int]] = {}
    acked_updates: dict[int, int] = {}
    for round_ in range(2):
        lines = run_and_kill("journal", tmp_path, round_, min_acks=80)
        inserts = [(int(f[1]), int(f[2])) for f in lines if f[0] == "insert"]
        assert len(inserts) >= 50, f"only {len(inserts)} writes acknowledged"
        acked_inserts.update({doc_id: (round_, n) for doc_id, n in inserts})
        for f in lines:
            if f[0] == "update":
                acked_updates[int(f[1])] = max(acked_updates.get(int(f[1]), 0), int(f[2]))
        assert (tmp_path / SNAPSHOT_NAME).stat().st_size > 0, "no compaction happened"

        db = JournalDB(tmp_path, storage=JournalStorage)
        docs = {doc.doc_id: doc for doc in db.table("docs").all()}
        db.close()
        for doc_id, (r, n) in acked_inserts.items():
            assert doc_id in docs, f"acknowledged insert {doc_id} lost"
            assert (docs[doc_id]["round"], docs[doc_id]["n"]) == (r, n)
        for doc_id, touched in acked_updates.items():
            assert docs[doc_id]["touched"] >= touched, f"acknowledged update of {doc_id} lost"
        assert len(docs) - len(acked_inserts) <= round_ + 1, "documents nobody acknowledged"
