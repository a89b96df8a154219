"""Video files and the watermark, against the real bundled ffmpeg (no mocks).

One short clip is encoded once per module and shared: a red square moving
over a grey gradient, 16 frames of 64x64 upscaled to 256x256, at 8 fps.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.video_io import (
    VideoError,
    probe,
    read_metadata,
    read_video,
    upscale_for_display,
    write_mp4,
    write_preview,
    write_thumbnail,
)
from pipeline.watermark import add_visible_watermark

FPS = 8
TRICKY = {
    "dreamreel": json.dumps({"prompt": 'a "cat" says x=1; y#2 \\o/', "model": "tiny", "note": "ünïcødé 🎬"},
                            ensure_ascii=False),
    "title": "A = B; C # D \\ E",
    "comment": "line one\nline two\r\nline three\n",
    "ключ": "значение",
    "[looks-like-a-section]": "=;#\\",
    "padded": "  spaces kept  ",
    "odd;key#\\ with\nnewline": "v",
}


def moving_square(count: int = 16, size: int = 64) -> np.ndarray:
    """A 12 px red square moving diagonally over a grey gradient."""
    yy, xx = np.mgrid[0:size, 0:size]
    background = np.stack([xx + 40, xx + 40, yy + 40], axis=-1).astype(np.uint8)
    frames = np.repeat(background[None], count, axis=0)
    for i in range(count):
        frames[i, 4 + 2 * i:16 + 2 * i, 4 + 2 * i:16 + 2 * i] = (230, 20, 20)
    return frames


def square_centre(frame: np.ndarray) -> np.ndarray:
    red = (frame[..., 0] > 150) & (frame[..., 1] < 100)
    return np.argwhere(red).mean(axis=0)


def top_level_boxes(data: bytes) -> list[str]:
    """The names of an MP4 file's top-level boxes, in file order."""
    names, offset = [], 0
    while offset + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[offset:offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8:offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        names.append(name.decode("latin-1"))
        offset += size
    return names


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return upscale_for_display(moving_square())


@pytest.fixture(scope="module")
def clip(tmp_path_factory, frames) -> Path:
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_mp4(frames, path, FPS, TRICKY)
    return path


# -- upscale_for_display ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, expected", [
    ((16, 16), (256, 256)),
    ((64, 64), (256, 256)),
    ((48, 64), (256, 342)),  # aspect kept, rounded up to even
    ((31, 17), (468, 256)),
])
def test_upscale_reaches_min_side_with_even_sizes(shape, expected):
    out = upscale_for_display(np.zeros((2, *shape, 3), np.uint8))
    assert out.shape == (2, *expected, 3) and out.dtype == np.uint8


def test_large_frames_are_only_made_even():
    frames = np.random.default_rng(0).integers(0, 256, (2, 301, 257, 3), dtype=np.uint8)
    out = upscale_for_display(frames)
    assert out.shape == (2, 302, 258, 3)
    assert np.array_equal(out[:, :301, :257], frames)
    assert upscale_for_display(out).shape == out.shape


# -- write_mp4, probe, read_video, read_metadata ------------------------------------------------------


def test_probe_reads_the_header(clip):
    info = probe(clip)
    assert (info.codec, info.pix_fmt, info.width, info.height, info.fps) == ("h264", "yuv420p", 256, 256, FPS)
    assert info.duration_s == pytest.approx(16 / FPS, abs=0.02)


def test_frames_round_trip(clip, frames):
    decoded, fps = read_video(clip)
    assert decoded.shape == frames.shape and fps == FPS
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 3
    for original, copy in zip(frames, decoded):
        assert np.abs(square_centre(original) - square_centre(copy)).max() < 1.5


def test_read_video_scales_and_caps(clip):
    decoded, fps = read_video(clip, max_frames=5, size=(64, 32))
    assert decoded.shape == (5, 32, 64, 3) and fps == FPS


def test_mp4_is_faststart(clip):
    boxes = top_level_boxes(clip.read_bytes())
    assert boxes.index("moov") < boxes.index("mdat")


def test_metadata_round_trips_exactly(clip):
    tags = read_metadata(clip)
    assert tags.pop("encoder").startswith("Lavf")  # ffmpeg always writes its own
    assert tags == TRICKY


@pytest.mark.parametrize("metadata", [
    {"": "no key"},
    {"a=b": "'=' ends the key"},
    {"empty": ""},
    {"encoder": "ffmpeg overwrites this"},
    {"Title": "keys", "title": "ignore case"},
    {"count": 3},
])
def test_metadata_ffmpeg_would_change_is_refused(tmp_path, metadata):
    with pytest.raises(VideoError):
        write_mp4(np.zeros((2, 16, 16, 3), np.uint8), tmp_path / "out.mp4", FPS, metadata)
    assert list(tmp_path.iterdir()) == []


# -- thumbnail and preview ----------------------------------------------------------------------------


def test_thumbnail_is_a_jpeg_of_the_middle_frame(tmp_path, frames):
    path = tmp_path / "thumb.jpg"
    write_thumbnail(frames, path)
    with Image.open(path) as image:
        assert image.format == "JPEG" and image.size == (256, 256)
        assert np.abs(square_centre(np.asarray(image)) - square_centre(frames[8])).max() < 1.5


def test_preview_is_a_small_animated_webp(tmp_path):
    frames = np.random.default_rng(1).integers(0, 256, (12, 360, 640, 3), dtype=np.uint8)
    path = tmp_path / "preview.webp"
    write_preview(frames, path, FPS)
    with Image.open(path) as image:
        assert image.format == "WEBP" and image.is_animated
        assert image.n_frames == 12 and image.size == (256, 144)


# -- failures leave nothing behind --------------------------------------------------------------------


def test_odd_sized_frames_are_refused(tmp_path):
    with pytest.raises(VideoError, match="even"):
        write_mp4(np.zeros((2, 65, 64, 3), np.uint8), tmp_path / "out.mp4", FPS, {})
    assert list(tmp_path.iterdir()) == []


def test_encoder_failure_leaves_no_file(tmp_path):
    # libx264 refuses frames wider than 16384 px: ffmpeg starts, then fails.
    with pytest.raises(VideoError, match="out.mp4"):
        write_mp4(np.zeros((2, 16, 16400, 3), np.uint8), tmp_path / "out.mp4", FPS, {})
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_is_a_video_error(tmp_path):
    with pytest.raises(VideoError, match="out.mp4"):
        write_mp4(np.zeros((2, 16, 16, 3), np.uint8), tmp_path / "missing" / "out.mp4", FPS, {})


@pytest.mark.parametrize("write", [
    lambda frames, path: write_mp4(frames, path, FPS, {"k": "v"}),
    write_thumbnail,
    lambda frames, path: write_preview(frames, path, FPS),
])
def test_failed_rename_leaves_no_temp_file(tmp_path, write):
    target = tmp_path / "out"
    target.mkdir()  # the file is written, then cannot replace a directory
    with pytest.raises(VideoError, match="out"):
        write(np.zeros((2, 16, 16, 3), np.uint8), target)
    assert list(tmp_path.iterdir()) == [target] and list(target.iterdir()) == []


def test_a_failed_write_keeps_the_previous_file(tmp_path, frames):
    path = tmp_path / "out.mp4"
    write_mp4(frames[:2], path, FPS, {"version": "1"})
    with pytest.raises(VideoError):
        write_mp4(np.zeros((2, 16, 16400, 3), np.uint8), path, FPS, {"version": "2"})
    assert read_metadata(path)["version"] == "1"
    assert list(tmp_path.iterdir()) == [path]


# -- unreadable input ---------------------------------------------------------------------------------


@pytest.fixture(params=["text", "header-only", "empty", "missing"])
def bad_video(request, tmp_path, clip) -> Path:
    path = tmp_path / "upload.mp4"
    if request.param == "text":
        path.write_text("this is not a video\n" * 20)
    elif request.param == "header-only":
        path.write_bytes(clip.read_bytes()[:600])
    elif request.param == "empty":
        path.write_bytes(b"")
    return path


@pytest.mark.parametrize("read", [read_video, read_metadata, probe])
def test_unreadable_input_is_a_clear_video_error(bad_video, read):
    with pytest.raises(VideoError, match="upload.mp4 is not a video Dreamreel can read") as error:
        read(bad_video)
    assert "Traceback" not in str(error.value) and len(str(error.value)) < 200


@pytest.mark.parametrize("read", [read_video, read_metadata])
def test_a_file_cut_short_is_refused(tmp_path, clip, read):
    # Its index survives at the front (faststart), so only reading to the end shows the loss;
    # probe reads just the header and is not asked to notice.
    path = tmp_path / "upload.mp4"
    path.write_bytes(clip.read_bytes()[:clip.stat().st_size // 2])
    with pytest.raises(VideoError, match="upload.mp4 is not a video Dreamreel can read: it is damaged, cut short"):
        read(path)


# -- watermark ----------------------------------------------------------------------------------------


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the pixels that differ."""
    rows, cols = np.nonzero(np.any(before != after, axis=-1))
    return rows.min(), cols.min(), rows.max() + 1, cols.max() + 1


@pytest.mark.parametrize("height, width", [(256, 256), (720, 1280)])
def test_watermark_is_visible_and_moves(height, width):
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 // width, yy * 255 // height, np.full_like(xx, 90)], axis=-1).astype(np.uint8)
    frames = np.repeat(base[None], 16, axis=0)
    marked = add_visible_watermark(frames, "alice")
    assert marked.shape == frames.shape and marked.dtype == np.uint8
    assert np.array_equal(frames[0], base)  # the input is not changed in place

    boxes = [changed_box(f, m) for f, m in zip(frames, marked)]
    for (top, left, bottom, right), f, m in zip(boxes, frames, marked):
        region = np.abs(f[top:bottom, left:right].astype(int) - m[top:bottom, left:right])
        assert region.max() > 100  # plainly visible
        assert (bottom - top) * (right - left) < 0.1 * height * width  # and only there
    assert boxes[0] != boxes[-1]
    assert abs(boxes[0][1] - boxes[-1][1]) > width / 4  # it travels, not jitters


def test_watermark_renders_hostile_handles_as_one_line():
    frames = np.full((2, 256, 256, 3), 128, np.uint8)
    top, _, bottom, _ = changed_box(frames[0], add_visible_watermark(frames, "bob")[0])
    for handle in ["bob\n\nDreamreel official", "\u202ebob", "x" * 300, "{bob}%s<script>"]:
        t, left, b, right = changed_box(frames[0], add_visible_watermark(frames, handle)[0])
        assert b - t == pytest.approx(bottom - top, abs=3)  # still two lines
        assert right - left <= 0.7 * 256  # a long handle is cut to fit
