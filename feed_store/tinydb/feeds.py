"""Feeds on TinyDB: every visible post ranked in memory with numpy, "as of" the first page, and remix lineage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import rules
from ..ranking import EVERYONE, FOLLOWING, FRIEND_OF_FRIEND, OWN_OR_FRIEND, Cursor, Taste, best_first, diversify, scores
from ..records import FeedItem, FeedPage
from .base import Doc, StoreBase, _serialised
from .index import COMMENT, LIKE, NEVER, VISIBILITY_CODES, EventLog


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


class Feeds(StoreBase):

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

    @_serialised
    def stats(self) -> dict[str, int]:
        """How many users, published videos, likes and comments the community has."""
        c = self.columns
        return {"users": len(self._handles),
                "videos": int(np.count_nonzero((c.published_at < NEVER) & (c.deleted_at == NEVER))),
                "likes": int(c.counts[:, LIKE].sum()), "comments": int(c.counts[:, COMMENT].sum())}
