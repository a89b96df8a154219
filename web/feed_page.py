"""The feed's events: what the reel (web/reel.py) asks for, answered with a message for it.

Each handler takes the session token (who acts is never what the page says)
and the event's fields, calls one use case of :class:`studio.Studio`, and
returns a reel message. Refusals become a message on the page
(:func:`web.views.user_facing`) and change nothing, and the reel keeps what
the user typed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from feed_store import NotFound, StoreError
from vocabulary import FEEDS

from .inputs import event_field, whole_number
from .reel import Message, comments_message, page_message, post_message, removed_message, shown_message
from .views import error, user_facing

if TYPE_CHECKING:
    from .handlers import App
    from .profile_page import ProfilePage

UNAVAILABLE = "This video isn't available. It may have been deleted, or it is not shared with you."
VISITOR_BANNER = "Short AI videos starring you and your friends."


@dataclass(frozen=True)
class FeedPosition:
    """Which feed the reel shows and where its next page starts (kept per browser tab, on the server)."""

    which: str = FEEDS[0]
    cursor: str | None = None


def _post_id(event: gr.EventData | None) -> int:
    return whole_number(event_field(event, "id"), "A post id")


class FeedPage:
    """Handlers for the reel's events."""

    def __init__(self, app: App, profiles: ProfilePage) -> None:
        self.app = app
        self.studio = app.studio
        self.profiles = profiles

    def _handle(self, viewer: int | None) -> str | None:
        me = self.studio.me(viewer)
        return me.handle if me is not None else None

    def _empty_text(self, which: str, signed_in: bool) -> str:
        if which == "Following":
            return "Follow people to see their videos here. Some you might like:"
        return "No videos yet. Be the first: make one in Create." if signed_in else "No videos yet."

    def open(self, session: str | None, which: str = FEEDS[0], shared: str | None = None, toast: str | None = None
             ) -> tuple[Message, FeedPosition]:
        """The first page of a feed; a shared link's post (``shared``) first, framed as shared."""
        viewer = self.app._user(session)
        if which == "Following" and viewer is None:
            which = FEEDS[0]
        banner = None if viewer is not None else VISITOR_BANNER
        first = []
        if shared:
            try:
                first = [self.studio.get_post(viewer, whole_number(shared, "A post id"))]
                banner = None if viewer is not None else "Shared with you on Dreamreel."
                if first[0].is_draft and first[0].author_id != viewer:
                    first = []  # a draft shown to a cameo owner in it is theirs to review, not to be shared around
                    banner = UNAVAILABLE
            except (NotFound, gr.Error):
                banner = UNAVAILABLE
        page = self.studio.feed(viewer, which)
        posts = first + [p for p in page.posts if not first or p.id != first[0].id]
        suggestions = self.studio.suggestions(viewer) if which == "Following" and len(posts) < 3 else ()
        message = page_message(posts, me=self._handle(viewer), feed=which, more=page.next_cursor is not None,
                               banner=banner, empty_text=self._empty_text(which, viewer is not None),
                               wishes=self.studio.feed_wishes(viewer), toast=toast, suggestions=suggestions,
                               break_after=self.app.settings.break_after)
        return message, FeedPosition(which, page.next_cursor)

    def first_load(self, restore: Callable[..., tuple]) -> Callable[..., tuple]:
        """The page's load handler: ``restore`` (the session saved in the browser, the shared post) and then the
        first feed page for that viewer, in one round trip so the first video starts sooner."""
        @functools.wraps(restore)
        def loaded(*args: Any, **kwargs: Any) -> tuple:
            token, saved, whoami, shared = restore(*args, **kwargs)
            return (token, saved, whoami, shared, *self.open(token, shared=shared))
        return loaded

    @user_facing
    def switch(self, session: str | None, event: gr.EventData):
        which = event_field(event, "which")
        if which not in FEEDS:
            raise error(f"Choose one of the feeds: {', '.join(FEEDS)}.")
        return self.open(session, which)

    @user_facing
    def more(self, session: str | None, position: FeedPosition | None):
        """The next page, added below what is shown."""
        position = position or FeedPosition()
        viewer = self.app._user(session)
        if position.cursor is None:
            return page_message([], me=self._handle(viewer), feed=position.which, more=False, append=True), position
        page = self.studio.feed(viewer, position.which, position.cursor)
        message = page_message(page.posts, me=self._handle(viewer), feed=position.which,
                               more=page.next_cursor is not None, append=True)
        return message, FeedPosition(position.which, page.next_cursor)

    @user_facing
    def like(self, session: str | None, event: gr.EventData) -> Message:
        viewer, post_id = self.app._user(session), _post_id(event)
        self.studio.set_like(viewer, post_id, bool(event_field(event, "liked")))
        return post_message(self.studio.get_post(viewer, post_id))

    @user_facing
    def comments(self, session: str | None, event: gr.EventData) -> Message:
        post_id = _post_id(event)
        return comments_message(post_id, self.studio.post(self.app._user(session), post_id).comments)

    @user_facing
    def comment(self, session: str | None, event: gr.EventData) -> Message:
        viewer, post_id = self.app._user(session), _post_id(event)
        text = event_field(event, "text")
        self.studio.comment(viewer, post_id, text if isinstance(text, str) else "")
        return comments_message(post_id, self.studio.post(viewer, post_id).comments, posted=True)

    @user_facing
    def report(self, session: str | None, event: gr.EventData) -> Message:
        post_id = _post_id(event)
        reason = event_field(event, "reason")
        self.studio.report(self.app._user(session), "post", post_id, reason if isinstance(reason, str) else "")
        return removed_message(post_id, "Reported. Thanks: the moderators will look at it, and you won't see it again.")

    @user_facing
    def delete(self, session: str | None, event: gr.EventData) -> Message:
        """Delete a video: its author, the owner of a cameo in it, or an admin."""
        post_id = _post_id(event)
        self.studio.delete_post(self.app._user(session), post_id)
        return removed_message(post_id, "Deleted.")

    @user_facing
    def publish(self, session: str | None, event: gr.EventData) -> Message:
        """Publish one's own draft from the feed viewer, to everyone or to friends."""
        viewer, post_id = self.app._user(session), _post_id(event)
        visibility = event_field(event, "visibility")
        self.studio.publish(viewer, post_id, visibility if isinstance(visibility, str) else "", False)
        label = "everyone" if visibility == "public" else "your friends"
        return post_message(self.studio.get_post(viewer, post_id), toast=f"Published to {label}.")

    @user_facing
    def tune(self, session: str | None, event: gr.EventData):
        """Keep what the viewer wants more or less of, and show "For you" steered by it."""
        text = event_field(event, "text")
        wishes = self.studio.tune_feed(self.app._user(session), text if isinstance(text, str) else "")
        said = "; ".join(part for part in (("more " + ", ".join(wishes.more)) if wishes.more else "",
                                           ("less " + ", ".join(wishes.less)) if wishes.less else "") if part)
        return self.open(session, FEEDS[0], toast=f"Feed tuned: {said}." if said else "Your feed is back to normal.")

    @user_facing
    def follow(self, session: str | None, event: gr.EventData):
        """Follow someone suggested in an empty Following feed, and show their videos there."""
        handle = str(event_field(event, "handle") or "")
        self.studio.follow(self.app._user(session), handle)
        return self.open(session, "Following", toast=f"Following @{handle}")

    @user_facing
    def less(self, session: str | None, event: gr.EventData) -> Message:
        """"See less like this": the video goes, and videos like it sink in "For you"."""
        post_id = _post_id(event)
        self.studio.see_less(self.app._user(session), post_id)
        return removed_message(post_id, "Got it: you'll see fewer videos like this.")

    def watched(self, session: str | None, event: gr.EventData) -> None:
        """Count a view; a view that cannot be counted (the post just went) is not worth a message."""
        try:
            self.studio.watched(self.app._user(session), _post_id(event))
        except StoreError:
            pass

    @user_facing
    def source(self, session: str | None, event: gr.EventData) -> Message:
        """The video a remix came from, shown next."""
        viewer = self.app._user(session)
        post = self.studio.get_post(viewer, _post_id(event))
        return shown_message(post)

    # -- moving between sections -------------------------------------------------------------------

    @staticmethod
    def remix(event: gr.EventData) -> tuple[gr.Tabs, str, int]:
        """Remix opens the composer with this post as its source."""
        return gr.Tabs(selected="remix"), "create", _post_id(event)

    def profile(self, session: str | None, event: gr.EventData):
        """A tapped handle opens that person's profile."""
        handle = str(event_field(event, "handle") or "")
        return (gr.Tabs(selected="profile"), "profile", handle, *self.profiles.show(session, handle))

    @user_facing
    def open_post(self, session: str | None, event: gr.EventData):
        """A tile of a grid opens its video in the feed, playing."""
        return gr.Tabs(selected="feed"), "feed", self.source(session, event)

    @user_facing
    def open_activity(self, session: str | None, event: gr.EventData):
        """A line of the activity inbox opens its video in the feed, or (a follow) the follower's profile.
        Outputs: tabs, nav, reel, then the profile section's."""
        post_id = event_field(event, "post_id")
        if post_id is not None:
            post = self.studio.get_post(self.app._user(session), whole_number(post_id, "A post id"))
            return (gr.Tabs(selected="feed"), "feed", shown_message(post), *[gr.skip()] * 8)
        handle = str(event_field(event, "handle") or "")
        return (gr.Tabs(selected="profile"), "profile", gr.skip(), handle, *self.profiles.show(session, handle))
