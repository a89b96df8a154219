"""Real test clips of real faces, built offline in a few seconds.

The faces are two public-domain photos that ship with the test dependencies:
the astronaut (Eileen Collins) from scikit-image and Grace Hopper from
matplotlib. Each is cut around the face, put on a plain background and, for a
head turn, warped in 3D: the face is modelled as an ellipsoid with a nose and
rotated about the vertical axis, which moves the nose across the face the way
a real turn does (a flat photo tilted in front of the camera does not).

Direction convention, used everywhere in these clips: "left" is the person's
own left. The app records unmirrored video, so a person turning to their left
points their nose toward the image's right, which is a positive yaw
(``cameo.faces.yaw_degrees``). "right" is the opposite, a negative yaw.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
from matplotlib import cbook
from PIL import Image
from scipy import ndimage as ndi
from skimage import data

from pipeline.video_io import write_mp4

SIZE = (640, 480)           # width, height of every clip
TURN_DEGREES = 30.0         # how far a turn clip turns each way
DIRECTION_SIGN = {"left": 1.0, "right": -1.0}
BACKGROUND = (196, 202, 208)

# MTCNN's box and landmarks (eye on image-left, eye on image-right, nose,
# mouth-left, mouth-right) on each photo, measured once: the clips do not
# depend on the detector under test.
_PHOTO_FACES = {
    "astronaut": ((181.1, 62.2, 267.7, 172.1),
                  ((205.0, 101.7), (246.8, 103.7), (224.7, 129.0), (201.7, 139.2), (245.3, 141.9))),
    "grace": ((174.4, 119.6, 355.6, 340.5),
              ((221.7, 192.2), (309.8, 186.1), (269.4, 239.2), (232.7, 279.6), (306.6, 275.9))),
}
_CUT = 2.4  # side of the square cut around a face, in face-box widths: room for the turn


@cache
def photo(name: str) -> np.ndarray:
    """'astronaut' or 'grace' as an RGB uint8 array."""
    if name == "astronaut":
        return data.astronaut()
    if name == "grace":
        return np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))
    raise ValueError(f"unknown photo {name!r}: use 'astronaut' or 'grace'")


def turn_yaws(order: Sequence[str], count: int) -> list[float]:
    """Yaw per frame of a turn: 0 → first direction (30°) → 0 → the other → 0, smoothly."""
    if sorted(order) != ["left", "right"]:
        raise ValueError(f"order must be ('left', 'right') or ('right', 'left'), not {order!r}")
    sign = DIRECTION_SIGN[order[0]]
    return [sign * TURN_DEGREES * float(np.sin(2 * np.pi * i / count)) for i in range(count)]


def head_turn_frames(photo: str, yaws: Sequence[float], size: tuple[int, int] = SIZE) -> np.ndarray:
    """One frame per yaw (degrees, rounded to whole degrees): the face turned, centred on a plain background."""
    w, h = size
    return np.stack([_compose([(_turned_face(photo, round(y), h * 5 // 6), w // 2)], size) for y in yaws])


def two_faces_frame(size: tuple[int, int] = SIZE) -> np.ndarray:
    """The astronaut and Grace Hopper side by side, both facing the camera."""
    w, h = size
    side = min(w // 2, h) * 15 // 16
    return _compose([(_turned_face("astronaut", 0, side), w // 4), (_turned_face("grace", 0, side), 3 * w // 4)], size)


def visited_turn_frames(photo: str, visitor: str, yaws: Sequence[float], visiting: Sequence[bool],
                        size: tuple[int, int] = SIZE) -> np.ndarray:
    """``photo`` turning on the image's right half; ``visitor`` faces the camera on the left half where ``visiting``.

    Both faces have the size they have in :func:`two_faces_frame`, so a frame
    with the visitor in it is that frame with one of the two people turning.
    """
    w, h = size
    side = min(w // 2, h) * 15 // 16
    return np.stack([_compose([(_turned_face(photo, round(yaw), side), 3 * w // 4)]
                              + ([(_turned_face(visitor, 0, side), w // 4)] if here else []), size)
                     for yaw, here in zip(yaws, visiting, strict=True)])


def landscape_frame(size: tuple[int, int] = SIZE) -> np.ndarray:
    """A scene without a face (scikit-image's coffee cup)."""
    return np.asarray(Image.fromarray(data.coffee()).resize(size, Image.Resampling.BILINEAR))


def darken(frames: np.ndarray, factor: float = 0.15) -> np.ndarray:
    return (frames * factor).astype(np.uint8)


def blur(frames: np.ndarray, sigma: float = 4.0) -> np.ndarray:
    """Gaussian blur of ``sigma`` pixels, each frame and channel on its own."""
    return ndi.gaussian_filter(frames, sigma=(0, sigma, sigma, 0))


def lower_quality(frames: np.ndarray, quality: int = 15, scale: float = 0.5) -> np.ndarray:
    """A cheap camera or a re-upload: each frame shrunk by ``scale``, JPEG-compressed at ``quality``, scaled back."""
    out = []
    for frame in frames:
        image = Image.fromarray(frame)
        small = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
        encoded = io.BytesIO()
        small.save(encoded, "JPEG", quality=quality)
        out.append(np.asarray(Image.open(encoded).convert("RGB").resize(image.size, Image.Resampling.BILINEAR)))
    return np.stack(out)


def with_noise(frame: np.ndarray, count: int, sigma: float = 2.0, seed: int = 0) -> np.ndarray:
    """``count`` copies of one frame with sensor-like noise: a photo held still in front of a camera."""
    rng = np.random.default_rng(seed)
    noisy = frame[None].astype(np.float32) + rng.normal(0, sigma, (count, *frame.shape))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def turn_clip(path: Path, photo: str = "grace", order: Sequence[str] = ("left", "right"),
              seconds: float = 4, fps: int = 15) -> Path:
    """A live-looking enrolment clip: the person turns one way, back, the other way, back."""
    return _write(path, _turn(photo, order, seconds, fps), fps)


def visited_turn_clip(path: Path, photo: str = "grace", visitor: str = "astronaut",
                      order: Sequence[str] = ("left", "right"), visit: tuple[float, float] = (1 / 3, 2 / 3),
                      seconds: float = 4, fps: int = 15) -> Path:
    """A live turn, with a second person in view for part of it: from ``visit[0]`` to ``visit[1]`` of the clip."""
    count = round(seconds * fps)
    visiting = [visit[0] <= i / count < visit[1] for i in range(count)]
    return _write(path, visited_turn_frames(photo, visitor, turn_yaws(order, count), visiting), fps)


def lower_quality_clip(path: Path, photo: str = "grace", order: Sequence[str] = ("left", "right"), quality: int = 15,
                       scale: float = 0.5, seconds: float = 4, fps: int = 15) -> Path:
    """The turn of :func:`turn_clip`, recorded worse: every frame through :func:`lower_quality`."""
    return _write(path, lower_quality(_turn(photo, order, seconds, fps), quality, scale), fps)


def static_clip(path: Path, photo: str = "grace", seconds: float = 4, fps: int = 15) -> Path:
    """A replay attack: the same photo held still, with only sensor noise changing."""
    return _write(path, with_noise(head_turn_frames(photo, [0])[0], round(seconds * fps)), fps)


def two_faces_clip(path: Path, seconds: float = 4, fps: int = 15) -> Path:
    """Two people in the frame: whose face is being enrolled is ambiguous."""
    return _write(path, with_noise(two_faces_frame(), round(seconds * fps)), fps)


def dark_clip(path: Path, photo: str = "grace", seconds: float = 4, fps: int = 15) -> Path:
    """A proper turn filmed with too little light (×0.15 brightness)."""
    return _write(path, darken(_turn(photo, ("left", "right"), seconds, fps)), fps)


def blurred_clip(path: Path, photo: str = "grace", seconds: float = 4, fps: int = 15) -> Path:
    """A proper turn out of focus (gaussian blur, sigma 4 px at 640 px)."""
    return _write(path, blur(_turn(photo, ("left", "right"), seconds, fps)), fps)


def no_face_clip(path: Path, seconds: float = 4, fps: int = 15) -> Path:
    """No face at all: a coffee cup with sensor noise."""
    return _write(path, with_noise(landscape_frame(), round(seconds * fps)), fps)


def _turn(photo: str, order: Sequence[str], seconds: float, fps: int) -> np.ndarray:
    return head_turn_frames(photo, turn_yaws(order, round(seconds * fps)))


def _write(path: Path, frames: np.ndarray, fps: int) -> Path:
    write_mp4(frames, Path(path), fps, metadata={})
    return Path(path)


def _compose(faces: list[tuple[np.ndarray, int]], size: tuple[int, int]) -> np.ndarray:
    """Square face cuts centred at the given x (and vertically) on the plain background."""
    w, h = size
    frame = np.empty((h, w, 3), np.uint8)
    frame[:] = BACKGROUND
    for cut, centre_x in faces:
        side = cut.shape[0]
        x0, y0 = centre_x - side // 2, (h - side) // 2
        frame[y0:y0 + side, x0:x0 + side] = cut
    return frame


@cache
def _turned_face(name: str, yaw: int, side: int) -> np.ndarray:
    """The square cut around a photo's face, ``side`` px, turned by ``yaw`` whole degrees (cached)."""
    box, landmarks = (np.array(v) for v in _PHOTO_FACES[name])
    cut = _CUT * (box[2] - box[0])
    origin = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]) - cut / 2
    scale = side / cut
    image = Image.fromarray(photo(name)).transform(
        (side, side), Image.Transform.EXTENT, (*origin, *(origin + cut)), resample=Image.Resampling.BICUBIC)
    box = (box.reshape(2, 2) - origin) * scale
    return _turn_head(np.asarray(image), box.reshape(4), (landmarks - origin) * scale, yaw)


def _turn_head(image: np.ndarray, box: np.ndarray, landmarks: np.ndarray, yaw: float) -> np.ndarray:
    """Rotate a face about the vertical axis through a crude depth map, leaving the background in place.

    The head is an ellipsoid with a gaussian nose ridge; each point moves
    sideways by its rotated position (orthographic camera). Where the turn
    folds a row onto itself (the nose hiding the far cheek), the nearer surface
    wins. A smooth window fades the motion out around the head.
    """
    if yaw == 0:
        return image
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    eyes = (landmarks[0] + landmarks[1]) / 2
    eye_distance = float(np.hypot(*(landmarks[1] - landmarks[0])))
    cx, cy = eyes[0], (y0 + y1) / 2
    a, b = 0.62 * (x1 - x0), 0.65 * (y1 - y0)  # ellipsoid semi-axes; depth semi-axis = a
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    radius = np.hypot((xx - cx) / a, (yy - cy) / b)
    nx, ny = landmarks[2]
    depth = a * np.sqrt(np.clip(1 - radius ** 2, 0, None)) + 0.45 * eye_distance * np.exp(
        -0.5 * (((xx - nx) / (0.22 * eye_distance)) ** 2 + ((yy - ny) / (0.45 * eye_distance)) ** 2))

    t = np.radians(yaw)
    shift = (xx - cx) * (np.cos(t) - 1) + depth * np.sin(t)
    eye_depth = a * np.sqrt(max(0.0, 1 - ((eyes[1] - cy) / b) ** 2))
    shift -= 0.5 * eye_depth * np.sin(t)  # keep the face roughly where it was
    window = np.clip((1.6 - radius) / 0.6, 0, 1)
    moved_to = xx + window * window * (3 - 2 * window) * shift  # smoothstep fade-out

    # Occlusion: positions must increase along a row; the surface facing the camera wins.
    if t > 0:
        moved_to = np.maximum.accumulate(moved_to, axis=1)
    else:
        moved_to = np.minimum.accumulate(moved_to[:, ::-1], axis=1)[:, ::-1]
    columns = np.arange(w, dtype=np.float64)
    source_x = np.stack([np.interp(columns, row, columns) for row in moved_to])
    out = np.stack([ndi.map_coordinates(image[..., ch].astype(np.float32), [yy, source_x], order=1, mode="nearest")
                    for ch in range(3)], axis=-1)
    return np.clip(out, 0, 255).astype(np.uint8)


def tilted_frames(photo: str, angles: Sequence[float], size: tuple[int, int] = SIZE) -> np.ndarray:
    """A flat print of the frontal face swung about the frame's vertical centre line, one frame per angle.

    What a replay attack with a printed photo looks like: perspective squeezes
    the face, but the nose does not move across it as it does in a real turn.
    """
    w, h = size
    flat = Image.fromarray(head_turn_frames(photo, [0], size)[0])
    focal = 1.2 * max(size)  # a phone camera's field of view, about 45° across
    camera = np.array([[focal, 0, w / 2], [0, focal, h / 2], [0, 0, 1]])
    frames = []
    for angle in angles:
        c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        # The print's plane, rotated about its vertical axis at the camera's focal distance.
        plane = np.array([[c, 0, 0], [0, 1, 0], [-s, 0, 1]])
        to_source = np.linalg.inv(camera @ plane @ np.linalg.inv(camera))
        coeffs = tuple((to_source / to_source[2, 2]).reshape(9)[:8])
        frames.append(np.asarray(flat.transform(size, Image.Transform.PERSPECTIVE, coeffs,
                                                resample=Image.Resampling.BICUBIC, fillcolor=BACKGROUND)))
    return np.stack(frames)


def rolled_frames(photo: str, angles: Sequence[float], size: tuple[int, int] = SIZE) -> np.ndarray:
    """The frontal face rotated in the image plane (a tilted head or camera), one frame per angle in degrees."""
    flat = Image.fromarray(head_turn_frames(photo, [0], size)[0])
    return np.stack([np.asarray(flat.rotate(a, resample=Image.Resampling.BICUBIC, fillcolor=BACKGROUND))
                     for a in angles])
