"""Face embeddings: vectors whose euclidean distance says whether two faces are one person.

Two backends, never mixed: distances only mean something between vectors of
the same model, so every :class:`Embedding` carries its backend's name and
comparing across backends is an error. dlib's ResNet is the offline default
(its model files ship in the face-recognition-models wheel); facenet's
InceptionResnetV1 trained on VGGFace2 is used when its weights file is on the
machine. ``scripts/calibrate_face_thresholds.py`` prints the distances behind
each backend's threshold.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import dlib
import numpy as np

from .faces import Face, aligned_crop

FACENET_WEIGHTS_ENV = "DREAMREEL_FACENET_WEIGHTS"
FACENET_WEIGHTS_FILE = "20180402-114759-vggface2.pt"  # the name facenet-pytorch caches its download under


@dataclass(frozen=True, eq=False)
class Embedding:
    """One face's vector and the backend that made it (compared by identity: the vector is an array)."""

    vector: np.ndarray  # float32
    backend: str


class FaceEmbedder(ABC):
    """Turns a detected face into an :class:`Embedding` and compares two of them."""

    backend: str
    same_person_threshold: float  # euclidean distance below which two faces are one person

    @abstractmethod
    def embed(self, frame: np.ndarray, face: Face) -> Embedding:
        """The embedding of ``face``, found by a :class:`~cameo.faces.FaceDetector` in ``frame`` (uint8 RGB)."""

    def distance(self, a: Embedding, b: Embedding) -> float:
        """Euclidean distance; refuses embeddings from another backend, whose distances mean nothing here."""
        for e in (a, b):
            if e.backend != self.backend:
                raise ValueError(f"cannot compare a {e.backend!r} embedding with the {self.backend!r} backend")
        return float(np.linalg.norm(a.vector.astype(np.float64) - b.vector.astype(np.float64)))

    def same_person(self, a: Embedding, b: Embedding) -> bool:
        return self.distance(a, b) < self.same_person_threshold


class DlibEmbedder(FaceEmbedder):
    """dlib's ResNet face descriptor (128-d, 99.38% on LFW): the offline default, ~75 ms a face on CPU.

    Threshold 0.55, from scripts/calibrate_face_thresholds.py: copies of a
    photo that pass the quality gates (darker, rotated, rescaled, mirrored,
    JPEG, synthetic head turns up to ±30°) stay within 0.45 of the original,
    while the astronaut and Grace Hopper are never closer than 0.59. 0.55 sits
    in that gap a little above its midpoint (0.52), because real turns can go
    past 30°, and below the 0.6 dlib tuned on LFW; 2% of the pairs of tiny
    (25 px) LFW faces fall under it.
    """

    backend = "dlib-resnet-v1"
    same_person_threshold = 0.55

    def __init__(self) -> None:
        models = _dlib_models_dir()
        self._landmarks = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._net = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
        self._lock = threading.Lock()  # dlib's network keeps per-call state: one face at a time

    def embed(self, frame: np.ndarray, face: Face) -> Embedding:
        image = np.ascontiguousarray(frame, dtype=np.uint8)
        x0, y0, x1, y1 = (int(round(float(v))) for v in face.box)
        with self._lock:
            # dlib aligns the face itself from its own 5 landmarks, found inside MTCNN's box.
            shape = self._landmarks(image, dlib.rectangle(x0, y0, x1, y1))
            vector = np.array(self._net.compute_face_descriptor(image, shape), dtype=np.float32)
        return Embedding(vector, self.backend)


class FacenetEmbedder(FaceEmbedder):
    """facenet-pytorch's InceptionResnetV1 trained on VGGFace2: 512-d, L2-normalised.

    Its weights are not downloadable here, so its threshold is not measured on
    this machine: 1.0 is the customary FaceNet / facenet-pytorch cut for
    L2-normalised VGGFace2 embeddings (squared distance ~1, cosine similarity
    ~0.5). Run scripts/calibrate_face_thresholds.py where the weights are
    present to recalibrate it.
    """

    backend = "facenet-vggface2"
    same_person_threshold = 1.0

    def __init__(self, weights_path: Path) -> None:
        import torch  # only this backend needs torch: import it when it is chosen
        from facenet_pytorch import InceptionResnetV1

        state = torch.load(Path(weights_path), map_location="cpu", weights_only=True)
        # The checkpoint includes the VGGFace2 identity classifier, which embedding does not use.
        state = {k: v for k, v in state.items() if not k.startswith("logits.")}
        self._model = InceptionResnetV1(pretrained=None).eval()
        self._model.load_state_dict(state)

    def embed(self, frame: np.ndarray, face: Face) -> Embedding:
        import torch

        crop = aligned_crop(frame, face, size=160)
        # The standardisation MTCNN(post_process=True) applies to the crops facenet was trained on.
        pixels = torch.from_numpy((crop.astype(np.float32) - 127.5) / 128.0).permute(2, 0, 1)[None]
        with torch.inference_mode():
            vector = self._model(pixels)[0].numpy()
        return Embedding(vector.astype(np.float32), self.backend)


def facenet_weights_path() -> Path | None:
    """Where facenet's VGGFace2 weights are, if anywhere: $DREAMREEL_FACENET_WEIGHTS, then facenet-pytorch's cache."""
    configured = os.environ.get(FACENET_WEIGHTS_ENV)
    if configured and Path(configured).is_file():
        return Path(configured)
    cache_root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    torch_home = Path(os.environ.get("TORCH_HOME") or Path(cache_root) / "torch")
    cached = torch_home / "checkpoints" / FACENET_WEIGHTS_FILE
    return cached if cached.is_file() else None


def default_embedder() -> FaceEmbedder:
    """facenet when its weights are on the machine, else dlib; one shared instance each (models load slowly)."""
    return _embedder_for(facenet_weights_path())


@cache
def _embedder_for(weights: Path | None) -> FaceEmbedder:
    return FacenetEmbedder(weights) if weights is not None else DlibEmbedder()


def mean_embedding(embeddings: Sequence[Embedding]) -> Embedding:
    """The centroid of several embeddings of one backend: a steadier reference than any single frame.

    Unit-length embeddings (facenet's) are put back on the unit sphere, where
    their distances and threshold are defined.
    """
    if not embeddings:
        raise ValueError("mean_embedding needs at least one embedding")
    backends = {e.backend for e in embeddings}
    if len(backends) > 1:
        raise ValueError(f"cannot average embeddings of different backends: {sorted(backends)}")
    vectors = np.stack([e.vector for e in embeddings]).astype(np.float64)
    mean = vectors.mean(axis=0)
    if np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3):
        mean /= np.linalg.norm(mean)
    return Embedding(mean.astype(np.float32), backends.pop())


def _dlib_models_dir() -> Path:
    """The model folder of the face-recognition-models wheel, found without importing it (that needs pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("dlib's face models are missing: install face-recognition-models (see requirements.txt)")
    return Path(list(spec.submodule_search_locations)[0]) / "models"
