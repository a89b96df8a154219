"""What a feed read returns, the same from every backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Doc = dict[str, Any]


@dataclass
class FeedItem:
    """A post as one viewer sees it, with why it is in their feed."""

    post: Doc
    reasons: list[str] = field(default_factory=list)


@dataclass
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None
    """Pass back to get the next page; ``None`` at the end of the feed."""
