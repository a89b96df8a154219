"""Cameos: verified likenesses from a short recording, face embeddings, and their owners' control."""

from .capture import CameoRejected, Challenge, Likeness, verify_clip
from .embedding import DlibEmbedder, Embedding, FaceEmbedder, FacenetEmbedder, default_embedder
from .faces import Face, FaceDetector
from .service import Cameos

__all__ = [
    "CameoRejected", "Cameos", "Challenge", "DlibEmbedder", "Embedding", "Face", "FaceDetector", "FaceEmbedder",
    "FacenetEmbedder", "Likeness", "default_embedder", "verify_clip",
]
