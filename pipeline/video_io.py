"""Video files in and out: MP4 (H.264) with metadata tags, thumbnails, previews.

Everything goes through the ffmpeg binary that ships with imageio-ffmpeg, so
the app needs no system ffmpeg (and no ffprobe). Every writer is atomic: it
writes a temporary file beside the target and renames it into place only once
the file is complete, so a failure never leaves a partial file behind.
"""

from __future__ import annotations

import numbers
import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

PREVIEW_MAX_SIDE = 256

# ffmpeg writes "encoder" itself and derives the other three from the file's
# 'ftyp' box, so none of them can carry a caller's value.
_RESERVED_KEYS = {"encoder", "major_brand", "minor_version", "compatible_brands"}
_CONTAINER_KEYS = _RESERVED_KEYS - {"encoder"}


class VideoError(Exception):
    """A video could not be written or read; the message says which file and why."""


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` reads from a video's header."""

    width: int
    height: int
    fps: float
    duration_s: float
    codec: str
    pix_fmt: str


def upscale_for_display(frames: np.ndarray, min_side: int = 256) -> np.ndarray:
    """Enlarge tiny model outputs (Lanczos) so the short side is >= ``min_side``.

    Both sides come out even, as H.264 in yuv420p requires; frames that are
    already large enough only get an edge row or column added where needed.
    """
    _check_frames(frames)
    _, h, w, _ = frames.shape
    short = min(h, w)
    if short >= min_side:
        return np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    target = _even_ceil(min_side, 1)
    size = (_even_ceil(w * target, short), _even_ceil(h * target, short))
    return np.stack([np.asarray(Image.fromarray(f).resize(size, Image.Resampling.LANCZOS)) for f in frames])


def write_mp4(frames: np.ndarray, path: Path, fps: float, metadata: dict[str, str]) -> None:
    """Encode ``frames`` (uint8, F×H×W×3, even H and W) as a web-ready H.264 MP4.

    ``+faststart`` puts the index first so browsers start playing before the
    download ends; ``use_metadata_tags`` keeps arbitrary keys, which the MP4
    muxer otherwise drops unless they are iTunes tags such as ``title``.
    """
    path = Path(path)
    _check_frames(frames)
    _, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise VideoError(f"Cannot encode {path.name}: frames are {w}x{h}; H.264 needs even sizes.")
    _check_fps(fps)
    # crf 20: clean enough for generated clips at a fraction of a MB per second.
    params = ["-f", "mp4", "-movflags", "+faststart+use_metadata_tags", "-crf", "20"]
    for key, value in _checked_metadata(metadata).items():
        params += ["-metadata", f"{key}={value}"]
    with atomic_file(path) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp), (w, h), fps=float(fps), codec="libx264", pix_fmt_out="yuv420p", quality=None,
            macro_block_size=1,  # never let imageio resize; odd sizes were refused above
            ffmpeg_log_level="error", output_params=params,
        )
        try:
            writer.send(None)
            for frame in frames:
                writer.send(np.ascontiguousarray(frame))
        except OSError as e:
            raise VideoError(f"ffmpeg could not encode {path.name}: {str(e).splitlines()[0]}") from None
        finally:
            writer.close()
        # write_frames ignores ffmpeg's exit status: check the result instead.
        try:
            info = probe(tmp)
        except VideoError:
            raise VideoError(f"ffmpeg failed to write {path.name}; its errors are in the server log.") from None
        if (info.width, info.height) != (w, h):
            raise VideoError(f"ffmpeg wrote {info.width}x{info.height} instead of {w}x{h} for {path.name}.")


def write_thumbnail(frames: np.ndarray, path: Path) -> None:
    """Save the middle frame as a JPEG: the first frame of a generated clip is often a fade-in."""
    _check_frames(frames)
    with atomic_file(path) as tmp:
        Image.fromarray(frames[len(frames) // 2]).save(tmp, format="JPEG", quality=90)


def write_preview(frames: np.ndarray, path: Path, fps: float) -> None:
    """Save a small looping animated WebP for feed cards, at most 256 px on the long side."""
    _check_frames(frames)
    _check_fps(fps)
    _, h, w, _ = frames.shape
    scale = min(1.0, PREVIEW_MAX_SIDE / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    images = [Image.fromarray(f).resize(size, Image.Resampling.LANCZOS) for f in frames]
    with atomic_file(path) as tmp:
        images[0].save(tmp, format="WEBP", save_all=True, append_images=images[1:],
                       duration=round(1000 / fps), loop=0, quality=80)


def read_metadata(path: Path) -> dict[str, str]:
    """The MP4's metadata tags, as :func:`write_mp4` wrote them (plus ffmpeg's ``encoder``)."""
    tags = _parse_ffmetadata(_inspect(Path(path)))
    return {k: v for k, v in tags.items() if k not in _CONTAINER_KEYS}


def read_video(path: Path, max_frames: int | None = None,
               size: tuple[int, int] | None = None) -> tuple[np.ndarray, float]:
    """Decode a video to uint8 frames (F×H×W×3) and its fps.

    ``size`` is (width, height), scaled by ffmpeg; ``max_frames`` stops early.
    """
    path = Path(path)
    output_params = []
    if size is not None:
        output_params += ["-vf", f"scale={int(size[0])}:{int(size[1])}"]
    if max_frames is not None:
        output_params += ["-frames:v", str(int(max_frames))]
    _inspect(path)  # read_frames ignores ffmpeg's errors: a cut file would just end early
    try:
        reader = imageio_ffmpeg.read_frames(str(path), output_params=output_params)
        meta = next(reader)
        w, h = meta["size"]
        frames = [np.frombuffer(b, np.uint8).reshape(h, w, 3) for b in reader]
    except (OSError, RuntimeError) as e:
        raise VideoError(f"{path.name} is not a video Dreamreel can read ({str(e).splitlines()[0]}).") from None
    if not frames:
        raise VideoError(f"{path.name} is not a video Dreamreel can read (it has no frames).")
    return np.stack(frames), float(meta["fps"])


_STILL_IMAGE_CODECS = {"png": "PNG", "mjpeg": "JPEG", "bmp": "BMP", "webp": "WebP", "tiff": "TIFF", "gif": "GIF",
                       "jpeg2000": "JPEG 2000", "jpegxl": "JPEG XL", "qoi": "QOI"}
"""Codecs of image files: with no duration, such a file is one picture, however it is named."""


def probe(path: Path) -> VideoInfo:
    """Size, rate, duration and codec from the stream header: cheap whatever the video's length."""
    path = Path(path)
    reader = imageio_ffmpeg.read_frames(str(path), output_params=["-frames:v", "1"])  # the header needs one
    try:
        meta = next(reader)
    except (OSError, RuntimeError) as e:
        _inspect(path)  # raises with ffmpeg's own reason, which read_frames buries in its log
        raise VideoError(f"{path.name} is not a video Dreamreel can read ({str(e).splitlines()[0]}).") from None
    finally:
        reader.close()
    codec = meta["codec"].rstrip(",")
    if codec in _STILL_IMAGE_CODECS and not meta["duration"]:
        raise VideoError(f"{path.name} is a still image ({_STILL_IMAGE_CODECS[codec]}), not a video.")
    w, h = meta["source_size"]
    return VideoInfo(width=w, height=h, fps=float(meta["fps"]), duration_s=float(meta["duration"]),
                     codec=codec, pix_fmt=meta["pix_fmt"].split("(")[0])


def _check_frames(frames: np.ndarray) -> None:
    if not (isinstance(frames, np.ndarray) and frames.dtype == np.uint8 and frames.ndim == 4
            and frames.shape[-1] == 3 and frames.shape[0] > 0 and min(frames.shape[1:3]) > 0):
        got = f"{frames.dtype} {frames.shape}" if isinstance(frames, np.ndarray) else type(frames).__name__
        raise VideoError(f"Expected uint8 frames shaped (F, H, W, 3), got {got}.")


def _check_fps(fps: float) -> None:
    if not (isinstance(fps, numbers.Real) and fps > 0):
        raise VideoError(f"fps must be a positive number, not {fps!r}.")


def _checked_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """Refuse what ffmpeg would silently drop or change, so every tag reads back as written."""
    seen: set[str] = set()
    for key, value in metadata.items():
        if not (isinstance(key, str) and isinstance(value, str)):
            raise VideoError(f"Metadata keys and values must be strings, got {key!r}: {value!r}.")
        if not key or "=" in key or "\0" in key + value:
            raise VideoError(f"Metadata key {key!r} is not allowed: it must be non-empty, without '=' or NUL.")
        if not value:
            raise VideoError(f"Metadata {key!r} has an empty value, which ffmpeg would drop.")
        if key.lower() in _RESERVED_KEYS or key.lower() in seen:
            raise VideoError(f"Metadata key {key!r} is reserved or repeats another (keys ignore case).")
        seen.add(key.lower())
    return metadata


def _inspect(path: Path) -> str:
    """Demux the whole video stream (without decoding) and return the ffmetadata text.

    Demuxing to the end is what catches a file cut short: its index is intact
    at the front, so the header alone looks fine and a decoder just stops early.
    """
    if not path.is_file():
        raise VideoError(f"{path.name} is not a video Dreamreel can read: there is no such file.")
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-xerror", "-i", str(path),
           "-map", "0:v:0", "-c", "copy", "-f", "null", "-", "-f", "ffmetadata", "-"]
    result = subprocess.run(cmd, capture_output=True)
    if result.returncode != 0:
        reason = _ffmpeg_reason(result.stderr.decode("utf-8", "replace"))
        raise VideoError(f"{path.name} is not a video Dreamreel can read: it is damaged, cut short "
                         f"or not a video ({reason}).")
    return result.stdout.decode("utf-8", "replace")


def _ffmpeg_reason(stderr: str) -> str:
    """The first line ffmpeg logged at level error, without its ``[component @ 0x...]`` prefix."""
    lines = [re.sub(r"^\[[^\]]*\]\s*", "", line).strip().rstrip(".") for line in stderr.splitlines()]
    return next((line for line in lines if line), "no reason given")


# One logical ffmetadata line: escaped pairs (including an escaped newline) or plain characters.
_LINE = re.compile(r"((?:\\.|[^\\\n])*)\n", re.S)
_ENTRY = re.compile(r"((?:\\.|[^\\=])*)=(.*)", re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)


def _parse_ffmetadata(text: str) -> dict[str, str]:
    """The global ``key=value`` entries of ffmpeg's ffmetadata format.

    ``=``, ``;``, ``#``, ``\\`` and newline are backslash-escaped; lines that
    start with ``;`` or ``#`` are comments; a ``[SECTION]`` line ends the
    global part. Only ``\\n`` ends a line: a bare ``\\r`` belongs to a value.
    """
    tags: dict[str, str] = {}
    for match in _LINE.finditer(text if text.endswith("\n") else text + "\n"):
        line = match.group(1)
        if not line or line.startswith((";", "#")):
            continue
        entry = _ENTRY.fullmatch(line)
        if entry is None:
            if line.startswith("["):
                break
            continue
        key, value = (_ESCAPE.sub(r"\1", part) for part in entry.groups())
        tags[key] = value
    return tags


def _even_ceil(numerator: int, denominator: int) -> int:
    """The smallest even integer >= numerator / denominator, in exact integer arithmetic."""
    q = -(-numerator // denominator)
    return q + q % 2


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.touch(exist_ok=False)  # unlike mkstemp's 0600, this honours the umask: media is served
    except OSError as e:
        raise VideoError(f"Cannot write {path.name} in {path.parent}: {e.strerror}.") from None
    try:
        yield tmp
        # Data, then rename, then directory on disk: after a crash the store
        # never points at a missing or torn file.
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise VideoError(f"Cannot write {path.name}: {e}.") from None
        raise
