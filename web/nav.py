"""The app's bottom bar: Home, Create, Cameo, Profile, Me, as in any short-video app.

The page's sections are Gradio tabs whose own tab strip is hidden (it folds
into a "..." menu on a phone); this bar replaces it. A tap triggers ``go``
with the section's id, and the handler selects that tab; the bar's value is
the section shown, so a handler that moves the user elsewhere (Remix, a
profile) lights the right item too.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from .inputs import event_field

SECTIONS = (("feed", "Home", "⌂"), ("create", "Create", "+"), ("cameo", "Cameo", "☺"), ("activity", "Activity", "♡"),
            ("profile", "Profile", "◉"), ("account", "Me", "☰"))
"""(tab id, label, icon) of each item, in order."""

_TEMPLATE = '<nav class="dr-nav" aria-label="Sections"></nav>'
_JS = """
const bar = element.querySelector('.dr-nav');
for (const [id, label, icon] of props.sections) {
  const button = document.createElement('button');
  button.className = 'dr-nav-item';
  button.dataset.tab = id;
  const glyph = document.createElement('span');
  glyph.className = 'dr-nav-icon';
  glyph.textContent = icon;
  glyph.setAttribute('aria-hidden', 'true');
  const text = document.createElement('span');
  text.textContent = label;
  button.append(glyph, text);
  if (id === 'activity') {
    const badge = document.createElement('span');
    badge.className = 'dr-badge-count';
    badge.hidden = true;
    button.append(badge);
  }
  button.addEventListener('click', () => { mark(id); trigger('go', { tab: id }); });
  bar.append(button);
}
function mark(id) {
  for (const b of bar.children) {
    b.classList.toggle('dr-on', b.dataset.tab === id);
    b.setAttribute('aria-current', b.dataset.tab === id ? 'page' : 'false');
  }
}
function badge() {
  const count = bar.querySelector('.dr-badge-count');
  const n = Number(props.unread || 0);
  count.textContent = n > 99 ? '99+' : String(n);
  count.hidden = n === 0;
  bar.querySelector('[data-tab="activity"]').setAttribute('aria-label', n ? `Activity, ${n} new` : 'Activity');
}
mark(props.value);
badge();
watch('value', () => mark(props.value));
watch('unread', badge);
"""
_CSS = """
.dr-nav {
  display: flex;
  justify-content: space-around;
  height: 56px;
  background: #0b0b0e;
  border-top: 1px solid #222;
}
.dr-nav-item {
  flex: 1;
  display: flex;
  flex-direction: column;
  align-items: center;
  justify-content: center;
  gap: 1px;
  background: none;
  border: 0;
  color: #a1a1aa;
  font: 600 11px system-ui, sans-serif;
  cursor: pointer;
}
.dr-nav-icon { font-size: 20px; line-height: 22px; }
.dr-nav-item.dr-on { color: #fff; }
.dr-nav-item { position: relative; }
.dr-badge-count {
  position: absolute;
  top: 4px;
  left: calc(50% + 6px);
  min-width: 18px;
  height: 18px;
  padding: 0 5px;
  box-sizing: border-box;
  border-radius: 9px;
  background: #ff2d55;
  color: #fff;
  font: 700 11px/18px system-ui, sans-serif;
}
.dr-badge-count[hidden] { display: none; }
"""


class Nav(gr.HTML):
    """The bottom bar; its value is the id of the section shown, its ``unread`` prop the Activity badge.
    Event: ``go`` (tab)."""

    def __init__(self, value: str = "feed", *, unread: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("sections", [list(s) for s in SECTIONS])
        super().__init__(value=value, html_template=_TEMPLATE, css_template=_CSS, js_on_load=_JS,
                         apply_default_css=False, unread=unread, **kwargs)


def section_of(event: gr.EventData) -> str:
    """The section a ``go`` event names (Home for anything else)."""
    tab = event_field(event, "tab")
    return tab if tab in {s[0] for s in SECTIONS} else "feed"
