"""Dreamreel's shared words and limits: one definition each, imported by every package that needs it.

A rule a user meets in several places (how a handle looks, how long a
comment may be, how long a cameo clip lasts, what a permission is called)
lives here once, so the check, the error message and the page's help text
cannot drift apart. This module imports nothing of the project: any package
may use it without creating a cycle.
"""

from __future__ import annotations

import re

# -- people -----------------------------------------------------------------------------------------

HANDLE_PATTERN = r"[a-z0-9_]{3,30}"
"""A handle: 3 to 30 lowercase letters, digits or underscores (shown with an ``@``)."""
HANDLE_RE = re.compile(HANDLE_PATTERN)
MENTION_RE = re.compile(rf"@({HANDLE_PATTERN})\b", re.IGNORECASE)
HANDLE_RULE = "3 to 30 lowercase letters, digits or underscores"

# -- text -------------------------------------------------------------------------------------------

MAX_TEXT = 500
"""The longest prompt, comment, report reason, restriction or feed preference, in characters."""

# -- videos -----------------------------------------------------------------------------------------

MAX_UPLOAD_MB = 100
"""The largest file the page accepts (a video to verify, a cameo recording)."""
VISIBILITY_LABELS = {"draft": "Only me (draft)", "friends": "Friends", "public": "Everyone"}
"""Who sees a post, by its stored name."""
ASPECTS = {"portrait": 9 / 16, "square": 1.0, "landscape": 16 / 9}
"""The shapes a creator can ask for, as width / height; each maps to the nearest size the model allows."""

# -- cameos -----------------------------------------------------------------------------------------

CLIP_SECONDS = (2, 30)
"""A cameo recording lasts at least this and at most this many seconds."""
CLIP_MAX_MB = 50
CLIP_RULE = f"{CLIP_SECONDS[0]} to {CLIP_SECONDS[1]} seconds"
CAMEO_PERMISSION_LABELS = {"only_me": "Only me", "approved": "People I approve", "mutuals": "Friends",
                           "everyone": "Everyone"}
"""Who may star someone's cameo, by stored name, in the words the page uses."""
CAMEO_PERMISSIONS = tuple(CAMEO_PERMISSION_LABELS)

# -- feeds and safety -------------------------------------------------------------------------------

FEEDS = ("For you", "Following", "Latest")
REPORT_REASONS = ("spam", "harassment or hate", "sexual content", "violence", "uses my likeness", "other")
