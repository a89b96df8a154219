"""A three-column grid of video thumbnails (a profile's posts, drafts, cameo videos); a tap opens the video.

The value is a list of :func:`tile` records; the script builds the tiles with
text nodes only. Event: ``open`` (id).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio import PostView

from .views import file_url

_TEMPLATE = '<div class="dr-grid" role="list"></div><p class="dr-grid-empty" hidden></p>'
_JS = """
const grid = element.querySelector('.dr-grid');
const empty = element.querySelector('.dr-grid-empty');
function show() {
  const tiles = (props.value && props.value.tiles) || [];
  grid.replaceChildren(...tiles.map((t) => {
    const tile = document.createElement('button');
    tile.className = 'dr-tile';
    tile.setAttribute('role', 'listitem');
    tile.setAttribute('aria-label', t.label);
    tile.dataset.id = t.id;
    if (t.thumbnail_url) tile.style.backgroundImage = `url("${encodeURI(t.thumbnail_url)}")`;
    const count = document.createElement('span');
    count.className = 'dr-tile-count';
    count.textContent = t.badge;
    tile.append(count);
    tile.addEventListener('click', () => trigger('open', { id: t.id }));
    return tile;
  }));
  empty.textContent = (props.value && props.value.empty) || '';
  empty.hidden = tiles.length > 0;
}
show();
watch('value', show);
"""
_CSS = """
.dr-grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 2px; }
.dr-tile {
  position: relative;
  aspect-ratio: 9 / 16;
  border: 0;
  padding: 0;
  background: #18181b center / cover no-repeat;
  cursor: pointer;
}
.dr-tile-count {
  position: absolute;
  left: 6px;
  bottom: 4px;
  color: #fff;
  font: 600 12px system-ui, sans-serif;
  text-shadow: 0 1px 3px rgba(0, 0, 0, 0.8);
}
.dr-grid-empty { color: #71717a; text-align: center; padding: 24px; }
"""


class Grid(gr.HTML):
    """Thumbnails in three columns. Event: ``open`` (id)."""

    def __init__(self, value: Any = None, **kwargs: Any) -> None:
        value = grid_value([]) if value is None else value
        super().__init__(value=value, html_template=_TEMPLATE, css_template=_CSS, js_on_load=_JS,
                         apply_default_css=False, **kwargs)


def grid_value(posts: list[PostView] | tuple[PostView, ...], empty: str = "No videos yet.") -> dict[str, Any]:
    """The grid's value: a tile per post (its thumbnail, and its likes or "draft")."""
    return {"empty": empty, "tiles": [
        {"id": p.id, "thumbnail_url": file_url(p.thumbnail), "badge": "draft" if p.is_draft else f"♥ {p.likes}",
         "label": f"Video by @{p.author_handle}" + (" (draft)" if p.is_draft else f", {p.likes} likes")}
        for p in posts]}
