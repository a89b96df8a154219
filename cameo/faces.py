"""Faces in frames: detection with landmarks, head yaw, aligned crops and quality.

Detection is facenet-pytorch's MTCNN, whose weights ship inside its wheel, so
it runs offline. Frames are uint8 H×W×3 RGB arrays everywhere; boxes and
landmarks are in that frame's pixel coordinates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

if TYPE_CHECKING:
    from facenet_pytorch import MTCNN

# Quality gates for enrolment frames, on the measures of :func:`face_quality`.
# Measured on the astronaut and Grace Hopper photos and on 640x480 frames of
# them (faces ~170 px wide; tests/test_faces.py): sharp faces score sharpness
# 0.12-0.35, a gaussian blur of sigma 2 px brings it to 0.02-0.03 and sigma 4 px
# to 0.005. Their luma is 120-160; ×0.15 brightness gives under 25, while ×1.25
# already clips half of the astronaut's face box to white (luma 196), and at
# ×1.5 (luma 212) dlib's descriptor is 0.72 from the original's, farther than
# another person's (scripts/calibrate_face_thresholds.py).
MIN_FACE_PX = 80       # face box width: smaller faces give unstable landmarks and embeddings
MIN_LUMA = 40          # mean face luma (0..255): darker faces are mostly sensor noise
MAX_LUMA = 190         # brighter faces are washed out: highlights clip to white
MIN_SHARPNESS = 0.02   # laplacian variance / intensity variance: below this the face is blurred

# Nose protrusion over inter-ocular distance (anthropometric ~0.4-0.5). With it,
# yaw_degrees reads the synthetic 3D head turns of ±30° in tests/face_clips.py
# as 22-30°.
_NOSE_DEPTH = 0.45

# aligned_crop's template, in units of the eye-to-mouth distance d: the face
# box MTCNN draws is about 2.2 d wide and 2.7 d tall, centred ~0.45 d below the
# eyes. At d = 0.3 of the crop side that box fills ~2/3 of it: a margin remains.
_EYE_MOUTH_FRACTION = 0.3
_CENTRE_BELOW_EYES = 0.45

_QUALITY_SIDE = 112    # face_quality measures on a fixed-size crop: comparable across face sizes
_DETECT_BATCH = 16     # frames per MTCNN call: bounds memory on long clips


@dataclass(frozen=True, eq=False)
class Face:
    """One detected face (compared by identity: its fields are arrays)."""

    box: np.ndarray        # (4,) float32 x0, y0, x1, y1
    prob: float
    landmarks: np.ndarray  # (5, 2) float32: eye on image-left, eye on image-right, nose, mouth-left, mouth-right

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def yaw(self) -> float:
        """Head yaw in degrees, > 0 when the nose points toward the image's right (see :func:`yaw_degrees`)."""
        return yaw_degrees(self.landmarks)


def yaw_degrees(landmarks: np.ndarray) -> float:
    """Head yaw from 5 landmarks: how far the nose sits off the eyes' midpoint.

    The offset is projected on the eye axis and divided by the eye distance, so
    rolling the head (or tilting the camera) does not read as a turn, and
    neither does the face's size. > 0 means the nose points toward the image's
    right: in an unmirrored recording, the person turned to their own left.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    left_eye, right_eye, nose = lm[0], lm[1], lm[2]
    axis = right_eye - left_eye
    eye_distance = float(np.hypot(*axis))
    offset = float(np.dot(nose - (left_eye + right_eye) / 2, axis / eye_distance)) / eye_distance
    return float(np.degrees(np.arctan2(offset, _NOSE_DEPTH)))


class FaceDetector:
    """facenet-pytorch MTCNN, whose weights ship in its wheel."""

    def __init__(self, min_face_size: int = 40, threshold_prob: float = 0.9) -> None:
        self.min_face_size = min_face_size
        self.threshold_prob = threshold_prob
        self._mtcnn = None  # built on first use: importing torch and building it takes about a second

    def detect(self, frames: Sequence[np.ndarray]) -> list[list[Face]]:
        """The faces in each frame (uint8 H×W×3 RGB), most confident first.

        Frames of one size go through MTCNN together, in chunks: faster per
        frame than one call each. Faces below ``threshold_prob`` are dropped:
        MTCNN's own last-stage cut (0.7) still lets through textures.
        """
        by_size: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, frame in enumerate(frames):
            by_size[np.shape(frame)].append(i)
        found: list[list[Face]] = [[] for _ in frames]
        for indices in by_size.values():
            for start in range(0, len(indices), _DETECT_BATCH):
                chunk = indices[start:start + _DETECT_BATCH]
                batch = np.stack([np.asarray(frames[i], dtype=np.uint8) for i in chunk])
                boxes, probs, points = self._model().detect(batch, landmarks=True)
                for i, b, p, lm in zip(chunk, boxes, probs, points):
                    found[i] = self._faces(b, p, lm)
        return found

    def _model(self) -> MTCNN:
        if self._mtcnn is None:
            from facenet_pytorch import MTCNN  # imports torch: only pay for it when detecting

            self._mtcnn = MTCNN(keep_all=True, min_face_size=self.min_face_size, device="cpu")
        return self._mtcnn

    def _faces(self, boxes, probs, points) -> list[Face]:
        """MTCNN's per-frame output (object arrays, or None when no face) as Faces."""
        if boxes is None:
            return []
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        probs = np.asarray(probs, dtype=np.float32).reshape(-1)
        points = np.asarray(points, dtype=np.float32).reshape(-1, 5, 2)
        faces = [Face(box=b, prob=float(p), landmarks=lm) for b, p, lm in zip(boxes, probs, points)
                 if p >= self.threshold_prob]
        return sorted(faces, key=lambda f: -f.prob)


def aligned_crop(frame: np.ndarray, face: Face, size: int = 160) -> np.ndarray:
    """A size×size crop with the eyes level and the face framed the same way every time.

    A similarity transform: rotation from the eye axis; scale from the
    eye-to-mouth distance, which (unlike the eye distance) barely changes when
    the head turns, so a face keeps its size through a turn; the face box's
    usual centre in the middle, with a margin around the face.
    """
    lm = np.asarray(face.landmarks, dtype=np.float64)
    eyes = (lm[0] + lm[1]) / 2
    across = lm[1] - lm[0]
    across /= np.hypot(*across)
    down = np.array([-across[1], across[0]])  # eye axis turned 90°: points from the eyes to the mouth
    eye_mouth = float(np.dot((lm[3] + lm[4]) / 2 - eyes, down))
    scale = eye_mouth / (_EYE_MOUTH_FRACTION * size)  # frame pixels per crop pixel
    centre = eyes + _CENTRE_BELOW_EYES * eye_mouth * down

    image = Image.fromarray(np.asarray(frame, dtype=np.uint8))
    shrink = int(scale)  # pre-shrink large faces: the affine resampler does not low-pass
    if shrink >= 2:
        image = image.reduce(shrink)
        scale, centre = scale / shrink, centre / shrink
    # Crop pixel (u, v) samples the frame at centre + scale·(u − c)·across + scale·(v − c)·down.
    c = size / 2
    ax, ay = scale * across
    dx, dy = scale * down
    coeffs = (ax, dx, centre[0] - c * (ax + dx), ay, dy, centre[1] - c * (ay + dy))
    crop = image.transform((size, size), Image.Transform.AFFINE, coeffs, resample=Image.Resampling.BICUBIC)
    return np.asarray(crop)


@dataclass(frozen=True)
class FaceQuality:
    """How usable a face is for enrolment: compare with the MIN_*/MAX_* gates above."""

    width_px: float
    luma: float       # mean Rec.601 luma of the face box, 0..255
    sharpness: float  # laplacian variance / intensity variance on a 112 px grey crop: contrast-invariant


def face_quality(frame: np.ndarray, face: Face) -> FaceQuality:
    """Size, brightness and sharpness of the face box.

    Sharpness is measured at a fixed size so that big and small faces compare,
    and divided by the intensity variance so that a dim but sharp face is not
    called blurred (brightness is the luma gate's job).
    """
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = np.round(face.box).astype(int)
    box = np.asarray(frame[max(0, y0):min(h, y1), max(0, x0):min(w, x1)], dtype=np.float32)
    luma = box @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    grey = np.asarray(Image.fromarray(luma).resize((_QUALITY_SIDE, _QUALITY_SIDE), Image.Resampling.BILINEAR),
                      dtype=np.float64)
    sharpness = ndi.laplace(grey).var() / (grey.var() + 1e-6)
    return FaceQuality(width_px=face.width, luma=float(luma.mean()), sharpness=float(sharpness))
