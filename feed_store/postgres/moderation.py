"""Reports, moderators' decisions, refused prompts and the moderation log, on PostgreSQL."""

from __future__ import annotations

from vocabulary import MAX_TEXT

from .. import rules
from ..text import checked_text
from .base import Doc, StoreBase, as_doc
from .database import operation

REPORT_COLUMNS = "id, reporter_id, kind, target_id, reason, created_at, status, resolved_by, resolved_at"


class Moderation(StoreBase):

    @operation
    def report(self, actor: int, kind: str, target_id: int, reason: str) -> Doc:
        """Report a post, comment or user to the moderators; a reported post leaves the reporter's feeds."""
        rules.check_report_kind(kind)
        reason = checked_text(reason, "A reason")
        self._require_user(actor)
        if kind == "post":
            self._visible_post(self._viewer(actor), target_id)
        elif kind == "comment":
            self._visible_comment(actor, target_id)
        else:
            self._require_user(target_id)
        row = self._one(f"INSERT INTO reports (reporter_id, kind, target_id, reason, created_at) VALUES"
                        f" (%s, %s, %s, %s, %s) RETURNING {REPORT_COLUMNS}",
                        (actor, kind, target_id, reason, self._now()))
        return as_doc(row, "reports")

    @operation
    def open_reports(self, admin: int) -> list[Doc]:
        """The moderation queue: open reports, oldest first, each with who reported it and what it is about."""
        rules.require_admin(self._is_admin(admin))
        rows = self._all(f"SELECT {REPORT_COLUMNS} FROM reports WHERE status = 'open' ORDER BY created_at, id")
        return [{**as_doc(r, "reports"), "reporter": self._handle(r["reporter_id"]), **self._target(r)}
                for r in rows]

    def _target(self, report: Doc) -> Doc:
        """What a report is about, for the moderator: whose it is and what it says."""
        kind, target_id = report["kind"], report["target_id"]
        if kind == "user":
            return {"target_author": self._handle(target_id), "target_text": None}
        if kind == "post":
            row = self._one("SELECT author_id AS author, prompt AS text FROM posts WHERE id = %s", (target_id,))
        else:
            row = self._one("SELECT user_id AS author, text FROM comments WHERE id = %s", (target_id,))
        return {"target_author": self._handle(row["author"]), "target_text": row["text"]}

    @operation
    def resolve_report(self, admin: int, report_id: int, action: str) -> tuple[Doc, Doc | None]:
        """Take down the reported post or comment, suspend the reported user, or dismiss the report.

        Logged with who and when. Every open report on the same target is
        closed with it. Returns the report and, for a post taken down, the
        post (whose files the caller erases).
        """
        rules.require_admin(self._is_admin(admin))
        report = None
        if isinstance(report_id, int) and not isinstance(report_id, bool) and 0 < report_id < 2 ** 63:
            report = self._one(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id = %s FOR UPDATE", (report_id,))
        if report is None:
            raise rules.missing("report", report_id)
        if report["status"] != "open":
            raise rules.refusal("report_handled")
        rules.check_moderation_action(action)
        removed = None
        target = report["target_id"]
        if action == "take_down":
            if report["kind"] == "post":
                removed = self.delete_post(admin, target)
                author = removed["author_id"]
            elif report["kind"] == "comment":
                self.delete_comment(admin, target)
                author = self._comment(target)["user_id"]
            else:
                self._suspend(target)
                author = target
            self._tell(author, "moderation", {"kind": report["kind"], "target_id": target, "action": action,
                                              "reason": report["reason"]})
        now = self._now()
        same = [r["id"] for r in self._all(
            "UPDATE reports SET status = %s, resolved_by = %s, resolved_at = %s"
            " WHERE status = 'open' AND kind = %s AND target_id = %s RETURNING id",
            (action, admin, now, report["kind"], target))]
        self._run("INSERT INTO moderation_log (admin_id, action, report_ids, kind, target_id, at)"
                  " VALUES (%s, %s, %s, %s, %s, %s)", (admin, action, sorted(same), report["kind"], target, now))
        row = self._one(f"SELECT {REPORT_COLUMNS} FROM reports WHERE id = %s", (report_id,))
        return as_doc(row, "reports"), removed

    def _suspend(self, user_id: int) -> None:
        """Suspend an account: it can no longer sign in or act, and its videos leave every feed."""
        user = self._require_user(user_id)
        if user["is_admin"]:
            raise rules.refusal("suspend_moderator")
        self._run("UPDATE users SET suspended_at = %s WHERE id = %s AND suspended_at IS NULL", (self._now(), user_id))

    @operation
    def record_refusal(self, actor: int, what: str, category: str, text: str) -> None:
        """Keep a prompt or comment that moderation refused, so moderators can see who keeps trying."""
        self._require_user(actor)
        self._run("INSERT INTO refusals (user_id, what, category, text, at) VALUES (%s, %s, %s, %s, %s)",
                  (actor, what, category, text[:MAX_TEXT], self._now()))

    @operation
    def refusals(self, admin: int, limit: int = 50) -> list[Doc]:
        """The latest refused prompts and comments, newest first, with their authors' handles."""
        rules.require_admin(self._is_admin(admin))
        return [as_doc(r, "refusals") for r in self._all(
            "SELECT r.id, r.user_id, r.what, r.category, r.text, r.at, u.handle FROM refusals r"
            " JOIN users u ON u.id = r.user_id ORDER BY r.id DESC LIMIT %s", (limit,))]

    @operation
    def moderation_log(self, admin: int) -> list[Doc]:
        """Every moderation action, newest first: who did what to which report, and when."""
        rules.require_admin(self._is_admin(admin))
        return [as_doc(r, "moderation_log") for r in self._all(
            "SELECT id, admin_id, action, report_ids, kind, target_id, at FROM moderation_log ORDER BY at DESC, id")]
