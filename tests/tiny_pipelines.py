"""Tiny, randomly initialised diffusers video pipelines, built in code (no hub).

The same classes as the real models, shrunk the way diffusers' own tests
shrink them, so the real loading and calling code runs in a fraction of a
second on a CPU. Tokenizers are built from a character vocabulary.
"""

from __future__ import annotations

import string
from pathlib import Path

import torch
from diffusers import (
    AnimateDiffPipeline, AutoencoderKL, AutoencoderKLWan, DDIMScheduler, FlowMatchEulerDiscreteScheduler,
    MotionAdapter, TextToVideoSDPipeline, UNet2DConditionModel, UNet3DConditionModel, WanPipeline,
    WanTransformer3DModel, WanVACEPipeline, WanVACETransformer3DModel,
)
from transformers import (
    CLIPImageProcessor, CLIPTextConfig, CLIPTextModel, CLIPTokenizer, CLIPVisionConfig,
    CLIPVisionModelWithProjection, T5Tokenizer, UMT5Config, UMT5EncoderModel,
)

CHARS = string.ascii_lowercase + string.digits


def t5_tokenizer() -> T5Tokenizer:
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    vocab += [(c, -3.0) for c in CHARS] + [("\u2581" + c, -2.5) for c in CHARS]
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=512)


def clip_tokenizer() -> CLIPTokenizer:
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    vocab.update({c: i + 2 for i, c in enumerate(CHARS)})
    vocab.update({c + "</w>": i + 2 + len(CHARS) for i, c in enumerate(CHARS)})
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)  # CLIP pipelines pad to this


def clip_text_encoder(hidden: int) -> CLIPTextModel:
    torch.manual_seed(0)
    return CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=hidden, intermediate_size=37,
        num_attention_heads=2, num_hidden_layers=2, vocab_size=128, max_position_embeddings=77)).eval()


def wan(vace: bool = False) -> WanPipeline | WanVACEPipeline:
    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    torch.manual_seed(0)
    layers = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16,
                  out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, cross_attn_norm=True,
                  qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    torch.manual_seed(0)
    text_encoder = UMT5EncoderModel(UMT5Config(
        vocab_size=128, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, relative_attention_num_buckets=8,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)).eval()
    components = dict(vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), text_encoder=text_encoder,
                      tokenizer=t5_tokenizer())
    if vace:
        return WanVACEPipeline(transformer=WanVACETransformer3DModel(
            num_layers=3, vace_layers=[0, 2], vace_in_channels=96, **layers), **components)
    return WanPipeline(transformer=WanTransformer3DModel(num_layers=2, **layers), transformer_2=None, **components)


def animatediff() -> AnimateDiffPipeline:
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, norm_num_groups=2)
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2)
    torch.manual_seed(0)
    adapter = MotionAdapter(block_out_channels=(32, 64), motion_layers_per_block=2, motion_norm_num_groups=2,
                            motion_num_attention_heads=4)
    return AnimateDiffPipeline(
        unet=unet, vae=vae, motion_adapter=adapter, text_encoder=clip_text_encoder(32), tokenizer=clip_tokenizer(),
        scheduler=DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False),
        feature_extractor=None, image_encoder=None)


def save_ip_adapter(pipe: AnimateDiffPipeline, folder: Path) -> Path:
    """An IP-Adapter in the file layout of h94/IP-Adapter: weights plus ``image_encoder/``."""
    from safetensors.torch import save_file

    torch.manual_seed(0)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, intermediate_size=37, projection_dim=32, num_hidden_layers=2, num_attention_heads=4,
        image_size=32, patch_size=4, num_channels=3)).eval()
    encoder.save_pretrained(folder / "image_encoder")
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(
        folder / "image_encoder")
    generator = torch.Generator().manual_seed(0)
    cross, channels = pipe.unet.config.cross_attention_dim, list(pipe.unet.config.block_out_channels)
    weights, key = {}, 1
    for name in pipe.unet.attn_processors:  # the numbering diffusers' IP-Adapter loader expects
        if name.endswith("attn1.processor") or "motion_modules" in name:
            continue
        if name.startswith("mid_block"):
            hidden = channels[-1]
        elif name.startswith("up_blocks"):
            hidden = channels[::-1][int(name[len("up_blocks.")])]
        else:
            hidden = channels[int(name[len("down_blocks.")])]
        for kind in ("k", "v"):
            weights[f"ip_adapter.{key}.to_{kind}_ip.weight"] = torch.randn(hidden, cross, generator=generator) * 0.3
        key += 2
    weights.update({"image_proj.proj.weight": torch.randn(4 * cross, 32, generator=generator) * 0.3,
                    "image_proj.proj.bias": torch.zeros(4 * cross), "image_proj.norm.weight": torch.ones(cross),
                    "image_proj.norm.bias": torch.zeros(cross)})
    save_file(weights, folder / "ip-adapter_tiny.safetensors")
    return folder


def modelscope() -> TextToVideoSDPipeline:
    torch.manual_seed(0)
    unet = UNet3DConditionModel(
        block_out_channels=(4, 8), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"), up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=4, attention_head_dim=4, norm_num_groups=2)
    torch.manual_seed(0)
    vae = AutoencoderKL(block_out_channels=(8,), in_channels=3, out_channels=3, latent_channels=4, sample_size=32,
                        down_block_types=["DownEncoderBlock2D"], up_block_types=["UpDecoderBlock2D"], norm_num_groups=2)
    return TextToVideoSDPipeline(
        unet=unet, vae=vae, text_encoder=clip_text_encoder(4), tokenizer=clip_tokenizer(),
        scheduler=DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                clip_sample=False, set_alpha_to_one=False))
