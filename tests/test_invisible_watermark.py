"""The invisible watermark against real encodes: write_mp4, then the bundled ffmpeg (no mocks).

The marked clip looks like Dreamreel's output: a toy-world clip (the embedded
model's domain) upscaled for display, with the visible watermark on top. The
foreign clip is a real photo (scikit-image's astronaut), panned.
"""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from skimage import data

from pipeline.embedded.toy_world import ClipSpec, render
from pipeline.invisible_watermark import InvisibleWatermark, WatermarkReading
from pipeline.video_io import read_video, upscale_for_display, write_mp4
from pipeline.watermark import add_visible_watermark

POST_ID = 3_141_592_653
FPS = 8


def toy_clip(scene: str = "city at night", seed: int = 1) -> np.ndarray:
    """16 frames of 256x256, as generate() has them just before the invisible mark."""
    clip, _, _ = render(ClipSpec(scene, "ball", "red", "left", seed=seed))
    frames = (clip[..., :3] * 255 + 0.5).astype(np.uint8)
    return add_visible_watermark(upscale_for_display(frames), "alice")


def panned_photo(width: int = 256, height: int = 256, count: int = 16) -> np.ndarray:
    """A camera pan across the astronaut photo (512x512): a video that never went through Dreamreel."""
    photo = data.astronaut()
    dx, dy = (min(5, (512 - side) // count) for side in (width, height))
    return np.stack([photo[dy * i:dy * i + height, dx * i:dx * i + width] for i in range(count)])


def reencode(src: Path, dst: Path, crf: int, filters: str | None = None) -> Path:
    """What a re-upload does to a video: decode, optionally filter, encode again with libx264."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(src)]
    if filters:
        cmd += ["-vf", filters]
    subprocess.run([*cmd, "-c:v", "libx264", "-crf", str(crf), "-pix_fmt", "yuv420p", str(dst)], check=True)
    return dst


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(np.float64) - b) ** 2)))


@pytest.fixture(scope="module")
def mark() -> InvisibleWatermark:
    return InvisibleWatermark(b"dreamreel test key, 32 bytes ok!")


@pytest.fixture(scope="module")
def published(mark: InvisibleWatermark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The marked toy clip as Dreamreel publishes it (write_mp4, CRF 20)."""
    path = tmp_path_factory.mktemp("published") / "post.mp4"
    write_mp4(mark.embed(toy_clip(), POST_ID), path, FPS, {})
    return path


def test_post_id_survives_publishing_and_a_crf_28_reencode(mark, published, tmp_path):
    assert mark.detect(read_video(published)[0]).payload == POST_ID
    frames, _ = read_video(reencode(published, tmp_path / "crf28.mp4", crf=28))
    reading = mark.detect(frames)
    assert isinstance(reading, WatermarkReading)
    assert reading.payload == POST_ID
    assert 0.3 < reading.confidence <= 1


def test_post_id_survives_a_50_percent_downscale(mark, published, tmp_path):
    frames, _ = read_video(reencode(published, tmp_path / "half.mp4", crf=20, filters="scale=iw/2:ih/2"))
    assert frames.shape[1:3] == (128, 128)
    assert mark.detect(frames).payload == POST_ID


def test_post_id_survives_downscale_and_crf_28_together_and_a_mirror(mark, published, tmp_path):
    frames, _ = read_video(reencode(published, tmp_path / "both.mp4", crf=28, filters="scale=iw/2:ih/2"))
    assert mark.detect(frames).payload == POST_ID
    frames, _ = read_video(reencode(published, tmp_path / "mirror.mp4", crf=28, filters="hflip"))
    assert mark.detect(frames).payload == POST_ID


@pytest.mark.parametrize("width, height", [(448, 256), (270, 480)])
def test_any_frame_size_and_frame_count(mark, tmp_path, width, height):
    photo = panned_photo(width, height, count=8)
    write_mp4(mark.embed(photo, 7), tmp_path / "a.mp4", FPS, {})
    frames, _ = read_video(reencode(tmp_path / "a.mp4", tmp_path / "b.mp4", crf=28))
    assert mark.detect(frames).payload == 7
    assert mark.detect(mark.embed(photo[:1], 8)).payload == 8  # a single frame carries it too


def test_a_video_not_from_dreamreel_carries_no_mark(mark, tmp_path):
    write_mp4(panned_photo(), tmp_path / "foreign.mp4", FPS, {})
    assert mark.detect(read_video(tmp_path / "foreign.mp4")[0]) is None
    assert mark.detect(toy_clip("forest", seed=5)) is None  # the same kind of picture, never marked


def test_another_instance_key_finds_nothing(mark, published):
    other = InvisibleWatermark(b"another instance, another key!!!")
    assert other.detect(read_video(published)[0]) is None


def test_marked_frames_look_the_same(mark):
    for frames in (toy_clip(), toy_clip("beach at sunset", seed=2), panned_photo()):
        marked = mark.embed(frames, POST_ID)
        assert marked.shape == frames.shape and marked.dtype == np.uint8
        assert psnr(marked, frames) >= 38
        assert np.abs(marked.astype(int) - frames).max() <= 16


@pytest.mark.parametrize("payload", [0, 2**32 - 1])
def test_payload_bounds_round_trip(mark, payload):
    assert mark.detect(mark.embed(toy_clip(), payload)).payload == payload


@pytest.mark.parametrize("payload", [-1, 2**32, 1.5, "7", True])
def test_payload_out_of_bounds_is_refused(mark, payload):
    with pytest.raises(ValueError):
        mark.embed(toy_clip(), payload)


def test_key_file_is_created_once_private_and_reused(tmp_path):
    path = tmp_path / "data" / "watermark.key"
    first = InvisibleWatermark.from_key_file(path)
    key = path.read_bytes()
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    second = InvisibleWatermark.from_key_file(path)
    assert path.read_bytes() == key
    assert second.detect(first.embed(toy_clip(), 42)).payload == 42
    elsewhere = InvisibleWatermark.from_key_file(tmp_path / "other.key")
    assert (tmp_path / "other.key").read_bytes() != key
    assert elsewhere.detect(first.embed(toy_clip(), 42)) is None
