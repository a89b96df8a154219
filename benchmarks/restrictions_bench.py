"""Cameo restrictions: refusal recall, false refusals and latency on the labelled cases, with two baselines.

Baselines in the same run: keywords alone (no MiniLM), and the naive semantic
check the research note warns against, a raw cosine between the prompt and the
owner's phrase with the threshold that does best on the calibration split.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vocabulary import MENTION_RE  # noqa: E402
from safety import restrictions  # noqa: E402
from safety.restrictions import RestrictionChecker  # noqa: E402

CASES = [json.loads(line) for line in
         (Path(__file__).resolve().parent.parent / "tests" / "data" / "restriction_cases.jsonl").open()]
SPLITS = ("calibration", "held_out", "fresh")


def rates(refused: list[bool], split: str) -> tuple[float, float]:
    pairs = [(r, c["should_refuse"]) for r, c in zip(refused, CASES) if c["split"] == split]
    should = [r for r, label in pairs if label]
    should_not = [r for r, label in pairs if not label]
    return sum(should) / len(should), sum(should_not) / len(should_not)


def busy_cpus() -> float:
    """CPUs the rest of the machine kept busy (1-minute load average)."""
    return os.getloadavg()[0]


def main() -> None:
    checker = RestrictionChecker()
    checker.breach("warm up", "")
    texts = list(dict.fromkeys(c["restrictions"] for c in CASES))
    start = time.perf_counter()
    for text in texts:
        checker.targets(text)
    compile_ms = (time.perf_counter() - start) / len(texts) * 1000

    timings, refused = [], []
    for case in CASES:
        start = time.perf_counter()
        refused.append(checker.breach(case["prompt"], case["restrictions"]) is not None)
        timings.append((time.perf_counter() - start) * 1000)

    keyword_only = []
    for case in CASES:
        keyword_only.append(any(hit for _, _, _, hit in checker.scores(case["prompt"], case["restrictions"])))

    encoder = checker.encoder
    prompts = encoder.sentence_embeddings([" ".join(MENTION_RE.sub(" ", c["prompt"]).split()) for c in CASES])
    phrases = encoder.sentence_embeddings([c["restrictions"] for c in CASES])
    cosine = (prompts * phrases).sum(1)
    calibration = [i for i, c in enumerate(CASES) if c["split"] == "calibration"]
    labels = np.array([c["should_refuse"] for c in CASES])
    best = max(np.unique(cosine), key=lambda t: ((cosine[calibration] >= t) == labels[calibration]).mean())
    raw = list(cosine >= best)

    figures = {"cases": len(CASES), "restriction_texts": len(texts),
               "breach_ms_p50": round(statistics.median(timings), 1),
               "breach_ms_p95": round(float(np.percentile(timings, 95)), 1),
               "compile_ms_per_text": round(compile_ms, 1), "busy_cpus": round(busy_cpus(), 2),
               "margins": {"topic": restrictions.TOPIC_MARGIN, "custom": restrictions.CUSTOM_MARGIN},
               "raw_cosine_threshold": round(float(best), 3)}
    print(f"{'method':<34}" + "".join(f"{s + ' recall / false':>28}" for s in SPLITS))
    for name, result in (("keywords + MiniLM margin", refused), ("keywords only", keyword_only),
                         ("raw cosine to the owner's text", raw)):
        row = {s: rates(result, s) for s in SPLITS}
        figures[name] = {s: [round(r, 3), round(f, 3)] for s, (r, f) in row.items()}
        print(f"{name:<34}" + "".join(f"{r:>18.3f} / {f:.3f}" for r, f in row.values()))
    print(f"breach p50 / p95: {figures['breach_ms_p50']} / {figures['breach_ms_p95']} ms; "
          f"first check of a new text: {figures['compile_ms_per_text']} ms; load average {figures['busy_cpus']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
