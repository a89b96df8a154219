"""How the page shows things: post cards, comments and profiles as escaped HTML, errors as plain messages.

The one escaping path: everything shown in the page goes through here.
Gradio renders toasts (errors, notices) and HTML components as live markup,
and Markdown components as Markdown with raw HTML. So

- HTML built here escapes every value with :func:`html_text`;
- a message (``gr.Error``, ``gr.Info``) is raised or shown with
  :func:`error` and :func:`notice`, which escape the whole text: messages
  carry no markup of their own, and many quote what a user typed (a cameo
  owner's restrictions, a handle);
- Markdown that shows user text builds it with :func:`markdown_text`, which
  escapes HTML and every Markdown sign, so ``[x](javascript:...)`` stays text.

A comment such as ``<img src=x onerror=...>`` therefore shows as text and runs nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable
from html import escape
from typing import Any, TypeVar

import gradio as gr

from cameo import CameoRejected
from feed_store import StoreError
from pipeline import GenerationError

from studio.service import Card, Doc

log = logging.getLogger("dreamreel")
F = TypeVar("F", bound=Callable[..., Any])
SOMETHING_WENT_WRONG = "Something went wrong on our side; nothing was saved. Please try again."


def html_text(value: Any) -> str:
    """Any value as text inside HTML (element content or a quoted attribute)."""
    return escape(str(value), quote=True)


_MARKDOWN_SIGNS = re.compile(r"([\\`*_{}\[\]()#+\-=.!|~:])")


def markdown_text(value: Any) -> str:
    """Any value as literal text inside Markdown: no emphasis, links, HTML or entities from it."""
    signs_escaped = _MARKDOWN_SIGNS.sub(lambda m: "\\" + m.group(1), str(value))
    return signs_escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def error(message: Any) -> gr.Error:
    """A ``gr.Error`` that shows ``message`` as text (the toast renders HTML)."""
    return gr.Error(html_text(message), print_exception=False)


def notice(message: Any) -> None:
    """A passing notice (``gr.Info``) that shows ``message`` as text."""
    gr.Info(html_text(message))


def user_facing(fn: F) -> F:
    """Turn the packages' errors into a clear message on the page; anything else is logged, not shown raw."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (StoreError, GenerationError, CameoRejected) as e:
            raise error(e) from e
        except gr.Error:
            raise
        except Exception as e:
            log.exception("unexpected error in %s", fn.__name__)
            raise error(SOMETHING_WENT_WRONG) from e
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


def report_html(report: Doc) -> str:
    """One open report as the moderator reviews it."""
    what = {"post": f'video #{report["target_id"]}', "comment": f'comment #{report["target_id"]}',
            "user": "account"}[report["kind"]]
    said = f'<div class="dr-prompt">{escape(report["target_text"])}</div>' if report.get("target_text") else ""
    return (f'<div class="dr-report"><b>{what} by {escape(report["target_author"])}</b> '
            f'<span class="dr-meta">reported by {escape(report["reporter"])} · {when(report["created_at"])}</span>'
            f'{said}<div>Reason: {escape(report["reason"])}</div></div>')


def refusals_html(refusals: list[Doc]) -> str:
    if not refusals:
        return '<div class="dr-empty">Nothing refused yet.</div>'
    rows = "".join(f'<li><b>@{escape(r["handle"])}</b> {escape(r["what"])} · {escape(r["category"])} · '
                   f'{when(r["at"])}: <span class="dr-comment-text">{escape(r["text"])}</span></li>' for r in refusals)
    return f'<ul class="dr-comments">{rows}</ul>'


def moderation_log_html(entries: list[Doc], handle_of: Callable[[int], str]) -> str:
    if not entries:
        return '<div class="dr-empty">No moderation actions yet.</div>'
    rows = "".join(f'<li>{when(e["at"])} <b>@{escape(handle_of(e["admin_id"]))}</b> {escape(e["action"])} '
                   f'{escape(e["kind"])} #{e["target_id"]}</li>' for e in entries)
    return f'<ul class="dr-comments">{rows}</ul>'


def verify_html(check: Any, card: Card | None) -> str:
    """The Verify tab's answer: from here or not, which post, and each provenance layer."""
    credentials, mark = check.credentials, check.watermark
    if check.from_this_instance:
        verdict = '<b class="dr-ok">Made on this Dreamreel instance.</b>'
    elif credentials.state == "Valid":
        verdict = '<b class="dr-warn">Signed content credentials, but not by this instance.</b>'
    else:
        verdict = '<b class="dr-no">No sign that this video was made here.</b>'
    rows = [verdict]
    if check.post_id is not None:
        rows.append(f'Post #{check.post_id} by @{escape(card.post["author_handle"])}: '
                    f'<a href="/?post={check.post_id}">open it</a>' if card is not None else
                    f"Post #{check.post_id}, which is no longer available or not visible to you.")
    rows.append("Invisible watermark: " + (f"found, carrying post #{mark.payload} (confidence {mark.confidence:.2f})."
                                           if mark is not None else "not found."))
    states = {"Trusted": "valid, signed by this instance", "Valid": "valid, signed by a certificate this instance "
              "does not know", "Invalid": "INVALID: the file was changed after signing, or the signature is bad",
              "Missing": "none (re-encoding or editing removes them)"}
    line = f"Content credentials (C2PA): {states.get(credentials.state, escape(credentials.state))}"
    if credentials.state != "Missing":
        details = []
        if credentials.ai_generated:
            details.append("declared AI-generated")
        if credentials.generation.get("model"):
            details.append(f'model {escape(str(credentials.generation["model"]))}')
        if credentials.parent:
            details.append(f"a remix of {escape(credentials.parent)}")
        if credentials.signer:
            details.append(f"signed by {escape(credentials.signer)}")
        if credentials.failures:
            details.append("problems: " + escape("; ".join(credentials.failures)))
        line += " (" + ", ".join(details) + ")" if details else ""
    rows.append(line + ".")
    if check.tag is not None and not check.from_this_instance:
        rows.append("It carries a Dreamreel metadata tag, but anyone can write one: that alone proves nothing.")
    return '<div class="dr-verify">' + "".join(f"<p>{r}</p>" for r in rows) + "</div>"


CSS = """
.dr-card { padding: 4px 2px; }
.dr-meta, .dr-why { color: #6b7280; font-size: 0.85em; }
.dr-prompt { margin: 4px 0; }
.dr-badge { background: #fde68a; border-radius: 4px; padding: 0 4px; font-size: 0.8em; }
.dr-comments { margin: 0; padding-left: 18px; font-size: 0.9em; }
.dr-ok { color: #15803d; }
.dr-warn { color: #b45309; }
.dr-no { color: #b91c1c; }
"""
