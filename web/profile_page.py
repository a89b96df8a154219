"""The profile section: a person's head (avatar, name, counts), one Follow button, Block and Report behind ⋯,
and a grid of their videos; on your own profile also your drafts and every video with your cameo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from studio import ProfileView

from .grid import grid_value
from .views import error, notice, profile_html, user_facing

if TYPE_CHECKING:
    from .handlers import App

POSTS, DRAFTS, CAMEO_VIDEOS = "Posts", "Drafts", "Cameo videos"
FOLLOW_LABELS = {"none": "Follow", "follows_you": "Follow back", "following": "Following", "friends": "Friends"}
"""The Follow button's words for each relation (pressing Following or Friends unfollows)."""


class ProfilePage:
    """Handlers of the profile section. Outputs of :meth:`show`: head, follow, ⋯, menu, block, sections, grid."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.studio = app.studio

    def _handle(self, session: str | None, handle: str | None) -> str | None:
        """The handle asked for, or the viewer's own when none is (``None`` when signed out)."""
        handle = str(handle or "").strip().lstrip("@")
        if handle:
            return handle
        me = self.app.me(session)
        return me.handle if me is not None else None

    @user_facing
    def show(self, session: str | None, handle: str | None, section: str | None = POSTS):
        viewer = self.app._user(session)
        handle = self._handle(session, handle)
        if handle is None:
            return ('<div class="dr-profile-empty">Sign in to see your profile, or search for someone by handle.</div>',
                    gr.Button(visible=False), gr.Button(visible=False), gr.Row(visible=False), gr.Button(),
                    gr.Radio(choices=[POSTS], value=POSTS, visible=False), grid_value([], ""))
        profile = self.studio.profile(viewer, handle)
        own = profile.relation == "self"
        sections = [POSTS] + ([DRAFTS] + ([CAMEO_VIDEOS] if profile.has_cameo else []) if own else [])
        section = section if section in sections else POSTS
        return (profile_html(profile),
                gr.Button(FOLLOW_LABELS.get(profile.relation, "Follow"), visible=profile.relation in FOLLOW_LABELS
                          or profile.relation == "signed_out",
                          variant="secondary" if profile.relation in ("following", "friends") else "primary"),
                gr.Button(visible=not own and viewer is not None),
                gr.Row(visible=False),
                gr.Button("Unblock" if profile.relation == "blocked" else "Block"),
                gr.Radio(choices=sections, value=section, visible=len(sections) > 1),
                self._grid(viewer, profile, section))

    def _grid(self, viewer: int | None, profile: ProfileView, section: str):
        if section == DRAFTS:
            return grid_value(self.studio.drafts(viewer), "No drafts. Videos you make stay here until you publish them.")
        if section == CAMEO_VIDEOS:
            return grid_value(self.studio.videos_with_my_cameo(viewer),
                              "Nobody has used your cameo yet. Every video with it shows here, drafts included.")
        if profile.relation == "blocked":
            return grid_value([], "You blocked this account. Unblock it (⋯) to see its videos.")
        return grid_value(profile.posts, "No videos yet.")

    @user_facing
    def follow(self, session: str | None, handle: str | None, section: str | None):
        """One button: Follow (or Follow back) follows; Following or Friends unfollows."""
        viewer, handle = self.app._user(session), self._handle(session, handle)
        if handle is None:
            raise error("Sign in to follow people.")
        relation = self.studio.profile(viewer, handle).relation if viewer is not None else "signed_out"
        self.studio.follow(viewer, handle, follow=relation not in ("following", "friends"))
        return self.show(session, handle, section)

    @user_facing
    def block(self, session: str | None, handle: str | None, section: str | None):
        viewer, handle = self.app._user(session), self._handle(session, handle)
        blocked = handle is not None and viewer is not None and self.studio.profile(viewer, handle).relation == "blocked"
        self.studio.block(viewer, handle or "", block=not blocked)
        notice(f"Unblocked @{handle}." if blocked else f"Blocked @{handle}: neither of you sees the other now.")
        return self.show(session, handle, section)

    @user_facing
    def report(self, session: str | None, handle: str | None, reason: str | None):
        handle = self._handle(session, handle)
        self.studio.report_account(self.app._user(session), handle or "", str(reason or ""))
        notice("Thanks: the moderators will look at this account.")
        return gr.Row(visible=False)
