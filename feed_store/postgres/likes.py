"""Likes in groups: the likes one process is asked for at the same moment share one statement and one commit.

A like is the app's most frequent write. Each must be durable before it is
acknowledged, and on a small machine the cost of a commit and of a round trip
from Python is most of the cost of a like. So, as PostgreSQL itself groups the
flushes of concurrent commits, the store groups concurrent likes (leader and
followers, no extra thread): the first caller runs at once, alone; callers
that arrive while it runs queue up and the next of them runs them all in one
statement (:data:`LIKES_AT_ONCE`), one transaction, one commit. Every caller
returns only after the commit that holds its like.

The statement takes only the plain case, a published post the visibility rule
plainly lets the person see (public, their own, or a friend's; nobody blocked;
the author not suspended). It can only ever say yes where
:func:`feed_store.rules.can_view` says yes. A like it does not make (an
admin's, a cameo owner's, or one to refuse with a reason) comes back as
``None`` and takes the store's general path, which applies the rule itself.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from .database import Database
from .sql import LIVE

LIKES_AT_ONCE = f"""
WITH asked AS (
    SELECT * FROM unnest(%(n)s::int[], %(posts)s::bigint[], %(actors)s::bigint[], %(times)s::float8[])
        AS a(n, post, actor, at)
), target AS (
    SELECT a.n, a.post, a.actor, a.at, p.author_id
    FROM asked a JOIN posts p ON p.id = a.post JOIN users author ON author.id = p.author_id
    WHERE {LIVE} AND author.suspended_at IS NULL
      AND EXISTS (SELECT 1 FROM users v WHERE v.id = a.actor AND v.erased_at IS NULL)
      AND (p.visibility = 'public' OR p.author_id = a.actor OR (p.visibility = 'friends'
           AND EXISTS (SELECT 1 FROM follows f JOIN follows g ON g.follower_id = f.followee_id
                       AND g.followee_id = f.follower_id WHERE f.follower_id = a.actor AND f.followee_id = p.author_id)))
      AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = a.actor AND b.blocked_id = p.author_id)
                      OR (b.blocker_id = p.author_id AND b.blocked_id = a.actor))
), liked AS (
    INSERT INTO likes (post_id, user_id, created_at) SELECT post, actor, at FROM target ORDER BY n
    ON CONFLICT DO NOTHING RETURNING post_id, user_id
), counted AS (
    UPDATE posts p SET like_count = like_count + c.k
    FROM (SELECT post_id, count(*) AS k FROM liked GROUP BY post_id) c WHERE p.id = c.post_id
    RETURNING p.id, p.like_count
), told AS (
    INSERT INTO notifications (user_id, kind, data, created_at)
    SELECT t.author_id, 'like', jsonb_build_object('post_id', t.post, 'by', t.actor), t.at
    FROM (SELECT DISTINCT ON (post, actor) * FROM target ORDER BY post, actor, n) t  -- a double tap: one like
    JOIN liked l ON l.post_id = t.post AND l.user_id = t.actor
    WHERE t.author_id <> t.actor ORDER BY t.n
)
SELECT l.post_id, l.user_id, c.like_count FROM liked l JOIN counted c ON c.id = l.post_id
"""
"""Likes in one statement: each asked like the plain case allows is inserted, its post's counter moves by the
likes it got, and each author hears of each like."""


@dataclass
class _Asked:
    actor: int
    post: int
    at: float
    count: int | None = None
    """The post's like count right after this like, or ``None``: not made here (the general path decides)."""
    error: BaseException | None = None
    done: bool = False
    lead: bool = False
    """Set by the caller that finished leading: this one runs the next group."""
    woken: threading.Event = field(default_factory=threading.Event)


class LikeGroups:
    """Groups the likes of concurrent callers into one statement and one commit each."""

    MAX_GROUP = 64

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._waiting: list[_Asked] = []
        self._leading = False
        self.groups = 0
        """How many statements ran (``likes / groups`` is the mean group size)."""

    def like(self, actor: int, post: int, at: float) -> int | None:
        """Like ``post`` as ``actor``: its new count once committed, or ``None`` for the general path."""
        asked = _Asked(actor, post, at)
        with self._lock:
            self._waiting.append(asked)
            lead = not self._leading
            self._leading = True
        if not lead:
            asked.woken.wait()
            if not asked.done:  # handed the lead before its like ran
                self._lead(asked)
        else:
            self._lead(asked)
        if asked.error is not None:
            raise asked.error
        return asked.count

    def _lead(self, mine: _Asked) -> None:
        """Run waiting groups until ``mine`` is done, then hand the lead to the next waiting caller, if any."""
        while not mine.done:
            with self._lock:
                group, self._waiting = self._waiting[:self.MAX_GROUP], self._waiting[self.MAX_GROUP:]
            self._run(group)
            for asked in group:
                if asked is not mine:
                    asked.woken.set()
        with self._lock:
            if self._waiting:
                self._waiting[0].lead = True
                self._waiting[0].woken.set()
            else:
                self._leading = False

    def _run(self, group: list[_Asked]) -> None:
        try:
            rows = self._db.rows(LIKES_AT_ONCE, {
                "n": list(range(len(group))), "posts": [a.post for a in group], "actors": [a.actor for a in group],
                "times": [a.at for a in group]})
            self.groups += 1
        except BaseException as e:  # the group's transaction rolled back: every caller hears why
            for asked in group:
                asked.error, asked.done = e, True
            return
        made = {(r["post_id"], r["user_id"]): r["like_count"] for r in rows}
        later = Counter(post for post, _ in made)  # likes of each post in this group, counted down in order
        for asked in group:
            key = (asked.post, asked.actor)
            if key in made:
                later[asked.post] -= 1
                asked.count = made.pop(key) - later[asked.post]  # as if the group's likes came one by one
            asked.done = True
