"""Every named endpoint called with random and hostile arguments, as a signed-out visitor, ordinary users, the
admin and forged sessions, against ``python app.py`` on a data directory of its own.

Wrong types, huge strings, negative and huge numbers, unicode and NUL bytes, other users' ids and forged tokens
must each get an answer a person can act on: never the generic "went wrong on our side". A refused call writes
nothing (the moderators' record of a refused prompt or comment aside). Afterwards the app still answers, and
the store it leaves is consistent: counts equal the records, every file in the media folder belongs to a post or
a cameo, every record points at what exists.

Seeded (``derandomize``) and bounded to a few hundred calls, about a minute.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from gradio_client import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import app_running
from feed_store import FeedStore, JournalStorage
from page_protocol import PageClient, file_data

GENERIC = "went wrong on our side"
CALLS = 600
MODERATION_RECORDS = ("Blocked (",)
"""Refusals that are recorded on purpose, for the moderators."""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with app_running(tmp_path_factory.mktemp("fuzz-app"), DREAMREEL_DAILY_GENERATIONS="4") as running:
        yield running


@pytest.fixture(scope="module")
def world(app):
    """Two people, the admin, a published post with a comment, a report: things for hostile calls to aim at."""
    client = Client(app.url + "/", verbose=False)
    alice = client.predict("alice", "alice has a long password", app.invites[0], api_name="/sign_up")
    bob = client.predict("bob", "bob has a long password", app.invites[1], api_name="/sign_up")
    admin = client.predict("admin", app.admin_password, api_name="/sign_in")
    post = client.predict(alice, "a red ball moving left on a frozen lake", 1, None, api_name="/generate")
    client.predict(alice, post["id"], "public", False, api_name="/publish")
    client.predict(bob, post["id"], "nice", api_name="/comment")
    client.predict(bob, "post", post["id"], "spam", api_name="/report")
    forged = [alice[:-1] + ("0" if alice[-1] != "0" else "1"), "1.99999999999.deadbeef", "..", "a" * 5000]
    return {"sessions": ["", alice, bob, admin, *forged]}


WORDS = ["For you", "Following", "Latest", "public", "friends", "draft", "post", "comment", "user", "take_down",
         "dismiss", "only_me", "approved", "mutuals", "everyone", "alice", "bob", "admin", "@alice", "spam"]


def values() -> st.SearchStrategy:
    """Arguments a hostile client might send in any position."""
    text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-3, 12), st.integers(-2**63, 2**63), st.floats(),
        st.sampled_from(WORDS), text, st.sampled_from(["\0", "\0" * 5, "x" * 100_000, "é" * 600, "\u202e\u0000\x1b",
                                                        "<img src=x onerror=alert(1)>", "../../etc/passwd", "1.5"]),
        st.builds(lambda p: file_data(p), st.sampled_from(["/etc/passwd", "data/secret.key", "/tmp", "", "."])),
    )
    return st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.sampled_from(["path", "id", "x"]),
                                                                           scalars, max_size=2))


def disk(data: Path) -> dict[str, int]:
    """Each file under the data directory with its size: what a refused call must leave as it was."""
    return {str(p.relative_to(data)): p.stat().st_size for p in data.rglob("*") if p.is_file()}


def test_hostile_calls_get_clear_answers_and_change_nothing(app, world):
    page = PageClient(app.url)
    endpoints = {e.api_name: e for e in page.events() if e.visibility == "public" and e.api_name}
    parameters = {name: page.info["named_endpoints"][f"/{name}"]["parameters"] for name in endpoints}
    assert len(endpoints) >= 25  # every named endpoint takes part, whatever is added later
    problems: list[str] = []
    calls: list[str] = []

    def fuzz(name: str) -> None:
        @settings(max_examples=CALLS // len(endpoints), deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def call(data):
            args = [data.draw(values()) for _ in parameters[name]]
            if args and parameters[name][0]["parameter_name"] == "session":
                args[0] = data.draw(st.one_of(st.sampled_from(world["sessions"]), values()))
            before = disk(app.data_dir)
            outcome = page.call(endpoints[name].fn_index, args)
            calls.append(name)
            what = f"/{name}{tuple(str(a)[:60] for a in args)}"
            if outcome.ok:
                return
            if not outcome.error or GENERIC in outcome.error:
                problems.append(f"{what}: {outcome.error!r}")
            elif not outcome.error.startswith(MODERATION_RECORDS) and disk(app.data_dir) != before:
                problems.append(f"{what} was refused ({outcome.error[:80]}) but wrote to the data directory")

        call()

    for name in sorted(endpoints):  # each endpoint as often as the others
        fuzz(name)
    assert problems == [], "\n".join(problems[:20])
    assert set(calls) == set(endpoints) and len(calls) >= CALLS / 2

    # The app is still up and still works.
    client = Client(app.url + "/", verbose=False)
    assert client.predict(world["sessions"][1], "Latest", "", api_name="/feed")["posts"]


def test_the_store_left_behind_is_consistent(app, world):
    app.stop()
    data = app.data_dir
    storage = JournalStorage(data / "store")
    tables = storage.read()
    storage.close()

    def rows(name: str) -> dict[int, dict]:
        return {int(k): v for k, v in tables.get(name, {}).items()}

    users, posts, cameos = rows("users"), rows("posts"), rows("cameos")
    likes, comments = list(rows("likes").values()), list(rows("comments").values())
    live_comments = [c for c in comments if c["deleted_at"] is None]
    for like in likes:
        assert like["post_id"] in posts and like["user_id"] in users
    for comment in comments:
        assert comment["post_id"] in posts and comment["user_id"] in users
        assert comment["text"] and all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in comment["text"])
    for post in posts.values():
        assert post["author_id"] in users
    for session in rows("sessions").values():
        assert session["user_id"] in users

    with FeedStore(data / "store") as store:
        admin = next(uid for uid, u in users.items() if u.get("is_admin"))
        for post_id, post in posts.items():
            if post["deleted_at"] is not None:
                continue
            shown = store.get_post(admin, post_id)
            assert shown["likes"] == sum(1 for like in likes if like["post_id"] == post_id)
            assert shown["comments"] == sum(1 for c in live_comments if c["post_id"] == post_id)
            assert shown["remixes"] == sum(1 for p in posts.values() if p["parent_id"] == post_id
                                           and p["published_at"] is not None and p["deleted_at"] is None)
        assert store.stats()["users"] == len(users)

    # Every file in the media folder belongs to a live post or a cameo: nothing orphaned, nothing half-written.
    owned = {name for p in posts.values() if p["deleted_at"] is None
             for name in (p["video"], p["thumbnail"], p["preview"]) if name}
    owned |= {name for c in cameos.values() for name in [*c.get("crops", []), c.get("recording")] if name}
    media = data / "media"
    on_disk = {p.relative_to(media).as_posix() for p in media.rglob("*") if p.is_file()}
    assert on_disk == owned
