"""Making videos: the composer (prompt, cameos, shape, settings), remixing a post, drafts and publishing.

A new random seed is drawn for every video unless the creator types one.
A draft stays in the creator's drafts (here and on their profile) until it
is published or deleted; publishing opens the post in the feed at once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import gradio as gr

from vocabulary import ASPECTS

from .grid import grid_value
from .inputs import optional_whole_number, real_number, whole_number
from .reel import shown_message
from .views import error, lineage_html, user_facing

if TYPE_CHECKING:
    from .handlers import App

SHAPES = {"Portrait": "portrait", "Square": "square", "Landscape": "landscape"}
"""The shape picker's words for the aspects in ``vocabulary.ASPECTS``."""
PUBLISH_TO = [("Everyone", "public"), ("Friends", "friends")]
DRAFTS_EMPTY = "No drafts. Each video you make waits here until you publish or delete it."


class CreatePage:
    """Handlers of the Create and Remix sections."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.studio = app.studio
        self._cancels: dict[int, threading.Event] = {}
        app._on_cancel.append(self.cancel_user)

    def show(self, session: str | None):
        """The composer for a member (a sign-in prompt for a visitor), the cameos they may star, the model's
        settings and their drafts. Outputs: composer, sign-in prompt, cameo picker, frames, steps, drafts."""
        viewer = self.app._user(session)
        if viewer is None:
            return (gr.Column(visible=False), gr.Column(visible=True), gr.Dropdown(), gr.Dropdown(), gr.Slider(),
                    grid_value([], ""))
        picker = gr.Dropdown(choices=self.studio.usable_cameos(viewer), value=[])
        drafts = grid_value(self.studio.drafts(viewer), DRAFTS_EMPTY)
        limits = self.studio.limits()
        if limits is None:  # the model is still loading: keep the settings as they are
            return gr.Column(visible=True), gr.Column(visible=False), picker, gr.Dropdown(), gr.Slider(), drafts
        frames = list(range(limits.frames[0], limits.frames[1] + 1, limits.frame_step))
        return (gr.Column(visible=True), gr.Column(visible=False), picker,
                gr.Dropdown(choices=frames, value=limits.default_frames),
                gr.Slider(minimum=limits.steps[0], maximum=limits.steps[1], value=limits.default_steps), drafts)

    # -- generating ----------------------------------------------------------------------------------

    def _progress(self, progress: gr.Progress):
        return lambda done, total: progress((done, total), desc=f"Step {done} of {total}")

    def _cancel_event(self, user: int | None) -> threading.Event:
        event = threading.Event()
        if user is not None:
            self._cancels[user] = event
        return event

    def cancel(self, session: str | None) -> None:
        user = self.app._user(session)
        if user is not None:
            self.cancel_user(user)

    def cancel_user(self, user: int) -> None:
        event = self._cancels.get(user)
        if event is not None:
            event.set()

    def _size(self, shape: str | None) -> tuple[int | None, int | None]:
        """(height, width) for the shape picked, within the model's limits; the model's default when none is."""
        aspect = ASPECTS.get(SHAPES.get(str(shape or ""), ""))
        limits = self.studio.limits()
        if aspect is None or limits is None:
            return None, None
        return limits.size_for(aspect)

    @user_facing
    def generate(self, session: str | None, prompt: str, cameos: list[str] | None, shape: str | None,
                 frames: float | None, steps: float | None, seed: float | None, progress: gr.Progress = gr.Progress()):
        """Make a draft; the cameos picked are added to the prompt as @mentions (once each)."""
        user = self.app._user(session)
        prompt = prompt if isinstance(prompt, str) else ""
        mentioned = {m.lower() for m in prompt.replace(",", " ").split() if m.startswith("@")}
        extra = [f"@{h}" for h in cameos or [] if isinstance(h, str) and f"@{h}" not in mentioned]
        self.studio.model()  # the shape needs the model's limits
        height, width = self._size(shape)
        post = self.studio.create(user, " ".join(extra + [prompt]).strip(), on_progress=self._progress(progress),
                                  cancel=self._cancel_event(user), num_frames=optional_whole_number(frames, "Frames"),
                                  num_inference_steps=optional_whole_number(steps, "Steps"),
                                  seed=optional_whole_number(seed, "A seed"), height=height, width=width)
        return (gr.Video(str(self.studio.media.path(post["video"])), visible=True), post["id"], gr.Group(visible=True),
                grid_value(self.studio.drafts(user), DRAFTS_EMPTY))

    @user_facing
    def publish(self, session: str | None, post_id: float | None, visibility: str, hide_prompt: bool):
        """Publish the draft and open it in the feed. Outputs: tabs, nav, reel, draft video, draft id, publish
        controls, drafts."""
        if not post_id:
            raise error("Make a video first, then publish it.")
        user = self.app._user(session)
        post = self.studio.publish(user, whole_number(post_id, "A post id"), visibility, bool(hide_prompt))
        label = "everyone" if post["visibility"] == "public" else "your friends"
        message = shown_message(self.studio.get_post(user, post["id"]), toast=f"Published to {label}.")
        return (gr.Tabs(selected="feed"), "feed", message, gr.Video(None, visible=False), None, gr.Group(visible=False),
                grid_value(self.studio.drafts(user), DRAFTS_EMPTY))

    # -- remixing ------------------------------------------------------------------------------------

    @user_facing
    def remix_source(self, session: str | None, post_id: float | None):
        """The source playing small above the composer, its lineage, and its prompt (unless hidden) to start from."""
        if not post_id:
            return None, "", ""
        detail = self.studio.post(self.app._user(session), whole_number(post_id, "A post id"))
        return str(detail.post.video), lineage_html(detail.lineage, detail.remixes), detail.post.prompt or ""

    @user_facing
    def generate_remix(self, session: str | None, parent_id: float | None, prompt: str, strength: float,
                       progress: gr.Progress = gr.Progress()):
        if not parent_id:
            raise error("Choose a video to remix: press Remix on any video in the feed.")
        user = self.app._user(session)
        post = self.studio.create(user, prompt, parent_id=whole_number(parent_id, "A post id"),
                                  strength=real_number(strength, "The strength"),
                                  on_progress=self._progress(progress), cancel=self._cancel_event(user))
        return gr.Video(str(self.studio.media.path(post["video"])), visible=True), post["id"], gr.Group(visible=True)
