"""Read a clip's subject colour and direction of motion back from its frames.

The judge of prompt adherence for the embedded model's toy domain. It knows
the subject palette of :mod:`.toy_world` (scenes are muted, subjects
saturated) but nothing of how a clip was made: it works on any frames, of any
size, generated or drawn. Checked against drawn clips in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .toy_world import COLOURS, SIZE

COLOUR_DISTANCE = 0.3
"""RGB distance (0..1 scale) within which a pixel counts as that palette colour."""
MIN_PIXELS = 6
"""Fewer subject pixels than this over the whole clip reads as "no subject"."""
MIN_BLOB = 3
"""Pixels a frame must show of the subject for its position to count."""
TRAVEL_PX = 6.0
"""Net displacement (native pixels) that counts as moving in a direction."""
ZOOM_RATIO = 1.8
"""How much larger the subject must end than it starts to count as zooming in."""

_PALETTE = np.asarray(list(COLOURS.values()), np.float32)
_NAMES = list(COLOURS)


@dataclass(frozen=True)
class Reading:
    """What the analyser saw: the subject's colour and motion (``None`` when unreadable) and its track."""

    colour: str | None
    motion: str | None
    centres: np.ndarray  # (frames, 2) x, y in native pixels, NaN where the subject was not found
    areas: np.ndarray    # (frames,) pixels


def _native(frames: np.ndarray) -> np.ndarray:
    """Frames (F, H, W, 3) as floats in [0, 1] at the native SIZE (area-averaged)."""
    frames = np.asarray(frames)
    scale = 255.0 if frames.dtype == np.uint8 or frames.max() > 1.0 else 1.0
    if frames.shape[1:3] == (SIZE, SIZE):
        return frames.astype(np.float32) / scale
    return np.stack([np.asarray(Image.fromarray(np.clip(f / scale * 255, 0, 255).astype(np.uint8))
                                .resize((SIZE, SIZE), Image.BOX), np.float32) / 255.0 for f in frames])


def read_clip(frames: np.ndarray) -> Reading:
    """The subject's colour (most frequent palette colour) and motion (from its centroid and size over time)."""
    clip = _native(frames)
    distance = np.linalg.norm(clip[..., None, :] - _PALETTE, axis=-1)  # F, H, W, colours
    nearest = distance.argmin(-1)
    close = distance.min(-1) < COLOUR_DISTANCE
    counts = np.bincount(nearest[close], minlength=len(_NAMES))
    if counts.max() < MIN_PIXELS:
        return Reading(None, None, np.full((len(clip), 2), np.nan), np.zeros(len(clip)))
    colour = int(counts.argmax())
    subject = close & (nearest == colour)
    areas = subject.sum((1, 2)).astype(np.float32)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    with np.errstate(invalid="ignore", divide="ignore"):
        centres = np.stack([(subject * xx).sum((1, 2)) / areas, (subject * yy).sum((1, 2)) / areas], 1)
    return Reading(_NAMES[colour], classify_motion(centres, areas), centres, areas)


def classify_motion(centres: np.ndarray, areas: np.ndarray) -> str | None:
    """left/right/up/down/circle/zoom/jump from a track, or ``None`` when it shows no clear motion."""
    seen = areas >= MIN_BLOB
    if seen.sum() < len(areas) // 2:
        return None
    track, size = centres[seen], areas[seen]
    k = max(2, len(track) // 5)
    start, end = track[:k].mean(0), track[-k:].mean(0)
    dx, dy = end - start
    travel = float(np.hypot(dx, dy))
    if size[-k:].mean() >= ZOOM_RATIO * size[:k].mean() and travel < TRAVEL_PX:
        return "zoom"
    y = track[:, 1]
    x_span, y_span = np.ptp(track[:, 0]), np.ptp(y)
    if y_span > 5 and abs(dy) < TRAVEL_PX and x_span < 5:
        return "jump"
    if min(x_span, y_span) > TRAVEL_PX:  # a loop spans both axes; a sweep of the angle says it went round
        offsets = track - track.mean(0)
        radius = np.hypot(offsets[:, 0], offsets[:, 1])
        angles = np.unwrap(np.arctan2(offsets[:, 1], offsets[:, 0]))
        if abs(angles[-1] - angles[0]) > 1.2 * np.pi and radius.std() < 0.5 * radius.mean():
            return "circle"
    if travel < TRAVEL_PX:
        return None
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"
