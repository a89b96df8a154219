"""Video generation: text-to-video and remix through diffusers pipelines, with watermark and provenance.

    model = load_model("Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    video = generate(model, GenerationRequest(prompt="a cat surfing", author_handle="alice"), media_dir)

Names are imported on first use (PEP 562), so code that only needs the
request types and errors does not pay for importing torch and diffusers.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "generate": ".generation", "validate": ".generation", "verify": ".provenance",
    "IPAdapterSource": ".loading", "ModelUnavailable": ".loading", "VideoModel": ".loading",
    "load_model": ".loading", "pick_device": ".loading",
    "CameoNotAllowed": ".request", "CameoReference": ".request", "GeneratedVideo": ".request",
    "GenerationCancelled": ".request", "GenerationError": ".request", "GenerationRequest": ".request",
    "InvalidRequest": ".request", "Limits": ".request",
    "Provenance": ".provenance", "VideoCheck": ".provenance",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
