"""How the page shows things: post cards, comments and profiles as escaped HTML, errors as plain messages.

Everything a user typed goes through ``html.escape`` here, so a comment such
as ``<img src=x onerror=...>`` shows as text and runs nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from html import escape
from typing import Any, TypeVar

import gradio as gr

from cameo import CameoRejected
from feed_store import StoreError
from pipeline import GenerationError

from .service import Card, Doc

log = logging.getLogger("dreamreel")
F = TypeVar("F", bound=Callable[..., Any])


def user_facing(fn: F) -> F:
    """Turn the packages' errors into a clear message on the page; anything else is logged, not shown raw."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (StoreError, GenerationError, CameoRejected) as e:
            raise gr.Error(str(e), print_exception=False) from e
        except gr.Error:
            raise
        except Exception as e:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error("Something went wrong on our side; nothing was saved. Please try again.",
                           print_exception=False) from e
    return wrapper  # type: ignore[return-value]


def when(timestamp: float | None) -> str:
    return "" if timestamp is None else dt.datetime.fromtimestamp(timestamp).strftime("%d %b %H:%M")


def card_html(card: Card) -> str:
    """The text around a video: who, what, why it is in the feed, and its counts."""
    p = card.post
    prompt = escape(p["prompt"]) if p.get("prompt") is not None else "<em>prompt hidden</em>"
    status = "draft" if p.get("published_at") is None else p.get("visibility", "")
    demo = ' <span class="dr-badge">demo</span>' if (p.get("model") or {}).get("demo") else ""
    remix = f' · remix of #{p["parent_id"]}' if p.get("parent_id") else ""
    reasons = f'<div class="dr-why">Why you see this: {escape("; ".join(card.reasons))}</div>' if card.reasons else ""
    return (f'<div class="dr-card" data-post="{p["id"]}"><b>@{escape(p.get("author_handle", ""))}</b>{demo} '
            f'<span class="dr-meta">#{p["id"]} · {escape(status)} · {when(p.get("published_at") or p.get("created_at"))}'
            f'{remix}</span><div class="dr-prompt">{prompt}</div>{reasons}'
            f'<div class="dr-counts">{_count(p.get("likes", 0), "like")} · {_count(p.get("comments", 0), "comment")} · '
            f'{_count(p.get("remixes", 0), "remix")}</div></div>')


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "es" if noun.endswith("x") else "s")


def comments_html(comments: list[Doc]) -> str:
    if not comments:
        return '<div class="dr-comments dr-empty">No comments yet.</div>'
    rows = "".join(f'<li><b>@{escape(c["handle"])}</b> <span class="dr-comment-text">{escape(c["text"])}</span></li>'
                   for c in comments)
    return f'<ul class="dr-comments">{rows}</ul>'


def lineage_html(chain: list[Doc], remixes: list[Doc]) -> str:
    """"Original → remix → this", and the remixes of this post."""
    steps = ["(unavailable)" if p.get("unavailable") else f'#{p["id"]} by @{escape(p["author_handle"])}' for p in chain]
    text = " → ".join(steps)
    if remixes:
        text += "<br>Remixes: " + ", ".join(f'#{r["id"]} by @{escape(r["author_handle"])}' for r in remixes)
    return f'<div class="dr-lineage">{text}</div>'


def people_html(profile: Doc) -> str:
    user = profile["user"]

    def names(handles: list[str]) -> str:
        return ", ".join(f"@{escape(h)}" for h in handles) or "nobody yet"

    return (f'<div class="dr-profile"><h3>{escape(user["display_name"])} <small>@{escape(user["handle"])}</small></h3>'
            f'<p><b>{len(profile["followers"])}</b> followers: {names(profile["followers"])}</p>'
            f'<p><b>{len(profile["following"])}</b> following: {names(profile["following"])}</p>'
            f'<p><b>{len(profile["mutuals"])}</b> mutuals: {names(profile["mutuals"])}</p></div>')


CSS = """
.dr-card { padding: 4px 2px; }
.dr-meta, .dr-why { color: #6b7280; font-size: 0.85em; }
.dr-prompt { margin: 4px 0; }
.dr-badge { background: #fde68a; border-radius: 4px; padding: 0 4px; font-size: 0.8em; }
.dr-comments { margin: 0; padding-left: 18px; font-size: 0.9em; }
"""
