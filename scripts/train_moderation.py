"""Train the moderation head: logistic regression on MiniLM features of hand-written prompts.

Run ``python scripts/train_moderation.py``; it takes about 25 s on CPU.
It reads ``assets/moderation/train_prompts.jsonl`` (``text``, ``label``,
``template``) and writes ``head.npz`` (weights, bias, feature centre and scale)
and ``thresholds.json`` next to it.

* One-vs-rest per category, L2-regularised, classes weighted to balance,
  fitted with L-BFGS from zero weights: the same data gives the same weights.
* Thresholds come from 5-fold cross-validated scores grouped by template, so
  slot-swapped variants of one template never sit on both sides of a fold:
  the lowest threshold that blocks at most 2% of the benign training prompts,
  but never below even odds (0.5): the benign training prompts are too few
  and too alike to set a lower one.
* The minors rule's low sexual threshold sits just above the cross-validated
  sexual score of every benign training prompt with a minor term in it.
* The held-out evaluation set (``tests/data/moderation_prompts.jsonl``) must not
  overlap the training prompts: the script refuses to train if any pair is the
  same prompt or shares most of its words.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from safety.moderation import DEFAULT_DIRECTORY, HEAD_CATEGORIES, MINOR_TERMS, Lexicon, features, normalise, probabilities  # noqa: E402

TRAIN = DEFAULT_DIRECTORY / "train_prompts.jsonl"
HELD_OUT = REPO / "tests" / "data" / "moderation_prompts.jsonl"
L2 = 1e-2
FOLDS = 5
BENIGN_BLOCKED = 0.02
EVEN_ODDS = 0.5
MAX_SHARED_WORDS = 0.7
FILLER = {"a", "an", "the", "of", "in", "on", "at", "to", "with", "and", "is", "are", "for", "by", "his", "her", "their"}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def overlaps(train: list[str], held_out: list[str]) -> list[tuple[str, str]]:
    """Pairs that are the same prompt or share more than ``MAX_SHARED_WORDS`` of their content words (Jaccard)."""
    def words(text: str) -> set[str]:
        return set(re.findall(r"[a-z0-9@']+", normalise(text))) - FILLER

    found = []
    for a in train:
        wa = words(a)
        for b in held_out:
            wb = words(b)
            if normalise(a) == normalise(b) or len(wa & wb) > MAX_SHARED_WORDS * len(wa | wb):
                found.append((a, b))
    return found


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(center, scale, weights, bias)``, the arguments of ``probabilities``, for multi-label targets ``y`` of shape ``(n, categories)``."""
    center, scale = x.mean(0), x.std(0) + 1e-3
    xs = torch.from_numpy((x - center) / scale).double()
    targets = torch.from_numpy(y).double()
    positives = targets.sum(0).clamp(min=1)
    pos_weight = (len(targets) - positives) / positives  # balanced classes
    weights = torch.zeros(y.shape[1], x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(y.shape[1], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights, bias], max_iter=500, tolerance_grad=1e-9, line_search_fn="strong_wolfe")

    def loss() -> torch.Tensor:
        optimizer.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(xs @ weights.T + bias, targets, pos_weight=pos_weight)
        value = value + L2 * weights.pow(2).sum() / 2
        value.backward()
        return value

    optimizer.step(loss)
    return (center.astype(np.float32), scale.astype(np.float32),
            weights.detach().numpy().astype(np.float32), bias.detach().numpy().astype(np.float32))


def cross_validated(x: np.ndarray, y: np.ndarray, templates: list[str]) -> np.ndarray:
    """Out-of-fold probabilities; each template's prompts fall in a single fold."""
    groups = sorted(set(templates))
    fold_of = {g: i % FOLDS for i, g in enumerate(np.random.default_rng(0).permutation(groups))}
    folds = np.array([fold_of[t] for t in templates])
    scores = np.zeros(y.shape, np.float32)
    for fold in range(FOLDS):
        train, test = folds != fold, folds == fold
        scores[test] = probabilities(x[test], *fit(x[train], y[train]))
    return scores


def main() -> None:
    torch.manual_seed(0)
    rows, held_out = read_jsonl(TRAIN), read_jsonl(HELD_OUT)
    clashes = overlaps([r["text"] for r in rows], [r["text"] for r in held_out])
    if clashes:
        for a, b in clashes:
            print(f"overlap: train {a!r} ~ held-out {b!r}", file=sys.stderr)
        raise SystemExit(f"refusing to train: {len(clashes)} training prompts overlap the held-out set")
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    unknown = set(labels) - set(HEAD_CATEGORIES) - {"benign"}
    if unknown:
        raise SystemExit(f"unknown labels in {TRAIN}: {sorted(unknown)}")
    x = np.concatenate([features(texts[i:i + 64]) for i in range(0, len(texts), 64)])
    y = np.array([[label == c for c in HEAD_CATEGORIES] for label in labels], np.float64)
    benign = np.array([label == "benign" for label in labels])

    scores = cross_validated(x, y, [r["template"] for r in rows])
    thresholds, report = {}, {}
    for j, category in enumerate(HEAD_CATEGORIES):
        threshold = float(np.clip(np.quantile(scores[benign, j], 1 - BENIGN_BLOCKED, method="higher") + 1e-4, EVEN_ODDS, 0.95))
        thresholds[category] = round(threshold, 4)
        report[category] = {"cv_recall": float((scores[y[:, j] == 1, j] >= threshold).mean()),
                            "cv_benign_blocked": float((scores[benign, j] >= threshold).mean())}
    minors = Lexicon(MINOR_TERMS)
    with_minor = benign & np.array([minors.find(normalise(t)) is not None for t in texts])
    sexual = HEAD_CATEGORIES.index("sexual")
    minor_threshold = round(float(min(thresholds["sexual"], scores[with_minor, sexual].max() + 0.05)), 4)

    center, scale, weights, bias = fit(x, y)
    np.savez_compressed(DEFAULT_DIRECTORY / "head.npz", weights=weights, bias=bias, center=center, scale=scale)
    settings = {
        "categories": list(HEAD_CATEGORIES), "thresholds": thresholds, "minor_sexual_threshold": minor_threshold,
        "training": {"prompts": len(rows), "per_label": {label: labels.count(label) for label in sorted(set(labels))},
                     "templates": len({r["template"] for r in rows}), "l2": L2, "folds": FOLDS,
                     "benign_with_minor_terms": int(with_minor.sum()), "cross_validation": report},
    }
    (DEFAULT_DIRECTORY / "thresholds.json").write_text(json.dumps(settings, indent=2) + "\n")
    print(json.dumps(settings, indent=2))


if __name__ == "__main__":
    main()
