"""The feed as a short-video app: a ``gr.HTML`` component whose script keeps the videos, and the messages it reads.

The component's template is only a frame; ``static/reel.js`` builds one slide
per post from the messages it is sent as its value, and changes only what a
message names, so a like or a new page never rebuilds the videos already
playing. The page's handlers answer the component's events (``like``,
``comment``, ``more``...) with one of the messages made here:

- :func:`page_message`: a feed page (replacing what is shown, or appended to it);
- :func:`post_message`: one post's new counts or state;
- :func:`shown_message`: one post opened from elsewhere, played next;
- :func:`comments_message`: a post's comments, newest first;
- :func:`removed_message`: a post that leaves this viewer's feed (reported, hidden).

A post becomes JSON only through :func:`post_json`: numbers, the handles and
the words its author wrote, which the script sets as text, never as HTML.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import gradio as gr

from studio import CommentView, PostView, Suggestion
from vocabulary import FEEDS, REPORT_REASONS

from .views import file_url, when

_STATIC = Path(__file__).parent / "static"
_TEMPLATE = """
<div class="dr-reel" tabindex="0" aria-label="Videos">
  <nav class="dr-feeds" aria-label="Feeds"></nav>
  <div class="dr-banner" hidden></div>
  <div class="dr-slides"></div>
  <div class="dr-empty" hidden><p class="dr-empty-text"></p><div class="dr-people" hidden></div></div>
  <div class="dr-sheet" hidden></div>
  <div class="dr-toast" role="status" hidden></div>
</div>
"""
Message = dict[str, Any]
_sequence = itertools.count(1)
"""Every message has a new number, so the same answer twice (a like, a like) still reaches the script."""


class Reel(gr.HTML):
    """One video per screen, playing while in view, with a like/comment/remix/share/⋯ rail.

    Events (each with ``gr.EventData`` carrying the fields named):
    ``like`` (id, liked), ``comments`` (id), ``comment`` (id, text), ``report`` (id, reason), ``delete`` (id),
    ``publish`` (id, visibility), ``tune`` (text), ``follow`` (handle),
    ``less`` (id), ``watched`` (id), ``more``, ``feed`` (which), ``remix`` (id), ``source`` (id),
    ``profile`` (handle), ``join``.
    """

    def __init__(self, value: Message | None = None, **kwargs: Any) -> None:
        value = page_message([], me=None, feed=FEEDS[0], more=False) if value is None else value
        super().__init__(value=value, html_template=_TEMPLATE,
                         css_template=(_STATIC / "reel.css").read_text(), js_on_load=(_STATIC / "reel.js").read_text(),
                         apply_default_css=False, **kwargs)


def post_json(post: PostView) -> Message:
    """What the script needs of a post, and nothing else (not the author's id, not the file system)."""
    return {"id": post.id, "author": post.author_handle, "prompt": post.prompt, "video_url": file_url(post.video),
            "thumbnail_url": file_url(post.thumbnail), "width": post.width, "height": post.height,
            "likes": post.likes, "comments": post.comments, "remixes": post.remixes, "liked": post.liked,
            "visibility": post.visibility, "draft": post.is_draft, "source_id": post.parent_id,
            "source_author": post.parent_handle, "cameos": list(post.cameo_handles), "reasons": list(post.reasons),
            "demo": post.demo, "can_delete": post.can_delete}


def page_message(posts: list[PostView] | tuple[PostView, ...], *, me: str | None, feed: str, more: bool,
                 append: bool = False, banner: str | None = None, toast: str | None = None,
                 empty_text: str = "", wishes: str = "", suggestions: tuple[Suggestion, ...] = (),
                 break_after: int = 0) -> Message:
    """A feed page for the viewer ``me`` (a handle, ``None`` when signed out).

    ``append`` adds it below what is shown; otherwise it replaces the feed, scrolled to the top.
    ``break_after`` (videos watched in one sitting; 0 for never) is when the reel suggests a break.
    """
    return {"op": "page", "seq": next(_sequence), "posts": [post_json(p) for p in posts], "signed_in": me is not None,
            "me": me,
            "feed": feed, "feeds": list(FEEDS), "more": more, "append": append, "banner": banner, "toast": toast,
            "empty_text": empty_text, "report_reasons": list(REPORT_REASONS), "wishes": wishes,
            "suggestions": [{"handle": s.handle, "name": s.display_name, "reason": s.reason} for s in suggestions],
            "break_after": break_after}


def post_message(post: PostView, toast: str | None = None) -> Message:
    return {"op": "post", "seq": next(_sequence), "post": post_json(post), "toast": toast}


def shown_message(post: PostView, toast: str | None = None) -> Message:
    """Open one post: it plays next, right after the one in view (a remix's source, a profile's tile)."""
    return {"op": "show", "seq": next(_sequence), "post": post_json(post), "toast": toast}


def comments_message(post_id: int, comments: tuple[CommentView, ...], *, posted: bool = False) -> Message:
    """A post's comments, newest first; ``posted`` clears the comment box (only after the comment was saved)."""
    return {"op": "comments", "seq": next(_sequence), "id": post_id, "posted": posted,
            "comments": [{"id": c.id, "author": c.author_handle, "text": c.text, "when": when(c.created_at)}
                         for c in comments]}


def removed_message(post_id: int, toast: str) -> Message:
    return {"op": "remove", "seq": next(_sequence), "id": post_id, "toast": toast}
