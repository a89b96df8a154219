"""The Activity inbox: one line per grouped notification, newest first; a tap opens what it is about.

The value is :func:`inbox_value`; the script builds each line with text
nodes only. Event: ``open`` with ``post_id`` (a video) or ``handle`` (a
profile).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio import ActivityItem

from .views import when

_TEMPLATE = '<ol class="dr-inbox" aria-label="Activity"></ol><p class="dr-inbox-empty" hidden></p>'
_JS = """
const list = element.querySelector('.dr-inbox');
const empty = element.querySelector('.dr-inbox-empty');
function show() {
  const items = (props.value && props.value.items) || [];
  list.replaceChildren(...items.map((item) => {
    const line = document.createElement('li');
    line.className = 'dr-line' + (item.unread ? ' dr-unread' : '');
    const button = document.createElement('button');
    button.className = 'dr-line-open';
    const who = document.createElement('b');
    who.textContent = item.who;
    const what = document.createElement('span');
    what.textContent = (item.who ? ' ' : '') + item.text;
    const at = document.createElement('small');
    at.textContent = item.when;
    button.append(who, what, at);
    if (item.post_id !== null || item.handle) {
      button.addEventListener('click', () => trigger('open', item.post_id !== null ? { post_id: item.post_id } : { handle: item.handle }));
    } else {
      button.disabled = true;
    }
    line.append(button);
    return line;
  }));
  empty.textContent = (props.value && props.value.empty) || '';
  empty.hidden = items.length > 0;
}
show();
watch('value', show);
"""
_CSS = """
.dr-inbox { list-style: none; margin: 0; padding: 0; }
.dr-line { border-bottom: 1px solid #e4e4e7; }
.dr-line-open {
  display: grid; grid-template-columns: 1fr; gap: 2px; width: 100%; text-align: left;
  background: none; border: 0; padding: 12px 8px; font: 15px system-ui, sans-serif; color: inherit; cursor: pointer;
}
.dr-line-open small { color: #71717a; }
.dr-unread .dr-line-open { background: #fff1f4; }
.dr-unread .dr-line-open b::before { content: "● "; color: #ff2d55; }
.dr-inbox-empty { color: #71717a; text-align: center; padding: 24px; }
"""


class Inbox(gr.HTML):
    """The activity list. Event: ``open`` (post_id or handle)."""

    def __init__(self, value: Any = None, **kwargs: Any) -> None:
        value = inbox_value(()) if value is None else value
        super().__init__(value=value, html_template=_TEMPLATE, css_template=_CSS, js_on_load=_JS,
                         apply_default_css=False, **kwargs)


def who(actors: tuple[str, ...]) -> str:
    """"@ana", "@ana and @ben", "@ana and 3 others"."""
    if len(actors) <= 2:
        return " and ".join(f"@{a}" for a in actors)
    return f"@{actors[0]} and {len(actors) - 1} others"


def inbox_value(items: tuple[ActivityItem, ...], empty: str = "Nothing yet. Likes, comments, follows, remixes "
                "and every use of your cameo show up here.") -> dict[str, Any]:
    return {"empty": empty, "items": [
        {"who": who(i.actors), "text": i.text, "post_id": i.post_id, "when": when(i.at), "unread": i.unread,
         "handle": i.actors[0] if i.kind == "follow" and i.actors else None}
        for i in items]}
