"""Shared fixtures for the feed_store tests.

Every store test runs twice, once per backend, on real storage with a clock
the test moves by hand: the TinyDB store in a fresh temporary directory, and
the PostgreSQL store in a fresh database of a private cluster
(``DREAMREEL_TEST_DATABASE_URL`` from ``make test``, or one this session
starts itself), cloned from a migrated template.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tinydb import TinyDB  # noqa: E402

from feed_store import FeedStore, JournalTable  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
from services import TEST_DATABASE_URL, postgres_cluster  # noqa: E402

BACKENDS = ("tinydb", "postgresql")

START = 1_700_000_000.0
HOUR = 3600.0


class FakeClock:
    """A clock that only moves when a test says so (safe to read from many threads)."""

    def __init__(self, start: float = START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 1.0) -> float:
        with self._lock:
            self._now += seconds
            return self._now


class JournalDB(TinyDB):
    """TinyDB over the journal storage, the way FeedStore assembles it."""

    table_class = JournalTable


def disk_state(directory: Path) -> dict[str, bytes]:
    """Every file in the store directory with its exact bytes."""
    return {p.name: p.read_bytes() for p in sorted(Path(directory).iterdir()) if p.is_file()}


def ids(page_or_items) -> list[int]:
    items = getattr(page_or_items, "items", page_or_items)
    return [item.post["id"] for item in items]


def walk_items(fetch: Callable, limit: int, between: Callable[[int, list[int]], None] | None = None) -> list:
    """Follow ``next_cursor`` to the end of a feed and return every FeedItem served.

    ``between(pages_read, ids_so_far)`` runs between pages (to change the store mid-scroll).
    """
    seen: list = []
    cursor = None
    for pages in range(1, 1000):
        page = fetch(cursor=cursor, limit=limit)
        assert len(page.items) <= limit
        seen += page.items
        if page.next_cursor is None:
            return seen
        if between is not None:
            between(pages, ids(seen))
        cursor = page.next_cursor
    raise AssertionError("the feed never ended")


def walk(fetch: Callable, limit: int, between: Callable[[int, list[int]], None] | None = None) -> list[int]:
    """The post ids of a whole feed, page by page (see :func:`walk_items`)."""
    return ids(walk_items(fetch, limit, between))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server for this test session, holding a migrated ``dreamreel_template`` database."""
    import psycopg

    from feed_store.postgres import schema

    with contextlib.ExitStack() as stack:
        url = os.environ.get(TEST_DATABASE_URL) or stack.enter_context(postgres_cluster())
        template = f"template_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {template}")
        schema.upgrade(database_url(url, template))
        yield SimpleNamespace(url=url, template=template)
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE {template} WITH (FORCE)")


def database_url(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + "/" + name


def new_database(server) -> str:
    """A fresh, migrated database (a copy of the session's template)."""
    import psycopg

    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server.url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name} TEMPLATE {server.template}")
    return database_url(server.url, name)


def drop_database(server, url: str) -> None:
    import psycopg

    with psycopg.connect(server.url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


@pytest.fixture
def postgres_url(postgres_server) -> Iterator[str]:
    """A fresh, migrated database for one test, dropped afterwards."""
    url = new_database(postgres_server)
    yield url
    drop_database(postgres_server, url)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Which store backend a test runs on: every test that opens a store runs on each."""
    return request.param


@pytest.fixture
def open_store(backend: str, request, store_dir: Path, clock: FakeClock):
    """Open (or reopen) the store; every store opened is closed at the end.

    TinyDB: the store in ``store_dir`` (or ``directory``). PostgreSQL: the test's own database (``directory`` names
    another one, made on first use, so a test can open two separate stores on either backend).
    """
    opened: list = []
    databases: dict[Path, str] = {}

    def _open(directory: Path | None = None, **kwargs):
        clock_ = kwargs.pop("clock", clock)
        if backend == "tinydb":
            s = FeedStore(directory or store_dir, clock=clock_, **kwargs)
        else:
            from feed_store.postgres import PostgresStore

            where = directory or store_dir
            if where not in databases:
                databases[where] = new_database(request.getfixturevalue("postgres_server"))
            s = PostgresStore(databases[where], clock=clock_, migrate=False, **kwargs)
        opened.append(s)
        return s

    yield _open
    for s in opened:
        try:
            s.close()
        except Exception:
            pass
    for url in databases.values():
        drop_database(request.getfixturevalue("postgres_server"), url)


def stored_state(store) -> object:
    """Everything a store keeps, exactly: the files of a TinyDB store; every row and counter of a PostgreSQL one
    (the frozen feed cursors aside, which reads make)."""
    if isinstance(store, FeedStore):
        return disk_state(store.directory)
    import psycopg

    with psycopg.connect(store.url) as connection:
        tables = [r[0] for r in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'feed_cursors'"
            " ORDER BY tablename")]
        state = {t: connection.execute(f"SELECT * FROM {t} ORDER BY {t}::text").fetchall() for t in tables}
        for sequence in ("post_ids", "prompt_changes"):
            state[sequence] = connection.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone()
    return state


@pytest.fixture
def store(open_store) -> FeedStore:
    return open_store()


def befriend(store: FeedStore, a: int, b: int) -> None:
    store.follow(a, b)
    store.follow(b, a)


@pytest.fixture
def people(store: FeedStore, clock: FakeClock) -> SimpleNamespace:
    """A small community seen from alice: bob is her friend, carol she follows,
    dave is bob's friend (a friend of a friend), erin is a stranger."""
    p = SimpleNamespace(**{h: store.create_user(h)["id"] for h in ("alice", "bob", "carol", "dave", "erin")})
    befriend(store, p.alice, p.bob)
    store.follow(p.alice, p.carol)
    befriend(store, p.bob, p.dave)
    clock.advance(60)
    return p


def fetch(running_app, url: str) -> int:
    """The HTTP status the running app answers for ``url``."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(running_app.url + url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


class AppProcess(SimpleNamespace):
    """``python app.py`` running on a data directory: its URL, the admin password and invites it printed."""

    def log(self) -> str:
        """Everything the app printed so far (its tracebacks included)."""
        return "".join(self.output)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_app(data: Path, *, first_start: bool = True, **env: str) -> AppProcess:
    """Start ``python app.py`` the way ``make run`` does, on ``data`` and a free port, and wait until it answers.

    No demo community: tests make their own posts. ``env`` adds or overrides variables. With
    ``first_start=False`` (a data directory used before) there is no admin password or invite to wait for.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DREAMREEL_DATA_DIR": str(data), "DREAMREEL_DEMO": "0", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", **env}
    process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200 and (not first_start or any("Invite codes:" in line for line in lines)):
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("app.py did not start:\n" + "".join(lines))
        time.sleep(0.25)
    output = "".join(lines)
    password = re.search(r"password (\S+)", output)[1] if first_start else None
    invites = re.search(r"Invite codes: (.+)", output)[1].split(", ") if first_start else []
    return AppProcess(url=url, admin_password=password, invites=invites, data_dir=data, output=lines, process=process)


@contextmanager
def app_running(data: Path, **options) -> Iterator[AppProcess]:
    """``start_app`` for the length of a block; afterwards its output is kept beside ``data`` as ``<name>.log``."""
    app = start_app(data, **options)
    try:
        yield app
    finally:
        if app.process.poll() is None:
            app.stop()
        (data.parent / f"{data.name}.log").write_text(app.log())


@pytest.fixture(scope="session")
def running_app(tmp_path_factory):
    """One ``python app.py`` on a fresh data directory, shared by the tests that do not need one of their own."""
    with app_running(tmp_path_factory.mktemp("app-data")) as app:
        yield app


CHROMIUM = "/usr/bin/chromium"
"""Debian's chromium: playwright drives it, and never downloads a browser of its own."""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--autoplay-policy=no-user-gesture-required"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context at desktop size; ``page.dialogs`` lists every alert, confirm or prompt (dismissed)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()
