"""Follows and blocks, on TinyDB: the follow graph in memory, with its history for feeds ranked "as of"."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .. import rules
from .base import Doc, StoreBase, _serialised
from .index import NEVER, EventLog


class Graph(StoreBase):

    def _load_graph(self, tables: Doc) -> None:
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

    def _index_block(self, block: Doc) -> None:
        a, b, at = block["blocker_id"], block["blocked_id"], block["created_at"]
        for x, y in ((a, b), (b, a)):
            earlier = self._blocked_at.setdefault(x, {}).get(y, NEVER)
            self._blocked_at[x][y] = min(earlier, at)

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
        self._insert_pair("follows", actor, followee,
                          {"follower_id": actor, "followee_id": followee, "created_at": now})
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
    def has_blocked(self, actor: int, other: int) -> bool:
        """Whether ``actor`` blocked ``other`` (not the other way round)."""
        return self._has_pair("blocks", actor, other)

    @_serialised
    def is_blocked(self, a: int, b: int) -> bool:
        """Whether either user has blocked the other."""
        return self._blocked_between(a, b)
