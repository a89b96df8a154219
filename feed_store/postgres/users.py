"""Users, invites, sessions and what people tell their feed, on PostgreSQL."""

from __future__ import annotations

import secrets

from psycopg import errors as pg_errors

from .. import rules
from .base import USER_COLUMNS, Doc, StoreBase, as_doc
from .database import operation


class Users(StoreBase):

    @operation
    def create_user(self, handle: str, display_name: str | None = None, *, password_hash: str | None = None,
                    external_id: str | None = None, is_admin: bool = False,
                    invite_code: str | None = None) -> Doc:
        """Register a user. An ``invite_code``, when given, must be unused and is spent."""
        handle = rules.new_handle(handle)
        if self._user_id_of(handle) is not None:
            raise rules.handle_taken(handle)
        erased = self._one("SELECT max(erased_at) AS at FROM users WHERE handle_hash = %s",
                           (rules.handle_hash(handle),))["at"]
        held = 0.0 if erased is None else erased + rules.HANDLE_HOLD_SECONDS
        if held > self._now(event=False):
            raise rules.handle_held(handle, held)
        if external_id is not None and self._one("SELECT 1 FROM users WHERE external_id = %s", (external_id,)):
            raise rules.refusal("already_registered")
        name = rules.display_name(display_name, handle)
        invite = None
        if invite_code is not None:
            invite = self._one("SELECT id, inviter_id FROM invites WHERE code = %s AND used_by IS NULL FOR UPDATE",
                               (invite_code.strip() if isinstance(invite_code, str) else None,))
            if invite is None:
                raise rules.invalid_invite()
        now = self._now()
        try:
            with self.db.cursor.connection.transaction():  # a savepoint: a lost race on the handle is a Conflict
                user = self._one(
                    f"INSERT INTO users (handle, display_name, password_hash, external_id, is_admin, created_at,"
                    f" invited_by) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {USER_COLUMNS}",
                    (handle, name, password_hash, external_id, is_admin, now,
                     None if invite is None else invite["inviter_id"]))
        except pg_errors.UniqueViolation as e:
            raise (rules.refusal("already_registered") if "external_id" in str(e) else rules.handle_taken(handle)) \
                from None
        if invite is not None:
            self._run("UPDATE invites SET used_by = %s, used_at = %s WHERE id = %s", (user["id"], now, invite["id"]))
        return rules.public_user({k: v for k, v in as_doc(user, "users").items() if k != "id"}, user["id"])

    @operation
    def get_user(self, user_id: int) -> Doc:
        """A user's profile fields (never the password hash)."""
        user = self._require_user(user_id)
        return rules.public_user({k: v for k, v in as_doc(user, "users").items()
                                  if k not in ("id", "erased_at")}, user_id)

    @operation
    def is_suspended(self, user_id: int) -> bool:
        """Whether moderators suspended the account (it can no longer sign in or act)."""
        user = self._user_row(user_id)
        return user is not None and user["suspended_at"] is not None

    @operation
    def password_hash(self, handle: str) -> tuple[int, str | None] | None:
        """``(user id, password hash)`` for signing in, or ``None`` for an unknown handle."""
        user_id = self._user_id_of(handle)
        return None if user_id is None else (user_id, self._require_user(user_id)["password_hash"])

    @operation
    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace a user's password hash (a stronger hash of the same password, or a new password)."""
        self._require_user(user_id)
        self._run("UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id))

    @operation
    def user_by_handle(self, handle: str) -> Doc:
        user_id = self._user_id_of(handle)
        if user_id is None:
            raise rules.unknown_handle(handle)
        return self.get_user(user_id)

    @operation
    def user_by_external_id(self, external_id: str) -> Doc | None:
        row = self._one("SELECT id FROM users WHERE external_id = %s", (external_id,))
        return None if row is None else self.get_user(row["id"])

    @operation
    def create_invite(self, inviter: int) -> str:
        """A new single-use invite code from ``inviter``."""
        self._require_user(inviter)
        code = secrets.token_urlsafe(6)
        self._run("INSERT INTO invites (code, inviter_id, created_at) VALUES (%s, %s, %s)",
                  (code, inviter, self._now()))
        return code

    @operation
    def invites_of(self, inviter: int) -> list[Doc]:
        return [as_doc(r, "invites") for r in self._all(
            "SELECT id, code, inviter_id, created_at, used_by, used_at FROM invites WHERE inviter_id = %s ORDER BY id",
            (inviter,))]

    # -- sessions ----------------------------------------------------------------------------------------

    @operation
    def start_session(self, user_id: int, expires_at: float) -> str:
        """A new signed-in session for ``user_id`` until ``expires_at``; returns its id (secret, for the token).

        The user's sessions that have run out are removed at the same time.
        """
        self._require_user(user_id)
        now = self._now()
        sid = secrets.token_urlsafe(18)
        self._run("DELETE FROM sessions WHERE user_id = %s AND expires_at < %s", (user_id, now))
        self._run("INSERT INTO sessions (sid, user_id, created_at, expires_at) VALUES (%s, %s, %s, %s)",
                  (sid, user_id, now, float(expires_at)))
        return sid

    @operation
    def session_user(self, sid: str) -> int | None:
        """Whose session ``sid`` is, or ``None`` once it was ended or ran out."""
        if not isinstance(sid, str):
            return None
        row = self._one("SELECT user_id, expires_at FROM sessions WHERE sid = %s", (sid,))
        return None if row is None or row["expires_at"] < self._clock() else row["user_id"]

    @operation
    def end_session(self, sid: str) -> None:
        """Sign one session out: its token stops working everywhere at once."""
        if isinstance(sid, str):
            self._run("DELETE FROM sessions WHERE sid = %s", (sid,))

    @operation
    def end_sessions(self, user_id: int) -> int:
        """Sign a user out everywhere; returns how many sessions ended."""
        return self._run("DELETE FROM sessions WHERE user_id = %s", (user_id,))

    # -- what people tell their feed -------------------------------------------------------------------------

    @operation
    def set_feed_taste(self, user_id: int, text: str, less_like: list[str]) -> None:
        """Keep what ``user_id`` said they want more or less of, and the prompts they asked to see less like."""
        self._require_user(user_id)
        text, less_like = rules.feed_taste(text, less_like)
        self._run("UPDATE users SET feed_taste = %s, less_like = %s WHERE id = %s", (text, less_like, user_id))

    @operation
    def feed_taste(self, user_id: int) -> tuple[str, list[str]]:
        """What ``user_id`` said they want more or less of, and the prompts they asked to see less like."""
        self._require_user(user_id)
        row = self._one("SELECT feed_taste, less_like FROM users WHERE id = %s", (user_id,))
        return row["feed_taste"], list(row["less_like"])
