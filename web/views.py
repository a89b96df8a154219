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
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from cameo import CameoRejected
from feed_store import StoreError
from pipeline import GenerationError

from studio import PostView, ProfileView
from studio.service import Doc

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


def lineage_html(chain: tuple[PostView | None, ...], remixes: tuple[PostView, ...]) -> str:
    """"Original → remix → this", and the remixes of this post."""
    text = " → ".join("(unavailable)" if p is None else f"@{escape(p.author_handle)}'s video" for p in chain)
    if remixes:
        text += "<br>Remixes: " + ", ".join(f"@{escape(r.author_handle)}" for r in remixes)
    return f'<div class="dr-lineage">{text}</div>'


def file_url(path: Path | None) -> str | None:
    """Where the browser fetches a media file (the videos folder is served in place: ``App.launch_options``)."""
    return f"/gradio_api/file={path}" if path else None


def _initials(name: str) -> str:
    """Up to two letters for an avatar without a picture ("Mira Demo" -> "MD")."""
    letters = [w[0] for w in name.replace("_", " ").split() if w[:1].isalnum()]
    return "".join(letters[:2]).upper() or "?"


def profile_html(profile: ProfileView) -> str:
    """A profile's head: avatar (a thumbnail, or initials), name, handle and counts."""
    url = file_url(profile.avatar)
    avatar = (f'<div class="dr-avatar" role="img" aria-label="@{escape(profile.handle)}" '
              f'style="background-image:url(&quot;{escape(url)}&quot;)"></div>' if url else
              f'<div class="dr-avatar" role="img" aria-label="@{escape(profile.handle)}">'
              f'{escape(_initials(profile.display_name or profile.handle))}</div>')
    counts = ((len(profile.posts), "post", "posts"), (len(profile.followers), "follower", "followers"),
              (len(profile.following), "following", "following"), (len(profile.friends), "friend", "friends"))
    stats = "".join(f'<span class="dr-stat"><b>{n}</b> {one if n == 1 else many}</span>' for n, one, many in counts)
    cameo = ' <span class="dr-badge">cameo</span>' if profile.has_cameo else ""
    return (f'<div class="dr-profile">{avatar}<div class="dr-profile-names"><h3>{escape(profile.display_name)}</h3>'
            f'<div class="dr-handle">@{escape(profile.handle)}{cameo}</div></div>'
            f'<div class="dr-stats">{stats}</div></div>')


def report_html(report: Doc) -> str:
    """One open report as the moderator reviews it."""
    what = {"post": f'video #{report["target_id"]}', "comment": f'comment #{report["target_id"]}',
            "user": "account"}[report["kind"]]
    said = f'<div class="dr-prompt">{escape(report["target_text"])}</div>' if report.get("target_text") else ""
    return (f'<div class="dr-report"><b>{what} by {escape(report["target_author"])}</b> '
            f'<span class="dr-meta">reported by {escape(report["reporter"])} · {when(report["created_at"])}</span>'
            f'{said}<div>Reason: {escape(report["reason"])}</div></div>')


def _list_html(rows: list[str], empty: str) -> str:
    """A list of already-escaped rows, or a line saying there is nothing."""
    if not rows:
        return f'<div class="dr-empty">{empty}</div>'
    return '<ul class="dr-comments">' + "".join(f"<li>{row}</li>" for row in rows) + "</ul>"


def refusals_html(refusals: list[Doc]) -> str:
    return _list_html([f'<b>@{escape(r["handle"])}</b> {escape(r["what"])} · {escape(r["category"])} · '
                       f'{when(r["at"])}: <span class="dr-comment-text">{escape(r["text"])}</span>' for r in refusals],
                      "Nothing refused yet.")


def moderation_log_html(entries: list[Doc]) -> str:
    return _list_html([f'{when(e["at"])} <b>@{escape(e["admin_handle"])}</b> {escape(e["action"])} '
                       f'{escape(e["kind"])} #{e["target_id"]}' for e in entries], "No moderation actions yet.")


def verify_html(check: Any, post: PostView | None) -> str:
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
        rows.append(f'Post #{check.post_id} by @{escape(post.author_handle)}: '
                    f'<a href="/?post={check.post_id}">open it</a>' if post is not None else
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
.dr-profile { display: grid; grid-template-columns: 72px 1fr; gap: 8px 14px; align-items: center; }
.dr-avatar { width: 72px; height: 72px; border-radius: 50%; background: #27272a center / cover no-repeat;
             color: #fff; display: flex; align-items: center; justify-content: center; font: 700 26px system-ui; }
.dr-profile h3 { margin: 0; }
.dr-handle { color: #71717a; }
.dr-stats { grid-column: 1 / -1; display: flex; gap: 18px; flex-wrap: wrap; }
.dr-meta, .dr-why { color: #6b7280; font-size: 0.85em; }
.dr-prompt { margin: 4px 0; }
.dr-badge { background: #fde68a; border-radius: 4px; padding: 0 4px; font-size: 0.8em; }
.dr-comments { margin: 0; padding-left: 18px; font-size: 0.9em; }
.dr-ok { color: #15803d; }
.dr-warn { color: #b45309; }
.dr-no { color: #b91c1c; }
"""
