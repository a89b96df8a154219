"""``TinyVideoTransformer``: the embedded model's denoiser, a small video DiT in pixel space.

Why this shape (measured in docs/notes/embedded-model-research.md): on two CPU
cores convolutions make backward passes 5-20x slower than a patch
transformer of the same capacity, and flat procedural scenes lose nothing
without an autoencoder. A 16x32x32 clip is cut into 2x8x8 tubelets, 128
tokens; the prompt's MiniLM token embeddings join the sequence, so every
layer can attend to words such as "left" that a pooled sentence vector
barely separates from "right".

Conditioning also passes through *attribute heads*: from the pooled prompt the
model predicts colour, motion, subject, scene and head count (trained with an
auxiliary loss on the captions' labels) and feeds their softmax-weighted
embeddings to every block through adaLN. That factorisation is what lets
colour and motion pairs never seen together in training come out right.

Where the subject goes is an input too: a *motion prior* channel (a soft blob
along a track) that the pipeline draws from the motion the heads read in the
prompt. Trained end to end, a model this small left motion to chance (about
10% right after 1,200 steps); planning the layout first and rendering it
second is how layout-guided video models split the same problem.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


class AdaLNBlock(nn.Module):
    """Joint self-attention over video and text tokens, then an MLP, both modulated by the condition (adaLN-zero)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(approximate="tanh"), nn.Linear(4 * dim, dim))
        self.modulation = nn.Linear(dim, 6 * dim)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(F.silu(cond))[:, None].chunk(6, dim=-1)
        h = self.norm1(x) * (1 + scale1) + shift1
        b, n, d = h.shape
        q, k, v = self.qkv(h).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        h = F.scaled_dot_product_attention(q, k, v, attn_mask=attention_mask)
        x = x + gate1 * self.proj(h.transpose(1, 2).reshape(b, n, d))
        h = self.norm2(x) * (1 + scale2) + shift2
        return x + gate2 * self.mlp(h)


class TinyVideoTransformer(ModelMixin, ConfigMixin):
    """Predicts the clean clip from a noisy (B, C, F, H, W) pixel clip (x-prediction; see the training script)."""

    @register_to_config
    def __init__(self, in_channels: int = 4, condition_channels: int = 1, sample_size: int = 32,
                 num_frames: int = 16, patch_size: int = 8,
                 temporal_patch_size: int = 2, dim: int = 256, num_layers: int = 6, num_heads: int = 4,
                 text_dim: int = 384, attribute_sizes: dict[str, int] | None = None) -> None:
        super().__init__()
        attribute_sizes = attribute_sizes or {}
        grid = (num_frames // temporal_patch_size, sample_size // patch_size, sample_size // patch_size)
        self.patch_embed = nn.Conv3d(in_channels + condition_channels, dim, (temporal_patch_size, patch_size, patch_size),
                                     stride=(temporal_patch_size, patch_size, patch_size))
        self.pos_embed = nn.Parameter(torch.randn(1, grid[0] * grid[1] * grid[2], dim) * 0.02)
        self.time_proj = Timesteps(256, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embed = TimestepEmbedding(256, dim)
        self.text_proj = nn.Linear(text_dim, dim)
        self.text_type = nn.Parameter(torch.zeros(1, 1, dim))
        self.pool_queries = nn.Parameter(torch.randn(1, max(1, len(attribute_sizes)), text_dim) * 0.02)
        self.pooled_proj = nn.Sequential(nn.Linear(text_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.attribute_heads = nn.ModuleDict({name: nn.Linear(dim, n) for name, n in attribute_sizes.items()})
        self.attribute_embeds = nn.ModuleDict({name: nn.Linear(n, dim, bias=False)
                                               for name, n in attribute_sizes.items()})
        self.blocks = nn.ModuleList([AdaLNBlock(dim, num_heads) for _ in range(num_layers)])
        self.norm_out = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.out_modulation = nn.Linear(dim, 2 * dim)
        self.proj_out = nn.Linear(dim, in_channels * temporal_patch_size * patch_size * patch_size)
        for layer in (self.out_modulation, self.proj_out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def describe_prompt(self, encoder_hidden_states: torch.Tensor,
                        encoder_attention_mask: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Read the prompt's attributes: (pooled prompt (B, dim), logits per attribute).

        Each attribute pools the tokens with its own learned query, so the
        motion head looks at motion words and not at, say, the colour: a head
        reading one pooled vector learned that colours never seen with a
        motion in training exclude it.
        """
        keep = encoder_attention_mask[:, None, :].bool()
        scores = (self.pool_queries @ encoder_hidden_states.transpose(1, 2)) / encoder_hidden_states.shape[-1] ** 0.5
        pooled = self.pooled_proj(scores.masked_fill(~keep, float("-inf")).softmax(-1) @ encoder_hidden_states)
        logits = {name: head(pooled[:, i]) for i, (name, head) in enumerate(self.attribute_heads.items())}
        return pooled.mean(1), logits

    def forward(self, hidden_states: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor,
                encoder_attention_mask: torch.Tensor, condition: torch.Tensor, return_attributes: bool = False):
        """``hidden_states`` (B, C, F, H, W); ``timestep`` in [0, 1000] (sigma x 1000); text (B, L, 384) + mask (B, L);
        ``condition`` (B, condition_channels, F, H, W): the motion prior in [-1, 1], all -1 for none."""
        b, c, f, h, w = hidden_states.shape
        pt, p = self.config.temporal_patch_size, self.config.patch_size
        x = torch.cat([hidden_states, condition.to(hidden_states.dtype)], dim=1)
        x = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed
        text = self.text_proj(encoder_hidden_states) + self.text_type

        pooled, attributes = self.describe_prompt(encoder_hidden_states, encoder_attention_mask)
        cond = self.time_embed(self.time_proj(timestep.expand(b)).to(x.dtype)) + pooled
        for name, logits in attributes.items():
            cond = cond + self.attribute_embeds[name](logits.softmax(-1))

        n_video = x.shape[1]
        keep = torch.cat([torch.ones(b, n_video, dtype=torch.bool, device=x.device),
                          encoder_attention_mask.bool()], dim=1)
        attention_mask = keep[:, None, None, :]
        x = torch.cat([x, text], dim=1)
        for block in self.blocks:
            x = block(x, cond, attention_mask)
        shift, scale = self.out_modulation(F.silu(cond))[:, None].chunk(2, dim=-1)
        x = self.proj_out(self.norm_out(x[:, :n_video]) * (1 + scale) + shift)

        gf, gh, gw = f // pt, h // p, w // p
        x = x.view(b, gf, gh, gw, c, pt, p, p).permute(0, 4, 1, 5, 2, 6, 3, 7).reshape(b, c, f, h, w)
        return (x, attributes) if return_attributes else x
