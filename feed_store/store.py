"""FeedStore: Dreamreel's social data and feeds, on TinyDB.

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
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import numpy as np
from tinydb import TinyDB
from tinydb.table import Document

from vocabulary import MAX_TEXT, MENTION_RE

from .errors import NotFound, PermissionDenied
from .index import COMMENT, LIKE, NEVER, REMIX, VISIBILITY_CODES, EventLog, Likers, PostColumns, pair_key
from . import personal_data, rules
from .journal import JournalTable
from .ranking import (
    EVERYONE, FOLLOWING, FRIEND_OF_FRIEND, OWN_OR_FRIEND, Cursor, RankingConfig, Taste, best_first, diversify, scores,
)
from .records import FeedItem, FeedPage
from .schema import META_TABLE, open_storage
from .text import checked_text

RESERVED_IDS = 2
"""The ``_meta`` document that remembers the last post id handed out by :meth:`FeedStore.reserve_post_id`."""

Doc = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])


class _Database(TinyDB):
    table_class = JournalTable


class _Relations:
    """The follow graph as it was at one moment: the current graph with later changes undone."""

    def __init__(self, following: dict[int, set[int]], followers: dict[int, set[int]], log: EventLog,
                 as_of: float) -> None:
        self._following, self._followers = following, followers
        subjects, objects, deltas = log.since(as_of)
        self._later = list(zip(subjects.tolist(), objects.tolist(), deltas.tolist()))[::-1]

    def _as_of(self, current: set[int], user: int, side: int) -> set[int]:
        if not self._later:
            return current
        past = set(current)
        for edge in self._later:
            if edge[side] == user:
                other = edge[1 - side]
                past.discard(other) if edge[2] > 0 else past.add(other)
        return past

    def following(self, user: int) -> set[int]:
        return self._as_of(self._following.get(user, set()), user, 0)

    def followers(self, user: int) -> set[int]:
        return self._as_of(self._followers.get(user, set()), user, 1)

    def friends(self, user: int) -> set[int]:
        return self.following(user) & self.followers(user)


@dataclass
class _Moment:
    """One viewer's view of the store at a feed's frozen moment."""

    viewer: int | None
    as_of: float
    relations: _Relations
    tiers: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class _Session:
    """A signed-in session: whose it is, its document, and when it ends by itself."""

    user_id: int
    doc_id: int
    expires_at: float


def _serialised(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: FeedStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class FeedStore:
    """Users, follows, invites, posts, engagement, moderation data and feeds."""

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

    def __enter__(self) -> FeedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- indexes ------------------------------------------------------------------------

    def _build_indexes(self) -> None:
        """Derive every lookup structure from the tables (cheap enough to do at each open)."""
        tables = self._storage.read()
        self._handles: dict[str, int] = {}
        self._held_handles: dict[str, float] = {}  # hash of an erased account's handle -> when it is free again
        self._external_ids: dict[str, int] = {}
        self._max_user_id = 0
        self._suspended: dict[int, float] = {}  # user -> when
        for key, user in tables.get("users", {}).items():
            self._index_user(int(key), user)
        self._last_reserved_post_id = tables.get(META_TABLE, {}).get(str(RESERVED_IDS), {}).get("post_id", 0)

        self._following: defaultdict[int, set[int]] = defaultdict(set)
        self._followers: defaultdict[int, set[int]] = defaultdict(set)
        follows = tables.get("follows", {}).values()
        for f in follows:
            self._following[f["follower_id"]].add(f["followee_id"])
            self._followers[f["followee_id"]].add(f["follower_id"])
        self._follow_log = EventLog()
        self._follow_log.load(*self._columns_of(follows, ("created_at", np.float64), ("follower_id", np.int32),
                                                ("followee_id", np.int32)))

        self._blocked_at: dict[int, dict[int, float]] = {}  # user -> {other: when}, both directions
        for b in tables.get("blocks", {}).values():
            self._index_block(b)

        self._sessions: dict[str, _Session] = {}
        self._sessions_of: dict[int, set[str]] = {}
        for key, session in tables.get("sessions", {}).items():
            self._index_session(int(key), session)

        self._invite_ids = {inv["code"]: int(key) for key, inv in tables.get("invites", {}).items()}
        self._notification_ids: dict[int, list[int]] = {}
        for key, n in tables.get("notifications", {}).items():
            self._notification_ids.setdefault(n["user_id"], []).append(int(key))
        self._cameo_owner: dict[int, int] = {}  # cameo -> owner
        self._cameo_by_owner: dict[int, int] = {}  # owner -> their one cameo
        for key, c in tables.get("cameos", {}).items():
            self._index_cameo(int(key), c["owner_id"])

        self.columns = PostColumns()
        self._posts_by_author: dict[int, list[int]] = {}
        self._posts_by_cameo: dict[int, list[int]] = {}
        self._remixes: dict[int, list[int]] = {}
        for key, post in tables.get("posts", {}).items():
            self._index_post(int(key), post)
        self.publications = int(np.count_nonzero(self.columns.published_at < NEVER))
        """Grows with every publication: a reader's cue that the set of published videos changed."""
        self._view_counts = Counter(v["post_id"] for v in tables.get("views", {}).values())

        self._reported: dict[int, dict[int, float]] = {}  # reporter -> {post: when}
        for r in tables.get("reports", {}).values():
            if r["kind"] == "post":
                self._reported.setdefault(r["reporter_id"], {})[r["target_id"]] = r["created_at"]

        # Engagement: current counts plus their history for as-of ranking.
        likes = tables.get("likes", {})
        self._likers = Likers(np.fromiter(map(int, likes), np.int64, len(likes)))
        like_times, like_posts = self._columns_of(likes.values(), ("created_at", np.float64), ("post_id", np.int32))
        times, posts, kinds = [], [], []
        self._comments: dict[int, list[int]] = {}
        for key, c in tables.get("comments", {}).items():
            if c["deleted_at"] is None:
                self._comments.setdefault(c["post_id"], []).append(int(key))
                times.append(c["created_at"])
                posts.append(c["post_id"])
                kinds.append(COMMENT)
        for parent, children in self._remixes.items():
            for child in children:
                published = self.columns.published_at[child]
                if published < NEVER and self.columns.deleted_at[child] == NEVER:
                    times.append(published)
                    posts.append(parent)
                    kinds.append(REMIX)
        post_arr = np.concatenate([like_posts, np.asarray(posts, dtype=np.int32)])
        kind_arr = np.concatenate([np.full(len(like_posts), LIKE, np.int8), np.asarray(kinds, dtype=np.int8)])
        np.add.at(self.columns.counts, (post_arr, kind_arr), 1)
        self._engagement_log = EventLog()
        self._engagement_log.load(np.concatenate([like_times, np.asarray(times, dtype=np.float64)]), post_arr, kind_arr)

        # Never hand out a time before an event already stored (see ``_now``).
        c = self.columns
        self._last_time = max([self._engagement_log.last_time, self._follow_log.last_time,
                               float(c.published_at[c.published_at < NEVER].max(initial=0.0)),
                               float(c.deleted_at[c.deleted_at < NEVER].max(initial=0.0)),
                               *(at for blocked in self._blocked_at.values() for at in blocked.values()), *self._suspended.values(),
                               *(at for reports in self._reported.values() for at in reports.values())])

    @staticmethod
    def _columns_of(docs: Collection[Doc], *fields: tuple[str, type]) -> list[np.ndarray]:
        return [np.fromiter((d[name] for d in docs), dtype, len(docs)) for name, dtype in fields]

    def _index_user(self, user_id: int, user: Doc) -> None:
        self._max_user_id = max(self._max_user_id, user_id)
        if user.get("erased_at") is not None:
            self._held_handles[user["handle_hash"]] = user["erased_at"] + rules.HANDLE_HOLD_SECONDS
            return
        self._handles[user["handle"]] = user_id
        if user.get("external_id"):
            self._external_ids[user["external_id"]] = user_id
        self._max_user_id = max(self._max_user_id, user_id)
        if user.get("suspended_at") is not None:
            self._suspended[user_id] = user["suspended_at"]

    def _index_block(self, block: Doc) -> None:
        a, b, at = block["blocker_id"], block["blocked_id"], block["created_at"]
        for x, y in ((a, b), (b, a)):
            earlier = self._blocked_at.setdefault(x, {}).get(y, NEVER)
            self._blocked_at[x][y] = min(earlier, at)

    def _index_post(self, post_id: int, post: Doc) -> None:
        self.columns.set_post(post_id, post["author_id"], post["visibility"], post["published_at"],
                              post["deleted_at"])
        self._posts_by_author.setdefault(post["author_id"], []).append(post_id)
        for cameo_id in post["cameo_ids"]:
            self._posts_by_cameo.setdefault(cameo_id, []).append(post_id)
        if post["parent_id"] is not None:
            self._remixes.setdefault(post["parent_id"], []).append(post_id)

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

    # -- reads shared by the methods below --------------------------------------------------

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

    def _visible_comment(self, viewer: int | None, comment_id: int) -> Doc:
        """A comment ``viewer`` can read: not deleted, on a post they may see, by nobody blocked either way.

        Anything else answers exactly as a comment that does not exist.
        """
        comment = self._get("comments", comment_id, "comment")
        missing = rules.missing("comment", comment_id)
        if comment["deleted_at"] is not None or self._blocked_between(viewer, comment["user_id"]):
            raise missing
        try:
            self._visible_post(viewer, comment["post_id"])
        except NotFound:
            raise missing from None
        return comment

    def _published_post(self, viewer: int, post_id: int) -> Doc:
        post = self._visible_post(viewer, post_id)
        if post["published_at"] is None:
            raise rules.draft_refusal()
        return post

    # -- users and invites --------------------------------------------------------------------

    @_serialised
    def create_user(self, handle: str, display_name: str | None = None, *, password_hash: str | None = None,
                    external_id: str | None = None, is_admin: bool = False,
                    invite_code: str | None = None) -> Doc:
        """Register a user. An ``invite_code``, when given, must be unused and is spent."""
        handle = rules.new_handle(handle)
        if handle in self._handles:
            raise rules.handle_taken(handle)
        held = self._held_handles.get(rules.handle_hash(handle), 0.0)
        if held > self._now(event=False):
            raise rules.handle_held(handle, held)
        if external_id is not None and external_id in self._external_ids:
            raise rules.refusal("already_registered")
        name = rules.display_name(display_name, handle)
        invite_id = invite = None
        if invite_code is not None:
            invite_id = self._invite_ids.get(invite_code.strip())
            invite = None if invite_id is None else self._get("invites", invite_id, "invite")
            if invite is None or invite["used_by"] is not None:
                raise rules.invalid_invite()
        now = self._now()
        user = {"handle": handle, "display_name": name, "password_hash": password_hash,
                "external_id": external_id, "is_admin": is_admin, "created_at": now,
                "invited_by": None if invite is None else invite["inviter_id"]}
        with self._storage.transaction():
            user_id = self._t.users.insert(user)
            if invite_id is not None:
                self._t.invites.update({"used_by": user_id, "used_at": now}, doc_ids=[invite_id])
        self._index_user(user_id, user)
        return rules.public_user(user, user_id)

    @_serialised
    def get_user(self, user_id: int) -> Doc:
        """A user's profile fields (never the password hash)."""
        return rules.public_user(self._require_user(user_id), user_id)

    @_serialised
    def is_suspended(self, user_id: int) -> bool:
        """Whether moderators suspended the account (it can no longer sign in or act)."""
        return user_id in self._suspended

    @_serialised
    def password_hash(self, handle: str) -> tuple[int, str | None] | None:
        """``(user id, password hash)`` for signing in, or ``None`` for an unknown handle."""
        user_id = self._user_id_of(handle)
        return None if user_id is None else (user_id, self._require_user(user_id)["password_hash"])

    @_serialised
    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace a user's password hash (a stronger hash of the same password, or a new password)."""
        self._require_user(user_id)
        self._t.users.update({"password_hash": password_hash}, doc_ids=[user_id])

    def _user_id_of(self, handle: object) -> int | None:
        """The id behind a handle as people type it (``@Alice``), or ``None``."""
        return self._handles.get(rules.typed_handle(handle))

    @_serialised
    def user_by_handle(self, handle: str) -> Doc:
        user_id = self._user_id_of(handle)
        if user_id is None:
            raise rules.unknown_handle(handle)
        return self.get_user(user_id)

    @_serialised
    def user_by_external_id(self, external_id: str) -> Doc | None:
        user_id = self._external_ids.get(external_id)
        return None if user_id is None else self.get_user(user_id)

    @_serialised
    def create_invite(self, inviter: int) -> str:
        """A new single-use invite code from ``inviter``."""
        self._require_user(inviter)
        code = secrets.token_urlsafe(6)
        invite_id = self._t.invites.insert({"code": code, "inviter_id": inviter, "created_at": self._now(),
                                          "used_by": None, "used_at": None})
        self._invite_ids[code] = invite_id
        return code

    @_serialised
    def invites_of(self, inviter: int) -> list[Doc]:
        return [rules.record("invites", doc, doc.doc_id) for doc in self._t.invites.search(lambda d: d["inviter_id"] == inviter)]

    # -- sessions ----------------------------------------------------------------------------------

    def _index_session(self, doc_id: int, session: Doc) -> None:
        self._sessions[session["sid"]] = _Session(session["user_id"], doc_id, session["expires_at"])
        self._sessions_of.setdefault(session["user_id"], set()).add(session["sid"])

    def _forget_sessions(self, sids: Iterable[str]) -> None:
        """Remove sessions (inside the caller's transaction when there is one) and their index entries."""
        ended = {sid: self._sessions[sid] for sid in sids if sid in self._sessions}
        if ended:
            self._t.sessions.remove(doc_ids=[session.doc_id for session in ended.values()])
        for sid, session in ended.items():
            del self._sessions[sid]
            self._sessions_of[session.user_id].discard(sid)

    @_serialised
    def start_session(self, user_id: int, expires_at: float) -> str:
        """A new signed-in session for ``user_id`` until ``expires_at``; returns its id (secret, for the token).

        The user's sessions that have run out are removed at the same time, so
        the table holds about one row per signed-in device.
        """
        self._require_user(user_id)
        now = self._now()
        sid = secrets.token_urlsafe(18)
        session = {"sid": sid, "user_id": user_id, "created_at": now, "expires_at": float(expires_at)}
        expired = [s for s in self._sessions_of.get(user_id, ()) if self._sessions[s].expires_at < now]
        with self._storage.transaction():
            self._forget_sessions(expired)
            doc_id = self._t.sessions.insert(session)
        self._index_session(doc_id, session)
        return sid

    @_serialised
    def session_user(self, sid: str) -> int | None:
        """Whose session ``sid`` is, or ``None`` once it was ended or ran out."""
        session = self._sessions.get(sid) if isinstance(sid, str) else None
        if session is None or session.expires_at < self._clock():
            return None
        return session.user_id

    @_serialised
    def end_session(self, sid: str) -> None:
        """Sign one session out: its token stops working everywhere at once."""
        if isinstance(sid, str):
            self._forget_sessions([sid])

    @_serialised
    def end_sessions(self, user_id: int) -> int:
        """Sign a user out everywhere; returns how many sessions ended."""
        sids = list(self._sessions_of.get(user_id, ()))
        self._forget_sessions(sids)
        return len(sids)

    # -- follows and blocks ---------------------------------------------------------------------

    @_serialised
    def follow(self, actor: int, followee: int) -> None:
        self._require_user(actor)
        self._require_user(followee)
        if actor == followee:
            raise rules.refusal("follow_self")
        if self._blocked_between(actor, followee):
            raise rules.refusal("follow_blocked")
        if self._has_pair("follows", actor, followee):
            raise rules.refusal("already_following")
        now = self._now()
        self._insert_pair("follows", actor, followee, {"follower_id": actor, "followee_id": followee, "created_at": now})
        self._following[actor].add(followee)
        self._followers[followee].add(actor)
        self._follow_log.append(now, actor, followee, +1)
        self._tell(followee, "follow", {"by": actor})

    @_serialised
    def unfollow(self, actor: int, followee: int) -> None:
        if not self._has_pair("follows", actor, followee):
            raise rules.refusal("not_following")
        self._remove_pair("follows", actor, followee)
        self._unindex_follow(actor, followee)

    def _unindex_follow(self, follower: int, followee: int) -> None:
        self._following[follower].discard(followee)
        self._followers[followee].discard(follower)
        self._follow_log.append(self._now(), follower, followee, -1)

    @_serialised
    def following(self, user_id: int) -> list[int]:
        return sorted(self._following.get(user_id, ()))

    @_serialised
    def followers(self, user_id: int) -> list[int]:
        return sorted(self._followers.get(user_id, ()))

    @_serialised
    def friends(self, user_id: int) -> list[int]:
        """Mutual follows."""
        return sorted(self._friends(user_id))

    @_serialised
    def block(self, actor: int, other: int) -> None:
        """Hide the two users from each other; follows between them end."""
        self._require_user(actor)
        self._require_user(other)
        if actor == other:
            raise rules.refusal("block_self")
        if self._has_pair("blocks", actor, other):
            raise rules.refusal("already_blocked")
        block = {"blocker_id": actor, "blocked_id": other, "created_at": self._now()}
        ended = [(a, b) for a, b in ((actor, other), (other, actor)) if self._has_pair("follows", a, b)]
        with self._storage.transaction():
            self._insert_pair("blocks", actor, other, block)
            for a, b in ended:
                self._remove_pair("follows", a, b)
        for a, b in ended:
            self._unindex_follow(a, b)
        self._index_block(block)

    @_serialised
    def unblock(self, actor: int, other: int) -> None:
        if not self._has_pair("blocks", actor, other):
            raise rules.refusal("not_blocked")
        self._remove_pair("blocks", actor, other)
        if not self._has_pair("blocks", other, actor):
            self._blocked_at[actor].pop(other, None)
            self._blocked_at[other].pop(actor, None)

    @_serialised
    def set_feed_taste(self, user_id: int, text: str, less_like: list[str]) -> None:
        """Keep what ``user_id`` said they want more or less of, and the prompts they asked to see less like."""
        self._require_user(user_id)
        text, less_like = rules.feed_taste(text, less_like)
        self._t.users.update({"feed_taste": text, "less_like": less_like}, doc_ids=[user_id])

    @_serialised
    def feed_taste(self, user_id: int) -> tuple[str, list[str]]:
        """What ``user_id`` said they want more or less of, and the prompts they asked to see less like."""
        user = self._require_user(user_id)
        return user.get("feed_taste", ""), list(user.get("less_like", []))

    @_serialised
    def visible_prompts(self) -> dict[int, str]:
        """The prompt of every published, undeleted post whose author did not hide it, by post id."""
        c = self.columns
        live = np.flatnonzero((c.published_at < NEVER) & (c.deleted_at == NEVER))
        posts = self._storage.read().get("posts", {})  # one read of the table, not one lookup per post
        return {int(p): doc["prompt"] for p in live.tolist()
                if (doc := posts.get(str(p))) is not None and not doc.get("hide_prompt")}

    @_serialised
    def erase_user(self, actor: int, user_id: int) -> list[str]:
        """Delete an account and everything of it, at once; returns the media names for the caller to erase.

        Allowed to the person and to admins (logged as a moderation action). In one transaction: their posts
        (and every post, anyone's, that stars their cameo) become empty tombstones without text or files, so
        remixes of them stay and show "source deleted"; their comments likewise; their likes, views, follows
        both ways, blocks both ways, reports made, notifications (theirs, and others' naming them), sessions
        (every device), feed wishes, refusals, unused invites and cameo (approvals of them in others' cameos
        too) are removed. The user record keeps only its id, when it was erased, and a hash of the handle that
        holds it for ``HANDLE_HOLD_SECONDS``. Reports about their content and the moderation log stay, without
        their text. Then the journal is compacted, so nothing erased stays on disk, and the indexes are built
        again from the tables.
        """
        self._require_user(user_id)
        rules.may_erase(actor, user_id, self._is_admin(actor), self._is_admin(user_id))
        tables = self._storage.read()
        now = self._now()
        cameo_ids = {int(k) for k, c in tables.get("cameos", {}).items() if c["owner_id"] == user_id}
        theirs = {int(k): p for k, p in tables.get("posts", {}).items()
                  if p["author_id"] == user_id or cameo_ids & set(p["cameo_ids"])}
        media = [name for p in theirs.values() for name in (p["video"], p["thumbnail"], p["preview"]) if name]
        their_comments = {int(k) for k, c in tables.get("comments", {}).items() if c["user_id"] == user_id}
        about_them = [int(k) for k, r in tables.get("reports", {}).items() if r["status"] == "open" and (
            (r["kind"] == "user" and r["target_id"] == user_id) or (r["kind"] == "post" and r["target_id"] in theirs)
            or (r["kind"] == "comment" and r["target_id"] in their_comments))]
        for c in cameo_ids:
            cameo = tables["cameos"][str(c)]
            media += [*cameo.get("crops", []), *([cameo["recording"]] if cameo.get("recording") else [])]

        def ids(table: str, keep) -> list[int]:
            return [int(k) for k, d in tables.get(table, {}).items() if keep(d)]

        with self._storage.transaction():
            for post_id, post in theirs.items():
                self._t.posts.update({**rules.ERASED_POST, "deleted_at": post["deleted_at"] or now,
                                      "deleted_by": actor},
                                     doc_ids=[post_id])
            self._t.comments.update({"text": "", "deleted_at": now}, doc_ids=list(their_comments))
            self._t.reports.update({"status": "account_deleted", "resolved_at": now}, doc_ids=about_them)
            for table, keep in (("likes", lambda d: d["user_id"] == user_id),
                                ("views", lambda d: d.get("user_id") == user_id),
                                ("follows", lambda d: user_id in (d["follower_id"], d["followee_id"])),
                                ("blocks", lambda d: user_id in (d["blocker_id"], d["blocked_id"])),
                                ("reports", lambda d: d["reporter_id"] == user_id),
                                ("notifications", lambda d: d["user_id"] == user_id
                                 or d["data"].get("by") == user_id),
                                ("sessions", lambda d: d["user_id"] == user_id),
                                ("refusals", lambda d: d["user_id"] == user_id),
                                ("invites", lambda d: d["inviter_id"] == user_id and d["used_by"] is None),
                                ("cameos", lambda d: d["owner_id"] == user_id)):
                doomed = ids(table, keep)
                if doomed:
                    getattr(self._t, table).remove(doc_ids=doomed)
            for cameo_id in ids("cameos", lambda d: user_id in d.get("approved_ids", [])):
                approved = [u for u in tables["cameos"][str(cameo_id)]["approved_ids"] if u != user_id]
                self._t.cameos.update({"approved_ids": approved}, doc_ids=[cameo_id])
            self._t.invites.update({"inviter_id": None}, doc_ids=ids("invites", lambda d: d["inviter_id"] == user_id))
            self._t.invites.update({"used_by": None}, doc_ids=ids("invites", lambda d: d["used_by"] == user_id))
            self._t.users.update({"invited_by": None}, doc_ids=ids("users", lambda d: d.get("invited_by") == user_id))
            handle = tables["users"][str(user_id)]["handle"]
            self._t.users.remove(doc_ids=[user_id])
            self._t.users.insert(Document({"erased_at": now, "handle_hash": rules.handle_hash(handle)},
                                          doc_id=user_id))
            if actor != user_id:
                self._t.moderation_log.insert({"admin_id": actor, "action": "delete_account", "report_ids": [],
                                               "kind": "user", "target_id": user_id, "at": now})
        self._storage.compact()  # nothing erased may linger in an old journal line
        self._build_indexes()
        return media

    @_serialised
    def personal_data(self, user_id: int) -> Doc:
        """Everything the store holds about ``user_id``, for them to download (see :mod:`personal_data`)."""
        self._require_user(user_id)
        users = self._storage.read().get("users", {})

        def handle_of(other: int | None) -> str | None:
            doc = users.get(str(other)) if other is not None else None
            return None if doc is None else doc["handle"]

        return personal_data.collect(self._storage.read(), user_id, handle_of)

    @_serialised
    def has_blocked(self, actor: int, other: int) -> bool:
        """Whether ``actor`` blocked ``other`` (not the other way round)."""
        return self._has_pair("blocks", actor, other)

    @_serialised
    def is_blocked(self, a: int, b: int) -> bool:
        """Whether either user has blocked the other."""
        return self._blocked_between(a, b)

    # -- cameos: who may use a likeness (the cameo package makes and checks the likeness itself) -----

    @_serialised
    def create_cameo(self, owner: int, fields: Doc) -> Doc:
        """Record a verified cameo; one per user, usable by its owner alone until they say otherwise."""
        self._require_user(owner)
        if self._cameo_id_of(owner) is not None:
            raise rules.refusal("second_cameo")
        cameo = rules.new_cameo(owner, fields, self._now())
        cameo_id = self._t.cameos.insert(cameo)
        self._index_cameo(cameo_id, owner)
        return rules.record("cameos", cameo, cameo_id)

    def _index_cameo(self, cameo_id: int, owner: int) -> None:
        self._cameo_owner[cameo_id] = owner
        self._cameo_by_owner[owner] = cameo_id

    def _cameo_id_of(self, user_id: int) -> int | None:
        return self._cameo_by_owner.get(user_id)

    @_serialised
    def get_cameo(self, cameo_id: int) -> Doc:
        return rules.record("cameos", self._get("cameos", cameo_id, "cameo"), cameo_id)

    @_serialised
    def cameo_of(self, user_id: int) -> Doc | None:
        """A user's cameo, or ``None``."""
        cameo_id = self._cameo_id_of(user_id)
        return None if cameo_id is None else self.get_cameo(cameo_id)

    @_serialised
    def all_cameos(self) -> list[Doc]:
        """Every cameo (to refuse a new one whose face is already someone's)."""
        return [rules.record("cameos", self._get("cameos", c, "cameo"), c) for c in sorted(self._cameo_owner)]

    def _own_cameo(self, actor: int, cameo_id: int) -> Doc:
        return rules.own_cameo(actor, self._get("cameos", cameo_id, "cameo"))

    @_serialised
    def set_cameo_permission(self, actor: int, cameo_id: int, permission: str,
                             approved_ids: Iterable[int] | None = None, restrictions: str | None = None) -> Doc:
        """Who may use the cameo from now on: a narrower setting refuses the next use at once."""
        cameo = self._own_cameo(actor, cameo_id)
        rules.check_cameo_permission(permission)
        changes: Doc = {"permission": permission}
        if approved_ids is not None:
            approved = sorted(set(approved_ids) - {actor})
            for user_id in approved:
                self._require_user(user_id)
            changes["approved_ids"] = approved
        if restrictions is not None:
            changes["restrictions"] = checked_text(restrictions, "Restrictions", optional=True)
        self._t.cameos.update(changes, doc_ids=[cameo_id])
        return rules.record("cameos", {**cameo, **changes}, cameo_id)

    @_serialised
    def cameo_use_refusal(self, user_id: int, cameo_id: int) -> str | None:
        """The one answer to "may this user put this cameo in a video now?": ``None`` if so, else why not."""
        cameo = self._storage.read().get("cameos", {}).get(str(cameo_id)) if isinstance(cameo_id, int) else None
        owner = None if cameo is None else cameo["owner_id"]
        return rules.cameo_use_refusal(
            user_id, cameo, "" if owner is None else self._handle(owner)[1:],
            blocked_either_way=owner is not None and self._blocked_between(user_id, owner),
            friends_with_owner=owner is not None and user_id in self._friends(owner))

    @_serialised
    def usable_cameos(self, user_id: int) -> list[Doc]:
        """Cameos ``user_id`` may use now (their own first), for the cameo picker."""
        usable = [c for c in sorted(self._cameo_owner, key=lambda c: (self._cameo_owner[c] != user_id, c))
                  if self.cameo_use_refusal(user_id, c) is None]
        return [{"id": c, "owner_id": self._cameo_owner[c], "handle": self._handle(self._cameo_owner[c])[1:]}
                for c in usable]

    @_serialised
    def posts_with_cameo(self, actor: int, cameo_id: int) -> list[Doc]:
        """Every video that uses the actor's cameo, anyone's drafts included, newest first."""
        self._own_cameo(actor, cameo_id)
        ids = sorted(self._posts_by_cameo.get(cameo_id, []), reverse=True)
        return [self._present(p, self._get("posts", p, "video"), actor) for p in ids
                if self.columns.deleted_at[p] == NEVER]

    @_serialised
    def delete_cameo(self, actor: int, cameo_id: int) -> Doc:
        """Delete the cameo record; returns it so the caller erases its files.

        The journal is compacted at once: the face embedding must not linger
        on disk in an old journal line.
        """
        cameo = self._own_cameo(actor, cameo_id)
        self._t.cameos.remove(doc_ids=[cameo_id])
        del self._cameo_owner[cameo_id], self._cameo_by_owner[actor]
        self._storage.compact()
        return rules.record("cameos", cameo, cameo_id)

    # -- notifications ------------------------------------------------------------------------------

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
        for handle in dict.fromkeys(m.lower() for m in MENTION_RE.findall(text)):
            mentioned = self._handles.get(handle)
            if mentioned is not None and mentioned not in told:
                self._tell(mentioned, "mention", {**data, "by": by})

    @_serialised
    def notifications(self, user_id: int, limit: int = 200) -> list[Doc]:
        """A user's latest notifications, newest first."""
        self._require_user(user_id)
        return [rules.record("notifications", self._get("notifications", n, "notification"), n)
                for n in sorted(self._notification_ids.get(user_id, []), reverse=True)[:limit]]

    @_serialised
    def unread_notifications(self, user_id: int) -> int:
        """How many notifications ``user_id`` has not seen yet."""
        return sum(not self._get("notifications", n, "notification")["read"]
                   for n in self._notification_ids.get(user_id, []))

    @_serialised
    def mark_notifications_read(self, user_id: int) -> None:
        """The user opened their activity: everything in it is read."""
        unread = [n for n in self._notification_ids.get(user_id, [])
                  if not self._get("notifications", n, "notification")["read"]]
        if unread:
            self._t.notifications.update({"read": True}, doc_ids=unread)

    # -- posts -------------------------------------------------------------------------------------

    @_serialised
    def reserve_post_id(self) -> int:
        """The id of a post not saved yet, so its video can carry the id (watermark, credentials) from the start.

        Durable: an id is never handed out twice, even across restarts; one
        whose generation fails is simply never used.
        """
        post_id = self._next_post_id()
        meta = self._db.table(META_TABLE)
        if meta.contains(doc_id=RESERVED_IDS):
            meta.update({"post_id": post_id}, doc_ids=[RESERVED_IDS])
        else:
            meta.insert(Document({"post_id": post_id}, doc_id=RESERVED_IDS))
        self._last_reserved_post_id = post_id
        return post_id

    def _next_post_id(self) -> int:
        return max(self.columns.size, self._last_reserved_post_id + 1, 1)

    @_serialised
    def create_post(self, author: int, prompt: str, *, video: str | None = None, thumbnail: str | None = None,
                    preview: str | None = None, cameo_ids: Iterable[int] = (), parent_id: int | None = None,
                    visibility: str = "draft", hide_prompt: bool = False, model: Doc | None = None,
                    post_id: int | None = None) -> Doc:
        """Save a generated video; it starts as a draft unless ``visibility`` says otherwise.

        ``post_id`` is one :meth:`reserve_post_id` handed out for this video.
        """
        self._require_user(author)
        if post_id is None:
            post_id = self._next_post_id()
        elif not (isinstance(post_id, int) and 0 < post_id <= self._last_reserved_post_id
                  and str(post_id) not in self._storage.read().get("posts", {})):
            raise rules.unreserved_post_id(post_id)
        prompt = checked_text(prompt, "A prompt")
        rules.check_visibility(visibility)
        cameo_ids = list(dict.fromkeys(cameo_ids))
        for cameo_id in cameo_ids:
            self._get("cameos", cameo_id, "cameo")
            refusal = self.cameo_use_refusal(author, cameo_id)
            if refusal is not None:
                raise PermissionDenied(refusal)
        if parent_id is not None:
            self._visible_post(author, parent_id)
        now = self._now()
        post = {"author_id": author, "prompt": prompt, "hide_prompt": bool(hide_prompt), "video": video,
                "thumbnail": thumbnail, "preview": preview, "cameo_ids": cameo_ids, "parent_id": parent_id,
                "visibility": visibility, "model": model or {}, "created_at": now,
                "published_at": None if visibility == "draft" else now, "deleted_at": None}
        with self._storage.transaction():
            self._t.posts.insert(Document(post, doc_id=post_id))
            notified = [self._notify(owner, "cameo_used", {"post_id": post_id, "cameo_id": c, "by": author})
                        for c in cameo_ids if (owner := self._cameo_owner[c]) != author]  # owners hear of every use
        for owner, notification_id in notified:
            self._notification_ids.setdefault(owner, []).append(notification_id)
        self._index_post(post_id, post)
        if visibility != "draft":
            self._announce(post_id, post, now)
        return rules.record("posts", post, post_id)

    @_serialised
    def publish(self, actor: int, post_id: int, visibility: str = "public", hide_prompt: bool | None = None) -> Doc:
        """Share a draft (or change who sees a published post)."""
        post = self._visible_post(actor, post_id)
        if post["author_id"] != actor:
            raise rules.refusal("publish_not_author")
        rules.check_publish_visibility(visibility)
        now = self._now()
        changes: Doc = {"visibility": visibility}
        if hide_prompt is not None:
            changes["hide_prompt"] = bool(hide_prompt)
        first_time = post["published_at"] is None
        if first_time:
            changes["published_at"] = now
        self._t.posts.update(changes, doc_ids=[post_id])
        post = self._get("posts", post_id, "video")
        self.columns.set_post(post_id, actor, visibility, post["published_at"], None)
        if first_time:
            self._announce(post_id, post, now)
        return rules.record("posts", post, post_id)

    def _announce(self, post_id: int, post: Doc, now: float) -> None:
        """A post was just published: its source counts a remix, and its source's author and the people its
        prompt mentions hear of it."""
        self.publications += 1
        about = {"post_id": post_id, "by": post["author_id"]}
        told = {self._cameo_owner[c] for c in post["cameo_ids"] if c in self._cameo_owner}  # heard of it already
        if post["parent_id"] is not None:
            self._engage(post["parent_id"], REMIX, +1, now)
            source_author = self._get("posts", post["parent_id"], "video")["author_id"]
            self._tell(source_author, "remix", about)
            told.add(source_author)
        self._tell_mentioned(post["prompt"], post["author_id"], about, told)

    @_serialised
    def delete_post(self, actor: int, post_id: int) -> Doc:
        """Delete a post: allowed to its author, an admin, and the owner of a cameo in it.

        Returns the deleted post, whose media paths the caller removes from disk.
        """
        post = self._visible_post(actor, post_id)
        if not self._may_delete(actor, post):
            raise rules.refusal("delete_not_allowed")
        now = self._now()
        self._t.posts.update({"deleted_at": now, "deleted_by": actor}, doc_ids=[post_id])
        self.columns.deleted_at[post_id] = now
        if post["parent_id"] is not None and post["published_at"] is not None:
            self._engage(post["parent_id"], REMIX, -1, now)
        return rules.record("posts", self._get("posts", post_id, "video"), post_id)

    def _may_delete(self, user_id: int | None, post: Doc) -> bool:
        """:func:`rules.may_delete`."""
        return user_id is not None and rules.may_delete(self._standing(user_id, post))

    @_serialised
    def get_post(self, viewer: int | None, post_id: int) -> Doc:
        """The post if ``viewer`` may see it, with its counts; NotFound otherwise."""
        post = self._visible_post(viewer, post_id)
        return self._present(post_id, post, viewer)

    def _present(self, post_id: int, post: Doc, viewer: int | None) -> Doc:
        likes, comments, remixes = (int(n) for n in self.columns.counts[post_id])
        return rules.presented_post(
            post_id, post, viewer, author=self._get("users", post["author_id"], "user"),
            counts=(likes, comments, remixes, self._view_counts[post_id]),
            liked=viewer is not None and self._has_pair("likes", post_id, viewer),
            can_delete=self._may_delete(viewer, post))

    @_serialised
    def creation_times(self, author: int, since: float) -> list[float]:
        """When ``author`` made each video since ``since`` (deleted ones included: they cost a generation too)."""
        times = (self._get("posts", p, "video")["created_at"] for p in self._posts_by_author.get(author, []))
        return sorted(t for t in times if t >= since)

    @_serialised
    def drafts(self, viewer: int) -> list[Doc]:
        """The viewer's own unpublished videos, newest first."""
        ids = [p for p in self._posts_by_author.get(viewer, []) if self.columns.published_at[p] == NEVER
               and self.columns.deleted_at[p] == NEVER]
        return [self._present(p, self._get("posts", p, "video"), viewer) for p in sorted(ids, reverse=True)]

    # -- engagement --------------------------------------------------------------------------------

    @_serialised
    def like(self, actor: int, post_id: int) -> int:
        """Like a post; returns its new like count."""
        self._published_post(actor, post_id)
        if self._has_pair("likes", post_id, actor):
            raise rules.refusal("already_liked")
        now = self._now()
        self._insert_pair("likes", post_id, actor, {"user_id": actor, "post_id": post_id, "created_at": now})
        self._likers.add(post_id, actor)
        self._engage(post_id, LIKE, +1, now)
        self._tell(self._get("posts", post_id, "video")["author_id"], "like", {"post_id": post_id, "by": actor})
        return int(self.columns.counts[post_id, LIKE])

    @_serialised
    def unlike(self, actor: int, post_id: int) -> int:
        """Take a like back; returns the new like count."""
        self._visible_post(actor, post_id)
        if not self._has_pair("likes", post_id, actor):
            raise rules.refusal("not_liked")
        self._remove_pair("likes", post_id, actor)
        self._likers.remove(post_id, actor)
        self._engage(post_id, LIKE, -1, self._now())
        return int(self.columns.counts[post_id, LIKE])

    @_serialised
    def likers(self, viewer: int | None, post_id: int) -> list[int]:
        self._visible_post(viewer, post_id)
        return self._likers.of(post_id)

    @_serialised
    def comment(self, actor: int, post_id: int, text: str) -> Doc:
        """Comment on a published post (1 to 500 characters)."""
        text = checked_text(text, "A comment", multiline=True)
        self._published_post(actor, post_id)
        now = self._now()
        comment = {"user_id": actor, "post_id": post_id, "text": text, "created_at": now, "deleted_at": None}
        comment_id = self._t.comments.insert(comment)
        self._comments.setdefault(post_id, []).append(comment_id)
        self._engage(post_id, COMMENT, +1, now)
        about = {"post_id": post_id, "comment_id": comment_id, "by": actor}
        author = self._get("posts", post_id, "video")["author_id"]
        self._tell(author, "comment", about)
        self._tell_mentioned(text, actor, about, told={author})
        return rules.record("comments", comment, comment_id)

    @_serialised
    def delete_comment(self, actor: int, comment_id: int) -> None:
        """Allowed to the comment's author, the post's author and admins."""
        comment = self._get("comments", comment_id, "comment")
        if comment["deleted_at"] is not None:
            raise rules.missing("comment", comment_id)
        post = self._get("posts", comment["post_id"], "video")
        rules.may_delete_comment(actor, comment, post, self._is_admin(actor))
        now = self._now()
        self._t.comments.update({"deleted_at": now}, doc_ids=[comment_id])
        self._comments[comment["post_id"]].remove(comment_id)
        self._engage(comment["post_id"], COMMENT, -1, now)

    @_serialised
    def comments(self, viewer: int | None, post_id: int) -> list[Doc]:
        """A post's comments, oldest first, without those of users blocked either way."""
        self._visible_post(viewer, post_id)
        out = []
        for comment_id in self._comments.get(post_id, []):
            c = self._get("comments", comment_id, "comment")
            if not self._blocked_between(viewer, c["user_id"]):
                out.append({**rules.record("comments", c, comment_id), "handle": self._get("users", c["user_id"], "user")["handle"]})
        return out

    @_serialised
    def record_view(self, viewer: int, post_id: int) -> int:
        """Count a view once per user; returns the view count."""
        self._visible_post(viewer, post_id)
        if not self._has_pair("views", post_id, viewer):
            self._insert_pair("views", post_id, viewer, {"user_id": viewer, "post_id": post_id, "created_at": self._now()})
            self._view_counts[post_id] += 1
        return self._view_counts[post_id]

    @_serialised
    def report(self, actor: int, kind: str, target_id: int, reason: str) -> Doc:
        """Report a post, comment or user to the moderators; a reported post leaves the reporter's feeds."""
        rules.check_report_kind(kind)
        reason = checked_text(reason, "A reason")
        self._require_user(actor)
        if kind == "post":
            self._visible_post(actor, target_id)
        elif kind == "comment":
            self._visible_comment(actor, target_id)
        else:
            self._require_user(target_id)
        now = self._now()
        report = {"reporter_id": actor, "kind": kind, "target_id": target_id, "reason": reason,
                  "created_at": now, "status": "open"}
        report_id = self._t.reports.insert(report)
        if kind == "post":
            self._reported.setdefault(actor, {}).setdefault(target_id, now)
        return rules.record("reports", report, report_id)

    def _require_admin(self, actor: int) -> None:
        rules.require_admin(self._is_admin(actor))

    @_serialised
    def open_reports(self, admin: int) -> list[Doc]:
        """The moderation queue: open reports, oldest first, each with who reported it and what it is about."""
        self._require_admin(admin)
        reports = sorted(self._t.reports.search(lambda r: r["status"] == "open"), key=lambda r: r["created_at"])
        return [{**rules.record("reports", r, r.doc_id), "reporter": self._handle(r["reporter_id"]), **self._target(r)}
                for r in reports]

    def _target(self, report: Doc) -> Doc:
        """What a report is about, for the moderator: whose it is and what it says."""
        kind, target_id = report["kind"], report["target_id"]
        if kind == "user":
            return {"target_author": self._handle(target_id), "target_text": None}
        doc = self._get(kind + "s", target_id, kind)
        author = doc["author_id"] if kind == "post" else doc["user_id"]
        return {"target_author": self._handle(author), "target_text": doc["prompt"] if kind == "post" else doc["text"]}

    @_serialised
    def resolve_report(self, admin: int, report_id: int, action: str) -> tuple[Doc, Doc | None]:
        """Take down the reported post or comment, suspend the reported user, or dismiss the report.

        Logged with who and when. Every open report on the same target is
        closed with it. Returns the report and, for a post taken down, the
        post (whose files the caller erases).
        """
        self._require_admin(admin)
        report = self._get("reports", report_id, "report")
        if report["status"] != "open":
            raise rules.refusal("report_handled")
        rules.check_moderation_action(action)
        removed = None
        if action == "take_down":
            target = report["target_id"]
            if report["kind"] == "post":
                removed = self.delete_post(admin, target)
                author = removed["author_id"]
            elif report["kind"] == "comment":
                self.delete_comment(admin, target)
                author = self._get("comments", target, "comment")["user_id"]
            else:
                self._suspend(target)
                author = target
            self._tell(author, "moderation", {"kind": report["kind"], "target_id": target, "action": action,
                                              "reason": report["reason"]})
        now = self._now()
        same = [r.doc_id for r in self._t.reports.search(
            lambda r: r["status"] == "open" and r["kind"] == report["kind"] and r["target_id"] == report["target_id"])]
        with self._storage.transaction():
            self._t.reports.update({"status": action, "resolved_by": admin, "resolved_at": now}, doc_ids=same)
            self._t.moderation_log.insert({"admin_id": admin, "action": action, "report_ids": same,
                                           "kind": report["kind"], "target_id": report["target_id"], "at": now})
        return rules.record("reports", self._get("reports", report_id, "report"), report_id), removed

    def _suspend(self, user_id: int) -> None:
        """Suspend an account: it can no longer sign in or act, and its videos leave every feed."""
        user = self._require_user(user_id)
        if user.get("is_admin"):
            raise rules.refusal("suspend_moderator")
        if user_id not in self._suspended:
            now = self._now()
            self._t.users.update({"suspended_at": now}, doc_ids=[user_id])
            self._suspended[user_id] = now

    @_serialised
    def record_refusal(self, actor: int, what: str, category: str, text: str) -> None:
        """Keep a prompt or comment that moderation refused, so moderators can see who keeps trying."""
        self._require_user(actor)
        self._t.refusals.insert({"user_id": actor, "what": what, "category": category, "text": text[:MAX_TEXT],
                                 "at": self._now()})

    @_serialised
    def refusals(self, admin: int, limit: int = 50) -> list[Doc]:
        """The latest refused prompts and comments, newest first, with their authors' handles."""
        self._require_admin(admin)
        table = self._storage.read().get("refusals", {})
        newest = sorted(table, key=int, reverse=True)[:limit]
        return [{"id": int(k), **table[k], "handle": self._get("users", table[k]["user_id"], "user")["handle"]}
                for k in newest]

    @_serialised
    def moderation_log(self, admin: int) -> list[Doc]:
        """Every moderation action, newest first: who did what to which report, and when."""
        self._require_admin(admin)
        return sorted((rules.record("moderation_log", e, e.doc_id) for e in self._t.moderation_log.all()), key=lambda e: -e["at"])

    # -- feeds -------------------------------------------------------------------------------------

    def _moment(self, viewer: int | None, as_of: float) -> _Moment:
        """What ``viewer`` could see in a feed at ``as_of``: relationships, tiers and the post mask.

        The mask is the vector form of ``_can_view`` for published posts, with
        everything that has a time (publishing, deletion, blocks, reports,
        follows) taken as of ``as_of``.
        """
        relations = _Relations(self._following, self._followers, self._follow_log, as_of)
        tiers = np.full(self._max_user_id + 1, EVERYONE, dtype=np.int8)
        if viewer is not None:
            friends = relations.friends(viewer)
            tiers[list({g for f in friends for g in relations.friends(f)})] = FRIEND_OF_FRIEND
            tiers[list(relations.following(viewer))] = FOLLOWING
            tiers[list(friends | {viewer})] = OWN_OR_FRIEND
        c = self.columns
        author_tier = tiers[np.maximum(c.author, 0)]
        visible = (c.visibility == VISIBILITY_CODES["public"]) | (
            (c.visibility == VISIBILITY_CODES["friends"]) & (author_tier == OWN_OR_FRIEND))
        mask = visible & (c.published_at <= as_of) & (c.deleted_at > as_of)
        if viewer is not None:
            hidden = [other for other, at in self._blocked_at.get(viewer, {}).items() if at <= as_of]
            if hidden:
                mask &= ~np.isin(c.author, hidden)
            mask[[p for p, at in self._reported.get(viewer, {}).items() if at <= as_of]] = False
        suspended = [user for user, at in self._suspended.items() if at <= as_of]
        if suspended:
            mask &= ~np.isin(c.author, suspended)
        return _Moment(viewer, as_of, relations, tiers, mask)

    def _page(self, viewer: int | None, cursor: str | None, limit: int,
              order: Callable[[_Moment, int], list[int]], taste: Taste | None = None) -> FeedPage:
        """Serve one page of an ordering, frozen at the cursor's moment."""
        rules.check_page_size(limit)
        if viewer is not None:
            self._require_user(viewer)
        position = Cursor.decode(cursor) if cursor else Cursor(self._now(event=False), 0)
        moment = self._moment(viewer, position.as_of)
        ordered = order(moment, position.offset + limit + 1)
        slots = ordered[position.offset: position.offset + limit]
        items = []
        for post_id in slots:  # drop what changed since the first page, without moving later slots
            post = self._get("posts", post_id, "video")
            if self._can_view(viewer, post) and post_id not in self._reported.get(viewer, {}):
                reasons = self._reasons(moment, post_id, post)
                steered = taste.explain(post_id) if taste is not None else None
                items.append(FeedItem(self._present(post_id, post, viewer), reasons + ([steered] if steered else [])))
        end = position.offset + len(slots)
        next_cursor = Cursor(position.as_of, end).encode() if len(ordered) > end else None
        return FeedPage(items, next_cursor)

    def _ranked(self, moment: _Moment, wanted: int, taste: Taste | None = None) -> list[int]:
        """For-you order: best score first (steered by the viewer's taste), at most N in a row per author."""
        ids = np.flatnonzero(moment.mask)
        counts = self._engagement_log.counts_as_of(self.columns.counts, moment.as_of)[ids]
        authors = self.columns.author
        post_scores = scores(self.ranking, moment.tiers[authors[ids]], counts, self.columns.published_at[ids],
                             moment.as_of)
        if taste is not None:
            post_scores = post_scores * taste.of(ids)
        k = 2 * wanted + 32
        while True:
            ranked = best_first(ids, post_scores, min(k, len(ids)))
            ordered, exhausted = diversify(ranked, authors, self.ranking.max_consecutive_per_author, wanted)
            if not exhausted or k >= len(ids):
                return ordered
            k *= 4

    def _newest(self, mask: np.ndarray, wanted: int) -> list[int]:
        ids = np.flatnonzero(mask)
        return best_first(ids, self.columns.published_at[ids], min(wanted, len(ids))).tolist()

    @_serialised
    def for_you(self, viewer: int | None, cursor: str | None = None, limit: int = 20,
                taste: Taste | None = None) -> FeedPage:
        """The home feed: friends first, then by engagement and freshness (see :mod:`ranking`), steered by
        ``taste`` (the viewer's own words about what they want more or less of)."""
        return self._page(viewer, cursor, limit, lambda moment, wanted: self._ranked(moment, wanted, taste), taste)

    @_serialised
    def following_feed(self, viewer: int, cursor: str | None = None, limit: int = 20) -> FeedPage:
        """Posts by people ``viewer`` follows, newest first."""
        return self._page(viewer, cursor, limit, lambda moment, wanted: self._newest(
            moment.mask & np.isin(self.columns.author, list(moment.relations.following(viewer))), wanted))

    @_serialised
    def latest(self, viewer: int | None, cursor: str | None = None, limit: int = 20) -> FeedPage:
        """Every post ``viewer`` may see, newest first."""
        return self._page(viewer, cursor, limit, lambda moment, wanted: self._newest(moment.mask, wanted))

    @_serialised
    def profile_feed(self, viewer: int | None, author: int, cursor: str | None = None, limit: int = 20) -> FeedPage:
        """``author``'s published posts that ``viewer`` may see, newest first."""
        self._require_user(author)
        if self._blocked_between(viewer, author):
            raise rules.refusal("profile_unavailable")
        return self._page(viewer, cursor, limit, lambda moment, wanted: self._newest(
            moment.mask & (self.columns.author == author), wanted))

    def _handle(self, user_id: int) -> str:
        return "@" + self._get("users", user_id, "user")["handle"]

    def _reasons(self, moment: _Moment, post_id: int, post: Doc) -> list[str]:
        """Why this post is in the feed, in the words of a "why am I seeing this" line."""
        viewer, author = moment.viewer, post["author_id"]
        tier = int(moment.tiers[author])
        via = None
        if tier == FRIEND_OF_FRIEND:
            via = min(moment.relations.friends(author) & moment.relations.friends(viewer))
        followed_likers = [] if viewer is None else sorted(
            u for u in moment.relations.following(viewer) if self._has_pair("likes", post_id, u))
        parent_author = None
        if post["parent_id"] is not None:
            parent = self._get("posts", post["parent_id"], "video")
            if self._can_view(viewer, parent):
                parent_author = parent["author_id"]
        return rules.reasons(viewer=viewer, author=author, tier=tier, handle=self._handle, via_friend=via,
                             followed_likers=followed_likers, visible_parent_author=parent_author,
                             likes=int(self.columns.counts[post_id, LIKE]), popular_likes=self.ranking.popular_likes)

    # -- remix lineage -------------------------------------------------------------------------------

    @_serialised
    def remixes(self, viewer: int | None, post_id: int) -> list[Doc]:
        """Published remixes of a post that ``viewer`` may see, oldest first."""
        self._visible_post(viewer, post_id)
        out = []
        for child in self._remixes.get(post_id, []):
            post = self._get("posts", child, "video")
            if post["published_at"] is not None and self._can_view(viewer, post):
                out.append(self._present(child, post, viewer))
        return out

    @_serialised
    def lineage(self, viewer: int | None, post_id: int) -> list[Doc]:
        """The chain from the original down to ``post_id``.

        An ancestor the viewer may not see (deleted, private) stands as
        ``{"id": ..., "unavailable": True}`` so the chain keeps its shape.
        """
        chain = [self._present(post_id, self._visible_post(viewer, post_id), viewer)]
        parent_id = chain[0]["parent_id"]
        while parent_id is not None:
            parent = self._get("posts", parent_id, "video")
            chain.append(self._present(parent_id, parent, viewer) if self._can_view(viewer, parent)
                         else {"id": parent_id, "unavailable": True})
            parent_id = parent["parent_id"]
        return chain[::-1]

    # -- overview ----------------------------------------------------------------------------------

    @_serialised
    def stats(self) -> dict[str, int]:
        """How many users, published videos, likes and comments the community has."""
        c = self.columns
        return {"users": len(self._handles),
                "videos": int(np.count_nonzero((c.published_at < NEVER) & (c.deleted_at == NEVER))),
                "likes": int(c.counts[:, LIKE].sum()), "comments": int(c.counts[:, COMMENT].sum())}
