"""The page's event handlers: session token in, Gradio updates out, the work done by :class:`Studio`.

Each handler resolves the acting user from the server-held session token
(:meth:`Accounts.user_for`) and calls one :class:`Studio` method; nothing here
decides what a user may do.
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from cameo import CameoRejected, Cameos, Challenge, FaceDetector, default_embedder
from feed_store import FeedStore, StoreError
from feed_store.media import MediaFolder
from settings import Settings

from studio import Accounts, Studio
from studio.demo import seed_demo_community
from vocabulary import CLIP_RULE, MAX_UPLOAD_MB, REPORT_REASONS

from .inputs import optional_whole_number, real_number, received_upload, whole_number
from .views import (
    card_html, comments_html, error, lineage_html, markdown_text, moderation_log_html, notice, people_html,
    refusals_html, report_html, user_facing, verify_html,
)

log = logging.getLogger("dreamreel")


class App:
    """Holds the packages for one running instance and answers the page's events."""

    def __init__(self, settings: Settings, store: FeedStore, accounts: Accounts, studio: Studio) -> None:
        self.settings = settings
        self.store = store
        self.accounts = accounts
        self.studio = studio
        self.on_space = bool(os.environ.get("SPACE_ID") and os.environ.get("OAUTH_CLIENT_ID"))
        self.browser_secret = accounts.derived_secret("browser-state")
        self._cancels: dict[int, threading.Event] = {}
        self._challenges: dict[int, Challenge] = {}

    @classmethod
    def from_env(cls) -> App:
        settings = Settings.from_env()
        store = FeedStore(settings.store_dir)
        media = MediaFolder(settings.media_dir)
        accounts = Accounts(store, settings.data_dir / "secret.key")
        studio = Studio(store, media, Cameos(store, media, FaceDetector(), default_embedder()), settings.load_model,
                        provenance=settings.provenance(), daily_generations=settings.daily_generations)
        return cls(settings, store, accounts, studio)

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
        return {"allowed_paths": [str(videos)], "max_file_size": f"{MAX_UPLOAD_MB}mb", "show_error": True}

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

    def issue_challenge(self, user: int | None) -> Challenge:
        """A fresh head-turn challenge for the user's next cameo recording (kept on the server)."""
        challenge = Challenge.random()
        if user is not None:
            self._challenges[user] = challenge
        return challenge

    def take_challenge(self, user: int | None) -> Challenge:
        challenge = self._challenges.pop(user, None) if user is not None else None
        if challenge is None:
            raise CameoRejected("challenge", "Get the head-turn instructions first, then record following them.")
        return challenge

    def whoami(self, user: int | None) -> str:
        if user is None:
            return "Signed out: you can watch public videos. Sign in (Account tab) to make, like and comment."
        me = self.store.get_user(user)
        return f"Signed in as **@{markdown_text(me['handle'])}**" + (" (admin)" if me.get("is_admin") else "")

    def _user(self, token: str | None) -> int | None:
        return self.accounts.user_for(token)

    # -- cards ------------------------------------------------------------------------------------

    def post_card(self, viewer: int | None, post_id: int, token: gr.State, tabs: gr.Tabs,
                  remix_source: gr.Number) -> None:
        """One post with its actions, inside a ``gr.render`` block."""
        try:
            card, comments, remixes, chain = self.studio.post(viewer, post_id)
        except StoreError:
            return
        with gr.Group(elem_classes=["dr-post"]):
            gr.HTML(card_html(card))
            gr.Video(str(card.video) if card.video else None, loop=True, interactive=False, show_label=False,
                     elem_classes=["dr-video"], height=320)
            with gr.Row():
                like = gr.Button(("♥ " if card.post.get("liked") else "♡ ") + f"{card.post['likes']}",
                                 elem_classes=["dr-like"], size="sm")
                remix = gr.Button("Remix", size="sm")
                share = gr.Button("Share link", size="sm")
            link = gr.Textbox(visible=False, show_label=False, buttons=["copy"])
            talk = gr.HTML(comments_html(comments) + lineage_html(chain, remixes))
            with gr.Row():
                text = gr.Textbox(placeholder="Add a comment", show_label=False, scale=4, elem_classes=["dr-comment"])
                send = gr.Button("Comment", size="sm", scale=1)
            with gr.Row():
                target = gr.Dropdown(report_targets(card.post, comments), show_label=False, scale=3, interactive=True,
                                     value=f"post:{post_id}", elem_classes=["dr-report-target"])
                reason = gr.Dropdown(list(REPORT_REASONS), show_label=False, value=REPORT_REASONS[0], scale=2,
                                     interactive=True)
                report = gr.Button("Report", size="sm", scale=1)

        @user_facing
        def toggle_like(session):
            liked, count = self.studio.toggle_like(self._user(session), post_id)
            return gr.Button(("♥ " if liked else "♡ ") + str(count))

        @user_facing
        def add_comment(session, words):
            self.studio.comment(self._user(session), post_id, words)
            _, comments_now, remixes_now, chain_now = self.studio.post(self._user(session), post_id)
            return comments_html(comments_now) + lineage_html(chain_now, remixes_now), ""

        @user_facing
        def send_report(session, what, why):
            kind, _, target_id = str(what or f"post:{post_id}").partition(":")
            self.studio.report(self._user(session), kind, whole_number(target_id, "What you report"), why)
            notice("Thanks: the moderators will look at it.")

        def share_link(request: gr.Request):
            return gr.Textbox(value=f"{_origin(request)}/?post={post_id}", visible=True)

        like.click(toggle_like, [token], [like], api_visibility="private")
        send.click(add_comment, [token, text], [talk, text], api_visibility="private")
        report.click(send_report, [token, target, reason], None, api_visibility="private")
        share.click(share_link, None, [link], api_visibility="private")
        remix.click(lambda: (gr.Tabs(selected="remix"), post_id), None, [tabs, remix_source], api_visibility="private")

    def cameo_use_row(self, card_post: dict, token: gr.State, listing: gr.State) -> None:
        """A video using the owner's cameo, with a delete button (inside ``gr.render``)."""
        post_id = card_post["id"]
        card = self.studio.card(card_post)
        with gr.Group():
            gr.HTML(card_html(card))
            gr.Video(str(card.video) if card.video else None, interactive=False, show_label=False, height=200)
            delete = gr.Button("Delete this video", variant="stop", size="sm")

        @user_facing
        def delete_it(session):
            user = self._user(session)
            self.studio.delete_post(user, post_id)
            return [c.post for c in self.studio.videos_with_my_cameo(user)]

        delete.click(delete_it, [token], [listing], api_visibility="private")

    # -- feed, create, remix ----------------------------------------------------------------------

    @user_facing
    def load_feed(self, session: str | None, which: str, shown: list[int], cursor: str | None, more: bool):
        cards, next_cursor = self.studio.feed(self._user(session), which, cursor if more else None)
        ids = (shown if more else []) + [c.post["id"] for c in cards]
        return ids, next_cursor, gr.Button(visible=next_cursor is not None)

    def create_choices(self, session: str | None):
        """The cameo picker (cameos this user may use now) and the settings within the model's limits."""
        picker = gr.Dropdown(choices=self.studio.usable_cameos(self._user(session)), value=[])
        limits = self.studio.limits()
        if limits is None:  # the model is still loading: keep the settings as they are
            return picker, gr.Dropdown(), gr.Slider(), gr.Dropdown()
        height, width = limits.default_size
        frames = list(range(limits.frames[0], limits.frames[1] + 1, limits.frame_step))
        return (picker, gr.Dropdown(choices=frames, value=limits.default_frames),
                gr.Slider(minimum=limits.steps[0], maximum=limits.steps[1], value=limits.default_steps),
                gr.Dropdown(choices=self.sizes(limits), value=f"{width}x{height}"))

    @staticmethod
    def sizes(limits=None) -> list[str]:
        """The model's default size and the square sizes it accepts, as "width x height"."""
        if limits is None:
            return ["256x256"]
        height, width = limits.default_size
        squares = [side for side in (128, 256, 384, 512)
                   if limits.size[0] <= side <= limits.size[1] and side % limits.size_multiple == 0]
        return list(dict.fromkeys([f"{width}x{height}"] + [f"{side}x{side}" for side in squares]))

    def _progress(self, progress: gr.Progress):
        return lambda done, total: progress((done, total), desc=f"Step {done} of {total}")

    def _cancel_event(self, user: int | None) -> threading.Event:
        event = threading.Event()
        if user is not None:
            self._cancels[user] = event
        return event

    def cancel(self, session: str | None) -> None:
        event = self._cancels.get(self._user(session))
        if event is not None:
            event.set()

    @user_facing
    def generate_draft(self, session: str | None, prompt: str, cameos: list[str] | None, frames: float | None,
                       steps: float | None, seed: float | None, size: str | None,
                       progress: gr.Progress = gr.Progress()):
        user = self._user(session)
        prompt = prompt if isinstance(prompt, str) else ""
        mentioned = {m.lower() for m in prompt.replace(",", " ").split() if m.startswith("@")}
        extra = [f"@{h}" for h in cameos or [] if isinstance(h, str) and f"@{h}" not in mentioned]
        full_prompt = " ".join(extra + [prompt]).strip()
        width, height = _size(size)
        post = self.studio.create(user, full_prompt, on_progress=self._progress(progress),
                                  cancel=self._cancel_event(user), num_frames=optional_whole_number(frames, "Frames"),
                                  num_inference_steps=optional_whole_number(steps, "Steps"),
                                  seed=optional_whole_number(seed, "A seed"), height=height, width=width)
        return str(self.studio.media.path(post["video"])), post["id"]

    @user_facing
    def publish(self, session: str | None, post_id: float | None, visibility: str, hide_prompt: bool):
        if not post_id:
            raise error("Make a video first, then publish it.")
        post = self.studio.publish(self._user(session), whole_number(post_id, "A post id"), visibility,
                                   bool(hide_prompt))
        return f"Published #{post['id']} to {markdown_text(post['visibility'])}. Share it: `/?post={post['id']}`"

    @user_facing
    def remix_source(self, session: str | None, post_id: float | None):
        if not post_id:
            return None, "", ""
        card, _, remixes, chain = self.studio.post(self._user(session), whole_number(post_id, "A post id"))
        return str(card.video), lineage_html(chain, remixes), card.post.get("prompt") or ""

    @user_facing
    def generate_remix(self, session: str | None, parent_id: float | None, prompt: str, strength: float,
                       progress: gr.Progress = gr.Progress()):
        if not parent_id:
            raise error("Choose a video to remix: press Remix under any video in the feed.")
        user = self._user(session)
        post = self.studio.create(user, prompt, parent_id=whole_number(parent_id, "A post id"),
                                  strength=real_number(strength, "The strength"),
                                  on_progress=self._progress(progress), cancel=self._cancel_event(user))
        return str(self.studio.media.path(post["video"])), post["id"]

    # -- cameo ------------------------------------------------------------------------------------

    def cameo_page(self, session: str | None):
        user = self._user(session)
        challenge = self.issue_challenge(user)
        cameo = self.store.cameo_of(user) if user is not None else None
        if cameo is None:
            text = f"**Record yourself alone, {CLIP_RULE}.** {challenge.instructions}"
            return text, None, "", "", []
        approved = ", ".join(self.store.get_user(u)["handle"] for u in cameo["approved_ids"])
        videos = [c.post for c in self.studio.videos_with_my_cameo(user)]
        return ("You have a cameo. Choose who may use it below.", cameo["permission"], approved,
                cameo.get("restrictions", ""), videos)

    @user_facing
    def make_cameo(self, session: str | None, clip: str | None, keep: bool):
        if not clip:
            raise error("Record or upload a clip first.")
        user = self._user(session)
        with self.received(clip) as recording:
            try:
                self.studio.create_cameo(user, recording, self.take_challenge(user), keep_recording=bool(keep))
                verdict = "**Your cameo is ready.** Only you can use it until you allow others below."
            except CameoRejected as e:
                verdict = f"**Not accepted:** {markdown_text(e)} Try again with the new instructions."
        return (verdict, *self.cameo_page(session))

    @user_facing
    def save_permission(self, session: str | None, permission: str, approved: str, restrictions: str):
        handles = [h.strip().lstrip("@") for h in str(approved or "").split(",") if h.strip()]
        cameo = self.studio.set_cameo_permission(self._user(session), permission, handles, restrictions)
        return (f"Saved: **{markdown_text(cameo['permission'])}** may use your cameo.\n\n"
                f"Restrictions: {markdown_text(self.studio.restrictions_summary(cameo['restrictions']))}")

    @user_facing
    def revoke(self, session: str | None):
        self.studio.set_cameo_permission(self._user(session), "only_me")
        return "Revoked: from now on only you can use your cameo.", "only_me"

    @user_facing
    def delete_cameo(self, session: str | None):
        self.studio.delete_cameo(self._user(session))
        return "Your cameo, its face crops and its embedding are deleted.", []

    # -- profile ----------------------------------------------------------------------------------

    @user_facing
    def profile(self, session: str | None, handle: str | None):
        user = self._user(session)
        handle = str(handle or "").strip().lstrip("@")
        if not handle:
            if user is None:
                return "Sign in to see your profile, or enter a handle.", []
            handle = self.store.get_user(user)["handle"]
        profile = self.studio.profile(user, handle)
        return people_html(profile), [c.post["id"] for c in profile["cards"]]

    def relate(self, action: str):
        @user_facing
        def handler(session: str | None, handle: str | None):
            if not str(handle or "").strip():
                raise error("Enter the handle of the person first.")
            user, other = self._user(session), str(handle).strip().lstrip("@")
            if action in ("block", "unblock"):
                self.studio.block(user, other, block=action == "block")
            else:
                self.studio.follow(user, other, follow=action == "follow")
            return self.profile(session, other)
        return handler

    # -- moderation and verification ------------------------------------------------------------

    def moderation_page(self, session: str | None):
        """The moderation tab for admins: open reports, refused prompts, the log; hidden from everyone else."""
        user = self._user(session)
        if user is None or not self.store.get_user(user).get("is_admin"):
            return gr.Tab(visible=False), [], "", ""
        log_html = moderation_log_html(self.studio.moderation_log(user), lambda uid: self.store.get_user(uid)["handle"])
        return (gr.Tab(visible=True), self.studio.moderation_queue(user), refusals_html(self.studio.refusals(user)),
                log_html)

    def report_row(self, admin: int | None, report: dict, token: gr.State, outputs: list) -> None:
        """One open report with its actions, as ``admin`` sees it (inside ``gr.render``)."""
        with gr.Group(elem_classes=["dr-report-row"]):
            gr.HTML(report_html(report))
            if report["kind"] == "post":
                try:
                    card = self.studio.card(self.store.get_post(admin, report["target_id"]))
                    gr.Video(str(card.video) if card.video else None, interactive=False, show_label=False, height=200)
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
    def verify(self, session: str | None, upload: str | None):
        if not upload:
            raise error("Upload a video to check.")
        with self.received(upload) as video:
            check, card = self.studio.verify(self._user(session), video)
        return verify_html(check, card), (str(card.video) if card is not None and card.video else None)

    @user_facing
    def report_user(self, session: str | None, handle: str | None, reason: str):
        if not str(handle or "").strip():
            raise error("Enter the handle of the person first.")
        self.studio.report_account(self._user(session), str(handle), reason)
        notice("Thanks: the moderators will look at this account.")

    @user_facing
    def new_invite(self, session: str | None):
        user = self._user(session)
        self.studio.new_invite(user)
        rows = [f"- {markdown_text(i['code'])}" + (" (used)" if i["used_by"] is not None else "")
                for i in self.studio.invites(user)]
        return "Your invite codes:\n" + "\n".join(rows)


def _size(size: Any) -> tuple[int | None, int | None]:
    """"width x height" from the size picker as (width, height); empty means the model's default."""
    if size is None or size == "":
        return None, None
    width, _, height = str(size).partition("x")
    return whole_number(width, "The width"), whole_number(height, "The height")


def report_targets(post: dict, comments: list[dict]) -> list[tuple[str, str]]:
    """What a viewer can report from a card: the video, its author's account, or one of its comments."""
    targets = [("this video", f"post:{post['id']}"), (f"@{post['author_handle']}'s account", f"user:{post['author_id']}")]
    targets += [(f"comment by @{c['handle']}: {c['text'][:40]}", f"comment:{c['id']}") for c in comments]
    return targets


def _origin(request: gr.Request | None) -> str:
    """The address the visitor used, for share links."""
    headers = getattr(request, "headers", None) or {}
    host = headers.get("x-forwarded-host") or headers.get("host") or "localhost:7860"
    scheme = headers.get("x-forwarded-proto") or "http"
    return f"{scheme}://{host}"
