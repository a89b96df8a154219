"""Video generation: text-to-video and remix through diffusers pipelines, with watermark and provenance.

    model = load_model("Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    video = generate(model, GenerationRequest(prompt="a cat surfing", author_handle="alice"), media_dir)
"""

from .generate import generate, validate, verify
from .loading import IPAdapterSource, ModelUnavailable, VideoModel, load_model, pick_device
from .request import (
    CameoNotAllowed, CameoReference, GeneratedVideo, GenerationCancelled, GenerationError, GenerationRequest,
    InvalidRequest, Limits,
)

__all__ = [
    "CameoNotAllowed", "CameoReference", "GeneratedVideo", "GenerationCancelled", "GenerationError",
    "GenerationRequest", "IPAdapterSource", "InvalidRequest", "Limits", "ModelUnavailable", "VideoModel",
    "generate", "load_model", "pick_device", "validate", "verify",
]
