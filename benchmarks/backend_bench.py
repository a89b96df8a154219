"""The store's two backends side by side, and PostgreSQL at a size TinyDB cannot hold.

    python benchmarks/feed_bench.py --backend both                 # today's size: TinyDB and PostgreSQL
    python benchmarks/feed_bench.py --backend postgresql --large   # 100k users, 1M posts, 10M likes, 1M comments

Both backends get the same seeded community as ``feed_bench.py`` builds (the
TinyDB store from its cached snapshot, PostgreSQL loaded with ``COPY`` straight
from the generated columns, counters included), in a private PostgreSQL
cluster this script starts (``scripts/services.py``) with durable commits
(``fsync`` and ``synchronous_commit`` on, the defaults).

Each backend is measured in a fresh Python process, as an app process would
use it:

* **open**: constructing the store until it can serve (TinyDB loads and indexes
  everything; PostgreSQL opens a connection pool);
* **For you first page** p50/p95 for random viewers, warm, and the second page;
* **durable likes/s** with 1 client and with 8 concurrent clients (threads of
  that process, each call one committed transaction), on distinct not-yet-liked
  pairs;
* **app-process RSS**: the process's peak resident memory (``VmHWM``); the
  PostgreSQL server's own memory is reported beside it.

For PostgreSQL a second app process then likes posts while the first reads
them: every answer must count the other's likes at once.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import feed_bench as fb  # noqa: E402
from feed_store import open_store  # noqa: E402

SERVER = {"shared_buffers": "4GB", "effective_cache_size": "12GB", "wal_buffers": "64MB", "max_wal_size": "8GB",
          "checkpoint_timeout": "30min", "maintenance_work_mem": "1GB"}
"""The benchmark server, sized for this machine as PostgreSQL's documentation advises (shared buffers a quarter of
RAM; checkpoints spaced out). Commits stay durable: fsync, synchronous_commit and full_page_writes keep their
defaults (on)."""
LARGE = fb.Sizes(users=100_000, posts=1_000_000, likes=10_000_000, comments=1_000_000)
TARGET_LARGE_FEED_P95_MS = 50.0
TARGET_LARGE_LIKES_PER_S = 5000.0
TARGET_LARGE_RSS_MB = 500.0
CLIENTS = 8
CHUNK = 200_000


# -- loading PostgreSQL with COPY --------------------------------------------------------------------------

def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    n = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def _copy_columns(cursor, table: str, columns: tuple[str, ...], arrays: list[np.ndarray]) -> int:
    """COPY numeric columns in chunks of text, without a Python object per row."""
    total = len(arrays[0])
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for start in range(0, total, CHUNK):
            parts = [a[start:start + CHUNK] for a in arrays]
            text = "\n".join("\t".join(map(repr, row)) for row in zip(*(p.tolist() for p in parts)))
            copy.write(text + "\n")
    return total


def load_postgres(url: str, sizes: fb.Sizes, seed: int, anchor: float) -> dict[str, Any]:
    """Generate the community for ``sizes`` and load it into the (migrated, empty) database at ``url``."""
    import psycopg
    from psycopg.types.json import Jsonb

    from feed_store.postgres import PostgresStore
    from feed_store.postgres.schema import upgrade

    started = time.perf_counter()
    c = fb.generate(sizes, seed, anchor)
    generated = time.perf_counter() - started
    upgrade(url)
    rng = np.random.default_rng(seed + 1)
    n_posts = len(c.post_author)
    likes = np.bincount(c.like_post, minlength=n_posts)
    comments = np.bincount(c.comment_post, minlength=n_posts)
    live_remix = (c.post_parent >= 0) & ~np.isnan(c.post_published)
    remixes = np.bincount(c.post_parent[live_remix], minlength=n_posts)
    counts: dict[str, int] = {}
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        counts["users"] = _copy(cursor, "users", ("id", "handle", "display_name", "password_hash", "external_id",
                                                  "is_admin", "created_at"),
                                ((i, d["handle"], d["display_name"], d["password_hash"], d["external_id"],
                                  d["is_admin"], d["created_at"]) for i, d in fb.user_docs(c)))
        counts["follows"] = _copy_columns(cursor, "follows", ("follower_id", "followee_id", "created_at"),
                                          [c.follow_src + 1, c.follow_dst + 1, c.follow_at])
        counts["posts"] = _copy(cursor, "posts", (
            "id", "author_id", "prompt", "hide_prompt", "video", "thumbnail", "preview", "parent_id", "visibility",
            "model", "created_at", "published_at", "like_count", "comment_count", "remix_count"),
            ((k, d["author_id"], d["prompt"], d["hide_prompt"], d["video"], d["thumbnail"], d["preview"],
              d["parent_id"], d["visibility"], Jsonb(d["model"]), d["created_at"], d["published_at"],
              int(likes[k - 1]), int(comments[k - 1]), int(remixes[k - 1])) for k, d in fb.post_docs(c, rng)))
        counts["likes"] = _copy_columns(cursor, "likes", ("post_id", "user_id", "created_at"),
                                        [c.like_post + 1, c.like_user + 1, c.like_at])
        texts = rng.integers(0, len(fb.COMMENTS), len(c.comment_user))
        counts["comments"] = _copy(cursor, "comments", ("post_id", "user_id", "text", "created_at"),
                                   zip((c.comment_post + 1).tolist(), (c.comment_user + 1).tolist(),
                                       (fb.COMMENTS[t] for t in texts.tolist()), c.comment_at.tolist()))
        for table in ("users", "comments"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cursor.execute("SELECT setval('post_ids', %s)", (n_posts,))
        connection.commit()
        connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")
    with PostgresStore(url, migrate=False) as store:
        store.refresh_hot_scores()
    with psycopg.connect(url) as connection:
        size = connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {"counts": counts, "generate_s": generated, "load_s": time.perf_counter() - started - generated,
            "database_mb": size / 1e6, "published_posts": int((~np.isnan(c.post_published)).sum())}


# -- measurements in a fresh process ---------------------------------------------------------------------

def worker_store(spec: dict[str, Any]) -> dict[str, Any]:
    """Open the store, time feeds and durable likes, and report the process's peak memory."""
    open_s, store = fb._timed(lambda: open_store(spec["where"]))
    out: dict[str, Any] = {"open_s": open_s, "rss_after_open_mb": fb.peak_rss_mb()}
    viewers = spec["viewers"]
    for viewer in viewers[:10]:
        store.for_you(viewer)
    first, second = [], []
    for viewer in viewers:
        seconds, page = fb._timed(lambda: store.for_you(viewer, limit=fb.PAGE))
        first.append(seconds)
        if page.next_cursor:
            second.append(fb._timed(lambda: store.for_you(viewer, cursor=page.next_cursor, limit=fb.PAGE))[0])
    out["for_you_first"], out["for_you_second"] = fb._ms_stats(first), fb._ms_stats(second)

    rng = np.random.default_rng(spec["seed"])
    taken: set = set()
    n = spec["likes"]
    warm, single, parallel = (fb._unliked_pairs(store, spec["users"], spec["posts"], k, rng, taken)
                              for k in (CLIENTS, n, n))
    threads = [threading.Thread(target=fb._like_all, args=(store, warm[i:i + 1], [])) for i in range(CLIENTS)]
    for t in threads:  # warm-up: the pool opens a connection per client
        t.start()
    for t in threads:
        t.join()
    latencies: list[float] = []
    single_s = fb._timed(lambda: fb._like_all(store, single, latencies))[0]
    parallel_latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    threads = [threading.Thread(target=fb._like_all, args=(store, parallel[i::CLIENTS], parallel_latencies[i]))
               for i in range(CLIENTS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    parallel_s = time.perf_counter() - start
    out["likes"] = {"n": n, "per_s_1": n / single_s, "latency_1": fb._ms_stats(latencies),
                    "per_s_8": n / parallel_s, "latency_8": fb._ms_stats(sum(parallel_latencies, []))}
    out["stats"] = store.stats()
    store.close()
    out["peak_rss_mb"] = fb.peak_rss_mb()
    return out


def worker_client(spec: dict[str, Any]) -> dict[str, Any]:
    """One of several client processes: open the store, say ready, wait for "go", like the given pairs."""
    store = open_store(spec["where"])
    pairs = spec["pairs"]
    fb._like_all(store, pairs[:1], [])  # a connection opened and the statement prepared before the clock starts
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()  # wall-clock time, comparable across the client processes
    fb._like_all(store, pairs[1:], [])
    ended = time.time()
    store.close()
    return {"n": len(pairs) - 1, "started": started, "ended": ended}


def likes_from_processes(where: str, pairs: list[tuple[int, int]], clients: int = CLIENTS) -> dict[str, Any]:
    """Durable likes/s from ``clients`` separate app processes at once (no shared interpreter lock)."""
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", "client", "--spec",
                               json.dumps({"where": where, "pairs": pairs[i::clients]})],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for i in range(clients)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [json.loads(p.stdout.read().strip().splitlines()[-1]) for p in procs]
    for p in procs:
        p.wait()
    n = sum(r["n"] for r in results)
    wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return {"n": n, "per_s": n / wall, "clients": clients}


def worker_liker(spec: dict[str, Any]) -> dict[str, Any]:
    """The second app process: like the given pairs and answer each post's like count as this process saw it."""
    store = open_store(spec["where"])
    seen = {f"{u}:{p}": store.like(u, p) for u, p in spec["pairs"]}
    store.close()
    return {"seen": seen}


WORKERS = {"store": worker_store, "liker": worker_liker, "client": worker_client}


def run(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--worker", kind, "--spec", json.dumps(spec)],
                          check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def server_rss_mb(url: str) -> float:
    """Resident memory of the PostgreSQL server's processes (shared buffers counted once, roughly: USS summed)."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "postgres" and f"-p {port}" in " ".join(proc.info["cmdline"] or []):
            family = [proc, *proc.children()]
            return sum(p.memory_full_info().uss for p in family) / 1e6
    return float("nan")


BARE_LIKE = """\\set post random(1, {posts})
\\set actor random(1, {users})
WITH liked AS (INSERT INTO likes (post_id, user_id, created_at) VALUES (:post, :actor, 0) ON CONFLICT DO NOTHING
RETURNING post_id) UPDATE posts SET like_count = like_count + 1 FROM liked WHERE posts.id = liked.post_id;
"""


def pgbench_likes(url: str, sql: str, seconds: int = 10) -> dict[str, float]:
    """Transactions per second of a pgbench script (C clients, prepared statements), with 1 and 8 clients."""
    import tempfile

    from services import postgres_bin

    out = {}
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(sql)
        script.flush()
        for clients in (1, CLIENTS):
            done = subprocess.run([str(postgres_bin() / "pgbench"), "-n", "-M", "prepared", "-c", str(clients),
                                   "-j", str(min(clients, 2)), "-T", str(seconds), "-f", script.name, url],
                                  capture_output=True, text=True, check=True)
            tps = next(line for line in done.stdout.splitlines() if line.startswith("tps"))
            out[f"per_s_{clients}"] = float(tps.split()[2])
    return out


def bare_like_ceiling(url: str, sizes: fb.Sizes) -> dict[str, float]:
    """The baseline: pgbench doing the least a durable like costs (the row and the counter, no checks, random
    pairs) on the same server and data: what this machine's database can do at all."""
    return pgbench_likes(url, BARE_LIKE.format(posts=sizes.posts, users=sizes.users))


def full_like_ceiling(url: str, sizes: fb.Sizes) -> dict[str, float]:
    """The store's own like statement (checks, row, counter, notification) from pgbench, one like a statement,
    random pairs (about one in five is a post the plain case does not allow, which costs less): what the
    database can do for a whole like with no Python in the way."""
    from feed_store.postgres.likes import LIKES_AT_ONCE

    sql = " ".join(LIKES_AT_ONCE.replace("%(n)s", "ARRAY[0]").replace("%(posts)s", "ARRAY[:post]")
                   .replace("%(actors)s", "ARRAY[:actor]").replace("%(times)s", "ARRAY[0.0]").split())
    return pgbench_likes(url, f"\\set post random(1, {sizes.posts})\n\\set actor random(1, {sizes.users})\n"
                              f"{sql};\n")


def fresh_pairs(url: str, sizes: fb.Sizes, seed: int, count: int) -> list[tuple[int, int]]:
    """``count`` (user, post) pairs not liked yet, where the user may like the post, plus one per client to warm up."""
    from feed_store.postgres import PostgresStore

    with PostgresStore(url, migrate=False) as store:
        return fb._unliked_pairs(store, sizes.users, sizes.posts, count + CLIENTS, np.random.default_rng(seed + 11),
                                 set())


def consistency(url: str, users: int, posts: int, seed: int) -> dict[str, Any]:
    """A second app process likes posts; this one reads them right after: every like must be counted."""
    from feed_store.postgres import PostgresStore

    with PostgresStore(url, migrate=False) as here:
        pairs = fb._unliked_pairs(here, users, posts, 50, np.random.default_rng(seed + 7), set())
        other = run("liker", {"where": url, "pairs": pairs})["seen"]
        agree = sum(here.get_post(u, p)["likes"] >= other[f"{u}:{p}"] and here.get_post(u, p)["liked"]
                    for u, p in pairs)
    return {"pairs": len(pairs), "agree": agree}


def explain_hot_queries(url: str, viewer: int) -> dict[str, str]:
    """``EXPLAIN ANALYZE`` of each query a feed page and a like run, for one viewer, with the store's own SQL."""
    import psycopg

    from feed_store.postgres import PostgresStore
    from feed_store.postgres import feeds

    with PostgresStore(url, migrate=False) as store:
        who = store.db.run(lambda: store._viewer(viewer))
        circle = store.db.run(lambda: store._circle(who))
    params = circle.params()
    near = sorted(who.following | {viewer})
    far = sorted(a for a, tier in circle.tiers.items() if tier == feeds.FRIEND_OF_FRIEND)[:feeds.MAX_FAR_AUTHORS]
    queries = {
        "friends of friends": (feeds.FRIENDS_OF_FRIENDS_SQL, (sorted(who.friends),)),
        "For you, followed authors (LATERAL)": (feeds.BY_AUTHOR_SQL,
                                                {**params, "authors": near, "per": feeds.PER_NEAR_AUTHOR}),
        "For you, friends of friends (LATERAL)": (feeds.BY_AUTHOR_SQL,
                                                  {**params, "authors": far, "per": feeds.PER_FAR_AUTHOR}),
        "For you, hot list": (feeds.HOT_SQL, {**params, "hot": feeds.HOT_CANDIDATES}),
        "Following": (feeds.NEWEST_SQL.format(where="p.author_id = ANY(%(following)s)"),
                      {**params, "following": sorted(who.following), "depth": feeds.FEED_DEPTH}),
        "Latest": (feeds.NEWEST_SQL.format(where="true"), {**params, "depth": feeds.FEED_DEPTH}),
        "a like (row and counter)": ("WITH liked AS (INSERT INTO likes (post_id, user_id, created_at)"
                                     " VALUES (1, %s, 0) ON CONFLICT DO NOTHING RETURNING post_id)"
                                     " UPDATE posts p SET like_count = like_count + 1 FROM liked"
                                     " WHERE p.id = liked.post_id RETURNING like_count", (viewer,)),
        "unread notifications": ("SELECT count(*) AS n FROM notifications WHERE user_id = %s AND NOT read",
                                 (viewer,)),
    }
    plans = {}
    with psycopg.connect(url) as connection:
        for name, (sql, args) in queries.items():
            rows = connection.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, args).fetchall()
            plans[name] = "\n".join(r[0] for r in rows)
            connection.rollback()  # the like's plan was measured by running it: undo it
    return plans


# -- the two runs -------------------------------------------------------------------------------------------

def _row(name: str, *cells: str) -> tuple[str, ...]:
    return (name, *cells)


def _print(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def side_by_side(sizes: fb.Sizes, seed: int, viewers: int, likes: int) -> dict[str, Any]:
    from services import postgres_cluster

    folder, manifest = fb.ensure_dataset(sizes, seed)
    run_dir = fb.OUT_DIR / "run-backends"
    fb._fresh_copy(folder / "store", run_dir / "store")
    rng = np.random.default_rng(seed)
    chosen = (rng.choice(sizes.users, min(viewers, sizes.users), replace=False) + 1).tolist()
    base = {"viewers": chosen, "seed": seed, "users": sizes.users, "posts": sizes.posts, "likes": likes}
    with postgres_cluster(settings=SERVER) as url:
        loaded = load_postgres(url, sizes, seed, manifest["anchor"])
        print(f"PostgreSQL loaded in {loaded['load_s']:.0f} s ({loaded['database_mb']:,.0f} MB)", file=sys.stderr)
        print("timing TinyDB ...", file=sys.stderr)
        tiny = run("store", {**base, "where": str(run_dir / "store")})
        print("timing PostgreSQL ...", file=sys.stderr)
        pg = run("store", {**base, "where": url})
        pg["server_rss_mb"] = server_rss_mb(url)
        pg["consistency"] = consistency(url, sizes.users, sizes.posts, seed)
        pg["likes_processes"] = likes_from_processes(url, fresh_pairs(url, sizes, seed, likes))
        pg["bare_like"] = bare_like_ceiling(url, sizes)
    rows = []
    for name, key in (("For you first page p50 / p95", "for_you_first"), ("For you second page p50 / p95",
                                                                           "for_you_second")):
        rows.append(_row(name, *(f"{r[key]['p50_ms']:.1f} / {r[key]['p95_ms']:.1f} ms" for r in (tiny, pg))))
    rows += [_row("durable likes/s, 1 client", *(f"{r['likes']['per_s_1']:,.0f}/s" for r in (tiny, pg))),
             _row(f"durable likes/s, {CLIENTS} threads of one process",
                  *(f"{r['likes']['per_s_8']:,.0f}/s" for r in (tiny, pg))),
             _row(f"durable likes/s, {CLIENTS} app processes", "(one process only)",
                  f"{pg['likes_processes']['per_s']:,.0f}/s"),
             _row(f"baseline: bare like in pgbench, 1 / {CLIENTS} clients", "",
                  f"{pg['bare_like']['per_s_1']:,.0f} / {pg['bare_like'][f'per_s_{CLIENTS}']:,.0f}/s"),
             _row("like latency p50, 1 client", *(f"{r['likes']['latency_1']['p50_ms']:.2f} ms" for r in (tiny, pg))),
             _row("open", *(f"{r['open_s']:.2f} s" for r in (tiny, pg))),
             _row("app-process RSS after open", *(f"{r['rss_after_open_mb']:,.0f} MB" for r in (tiny, pg))),
             _row("app-process peak RSS", *(f"{r['peak_rss_mb']:,.0f} MB" for r in (tiny, pg))),
             _row("database server memory (USS)", "(in the app)", f"{pg['server_rss_mb']:,.0f} MB"),
             _row("data on disk", f"{sum(p.stat().st_size for p in (run_dir / 'store').iterdir()) / 1e6:,.0f} MB",
                  f"{loaded['database_mb']:,.0f} MB")]
    counts = manifest["counts"]
    print(f"\nBoth backends, one community: {counts['users']:,} users, {counts['follows']:,} follows, "
          f"{counts['posts']:,} posts, {counts['likes']:,} likes, {counts['comments']:,} comments")
    same_stats = tiny["stats"] == pg["stats"]
    print(f"checks: both stores count the same community after the run: {fb._verdict(same_stats)}; a second "
          f"PostgreSQL process's likes counted at once by the first: {pg['consistency']['agree']}/"
          f"{pg['consistency']['pairs']}\n")
    _print(rows, ("metric", "TinyDB", "PostgreSQL"))
    print(f"\n{len(chosen)} random viewers, warm; {likes:,} likes per setting on distinct unliked pairs, each one "
          f"committed transaction; {CLIENTS} threads share one app process, {CLIENTS} app processes share nothing "
          f"but the database. PostgreSQL server: {', '.join(f'{k}={v}' for k, v in SERVER.items())}.")
    return {"sizes": counts, "tinydb": tiny, "postgresql": pg, "load": loaded, "same_stats": same_stats}


def large(seed: int, viewers: int, likes: int, explain: bool) -> dict[str, Any]:
    from services import postgres_cluster

    sizes = LARGE
    rng = np.random.default_rng(seed)
    chosen = (rng.choice(sizes.users, viewers, replace=False) + 1).tolist()
    anchor = math.floor(time.time() / 3600) * 3600.0
    with postgres_cluster(settings=SERVER) as url:
        print("generating and loading the large community (several minutes) ...", file=sys.stderr)
        loaded = load_postgres(url, sizes, seed, anchor)
        print(f"loaded in {loaded['load_s']:.0f} s ({loaded['database_mb']:,.0f} MB)", file=sys.stderr)
        pg = run("store", {"viewers": chosen, "seed": seed, "users": sizes.users, "posts": sizes.posts,
                           "likes": likes, "where": url})
        pg["server_rss_mb"] = server_rss_mb(url)
        pg["consistency"] = consistency(url, sizes.users, sizes.posts, seed)
        pg["likes_processes"] = likes_from_processes(url, fresh_pairs(url, sizes, seed, likes))
        pg["bare_like"] = bare_like_ceiling(url, sizes)
        pg["full_like"] = full_like_ceiling(url, sizes)
        if explain:
            pg["explain"] = explain_hot_queries(url, chosen[0])
    feed = pg["for_you_first"]
    rate = max(pg["likes"]["per_s_8"], pg["likes_processes"]["per_s"])  # 8 clients either way; the better counts
    targets = {"feed_p95": feed["p95_ms"] <= TARGET_LARGE_FEED_P95_MS,
               "likes_8": rate >= TARGET_LARGE_LIKES_PER_S,
               "rss": pg["peak_rss_mb"] <= TARGET_LARGE_RSS_MB,
               "consistent": pg["consistency"]["agree"] == pg["consistency"]["pairs"]}
    c = loaded["counts"]
    print(f"\nPostgreSQL, a large community: {c['users']:,} users, {c['follows']:,} follows, {c['posts']:,} posts, "
          f"{c['likes']:,} likes, {c['comments']:,} comments; loaded with COPY in {loaded['load_s']:.0f} s "
          f"({loaded['database_mb']:,.0f} MB)\n")
    _print([
        _row("For you first page p50 / p95", f"{feed['p50_ms']:.1f} / {feed['p95_ms']:.1f} ms",
             f"p95 <= {TARGET_LARGE_FEED_P95_MS:.0f} ms", fb._verdict(targets["feed_p95"])),
        _row("For you second page p50 / p95",
             f"{pg['for_you_second']['p50_ms']:.1f} / {pg['for_you_second']['p95_ms']:.1f} ms", "", ""),
        _row("durable likes/s, 1 client", f"{pg['likes']['per_s_1']:,.0f}/s", "", ""),
        _row(f"durable likes/s, {CLIENTS} threads of one process", f"{pg['likes']['per_s_8']:,.0f}/s",
             f">= {TARGET_LARGE_LIKES_PER_S:,.0f}/s (the better", fb._verdict(targets["likes_8"])),
        _row(f"durable likes/s, {CLIENTS} app processes", f"{pg['likes_processes']['per_s']:,.0f}/s",
             "of these two)", ""),
        _row(f"baseline: bare like in pgbench, 1 / {CLIENTS} clients",
             f"{pg['bare_like']['per_s_1']:,.0f} / {pg['bare_like'][f'per_s_{CLIENTS}']:,.0f}/s", "", ""),
        _row(f"the store's like statement in pgbench, 1 / {CLIENTS}",
             f"{pg['full_like']['per_s_1']:,.0f} / {pg['full_like'][f'per_s_{CLIENTS}']:,.0f}/s", "", ""),
        _row("open", f"{pg['open_s']:.2f} s", "", ""),
        _row("app-process peak RSS", f"{pg['peak_rss_mb']:,.0f} MB", f"<= {TARGET_LARGE_RSS_MB:.0f} MB",
             fb._verdict(targets["rss"])),
        _row("database server memory (USS)", f"{pg['server_rss_mb']:,.0f} MB", "", ""),
        _row("second process's likes seen at once", f"{pg['consistency']['agree']}/{pg['consistency']['pairs']}",
             "all", fb._verdict(targets["consistent"])),
    ], ("metric", "PostgreSQL", "target", "met"))
    print(f"\nall targets met: {fb._verdict(all(targets.values()))}")
    for name, plan in pg.get("explain", {}).items():
        print(f"\n-- EXPLAIN ANALYZE: {name}\n{plan}")
    return {"postgresql": pg, "load": loaded, "targets_met": targets}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("both", "postgresql"), default="both")
    parser.add_argument("--large", action="store_true", help="PostgreSQL only: 100k users, 1M posts, 10M likes")
    parser.add_argument("--small", action="store_true", help="a tenth of today's size, for a quick look")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--like-count", type=int, default=3000)
    parser.add_argument("--explain", action="store_true", help="with --large: EXPLAIN ANALYZE the hot queries")
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](json.loads(args.spec))))
        return
    started = time.perf_counter()
    if args.large:
        figures = large(args.seed, args.viewers, args.like_count, args.explain)
    else:
        figures = side_by_side(fb.SMALL if args.small else fb.FULL, args.seed, args.viewers, args.like_count)
    print(f"benchmark took {time.perf_counter() - started:.0f} s; other load: {os.getloadavg()[0]:.2f} (1-min avg)")
    print(json.dumps(figures, separators=(",", ":"), default=str))


if __name__ == "__main__":
    main()
