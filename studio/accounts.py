"""Who is acting: local accounts (invite + argon2id password), Hugging Face sign-in, and revocable sessions.

A session is a token ``session_id.expiry.signature`` (HMAC-SHA256 under a
secret kept in the data directory), held by the server in the visitor's Gradio
session and in their browser to survive a reload. The session id names a row
in the store, so signing out (one device, or everywhere) ends the token at
once, wherever a copy of it is. Handlers learn the acting user only from
:meth:`Accounts.user_for`: a forged, expired or ended token is nobody.

Passwords are hashed with argon2id. Hashes made before it (bcrypt) still
verify, and are replaced by argon2id at the next sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from feed_store import FeedStore, InvalidInput, PermissionDenied
from pipeline.secret_file import read_or_create_secret

SESSION_DAYS = 30
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
"""Characters; any length up to this works in full (argon2 reads every byte, unlike bcrypt's first 72)."""
FIRST_INVITES = 5
SIGN_UPS_PER_HOUR = 5
"""Sign-ups one network address may make in an hour (in-memory: a restart forgets them)."""


@dataclass(frozen=True)
class FirstStart:
    """What the first start on an empty data directory created (printed once to the console)."""

    admin_handle: str
    admin_password: str
    invite_codes: tuple[str, ...]


class Accounts:
    """Sign-up, sign-in and session tokens over the store's users."""

    def __init__(self, store: FeedStore, secret_path: Path, clock=time.time) -> None:
        self.store = store
        self._secret = read_or_create_secret(secret_path)
        self._clock = clock
        self._lock = threading.Lock()
        self._sign_ups: dict[str, list[float]] = {}

    def sign_up(self, handle: str, password: str, invite_code: str, display_name: str | None = None,
                address: str | None = None) -> str:
        """Create an account with an invite code; returns a session token.

        ``address`` (the client's network address) is throttled to
        ``SIGN_UPS_PER_HOUR`` accounts an hour.
        """
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise InvalidInput(f"Choose a password of at least {MIN_PASSWORD} characters.")
        if len(password) > MAX_PASSWORD or "\0" in password:
            raise InvalidInput(f"Choose a password of at most {MAX_PASSWORD} characters, without NUL characters.")
        if not isinstance(invite_code, str) or not invite_code.strip():
            raise InvalidInput("Dreamreel is invite-only: enter the invite code a member gave you.")
        self._throttle(address)
        hashed = _hasher.hash(password)
        user = self.store.create_user(handle, display_name, password_hash=hashed, invite_code=invite_code)
        if address is not None:
            with self._lock:
                self._sign_ups.setdefault(address, []).append(self._clock())
        return self.session_for(user["id"])

    def _throttle(self, address: str | None) -> None:
        if address is None:
            return
        now = self._clock()
        with self._lock:
            recent = [t for t in self._sign_ups.get(address, []) if t > now - 3600]
            self._sign_ups[address] = recent
        if len(recent) >= SIGN_UPS_PER_HOUR:
            wait = int((recent[0] + 3600 - now) // 60) + 1
            raise PermissionDenied(f"Too many new accounts from your network in the last hour; "
                                   f"try again in {wait} minutes.")

    def sign_in(self, handle: str, password: str) -> str:
        """A session token for the right password; the same refusal for a wrong handle or password."""
        found = self.store.password_hash(handle) if isinstance(handle, str) else None
        stored = found[1] if found else None
        password = password if isinstance(password, str) and len(password) <= MAX_PASSWORD else ""
        # The hash runs either way, so the answer takes as long for an unknown handle as for a known one.
        ok = _verify(stored or _DUMMY_HASH, password)
        if not (found and stored and ok):
            raise PermissionDenied("Wrong handle or password.")
        if self.store.is_suspended(found[0]):
            raise PermissionDenied("This account is suspended by the moderators.")
        if _needs_rehash(stored):
            self.store.set_password_hash(found[0], _hasher.hash(password))
        return self.session_for(found[0])

    def sign_in_external(self, username: str, display_name: str | None = None) -> str:
        """A session for a Hugging Face account (OAuth), registering it on first sign-in."""
        external_id = f"hf:{username}"
        with self._lock:
            user = self.store.user_by_external_id(external_id)
            if user is None:
                handle = _free_handle(self.store, username)
                user = self.store.create_user(handle, display_name or username, external_id=external_id)
        if self.store.is_suspended(user["id"]):
            raise PermissionDenied("This account is suspended by the moderators.")
        return self.session_for(user["id"])

    def session_for(self, user_id: int) -> str:
        """A new session token for ``user_id`` (a new row in the store: it can be ended on its own)."""
        expiry = int(self._clock()) + SESSION_DAYS * 86400
        payload = f"{self.store.start_session(user_id, expiry)}.{expiry}"
        return f"{payload}.{self._sign(payload)}"

    def _session_id(self, token: object) -> str | None:
        """The session id of a well-formed, correctly signed, unexpired token, else ``None``."""
        if not isinstance(token, str) or token.count(".") != 2 or not token.isascii():
            return None
        sid, expiry, signature = token.split(".")
        if not hmac.compare_digest(signature, self._sign(f"{sid}.{expiry}")):
            return None
        return sid if expiry.isdigit() and int(expiry) >= self._clock() else None

    def user_for(self, token: str | None) -> int | None:
        """The user a session token stands for, or ``None`` (missing, forged, expired, ended, or suspended)."""
        sid = self._session_id(token)
        user_id = None if sid is None else self.store.session_user(sid)
        if user_id is None or self.store.is_suspended(user_id):
            return None
        return user_id

    def sign_out(self, token: str | None) -> None:
        """End this session: the token no longer works, in this browser or any copy of it."""
        sid = self._session_id(token)
        if sid is not None:
            self.store.end_session(sid)

    def sign_out_everywhere(self, token: str | None) -> int:
        """End every session of the token's user (all devices); returns how many ended."""
        user_id = self.user_for(token)
        if user_id is None:
            raise PermissionDenied("Sign in to sign out your other devices.")
        return self.store.end_sessions(user_id)

    def confirm_deletion(self, token: str | None, password: str | None, typed: str | None) -> int:
        """The user who may delete their account now: signed in, their password right (an account made with
        Hugging Face sign-in has none: being signed in is the proof), and their handle typed to confirm."""
        user_id = self.user_for(token)
        if user_id is None:
            raise PermissionDenied("Sign in to delete your account.")
        handle = self.store.get_user(user_id)["handle"]
        found = self.store.password_hash(handle)
        stored = found[1] if found else None
        if stored is not None:
            password = password if isinstance(password, str) and len(password) <= MAX_PASSWORD else ""
            if not _verify(stored, password):
                raise PermissionDenied("Wrong password: your account was not deleted.")
        if str(typed or "").strip().lstrip("@").lower() != handle:
            raise InvalidInput(f"Type your handle, {handle}, to confirm: your account was not deleted.")
        return user_id

    def first_start(self) -> FirstStart | None:
        """On a store with no users: an admin with a random password and a few invite codes."""
        with self._lock:
            if self.store.stats()["users"]:
                return None
            password = secrets.token_urlsafe(12)
            hashed = _hasher.hash(password)
            admin = self.store.create_user("admin", "Dreamreel admin", password_hash=hashed, is_admin=True)
            codes = tuple(self.store.create_invite(admin["id"]) for _ in range(FIRST_INVITES))
            return FirstStart("admin", password, codes)

    def derived_secret(self, purpose: str) -> str:
        """A secret for another use (e.g. encrypting the browser's saved session), derived from this instance's."""
        return hmac.new(self._secret, purpose.encode(), hashlib.sha256).hexdigest()

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:32]


_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" profile
_DUMMY_HASH = _hasher.hash("not a password")


def _verify(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored``: an argon2id hash, or a bcrypt one from before."""
    if stored.startswith("$2"):
        encoded = password.encode()
        # bcrypt reads 72 bytes at most; a longer password never matched one of these hashes.
        return len(encoded) <= 72 and bcrypt.checkpw(encoded, stored.encode())
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _needs_rehash(stored: str) -> bool:
    return stored.startswith("$2") or _hasher.check_needs_rehash(stored)


def _free_handle(store: FeedStore, username: str) -> str:
    """A handle from a Hugging Face username: lowercased, invalid characters dropped, numbered if taken."""
    base = "".join(c for c in username.lower().replace("-", "_") if c.isalnum() or c == "_")[:26] or "user"
    base = base if len(base) >= 3 else f"{base}_hf"
    for n in range(1000):
        handle = base if n == 0 else f"{base}{n}"
        if store.password_hash(handle) is None:
            return handle
    raise InvalidInput("Could not find a free handle for this account.")
