"""What only the PostgreSQL store has to prove: processes sharing one database, its schema's migrations, the
database's own guarantees, and moving a TinyDB community into it.

The rest of the store's behaviour is proved on both backends by the shared suite (the ``backend`` fixture).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest

from conftest import REPO, FakeClock, befriend, stored_state
from feed_store import Conflict, FeedStore, InvalidInput
from feed_store.migrate import MigrationError, migrate
from feed_store.postgres import PostgresStore, schema

STORE_PROCESS = Path(__file__).with_name("store_process.py")


@pytest.fixture
def backend() -> str:
    return "postgresql"


class OtherProcess:
    """Another app process on the same database (``tests/store_process.py``), called like a store."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen([sys.executable, str(STORE_PROCESS), url], cwd=REPO, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self._answer() == "ready"

    def _answer(self):
        line = self.process.stdout.readline()
        assert line, f"the other process died: {self.process.stderr.read()}"
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{answer['error']}: {answer['message']}")
        return answer["ok"]

    def send(self, method: str, *args, **kwargs) -> None:
        self.process.stdin.write(json.dumps([method, list(args), kwargs]) + "\n")
        self.process.stdin.flush()

    def __getattr__(self, method: str):
        def call(*args, **kwargs):
            self.send(method, *args, **kwargs)
            return self._answer()

        return call

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(30)


@pytest.fixture
def other(open_store):
    """A second process, on the test's own database."""
    url = open_store().url
    processes = []

    def start() -> OtherProcess:
        processes.append(OtherProcess(url))
        return processes[-1]

    yield start
    for p in processes:
        p.close()


# -- several processes, one truth -------------------------------------------------------------------------

def test_two_processes_see_each_others_writes_at_once(open_store, other):
    here = open_store()
    there = other()
    alice, bob, carol = (here.create_user(h)["id"] for h in ("alice", "bob", "carol"))
    post = here.create_post(bob, "a heron over a lake", visibility="public")["id"]

    assert there.like(alice, post) == 1
    assert here.get_post(carol, post)["likes"] == 1  # counted in the other's very next answer
    assert here.like(carol, post) == 2
    assert there.get_post(alice, post)["likes"] == 2

    feed = there.for_you(alice, None, 20)
    assert post in [p["id"] for p, _ in feed["items"]]
    here.block(alice, bob)  # a block in one process ...
    assert post not in [p["id"] for p, _ in there.for_you(alice, None, 20)["items"]]  # ... hides at once in the other
    assert post not in [p["id"] for p, _ in there.latest(alice, None, 20)["items"]]

    changes = here.prompt_changes
    second = there.create_post(carol, "a second video", visibility="public")["id"]
    assert here.prompt_changes == changes + 1  # the taste model's cue crosses processes too ...
    there.delete_post(carol, second)
    assert here.prompt_changes == changes + 2  # ... and says when a prompt is gone
    here.end_sessions(alice)
    sid = there.start_session(alice, 2e9)
    assert here.session_user(sid) == alice
    here.end_session(sid)
    assert there.session_user(sid) is None  # signed out everywhere at once


def test_two_processes_writing_at_once_lose_no_update(open_store, other):
    here = open_store()
    authors = [here.create_user(f"author{i}")["id"] for i in range(2)]
    fans = [here.create_user(f"fan{i}")["id"] for i in range(8)]
    posts = [here.create_post(authors[i % 2], f"post {i}", visibility="public")["id"] for i in range(4)]
    processes = [other(), other()]
    shares = {processes[0]: fans[0::2], processes[1]: fans[1::2]}
    for process, mine in shares.items():  # both processes write at once, each its fans one after another
        for fan in mine:
            process.send("burst", fan, posts, 150, fan)
    ledgers = {fan: process._answer() for process, mine in shares.items() for fan in mine}

    for post in posts:
        seen = here.get_post(None, post)
        assert seen["likes"] == sum(post in ledger["liked"] for ledger in ledgers.values())
        assert seen["comments"] == sum(p == post for ledger in ledgers.values() for p in ledger["comments"].values())
    for fan, ledger in ledgers.items():
        assert [p for p in posts if fan in here.likers(None, p)] == ledger["liked"]
    assert here.stats()["comments"] == sum(len(ledger["comments"]) for ledger in ledgers.values())


def test_a_serialization_failure_is_retried_not_surfaced(open_store):
    """With the database set to SERIALIZABLE (as a DBA might), racing likes abort each other; the store runs
    them again and every one lands, counted exactly."""
    url = open_store().url
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"ALTER DATABASE {url.rsplit('/', 1)[1]} SET default_transaction_isolation = 'serializable'")
    store = PostgresStore(url, migrate=False, clock=FakeClock())
    try:
        author = store.create_user("author")["id"]
        fans = [store.create_user(f"fan{i}")["id"] for i in range(8)]
        post = store.create_post(author, "the post", visibility="public")["id"]
        start = threading.Barrier(len(fans))
        errors = []

        def like_and_comment(fan: int) -> None:
            start.wait()
            try:
                for n in range(15):
                    store.like(fan, post)
                    store.comment(fan, post, f"{n}")
                    store.unlike(fan, post)
                store.like(fan, post)
            except Exception as e:  # noqa: BLE001 - any error reaching the caller fails the test
                errors.append(e)

        threads = [threading.Thread(target=like_and_comment, args=(fan,)) for fan in fans]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        seen = store.get_post(None, post)
        assert (seen["likes"], seen["comments"]) == (8, 8 * 15)
        assert store.db.retries > 0, "no transaction raced: the test did not exercise the retry"
    finally:
        store.close()


# -- the schema and what the database enforces ------------------------------------------------------------------

def test_the_schema_migrates_down_to_nothing_and_up_again(open_store):
    store = open_store()
    url = store.url
    store.close()
    assert schema.current_revision(url) == schema.head_revision()
    schema.downgrade(url)
    with psycopg.connect(url) as connection:
        tables = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    assert tables == [("alembic_version",)]
    assert schema.current_revision(url) is None
    reopened = PostgresStore(url)  # opening migrates up again
    assert schema.current_revision(url) == schema.head_revision()
    assert reopened.create_user("alice")["id"] == 1
    reopened.close()


def test_the_database_itself_refuses_what_the_rules_refuse(open_store):
    """Handles unique whatever their case, one like per pair, foreign keys, text lengths: even for a writer that
    skips the store's checks."""
    store = open_store()
    alice = store.create_user("alice")["id"]
    post = store.create_post(alice, "a cat", visibility="public")["id"]
    store.like(alice, post)
    with psycopg.connect(store.url) as connection:
        for sql in ("INSERT INTO users (handle, display_name, created_at) VALUES ('ALICE', 'x', 0)",
                    f"INSERT INTO likes (post_id, user_id, created_at) VALUES ({post}, {alice}, 0)",
                    f"INSERT INTO likes (post_id, user_id, created_at) VALUES ({post}, 999, 0)",
                    f"INSERT INTO comments (post_id, user_id, text, created_at) VALUES ({post}, {alice},"
                    f" repeat('x', 501), 0)",
                    f"UPDATE posts SET like_count = -1 WHERE id = {post}"):
            with pytest.raises(psycopg.IntegrityError), connection.transaction():
                connection.execute(sql)
    with pytest.raises(Conflict):
        store.create_user("Alice")


# -- moving a community ------------------------------------------------------------------------------------------

def lived_in(store: FeedStore, clock: FakeClock) -> dict:
    """A small community with one of everything, and every id worth reading back."""
    ids = {h: store.create_user(h, password_hash=f"hash-of-{h}", is_admin=h == "admin")["id"]
           for h in ("admin", "alice", "bob", "carol", "gone")}
    a, b, c = ids["alice"], ids["bob"], ids["carol"]
    befriend(store, a, b)
    store.follow(c, a)
    store.block(c, ids["gone"])
    code = store.create_invite(a)
    ids["dave"] = store.create_user("dave", invite_code=code)["id"]
    cameo = store.create_cameo(a, {"embedding": [0.1, 0.2], "crops": ["cameos/a.png"], "recording": None})["id"]
    store.set_cameo_permission(a, cameo, "approved", [b], "no politics")
    clock.advance(60)
    public = store.create_post(a, "a heron over a lake", visibility="public", video="videos/1.mp4")["id"]
    friends = store.create_post(b, "@alice dancing", cameo_ids=[cameo], visibility="friends")["id"]
    draft = store.create_post(c, "a quiet draft")["id"]
    hidden = store.create_post(b, "a secret prompt", visibility="public", hide_prompt=True)["id"]
    remix = store.create_post(c, "the heron in space", parent_id=public, visibility="public")["id"]
    reserved = store.reserve_post_id()
    for fan in (b, c, ids["dave"]):
        store.like(fan, public)
    store.record_view(b, public)
    comment = store.comment(b, public, "lovely\nheron")["id"]
    store.comment(c, public, "meh")
    store.delete_comment(c, store.comments(c, public)[-1]["id"])
    report = store.report(c, "post", hidden, "spam")["id"]
    store.report(b, "comment", comment, "other")
    store.resolve_report(ids["admin"], report, "dismiss")
    store.record_refusal(c, "prompt", "violence", "a refused prompt")
    store.set_feed_taste(a, "more herons", ["a cat"])
    ids["session"] = store.start_session(a, clock() + 3600)
    store.erase_user(ids["gone"], ids["gone"])
    clock.advance(60)
    return {**ids, "posts": [public, friends, draft, hidden, remix], "reserved": reserved, "cameo": cameo}


def observable(store, w: dict) -> dict:
    """Everything the app can read back, through the API alone."""
    users = [w[h] for h in ("admin", "alice", "bob", "carol", "dave")]
    return {
        "users": [store.get_user(u) for u in users],
        "passwords": [store.password_hash(h) for h in ("alice", "bob")],
        "posts": {(v, p): store.get_post(v, p) for v in users for p in w["posts"] if _visible(store, v, p)},
        "feeds": {v: [(i.post["id"], i.reasons) for i in store.for_you(v, limit=50).items] for v in [None, *users]},
        "latest": {v: [i.post["id"] for i in store.latest(v, limit=50).items] for v in [None, *users]},
        "graph": {u: (store.following(u), store.followers(u)) for u in users},
        "blocks": store.has_blocked(w["carol"], w["gone"]),
        "comments": store.comments(None, w["posts"][0]),
        "likers": store.likers(None, w["posts"][0]),
        "cameo": store.get_cameo(w["cameo"]),
        "cameo_uses": store.posts_with_cameo(w["alice"], w["cameo"]),
        "notifications": {u: store.notifications(u) for u in users},
        "reports": store.open_reports(w["admin"]),
        "log": store.moderation_log(w["admin"]),
        "refusals": store.refusals(w["admin"]),
        "taste": store.feed_taste(w["alice"]),
        "session": store.session_user(w["session"]),
        "invites": store.invites_of(w["alice"]),
        "personal": store.personal_data(w["alice"]),
        "stats": store.stats(),
        "lineage": store.lineage(w["carol"], w["posts"][4]),
    }


def _visible(store, viewer, post) -> bool:
    try:
        store.get_post(viewer, post)
        return True
    except Exception:  # noqa: BLE001
        return False


def test_a_tinydb_community_moves_to_postgresql_whole_and_the_same(tmp_path, postgres_server):
    from conftest import disk_state, drop_database, new_database

    clock = FakeClock()
    source = FeedStore(tmp_path / "store", clock=clock)
    world = lived_in(source, clock)
    before = observable(source, world)
    source.close()
    files = disk_state(tmp_path / "store")

    url = new_database(postgres_server)
    try:
        counts = migrate(tmp_path / "store", url, log=lambda *_: None)
        assert counts["users"] == 6 and counts["posts"] == 5 and counts["likes"] == 3
        assert disk_state(tmp_path / "store") == files, "the TinyDB store was written to"
        copied = stored_state(SimpleNamespace(url=url))
        # Again: the same community is already there, so nothing changes.
        assert migrate(tmp_path / "store", url, log=lambda *_: None) == counts
        assert stored_state(SimpleNamespace(url=url)) == copied
        moved = PostgresStore(url, migrate=False, clock=clock)
        try:
            assert observable(moved, world) == before
            with pytest.raises(Conflict, match="deleted recently"):
                moved.create_user("gone")  # the erased account's handle is still held
            assert moved.reserve_post_id() == world["reserved"] + 1  # no id is handed out twice
            new = moved.create_user("erin")["id"]
            assert new == world["dave"] + 1
            state = stored_state(moved)
        finally:
            moved.close()
        # Into a database that holds anything else: refused, and nothing changes.
        other = tmp_path / "other"
        other_store = FeedStore(other, clock=clock)
        other_store.create_user("zed")
        other_store.close()
        with pytest.raises(MigrationError, match="already holds other data"):
            migrate(other, url, log=lambda *_: None)
        assert stored_state(moved) == state
    finally:
        drop_database(postgres_server, url)


def test_the_migration_command_says_what_it_did(tmp_path, postgres_server):
    from conftest import drop_database, new_database

    source = FeedStore(tmp_path / "store")
    source.create_user("alice")
    source.close()
    url = new_database(postgres_server)
    try:
        run = subprocess.run([sys.executable, "-m", "feed_store.migrate", "--from", str(tmp_path / "store"),
                              "--to", url], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert "1 users" in run.stdout and "every table's row count matches" in run.stdout
        missing = subprocess.run([sys.executable, "-m", "feed_store.migrate", "--from", str(tmp_path / "nothing"),
                                  "--to", url], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert missing.returncode == 1 and "There is no TinyDB store" in missing.stderr
    finally:
        drop_database(postgres_server, url)


def test_a_cursor_from_another_feed_or_viewer_is_refused(open_store):
    store = open_store()
    alice, bob, carol = (store.create_user(h)["id"] for h in ("alice", "bob", "carol"))
    for i in range(6):
        store.create_post((bob, carol)[i % 2], f"post {i}", visibility="public")
    cursor = store.for_you(alice, limit=2).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidInput, match="reload the feed"):
        store.latest(alice, cursor=cursor, limit=2)
    with pytest.raises(InvalidInput, match="reload the feed"):
        store.for_you(bob, cursor=cursor, limit=2)
    assert len(store.for_you(alice, cursor=cursor, limit=2).items) == 2


def test_both_backends_answer_the_same_calls_alike(tmp_path, postgres_server):
    """One script of calls, good and bad, on a TinyDB store and a PostgreSQL store: the same records, the same
    errors with the same words, call for call. (Times are compared to the millisecond: the backends take the
    clock a different number of times per call, each a microsecond apart.)"""
    from conftest import drop_database, new_database

    def same_times(value):
        if isinstance(value, float) and value > 1e9:
            return round(value, 3)
        if isinstance(value, dict):
            return {k: same_times(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(same_times(v) for v in value)
        return value

    def script(store) -> list:
        out = []

        def call(method, *args, **kwargs):
            try:
                result = getattr(store, method)(*args, **kwargs)
                if hasattr(result, "items") and hasattr(result, "next_cursor"):
                    result = [(i.post, i.reasons) for i in result.items]
                out.append((method, same_times(result)))
            except Exception as e:  # noqa: BLE001 - the error is what is compared
                out.append((method, type(e).__name__, str(e)))

        for handle in ("alice", "Bob", "@carol", "x", "alice", "dave"):
            call("create_user", handle)
        call("follow", 1, 2), call("follow", 2, 1), call("follow", 1, 1), call("follow", 1, 2), call("follow", 1, 99)
        call("follow", 3, 1), call("unfollow", 3, 2), call("block", 4, 3), call("follow", 4, 3)
        call("create_post", 1, "a heron @bob", visibility="public")
        call("create_post", 2, "", visibility="public"), call("create_post", 2, "x" * 501)
        call("create_post", 2, "a fox", visibility="secret"), call("create_post", 2, "a fox", visibility="friends")
        call("create_post", 3, "a draft"), call("create_post", 3, "a remix", parent_id=1, visibility="public")
        call("create_post", 3, "a remix of a draft it cannot see", parent_id=2)
        call("like", 2, 1), call("like", 2, 1), call("like", 3, 3), call("like", 1, 3), call("unlike", 4, 1)
        call("comment", 3, 1, "  nice\u202e one  "), call("comment", 3, 1, "\x00"), call("comment", 4, 2, "hi")
        call("report", 3, "post", 1, "spam"), call("report", 3, "planet", 1, "spam"), call("report", 3, "user", 9, "x")
        call("publish", 3, 3, "friends"), call("publish", 1, 3), call("publish", 3, 3, "draft")
        call("delete_post", 2, 1), call("delete_comment", 4, 1)
        call("create_cameo", 1, {"embedding": [0.5], "crops": []}), call("create_cameo", 1, {})
        call("set_cameo_permission", 2, 1, "everyone"), call("set_cameo_permission", 1, 1, "nobody")
        call("set_cameo_permission", 1, 1, "approved", [2]), call("cameo_use_refusal", 3, 1)
        call("cameo_use_refusal", 2, 1), call("create_post", 3, "@alice waves", cameo_ids=[1])
        call("create_post", 2, "@alice waves", cameo_ids=[1])
        call("for_you", None), call("for_you", 1), call("for_you", 3, limit=0), call("for_you", 3, cursor="nonsense")
        call("latest", 4), call("following_feed", 3), call("profile_feed", 3, 4), call("profile_feed", 1, 2)
        for viewer in (None, 1, 2, 3, 4):
            call("get_post", viewer, 1), call("get_post", viewer, 2), call("get_post", viewer, 3)
            call("comments", viewer, 1), call("lineage", viewer, 3)
        call("notifications", 1), call("notifications", 2), call("unread_notifications", 2)
        call("set_feed_taste", 1, "more herons", ["a fox"]), call("feed_taste", 1), call("feed_taste", 99)
        call("stats"), call("personal_data", 2), call("erase_user", 2, 1), call("erase_user", 1, 1)
        call("get_user", 1), call("create_user", "alice"), call("posts_with_cameo", 1, 1)
        call("open_reports", 99), call("refusals", 99), call("moderation_log", 99), call("erase_user", 99, 3)
        call("delete_comment", 99, 1), call("resolve_report", 99, 1, "dismiss")
        return out

    clock_a, clock_b = FakeClock(), FakeClock()
    tiny = FeedStore(tmp_path / "store", clock=clock_a)
    url = new_database(postgres_server)
    pg = PostgresStore(url, migrate=False, clock=clock_b)
    try:
        expected, got = script(tiny), script(pg)
        assert len(got) == len(expected)
        for a, b in zip(expected, got):
            if isinstance(a[1], dict) and isinstance(b[1], dict):  # name the differing part of a big record
                assert {k: v for k, v in b[1].items() if a[1].get(k) != v} == {
                    k: v for k, v in a[1].items() if b[1].get(k) != v}, a[0]
            assert b == a
    finally:
        tiny.close()
        pg.close()
        drop_database(postgres_server, url)


def test_likes_made_together_each_get_their_own_count_and_notification(open_store):
    """Concurrent likes share statements and commits (feed_store/postgres/likes.py); each caller still gets the
    count right after its own like, and the author hears of every one."""
    store = open_store()
    author = store.create_user("author")["id"]
    fans = [store.create_user(f"fan{i}")["id"] for i in range(16)]
    posts = [store.create_post(author, f"post {i}", visibility="public")["id"] for i in range(2)]
    start = threading.Barrier(len(fans))
    counts: dict[int, list[int]] = {post: [] for post in posts}
    lock = threading.Lock()

    def like_both(fan: int) -> None:
        start.wait()
        for post in posts:
            count = store.like(fan, post)
            with lock:
                counts[post].append(count)

    threads = [threading.Thread(target=like_both, args=(fan,)) for fan in fans]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for post in posts:
        assert sorted(counts[post]) == list(range(1, len(fans) + 1))  # as if they came one by one
        assert store.get_post(None, post)["likes"] == len(fans)
    likes = [n for n in store.notifications(author) if n["kind"] == "like"]
    assert sorted((n["data"]["post_id"], n["data"]["by"]) for n in likes) == sorted(
        (post, fan) for post in posts for fan in fans)


def test_app_processes_starting_together_on_a_new_database_all_come_up(postgres_server):
    """Each process migrates the schema at start; started at once, they take turns and all of them serve."""
    from conftest import drop_database, new_database

    url = new_database(postgres_server)
    with psycopg.connect(url, autocommit=True) as connection:  # a new database: no schema yet
        connection.execute("DROP TABLE feed_cursors, refusals, moderation_log, notifications, reports, comments,"
                           " views, likes, posts, cameos, blocks, follows, sessions, invites, users, alembic_version")
        connection.execute("DROP SEQUENCE post_ids, prompt_changes")
    code = ("import sys; sys.path.insert(0, sys.argv[3]); from feed_store.postgres import PostgresStore;"
            " s = PostgresStore(sys.argv[1]); print(s.create_user(sys.argv[2])['handle']); s.close()")
    try:
        processes = [subprocess.Popen([sys.executable, "-c", code, url, f"starter{i}", str(REPO)], text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(4)]
        answers = [p.communicate(timeout=120) for p in processes]
        assert sorted(out.strip() for out, _ in answers) == [f"starter{i}" for i in range(4)], answers
        assert schema.current_revision(url) == schema.head_revision()
    finally:
        drop_database(postgres_server, url)
