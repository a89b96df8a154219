"""What a caller asks of the generation pipeline, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from vocabulary import MAX_TEXT

MAX_PROMPT = MAX_TEXT
MAX_CAMEOS = 3


class GenerationError(Exception):
    """Base class: generation did not happen; nothing was written."""


class InvalidRequest(GenerationError, ValueError):
    """The request is malformed or outside the model's limits."""


class CameoNotAllowed(GenerationError, PermissionError):
    """A cameo in the request may not be used by its author, or the model cannot take cameos."""


class GenerationCancelled(GenerationError):
    """The caller cancelled; generation stopped within one denoising step."""


@dataclass(frozen=True)
class CameoReference:
    """What generation needs of a cameo: the person's aligned face crops and embedding."""

    cameo_id: int
    handle: str
    face_crops: tuple[Image.Image, ...]
    embedding: np.ndarray
    embedding_backend: str


@dataclass(frozen=True)
class GenerationRequest:
    """One text-to-video or remix job. ``None`` settings take the model's defaults."""

    prompt: str
    author_handle: str
    """Shown in the visible watermark."""
    negative_prompt: str = ""
    cameos: tuple[CameoReference, ...] = ()
    source_video: Path | None = None
    """The video to remix; ``None`` for text-to-video."""
    strength: float = 0.6
    """Remix only: how far from the source the result may go (0 keeps it, 1 ignores it)."""
    num_frames: int | None = None
    height: int | None = None
    width: int | None = None
    num_inference_steps: int | None = None
    guidance_scale: float | None = None
    seed: int | None = None
    """``None`` draws a random seed; the one used is recorded in the result."""
    post_id: int | None = None
    """The post this video will be (reserved beforehand): the invisible watermark and the credentials carry it."""
    provenance: dict[str, str] = field(default_factory=dict)
    """Extra provenance written into the file, e.g. ``parent_post_id``."""

    @property
    def is_remix(self) -> bool:
        return self.source_video is not None

    def with_defaults(self, **defaults: Any) -> GenerationRequest:
        """A copy with every ``None`` setting named in ``defaults`` filled in."""
        return replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})


@dataclass(frozen=True)
class Limits:
    """What a model family accepts, and its defaults."""

    frames: tuple[int, int]
    frame_step: int
    """Valid frame counts are ``frames[0] + k * frame_step`` (Wan: 4k+1)."""
    size_multiple: int
    size: tuple[int, int] = (16, 1280)
    steps: tuple[int, int] = (1, 100)
    guidance: tuple[float, float] = (0.0, 20.0)
    max_cameos: int = 0
    fps: int = 8
    default_frames: int = 16
    default_size: tuple[int, int] = (512, 512)
    default_steps: int = 25
    default_guidance: float = 6.0

    def size_for(self, aspect: float) -> tuple[int, int]:
        """The (height, width) closest to ``aspect`` (width / height) with the default size's area, within limits.

        Both sides are multiples of ``size_multiple`` inside ``size``; a square model default asked for 9:16
        gives a portrait frame of about the same number of pixels (the embedded model: 192 x 352).
        """
        area = self.default_size[0] * self.default_size[1]
        lo, hi = self.size
        best = None
        for height in range(_round_up(lo, self.size_multiple), hi + 1, self.size_multiple):
            width = min(max(round(height * aspect / self.size_multiple) * self.size_multiple, lo), hi)
            width = max(width, _round_up(lo, self.size_multiple))
            score = 2 * abs(width / height - aspect) / aspect + abs(width * height - area) / area
            if best is None or score < best[0]:
                best = (score, (height, width))
        return best[1]


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


@dataclass(frozen=True)
class GeneratedVideo:
    """The files of one generated clip, all inside the media directory."""

    video_path: Path
    thumbnail_path: Path
    preview_path: Path
    metadata: dict[str, Any]
