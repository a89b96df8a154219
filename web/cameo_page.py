"""The cameo section: a guided head-turn capture, then the cameo with who may use it and every video using it.

The head-turn challenge stays the same until a cameo is made from it or the
person asks for new instructions, so a clip recorded as first told is judged
against what they were told.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr
from PIL import Image

from cameo import CameoRejected
from vocabulary import CAMEO_PERMISSION_LABELS, CLIP_RULE

from .grid import grid_value
from .views import error, markdown_text, user_facing

if TYPE_CHECKING:
    from cameo import Challenge
    from studio import CameoView

    from .handlers import App

PERMISSION_CHOICES = [(label, name) for name, label in CAMEO_PERMISSION_LABELS.items()]
"""The permission radio: the words shown, the stored names sent."""


def steps_markdown(challenge: Challenge) -> str:
    """The capture steps, numbered, for a clip of the allowed length."""
    steps = "\n".join(f"{n}. {markdown_text(step)}" for n, step in enumerate(challenge.steps, 1))
    return f"**Record yourself for {CLIP_RULE}, following these steps:**\n\n{steps}"


def summary(cameo: CameoView) -> str:
    """Who may use the cameo, in words, and how often it was used."""
    approved = f" ({', '.join('@' + markdown_text(h) for h in cameo.approved)})" if cameo.approved else ""
    return (f"**Who may use it: {markdown_text(cameo.permission_label)}**{approved} · "
            f"used in {cameo.uses} video{'' if cameo.uses == 1 else 's'}")


class CameoPage:
    """Handlers of the cameo section. :meth:`show`'s outputs: the capture column, its steps, the cameo column,
    the face crops, the summary, the permission, approved people, restrictions and the videos using it."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.studio = app.studio

    def show(self, session: str | None):
        user = self.app._user(session)
        if user is None:
            return (gr.Column(visible=True), "**Sign in to make your cameo.** A cameo lets you (and the people you "
                    "allow) star you in videos.", gr.Column(visible=False), [], "", gr.Radio(), "", "",
                    grid_value([], ""))
        cameo = self.studio.my_cameo(user)
        if cameo is None:
            return (gr.Column(visible=True), steps_markdown(self.app.challenge_for(user)), gr.Column(visible=False),
                    [], "", gr.Radio(), "", "", grid_value([], ""))
        crops = [Image.open(path).convert("RGB") for path in cameo.crops if path.is_file()]
        uses = grid_value(self.studio.videos_with_my_cameo(user),
                          "Nobody has used your cameo yet. Every video with it shows here, drafts included.")
        return (gr.Column(visible=False), "", gr.Column(visible=True), crops, summary(cameo),
                gr.Radio(value=cameo.permission), ", ".join(cameo.approved), cameo.restrictions, uses)

    def new_challenge(self, session: str | None) -> str:
        """Other head-turn instructions, for someone who would rather start over."""
        user = self.app._user(session)
        if user is None:
            raise error("Sign in to make your cameo.")
        return steps_markdown(self.app.new_challenge(user))

    @user_facing
    def make(self, session: str | None, clip: str | None, keep: bool):
        """Verify the recording against the challenge shown; a refusal says what to change and keeps the steps."""
        if not clip:
            raise error("Record or upload a clip first.")
        user = self.app._user(session)
        with self.app.received(clip) as recording:  # first: a file this request did not upload is refused as such
            try:
                self.studio.create_cameo(user, recording, self.app.challenge_for(user) if user else None,
                                         keep_recording=bool(keep))
            except CameoRejected as e:
                return (f"**Not accepted:** {markdown_text(e)} The steps are the same: record again.",
                        *self.show(session))
        self.app.challenge_done(user)
        return "**Your cameo is ready.** Only you can use it until you allow others below.", *self.show(session)

    @user_facing
    def save(self, session: str | None, permission: str, approved: str, restrictions: str):
        handles = [h.strip().lstrip("@") for h in str(approved or "").split(",") if h.strip()]
        cameo = self.studio.set_cameo_permission(self.app._user(session), permission, handles, restrictions)
        label = CAMEO_PERMISSION_LABELS.get(cameo["permission"], cameo["permission"])
        return (f"Saved: **{markdown_text(label)}** may use your cameo.\n\n"
                f"Restrictions: {markdown_text(self.studio.restrictions_summary(cameo['restrictions']))}",
                summary(self.studio.my_cameo(self.app._user(session))))

    @user_facing
    def revoke(self, session: str | None):
        self.studio.set_cameo_permission(self.app._user(session), "only_me")
        return "Revoked: from now on only you can use your cameo.", *self.show(session)

    @user_facing
    def delete(self, session: str | None):
        self.studio.delete_cameo(self.app._user(session))
        return "Your cameo, its face crops and its embedding are deleted.", *self.show(session)
