"""Embedded model benchmark: prompt adherence, cameo faces, speed and memory, trained against untrained.

Run ``python benchmarks/embedded_bench.py`` (about two minutes on 2 cores).
It prints a table, then one JSON line with every figure.

* **Adherence**: ``--prompts`` prompts (default 80) whose colour and motion
  pairs and sentence templates were held out of training, with synonyms
  ("crimson", "drifting to the left"); one clip each (128x128, the model's
  default steps and guidance, seed = prompt number), read back by
  ``pipeline.embedded.adherence.read_clip``. Reported: colour, motion and both
  correct, overall and on the prompts whose colour or motion wording is not
  the plain word.
* **Cameos**: the astronaut and Grace Hopper photos (two real people) as
  cameos, aligned like ``cameo/`` aligns them; prompts star one of them or
  both. Over the frames where a cameo's face lies whole in the frame, the
  share where MTCNN finds a face that dlib matches to that cameo and to no
  other (``cameo.recognition``).
* **Speed and memory**: in a fresh process, ``load_model("embedded")`` and
  ``pipeline.generate()`` end to end (MP4, thumbnail, preview written):
  median of ``--repeats`` 16-frame clips at 128x128 and at the 256x256
  default after a warm-up, remix at strength 0.5 against generation (end to
  end, and the model's part: ``generate``'s denoise+decode timing, i.e. text
  encoding, planning, denoising, upsampling and compositing), and the
  process's peak RSS (``VmHWM``).

The untrained model is the same architecture at its initialisation (seed 0),
run through the same code in the same run: the gain from training is the difference.
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

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "benchmarks")]

from cameo import DlibEmbedder, FaceDetector  # noqa: E402
from feed_bench import peak_rss_mb  # noqa: E402
from cameo.faces import aligned_crop  # noqa: E402
from cameo.recognition import match_rate, who_is_on_screen  # noqa: E402
from pipeline import GenerationRequest, generate, load_model  # noqa: E402
from pipeline.embedded.adherence import read_clip  # noqa: E402
from pipeline.embedded.compositing import on_screen  # noqa: E402
from pipeline.embedded.pipeline_tiny_video import TinyVideoPipeline  # noqa: E402
from pipeline.embedded.toy_world import COLOUR_WORDS, MOTION_WORDS, SCENE_WORDS, held_out_prompts  # noqa: E402
from pipeline.embedded.transformer import TinyVideoTransformer  # noqa: E402

CAMEO_PROMPTS = (
    "a person skating to the left on a frozen lake", "a person moving right on a beach at sunset",
    "a person jumping in a forest", "a person rising in a city at night",
    "a person coming toward the camera in outer space", "a person walking down on the ice",
    "two people moving right in a forest", "two people jumping on the beach at sunset",
)
"""What the embedded family makes of "@ana ..." and "@ana and @ben ..." (cameo mentions become people)."""


def untrained(trained: TinyVideoPipeline) -> TinyVideoPipeline:
    """The same architecture and text encoder, at its initial weights."""
    torch.manual_seed(0)
    transformer = TinyVideoTransformer.from_config(trained.transformer.config).eval()
    return TinyVideoPipeline(trained.tokenizer, trained.text_encoder, transformer, trained.scheduler)


def adherence(pipe: TinyVideoPipeline, prompts: list) -> dict:
    results = []
    for i, (prompt, spec) in enumerate(prompts):
        frames = pipe(prompt, height=128, width=128, generator=torch.Generator().manual_seed(i)).frames[0]
        reading = read_clip(frames)
        plain = COLOUR_WORDS[spec.colour][0] in prompt.split() and MOTION_WORDS[spec.motion][0] in prompt
        results.append((reading.colour == spec.colour, reading.motion == spec.motion, plain))
    r = np.asarray(results, bool)
    paraphrased = r[~r[:, 2]]
    return {"prompts": len(r), "colour": r[:, 0].mean(), "motion": r[:, 1].mean(), "both": (r[:, 0] & r[:, 1]).mean(),
            "paraphrased_prompts": len(paraphrased), "paraphrased_both": (paraphrased[:, 0] & paraphrased[:, 1]).mean()}


def reference_faces(detector: FaceDetector, embedder: DlibEmbedder) -> list:
    import face_clips

    faces = []
    for name in ("astronaut", "grace"):
        image = face_clips.photo(name)
        face = detector.detect([image])[0][0]
        faces.append((name, aligned_crop(image, face), embedder.embed(image, face)))
    return faces


def cameo_match(pipe: TinyVideoPipeline, faces: list, detector: FaceDetector, embedder: DlibEmbedder) -> dict:
    from PIL import Image

    crops = [Image.fromarray(c) for _, c, _ in faces]
    embeddings = [e for _, _, e in faces]
    matched = shown = videos = 0
    for i, prompt in enumerate(CAMEO_PROMPTS):
        for order in ((0, 1), (1, 0)):
            cast = order if prompt.startswith("two") else order[:1]
            out = pipe(prompt, generator=torch.Generator().manual_seed(i), cameo_images=[crops[c] for c in cast])
            frames = (out.frames[0] * 255).round().astype(np.uint8)
            seen = who_is_on_screen(frames, embeddings, detector, embedder)
            for slot, cameo in enumerate(cast):
                visible = on_screen(out.heads, slot, frames.shape[2], frames.shape[1])
                matched += round(match_rate(seen, cameo, visible) * sum(visible))
                shown += sum(visible)
            videos += 1
    return {"videos": videos, "frames_on_screen": shown, "match_rate": matched / shown if shown else None}


def worker_speed(repeats: int) -> dict:
    """Runs in its own process so that its peak RSS is the app's."""
    model = load_model("embedded", device="cpu")
    out = {}
    with tempfile.TemporaryDirectory() as media:
        for size in (128, 256):
            request = GenerationRequest("a red ball moving left on a frozen lake", "bench", height=size, width=size,
                                        seed=7)
            first = generate(model, request, Path(media))
            gen, remix, gen_model, remix_model = [], [], [], []
            for _ in range(repeats):
                started = time.perf_counter()
                video = generate(model, request, Path(media))
                gen.append(time.perf_counter() - started)
                gen_model.append(video.metadata["timings"]["denoise_decode_s"])
                started = time.perf_counter()
                video = generate(model, GenerationRequest("a blue ball rising", "bench", source_video=first.video_path,
                                                          strength=0.5, height=size, width=size, seed=7), Path(media))
                remix.append(time.perf_counter() - started)
                remix_model.append(video.metadata["timings"]["denoise_decode_s"])
            out[size] = {"generate_s": statistics.median(gen), "remix_s": statistics.median(remix),
                         "remix_ratio": statistics.median(remix) / statistics.median(gen),
                         "model_generate_s": statistics.median(gen_model),
                         "model_remix_ratio": statistics.median(remix_model) / statistics.median(gen_model)}
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=80)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker_speed(args.repeats)))
        return

    speed = json.loads(subprocess.run([sys.executable, __file__, "--worker", "--repeats", str(args.repeats)],
                                      check=True, capture_output=True, text=True).stdout.splitlines()[-1])
    trained = load_model("embedded", device="cpu").pipe
    prompts = held_out_prompts(args.prompts)
    detector, embedder = FaceDetector(), DlibEmbedder()
    faces = reference_faces(detector, embedder)
    figures = {}
    for name, pipe in (("untrained", untrained(trained)), ("trained", trained)):
        figures[name] = {"adherence": adherence(pipe, prompts), "cameos": cameo_match(pipe, faces, detector, embedder)}

    print(f"{'':12} {'colour':>7} {'motion':>7} {'both':>7} {'paraphr.':>9} {'cameo match':>12} {'frames':>7}")
    for name, f in figures.items():
        a, c = f["adherence"], f["cameos"]
        rate = "-" if c["match_rate"] is None else f"{c['match_rate']:.0%}"
        print(f"{name:12} {a['colour']:7.0%} {a['motion']:7.0%} {a['both']:7.0%} {a['paraphrased_both']:9.0%} "
              f"{rate:>12} {c['frames_on_screen']:>7}")
    for size in ("128", "256"):
        s = speed[size]
        print(f"{size}x{size}: generate {s['generate_s']:.2f} s, remix@0.5 {s['remix_s']:.2f} s "
              f"({s['remix_ratio']:.2f}x end to end); the model's part {s['model_generate_s']:.2f} s, "
              f"remix {s['model_remix_ratio']:.2f}x")
    print(f"peak RSS {speed['peak_rss_mb']:.0f} MB; {args.prompts} held-out prompts, scenes {len(SCENE_WORDS)}")
    print(json.dumps({"figures": figures, "speed": speed}, default=float))


if __name__ == "__main__":
    main()
