"""In-memory columns over the posts table, rebuilt at open and kept current on write.

Ranking a feed scores every post a viewer may see; doing that over TinyDB
documents would cost a Python loop per post. These numpy columns make it a few
vector operations, and the engagement log lets a feed be ranked "as of" the
moment its first page was served (see :mod:`feed_store.ranking`).
"""

from __future__ import annotations

import numpy as np

NEVER = np.inf  # published_at of a draft, deleted_at of a live post

VISIBILITY_CODES = {"draft": 0, "friends": 1, "public": 2}
LIKE, COMMENT, REMIX = 0, 1, 2


class _Growable:
    """A 1-d numpy array that doubles its capacity as ids grow."""

    def __init__(self, dtype: type, fill: float) -> None:
        self.fill = fill
        self.data = np.full(1024, fill, dtype=dtype)

    def ensure(self, size: int) -> None:
        if size > len(self.data):
            grown = np.full(max(size, 2 * len(self.data)), self.fill, dtype=self.data.dtype)
            grown[: len(self.data)] = self.data
            self.data = grown


class PostColumns:
    """One row per post id: who, when, how visible, how much engagement."""

    def __init__(self) -> None:
        self.size = 0  # one past the largest post id
        self._columns = {
            "author": _Growable(np.int32, -1),
            "published_at": _Growable(np.float64, NEVER),
            "deleted_at": _Growable(np.float64, NEVER),
            "visibility": _Growable(np.int8, 0),
        }
        self._engagement = np.zeros((1024, 3), dtype=np.int32)

    def __getattr__(self, name: str) -> np.ndarray:
        columns = self.__dict__.get("_columns", {})
        if name in columns:
            return columns[name].data[: self.size]
        raise AttributeError(name)

    @property
    def counts(self) -> np.ndarray:
        """``counts[post_id] == [likes, comments, remixes]``."""
        return self._engagement[: self.size]

    def set_post(self, post_id: int, author: int, visibility: str, published_at: float | None,
                 deleted_at: float | None) -> None:
        if post_id >= self.size:
            for column in self._columns.values():
                column.ensure(post_id + 1)
            if post_id >= len(self._engagement):
                grown = np.zeros((max(post_id + 1, 2 * len(self._engagement)), 3), dtype=np.int32)
                grown[: len(self._engagement)] = self._engagement
                self._engagement = grown
            self.size = post_id + 1
        self._columns["author"].data[post_id] = author
        self._columns["visibility"].data[post_id] = VISIBILITY_CODES[visibility]
        self._columns["published_at"].data[post_id] = NEVER if published_at is None else published_at
        self._columns["deleted_at"].data[post_id] = NEVER if deleted_at is None else deleted_at

    def add_engagement(self, post_id: int, kind: int, delta: int) -> None:
        self._engagement[post_id, kind] += delta


class EventLog:
    """Timestamped changes ``(time, subject, object, delta)``, in time order.

    The store keeps two: engagement (subject a post, object like/comment/remix)
    and follows (subject the follower, object the followee). A feed cursor
    ranks "as of" its first page by undoing the changes logged after it.
    """

    def __init__(self) -> None:
        self._time = _Growable(np.float64, 0.0)
        self._subject = _Growable(np.int32, 0)
        self._object = _Growable(np.int32, 0)
        self._delta = _Growable(np.int8, 0)
        self.size = 0

    def append(self, at: float, subject: int, obj: int, delta: int) -> None:
        for column in (self._time, self._subject, self._object, self._delta):
            column.ensure(self.size + 1)
        self._time.data[self.size] = at
        self._subject.data[self.size] = subject
        self._object.data[self.size] = obj
        self._delta.data[self.size] = delta
        self.size += 1

    def load(self, times: np.ndarray, subjects: np.ndarray, objects: np.ndarray) -> None:
        """Bulk-load history at open: one +1 per row, rows in any order."""
        order = np.argsort(times, kind="stable")
        n = len(order)
        for column, values in ((self._time, times), (self._subject, subjects), (self._object, objects)):
            column.ensure(n)
            column.data[:n] = values[order]
        self._delta.ensure(n)
        self._delta.data[:n] = 1
        self.size = n

    @property
    def last_time(self) -> float:
        return float(self._time.data[self.size - 1]) if self.size else 0.0

    def since(self, at: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(subjects, objects, deltas)`` of the changes logged after ``at``."""
        start = int(np.searchsorted(self._time.data[: self.size], at, side="right"))
        sl = slice(start, self.size)
        return self._subject.data[sl], self._object.data[sl], self._delta.data[sl]

    def counts_as_of(self, counts: np.ndarray, at: float) -> np.ndarray:
        """``counts[subject, object]`` as they were at ``at``."""
        subjects, objects, deltas = self.since(at)
        if not len(deltas):
            return counts
        past = counts.copy()
        np.subtract.at(past, (subjects, objects), deltas)
        return past


def pair_key(a: int, b: int) -> int:
    """The document id of a pair: a like is (post, user), a follow (follower, followee).

    Keying pair tables by the pair itself makes "does it exist?" and "remove
    it" dictionary lookups, with no million-entry index to build at open.
    """
    return a << 32 | b


class Likers:
    """Who liked each post, listed without a dictionary of every like.

    The likes present at open sit in one sorted array of pair keys; likes
    given and taken back since then sit in two small maps.
    """

    def __init__(self, keys_at_open: np.ndarray) -> None:
        self._at_open = np.sort(keys_at_open.astype(np.int64))
        self._added: dict[int, set[int]] = {}
        self._removed: set[int] = set()

    def add(self, post: int, user: int) -> None:
        self._removed.discard(pair_key(post, user))
        self._added.setdefault(post, set()).add(user)

    def remove(self, post: int, user: int) -> None:
        self._removed.add(pair_key(post, user))
        self._added.get(post, set()).discard(user)

    def of(self, post: int) -> list[int]:
        lo, hi = np.searchsorted(self._at_open, [pair_key(post, 0), pair_key(post + 1, 0)])
        at_open = (int(k) for k in self._at_open[lo:hi] if int(k) not in self._removed)
        return sorted({k & 0xFFFFFFFF for k in at_open} | self._added.get(post, set()))
