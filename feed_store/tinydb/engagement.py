"""Likes, comments and views, on TinyDB."""

from __future__ import annotations

from collections import Counter

import numpy as np

from .. import rules
from ..errors import NotFound
from ..text import checked_text
from .base import Doc, StoreBase, _serialised
from .index import COMMENT, LIKE, NEVER, REMIX, EventLog, Likers


class Engagement(StoreBase):

    def _load_engagement(self, tables: Doc) -> None:
        """Current counts (likes, comments, remixes, views), and their history for ranking "as of" a moment."""
        self._view_counts = Counter(v["post_id"] for v in tables.get("views", {}).values())
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
                handle = self._get("users", c["user_id"], "user")["handle"]
                out.append({**rules.record("comments", c, comment_id), "handle": handle})
        return out

    @_serialised
    def record_view(self, viewer: int, post_id: int) -> int:
        """Count a view once per user; returns the view count."""
        self._visible_post(viewer, post_id)
        if not self._has_pair("views", post_id, viewer):
            self._insert_pair("views", post_id, viewer,
                              {"user_id": viewer, "post_id": post_id, "created_at": self._now()})
            self._view_counts[post_id] += 1
        return self._view_counts[post_id]

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
