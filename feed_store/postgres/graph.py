"""Follows and blocks, on PostgreSQL: one row per pair, its primary key the pair itself."""

from __future__ import annotations

from .. import rules
from .base import StoreBase
from .database import operation


class Graph(StoreBase):

    @operation
    def follow(self, actor: int, followee: int) -> None:
        self._require_user(actor)
        self._require_user(followee)
        self._hold_user(actor)
        self._lock_pair(actor, followee)  # a block between them waits, or is seen
        if actor == followee:
            raise rules.refusal("follow_self")
        if self._blocked_between(actor, followee):
            raise rules.refusal("follow_blocked")
        if not self._run("INSERT INTO follows (follower_id, followee_id, created_at) VALUES (%s, %s, %s)"
                         " ON CONFLICT DO NOTHING", (actor, followee, self._now())):
            raise rules.refusal("already_following")
        self._tell(followee, "follow", {"by": actor})

    @operation
    def unfollow(self, actor: int, followee: int) -> None:
        if not self._run("DELETE FROM follows WHERE follower_id = %s AND followee_id = %s", (actor, followee)):
            raise rules.refusal("not_following")

    @operation
    def following(self, user_id: int) -> list[int]:
        return sorted(self._following(user_id))

    @operation
    def followers(self, user_id: int) -> list[int]:
        return sorted(self._followers(user_id))

    @operation
    def friends(self, user_id: int) -> list[int]:
        """Mutual follows."""
        return sorted(self._friends(user_id))

    @operation
    def block(self, actor: int, other: int) -> None:
        """Hide the two users from each other; follows between them end."""
        self._require_user(actor)
        self._require_user(other)
        self._lock_pair(actor, other)
        if actor == other:
            raise rules.refusal("block_self")
        if not self._run("INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (%s, %s, %s)"
                         " ON CONFLICT DO NOTHING", (actor, other, self._now())):
            raise rules.refusal("already_blocked")
        self._run("DELETE FROM follows WHERE (follower_id = %s AND followee_id = %s)"
                  " OR (follower_id = %s AND followee_id = %s)", (actor, other, other, actor))

    @operation
    def unblock(self, actor: int, other: int) -> None:
        if not self._run("DELETE FROM blocks WHERE blocker_id = %s AND blocked_id = %s", (actor, other)):
            raise rules.refusal("not_blocked")

    @operation
    def has_blocked(self, actor: int, other: int) -> bool:
        """Whether ``actor`` blocked ``other`` (not the other way round)."""
        return self._one("SELECT 1 FROM blocks WHERE blocker_id = %s AND blocked_id = %s", (actor, other)) is not None

    @operation
    def is_blocked(self, a: int, b: int) -> bool:
        """Whether either user has blocked the other."""
        return self._blocked_between(a, b)
