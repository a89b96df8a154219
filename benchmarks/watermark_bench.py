"""Invisible watermark benchmark: is the post id found after re-encoding, and never in other videos?

Run ``.venv/bin/python benchmarks/watermark_bench.py`` (``--quick`` for a
smoke run with a fifth of the clips). It prints a table, then one JSON line
with every figure.

* **Dreamreel clips**: ``--clips`` (default 100) real clips of the embedded
  model, made the way ``generate()`` makes them (the model family's ``run``
  at the defaults, 256x256, 16 frames, upscaled for display, visible
  watermark), prompts worded by ``toy_world.caption``, seed = clip number.
  Each gets a random 32-bit payload and is written by ``write_mp4`` (CRF 20),
  then attacked with the bundled ffmpeg: re-encoded at CRF 28; scaled to 50%
  (``scale=iw/2:ih/2``, libx264 at its default CRF 23); both; mirrored
  (``hflip``, CRF 23). Reported per attack: mark found, exact payload, wrong
  payload (found but another number), bit error rate of the 48 coded bits
  before the check, and the lowest confidence.
* **Baseline**: the same clips and attacks with the lattice step halved (a
  mark twice as faint), so the margin of the chosen step shows.
* **False alarms**: ``--foreign`` (default 300) videos not from Dreamreel,
  written by ``write_mp4`` and read back: the same model clips unmarked,
  scikit-image's sample photos panned and zoomed into clips (256x256,
  256x448, 480x270), and noise, gradient and flat clips. Alarms are counted
  with the instance key and with a second key, which also reads every marked
  video above. Zero alarms in n trials bound the rate below 3/n at 95%.
* **Cost**: PSNR of each marked clip against the unmarked one; embed time
  (16 frames at 256x256) and detect time, median and 95th percentile.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline import load_model  # noqa: E402
from pipeline.embedded.toy_world import caption, random_spec  # noqa: E402
from pipeline.invisible_watermark import CHECK_BITS, PAYLOAD_BITS, STEP, InvisibleWatermark  # noqa: E402
from pipeline.request import GenerationRequest  # noqa: E402
from pipeline.video_io import read_video, upscale_for_display, write_mp4  # noqa: E402
from pipeline.watermark import add_visible_watermark  # noqa: E402

ATTACKS = {"CRF 20 (as published)": None, "CRF 28": ("", 28), "50% scale": ("scale=iw/2:ih/2", 23),
           "50% scale + CRF 28": ("scale=iw/2:ih/2", 28), "mirror": ("hflip", 23)}
"""Name: (ffmpeg -vf filters, libx264 CRF), applied to the published file; None reads the file itself."""
PHOTOS = ("astronaut", "camera", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field",
          "coins", "moon", "page", "text", "brick", "grass", "gravel", "colorwheel", "retina", "cat", "horse",
          "clock", "binary_blobs", "logo", "cell", "checkerboard", "shepp_logan_phantom")
SIZES = ((256, 256), (256, 448), (480, 270))
"""(height, width) of the foreign clips: square, landscape and portrait."""
FPS = 8
CODED_BITS = PAYLOAD_BITS + CHECK_BITS


class HalfStep(InvisibleWatermark):
    """The baseline: the same scheme, lattice step halved."""

    step = STEP / 2


def dreamreel_clips(count: int) -> list[np.ndarray]:
    """Real embedded-model clips, as ``generate()`` has them just before the invisible mark."""
    model = load_model("embedded", device="cpu")
    h, w = model.limits.default_size
    rng = np.random.default_rng(2024)
    clips = []
    for seed in range(count):
        prompt, _ = caption(random_spec(rng), rng)
        request = GenerationRequest(prompt, "bench", num_frames=model.limits.default_frames, height=h, width=w,
                                    num_inference_steps=model.limits.default_steps,
                                    guidance_scale=model.limits.default_guidance, seed=seed)
        with torch.inference_mode():
            frames = model.family.run(request, None, torch.Generator("cpu").manual_seed(seed), lambda done, total: None)
        video = np.clip(frames * 255.0 + 0.5, 0, 255).astype(np.uint8)
        clips.append(add_visible_watermark(upscale_for_display(video), "bench"))
    return clips


def photo_clip(rng: np.random.Generator, count: int = 16) -> np.ndarray:
    """A scikit-image sample photo filmed by a camera that pans and zooms (or holds still)."""
    from skimage import data

    photo = getattr(data, str(rng.choice(PHOTOS)))()
    photo = np.asarray(photo, np.float64) * (255 if np.max(photo) <= 1 else 1)  # boolean and [0, 1] images
    photo = photo[..., :3] if photo.ndim == 3 else np.repeat(photo[..., None], 3, axis=2)
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    height, width = SIZES[int(rng.integers(len(SIZES)))]
    image = Image.fromarray(photo)
    ph, pw = photo.shape[:2]
    zoom0, zoom1 = rng.uniform(0.5, 1.0, 2)
    start, end = rng.uniform(0, 1, 2), rng.uniform(0, 1, 2) if rng.random() < 0.8 else None
    frames = []
    for t in np.linspace(0, 1, count):
        zoom = zoom0 + (zoom1 - zoom0) * t
        crop_w = min(pw, ph * width / height) * zoom
        crop_h = crop_w * height / width
        x, y = start if end is None else start + (end - start) * t
        left, top = x * (pw - crop_w), y * (ph - crop_h)
        box = (left, top, left + crop_w, top + crop_h)
        frames.append(np.asarray(image.resize((width, height), Image.Resampling.BICUBIC, box=box)))
    return np.stack(frames)


def synthetic_clip(rng: np.random.Generator, count: int = 16) -> np.ndarray:
    """Noise (still or moving), a moving gradient, or a flat colour with grain."""
    height, width = SIZES[int(rng.integers(len(SIZES)))]
    kind = int(rng.integers(4))
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    if kind == 0:
        still = rng.integers(0, 256, (1, height, width, 3))
        frames = np.repeat(still, count, axis=0)
    elif kind == 1:
        frames = rng.integers(0, 256, (count, height, width, 3))
    elif kind == 2:
        angle, colours = rng.uniform(0, 2 * np.pi), rng.uniform(0, 255, (2, 3))
        t = np.linspace(0, 0.5, count)[:, None, None]
        ramp = (np.cos(angle) * xx + np.sin(angle) * yy + t) % 1
        frames = colours[0] + (colours[1] - colours[0]) * ramp[..., None]
    else:
        frames = rng.uniform(0, 255, 3) + rng.normal(0, 4, (count, height, width, 3))
    return np.clip(frames, 0, 255).astype(np.uint8)


def reencode(src: Path, dst: Path, filters: str, crf: int) -> Path:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(src)]
    if filters:
        cmd += ["-vf", filters]
    subprocess.run([*cmd, "-c:v", "libx264", "-crf", str(crf), "-pix_fmt", "yuv420p", str(dst)], check=True)
    return dst


def attacked_versions(published: Path, work: Path) -> dict[str, np.ndarray]:
    """The decoded frames of the published file and of each attack on it."""
    out = {}
    for name, attack in ATTACKS.items():
        path = published if attack is None else reencode(published, work / "attacked.mp4", *attack)
        out[name] = read_video(path)[0]
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(np.float64) - b) ** 2)))


def robustness(mark: InvisibleWatermark, clips: list[np.ndarray], payloads: list[int], work: Path,
               wrong_key: InvisibleWatermark | None) -> dict:
    per_attack = {name: {"found": 0, "exact": 0, "wrong": 0, "bit_errors": 0, "confidences": []} for name in ATTACKS}
    psnrs, detect_s, wrong_key_alarms = [], [], 0
    for clip, payload in zip(clips, payloads):
        marked = mark.embed(clip, payload)
        psnrs.append(psnr(marked, clip))
        write_mp4(marked, work / "published.mp4", FPS, {})
        for name, frames in attacked_versions(work / "published.mp4", work).items():
            started = time.perf_counter()
            reading = mark.detect(frames)
            detect_s.append(time.perf_counter() - started)
            figures = per_attack[name]
            figures["bit_errors"] += mark.bit_errors(frames[:, :, ::-1] if name == "mirror" else frames, payload)
            if reading is not None:
                figures["found"] += 1
                figures["exact"] += reading.payload == payload
                figures["wrong"] += reading.payload != payload
                figures["confidences"].append(reading.confidence)
            if wrong_key is not None:
                wrong_key_alarms += wrong_key.detect(frames) is not None
    n = len(clips)
    table = {name: {"found": f["found"] / n, "exact": f["exact"] / n, "wrong": f["wrong"],
                    "ber": f["bit_errors"] / (n * CODED_BITS),
                    "min_confidence": min(f["confidences"], default=0.0),
                    "median_confidence": float(np.median(f["confidences"])) if f["confidences"] else 0.0}
             for name, f in per_attack.items()}
    return {"clips": n, "attacks": table, "psnr_min": min(psnrs), "psnr_median": float(np.median(psnrs)),
            "detect_ms_median": 1000 * float(np.median(detect_s)),
            "wrong_key_trials": n * len(ATTACKS) if wrong_key is not None else 0, "wrong_key_alarms": wrong_key_alarms}


def false_alarms(marks: dict[str, InvisibleWatermark], foreign: list[tuple[str, np.ndarray]], work: Path) -> dict:
    alarms = {name: 0 for name in marks}
    kinds: dict[str, int] = {}
    for kind, clip in foreign:
        kinds[kind] = kinds.get(kind, 0) + 1
        write_mp4(clip, work / "foreign.mp4", FPS, {})
        frames = read_video(work / "foreign.mp4")[0]
        for name, mark in marks.items():
            alarms[name] += mark.detect(frames) is not None
    return {"videos": len(foreign), "kinds": kinds, "alarms": alarms}


def embed_timing(mark: InvisibleWatermark, clips: list[np.ndarray], repeats: int = 5) -> dict:
    """Embed on 16 frames at 256x256, warm, nothing else running in this process."""
    times = []
    for clip in clips:
        for _ in range(repeats):
            started = time.perf_counter()
            mark.embed(clip, 12345)
            times.append(time.perf_counter() - started)
    return {"median_ms": 1000 * float(np.median(times)), "p95_ms": 1000 * float(np.percentile(times, 95)),
            "min_ms": 1000 * min(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=100)
    parser.add_argument("--foreign", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="a fifth of the clips and foreign videos")
    args = parser.parse_args()
    if args.quick:
        args.clips, args.foreign = max(1, args.clips // 5), max(3, args.foreign // 5)

    started = time.perf_counter()
    mark, other = InvisibleWatermark(b"bench instance key: 32 bytes ..."), InvisibleWatermark(b"another instance, another key!!!")
    clips = dreamreel_clips(args.clips)
    generated = time.perf_counter()
    rng = np.random.default_rng(7)
    payloads = [int(p) for p in rng.integers(0, 2**PAYLOAD_BITS, len(clips))]
    timing = embed_timing(mark, clips[:20])
    third = args.foreign // 3
    foreign = [("model, unmarked", clip) for clip in clips[:third]]
    foreign += [("photo, panned/zoomed", photo_clip(rng)) for _ in range(third)]
    foreign += [("noise/gradient/flat", synthetic_clip(rng)) for _ in range(args.foreign - len(foreign))]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        chosen = robustness(mark, clips, payloads, work, wrong_key=other)
        baseline = robustness(HalfStep(b"bench instance key: 32 bytes ..."), clips, payloads, work, wrong_key=None)
        alarms = false_alarms({"instance key": mark, "second key": other}, foreign, work)
    elapsed = time.perf_counter() - started

    print(f"{len(clips)} Dreamreel clips (256x256, 16 frames); found / exact payload / wrong payload / "
          f"bit error rate / lowest confidence")
    print(f"{'attack':24} {'step ' + format(STEP, 'g'):>34}   {'baseline: step ' + format(STEP / 2, 'g'):>34}")
    for name in ATTACKS:
        cells = []
        for result in (chosen, baseline):
            a = result["attacks"][name]
            cells.append(f"{a['found']:6.0%} {a['exact']:6.0%} {a['wrong']:3d} {a['ber']:7.2%} {a['min_confidence']:6.2f}")
        print(f"{name:24} {cells[0]:>34}   {cells[1]:>34}")
    for label, result in (("chosen", chosen), ("baseline", baseline)):
        print(f"PSNR {label}: min {result['psnr_min']:.1f} dB, median {result['psnr_median']:.1f} dB; "
              f"detect {result['detect_ms_median']:.1f} ms median")
    print(f"embed (16x256x256): median {timing['median_ms']:.1f} ms, p95 {timing['p95_ms']:.1f} ms, "
          f"min {timing['min_ms']:.1f} ms")
    print(f"false alarms on {alarms['videos']} foreign videos {alarms['kinds']}: {alarms['alarms']}; "
          f"second key on the marked videos: {chosen['wrong_key_alarms']} in {chosen['wrong_key_trials']}")
    print(f"generation {generated - started:.0f} s, total {elapsed:.0f} s")
    print(json.dumps({"chosen": chosen, "baseline": baseline, "embed": timing, "false_alarms": alarms,
                      "step": STEP, "seconds": elapsed}, default=float))


if __name__ == "__main__":
    main()
