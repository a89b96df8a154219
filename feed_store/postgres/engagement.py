"""Likes, comments and views, on PostgreSQL.

A like is one row keyed by (post, user), so a second like is refused by the
database itself; the post's counter moves in the same transaction as the row,
with ``count = count + 1``, so counts stay exact however many people like at once.
"""

from __future__ import annotations

from .. import rules
from ..text import checked_text
from .base import Doc, StoreBase, as_doc
from .database import operation


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2 ** 63


class Engagement(StoreBase):

    def like(self, actor: int, post_id: int) -> int:
        """Like a post; returns its new like count.

        Most likes are made with other callers' in one statement and one commit (:mod:`.likes`); the rest, and
        every refusal, go through :meth:`_like`, which applies the visibility rule itself.
        """
        if _is_id(actor) and _is_id(post_id) and not self.db.in_transaction:
            count = self._like_groups.like(actor, post_id, self._now())
            if count is not None:
                return count
        return self._like(actor, post_id)

    @operation
    def _like(self, actor: int, post_id: int) -> int:
        viewer = self._viewer(actor)
        row = self._published_post(viewer, post_id)
        liked = self._one("WITH liked AS (INSERT INTO likes (post_id, user_id, created_at) VALUES (%s, %s, %s)"
                          " ON CONFLICT DO NOTHING RETURNING post_id)"
                          " UPDATE posts p SET like_count = like_count + 1 FROM liked WHERE p.id = liked.post_id"
                          " RETURNING like_count", (post_id, actor, self._now()))
        if liked is None:
            raise rules.refusal("already_liked")
        self._tell(row["author_id"], "like", {"post_id": post_id, "by": actor}, viewer)
        return liked["like_count"]

    @operation
    def unlike(self, actor: int, post_id: int) -> int:
        """Take a like back; returns the new like count."""
        self._visible_post(self._viewer(actor), post_id)
        if not self._run("DELETE FROM likes WHERE post_id = %s AND user_id = %s", (post_id, actor)):
            raise rules.refusal("not_liked")
        return self._one("UPDATE posts SET like_count = like_count - 1 WHERE id = %s RETURNING like_count",
                         (post_id,))["like_count"]

    @operation
    def likers(self, viewer: int | None, post_id: int) -> list[int]:
        self._visible_post(self._viewer(viewer), post_id)
        return [r["user_id"] for r in self._all("SELECT user_id FROM likes WHERE post_id = %s ORDER BY user_id",
                                                (post_id,))]

    @operation
    def comment(self, actor: int, post_id: int, text: str) -> Doc:
        """Comment on a published post (1 to 500 characters)."""
        text = checked_text(text, "A comment", multiline=True)
        self._hold_user(actor)
        viewer = self._viewer(actor)
        row = self._published_post(viewer, post_id)
        comment = self._one("INSERT INTO comments (user_id, post_id, text, created_at) VALUES (%s, %s, %s, %s)"
                            " RETURNING id, user_id, post_id, text, created_at, deleted_at",
                            (actor, post_id, text, self._now()))
        self._run("UPDATE posts SET comment_count = comment_count + 1 WHERE id = %s", (post_id,))
        about = {"post_id": post_id, "comment_id": comment["id"], "by": actor}
        self._tell(row["author_id"], "comment", about, viewer)
        self._tell_mentioned(text, actor, about, told={row["author_id"]})
        return as_doc(comment, "comments")

    def _comment(self, comment_id: object, lock: bool = False) -> Doc | None:
        if not isinstance(comment_id, int) or isinstance(comment_id, bool) or not 0 < comment_id < 2 ** 63:
            return None
        return self._one("SELECT id, user_id, post_id, text, created_at, deleted_at FROM comments WHERE id = %s"
                         + (" FOR UPDATE" if lock else ""), (comment_id,))

    @operation
    def delete_comment(self, actor: int, comment_id: int) -> None:
        """Allowed to the comment's author, the post's author and admins."""
        comment = self._comment(comment_id, lock=True)  # a second delete at once waits, then finds it gone
        if comment is None or comment["deleted_at"] is not None:
            raise rules.missing("comment", comment_id)
        post = self._one("SELECT author_id FROM posts WHERE id = %s", (comment["post_id"],))
        rules.may_delete_comment(actor, comment, post, self._is_admin(actor))
        self._run("UPDATE comments SET deleted_at = %s WHERE id = %s", (self._now(), comment_id))
        self._run("UPDATE posts SET comment_count = comment_count - 1 WHERE id = %s", (comment["post_id"],))

    def _visible_comment(self, viewer: int | None, comment_id: object) -> Doc:
        """A comment ``viewer`` can read: not deleted, on a post they may see, by nobody blocked either way.

        Anything else answers exactly as a comment that does not exist.
        """
        comment = self._comment(comment_id)
        if comment is None or comment["deleted_at"] is not None or self._blocked_between(viewer, comment["user_id"]):
            raise rules.missing("comment", comment_id)
        row = self._post_rows([comment["post_id"]]).get(comment["post_id"])
        if row is None or not self._can_view(self._viewer(viewer), row):
            raise rules.missing("comment", comment_id)
        return comment

    @operation
    def comments(self, viewer: int | None, post_id: int) -> list[Doc]:
        """A post's comments, oldest first, without those of users blocked either way."""
        who = self._viewer(viewer)
        self._visible_post(who, post_id)
        rows = self._all("SELECT c.id, c.user_id, c.post_id, c.text, c.created_at, c.deleted_at, u.handle"
                         " FROM comments c JOIN users u ON u.id = c.user_id"
                         " WHERE c.post_id = %s AND c.deleted_at IS NULL ORDER BY c.id", (post_id,))
        return [as_doc(r, "comments") for r in rows if r["user_id"] not in who.blocked]

    @operation
    def record_view(self, viewer: int, post_id: int) -> int:
        """Count a view once per user; returns the view count."""
        self._visible_post(self._viewer(viewer), post_id)
        if self._run("INSERT INTO views (post_id, user_id, created_at) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                     (post_id, viewer, self._now())):
            return self._one("UPDATE posts SET view_count = view_count + 1 WHERE id = %s RETURNING view_count",
                             (post_id,))["view_count"]
        return self._one("SELECT view_count FROM posts WHERE id = %s", (post_id,))["view_count"]
