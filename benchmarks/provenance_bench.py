"""What provenance costs a generation, and what checking an upload costs.

Run ``python benchmarks/provenance_bench.py`` (about a minute). It prints a
table, then one JSON line.

* **Generation**: ``pipeline.generate()`` with the embedded model, 16 frames at
  256x256, median of ``--repeats`` after a warm-up, interleaved, with ``provenance`` (the
  invisible watermark and the signed C2PA manifest, as the app always runs it)
  against without it (the baseline, same process, same seeds).
* **Check**: ``Provenance.check`` (MP4 tag, watermark from up to 48 frames, C2PA
  validation) on one of those clips, and on a 10 s 1080p upload re-encoded
  from it, the size a phone would send.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import GenerationRequest, generate, load_model  # noqa: E402
from pipeline.provenance import Provenance  # noqa: E402


def seconds(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    model = load_model("embedded", device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        provenance = Provenance.for_instance(tmp / "provenance")

        def make(i: int, marked: bool):
            request = GenerationRequest("a red ball moving left on a beach at sunset", "bench", seed=i, post_id=i + 1)
            return generate(model, request, tmp / "videos", provenance=provenance if marked else None)

        clip = make(0, True)  # warm-up
        make(0, False)
        # Interleaved, so a drift in the machine's load hits both alike.
        pairs = [(seconds(lambda: make(i, False)), seconds(lambda: make(i, True))) for i in range(args.repeats)]
        plain, marked = (statistics.median(times) for times in zip(*pairs))

        upload = tmp / "upload.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-stream_loop", "-1", "-i",
                        str(clip.video_path), "-t", "10", "-vf", "scale=1920:1080", "-r", "30", "-c:v", "libx264",
                        "-crf", "23", str(upload)], check=True)
        check_clip = statistics.median(seconds(lambda: provenance.check(clip.video_path)) for _ in range(args.repeats))
        check_upload = statistics.median(seconds(lambda: provenance.check(upload)) for _ in range(3))
        found = provenance.check(upload)

    figures = {"generate_s": plain, "generate_with_provenance_s": marked, "provenance_share": marked / plain - 1,
               "check_clip_s": check_clip, "check_1080p_upload_s": check_upload,
               "upload_post_id": found.post_id, "upload_credentials": found.credentials.state}
    print(f"generate() 16x256x256, median of {args.repeats}: {plain:.3f} s without provenance, "
          f"{marked:.3f} s with it (+{100 * figures['provenance_share']:.1f}%)")
    print(f"Provenance.check: {check_clip * 1000:.0f} ms on the clip, {check_upload * 1000:.0f} ms on a 10 s 1080p "
          f"upload (post id {found.post_id}, credentials {found.credentials.state})")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
