"""Who is acting: local accounts (invite + bcrypt password), Hugging Face sign-in, and signed sessions.

A session is a token ``user_id.expiry.signature`` (HMAC-SHA256 under a secret
kept in the data directory), held by the server in the visitor's Gradio
session and in their browser to survive a reload. Handlers learn the acting
user only from :meth:`Accounts.user_for`: a forged or expired token is nobody.
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

from feed_store import FeedStore, InvalidInput, PermissionDenied

SESSION_DAYS = 30
MIN_PASSWORD = 8
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
        self._secret = _load_or_create_secret(secret_path)
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
        if not (invite_code or "").strip():
            raise InvalidInput("Dreamreel is invite-only: enter the invite code a member gave you.")
        self._throttle(address)
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
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
        found = self.store.password_hash(handle or "")
        stored = found[1] if found else None
        # bcrypt runs either way, so the answer takes as long for an unknown handle as for a known one.
        ok = bcrypt.checkpw((password or "").encode(), (stored or _DUMMY_HASH).encode())
        if not (found and stored and ok):
            raise PermissionDenied("Wrong handle or password.")
        if self.store.is_suspended(found[0]):
            raise PermissionDenied("This account is suspended by the moderators.")
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
        expiry = int(self._clock()) + SESSION_DAYS * 86400
        payload = f"{user_id}.{expiry}"
        return f"{payload}.{self._sign(payload)}"

    def user_for(self, token: str | None) -> int | None:
        """The user a session token stands for, or ``None`` (missing, forged, expired, user gone or suspended)."""
        try:
            user_id, expiry, signature = (token or "").split(".")
            if not hmac.compare_digest(signature, self._sign(f"{user_id}.{expiry}")) or int(expiry) < self._clock():
                return None
            self.store.get_user(int(user_id))
            return None if self.store.is_suspended(int(user_id)) else int(user_id)
        except (ValueError, LookupError):
            return None

    def first_start(self) -> FirstStart | None:
        """On a store with no users: an admin with a random password and a few invite codes."""
        with self._lock:
            if self.store.stats()["users"]:
                return None
            password = secrets.token_urlsafe(12)
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
            admin = self.store.create_user("admin", "Dreamreel admin", password_hash=hashed, is_admin=True)
            codes = tuple(self.store.create_invite(admin["id"]) for _ in range(FIRST_INVITES))
            return FirstStart("admin", password, codes)

    def derived_secret(self, purpose: str) -> str:
        """A secret for another use (e.g. encrypting the browser's saved session), derived from this instance's."""
        return hmac.new(self._secret, purpose.encode(), hashlib.sha256).hexdigest()

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:32]


_DUMMY_HASH = bcrypt.hashpw(b"not a password", bcrypt.gensalt()).decode()


def _load_or_create_secret(path: Path) -> bytes:
    """The instance's signing secret, made once (readable by its owner only)."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(secrets.token_bytes(32))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_bytes()


def _free_handle(store: FeedStore, username: str) -> str:
    """A handle from a Hugging Face username: lowercased, invalid characters dropped, numbered if taken."""
    base = "".join(c for c in username.lower().replace("-", "_") if c.isalnum() or c == "_")[:26] or "user"
    base = base if len(base) >= 3 else f"{base}_hf"
    for n in range(1000):
        handle = base if n == 0 else f"{base}{n}"
        if store.password_hash(handle) is None:
            return handle
    raise InvalidInput("Could not find a free handle for this account.")
