"""Typed views: what the use cases hand the page and the API, as one viewer sees it.

The store speaks in documents; these records are what crosses into the web
layer, like Lemmy's ``PostView``. Each field is already decided for the
viewer: a hidden prompt is ``None`` (unless the viewer wrote it), a source
the viewer may not see has no handle, and the reasons are the ranking's own
words for why the post is in this viewer's feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PostView:
    """One video as one viewer sees it."""

    id: int
    author_id: int
    author_handle: str
    author_name: str
    prompt: str | None
    """``None`` when the author hid it from this viewer."""
    video: Path | None
    thumbnail: Path | None
    width: int
    height: int
    likes: int
    comments: int
    remixes: int
    liked: bool
    visibility: str
    """``draft``, ``friends`` or ``public``."""
    created_at: float
    published_at: float | None
    parent_id: int | None
    parent_handle: str | None
    """The source's author, or ``None`` when there is no source or the viewer may not see it."""
    cameo_handles: tuple[str, ...]
    reasons: tuple[str, ...]
    """Why the post is in the viewer's feed ("from your friend @ana"); empty outside feeds."""
    demo: bool
    """Made for the demo community that a fresh instance starts with."""
    hide_prompt: bool
    """The author chose to hide the prompt (the author still sees it)."""
    can_delete: bool
    """The viewer may delete it: its author, the owner of a cameo in it, or an admin."""

    @property
    def is_draft(self) -> bool:
        return self.published_at is None


@dataclass(frozen=True)
class UserView:
    """A signed-in person as the page names them."""

    id: int
    handle: str
    display_name: str
    is_admin: bool


@dataclass(frozen=True)
class CommentView:
    id: int
    post_id: int
    author_id: int
    author_handle: str
    text: str
    created_at: float


@dataclass(frozen=True)
class FeedView:
    """A page of a feed, and the cursor of the next page (``None`` at the end)."""

    posts: tuple[PostView, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class PostDetail:
    """A post with what opens around it: its comments (newest first), remixes and lineage (original first)."""

    post: PostView
    comments: tuple[CommentView, ...]
    remixes: tuple[PostView, ...]
    lineage: tuple[PostView | None, ...]
    """``None`` stands for an ancestor the viewer may not see (deleted, private), so the chain keeps its shape."""


@dataclass(frozen=True)
class ProfileView:
    """A person's profile as one viewer sees it."""

    user_id: int
    handle: str
    display_name: str
    avatar: Path | None
    """The thumbnail of their latest video the viewer may see, or ``None`` (the page shows initials)."""
    posts: tuple[PostView, ...]
    followers: tuple[str, ...]
    following: tuple[str, ...]
    friends: tuple[str, ...]
    relation: str
    """The viewer's side: ``self``, ``signed_out``, ``none``, ``follows_you``, ``following``, ``friends`` or ``blocked``."""
    has_cameo: bool


@dataclass(frozen=True)
class CameoView:
    """The owner's cameo: what it looks like, who may use it, and how often it was used."""

    id: int
    permission: str
    permission_label: str
    """The permission in the page's words ("People I approve")."""
    approved: tuple[str, ...]
    restrictions: str
    crops: tuple[Path, ...]
    """The aligned face crops the cameo was made from (private files: the page shows copies to the owner)."""
    uses: int
    """Videos that use it, others' drafts included."""


@dataclass(frozen=True)
class ActivityItem:
    """One line of a person's activity: what happened (grouped: "@ana and 3 others liked your video")."""

    kind: str
    """``like``, ``comment``, ``follow``, ``remix``, ``cameo_used``, ``mention`` or ``moderation``."""
    actors: tuple[str, ...]
    """The handles of who did it, newest first (empty for a moderators' decision)."""
    text: str
    """What happened, in words, after the actors ("liked your video")."""
    post_id: int | None
    """The video it is about (opens it), or ``None`` (a follow opens the follower's profile)."""
    at: float
    unread: bool


@dataclass(frozen=True)
class Suggestion:
    """Someone worth following, and why ("friend of @ana", "makes popular videos")."""

    handle: str
    display_name: str
    reason: str
