"""A person's data, downloaded or erased, on PostgreSQL."""

from __future__ import annotations

from .. import personal_data, rules
from .base import Doc, StoreBase
from .database import operation

PERSONAL_TABLES = {
    # table: (columns, the condition that makes a row the person's, with %(u)s their id)
    "users": ("*", "id = %(u)s"),
    "follows": ("*", "follower_id = %(u)s OR followee_id = %(u)s ORDER BY follower_id, followee_id"),
    "blocks": ("*", "blocker_id = %(u)s ORDER BY blocker_id, blocked_id"),
    "invites": ("*", "inviter_id = %(u)s OR used_by = %(u)s"),
    "posts": ("*", "author_id = %(u)s OR cameo_ids && ARRAY(SELECT id FROM cameos WHERE owner_id = %(u)s)"),
    "likes": ("*", "user_id = %(u)s ORDER BY post_id, user_id"),
    "comments": ("*", "user_id = %(u)s"),
    "views": ("*", "user_id = %(u)s ORDER BY post_id, user_id"),
    "reports": ("*", "reporter_id = %(u)s"),
    "notifications": ("*", "user_id = %(u)s"),
    "refusals": ("*", "user_id = %(u)s"),
    "sessions": ("*", "user_id = %(u)s"),
    # Their cameo, and the owners of cameos in their posts (collect names those by handle).
    "cameos": ("id, owner_id, permission, approved_ids, restrictions, created_at,"
               " CASE WHEN owner_id = %(u)s THEN likeness ELSE '{}' END AS likeness",
               "owner_id = %(u)s OR id IN (SELECT unnest(cameo_ids) FROM posts WHERE author_id = %(u)s)"),
}
PAIR_TABLES = {"follows", "blocks", "likes", "views"}
"""Tables keyed by a pair, numbered here in the pair's order, as TinyDB keys them."""


class Accounts(StoreBase):

    @operation
    def personal_data(self, user_id: int) -> Doc:
        """Everything the store holds about ``user_id``, for them to download (see :mod:`personal_data`).

        The person's rows are read into the same shape the TinyDB store keeps, so one function
        (:func:`personal_data.collect`) decides what goes in the archive for both backends.
        """
        self._require_user(user_id)
        tables: dict[str, dict[str, Doc]] = {}
        for table, (columns, mine) in PERSONAL_TABLES.items():
            rows = self._all(f"SELECT {columns} FROM {table} WHERE {mine}", {"u": user_id})
            tables[table] = {str(i): self._stored(table, r) for i, r in enumerate(rows, 1)} if table in PAIR_TABLES \
                else {str(r["id"]): self._stored(table, r) for r in rows}
        handles = {}

        def handle_of(other: int | None) -> str | None:
            if other is None:
                return None
            if other not in handles:
                handles.update(self._handles([other]))
            return handles.get(other)

        return personal_data.collect(tables, user_id, handle_of)

    @staticmethod
    def _stored(table: str, row: Doc) -> Doc:
        row = {k: v for k, v in row.items() if k != "id" and not k.endswith("_count") and k != "hot_score"}
        if table == "cameos":
            row.update(row.pop("likeness"))
        if table == "users":  # as TinyDB keeps a user: no erasure fields, no suspension until there is one
            row = {k: v for k, v in row.items() if k not in ("erased_at", "handle_hash")
                   and not (k == "suspended_at" and v is None)}
        return row

    @operation
    def erase_user(self, actor: int, user_id: int) -> list[str]:
        """Delete an account and everything of it, at once; returns the media names for the caller to erase.

        The same contract as the TinyDB store's: one transaction; their posts (and every post with their cameo)
        become tombstones; comments are emptied; likes, views, follows, blocks, reports made, notifications
        (theirs and others' naming them), sessions, feed wishes, refusals, unused invites and the cameo go; open
        reports about them close as ``account_deleted``; the user row keeps its id, when, and the handle's hash.
        """
        # Writes of theirs, and videos others are saving with their cameo, finish first; later ones wait and fail.
        self._run("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))
        self._run("SELECT 1 FROM cameos WHERE owner_id = %s FOR UPDATE", (user_id,))
        self._require_user(user_id)
        rules.may_erase(actor, user_id, self._is_admin(actor), self._is_admin(user_id))
        now = self._now()
        u = {"u": user_id, "now": now, "actor": actor}
        cameos = self._all("SELECT id, likeness FROM cameos WHERE owner_id = %(u)s", u)
        cameo_ids = [c["id"] for c in cameos]
        theirs = self._all("SELECT id, video, thumbnail, preview, parent_id, published_at, deleted_at FROM posts"
                           " WHERE author_id = %(u)s OR cameo_ids && %(cameos)s::bigint[] FOR UPDATE",
                           {**u, "cameos": cameo_ids})
        media = [name for p in theirs for name in (p["video"], p["thumbnail"], p["preview"]) if name]
        for cameo in cameos:
            likeness = cameo["likeness"]
            media += [*likeness.get("crops", []), *([likeness["recording"]] if likeness.get("recording") else [])]
        post_ids = [p["id"] for p in theirs]
        # Engagement counters of others' posts lose what this person gave them.
        self._run("UPDATE posts p SET like_count = like_count - 1 FROM likes l"
                  " WHERE l.user_id = %(u)s AND l.post_id = p.id", u)
        self._run("UPDATE posts p SET view_count = view_count - 1 FROM views v"
                  " WHERE v.user_id = %(u)s AND v.post_id = p.id", u)
        self._run("UPDATE posts p SET comment_count = comment_count - n FROM (SELECT post_id, count(*) AS n"
                  " FROM comments WHERE user_id = %(u)s AND deleted_at IS NULL GROUP BY post_id) c"
                  " WHERE c.post_id = p.id", u)
        live_remixes = [p["parent_id"] for p in theirs
                        if p["parent_id"] is not None and p["published_at"] is not None and p["deleted_at"] is None]
        for parent in live_remixes:
            self._run("UPDATE posts SET remix_count = remix_count - 1 WHERE id = %s", (parent,))
        tombstone = {k: self._json(v) if k == "model" else v for k, v in rules.ERASED_POST.items()}
        self._run(f"UPDATE posts SET {', '.join(f'{k} = %({k})s' for k in tombstone)},"
                  f" deleted_at = coalesce(deleted_at, %(now)s), deleted_by = %(actor)s WHERE id = ANY(%(posts)s)",
                  {**u, **tombstone, "posts": post_ids})
        self._run("UPDATE comments SET text = '', deleted_at = coalesce(deleted_at, %(now)s) WHERE user_id = %(u)s", u)
        self._run("UPDATE reports SET status = 'account_deleted', resolved_at = %(now)s WHERE status = 'open' AND ("
                  " (kind = 'user' AND target_id = %(u)s) OR (kind = 'post' AND target_id = ANY(%(posts)s))"
                  " OR (kind = 'comment' AND target_id IN (SELECT id FROM comments WHERE user_id = %(u)s)))",
                  {**u, "posts": post_ids})
        for sql in ("DELETE FROM likes WHERE user_id = %(u)s", "DELETE FROM views WHERE user_id = %(u)s",
                    "DELETE FROM follows WHERE follower_id = %(u)s OR followee_id = %(u)s",
                    "DELETE FROM blocks WHERE blocker_id = %(u)s OR blocked_id = %(u)s",
                    "DELETE FROM reports WHERE reporter_id = %(u)s",
                    "DELETE FROM notifications WHERE user_id = %(u)s OR (data ->> 'by')::bigint = %(u)s",
                    "DELETE FROM sessions WHERE user_id = %(u)s", "DELETE FROM refusals WHERE user_id = %(u)s",
                    "DELETE FROM feed_cursors WHERE viewer_id = %(u)s",
                    "DELETE FROM invites WHERE inviter_id = %(u)s AND used_by IS NULL",
                    "DELETE FROM cameos WHERE owner_id = %(u)s",
                    "UPDATE cameos SET approved_ids = array_remove(approved_ids, %(u)s)"
                    " WHERE %(u)s = ANY(approved_ids)",
                    "UPDATE invites SET inviter_id = NULL WHERE inviter_id = %(u)s",
                    "UPDATE invites SET used_by = NULL WHERE used_by = %(u)s",
                    "UPDATE users SET invited_by = NULL WHERE invited_by = %(u)s"):
            self._run(sql, u)
        handle = self._one("SELECT handle FROM users WHERE id = %(u)s", u)["handle"]
        # Kept: the id and created_at (NOT NULL), so nothing pointing at the id breaks.
        self._run("UPDATE users SET handle = NULL, display_name = NULL, password_hash = NULL, external_id = NULL,"
                  " is_admin = false, suspended_at = NULL, invited_by = NULL, feed_taste = '', less_like = '{}',"
                  " erased_at = %(now)s,"
                  " handle_hash = %(hash)s WHERE id = %(u)s", {**u, "hash": rules.handle_hash(handle)})
        if actor != user_id:
            self._run("INSERT INTO moderation_log (admin_id, action, report_ids, kind, target_id, at)"
                      " VALUES (%(actor)s, 'delete_account', '{}', 'user', %(u)s, %(now)s)", u)
        self._prompts_changed()
        return media
