"""``generate``: one request in, one watermarked, provenance-tagged video out.

The steps, in order: check the request against the model's limits and the
cameos against their owners' permissions (all before any compute); denoise,
reporting each step; decode; watermark (visible, then the invisible post id);
write the MP4 and sign its content credentials, then the thumbnail and
preview, under unguessable names. A failure or a cancel at any step leaves no file.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from .loading import VideoModel
from .provenance import GENERATOR_NAME, PROVENANCE_TAG, Provenance
from .request import (
    MAX_CAMEOS, MAX_PROMPT, CameoNotAllowed, CameoReference, GeneratedVideo, GenerationCancelled, GenerationRequest,
    InvalidRequest,
)
from .video_io import VideoError, read_video, upscale_for_display, write_mp4, write_preview, write_thumbnail
from .watermark import add_visible_watermark

try:  # Hugging Face ZeroGPU Spaces lend a GPU only inside functions decorated with spaces.GPU.
    import spaces
except ImportError:
    spaces = None

ProgressCallback = Callable[[int, int], None]


def validate(model: VideoModel, request: GenerationRequest,
             authorize_cameo: Callable[[CameoReference], None] | None = None) -> GenerationRequest:
    """Check a request before any compute and fill in the model's defaults.

    ``authorize_cameo`` must raise (``CameoNotAllowed``) for a cameo the author
    may not use; a request with cameos and no such check is refused.
    """
    limits = model.limits
    prompt = request.prompt.strip() if isinstance(request.prompt, str) else ""
    if not 1 <= len(prompt) <= MAX_PROMPT:
        raise InvalidRequest(f"Write a prompt of 1 to {MAX_PROMPT} characters (this one has {len(prompt)}).")
    if len(request.negative_prompt) > MAX_PROMPT:
        raise InvalidRequest(f"A negative prompt has at most {MAX_PROMPT} characters.")
    if len(request.cameos) > MAX_CAMEOS:
        raise InvalidRequest(f"A video can star at most {MAX_CAMEOS} cameos (this prompt names {len(request.cameos)}).")
    if request.cameos:
        if len(request.cameos) > limits.max_cameos:
            allowed = f"more than {limits.max_cameos} cameos" if limits.max_cameos else "cameos"
            raise CameoNotAllowed(f"The model {model.name} cannot put {allowed} in a video.")
        if authorize_cameo is None:
            raise CameoNotAllowed("Cameo use must be checked against its owner's permissions.")
        for cameo in request.cameos:
            authorize_cameo(cameo)

    h, w = limits.default_size
    request = request.with_defaults(num_frames=limits.default_frames, height=h, width=w,
                                    num_inference_steps=limits.default_steps, guidance_scale=limits.default_guidance,
                                    seed=secrets.randbelow(2**32))
    lo, hi = limits.frames
    if not (lo <= request.num_frames <= hi and (request.num_frames - lo) % limits.frame_step == 0):
        step = f" in steps of {limits.frame_step} from {lo}" if limits.frame_step > 1 else ""
        raise InvalidRequest(f"Frames must be {lo} to {hi}{step}; got {request.num_frames}.")
    lo, hi = limits.size
    for name, value in (("Height", request.height), ("Width", request.width)):
        if not (lo <= value <= hi and value % limits.size_multiple == 0):
            raise InvalidRequest(f"{name} must be {lo} to {hi} pixels, a multiple of {limits.size_multiple}; got {value}.")
    lo, hi = limits.steps
    if not lo <= request.num_inference_steps <= hi:
        raise InvalidRequest(f"Steps must be {lo} to {hi}; got {request.num_inference_steps}.")
    lo, hi = limits.guidance
    if not lo <= request.guidance_scale <= hi:
        raise InvalidRequest(f"Guidance must be {lo} to {hi}; got {request.guidance_scale}.")
    if not 0 <= request.seed < 2**32:
        raise InvalidRequest("A seed is a whole number from 0 to 4294967295.")
    if request.is_remix:
        if not 0 < request.strength <= 1:
            raise InvalidRequest(f"Remix strength must be above 0 and at most 1; got {request.strength}.")
        if model.family.remix_steps(request) < 1:
            raise InvalidRequest("This strength leaves no denoising step: raise the strength or the steps.")
    return request


def load_source(request: GenerationRequest) -> np.ndarray:
    """The remix source as ``num_frames`` uint8 frames at the request's size, evenly sampled."""
    try:
        frames, _ = read_video(request.source_video, size=(request.width, request.height))
    except VideoError as e:
        raise InvalidRequest(f"The video to remix cannot be read: {e}") from e
    picks = np.linspace(0, len(frames) - 1, request.num_frames).round().astype(int)
    return frames[picks]


def _denoise(model: VideoModel, request: GenerationRequest, source: np.ndarray | None,
             on_step: Callable[[int, int], None]) -> np.ndarray:
    generator = torch.Generator("cpu").manual_seed(request.seed)
    with torch.inference_mode():
        return model.family.run(request, source, generator, on_step)


if spaces is not None:
    _denoise = spaces.GPU(duration=120)(_denoise)


def generate(model: VideoModel, request: GenerationRequest, media_dir: Path, *,
             on_progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
             authorize_cameo: Callable[[CameoReference], None] | None = None,
             provenance: Provenance | None = None) -> GeneratedVideo:
    """Make one video. Raises a ``GenerationError`` (having written nothing) on bad input or cancel.

    With ``provenance`` (the app always passes it) the video carries the
    request's post id in an invisible watermark and a signed C2PA manifest.
    """
    if provenance is not None and request.post_id is None:
        raise InvalidRequest("A video with provenance needs the post id it will have.")
    request = validate(model, request, authorize_cameo)
    started = time.perf_counter()
    source = load_source(request) if request.is_remix else None

    def on_step(done: int, total: int) -> None:
        if cancel is not None and cancel.is_set():
            raise GenerationCancelled("Generation was cancelled.")
        if on_progress is not None:
            on_progress(done, total)

    denoise_started = time.perf_counter()
    frames = _denoise(model, request, source, on_step)
    denoised = time.perf_counter()
    if cancel is not None and cancel.is_set():
        raise GenerationCancelled("Generation was cancelled.")
    video = np.clip(frames * 255.0 + 0.5, 0, 255).astype(np.uint8)
    video = add_visible_watermark(upscale_for_display(video), request.author_handle)
    if provenance is not None:
        video = provenance.mark(video, request.post_id)

    made = {"generator": GENERATOR_NAME, "ai_generated": True, "model": model.name, "family": model.family.name,
            "seed": request.seed, "steps": request.num_inference_steps, "created_at": time.time(),
            **({"post_id": request.post_id} if request.post_id is not None else {}), **request.provenance}
    fps = model.limits.fps
    stem = media_dir / secrets.token_urlsafe(16)
    paths = (stem.with_suffix(".mp4"), stem.with_suffix(".jpg"), stem.with_suffix(".webp"))
    media_dir.mkdir(parents=True, exist_ok=True)
    try:
        write_mp4(video, paths[0], fps, {"comment": f"AI-generated with {GENERATOR_NAME}",
                                         PROVENANCE_TAG: json.dumps(made, sort_keys=True)})
        if provenance is not None:
            provenance.sign(paths[0], made, parent=request.source_video)
        write_thumbnail(video, paths[1])
        write_preview(video, paths[2], fps)
    except BaseException:
        for path in paths:
            path.unlink(missing_ok=True)
        raise
    finished = time.perf_counter()
    metadata = {**made, "guidance_scale": request.guidance_scale, "num_frames": len(video), "fps": fps,
                "height": request.height, "width": request.width,
                "strength": request.strength if request.is_remix else None,
                "timings": {"load_source_s": denoise_started - started, "denoise_decode_s": denoised - denoise_started,
                            "encode_s": finished - denoised, "total_s": finished - started}}
    return GeneratedVideo(*paths, metadata=metadata)
