"""Reports, moderators' decisions, refused prompts and the moderation log, on TinyDB."""

from __future__ import annotations

from vocabulary import MAX_TEXT

from .. import rules
from ..text import checked_text
from .base import Doc, StoreBase, _serialised


class Moderation(StoreBase):

    def _load_moderation(self, tables: Doc) -> None:
        self._reported: dict[int, dict[int, float]] = {}  # reporter -> {post: when}
        for r in tables.get("reports", {}).values():
            if r["kind"] == "post":
                self._reported.setdefault(r["reporter_id"], {})[r["target_id"]] = r["created_at"]

    @_serialised
    def report(self, actor: int, kind: str, target_id: int, reason: str) -> Doc:
        """Report a post, comment or user to the moderators; a reported post leaves the reporter's feeds."""
        rules.check_report_kind(kind)
        reason = checked_text(reason, "A reason")
        self._require_user(actor)
        if kind == "post":
            self._visible_post(actor, target_id)
        elif kind == "comment":
            self._visible_comment(actor, target_id)
        else:
            self._require_user(target_id)
        now = self._now()
        report = {"reporter_id": actor, "kind": kind, "target_id": target_id, "reason": reason,
                  "created_at": now, "status": "open"}
        report_id = self._t.reports.insert(report)
        if kind == "post":
            self._reported.setdefault(actor, {}).setdefault(target_id, now)
        return rules.record("reports", report, report_id)

    @_serialised
    def open_reports(self, admin: int) -> list[Doc]:
        """The moderation queue: open reports, oldest first, each with who reported it and what it is about."""
        self._require_admin(admin)
        reports = sorted(self._t.reports.search(lambda r: r["status"] == "open"), key=lambda r: r["created_at"])
        return [{**rules.record("reports", r, r.doc_id), "reporter": self._handle(r["reporter_id"]), **self._target(r)}
                for r in reports]

    def _target(self, report: Doc) -> Doc:
        """What a report is about, for the moderator: whose it is and what it says."""
        kind, target_id = report["kind"], report["target_id"]
        if kind == "user":
            return {"target_author": self._handle(target_id), "target_text": None}
        doc = self._get(kind + "s", target_id, kind)
        author = doc["author_id"] if kind == "post" else doc["user_id"]
        return {"target_author": self._handle(author), "target_text": doc["prompt"] if kind == "post" else doc["text"]}

    @_serialised
    def resolve_report(self, admin: int, report_id: int, action: str) -> tuple[Doc, Doc | None]:
        """Take down the reported post or comment, suspend the reported user, or dismiss the report.

        Logged with who and when. Every open report on the same target is
        closed with it. Returns the report and, for a post taken down, the
        post (whose files the caller erases).
        """
        self._require_admin(admin)
        report = self._get("reports", report_id, "report")
        if report["status"] != "open":
            raise rules.refusal("report_handled")
        rules.check_moderation_action(action)
        removed = None
        if action == "take_down":
            target = report["target_id"]
            if report["kind"] == "post":
                removed = self.delete_post(admin, target)
                author = removed["author_id"]
            elif report["kind"] == "comment":
                self.delete_comment(admin, target)
                author = self._get("comments", target, "comment")["user_id"]
            else:
                self._suspend(target)
                author = target
            self._tell(author, "moderation", {"kind": report["kind"], "target_id": target, "action": action,
                                              "reason": report["reason"]})
        now = self._now()
        same = [r.doc_id for r in self._t.reports.search(
            lambda r: r["status"] == "open" and r["kind"] == report["kind"] and r["target_id"] == report["target_id"])]
        with self._storage.transaction():
            self._t.reports.update({"status": action, "resolved_by": admin, "resolved_at": now}, doc_ids=same)
            self._t.moderation_log.insert({"admin_id": admin, "action": action, "report_ids": same,
                                           "kind": report["kind"], "target_id": report["target_id"], "at": now})
        return rules.record("reports", self._get("reports", report_id, "report"), report_id), removed

    def _suspend(self, user_id: int) -> None:
        """Suspend an account: it can no longer sign in or act, and its videos leave every feed."""
        user = self._require_user(user_id)
        if user.get("is_admin"):
            raise rules.refusal("suspend_moderator")
        if user_id not in self._suspended:
            now = self._now()
            self._t.users.update({"suspended_at": now}, doc_ids=[user_id])
            self._suspended[user_id] = now

    @_serialised
    def record_refusal(self, actor: int, what: str, category: str, text: str) -> None:
        """Keep a prompt or comment that moderation refused, so moderators can see who keeps trying."""
        self._require_user(actor)
        self._t.refusals.insert({"user_id": actor, "what": what, "category": category, "text": text[:MAX_TEXT],
                                 "at": self._now()})

    @_serialised
    def refusals(self, admin: int, limit: int = 50) -> list[Doc]:
        """The latest refused prompts and comments, newest first, with their authors' handles."""
        self._require_admin(admin)
        table = self._storage.read().get("refusals", {})
        newest = sorted(table, key=int, reverse=True)[:limit]
        return [{"id": int(k), **table[k], "handle": self._get("users", table[k]["user_id"], "user")["handle"]}
                for k in newest]

    @_serialised
    def moderation_log(self, admin: int) -> list[Doc]:
        """Every moderation action, newest first: who did what to which report, and when."""
        self._require_admin(admin)
        entries = (rules.record("moderation_log", e, e.doc_id) for e in self._t.moderation_log.all())
        return sorted(entries, key=lambda e: -e["at"])
