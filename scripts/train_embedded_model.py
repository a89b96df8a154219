"""Train the embedded model on procedurally drawn clips, on this machine's CPU, and save it to assets/.

    python scripts/train_embedded_model.py                    # the full run (about 35 minutes on 2 quiet cores)
    python scripts/train_embedded_model.py --steps 50 --out /tmp/m   # a smoke run

Seeded and resumable: a checkpoint (weights, EMA, optimiser, data seed
position) is written every ``--checkpoint-every`` steps to ``--checkpoint``,
and a run started again continues from it. The saved pipeline holds the EMA
weights.

Objective: rectified flow (velocity = noise - clean). The model predicts the
clean clip and the loss is taken on the velocity derived from it
(x-prediction, as in Li & He, "Back to Basics: Let Denoising Generative
Models Denoise", 2025: a 256-d token cannot carry the 512 noise values of its
2x8x8x4 tubelet, a clean clip it can). Noise levels are drawn logit-normal
around sigma 0.69, i.e. mostly high noise, where a clip's layout and motion
are decided (JiT shifts the same way). The loss is weighted up on the
subject's pixels, and a cross-entropy trains the attribute heads against
the caption's labels. The model sees each clip's motion prior (the blob along
its subject's track) as an input channel, except with empty captions and
another 10% of the time.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from diffusers import FlowMatchEulerDiscreteScheduler  # noqa: E402

from pipeline.embedded import toy_world  # noqa: E402
from pipeline.embedded.pipeline_tiny_video import (  # noqa: E402
    MIN_SIGMA, TinyVideoPipeline, load_text_encoder, token_embeddings,
)
from pipeline.embedded.transformer import TinyVideoTransformer  # noqa: E402
from pipeline.loading import EMBEDDED_MODEL_DIR  # noqa: E402

SUBJECT_WEIGHT = 4.0      # extra loss weight on the subject's pixels: the background is most of every clip
ATTRIBUTE_WEIGHT = 0.1    # weight of the attribute heads' cross-entropy
CAPTION_DROPOUT = 0.1     # share of empty captions (and no motion prior), for classifier-free guidance
PRIOR_DROPOUT = 0.1       # share of captioned clips without their motion prior, so the model also works without one
NOISE_MEAN = 0.8          # sigma ~ sigmoid(N(0.8, 1)): mostly high noise, where layout and motion are decided


def build_model() -> TinyVideoTransformer:
    return TinyVideoTransformer(in_channels=4, condition_channels=1, sample_size=toy_world.SIZE,
                                num_frames=toy_world.FRAMES,
                                attribute_sizes=toy_world.ATTRIBUTE_SIZES)


def learning_rate(step: int, steps: int, peak: float, warmup: int = 100) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    tokenizer, text_encoder = load_text_encoder()
    model = build_model()
    ema = copy.deepcopy(model).requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.99))
    step, rng_state = 0, None
    if args.checkpoint.exists():
        state = torch.load(args.checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        step, rng_state = state["step"], state["rng"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed at step {step}", flush=True)
    rng = np.random.default_rng(args.seed)
    if rng_state is not None:
        rng.bit_generator.state = rng_state
    names = list(toy_world.ATTRIBUTE_SIZES)
    started, losses = time.perf_counter(), []

    while step < args.steps:
        clips, masks, priors, texts, labels = toy_world.batch(rng, args.batch)
        drop = rng.random(args.batch) < CAPTION_DROPOUT
        texts = ["" if d else t for t, d in zip(texts, drop)]
        labels[drop] = 0
        priors[drop | (rng.random(args.batch) < PRIOR_DROPOUT)] = 0.0  # no prompt, or no plan: the blob is absent
        tokens = tokenizer(texts, padding=True, truncation=True, max_length=48, return_tensors="pt")
        with torch.no_grad():
            hidden = token_embeddings(text_encoder, tokens.input_ids, tokens.attention_mask)

        x0 = torch.from_numpy(clips).permute(0, 2, 1, 3, 4)  # B, C, F, H, W
        weight = 1 + SUBJECT_WEIGHT * torch.from_numpy(masks)[:, None]
        sigma = torch.sigmoid(NOISE_MEAN + torch.randn(args.batch))
        noise = torch.randn_like(x0)
        s = sigma.view(-1, 1, 1, 1, 1)
        noisy = (1 - s) * x0 + s * noise
        prior = torch.from_numpy(priors)[:, None] * 2 - 1
        clean, attributes = model(noisy, sigma * 1000, hidden, tokens.attention_mask, prior, return_attributes=True)
        velocity = (noisy - clean) / s.clamp(min=MIN_SIGMA)
        flow_loss = (weight * (velocity - (noise - x0)) ** 2).mean()
        targets = torch.from_numpy(labels)
        attribute_loss = sum(F.cross_entropy(attributes[n], targets[:, i]) for i, n in enumerate(names)) / len(names)
        loss = flow_loss + ATTRIBUTE_WEIGHT * attribute_loss

        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args.steps, args.lr)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for e, p in zip(ema.parameters(), model.parameters()):
                e.lerp_(p, 1 - decay)
        step += 1
        losses.append((flow_loss.item(), attribute_loss.item()))

        if step % args.log_every == 0:
            flow, attr = np.mean(losses, axis=0)
            elapsed = time.perf_counter() - started
            print(json.dumps({"step": step, "flow_loss": round(float(flow), 4), "attribute_loss": round(float(attr), 4),
                              "lr": round(learning_rate(step, args.steps, args.lr), 6),
                              "s_per_step": round(elapsed / len(losses), 3)}), flush=True)
            losses, started = [], time.perf_counter()
        if step % args.checkpoint_every == 0 or step == args.steps:
            args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
            tmp = args.checkpoint.with_suffix(".tmp")
            torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
                        "step": step, "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()}, tmp)
            tmp.replace(args.checkpoint)
            save(ema, args.out)
            print(f"checkpoint at step {step}, pipeline saved to {args.out}", flush=True)


def save(ema: TinyVideoTransformer, out: Path) -> None:
    """Write the pipeline (EMA weights, scheduler, model index) with ``save_pretrained``."""
    pipe = TinyVideoPipeline(tokenizer=None, text_encoder=None, transformer=ema,
                             scheduler=FlowMatchEulerDiscreteScheduler(shift=1.0))
    pipe.save_pretrained(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--ema", type=float, default=0.999)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--checkpoint-every", type=int, default=200)
    parser.add_argument("--checkpoint", type=Path, default=REPO / ".train" / "embedded-checkpoint.pt")
    parser.add_argument("--out", type=Path, default=EMBEDDED_MODEL_DIR)
    train(parser.parse_args())


if __name__ == "__main__":
    main()
