"""Moderation benchmark: precision and recall per category on the held-out labelled prompts, and ms per check.

Run ``python benchmarks/moderation_bench.py``. It prints a table, then one JSON line.

* **data**: ``tests/data/moderation_prompts.jsonl``, written apart from the
  training prompts. "minors" has no stored prompts: its row is the test suite's
  cross product of minor terms × sexual terms, built at run time.
* **recall** counts a prompt as caught only when blocked under its own category
  (a sexual prompt blocked as "minors" counts); "blocked" also counts a block
  under another category. The sexual row leaves out the minors prompts.
* **baselines**, same run: the keyword lexicons, minors rule and public-figures
  list alone (no trained head); and nearest prototype, i.e. cosine of the
  MiniLM sentence embedding to each category's centroid over the training
  prompts (benign included); a prompt nearest to benign then goes through the
  same public-figures list and name heuristic.
* **ms per check**: ``check_prompt`` wall time per prompt, one at a time as the
  app calls it, in a warm process.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from safety.moderation import DEFAULT_DIRECTORY, HEAD_CATEGORIES, MINOR_AGE_RE, Moderator, normalise  # noqa: E402
from safety.text_encoder import shared_encoder  # noqa: E402
from test_moderation import LABELLED, MINOR_WORDS, SEXUAL_WORDS  # noqa: E402

ROWS = ("sexual", "minors", "violence", "self_harm", "hate", "real_person")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def lexicons_alone(moderator: Moderator, text: str) -> str | None:
    """The rules of ``Moderator.check`` with the trained head taken out."""
    plain = normalise(text)
    sexual = moderator.lexicons["sexual"].find(plain) or moderator.suggestive.find(plain)
    if sexual and (moderator.minor_terms.find(plain) or MINOR_AGE_RE.search(plain)):
        return "minors"
    found = [category for category, lexicon in moderator.lexicons.items() if lexicon.find(plain)]
    return found[0] if found else ("real_person" if moderator.figures.find(text) else None)


class Prototypes:
    """Nearest category centroid of the training prompts' sentence embeddings."""

    def __init__(self) -> None:
        rows = read_jsonl(DEFAULT_DIRECTORY / "train_prompts.jsonl")
        embedded = shared_encoder().sentence_embeddings([r["text"] for r in rows])
        self.labels = ("benign", *HEAD_CATEGORIES)
        self.centroids = np.stack([embedded[[r["label"] == label for r in rows]].mean(0) for label in self.labels])
        self.centroids /= np.linalg.norm(self.centroids, axis=1, keepdims=True)

    def __call__(self, moderator: Moderator, text: str) -> str | None:
        label = self.labels[int(np.argmax(self.centroids @ shared_encoder().sentence_embeddings([text])[0]))]
        if label == "benign":
            return "real_person" if moderator.figures.find(text) else None
        return "minors" if label == "sexual" and moderator.minor_terms.find(normalise(text)) else label


def figures(rows: list[dict], predicted: list[str | None]) -> dict:
    """Per-category precision, recall and any-block rate, and the share of benign prompts blocked."""
    out = {}
    for category in ROWS:
        judged = [(r, p) for r, p in zip(rows, predicted) if category == "minors" or r["label"] != "minors"]
        truth = [r["label"] == category for r, _ in judged]
        hits = [p == category or (category == "sexual" and p == "minors") for _, p in judged]
        true_pos = sum(t and h for t, h in zip(truth, hits))
        out[category] = {"n": sum(truth), "precision": true_pos / max(1, sum(hits)), "recall": true_pos / max(1, sum(truth)),
                         "blocked": sum(t and p is not None for t, (_, p) in zip(truth, judged)) / max(1, sum(truth))}
    benign = [p for r, p in zip(rows, predicted) if r["label"] == "benign"]
    risky = [p for r, p in zip(rows, predicted) if r["label"] == "benign" and r.get("risky")]
    out["benign_blocked"] = sum(p is not None for p in benign) / len(benign)
    out["risky_benign_blocked"] = sum(p is not None for p in risky) / len(risky)
    out["benign_n"], out["risky_n"] = len(benign), len(risky)
    return out


def main() -> None:
    rows = read_jsonl(LABELLED) + [{"text": f"{m} {s}", "label": "minors"} for m in MINOR_WORDS for s in SEXUAL_WORDS]
    moderator = Moderator.load()
    moderator.check_prompt("warm-up")
    timings, predicted = [], []
    for row in rows:
        started = time.perf_counter()
        predicted.append(moderator.check_prompt(row["text"]).category)
        timings.append(time.perf_counter() - started)
    prototypes = Prototypes()
    results = {"trained": figures(rows, predicted),
               "lexicons": figures(rows, [lexicons_alone(moderator, r["text"]) for r in rows]),
               "prototypes": figures(rows, [prototypes(moderator, r["text"]) for r in rows])}
    ms = sorted(t * 1000 for t in timings)
    latency = {"p50_ms": statistics.median(ms), "p95_ms": ms[int(0.95 * len(ms))], "mean_ms": statistics.fmean(ms)}

    print(f"{'category':12} {'n':>4} | {'Dreamreel P / R (blocked)':>26} | {'lexicons alone P / R':>21} | "
          f"{'prototypes P / R':>17}")
    for category in ROWS:
        t, lex, pro = (results[k][category] for k in ("trained", "lexicons", "prototypes"))
        print(f"{category:12} {t['n']:>4} | {t['precision']:>10.3f} / {t['recall']:.3f} ({t['blocked']:.3f}) | "
              f"{lex['precision']:>13.3f} / {lex['recall']:.3f} | {pro['precision']:>9.3f} / {pro['recall']:.3f}")
    for key, name in (("benign_blocked", "benign blocked"), ("risky_benign_blocked", "risky-looking benign blocked")):
        print(f"{name:29} {results['trained'][key]:>12.3f} | {results['lexicons'][key]:>21.3f} | "
              f"{results['prototypes'][key]:>17.3f}")
    print(f"benign {results['trained']['benign_n']} (risky-looking {results['trained']['risky_n']}); "
          f"check_prompt p50 {latency['p50_ms']:.1f} ms, p95 {latency['p95_ms']:.1f} ms over {len(rows)} prompts")
    print(json.dumps({"results": results, "latency": latency}))


if __name__ == "__main__":
    main()
