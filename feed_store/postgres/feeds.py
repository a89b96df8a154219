"""Feeds on PostgreSQL: candidates from SQL, scored in Python by :mod:`feed_store.ranking`, frozen per cursor.

"For you" is computed on read from three sources of candidates:

1. the viewer's own and followed authors' newest posts (``LATERAL``, one
   index range per author on the partial index of live posts);
2. friends of friends' newest public posts, the same way;
3. the global hot list, by the stored ``hot_score`` (see
   :meth:`Posts.refresh_hot_scores`).

They are scored with the same :func:`ranking.scores`, steered by the
viewer's taste, and reordered by the same :func:`ranking.diversify` (at most
two in a row per author). The order is frozen for the cursor in
``feed_cursors``, so later pages neither repeat nor skip a post while posts,
likes and follows arrive; each page is checked again against the visibility
rule, so a block, report, suspension or deletion removes a post at once
without moving later slots. Following, Latest and profiles freeze their
newest-first lists the same way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable

import numpy as np
import orjson

from .. import rules
from ..errors import InvalidInput
from ..ranking import EVERYONE, FOLLOWING, FRIEND_OF_FRIEND, OWN_OR_FRIEND, Taste, best_first, diversify, scores
from ..records import FeedItem, FeedPage
from .base import Doc, StoreBase, Viewer
from .database import operation
from .sql import LIVE

FEED_DEPTH = 1000
"""How many posts one scroll can reach from its first page (an hour or more of watching)."""
PER_NEAR_AUTHOR = 30
"""The newest posts taken from each followed author (and the viewer), as For you candidates."""
PER_FAR_AUTHOR = 5
"""The newest posts taken from each friend of a friend."""
MAX_FAR_AUTHORS = 200
HOT_CANDIDATES = 500
CURSOR_SECONDS = 24 * 3600.0
"""How long a frozen feed can be paged; an older cursor asks for a reload."""

SEEN_BY = (
    "(p.visibility = 'public' OR (p.visibility = 'friends' AND p.author_id = ANY(%(inner)s)))"
    " AND NOT p.author_id = ANY(%(hidden_authors)s) AND NOT p.id = ANY(%(reported)s)")
"""The visibility rule in bulk, for published posts in a feed: friends-only posts of the viewer's friends and their
own, nobody blocked either way, no suspended author, nothing they reported (every served post is checked again by
:func:`rules.can_view`, so this can only ever be narrower, never leak)."""
CANDIDATE = "p.id, p.author_id, p.published_at, p.like_count, p.comment_count, p.remix_count"
BY_AUTHOR_SQL = (f"SELECT {CANDIDATE} FROM unnest(%(authors)s::bigint[]) AS w(id) CROSS JOIN LATERAL"
                 f" (SELECT * FROM posts p WHERE p.author_id = w.id AND {LIVE}"
                 f"  ORDER BY p.published_at DESC, p.id DESC LIMIT %(per)s) p WHERE {SEEN_BY}")
"""Candidates 1 and 2: each given author's newest live posts (one index range each), that the viewer may see."""
HOT_SQL = (f"SELECT {CANDIDATE} FROM (SELECT * FROM posts p WHERE {LIVE} AND p.visibility = 'public'"
           f" ORDER BY p.hot_score DESC, p.id DESC LIMIT %(hot)s) p WHERE {SEEN_BY}")
"""Candidate 3: the global hot list, by the stored score."""
FRIENDS_OF_FRIENDS_SQL = ("SELECT a.follower_id AS friend, a.followee_id AS other FROM follows a JOIN follows b"
                          " ON b.follower_id = a.followee_id AND b.followee_id = a.follower_id"
                          " WHERE a.follower_id = ANY(%s)")
"""Each of the viewer's friends' friends (mutual follows of a friend), with the friend they come through."""
NEWEST_SQL = (f"SELECT p.id FROM posts p WHERE {LIVE} AND {{where}} AND {SEEN_BY}"
              f" ORDER BY p.published_at DESC, p.id DESC LIMIT %(depth)s")
"""Following, Latest and profiles: the newest live posts the viewer may see, under a condition."""


class Circle:
    """The viewer's circles for one feed read: tier per author, and the friend each friend of a friend comes via."""

    def __init__(self, viewer: Viewer, friends_of_friends: dict[int, set[int]], suspended: set[int],
                 reported: set[int]) -> None:
        self.viewer = viewer
        self.suspended, self.reported = suspended, reported
        self.tiers: dict[int, int] = dict.fromkeys(friends_of_friends, FRIEND_OF_FRIEND)
        self.tiers.update(dict.fromkeys(viewer.following, FOLLOWING))
        if viewer.id is not None:
            self.tiers.update(dict.fromkeys(viewer.friends | {viewer.id}, OWN_OR_FRIEND))
        self.via = friends_of_friends

    def tier(self, author: int) -> int:
        return self.tiers.get(author, EVERYONE)

    def params(self) -> Doc:
        """What :data:`SEEN_BY` needs: whose friends-only posts the viewer sees, whose posts nobody (or not they)
        sees, and the posts they reported."""
        inner = sorted(self.viewer.friends | ({self.viewer.id} if self.viewer.id is not None else set()))
        return {"inner": inner, "hidden_authors": sorted(self.viewer.blocked | self.suspended),
                "reported": sorted(self.reported)}


def _encode(token: str, offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([token, offset])).decode()


def _decode(cursor: object) -> tuple[str, int]:
    damaged = InvalidInput("This feed position is damaged or out of date; reload the feed.")
    try:
        token, offset = orjson.loads(base64.urlsafe_b64decode(str(cursor).encode()))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise damaged from None
    if not isinstance(token, str) or not isinstance(offset, int) or offset < 0:
        raise damaged
    return token, offset


class Feeds(StoreBase):

    def _circle(self, viewer: Viewer) -> Circle:
        friends = sorted(viewer.friends)
        via: dict[int, set[int]] = {}
        if friends:
            for r in self._all(FRIENDS_OF_FRIENDS_SQL, (friends,)):
                via.setdefault(r["other"], set()).add(r["friend"])
        hidden = self._one(
            "SELECT ARRAY(SELECT id FROM users WHERE suspended_at IS NOT NULL) AS suspended,"
            " ARRAY(SELECT target_id FROM reports WHERE kind = 'post' AND reporter_id = %s) AS reported",
            (viewer.id,))
        return Circle(viewer, via, set(hidden["suspended"]), set(hidden["reported"]))

    # -- orderings ---------------------------------------------------------------------------------------

    def _ranked(self, circle: Circle, taste: Taste | None) -> list[int]:
        viewer = circle.viewer
        near = sorted(viewer.following | ({viewer.id} if viewer.id is not None else set()))
        far = sorted(a for a, tier in circle.tiers.items() if tier == FRIEND_OF_FRIEND)[:MAX_FAR_AUTHORS]
        rows: dict[int, Doc] = {}
        for sql, extra in ((BY_AUTHOR_SQL, {"authors": near, "per": PER_NEAR_AUTHOR}),
                           (BY_AUTHOR_SQL, {"authors": far, "per": PER_FAR_AUTHOR}),
                           (HOT_SQL, {"hot": HOT_CANDIDATES})):
            if extra.get("authors") == []:
                continue
            rows.update((r["id"], r) for r in self._all(sql, {**circle.params(), **extra}))
        if not rows:
            return []
        ids = np.fromiter(rows, np.int64, len(rows))
        authors = {p: r["author_id"] for p, r in rows.items()}
        counts = np.array([[r["like_count"], r["comment_count"], r["remix_count"]] for r in rows.values()])
        tiers = np.array([circle.tier(r["author_id"]) for r in rows.values()], dtype=np.int64)
        published = np.array([r["published_at"] for r in rows.values()], dtype=np.float64)
        post_scores = scores(self.ranking, tiers, counts, published, self._now(event=False))
        if taste is not None:
            post_scores = post_scores * taste.of(ids)
        ranked = best_first(ids, post_scores, len(ids))
        return diversify(ranked, authors, self.ranking.max_consecutive_per_author, FEED_DEPTH)[0]

    def _newest(self, circle: Circle, where: str, params: Doc) -> list[int]:
        return [r["id"] for r in self._all(NEWEST_SQL.format(where=where),
                                           {**circle.params(), **params, "depth": FEED_DEPTH})]

    # -- pages ---------------------------------------------------------------------------------------------

    def _page(self, feed: str, viewer_id: int | None, cursor: str | None, limit: int,
              order: Callable[[Circle], list[int]], taste: Taste | None = None) -> FeedPage:
        """Serve one page of a frozen ordering (frozen now, for a first page)."""
        rules.check_page_size(limit)
        if viewer_id is not None:
            self._require_user(viewer_id)
        viewer = self._viewer(viewer_id)
        circle = self._circle(viewer)
        now = self._now(event=False)
        if cursor:
            token, offset = _decode(cursor)
            row = self._one("SELECT post_ids FROM feed_cursors WHERE token = %s AND feed = %s"
                            " AND viewer_id IS NOT DISTINCT FROM %s AND created_at > %s",
                            (token, feed, viewer_id, now - CURSOR_SECONDS))
            if row is None:
                raise InvalidInput("This feed position is damaged or out of date; reload the feed.")
            ordered = np.frombuffer(row["post_ids"], dtype="<i8").tolist()
        else:
            ordered, offset = order(circle), 0
            frozen = np.asarray(ordered, dtype="<i8").tobytes()
            # The same list for the same viewer shares one row: asking twice gives the same cursor.
            token = hashlib.blake2b(orjson.dumps([feed, viewer_id]) + frozen, digest_size=12).hexdigest()
            self._run("DELETE FROM feed_cursors WHERE created_at < %s", (now - CURSOR_SECONDS,))
            self._run("INSERT INTO feed_cursors (token, feed, viewer_id, created_at, post_ids)"
                      " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (token) DO UPDATE SET created_at = EXCLUDED.created_at",
                      (token, feed, viewer_id, now, frozen))
        slots = ordered[offset: offset + limit]
        rows = self._post_rows(slots)
        reported = set()
        if viewer_id is not None and slots:
            reported = {r["target_id"] for r in self._all(
                "SELECT target_id FROM reports WHERE kind = 'post' AND reporter_id = %s AND target_id = ANY(%s)",
                (viewer_id, slots))}
        # Drop what changed since the first page, without moving later slots.
        kept = [rows[p] for p in slots if p in rows and p not in reported and self._can_view(viewer, rows[p])]
        items = [FeedItem(post, reasons + ([steered] if taste is not None and (steered := taste.explain(post["id"]))
                                           else []))
                 for post, reasons in zip(self._present(kept, viewer), self._reasons(circle, kept))]
        end = offset + len(slots)
        return FeedPage(items, _encode(token, end) if len(ordered) > end else None)

    def _reasons(self, circle: Circle, rows: list[Doc]) -> list[list[str]]:
        """Why each post is in the feed (the words come from :func:`rules.reasons`)."""
        viewer = circle.viewer
        likers: dict[int, list[int]] = {}
        if viewer.id is not None and viewer.following and rows:
            for r in self._all("SELECT post_id, user_id FROM likes WHERE post_id = ANY(%s) AND user_id = ANY(%s)"
                               " ORDER BY user_id", ([r["id"] for r in rows], sorted(viewer.following))):
                likers.setdefault(r["post_id"], []).append(r["user_id"])
        parents = self._post_rows(r["parent_id"] for r in rows if r["parent_id"] is not None)
        vias = {r["author_id"]: min(circle.via.get(r["author_id"], set()) & viewer.friends, default=None)
                for r in rows}
        users = {u for r in rows for u in (r["author_id"], vias[r["author_id"]], *likers.get(r["id"], []))}
        users |= {p["author_id"] for p in parents.values()}
        handles = self._handles(u for u in users if u is not None)
        out = []
        for r in rows:
            parent = parents.get(r["parent_id"])
            out.append(rules.reasons(
                viewer=viewer.id, author=r["author_id"], tier=circle.tier(r["author_id"]),
                handle=lambda u: "@" + handles[u], via_friend=vias[r["author_id"]],
                followed_likers=likers.get(r["id"], []),
                visible_parent_author=parent["author_id"] if parent and self._can_view(viewer, parent) else None,
                likes=r["like_count"], popular_likes=self.ranking.popular_likes))
        return out

    # -- the feeds -----------------------------------------------------------------------------------------

    @operation
    def for_you(self, viewer: int | None, cursor: str | None = None, limit: int = 20,
                taste: Taste | None = None) -> FeedPage:
        """The home feed: friends first, then by engagement and freshness (see :mod:`ranking`), steered by
        ``taste`` (the viewer's own words about what they want more or less of)."""
        return self._page("for_you", viewer, cursor, limit, lambda circle: self._ranked(circle, taste), taste)

    @operation
    def following_feed(self, viewer: int, cursor: str | None = None, limit: int = 20) -> FeedPage:
        """Posts by people ``viewer`` follows, newest first."""
        return self._page("following", viewer, cursor, limit, lambda circle: self._newest(
            circle, "p.author_id = ANY(%(following)s)", {"following": sorted(circle.viewer.following)}))

    @operation
    def latest(self, viewer: int | None, cursor: str | None = None, limit: int = 20) -> FeedPage:
        """Every post ``viewer`` may see, newest first."""
        return self._page("latest", viewer, cursor, limit, lambda circle: self._newest(circle, "true", {}))

    @operation
    def profile_feed(self, viewer: int | None, author: int, cursor: str | None = None, limit: int = 20) -> FeedPage:
        """``author``'s published posts that ``viewer`` may see, newest first."""
        self._require_user(author)
        if self._blocked_between(viewer, author):
            raise rules.refusal("profile_unavailable")
        return self._page(f"profile {author}", viewer, cursor, limit, lambda circle: self._newest(
            circle, "p.author_id = %(author)s", {"author": author}))

    # -- remix lineage -----------------------------------------------------------------------------------------

    @operation
    def remixes(self, viewer: int | None, post_id: int) -> list[Doc]:
        """Published remixes of a post that ``viewer`` may see, oldest first."""
        who = self._viewer(viewer)
        self._visible_post(who, post_id)
        children = [r["id"] for r in self._all("SELECT id FROM posts WHERE parent_id = %s ORDER BY id", (post_id,))]
        rows = self._post_rows(children)
        return self._present([rows[c] for c in children
                              if rows[c]["published_at"] is not None and self._can_view(who, rows[c])], who)

    @operation
    def lineage(self, viewer: int | None, post_id: int) -> list[Doc]:
        """The chain from the original down to ``post_id``.

        An ancestor the viewer may not see (deleted, private) stands as
        ``{"id": ..., "unavailable": True}`` so the chain keeps its shape.
        """
        who = self._viewer(viewer)
        chain = self._present([self._visible_post(who, post_id)], who)
        parent_id = chain[0]["parent_id"]
        while parent_id is not None:
            parent = self._post_rows([parent_id])[parent_id]
            chain += (self._present([parent], who) if self._can_view(who, parent)
                      else [{"id": parent_id, "unavailable": True}])
            parent_id = parent["parent_id"]
        return chain[::-1]

    @operation
    def stats(self) -> dict[str, int]:
        """How many users, published videos, likes and comments the community has."""
        row = self._one(
            "SELECT (SELECT count(*) FROM users WHERE erased_at IS NULL) AS users,"
            " (SELECT count(*) FROM posts p WHERE p.deleted_at IS NULL AND p.published_at IS NOT NULL) AS videos,"
            " (SELECT coalesce(sum(like_count), 0) FROM posts) AS likes,"
            " (SELECT coalesce(sum(comment_count), 0) FROM posts) AS comments")
        return {k: int(v) for k, v in row.items()}
