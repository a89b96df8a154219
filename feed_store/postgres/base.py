"""What every concern of the PostgreSQL store shares: the database, the clock, and one viewer's standing.

Nothing is cached across operations: each read asks the database, so two app
processes on one database always agree (a like in one is counted in the
other's next answer; a block in one hides posts in the other at once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from psycopg.types.json import Jsonb

from .. import rules
from ..ranking import RankingConfig
from .database import Database
from .likes import LikeGroups

Doc = dict[str, Any]

USER_COLUMNS = "id, handle, display_name, password_hash, external_id, is_admin, created_at, invited_by, suspended_at"
POST_COLUMNS = ("id, author_id, prompt, hide_prompt, video, thumbnail, preview, cameo_ids, parent_id, visibility, "
                "model, created_at, published_at, deleted_at, deleted_by, erased")
COUNT_COLUMNS = "like_count, comment_count, remix_count, view_count"


def as_doc(row: Doc, table: str) -> Doc:
    """A row as the record every backend returns (see :func:`feed_store.rules.record`)."""
    row = dict(row)
    row_id = row.pop("id")
    if table == "users" and row.get("suspended_at") is None:
        row.pop("suspended_at", None)  # rules.record fills it, as for a TinyDB user never suspended
    if table == "cameos":
        row.update(row.pop("likeness"))
    return rules.record(table, row, row_id)


@dataclass
class Viewer:
    """One viewer's relationships, read once per operation: enough to decide what they may see."""

    id: int | None
    is_admin: bool = False
    following: set[int] = field(default_factory=set)
    followers: set[int] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)
    """Users blocked either way."""
    cameo_id: int | None = None

    @property
    def friends(self) -> set[int]:
        return self.following & self.followers

    def standing(self, post: Doc, author_suspended: bool) -> rules.Standing:
        author = post["author_id"]
        return rules.Standing(
            viewer_is_admin=self.is_admin, author_suspended=author_suspended, viewer_is_author=self.id == author,
            viewer_owns_a_cameo_in_it=self.cameo_id is not None and self.cameo_id in post["cameo_ids"],
            blocked_either_way=author in self.blocked, viewer_is_authors_friend=author in self.friends)


class StoreBase:
    """The database, the injected clock and the reads every concern needs."""

    def __init__(self, url: str, *, ranking: RankingConfig | None = None,
                 clock: Callable[[], float] = time.time, max_connections: int = 16) -> None:
        self.url = url
        self.ranking = ranking or RankingConfig()
        self._clock = clock
        self.db = Database(url, max_connections=max_connections)
        self._like_groups = LikeGroups(self.db)
        self._last_time = 0.0

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- SQL --------------------------------------------------------------------------------------

    def _all(self, sql: str, params: Any = None) -> list[Doc]:
        cursor = self.db.cursor
        cursor.execute(sql, params)
        return cursor.fetchall()

    def _one(self, sql: str, params: Any = None) -> Doc | None:
        cursor = self.db.cursor
        cursor.execute(sql, params)
        return cursor.fetchone()

    def _run(self, sql: str, params: Any = None) -> int:
        cursor = self.db.cursor
        cursor.execute(sql, params)
        return cursor.rowcount

    @staticmethod
    def _json(value: Any) -> Jsonb:
        return Jsonb(value)

    def _now(self, *, event: bool = True) -> float:
        """The time of an event (strictly later than the last one this process gave out), or of a read.

        Nothing depends on times being unique across processes: feeds are frozen lists, and every order by time
        breaks ties by id.
        """
        step = 1e-6 if event else 0.0
        self._last_time = max(self._clock(), self._last_time + step)
        return self._last_time

    # -- users --------------------------------------------------------------------------------------

    def _user_row(self, user_id: object) -> Doc | None:
        if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id < 2 ** 63:
            return None
        return self._one(f"SELECT {USER_COLUMNS}, erased_at FROM users WHERE id = %s", (user_id,))

    def _require_user(self, user_id: object) -> Doc:
        user = self._user_row(user_id)
        if user is None or user["erased_at"] is not None:
            raise rules.missing("user", user_id)
        return user

    def _is_admin(self, user_id: int | None) -> bool:
        """Whether ``user_id`` is an admin (``None``, a visitor, is not); an id that names nobody is NotFound."""
        if user_id is None:
            return False
        user = self._user_row(user_id)
        if user is None:
            raise rules.missing("user", user_id)
        return bool(user["is_admin"])

    def _hold_user(self, user_id: object) -> None:
        """Keep the account from being erased until this transaction ends (erasure locks the row for update and
        waits), so nothing is written for an account deleted in between."""
        if isinstance(user_id, int) and not isinstance(user_id, bool) and 0 < user_id < 2 ** 63:
            self._run("SELECT 1 FROM users WHERE id = %s FOR SHARE", (user_id,))

    def _lock_pair(self, a: int, b: int) -> None:
        """One at a time for anything between two people (a follow, a block), whichever way round."""
        self._run("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"pair {min(a, b)} {max(a, b)}",))

    def _lock_post(self, post_id: object) -> None:
        """Hold the post's row until the transaction ends, so a second publish or delete of it waits and then
        sees the first one's result (instead of acting on the same old row twice)."""
        if isinstance(post_id, int) and not isinstance(post_id, bool) and 0 < post_id < 2 ** 63:
            self._run("SELECT 1 FROM posts WHERE id = %s FOR UPDATE", (post_id,))

    def _handles(self, user_ids: Iterable[int]) -> dict[int, str]:
        ids = sorted(set(user_ids))
        rows = self._all("SELECT id, handle FROM users WHERE id = ANY(%s)", (ids,)) if ids else []
        return {r["id"]: r["handle"] for r in rows}

    def _handle(self, user_id: int) -> str:
        return "@" + self._handles([user_id])[user_id]

    def _user_id_of(self, handle: object) -> int | None:
        handle = rules.typed_handle(handle)
        row = self._one("SELECT id FROM users WHERE lower(handle) = %s", (handle,)) if handle else None
        return None if row is None else row["id"]

    # -- the follow graph and blocks, as one viewer stands ---------------------------------------------

    def _following(self, user_id: int) -> set[int]:
        return {r["followee_id"] for r in self._all(
            "SELECT followee_id FROM follows WHERE follower_id = %s", (user_id,))}

    def _followers(self, user_id: int) -> set[int]:
        return {r["follower_id"] for r in self._all(
            "SELECT follower_id FROM follows WHERE followee_id = %s", (user_id,))}

    def _friends(self, user_id: int) -> set[int]:
        return {r["followee_id"] for r in self._all(
            "SELECT a.followee_id FROM follows a JOIN follows b"
            " ON b.follower_id = a.followee_id AND b.followee_id = a.follower_id WHERE a.follower_id = %s",
            (user_id,))}

    def _blocked_between(self, a: int | None, b: int) -> bool:
        return a is not None and self._one(
            "SELECT 1 FROM blocks WHERE (blocker_id = %s AND blocked_id = %s) OR (blocker_id = %s AND blocked_id = %s)",
            (a, b, b, a)) is not None

    def _viewer(self, viewer: int | None) -> Viewer:
        """Everything about ``viewer`` the visibility rule asks, in one round trip."""
        if viewer is None:
            return Viewer(None)
        if not isinstance(viewer, int) or isinstance(viewer, bool) or not 0 < viewer < 2 ** 63:
            raise rules.missing("user", viewer)
        row = self._one(
            "SELECT u.is_admin,"
            " ARRAY(SELECT followee_id FROM follows WHERE follower_id = u.id) AS following,"
            " ARRAY(SELECT follower_id FROM follows WHERE followee_id = u.id) AS followers,"
            " ARRAY(SELECT blocked_id FROM blocks WHERE blocker_id = u.id"
            "       UNION SELECT blocker_id FROM blocks WHERE blocked_id = u.id) AS blocked,"
            " (SELECT id FROM cameos WHERE owner_id = u.id) AS cameo_id"
            " FROM users u WHERE u.id = %s", (viewer,))
        if row is None:
            raise rules.missing("user", viewer)
        return Viewer(viewer, row["is_admin"], set(row["following"]), set(row["followers"]), set(row["blocked"]),
                      row["cameo_id"])

    # -- posts as a viewer sees them -------------------------------------------------------------------

    def _post_rows(self, post_ids: Iterable[int]) -> dict[int, Doc]:
        """Posts by id, each with its author's suspension and its counts (``_``-prefixed keys)."""
        ids = sorted({p for p in post_ids if isinstance(p, int) and not isinstance(p, bool) and 0 < p < 2 ** 63})
        if not ids:
            return {}
        rows = self._all(
            f"SELECT {', '.join('p.' + c.strip() for c in POST_COLUMNS.split(','))}, {COUNT_COLUMNS},"
            " a.suspended_at IS NOT NULL AS _suspended, a.handle AS _handle, a.display_name AS _name"
            " FROM posts p JOIN users a ON a.id = p.author_id WHERE p.id = ANY(%s)", (ids,))
        return {r["id"]: r for r in rows}

    @staticmethod
    def _post_doc(row: Doc) -> Doc:
        """The stored fields of a post row, without its counts and helper columns."""
        return as_doc({k: v for k, v in row.items() if k[0] != "_" and not k.endswith("_count")}, "posts")

    def _can_view(self, viewer: Viewer, row: Doc) -> bool:
        return row["deleted_at"] is None and rules.can_view(row, viewer.standing(row, row["_suspended"]))

    def _visible_post(self, viewer: Viewer, post_id: object) -> Doc:
        row = self._post_rows([post_id]).get(post_id)  # type: ignore[arg-type]
        if row is None or not self._can_view(viewer, row):
            raise rules.missing("video", post_id)  # the same answer as for a missing one
        return row

    def _published_post(self, viewer: Viewer, post_id: object) -> Doc:
        row = self._visible_post(viewer, post_id)
        if row["published_at"] is None:
            raise rules.draft_refusal()
        return row

    def _present(self, rows: list[Doc], viewer: Viewer) -> list[Doc]:
        """Posts as ``viewer`` sees them, with author, counts, whether they liked each and may delete it."""
        liked = set()
        if viewer.id is not None and rows:
            liked = {r["post_id"] for r in self._all(
                "SELECT post_id FROM likes WHERE user_id = %s AND post_id = ANY(%s)",
                (viewer.id, [r["id"] for r in rows]))}
        return [rules.presented_post(
            r["id"], {k: v for k, v in self._post_doc(r).items() if k != "id"}, viewer.id,
            author={"handle": r["_handle"], "display_name": r["_name"]},
            counts=(r["like_count"], r["comment_count"], r["remix_count"], r["view_count"]),
            liked=r["id"] in liked,
            can_delete=viewer.id is not None and rules.may_delete(viewer.standing(r, r["_suspended"])))
            for r in rows]

    # -- notifications ------------------------------------------------------------------------------------

    def _notify(self, user_id: int, kind: str, data: Doc) -> None:
        self._run("INSERT INTO notifications (user_id, kind, data, created_at) VALUES (%s, %s, %s, %s)",
                  (user_id, kind, self._json(data), self._now()))

    def _tell(self, user_id: int, kind: str, data: Doc, actor: Viewer | None = None) -> None:
        """Notify ``user_id`` of what ``data["by"]`` did; never of their own acts, nor across a block.

        ``actor``, when the caller already read it, is ``data["by"]``'s standing (saves asking for blocks again).
        """
        by = data.get("by")
        if by == user_id:
            return
        blocked = (user_id in actor.blocked) if actor is not None and actor.id == by else (
            by is not None and self._blocked_between(user_id, by))
        if blocked:
            return
        self._notify(user_id, kind, data)

    def _tell_mentioned(self, text: str, by: int, data: Doc, told: Iterable[int] = ()) -> None:
        """Tell everyone an @mention in ``text`` names that they were mentioned (once, and not those ``told``)."""
        told = set(told)
        for handle in rules.mentioned_handles(text):
            mentioned = self._user_id_of(handle)
            if mentioned is not None and mentioned not in told:
                self._tell(mentioned, "mention", {**data, "by": by})
