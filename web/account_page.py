"""Signing up, in and out, and invites: the "Me" section.

The session token lives on the server (``gr.State``) and, encrypted, in the
browser (``gr.BrowserState``), so a reload keeps a person signed in; signing
out ends the session itself, so no saved copy signs anyone in again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import gradio as gr

from .views import SOMETHING_WENT_WRONG, error, markdown_text, notice, user_facing

if TYPE_CHECKING:
    from .handlers import App

log = logging.getLogger("dreamreel")


class AccountPage:
    """Session handlers. Each returns the new token twice (server state, browser copy) and the "who am I" line."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.accounts = app.accounts

    def _signed_in_as(self, token: str | None):
        return token, token, self.app.whoami(self.accounts.user_for(token))

    def restore(self, saved: str | None, request: gr.Request):
        """On page load: the session saved in this browser, and the post a shared link names."""
        token = saved if self.accounts.user_for(saved) is not None else None
        return (*self._signed_in_as(token), request.query_params.get("post") or "")

    def restore_on_space(self, saved: str | None, request: gr.Request, profile: gr.OAuthProfile | None):
        """On a Space: the visitor's Hugging Face account is their Dreamreel account."""
        if profile is None:
            return (*self._signed_in_as(None), request.query_params.get("post") or "")
        return self.restore(self.accounts.sign_in_external(profile.username, profile.name), request)

    @user_facing
    def sign_up(self, handle: str, password: str, invite: str, request: gr.Request):
        token = self.accounts.sign_up(handle, password, invite, address=self.app.client_address(request))
        notice("Welcome to Dreamreel!")
        return self._signed_in_as(token)

    @user_facing
    def sign_in(self, handle: str, password: str):
        return self._signed_in_as(self.accounts.sign_in(handle, password))

    def sign_out(self, session: str | None):
        self.accounts.sign_out(session)  # the token stops working, in this browser and any copy of it
        return self._signed_in_as(None)

    @user_facing
    def sign_out_everywhere(self, session: str | None):
        ended = self.accounts.sign_out_everywhere(session)
        notice(f"Signed out of {ended} session{'' if ended == 1 else 's'}, on every device.")
        return self._signed_in_as(None)

    def signed_in_controls(self, session: str | None):
        """The sign-up and sign-in forms for a visitor; sign-out and invites for a member."""
        member = self.accounts.user_for(session) is not None
        return gr.Row(visible=not member and not self.app.on_space), gr.Column(visible=member)

    @user_facing
    def download(self, session: str | None):
        """Start building the person's archive in the background; the page asks for it until it is ready.

        Outputs: the file (hidden until ready), the timer that asks, and a line saying what is happening."""
        user = self.accounts.user_for(session)
        if user is None:
            raise error("Sign in to download your data.")
        self.app.start_export(user)
        return gr.File(visible=False), gr.Timer(active=True), "Preparing your data… you can keep watching meanwhile."

    @user_facing
    def export_ready(self, session: str | None):
        """The timer's question: is the archive ready? (A private link to this browser, kept 10 minutes.)"""
        user = self.accounts.user_for(session)
        try:
            path = self.app.finished_export(user) if user is not None else None
        except Exception:  # the build failed: say so once, and stop asking
            log.exception("a data export failed")
            return gr.File(visible=False), gr.Timer(active=False), SOMETHING_WENT_WRONG
        if path is None:
            return gr.skip(), gr.skip(), gr.skip()
        return gr.File(str(path), visible=True), gr.Timer(active=False), "Your data is ready: everything Dreamreel " \
            "keeps about you is in this file."

    @user_facing
    def delete_account(self, session: str | None, password: str, typed: str):
        """Delete the account at once, after the password and the typed handle; every device is signed out."""
        user = self.accounts.confirm_deletion(session, password, typed)
        self.app.cancel_generation(user)
        self.app.studio.erase_account(user, user)
        notice("Your account and everything in it are deleted. Goodbye, and thank you for the videos.")
        return (*self._signed_in_as(None), "", "")

    @user_facing
    def new_invite(self, session: str | None) -> str:
        user = self.accounts.user_for(session)
        self.app.studio.new_invite(user)
        rows = [f"- {markdown_text(i['code'])}" + (" (used)" if i["used_by"] is not None else "")
                for i in self.app.studio.invites(user)]
        return "Your invite codes (each lets one friend join):\n" + "\n".join(rows)
