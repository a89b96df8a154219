"""One running instance: its packages, how it is served, and the handlers shared by every section.

The sections have their own modules (``feed_page``, ``create_page``,
``cameo_page``, ``profile_page``, ``account_page``); here are what they share:
who a session token stands for, private copies of uploads, the head-turn
challenge kept per person, moving between sections, the Activity badge and
inbox, and the admin's moderation queue and Verify. Each handler resolves the
acting user from the server-held session token (:meth:`Accounts.user_for`)
and calls :class:`Studio`; nothing here decides what a user may do.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.utils import get_upload_folder

from cameo import CameoRejected, Cameos, Challenge, FaceDetector, default_embedder
from feed_store import StoreError
from feed_store.media import MediaFolder
from settings import Settings

from studio import Accounts, Studio, UserView
from studio.demo import seed_demo_community
from vocabulary import MAX_UPLOAD_MB

from .inbox import inbox_value
from .inputs import received_upload
from .nav import section_of
from .views import (
    error, markdown_text, moderation_log_html, notice, refusals_html, report_html, user_facing, verify_html,
)

if TYPE_CHECKING:
    from .account_page import AccountPage
    from .feed_page import FeedPage

log = logging.getLogger("dreamreel")
EXPORT_MINUTES = 10
"""How long an export's file is kept before the next export removes it (Gradio's cached copy: the same)."""


class App:
    """Holds the packages for one running instance and answers the page's events."""

    def __init__(self, settings: Settings, accounts: Accounts, studio: Studio) -> None:
        self.settings = settings
        self.accounts = accounts
        self.studio = studio
        self.on_space = bool(os.environ.get("SPACE_ID") and os.environ.get("OAUTH_CLIENT_ID"))
        self.browser_secret = accounts.derived_secret("browser-state")
        self._challenges: dict[int, Challenge] = {}
        self._lock = threading.Lock()
        self._exporter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")
        self._exports: dict[int, Future[Path]] = {}
        self._on_cancel: list[Callable[[int], None]] = []
        """Who stops a user's running generation (the Create section registers itself)."""

    @classmethod
    def from_env(cls) -> App:
        settings = Settings.from_env()
        store = settings.open_store()
        media = MediaFolder(settings.media_dir)
        accounts = Accounts(store, settings.data_dir / "secret.key")
        studio = Studio(store, media, Cameos(store, media, FaceDetector(), default_embedder()), settings.load_model,
                        provenance=settings.provenance(), daily_generations=settings.daily_generations)
        return cls(settings, accounts, studio)

    def launch_options(self) -> dict[str, Any]:
        """Serve the videos folder, and nothing else of the data directory (not the cameo crops beside it).

        Its files are served in place, not copied to Gradio's cache, so a deleted video is gone for everyone.
        Uploads over ``MAX_UPLOAD_MB`` are refused by Gradio before they are received in full.

        The client address (for the sign-up throttle) is the socket's, unless the connection comes from a
        proxy named in ``DREAMREEL_TRUSTED_PROXIES``: uvicorn, which Gradio starts, reads forwarding headers
        only from the hosts in ``FORWARDED_ALLOW_IPS`` (by default it trusts any local connection).
        """
        videos = self.studio.videos_dir.resolve()
        videos.mkdir(parents=True, exist_ok=True)
        gr.set_static_paths([str(videos)])
        os.environ["FORWARDED_ALLOW_IPS"] = ",".join(self.settings.trusted_proxies)
        # show_error: the handlers turn every error into a message a user can act on (views.user_facing), so what
        # reaches Gradio unhandled is Gradio's own refusal of a request, e.g. a file argument that names a path it
        # was never sent; without show_error that refusal would reach the visitor as an empty "Error".
        shell = (Path(__file__).parent / "static" / "shell.css").read_text()
        return {"allowed_paths": [str(videos)], "max_file_size": f"{MAX_UPLOAD_MB}mb", "show_error": True,
                "head": f"<style>{shell}</style>"}

    def export_folder(self) -> Path:
        """A new private (0700) folder for one data export; exports older than ``EXPORT_MINUTES`` are removed.

        Gradio copies the file into its own cache to serve it to the one browser that asked, and deletes that
        copy with the rest of its cache (``delete_cache`` in app.py).
        """
        root = Path(tempfile.gettempdir()) / "dreamreel-exports"
        root.mkdir(mode=0o700, exist_ok=True)
        for old in root.iterdir():
            if time.time() - old.stat().st_mtime > EXPORT_MINUTES * 60:
                shutil.rmtree(old, ignore_errors=True)
        return Path(tempfile.mkdtemp(dir=root))

    def start_export(self, user: int) -> None:
        """Build ``user``'s archive on the export thread (one at a time: zipping videos is disk-bound)."""
        with self._lock:
            running = self._exports.get(user)
            if running is not None and not running.done():
                return
            self._exports[user] = self._exporter.submit(self.studio.export_my_data, user, self.export_folder())

    def finished_export(self, user: int) -> Path | None:
        """The archive once it is built (``None`` meanwhile); a failed build raises its error once."""
        with self._lock:
            job = self._exports.get(user)
            if job is None or not job.done():
                return None
            del self._exports[user]
        return job.result()

    def cancel_generation(self, user: int) -> None:
        """Stop the user's running generation (their account is going): nothing of it is saved."""
        for listener in self._on_cancel:
            listener(user)

    def received(self, upload: Any) -> AbstractContextManager[Path]:
        """A private copy of a file this request uploaded (see :mod:`web.inputs`); refused for any other path."""
        return received_upload(upload, get_upload_folder(), [self.settings.data_dir])

    @staticmethod
    def client_address(request: gr.Request | None) -> str | None:
        """The visitor's network address: the socket's, or a trusted proxy's forwarded one (``launch_options``)."""
        client = getattr(request, "client", None)
        return getattr(client, "host", None)

    def start(self) -> None:
        """First start: create the admin and invites and say so once, then seed the demo community.

        Both the model and the demo videos load in the background: the page answers at once.
        """
        first = self.accounts.first_start()
        if first is not None:
            print(f"Dreamreel first start: admin @{first.admin_handle}, password {first.admin_password}\n"
                  f"Invite codes: {', '.join(first.invite_codes)}\n(shown once; keep them)", flush=True)
        seed = first is not None and self.settings.demo_community
        threading.Thread(target=self._warm_up, args=(seed,), daemon=True).start()

    def _warm_up(self, seed: bool) -> None:
        try:
            self.studio.warm_up()
            if seed:
                seed_demo_community(self.studio)
        except Exception:
            log.exception("warm-up failed; the model loads again on the first video")

    def challenge_for(self, user: int) -> Challenge:
        """The head-turn challenge shown to ``user``: the same one until a cameo is made from it or they ask again."""
        with self._lock:
            return self._challenges.setdefault(user, Challenge.random())

    def new_challenge(self, user: int | None) -> Challenge:
        """New head-turn instructions for ``user`` (kept on the server; a visitor's are not kept)."""
        challenge = Challenge.random()
        if user is not None:
            with self._lock:
                self._challenges[user] = challenge
        return challenge

    def issued_challenge(self, user: int | None) -> Challenge:
        """The challenge an API client asked for with ``/cameo_challenge``; refused when it asked for none."""
        challenge = self._challenges.get(user) if user is not None else None
        if challenge is None:
            raise CameoRejected("challenge", "Get the head-turn instructions first, then record following them.")
        return challenge

    def challenge_done(self, user: int) -> None:
        """A cameo was made: the next one (after a deletion) gets new instructions."""
        with self._lock:
            self._challenges.pop(user, None)

    def whoami(self, user: int | None) -> str:
        me = self.studio.me(user)
        if me is None:
            return "Signed out: you can watch public videos. Sign in or join with an invite to make, like and comment."
        return f"Signed in as **@{markdown_text(me.handle)}**" + (" (admin)" if me.is_admin else "")

    def me(self, session: str | None) -> UserView | None:
        return self.studio.me(self._user(session))

    # -- moving between sections ------------------------------------------------------------------

    def go(self, session: str | None, event: gr.EventData):
        """The bottom bar's ``go``: show the section; Profile means one's own profile."""
        tab = section_of(event)
        return gr.Tabs(selected=tab), tab, ("" if tab == "profile" else gr.skip())

    @staticmethod
    def entered(section: str, show: Callable[..., Any]) -> Callable[..., Any]:
        """A handler for the bar's ``change`` that fills ``section`` when it is the one opened (else changes nothing)."""
        def handler(session: str | None, shown: str, *rest: Any):
            return show(session, *rest) if shown == section else gr.skip()
        handler.__name__ = f"enter_{section}"
        return handler

    def unread(self, session: str | None):
        """The Activity badge: how many notifications the signed-in person has not seen."""
        return gr.HTML(unread=self.studio.unread_activity(self._user(session)))

    @user_facing
    def activity(self, session: str | None):
        """The activity inbox, grouped; opening it marks everything read (the badge goes)."""
        user = self._user(session)
        if user is None:
            return inbox_value((), "Sign in to see who liked, commented on or remixed your videos."), gr.HTML(unread=0)
        items = self.studio.activity(user)
        self.studio.mark_activity_read(user)
        return inbox_value(items), gr.HTML(unread=0)

    def land(self, feed: FeedPage, accounts: AccountPage) -> Callable[[str | None], tuple]:
        """After signing in, up or out: the feed, shown anew for who is signed in now, and the forms cleared."""
        def landed(session: str | None):
            message, position = feed.open(session)
            return (message, position, gr.Tabs(selected="feed"), "feed", "", "", "", "", "",
                    *accounts.signed_in_controls(session))
        return landed

    def _user(self, token: str | None) -> int | None:
        return self.accounts.user_for(token)

    # -- moderation and verification ------------------------------------------------------------

    def moderation_page(self, session: str | None):
        """The moderation tab for admins: open reports, refused prompts, the log; hidden from everyone else."""
        user = self._user(session)
        me = self.studio.me(user)
        if me is None or not me.is_admin:
            return gr.Tab(visible=False), gr.Button(visible=False), [], "", ""
        log_html = moderation_log_html(self.studio.moderation_log(user))
        return (gr.Tab(visible=True), gr.Button(visible=True), self.studio.moderation_queue(user),
                refusals_html(self.studio.refusals(user)), log_html)

    def report_row(self, admin: int | None, report: dict, token: gr.State, outputs: list) -> None:
        """One open report with its actions, as ``admin`` sees it (inside ``gr.render``)."""
        with gr.Group(elem_classes=["dr-report-row"], key=f"report-{report['id']}"):
            gr.HTML(report_html(report))
            if report["kind"] == "post":
                try:
                    post = self.studio.get_post(admin, report["target_id"])
                    gr.Video(str(post.video) if post.video else None, interactive=False, show_label=False, height=200)
                except StoreError:
                    pass
            with gr.Row():
                take_down = gr.Button("Suspend account" if report["kind"] == "user" else "Take down", variant="stop",
                                      size="sm")
                dismiss = gr.Button("Dismiss", size="sm")

        def act(action: str):
            @user_facing
            def handler(session):
                self.studio.moderate(self._user(session), report["id"], action)
                return self.moderation_page(session)
            return handler

        take_down.click(act("take_down"), [token], outputs, api_visibility="private")
        dismiss.click(act("dismiss"), [token], outputs, api_visibility="private")

    @user_facing
    def delete_account(self, session: str | None, handle: str | None):
        """Admins: delete an account completely (its running generation stopped first); logged."""
        admin = self._user(session)
        target = self.studio.user_id(str(handle or ""))
        self.cancel_generation(target)
        self.studio.erase_account(admin, target)
        notice(f"@{str(handle).strip().lstrip('@')}'s account and everything in it are deleted.")
        return self.moderation_page(session)

    @user_facing
    def verify(self, session: str | None, upload: str | None):
        if not upload:
            raise error("Upload a video to check.")
        with self.received(upload) as video:
            check, post = self.studio.verify(self._user(session), video)
        return verify_html(check, post), (str(post.video) if post is not None and post.video else None)

    @user_facing
    def new_invite(self, session: str | None):
        user = self._user(session)
        self.studio.new_invite(user)
        rows = [f"- {markdown_text(i['code'])}" + (" (used)" if i["used_by"] is not None else "")
                for i in self.studio.invites(user)]
        return "Your invite codes:\n" + "\n".join(rows)
