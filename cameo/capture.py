"""From a short recording to a verified likeness.

A cameo clip must show one live person: the same face in (nearly) every
frame, large, lit and sharp enough, turning their head as the on-screen
challenge asks. What is kept is what generation needs: a few aligned crops of
the most frontal frames and the mean face embedding.

Head turns are measured as yaw from the MTCNN landmarks (see
:func:`cameo.faces.yaw_degrees`). "Left" is the person's own left: the nose
moves toward the right of an unmirrored image, a positive yaw. A photo held up
and tilted does not change the nose's position between the eyes, so it never
reads as a turn.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.video_io import VideoError, probe, read_video
from vocabulary import CLIP_MAX_MB, CLIP_RULE, CLIP_SECONDS

from .embedding import Embedding, FaceEmbedder, mean_embedding
from .faces import MAX_LUMA, MIN_FACE_PX, MIN_LUMA, MIN_SHARPNESS, Face, FaceDetector, aligned_crop, face_quality

MIN_SECONDS, MAX_SECONDS = (float(s) for s in CLIP_SECONDS)
MAX_BYTES = CLIP_MAX_MB * 1024 * 1024
VIDEO_SUFFIXES = (".mp4", ".webm", ".mov")
SAMPLE_FPS = 6.0
MAX_SAMPLES = 48
ANALYSIS_WIDTH = 640
MIN_ONE_FACE_SHARE = 0.9
TURN_DEGREES = 15.0
"""A head turn counts once the yaw passes this, each way."""
FRONTAL_DEGREES = 10.0
"""Back to the camera: the yaw is within this of straight ahead."""
IDENTITY_SAMPLES = 6
KEPT_CROPS = 3
TOO_DARK = "The clip is too dark. Turn on a light or face a window."


class CameoRejected(ValueError):
    """The clip cannot become a cameo; the message tells the person what to do."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Challenge:
    """The head turns a clip must show, in order."""

    first: str  # "left" or "right"

    @property
    def order(self) -> tuple[str, str]:
        return (self.first, "right" if self.first == "left" else "left")

    @property
    def steps(self) -> tuple[str, ...]:
        """What to do while recording, one step at a time (the page numbers them)."""
        a, b = self.order
        return ("Look at the camera, alone, in good light", f"Slowly turn your head to your {a}",
                "Come back to the camera", f"Turn your head to your {b}", "Come back to the camera")

    @property
    def instructions(self) -> str:
        a, b = self.order
        return (f"Look at the camera, slowly turn your head to your {a}, back to the camera, "
                f"then to your {b}, and back. Keep only your face in view, in good light.")

    @classmethod
    def random(cls) -> Challenge:
        """A fresh order each time, so an old recording does not pass a new challenge."""
        return cls(random.choice(("left", "right")))


@dataclass(frozen=True)
class Likeness:
    """What a verified clip leaves behind."""

    crops: list[np.ndarray]
    """Aligned face crops of the most frontal frames, best first."""
    embedding: Embedding
    quality: dict[str, float]


def _sample(path: Path) -> np.ndarray:
    """Check the file and decode evenly spaced frames, scaled to the analysis width."""
    if not path.is_file():
        raise CameoRejected("unreadable", "The recording did not arrive; please record or upload it again.")
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise CameoRejected("format", "Upload a video: an MP4, WebM or MOV recording of yourself.")
    if path.stat().st_size > MAX_BYTES:
        raise CameoRejected("too_big", f"That file is over {CLIP_MAX_MB} MB. Record a shorter clip ({CLIP_RULE}).")
    try:
        info = probe(path)
        if not info.duration_s or info.duration_s < MIN_SECONDS:
            raise CameoRejected("too_short", f"The clip is too short. Record {CLIP_RULE}.")
        if info.duration_s > MAX_SECONDS:
            raise CameoRejected("too_long", f"The clip is too long. Record {CLIP_RULE}.")
        height = round(info.height * ANALYSIS_WIDTH / info.width / 2) * 2
        frames, fps = read_video(path, size=(ANALYSIS_WIDTH, height))
    except VideoError:
        raise CameoRejected("unreadable", "That file is not a video we can read. Upload an MP4, WebM or MOV "
                                          "recording of yourself.") from None
    count = min(MAX_SAMPLES, max(2, round(len(frames) / fps * SAMPLE_FPS)))
    return frames[np.linspace(0, len(frames) - 1, count).round().astype(int)]


def _one_face_per_frame(frames: np.ndarray, detector: FaceDetector) -> list[tuple[np.ndarray, Face]]:
    faces = detector.detect(list(frames))
    several = sum(len(f) > 1 for f in faces)
    single = [(frame, found[0]) for frame, found in zip(frames, faces) if len(found) == 1]
    if several > (1 - MIN_ONE_FACE_SHARE) * len(frames):
        raise CameoRejected("several_faces", "More than one face is in view. Record yourself alone.")
    if len(single) < MIN_ONE_FACE_SHARE * len(frames):
        if np.median(frames.mean(axis=(1, 2, 3))) < MIN_LUMA:  # the detector gives up before the light check
            raise CameoRejected("too_dark", TOO_DARK)
        raise CameoRejected("no_face", "We could not see your face through the clip. Face the camera, keep "
                                       "your whole face in view, and avoid covering it.")
    return single


def _check_quality(seen: list[tuple[np.ndarray, Face]]) -> dict[str, float]:
    qualities = [face_quality(frame, face) for frame, face in seen]
    figures = {"face_px": float(np.median([q.width_px for q in qualities])),
               "luma": float(np.median([q.luma for q in qualities])),
               "sharpness": float(np.median([q.sharpness for q in qualities]))}
    if figures["face_px"] < MIN_FACE_PX:
        raise CameoRejected("too_small", "Your face is too small in the picture. Move closer to the camera.")
    if figures["luma"] < MIN_LUMA:
        raise CameoRejected("too_dark", TOO_DARK)
    if figures["luma"] > MAX_LUMA:
        raise CameoRejected("too_bright", "The clip is too bright. Move away from direct light.")
    if figures["sharpness"] < MIN_SHARPNESS:
        raise CameoRejected("blurry", "The clip is too blurry. Hold the camera still and clean the lens.")
    return figures


def check_turns(yaws: list[float], challenge: Challenge) -> None:
    """The yaw track must turn past ±15° each way, in the challenge's order, coming back between and after.

    Turns made in the other order are refused with a message that says so, not as if no turn was seen.
    """
    if _turned(yaws, challenge.order):
        return
    a, b = challenge.order
    if _turned(yaws, (b, a)):
        raise CameoRejected("wrong_order", f"You turned to your {b} first. This time turn to your {a} first, "
                                           f"back to the camera, then to your {b}.")
    raise CameoRejected("no_turns", f"We did not see the head turns. Turn clearly to your {a}, back, then to "
                                    f"your {b}, and back — slowly, so each turn shows.")


def _turned(yaws: list[float], order: tuple[str, str]) -> bool:
    """Whether the yaw track turns to ``order[0]``, back, to ``order[1]``, and back."""
    wanted = [TURN_DEGREES if side == "left" else -TURN_DEGREES for side in order]
    stage = 0  # 0: first turn, 1: back, 2: second turn, 3: back
    for yaw in yaws:
        turn = wanted[stage // 2]
        if stage % 2 == 0 and yaw * np.sign(turn) >= abs(turn):
            stage += 1
        elif stage % 2 == 1 and abs(yaw) <= FRONTAL_DEGREES:
            stage += 1
        if stage == 4:
            return True
    return False


def verify_clip(path: Path, challenge: Challenge, detector: FaceDetector, embedder: FaceEmbedder) -> Likeness:
    """Check a cameo recording; raises :class:`CameoRejected` with a message for the person."""
    seen = _one_face_per_frame(_sample(Path(path)), detector)
    quality = _check_quality(seen)
    check_turns([face.yaw for _, face in seen], challenge)

    frontal = sorted(seen, key=lambda item: abs(item[1].yaw))
    spread = [seen[i] for i in np.linspace(0, len(seen) - 1, IDENTITY_SAMPLES).round().astype(int)]
    samples = [embedder.embed(frame, face) for frame, face in spread]
    kept = [embedder.embed(frame, face) for frame, face in frontal[:KEPT_CROPS]]
    reference = mean_embedding(kept)
    worst = max(embedder.distance(reference, e) for e in samples)
    if worst > embedder.same_person_threshold:
        raise CameoRejected("face_changed", "The face changes during the clip. Record only yourself, start to end.")
    quality.update(identity_spread=worst, yaw_min=min(f.yaw for _, f in seen), yaw_max=max(f.yaw for _, f in seen),
                   frames_checked=float(len(seen)))
    return Likeness([aligned_crop(frame, face) for frame, face in frontal[:KEPT_CROPS]], reference, quality)
