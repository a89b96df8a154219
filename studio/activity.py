"""A person's activity: their notifications, grouped into the lines an inbox shows.

The store writes one notification per event (a like, a comment, a follow, a
remix, a use of one's cameo, a mention, a moderators' decision). Here they
become lines: every like of one video is one line ("@ana and 3 others liked
your video"), every comment on it another, and all new followers one line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .records import ActivityItem

Doc = dict[str, Any]
GROUPED_BY_POST = {"like", "comment"}
"""Kinds whose notifications about one video become one line."""
WORDS = {"like": "liked your video", "comment": "commented on your video", "follow": "followed you",
         "remix": "remixed your video", "cameo_used": "made a video with your cameo", "mention": "mentioned you"}
MODERATED = {"post": "The moderators took down your video", "comment": "The moderators took down your comment",
             "user": "The moderators suspended your account"}


def group(notifications: list[Doc], handle_of: Callable[[int], str]) -> tuple[ActivityItem, ...]:
    """Notifications (newest first) as inbox lines, newest first; a line is unread if any of it is."""
    lines: dict[tuple, list[Doc]] = {}
    for n in notifications:
        kind, data = n["kind"], n["data"]
        if kind in GROUPED_BY_POST:
            key: tuple = (kind, data["post_id"])
        elif kind == "follow":
            key = (kind,)
        else:
            key = (kind, n["id"])
        lines.setdefault(key, []).append(n)
    return tuple(_line(group, handle_of) for group in lines.values())


def _line(notes: list[Doc], handle_of: Callable[[int], str]) -> ActivityItem:
    newest = notes[0]
    kind, data = newest["kind"], newest["data"]
    actors = tuple(dict.fromkeys(handle_of(n["data"]["by"]) for n in notes if n["data"].get("by") is not None))
    if kind == "moderation":
        text = MODERATED.get(data["kind"], "The moderators acted on your content") + f" (reported as {data['reason']})."
    else:
        text = WORDS.get(kind, kind)
    post_id = None if kind in ("follow", "moderation") else data.get("post_id")
    return ActivityItem(kind, actors, text, post_id, newest["created_at"], any(not n["read"] for n in notes))
