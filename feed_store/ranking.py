"""The "For you" ranking: relationship, then engagement and freshness.

A post's score is::

    affinity[tier] * (1 + engagement) / (age_hours + age_offset_hours) ** gravity
    engagement = like_weight * ln(1 + likes)
               + comment_weight * ln(1 + comments)
               + remix_weight * ln(1 + remixes)

``tier`` is the viewer's relationship to the author (own post or friend,
followed, friend of a friend, anyone else). The affinity ratios are large
enough that a friend's post from this morning comes before a stranger's from
this minute, while the Hacker News-style gravity lets yesterday's posts give
way to today's. The log damps engagement so a viral post cannot bury
everything else.

Feeds are paged with a cursor that freezes the moment of the first page
(``as_of``): posts published later, likes given later and the passage of time
do not move anything, so paging never repeats or skips a post.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import orjson

from .errors import InvalidInput

OWN_OR_FRIEND, FOLLOWING, FRIEND_OF_FRIEND, EVERYONE = range(4)


@dataclass(frozen=True)
class RankingConfig:
    """Every weight of the ranking, in one place."""

    affinity: tuple[float, float, float, float] = (16.0, 6.0, 2.5, 1.0)
    """Multiplier per tier: own or friend's post, followed, friend of a friend, everyone."""
    like_weight: float = 1.0
    comment_weight: float = 1.5
    remix_weight: float = 2.0
    gravity: float = 1.5
    """How fast posts sink with age; Hacker News uses 1.8."""
    age_offset_hours: float = 2.0
    """Added to the age so a brand-new post does not divide by zero."""
    max_consecutive_per_author: int = 2
    popular_likes: int = 20
    """From this many likes a stranger's post is explained as "popular"."""


def scores(config: RankingConfig, tiers: np.ndarray, counts: np.ndarray,
           published_at: np.ndarray, as_of: float) -> np.ndarray:
    """Score posts given each one's tier, ``[likes, comments, remixes]`` and publish time."""
    damped = np.log1p(counts.astype(np.float64))
    engagement = damped @ np.array([config.like_weight, config.comment_weight, config.remix_weight])
    age_hours = np.maximum(as_of - published_at, 0.0) / 3600.0
    affinity = np.asarray(config.affinity)[tiers]
    return affinity * (1.0 + engagement) / (age_hours + config.age_offset_hours) ** config.gravity


def best_first(post_ids: np.ndarray, post_scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best posts, best first; equal scores go to the newer post."""
    if k < len(post_ids):
        # Keep every post tied with the k-th score, so the tie-break below sees them all.
        kth = np.partition(post_scores, len(post_scores) - k)[len(post_scores) - k]
        top = np.flatnonzero(post_scores >= kth)
        post_ids, post_scores = post_ids[top], post_scores[top]
    order = np.lexsort((-post_ids, -post_scores))
    return post_ids[order[:k]]


def diversify(ranked: np.ndarray, authors: np.ndarray, max_run: int, wanted: int) -> tuple[list[int], bool]:
    """Reorder so no author fills more than ``max_run`` consecutive slots.

    Greedy: each slot takes the best post that does not extend a run past
    ``max_run``. Posts that only one remaining author could fill are dropped
    (they stay on that author's profile). Returns the first ``wanted`` posts and
    whether ``ranked`` ran out before they were found.
    """
    out: list[int] = []
    out_authors: list[int] = []
    waiting: list[int] = []  # passed over for now, still in rank order
    stream = iter(ranked.tolist())

    def fits(post: int) -> bool:
        author = authors[post]
        return len(out_authors) < max_run or any(a != author for a in out_authors[-max_run:])

    while len(out) < wanted:
        pick = next((p for p in waiting if fits(p)), None)
        if pick is not None:
            waiting.remove(pick)
        else:
            for post in stream:
                if fits(post):
                    pick = post
                    break
                waiting.append(post)
            else:
                return out, True
        out.append(pick)
        out_authors.append(int(authors[pick]))
    return out, False


@dataclass(frozen=True)
class Taste:
    """One viewer's steer on "For you": a multiplier per post id, and the words that explain it.

    ``weights[post_id]`` multiplies the post's score (1 leaves it alone, above 1 is "more like this", below 1 is
    "less"); ids beyond the array are left alone. Friends first still holds: the multipliers are bounded well under
    the affinity ratio between a friend's post and a stranger's. ``explain(post_id)`` gives the line "Why you're
    seeing this" adds (``None`` when the steer played no part).
    """

    weights: np.ndarray
    explain: Callable[[int], str | None]

    def of(self, post_ids: np.ndarray) -> np.ndarray:
        """The multipliers of ``post_ids`` (1 for posts the taste knows nothing of)."""
        known = post_ids < len(self.weights)
        out = np.ones(len(post_ids), dtype=np.float64)
        out[known] = self.weights[post_ids[known]]
        return out


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the frozen moment and how many slots were served."""

    as_of: float
    offset: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(orjson.dumps([self.as_of, self.offset])).decode()

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            as_of, offset = orjson.loads(base64.urlsafe_b64decode(token.encode()))
            if not isinstance(offset, int) or offset < 0 or not isinstance(as_of, (int, float)):
                raise ValueError
        except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
            raise InvalidInput("This feed position is damaged or out of date; reload the feed.") from None
        return cls(float(as_of), offset)
