"""A visible, moving watermark that marks every Dreamreel video as AI-made.

Like the Sora app's, it names the app and the creator and moves around the
frame, so neither cropping a corner nor blurring one fixed spot removes it.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BRAND = "Dreamreel"
OPACITY = 0.6
"""Strong enough to read on any background, light enough not to hide the video."""
FRAMES_PER_LEG = 48
"""Frames the watermark takes to glide from one corner to the next (2 s at 24 fps)."""


def add_visible_watermark(frames: np.ndarray, handle: str) -> np.ndarray:
    """Return a copy of ``frames`` (uint8, F×H×W×3) with "Dreamreel" and "@handle"
    gliding from corner to corner: top left, top right, bottom right, bottom left.
    """
    if not (frames.dtype == np.uint8 and frames.ndim == 4 and frames.shape[-1] == 3):
        raise ValueError(f"Expected uint8 frames shaped (F, H, W, 3), got {frames.dtype} {frames.shape}.")
    count, height, width, _ = frames.shape
    margin = round(min(width, height) * 0.03)
    # At most 60% of the width, so even a long handle leaves room to move.
    stamp = _stamp(handle, max_width=round(width * 0.6), font_size=max(10, round(min(width, height) * 0.07)))
    stamp = stamp[:height, :width]  # a frame smaller than the text gets as much as fits
    sh, sw = stamp.shape[:2]
    rgb, alpha = stamp[..., :3] * 255, stamp[..., 3:] * OPACITY
    out = frames.copy()
    for i, (x, y) in enumerate(_positions(count, width - sw, height - sh, margin)):
        region = out[i, y:y + sh, x:x + sw]
        out[i, y:y + sh, x:x + sw] = np.rint(rgb * alpha + region * (1 - alpha)).astype(np.uint8)
    return out


def _stamp(handle: str, max_width: int, font_size: int) -> np.ndarray:
    """The two-line watermark as float RGBA in [0, 1]: white text with a dark outline.

    The handle is user text: control and format characters (newlines,
    direction overrides) are dropped and a handle too long to fit is cut
    with an ellipsis, so it always renders as one plain line.
    """
    name = "".join(ch for ch in handle.lstrip("@")[:100] if not unicodedata.category(ch).startswith("C"))
    brand_font = ImageFont.load_default(size=font_size)
    handle_font = ImageFont.load_default(size=max(8, round(font_size * 0.75)))
    stroke = max(1, round(font_size / 14))
    draw = ImageDraw.Draw(Image.new("RGBA", (1, 1)))

    def box(text: str, font: ImageFont.FreeTypeFont) -> tuple[int, int, int, int]:
        return tuple(round(v) for v in draw.textbbox((0, 0), text, font=font, stroke_width=stroke))

    text = f"@{name}"
    while name and box(text, handle_font)[2] > max_width:
        name = name[:-1]
        text = f"@{name}…"
    lines = [(BRAND, brand_font, box(BRAND, brand_font)), (text, handle_font, box(text, handle_font))]
    gap = stroke
    width = max(b[2] - b[0] for _, _, b in lines)
    height = sum(b[3] - b[1] for _, _, b in lines) + gap
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    y = 0
    for line, font, (left, top, right, bottom) in lines:
        x = (width - (right - left)) // 2 - left  # centred, so it reads well in every corner
        draw.text((x, y - top), line, font=font, fill=(255, 255, 255, 255),
                  stroke_width=stroke, stroke_fill=(0, 0, 0, 255))
        y += bottom - top + gap
    return np.asarray(image, dtype=np.float32) / 255


def _positions(count: int, x_max: int, y_max: int, margin: int) -> Iterator[tuple[int, int]]:
    """Top-left positions for each frame: eased glides between the four corners.

    Short clips make one glide; longer ones one per ``FRAMES_PER_LEG`` frames.
    """
    lo_x, lo_y = min(margin, x_max), min(margin, y_max)
    hi_x, hi_y = max(lo_x, x_max - margin), max(lo_y, y_max - margin)
    corners = [(lo_x, lo_y), (hi_x, lo_y), (hi_x, hi_y), (lo_x, hi_y)]
    legs = max(1, math.ceil((count - 1) / FRAMES_PER_LEG))
    for i in range(count):
        progress = i * legs / max(1, count - 1)
        leg = min(int(progress), legs - 1)
        t = progress - leg
        t = t * t * (3 - 2 * t)  # ease in and out: it lingers near each corner
        (x0, y0), (x1, y1) = corners[leg % 4], corners[(leg + 1) % 4]
        yield round(x0 + (x1 - x0) * t), round(y0 + (y1 - y0) * t)
