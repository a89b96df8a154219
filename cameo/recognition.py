"""Who is on screen: the faces in a video's frames, each named after the cameo it matches.

Used to check that a generated video shows its cameos (and nobody else's
face in their place): every face the detector finds is embedded and given to
the nearest known cameo when it is the same person, to nobody otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .embedding import Embedding, FaceEmbedder
from .faces import Face, FaceDetector


@dataclass(frozen=True)
class SeenFace:
    """A face found in one frame and the cameo it is (``None``: nobody known)."""

    face: Face
    cameo: int | None
    distances: tuple[float, ...]


def who_is_on_screen(frames: np.ndarray | Sequence[np.ndarray], cameos: Sequence[Embedding],
                     detector: FaceDetector, embedder: FaceEmbedder) -> list[list[SeenFace]]:
    """Per frame (uint8 RGB), every face found and which of ``cameos`` (by index) it matches.

    A face matches a cameo when that cameo is its nearest and within the
    embedder's same-person threshold, and no other cameo is within it too.
    """
    seen: list[list[SeenFace]] = []
    for frame, faces in zip(frames, detector.detect(list(frames))):
        row = []
        for face in faces:
            embedding = embedder.embed(frame, face)
            distances = tuple(embedder.distance(embedding, c) for c in cameos)
            close = [i for i, d in enumerate(distances) if d < embedder.same_person_threshold]
            row.append(SeenFace(face, close[0] if len(close) == 1 else None, distances))
        seen.append(row)
    return seen


def match_rate(seen: list[list[SeenFace]], cameo: int, on_screen: Sequence[bool]) -> float:
    """Share of the frames where ``cameo`` should be on screen that show a face matching it (and only it)."""
    frames = [row for row, shown in zip(seen, on_screen) if shown]
    if not frames:
        return 0.0
    return sum(any(s.cameo == cameo for s in row) for row in frames) / len(frames)
