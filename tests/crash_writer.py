"""A writer for the crash tests: writes until it is killed, printing each write once it is acknowledged.

    python tests/crash_writer.py feed STORE ROUND         # a store (folder or postgresql:// URL): posts, likes, ...
    python tests/crash_writer.py journal DIRECTORY ROUND  # bare JournalStorage with a tiny compaction threshold

It prints ``ready`` once the store is open, then one line per write, flushed
only after the call that made the write has returned. The parent SIGKILLs it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinydb import TinyDB  # noqa: E402

from feed_store import JournalStorage, JournalTable, open_store  # noqa: E402


def ack(*fields: object) -> None:
    print(*fields, flush=True)


def feed_writer(where: str, round_: int) -> None:
    store = open_store(where)
    users = [store.user_by_handle(f"writer{i}")["id"] for i in range(6)]
    ack("ready")
    follow_pairs = [(a, b) for a in users for b in users if a != b and b not in store.following(a)]
    posts: list[int] = []
    i = 0
    while True:
        author, liker, commenter = users[i % 6], users[(i + 1) % 6], users[(i + 2) % 6]
        post = store.create_post(author, f"round {round_} post {i}", visibility="public")["id"]
        ack("post", post)
        posts.append(post)
        ack("like", post, liker, store.like(liker, post))
        comment = store.comment(commenter, post, f"round {round_} comment {i}")["id"]
        ack("comment", comment, post)
        if len(posts) > 1:
            older, fan = posts[i // 2], users[(i + 3) % 6]
            if fan not in store.likers(None, older):
                ack("like", older, fan, store.like(fan, older))
        if follow_pairs and i % 4 == 0:
            a, b = follow_pairs.pop()
            store.follow(a, b)
            ack("follow", a, b)
        i += 1


def journal_writer(directory: str, round_: int) -> None:
    class DB(TinyDB):
        table_class = JournalTable

    db = DB(directory, storage=JournalStorage, compact_min_bytes=2048)
    table = db.table("docs")
    ack("ready")
    i = 0
    while True:
        doc_id = table.insert({"round": round_, "n": i, "touched": 0, "pad": "x" * 64})
        ack("insert", doc_id, i)
        if i % 3 == 0:
            earlier = max(1, doc_id // 2)
            if table.get(doc_id=earlier) is not None:
                table.update({"touched": i}, doc_ids=[earlier])
                ack("update", earlier, i)
        i += 1


if __name__ == "__main__":
    mode, directory, round_ = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"feed": feed_writer, "journal": journal_writer}[mode](directory, round_)
