"""A second app process for the PostgreSQL tests: a store on the same database, driven line by line.

    python tests/store_process.py URL

Each line read is ``[method, args, keyword args]`` in JSON; each line written is ``{"ok": result}`` or
``{"error": class name, "message": text}``. Feed pages come back as
``{"items": [[post, reasons], ...], "next_cursor": ...}``. The method ``burst``
(not a store method) runs a stretch of likes, unlikes and comments as one
user and answers with what it did.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feed_store import StoreError  # noqa: E402
from feed_store.postgres import PostgresStore  # noqa: E402
from feed_store.records import FeedPage  # noqa: E402


def burst(store: PostgresStore, user: int, posts: list[int], operations: int, seed: int) -> dict:
    """Likes, unlikes and comments by ``user`` on ``posts``; returns the posts liked at the end and comments made."""
    rng = random.Random(seed)
    liked: set[int] = set()
    comments: dict[int, int] = {}
    for n in range(operations):
        post = rng.choice(posts)
        if rng.random() < 0.7:
            if post in liked:
                store.unlike(user, post)
                liked.discard(post)
            else:
                store.like(user, post)
                liked.add(post)
        else:
            comments[store.comment(user, post, f"comment {n} by {user}")["id"]] = post
    return {"liked": sorted(liked), "comments": comments}


def main(url: str) -> None:
    store = PostgresStore(url, migrate=False)
    print(json.dumps({"ok": "ready"}), flush=True)
    for line in sys.stdin:
        method, args, kwargs = json.loads(line)
        try:
            result = burst(store, *args) if method == "burst" else getattr(store, method)(*args, **kwargs)
            if isinstance(result, FeedPage):
                result = {"items": [[i.post, i.reasons] for i in result.items], "next_cursor": result.next_cursor}
            answer = {"ok": result}
        except StoreError as e:
            answer = {"error": type(e).__name__, "message": str(e)}
        print(json.dumps(answer), flush=True)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1])
