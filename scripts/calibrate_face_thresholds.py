"""Print the face distances behind each embedding backend's same-person threshold.

Run ``.venv/bin/python scripts/calibrate_face_thresholds.py``. For every
backend available on this machine (dlib always; facenet when its VGGFace2
weights are found, see ``cameo.embedding.facenet_weights_path``) it prints:

* same person: each test photo (the astronaut, Grace Hopper) against copies
  of itself: brightness ×0.5 / ×1.5, gaussian blur, rotation, resizing, a
  mirror image, heavy JPEG, and synthetic head turns of ±15° / ±30° (the 3D
  warp of tests/face_clips.py, in 640x480 frames);
* different people: the astronaut against Grace Hopper over all those copies,
  and the pairs among scikit-image's LFW subset (100 faces of 25 px chosen at
  random from LFW, so nearly all pairs are different people; upscaled, so
  distances there run higher than for sharp faces);
* a suggested threshold: halfway between the largest same-person distance and
  the smallest astronaut-vs-Grace distance, with the share of LFW pairs it
  would call one person.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance
from scipy import ndimage as ndi
from skimage import data

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import face_clips  # noqa: E402  (the synthetic head turns)

from cameo.embedding import DlibEmbedder, FaceEmbedder, FacenetEmbedder, facenet_weights_path  # noqa: E402
from cameo.faces import MAX_LUMA, MIN_FACE_PX, MIN_LUMA, MIN_SHARPNESS, Face, FaceDetector, face_quality  # noqa: E402

PHOTOS = ("astronaut", "grace")


def copies(name: str) -> dict[str, np.ndarray]:
    """The photo and the transformed copies it is compared with."""
    img = face_clips.photo(name)
    pil = Image.fromarray(img)
    jpeg = io.BytesIO()
    pil.save(jpeg, "JPEG", quality=20)
    variants = {
        "original": img,
        "brightness x0.5": np.asarray(ImageEnhance.Brightness(pil).enhance(0.5)),
        "brightness x1.5": np.asarray(ImageEnhance.Brightness(pil).enhance(1.5)),
        "blur sigma 2": ndi.gaussian_filter(img, sigma=(2, 2, 0)),
        "rotate 15 deg": np.asarray(pil.rotate(15, resample=Image.Resampling.BILINEAR, fillcolor=(128, 128, 128))),
        "resize x0.5": np.asarray(pil.resize((pil.width // 2, pil.height // 2), Image.Resampling.BILINEAR)),
        "resize x2": np.asarray(pil.resize((pil.width * 2, pil.height * 2), Image.Resampling.BILINEAR)),
        "mirror": img[:, ::-1].copy(),
        "jpeg q20": np.asarray(Image.open(jpeg).convert("RGB")),
    }
    for yaw in (-30, -15, 0, 15, 30):
        variants[f"640px frame, yaw {yaw:+d}"] = face_clips.head_turn_frames(name, [yaw])[0]
    return variants


def lfw_frames() -> list[np.ndarray]:
    """The 100 LFW faces, upscaled to 96 px on a grey 160 px canvas so that MTCNN finds them."""
    frames = []
    for face in data.lfw_subset()[:100]:
        canvas = np.full((160, 160, 3), 128, np.uint8)
        big = Image.fromarray((face * 255).astype(np.uint8)).resize((96, 96), Image.Resampling.BICUBIC)
        canvas[32:128, 32:128] = np.asarray(big)[..., None]
        frames.append(canvas)
    return frames


def measure(embedder: FaceEmbedder, detector: FaceDetector,
            frames: list[np.ndarray]) -> list[tuple[np.ndarray, str] | None]:
    """Per frame, its most confident face's embedding and the quality gates it fails (None: no face)."""
    found = detector.detect(frames)
    return [(embedder.embed(frame, faces[0]).vector, gate_failures(frame, faces[0])) if faces else None
            for frame, faces in zip(frames, found)]


def gate_failures(frame: np.ndarray, face: Face) -> str:
    """The enrolment quality gates the face fails: the app never compares such faces."""
    q = face_quality(frame, face)
    failed = []
    if not MIN_LUMA <= q.luma <= MAX_LUMA:
        failed.append(f"luma {q.luma:.0f}")
    if q.sharpness < MIN_SHARPNESS:
        failed.append(f"sharpness {q.sharpness:.3f}")
    if q.width_px < MIN_FACE_PX:
        failed.append(f"width {q.width_px:.0f} px")
    return ", ".join(failed)


def calibrate(embedder: FaceEmbedder, detector: FaceDetector) -> None:
    print(f"\n=== {embedder.backend} (current threshold {embedder.same_person_threshold})")
    results = {}
    for name in PHOTOS:
        variants = copies(name)
        results[name] = dict(zip(variants, measure(embedder, detector, list(variants.values()))))

    same, notes = [], []
    print(f"{'same person: original vs':28s}" + "".join(f"{n:>12s}" for n in PHOTOS))
    for label in results[PHOTOS[0]]:
        if label == "original":
            continue
        cells = []
        for name in PHOTOS:
            if results[name][label] is None:
                cells.append(f"{'no face':>12s}")
                continue
            vector, failed = results[name][label]
            distance = float(np.linalg.norm(vector - results[name]["original"][0]))
            if failed:
                notes.append(f"  * {name}, {label}: fails the quality gates ({failed}); not counted")
            else:
                same.append(distance)
            cells.append(f"{distance:11.3f}" + ("*" if failed else " "))
        print(f"{label:28s}" + "".join(cells))
    print("\n".join(notes))

    usable = {name: [r[0] for r in results[name].values() if r is not None and not r[1]] for name in PHOTOS}
    cross = np.linalg.norm(np.stack(usable["astronaut"])[:, None] - np.stack(usable["grace"])[None], axis=-1)
    originals = float(np.linalg.norm(results["astronaut"]["original"][0] - results["grace"]["original"][0]))
    print(f"different people: astronaut vs grace, originals {originals:.3f}; over all {cross.size} pairs of "
          f"usable copies min {cross.min():.3f} median {np.median(cross):.3f}")

    lfw = np.stack([r[0] for r in measure(embedder, detector, lfw_frames()) if r is not None])
    pairs = np.linalg.norm(lfw[:, None] - lfw[None], axis=-1)[np.triu_indices(len(lfw), 1)]
    p1, p5, p50 = np.percentile(pairs, [1, 5, 50])
    print(f"LFW subset: {len(lfw)}/100 faces found, {pairs.size} pairs: min {pairs.min():.3f} p1 {p1:.3f} "
          f"p5 {p5:.3f} median {p50:.3f}")

    worst_same, closest_other = max(same), float(cross.min())
    suggested = (worst_same + closest_other) / 2
    print(f"largest same-person distance {worst_same:.3f}, smallest astronaut-vs-grace {closest_other:.3f} "
          f"-> suggested threshold (midpoint) {suggested:.2f}")
    for t in sorted({round(suggested, 2), embedder.same_person_threshold}):
        print(f"  at {t:.2f}: {np.mean(pairs < t):.1%} of LFW-subset pairs would be called one person")


def main() -> None:
    detector = FaceDetector()
    calibrate(DlibEmbedder(), detector)
    weights = facenet_weights_path()
    if weights is None:
        print("\n(facenet: no VGGFace2 weights on this machine, skipped; see cameo.embedding.facenet_weights_path)")
    else:
        calibrate(FacenetEmbedder(weights), detector)


if __name__ == "__main__":
    main()
