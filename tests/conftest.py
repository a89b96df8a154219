"""Shared fixtures for the feed_store tests.

Every test works on real files: a FeedStore (or a bare JournalStorage) in a
fresh temporary directory, with a clock the test moves by hand.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tinydb import TinyDB  # noqa: E402

from feed_store import FeedStore, JournalTable  # noqa: E402

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


@pytest.fixture
def open_store(store_dir: Path, clock: FakeClock):
    """Open (or reopen) the FeedStore in ``store_dir``; every store opened is closed at the end."""
    opened: list[FeedStore] = []

    def _open(directory: Path | None = None, **kwargs) -> FeedStore:
        s = FeedStore(directory or store_dir, clock=kwargs.pop("clock", clock), **kwargs)
        opened.append(s)
        return s

    yield _open
    for s in opened:
        try:
            s.close()
        except Exception:
            pass


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
