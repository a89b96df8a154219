"""Taste benchmark: does "Tune my feed" steer "For you", and what does it cost, on the feed benchmark's community.

Run ``python benchmarks/taste_bench.py`` (``--small`` for the 1k-user store). It prints a table, then one JSON
line. Targets (issue 13): with a "more" wish the share of matching posts on the first page rises from the
baseline to at least 3x (or 60%); a "less" wish cuts its topic by at least half; "For you" p95 stays within
30 ms on the 10k-user store.

The community is ``benchmarks/feed_bench.py``'s (10k users, 100k posts, 1M likes; prompts drawn from its subject,
action, place and style lists). For each wish, ``--viewers`` random users get the first page (20 posts) of
"For you" three ways in the same run: no wish (the baseline), the wish as "more ...", and as "fewer ...". A post
matches when its prompt holds the wish's words (the ranking never sees those words: it matches by meaning with
MiniLM). Latency is ``Studio.feed`` for "For you", wish included, against the same call without one.
The one-off cost of embedding every distinct published prompt (done at start-up, in the background) is reported.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from feed_bench import FULL, SMALL, ensure_dataset  # noqa: E402

WISHES = (("cats", ("cats",)), ("skateboarding grandmas", ("skateboarding",)), ("the beach", ("beach",)),
          ("robots", ("robots",)), ("the sea", ("under the sea",)))
"""(what the viewer types, the words that make a prompt a match)."""


def share(posts, words) -> float:
    hits = [any(w in (p.prompt or "").lower() for w in words) for p in posts if p.prompt is not None]
    return sum(hits) / max(len(hits), 1)


def ms(values: list[float]) -> dict:
    values = sorted(values)
    return {"p50_ms": round(statistics.median(values) * 1000, 2),
            "p95_ms": round(values[round(0.95 * (len(values) - 1))] * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--viewers", type=int, default=40)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from feed_store import FeedStore
    from feed_store.media import MediaFolder
    from studio.service import Studio

    folder, manifest = ensure_dataset(SMALL if args.small else FULL, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(folder / "store", Path(tmp) / "store")
        store = FeedStore(Path(tmp) / "store")
        studio = Studio(store, MediaFolder(Path(tmp) / "media"), None, lambda: None, provenance=None)
        started = time.perf_counter()
        studio.taste.refresh()
        warm_up = time.perf_counter() - started
        rng = random.Random(args.seed)
        viewers = rng.sample(range(2, manifest["counts"]["users"] + 1), args.viewers)
        rows, plain_times, tuned_times = [], [], []
        for wish, words in WISHES:
            base, more, less = [], [], []
            for viewer in viewers:
                store.set_feed_taste(viewer, "", [])
                t = time.perf_counter()
                base.append(share(studio.feed(viewer, "For you", limit=20).posts, words))
                plain_times.append(time.perf_counter() - t)
                for wished, out in ((f"more {wish}", more), (f"fewer {wish}", less)):
                    store.set_feed_taste(viewer, wished, [])
                    studio.feed(viewer, "For you", limit=20)  # the wish's phrases are embedded on first use
                    t = time.perf_counter()
                    out.append(share(studio.feed(viewer, "For you", limit=20).posts, words))
                    tuned_times.append(time.perf_counter() - t)
                store.set_feed_taste(viewer, "", [])
            b, m, le = (statistics.mean(x) for x in (base, more, less))
            rows.append({"wish": wish, "baseline_share": round(b, 3), "more_share": round(m, 3),
                         "fewer_share": round(le, 3), "more_ok": m >= min(3 * b, 0.6), "fewer_ok": le <= b / 2})
        store.close()
    out = {"store": manifest["sizes"], "distinct_prompts_embedded": len(studio.taste._prompts),
           "warm_up_s": round(warm_up, 1), "wishes": rows, "for_you_plain": ms(plain_times),
           "for_you_tuned": ms(tuned_times), "target_p95_ms": 30}
    print(f"embedding {out['distinct_prompts_embedded']} distinct prompts at start-up: {out['warm_up_s']} s")
    print(f"{'wish':28} {'baseline':>9} {'more':>7} {'fewer':>7}  targets (more >= 3x or 60%, fewer <= half)")
    for r in rows:
        print(f"{r['wish']:28} {r['baseline_share']:>9.1%} {r['more_share']:>7.1%} {r['fewer_share']:>7.1%}  "
              f"{'ok' if r['more_ok'] else 'MISSED'} / {'ok' if r['fewer_ok'] else 'MISSED'}")
    print(f"For you p50/p95: {out['for_you_plain']['p50_ms']}/{out['for_you_plain']['p95_ms']} ms plain, "
          f"{out['for_you_tuned']['p50_ms']}/{out['for_you_tuned']['p95_ms']} ms tuned (target p95 <= 30 ms)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
