"""Cameo benchmark: creating a cameo from a 5 s, 30 fps, 720p clip, and embeddings per second.

Run ``python benchmarks/cameo_bench.py``. It prints a table, then one JSON line.

* **create**: ``Cameos.create`` on a live-looking head-turn clip of Grace
  Hopper (built once from the photo by ``tests/face_clips.py`` and cached in
  ``benchmarks/out/``), with the detector and embedder already loaded as in the
  running app; median of 3, each into a fresh store. Target: <= 5 s.
* **baseline**, same run: the naive way, detecting and embedding every one of
  the 150 frames at full 720p, with no sampling or downscaling.
* **embeddings per second** per backend on one detected face: dlib's ResNet,
  and facenet's InceptionResnetV1. The vggface2 weights cannot be downloaded
  here, so facenet runs on randomly initialised weights of the same network;
  its speed does not depend on the weights' values.
* **peak RSS**: each part runs in its own process; ``VmHWM`` is its peak.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
OUT = REPO / "benchmarks" / "out"
CLIP = OUT / "cameo-720p-5s-30fps.mp4"
TARGET_S = 5.0


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def make_clip() -> None:
    import face_clips
    from pipeline.video_io import write_mp4

    frames = face_clips.head_turn_frames("grace", face_clips.turn_yaws(("left", "right"), 150), size=(1280, 720))
    OUT.mkdir(parents=True, exist_ok=True)
    write_mp4(frames, CLIP, 30, metadata={})


def worker_create() -> dict:
    from cameo import Cameos, Challenge, FaceDetector, default_embedder
    from feed_store import FeedStore
    from feed_store.media import MediaFolder

    detector, embedder = FaceDetector(), default_embedder()
    times = []
    for _ in range(4):  # the first run warms up
        with tempfile.TemporaryDirectory() as d:
            store = FeedStore(Path(d) / "store")
            owner = store.create_user("grace")["id"]
            started = time.perf_counter()
            Cameos(store, MediaFolder(Path(d) / "media"), detector, embedder).create(owner, CLIP, Challenge("left"))
            times.append(time.perf_counter() - started)
            store.close()
    return {"create_s": statistics.median(times[1:]), "runs_s": times[1:], "backend": embedder.backend,
            "peak_rss_mb": peak_rss_mb()}


def worker_baseline() -> dict:
    from cameo import FaceDetector, default_embedder
    from pipeline.video_io import read_video

    detector, embedder = FaceDetector(), default_embedder()
    detector.detect([read_video(CLIP, max_frames=1)[0][0]])  # load the models outside the timing
    started = time.perf_counter()
    frames, _ = read_video(CLIP)
    faces = detector.detect(list(frames))
    embeddings = [embedder.embed(f, found[0]) for f, found in zip(frames, faces) if len(found) == 1]
    return {"create_s": time.perf_counter() - started, "frames": len(frames), "embedded": len(embeddings),
            "peak_rss_mb": peak_rss_mb()}


def worker_embed() -> dict:
    import torch
    from facenet_pytorch import InceptionResnetV1

    import face_clips
    from cameo import DlibEmbedder, FaceDetector, FacenetEmbedder

    image = face_clips.photo("grace")
    face = FaceDetector().detect([image])[0][0]
    with tempfile.TemporaryDirectory() as d:
        weights = Path(d) / "random-vggface2-shaped.pt"
        torch.save({k: v for k, v in InceptionResnetV1(pretrained=None).state_dict().items()
                    if not k.startswith("logits.")}, weights)
        out = {}
        for embedder in (DlibEmbedder(), FacenetEmbedder(weights)):
            embedder.embed(image, face)
            started, n = time.perf_counter(), 20
            for _ in range(n):
                embedder.embed(image, face)
            out[embedder.backend] = n / (time.perf_counter() - started)
    return {"per_s": out, "peak_rss_mb": peak_rss_mb()}


def run_worker(name: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--worker", name], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if not CLIP.exists():
        print("building the 720p clip ...", file=sys.stderr)
        make_clip()
    create, baseline, embed = run_worker("create"), run_worker("baseline"), run_worker("embed")
    rows = [
        ("create a cameo, 5 s 30 fps 720p (median of 3)", f"{create['create_s']:.2f} s",
         f"{baseline['create_s']:.2f} s", f"{baseline['create_s'] / create['create_s']:.1f}x",
         f"<= {TARGET_S:.0f} s", "yes" if create["create_s"] <= TARGET_S else "NO"),
        ("peak RSS", f"{create['peak_rss_mb']:.0f} MB", f"{baseline['peak_rss_mb']:.0f} MB", "", "", ""),
        *((f"embeddings per second, {backend}", f"{rate:.1f}/s", "", "", "", "")
          for backend, rate in embed["per_s"].items()),
    ]
    print(f"{'metric':48} {'Dreamreel':>10} {'every frame':>12} {'speedup':>8} {'target':>8} {'met':>4}")
    for row in rows:
        print(f"{row[0]:48} {row[1]:>10} {row[2]:>12} {row[3]:>8} {row[4]:>8} {row[5]:>4}")
    print(f"create runs: {', '.join(f'{t:.2f}' for t in create['runs_s'])} s with the {create['backend']} backend; "
          f"baseline: detect and embed all {baseline['frames']} frames at 1280x720 once.")
    print(json.dumps({"create": create, "baseline": baseline, "embed": embed}))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps({"create": worker_create, "baseline": worker_baseline, "embed": worker_embed}[sys.argv[2]]()))
    else:
        main()
