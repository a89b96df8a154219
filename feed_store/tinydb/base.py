"""What every concern of the TinyDB store shares: the database, the lock, the clock, and the reads they all use.

Every public method is safe to call from many threads (one lock serialises
them, since TinyDB is not thread-safe), validates before it writes, and writes
through one journal transaction: a method either raises a
:class:`~feed_store.errors.StoreError` having changed nothing, or returns after
its change is on disk.

Ids are TinyDB document ids (ints). Methods that act for a user take that
user's id first as ``actor`` (or ``viewer`` for reads); callers must take it
from the session, never from the client.
"""

from __future__ import annotations

import functools
import gc
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import numpy as np
from tinydb import TinyDB
from tinydb.table import Document


from .. import rules
from ..ranking import RankingConfig
from .index import NEVER, pair_key
from .journal import JournalTable
from .schema import open_storage


RESERVED_IDS = 2
"""The ``_meta`` document that remembers the last post id handed out by :meth:`FeedStore.reserve_post_id`."""

Doc = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])


class _Database(TinyDB):
    table_class = JournalTable


@dataclass(frozen=True)
class _Session:
    """A signed-in session: whose it is, its document, and when it ends by itself."""

    user_id: int
    doc_id: int
    expires_at: float


def _serialised(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: StoreBase, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class StoreBase:
    """The TinyDB database, its lock and clock, and the in-memory indexes each concern loads at open."""

    TABLES = ("users", "follows", "invites", "posts", "likes", "comments", "views", "reports", "blocks", "cameos",
              "notifications", "moderation_log", "refusals", "sessions")

    def __init__(self, directory: str | Path, *, ranking: RankingConfig | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory)
        self.ranking = ranking or RankingConfig()
        self._clock = clock
        self._last_time = 0.0
        self._lock = threading.RLock()
        collecting = gc.isenabled()
        gc.disable()  # opening makes millions of long-lived objects: collecting them now is wasted work
        try:
            self._storage = open_storage(self.directory)
            self._db = _Database(storage=lambda: self._storage)
            self._t = SimpleNamespace(**{name: self._db.table(name) for name in self.TABLES})
            self._build_indexes()
        finally:
            if collecting:
                gc.enable()
        gc.freeze()  # and keep later collections from scanning them again

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _build_indexes(self) -> None:
        """Derive every lookup structure from the tables (cheap enough to do at each open).

        Each concern loads its own slice, in an order that lets later ones use earlier ones (engagement
        counts need the posts' columns; feeds need the follow graph).
        """
        tables = self._storage.read()
        self._load_users(tables)
        self._load_sessions(tables)
        self._load_graph(tables)
        self._load_cameos(tables)
        self._load_posts(tables)
        self._load_engagement(tables)
        self._load_moderation(tables)
        # Never hand out a time before an event already stored (see ``_now``).
        c = self.columns
        self._last_time = max([self._engagement_log.last_time, self._follow_log.last_time,
                               float(c.published_at[c.published_at < NEVER].max(initial=0.0)),
                               float(c.deleted_at[c.deleted_at < NEVER].max(initial=0.0)),
                               *(at for blocked in self._blocked_at.values() for at in blocked.values()),
                               *self._suspended.values(),
                               *(at for reports in self._reported.values() for at in reports.values())])

    @staticmethod
    def _columns_of(docs: Collection[Doc], *fields: tuple[str, type]) -> list[np.ndarray]:
        return [np.fromiter((d[name] for d in docs), dtype, len(docs)) for name, dtype in fields]

    def _has_pair(self, table: str, a: int, b: int) -> bool:
        return str(pair_key(a, b)) in self._storage.read().get(table, {})

    def _insert_pair(self, table: str, a: int, b: int, doc: Doc) -> None:
        getattr(self._t, table).insert(Document(doc, doc_id=pair_key(a, b)))

    def _remove_pair(self, table: str, a: int, b: int) -> None:
        getattr(self._t, table).remove(doc_ids=[pair_key(a, b)])

    def _now(self, *, event: bool = True) -> float:
        """The time of an event, or of a read with ``event=False``.

        Events get strictly increasing times, later than any read before them,
        so a feed frozen at a read's time splits events cleanly into before
        and after even when the clock has not moved.
        """
        step = 1e-6 if event else 0.0
        self._last_time = max(self._clock(), self._last_time + step)
        return self._last_time

    def _engage(self, post_id: int, kind: int, delta: int, at: float) -> None:
        self.columns.add_engagement(post_id, kind, delta)
        self._engagement_log.append(at, post_id, kind, delta)

    def _get(self, table: str, doc_id: int, what: str) -> Doc:
        doc = self._storage.read().get(table, {}).get(str(doc_id)) if isinstance(doc_id, int) else None
        if doc is None:
            raise rules.missing(what, doc_id)
        return doc

    def _require_user(self, user_id: int) -> Doc:
        user = self._get("users", user_id, "user")
        if user.get("erased_at") is not None:
            raise rules.missing("user", user_id)
        return user

    def _friends(self, user_id: int) -> set[int]:
        return self._following.get(user_id, set()) & self._followers.get(user_id, set())

    def _blocked_between(self, a: int | None, b: int) -> bool:
        return a is not None and b in self._blocked_at.get(a, {})

    def _is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and bool(self._get("users", user_id, "user").get("is_admin"))

    def _standing(self, viewer: int | None, post: Doc) -> rules.Standing:
        author = post["author_id"]
        return rules.Standing(
            viewer_is_admin=self._is_admin(viewer), author_suspended=author in self._suspended,
            viewer_is_author=viewer == author, viewer_owns_a_cameo_in_it=self._owns_cameo_in(viewer, post),
            blocked_either_way=self._blocked_between(viewer, author),
            viewer_is_authors_friend=viewer is not None and viewer in self._friends(author))

    def _can_view(self, viewer: int | None, post: Doc) -> bool:
        """:func:`rules.can_view` (feeds apply the same rule in vector form, see ``_moment``)."""
        return post["deleted_at"] is None and rules.can_view(post, self._standing(viewer, post))

    def _owns_cameo_in(self, user_id: int | None, post: Doc) -> bool:
        return user_id is not None and any(self._cameo_owner.get(c) == user_id for c in post["cameo_ids"])

    def _visible_post(self, viewer: int | None, post_id: int) -> Doc:
        post = self._get("posts", post_id, "video")
        if not self._can_view(viewer, post):
            raise rules.missing("video", post_id)  # the same answer as for a missing one
        return post

    def _published_post(self, viewer: int, post_id: int) -> Doc:
        post = self._visible_post(viewer, post_id)
        if post["published_at"] is None:
            raise rules.draft_refusal()
        return post

    def _may_delete(self, user_id: int | None, post: Doc) -> bool:
        """:func:`rules.may_delete`."""
        return user_id is not None and rules.may_delete(self._standing(user_id, post))

    def _present(self, post_id: int, post: Doc, viewer: int | None) -> Doc:
        likes, comments, remixes = (int(n) for n in self.columns.counts[post_id])
        return rules.presented_post(
            post_id, post, viewer, author=self._get("users", post["author_id"], "user"),
            counts=(likes, comments, remixes, self._view_counts[post_id]),
            liked=viewer is not None and self._has_pair("likes", post_id, viewer),
            can_delete=self._may_delete(viewer, post))

    def _handle(self, user_id: int) -> str:
        return "@" + self._get("users", user_id, "user")["handle"]

    def _notify(self, user_id: int, kind: str, data: Doc) -> tuple[int, int]:
        """Write a notification (inside the caller's transaction); index it with the result once committed."""
        return user_id, self._t.notifications.insert({"user_id": user_id, "kind": kind, "data": data,
                                                      "created_at": self._now(), "read": False})

    def _tell(self, user_id: int, kind: str, data: Doc) -> None:
        """Notify ``user_id`` now (outside a transaction) of what ``data["by"]`` did; never of their own acts,
        nor across a block."""
        by = data.get("by")
        if by == user_id or (by is not None and self._blocked_between(user_id, by)):
            return
        _, notification_id = self._notify(user_id, kind, data)
        self._notification_ids.setdefault(user_id, []).append(notification_id)

    def _tell_mentioned(self, text: str, by: int, data: Doc, told: Iterable[int] = ()) -> None:
        """Tell everyone an @mention in ``text`` names that they were mentioned (once, and not those ``told``)."""
        told = set(told)
        for handle in rules.mentioned_handles(text):
            mentioned = self._handles.get(handle)
            if mentioned is not None and mentioned not in told:
                self._tell(mentioned, "mention", {**data, "by": by})

    def _require_admin(self, actor: int) -> None:
        rules.require_admin(self._is_admin(actor))

    def _user_id_of(self, handle: object) -> int | None:
        """The id behind a handle as people type it (``@Alice``), or ``None``."""
        return self._handles.get(rules.typed_handle(handle))
