"""How to call each family of diffusers video pipelines.

A family is picked from the class of the loaded pipeline, never from the
model's name. Each one knows its limits, how to remix (SDEdit through the
family's video-to-video pipeline) and whether and how it takes cameos.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from diffusers import (
    AnimateDiffPipeline, AnimateDiffVideoToVideoPipeline, DiffusionPipeline, TextToVideoSDPipeline,
    VideoToVideoSDPipeline, WanPipeline, WanVACEPipeline, WanVideoToVideoPipeline,
)
from PIL import Image

from vocabulary import HANDLE_PATTERN, MENTION_RE

from .embedded.pipeline_tiny_video import TinyVideoPipeline
from .request import MAX_CAMEOS, CameoNotAllowed, GenerationRequest, InvalidRequest, Limits

StepCallback = Callable[[int, int], None]
"""Called after each denoising step with (steps done, steps in all)."""


def _as_pil(frames: np.ndarray) -> list[Image.Image]:
    return [Image.fromarray(f) for f in frames]


class Family:
    """The default: text-to-video and SDEdit remix, no cameos, modern step callbacks."""

    name = "generic"
    text_to_video_classes: tuple[type, ...] = ()
    remix_class: type | None = None

    def __init__(self, pipe: DiffusionPipeline) -> None:
        self.pipe = pipe
        self._remix_pipe: DiffusionPipeline | None = None

    @classmethod
    def handles(cls, pipe: DiffusionPipeline) -> bool:
        return isinstance(pipe, cls.text_to_video_classes)

    limits = Limits(frames=(1, 32), frame_step=1, size_multiple=8)

    @property
    def supports_cameos(self) -> bool:
        return self.limits.max_cameos > 0

    def prompt_for_model(self, request: GenerationRequest) -> str:
        """Cameo mentions become "a person": the cameo itself reaches the model as an image."""
        cameo_handles = {c.handle.lower() for c in request.cameos}
        return MENTION_RE.sub(lambda m: "a person" if m[1].lower() in cameo_handles else m[1], request.prompt)

    def cameo_inputs(self, request: GenerationRequest) -> dict[str, Any]:
        if request.cameos:
            raise CameoNotAllowed(f"The {self.name} model cannot put cameos in a video.")
        return {}

    def step_callback(self, on_step: StepCallback, total: int) -> dict[str, Any]:
        def callback(pipe: DiffusionPipeline, i: int, t: torch.Tensor, tensors: dict) -> dict:
            on_step(i + 1, total)
            return {}

        return {"callback_on_step_end": callback}

    def remix_pipeline(self) -> DiffusionPipeline:
        """The video-to-video pipeline sharing this pipeline's modules (built once)."""
        if self._remix_pipe is None:
            self._remix_pipe = self.pipe if isinstance(self.pipe, self.remix_class) else \
                self.remix_class.from_pipe(self.pipe)
            self._remix_pipe.set_progress_bar_config(disable=True)
        return self._remix_pipe

    def run(self, request: GenerationRequest, source: np.ndarray | None, generator: torch.Generator,
            on_step: StepCallback) -> np.ndarray:
        """Denoise and decode; returns float frames (F, H, W, 3) in [0, 1]."""
        common = dict(prompt=self.prompt_for_model(request), negative_prompt=request.negative_prompt or None,
                      num_inference_steps=request.num_inference_steps, guidance_scale=request.guidance_scale,
                      height=request.height, width=request.width, generator=generator, output_type="np",
                      **self.cameo_inputs(request))
        if source is None:
            total = request.num_inference_steps
            out = self.pipe(**common, num_frames=request.num_frames, **self.step_callback(on_step, total))
        else:
            out = self.remix_pipeline()(**self.remix_inputs(common, source, request.strength),
                                        **self.step_callback(on_step, self.remix_steps(request)))
        return np.asarray(out.frames[0], dtype=np.float32)

    def remix_steps(self, request: GenerationRequest) -> int:
        """SDEdit skips the first ``1 - strength`` of the schedule."""
        return int(request.num_inference_steps * request.strength)

    def remix_inputs(self, common: dict[str, Any], source: np.ndarray, strength: float) -> dict[str, Any]:
        return {**common, "video": _as_pil(source), "strength": strength}


class WanFamily(Family):
    """Wan 2.1/2.2 text-to-video; remix through ``WanVideoToVideoPipeline``."""

    name = "wan"
    text_to_video_classes = (WanPipeline,)
    remix_class = WanVideoToVideoPipeline
    limits = Limits(frames=(1, 121), frame_step=4, size_multiple=16, fps=16, default_frames=33,
                    default_size=(480, 832), default_steps=30, default_guidance=5.0)


class WanVACEFamily(Family):
    """Wan VACE: cameos as ``reference_images``.

    VACE's transformer does not fit ``WanVideoToVideoPipeline``, so a remix
    conditions VACE on the source video instead of SDEdit: ``strength`` lowers
    the conditioning scale, 0 copying the source's layout and motion, 1 ignoring it.
    """

    name = "wan-vace"
    text_to_video_classes = (WanVACEPipeline,)
    limits = Limits(frames=(1, 121), frame_step=4, size_multiple=16, max_cameos=3, fps=16, default_frames=33,
                    default_size=(480, 832), default_steps=30, default_guidance=5.0)

    def cameo_inputs(self, request: GenerationRequest) -> dict[str, Any]:
        return {"reference_images": [c.face_crops[0] for c in request.cameos]} if request.cameos else {}

    def remix_pipeline(self) -> DiffusionPipeline:
        return self.pipe

    def remix_inputs(self, common: dict[str, Any], source: np.ndarray, strength: float) -> dict[str, Any]:
        height, width = common["height"], common["width"]
        return {**common, "video": _as_pil(source), "num_frames": len(source),
                "mask": [Image.new("L", (width, height), 255)] * len(source), "conditioning_scale": 1.0 - strength}

    def remix_steps(self, request: GenerationRequest) -> int:
        return request.num_inference_steps  # strength scales the conditioning, every step runs


IP_ADAPTER_SCALE = 0.8
"""How strongly a cameo's face steers an AnimateDiff video (0 ignores it)."""


class AnimateDiffFamily(Family):
    """AnimateDiff (a Stable Diffusion UNet with a motion adapter).

    Cameos go in through an IP-Adapter when one is loaded (a face IP-Adapter
    such as ``ip-adapter-plus-face_sd15`` in production).
    """

    name = "animatediff"
    text_to_video_classes = (AnimateDiffPipeline,)
    remix_class = AnimateDiffVideoToVideoPipeline

    @property
    def limits(self) -> Limits:  # type: ignore[override]
        cameos = MAX_CAMEOS if self._has_ip_adapter() else 0
        return Limits(frames=(1, 32), frame_step=1, size_multiple=8, max_cameos=cameos, fps=8,
                      default_frames=16, default_size=(512, 512), default_steps=25, default_guidance=7.5)

    def _has_ip_adapter(self) -> bool:
        return getattr(self.pipe, "image_encoder", None) is not None and \
            getattr(self.pipe.unet, "encoder_hid_proj", None) is not None

    def cameo_inputs(self, request: GenerationRequest) -> dict[str, Any]:
        if not self._has_ip_adapter():
            return super().cameo_inputs(request)
        # A loaded IP-Adapter needs an image on every call: without a cameo it
        # gets a blank one at scale 0, which leaves the output untouched.
        self.pipe.set_ip_adapter_scale(IP_ADAPTER_SCALE if request.cameos else 0.0)
        faces = [c.face_crops[0] for c in request.cameos] or [Image.new("RGB", (224, 224))]
        return {"ip_adapter_image": [faces]}


class ModelScopeFamily(Family):
    """ModelScope-style ``TextToVideoSDPipeline`` (UNet3D); remix with ``VideoToVideoSDPipeline``.

    These older pipelines report progress through the legacy ``callback``
    argument and take neither a height/width nor a frame count for remixes.
    """

    name = "modelscope"
    text_to_video_classes = (TextToVideoSDPipeline,)
    remix_class = VideoToVideoSDPipeline
    limits = Limits(frames=(1, 64), frame_step=1, size_multiple=8, fps=8, default_frames=16,
                    default_size=(256, 256), default_steps=25, default_guidance=9.0)

    def step_callback(self, on_step: StepCallback, total: int) -> dict[str, Any]:
        return {"callback": lambda i, t, latents: on_step(i + 1, total), "callback_steps": 1}

    def remix_inputs(self, common: dict[str, Any], source: np.ndarray, strength: float) -> dict[str, Any]:
        inputs = super().remix_inputs(common, source, strength)
        del inputs["height"], inputs["width"]  # the source's size is the output's
        return inputs


class EmbeddedFamily(Family):
    """The embedded offline model (``TinyVideoPipeline``): 16 frames, remix in place, cameos by compositing.

    Cameo mentions standing side by side ("@ana and @ben") become one group
    the model knows how to draw ("two people"); the pipeline then pastes each
    cameo's face on the heads it drew, left to right in mention order.
    """

    name = "embedded"
    text_to_video_classes = (TinyVideoPipeline,)
    remix_class = TinyVideoPipeline
    limits = Limits(frames=(16, 16), frame_step=1, size_multiple=32, size=(128, 512), steps=(1, 50),
                    max_cameos=MAX_CAMEOS, fps=8, default_frames=16, default_size=(256, 256), default_steps=12,
                    default_guidance=4.0)

    def prompt_for_model(self, request: GenerationRequest) -> str:
        if not request.cameos:
            return super().prompt_for_model(request)
        return _CAMEO_GROUP_RE.sub(lambda m: _GROUPS.get(len(MENTION_RE.findall(m[0])), "people"), request.prompt)

    def cameo_inputs(self, request: GenerationRequest) -> dict[str, Any]:
        return {"cameo_images": [c.face_crops[0] for c in request.cameos]} if request.cameos else {}

    def remix_inputs(self, common: dict[str, Any], source: np.ndarray, strength: float) -> dict[str, Any]:
        return {**common, "video": source, "strength": strength}


_CAMEO_GROUP_RE = re.compile(rf"@{HANDLE_PATTERN}\b(?:\s*(?:,\s*and|,|and|&)\s*@{HANDLE_PATTERN}\b)*", re.IGNORECASE)
"""Mentions side by side: "@ana", "@ana and @ben", "@ana, @ben and @cy"."""
_GROUPS = {1: "a person", 2: "two people", 3: "three people"}


FAMILIES: tuple[type[Family], ...] = (EmbeddedFamily, WanVACEFamily, WanFamily, AnimateDiffFamily, ModelScopeFamily)


def family_for(pipe: DiffusionPipeline) -> Family:
    """The family that knows how to call ``pipe``, chosen by its class."""
    for family in FAMILIES:
        if family.handles(pipe):
            return family(pipe)
    known = ", ".join(c.__name__ for f in FAMILIES for c in f.text_to_video_classes)
    raise InvalidRequest(f"{type(pipe).__name__} is not a text-to-video pipeline Dreamreel can drive ({known}).")
