"""Users, invites, sessions and what people tell their feed, on TinyDB."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from .. import rules
from .base import Doc, StoreBase, _serialised, _Session


class Users(StoreBase):

    def _load_users(self, tables: Doc) -> None:
        self._handles: dict[str, int] = {}
        self._held_handles: dict[str, float] = {}  # hash of an erased account's handle -> when it is free again
        self._external_ids: dict[str, int] = {}
        self._max_user_id = 0
        self._suspended: dict[int, float] = {}  # user -> when
        for key, user in tables.get("users", {}).items():
            self._index_user(int(key), user)
        self._invite_ids = {inv["code"]: int(key) for key, inv in tables.get("invites", {}).items()}

    def _load_sessions(self, tables: Doc) -> None:
        self._sessions: dict[str, _Session] = {}
        self._sessions_of: dict[int, set[str]] = {}
        for key, session in tables.get("sessions", {}).items():
            self._index_session(int(key), session)

    def _index_user(self, user_id: int, user: Doc) -> None:
        self._max_user_id = max(self._max_user_id, user_id)
        if user.get("erased_at") is not None:
            self._held_handles[user["handle_hash"]] = user["erased_at"] + rules.HANDLE_HOLD_SECONDS
            return
        self._handles[user["handle"]] = user_id
        if user.get("external_id"):
            self._external_ids[user["external_id"]] = user_id
        self._max_user_id = max(self._max_user_id, user_id)
        if user.get("suspended_at") is not None:
            self._suspended[user_id] = user["suspended_at"]

    @_serialised
    def create_user(self, handle: str, display_name: str | None = None, *, password_hash: str | None = None,
                    external_id: str | None = None, is_admin: bool = False,
                    invite_code: str | None = None) -> Doc:
        """Register a user. An ``invite_code``, when given, must be unused and is spent."""
        handle = rules.new_handle(handle)
        if handle in self._handles:
            raise rules.handle_taken(handle)
        held = self._held_handles.get(rules.handle_hash(handle), 0.0)
        if held > self._now(event=False):
            raise rules.handle_held(handle, held)
        if external_id is not None and external_id in self._external_ids:
            raise rules.refusal("already_registered")
        name = rules.display_name(display_name, handle)
        invite_id = invite = None
        if invite_code is not None:
            invite_id = self._invite_ids.get(invite_code.strip())
            invite = None if invite_id is None else self._get("invites", invite_id, "invite")
            if invite is None or invite["used_by"] is not None:
                raise rules.invalid_invite()
        now = self._now()
        user = {"handle": handle, "display_name": name, "password_hash": password_hash,
                "external_id": external_id, "is_admin": is_admin, "created_at": now,
                "invited_by": None if invite is None else invite["inviter_id"]}
        with self._storage.transaction():
            user_id = self._t.users.insert(user)
            if invite_id is not None:
                self._t.invites.update({"used_by": user_id, "used_at": now}, doc_ids=[invite_id])
        self._index_user(user_id, user)
        return rules.public_user(user, user_id)

    @_serialised
    def get_user(self, user_id: int) -> Doc:
        """A user's profile fields (never the password hash)."""
        return rules.public_user(self._require_user(user_id), user_id)

    @_serialised
    def is_suspended(self, user_id: int) -> bool:
        """Whether moderators suspended the account (it can no longer sign in or act)."""
        return user_id in self._suspended

    @_serialised
    def password_hash(self, handle: str) -> tuple[int, str | None] | None:
        """``(user id, password hash)`` for signing in, or ``None`` for an unknown handle."""
        user_id = self._user_id_of(handle)
        return None if user_id is None else (user_id, self._require_user(user_id)["password_hash"])

    @_serialised
    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace a user's password hash (a stronger hash of the same password, or a new password)."""
        self._require_user(user_id)
        self._t.users.update({"password_hash": password_hash}, doc_ids=[user_id])

    @_serialised
    def user_by_handle(self, handle: str) -> Doc:
        user_id = self._user_id_of(handle)
        if user_id is None:
            raise rules.unknown_handle(handle)
        return self.get_user(user_id)

    @_serialised
    def user_by_external_id(self, external_id: str) -> Doc | None:
        user_id = self._external_ids.get(external_id)
        return None if user_id is None else self.get_user(user_id)

    @_serialised
    def create_invite(self, inviter: int) -> str:
        """A new single-use invite code from ``inviter``."""
        self._require_user(inviter)
        code = secrets.token_urlsafe(6)
        invite_id = self._t.invites.insert({"code": code, "inviter_id": inviter, "created_at": self._now(),
                                          "used_by": None, "used_at": None})
        self._invite_ids[code] = invite_id
        return code

    @_serialised
    def invites_of(self, inviter: int) -> list[Doc]:
        mine = self._t.invites.search(lambda d: d["inviter_id"] == inviter)
        return [rules.record("invites", doc, doc.doc_id) for doc in mine]

    def _index_session(self, doc_id: int, session: Doc) -> None:
        self._sessions[session["sid"]] = _Session(session["user_id"], doc_id, session["expires_at"])
        self._sessions_of.setdefault(session["user_id"], set()).add(session["sid"])

    def _forget_sessions(self, sids: Iterable[str]) -> None:
        """Remove sessions (inside the caller's transaction when there is one) and their index entries."""
        ended = {sid: self._sessions[sid] for sid in sids if sid in self._sessions}
        if ended:
            self._t.sessions.remove(doc_ids=[session.doc_id for session in ended.values()])
        for sid, session in ended.items():
            del self._sessions[sid]
            self._sessions_of[session.user_id].discard(sid)

    @_serialised
    def start_session(self, user_id: int, expires_at: float) -> str:
        """A new signed-in session for ``user_id`` until ``expires_at``; returns its id (secret, for the token).

        The user's sessions that have run out are removed at the same time, so
        the table holds about one row per signed-in device.
        """
        self._require_user(user_id)
        now = self._now()
        sid = secrets.token_urlsafe(18)
        session = {"sid": sid, "user_id": user_id, "created_at": now, "expires_at": float(expires_at)}
        expired = [s for s in self._sessions_of.get(user_id, ()) if self._sessions[s].expires_at < now]
        with self._storage.transaction():
            self._forget_sessions(expired)
            doc_id = self._t.sessions.insert(session)
        self._index_session(doc_id, session)
        return sid

    @_serialised
    def session_user(self, sid: str) -> int | None:
        """Whose session ``sid`` is, or ``None`` once it was ended or ran out."""
        session = self._sessions.get(sid) if isinstance(sid, str) else None
        if session is None or session.expires_at < self._clock():
            return None
        return session.user_id

    @_serialised
    def end_session(self, sid: str) -> None:
        """Sign one session out: its token stops working everywhere at once."""
        if isinstance(sid, str):
            self._forget_sessions([sid])

    @_serialised
    def end_sessions(self, user_id: int) -> int:
        """Sign a user out everywhere; returns how many sessions ended."""
        sids = list(self._sessions_of.get(user_id, ()))
        self._forget_sessions(sids)
        return len(sids)

    @_serialised
    def set_feed_taste(self, user_id: int, text: str, less_like: list[str]) -> None:
        """Keep what ``user_id`` said they want more or less of, and the prompts they asked to see less like."""
        self._require_user(user_id)
        text, less_like = rules.feed_taste(text, less_like)
        self._t.users.update({"feed_taste": text, "less_like": less_like}, doc_ids=[user_id])

    @_serialised
    def feed_taste(self, user_id: int) -> tuple[str, list[str]]:
        """What ``user_id`` said they want more or less of, and the prompts they asked to see less like."""
        user = self._require_user(user_id)
        return user.get("feed_taste", ""), list(user.get("less_like", []))
