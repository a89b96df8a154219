"""A person's data, downloaded or erased, on TinyDB."""

from __future__ import annotations

from tinydb.table import Document

from .. import personal_data, rules
from .base import Doc, StoreBase, _serialised


class Accounts(StoreBase):

    @_serialised
    def erase_user(self, actor: int, user_id: int) -> list[str]:
        """Delete an account and everything of it, at once; returns the media names for the caller to erase.

        Allowed to the person and to admins (logged as a moderation action). In one transaction: their posts
        (and every post, anyone's, that stars their cameo) become empty tombstones without text or files, so
        remixes of them stay and show "source deleted"; their comments likewise; their likes, views, follows
        both ways, blocks both ways, reports made, notifications (theirs, and others' naming them), sessions
        (every device), feed wishes, refusals, unused invites and cameo (approvals of them in others' cameos
        too) are removed. The user record keeps only its id, when it was erased, and a hash of the handle that
        holds it for ``HANDLE_HOLD_SECONDS``. Reports about their content and the moderation log stay, without
        their text. Then the journal is compacted, so nothing erased stays on disk, and the indexes are built
        again from the tables.
        """
        self._require_user(user_id)
        rules.may_erase(actor, user_id, self._is_admin(actor), self._is_admin(user_id))
        tables = self._storage.read()
        now = self._now()
        cameo_ids = {int(k) for k, c in tables.get("cameos", {}).items() if c["owner_id"] == user_id}
        theirs = {int(k): p for k, p in tables.get("posts", {}).items()
                  if p["author_id"] == user_id or cameo_ids & set(p["cameo_ids"])}
        media = [name for p in theirs.values() for name in (p["video"], p["thumbnail"], p["preview"]) if name]
        their_comments = {int(k) for k, c in tables.get("comments", {}).items() if c["user_id"] == user_id}
        about_them = [int(k) for k, r in tables.get("reports", {}).items() if r["status"] == "open" and (
            (r["kind"] == "user" and r["target_id"] == user_id) or (r["kind"] == "post" and r["target_id"] in theirs)
            or (r["kind"] == "comment" and r["target_id"] in their_comments))]
        for c in cameo_ids:
            cameo = tables["cameos"][str(c)]
            media += [*cameo.get("crops", []), *([cameo["recording"]] if cameo.get("recording") else [])]

        def ids(table: str, keep) -> list[int]:
            return [int(k) for k, d in tables.get(table, {}).items() if keep(d)]

        with self._storage.transaction():
            for post_id, post in theirs.items():
                self._t.posts.update({**rules.ERASED_POST, "deleted_at": post["deleted_at"] or now,
                                      "deleted_by": actor},
                                     doc_ids=[post_id])
            self._t.comments.update({"text": "", "deleted_at": now}, doc_ids=list(their_comments))
            self._t.reports.update({"status": "account_deleted", "resolved_at": now}, doc_ids=about_them)
            for table, keep in (("likes", lambda d: d["user_id"] == user_id),
                                ("views", lambda d: d.get("user_id") == user_id),
                                ("follows", lambda d: user_id in (d["follower_id"], d["followee_id"])),
                                ("blocks", lambda d: user_id in (d["blocker_id"], d["blocked_id"])),
                                ("reports", lambda d: d["reporter_id"] == user_id),
                                ("notifications", lambda d: d["user_id"] == user_id
                                 or d["data"].get("by") == user_id),
                                ("sessions", lambda d: d["user_id"] == user_id),
                                ("refusals", lambda d: d["user_id"] == user_id),
                                ("invites", lambda d: d["inviter_id"] == user_id and d["used_by"] is None),
                                ("cameos", lambda d: d["owner_id"] == user_id)):
                doomed = ids(table, keep)
                if doomed:
                    getattr(self._t, table).remove(doc_ids=doomed)
            for cameo_id in ids("cameos", lambda d: user_id in d.get("approved_ids", [])):
                approved = [u for u in tables["cameos"][str(cameo_id)]["approved_ids"] if u != user_id]
                self._t.cameos.update({"approved_ids": approved}, doc_ids=[cameo_id])
            self._t.invites.update({"inviter_id": None}, doc_ids=ids("invites", lambda d: d["inviter_id"] == user_id))
            self._t.invites.update({"used_by": None}, doc_ids=ids("invites", lambda d: d["used_by"] == user_id))
            self._t.users.update({"invited_by": None}, doc_ids=ids("users", lambda d: d.get("invited_by") == user_id))
            handle = tables["users"][str(user_id)]["handle"]
            self._t.users.remove(doc_ids=[user_id])
            self._t.users.insert(Document({"erased_at": now, "handle_hash": rules.handle_hash(handle)},
                                          doc_id=user_id))
            if actor != user_id:
                self._t.moderation_log.insert({"admin_id": actor, "action": "delete_account", "report_ids": [],
                                               "kind": "user", "target_id": user_id, "at": now})
        self._storage.compact()  # nothing erased may linger in an old journal line
        self._build_indexes()
        return media

    @_serialised
    def personal_data(self, user_id: int) -> Doc:
        """Everything the store holds about ``user_id``, for them to download (see :mod:`personal_data`)."""
        self._require_user(user_id)
        users = self._storage.read().get("users", {})

        def handle_of(other: int | None) -> str | None:
            doc = users.get(str(other)) if other is not None else None
            return None if doc is None else doc["handle"]

        return personal_data.collect(self._storage.read(), user_id, handle_of)
