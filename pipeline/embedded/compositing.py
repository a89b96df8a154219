"""Cameos on screen by compositing: the model draws where heads are, the pipeline pastes the real faces there.

A 7.6 M-parameter model trained for an hour on a CPU cannot synthesise a
likeness (docs/notes/embedded-model-research.md §6), so it does not try. It
learns a fourth *head* channel marking each person's head; here that channel
becomes one track per cameo, and each cameo's stored aligned face crop is
pasted on its track at output resolution, under a feathered oval mask, large
enough (face box >= ``MIN_FACE_PX``) for a face detector to find it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

MIN_FACE_PX = 56
"""Face box width in the output: at 48 px and more the project's detector and dlib match every pasted face."""
FACE_BOX_OF_CROP = 0.66
"""How much of an aligned crop (cameo.faces.aligned_crop) the detector's face box spans."""
HEAD_THRESHOLD = 0.35
"""Head-channel level above which a native pixel belongs to a head."""

Head = tuple[float, float, float]
"""(x, y, radius) in native pixels."""


def head_tracks(head_channel: np.ndarray, count: int) -> list[list[Head | None]]:
    """Per frame, the ``count`` largest heads ordered left to right (``None`` where fewer are drawn).

    ``head_channel`` is (frames, h, w) in [0, 1]. Ordering by x keeps each
    cameo on the same person: the toy domain's groups move side by side.
    """
    tracks: list[list[Head | None]] = []
    for frame in head_channel:
        labels, n = ndi.label(frame > HEAD_THRESHOLD)
        heads = []
        for index in range(1, n + 1):
            weight = np.where(labels == index, frame, 0.0)
            area = float((labels == index).sum())
            if area < 2:
                continue
            cy, cx = ndi.center_of_mass(weight)
            heads.append((float(cx) + 0.5, float(cy) + 0.5, float(np.sqrt(area / np.pi)), area))
        heads = sorted(sorted(heads, key=lambda h: -h[3])[:count], key=lambda h: h[0])
        row: list[Head | None] = [h[:3] for h in heads]
        tracks.append(row + [None] * (count - len(row)))
    return tracks


def _oval_mask(side: int) -> np.ndarray:
    """A feathered oval over the face part of an aligned crop."""
    yy, xx = (np.mgrid[0:side, 0:side] + 0.5) / side - 0.5
    d = np.hypot(xx / 0.36, yy / 0.46)
    return np.clip((1.0 - d) / 0.12, 0.0, 1.0)[..., None]


def face_square(head: Head, scale: float) -> tuple[int, int, int]:
    """Where a cameo's aligned crop goes in the output: (left, top, side) in output pixels."""
    x, y, r = head
    face_px = max(MIN_FACE_PX, 2.2 * r * scale)
    side = int(round(face_px / FACE_BOX_OF_CROP))
    return int(round(x * scale - side / 2)), int(round(y * scale - side / 2)), side


def on_screen(tracks: Sequence[Sequence[Head | None]], cameo: int, width: int, height: int,
              native_size: int = 32) -> list[bool]:
    """Per frame, whether cameo number ``cameo``'s pasted face lies whole inside a (width, height) output."""
    shown = []
    for heads in tracks:
        head = heads[cameo] if cameo < len(heads) else None
        if head is None:
            shown.append(False)
            continue
        left, top, side = face_square(head, width / native_size)
        inset = side * (1 - FACE_BOX_OF_CROP) / 2  # the face box sits inside the crop's margin
        shown.append(left + inset >= 0 and top + inset >= 0 and left + side - inset <= width
                     and top + side - inset <= height)
    return shown


def paste_faces(frames: np.ndarray, tracks: Sequence[Sequence[Head | None]],
                crops: Sequence[Image.Image], native_size: int = 32) -> np.ndarray:
    """``frames`` (F, H, W, 3) in [0, 1] with each crop pasted on its track, frame by frame."""
    out = frames.copy()
    height, width = frames.shape[1:3]
    scale = width / native_size
    for f, heads in enumerate(tracks):
        for head, crop in zip(heads, crops):
            if head is None:
                continue
            x0, y0, side = face_square(head, scale)
            face = np.asarray(crop.convert("RGB").resize((side, side), Image.BILINEAR), np.float32) / 255.0
            mask = _oval_mask(side)
            fx0, fy0 = max(0, -x0), max(0, -y0)
            x1, y1 = min(width, x0 + side), min(height, y0 + side)
            if x1 <= max(x0, 0) or y1 <= max(y0, 0):
                continue
            region = out[f, max(y0, 0):y1, max(x0, 0):x1]
            m = mask[fy0:fy0 + region.shape[0], fx0:fx0 + region.shape[1]]
            patch = face[fy0:fy0 + region.shape[0], fx0:fx0 + region.shape[1]]
            out[f, max(y0, 0):y1, max(x0, 0):x1] = region * (1 - m) + patch * m
    return out
