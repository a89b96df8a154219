"""Feed store benchmark: FeedStore against stock TinyDB on one synthetic community.

Run ``python benchmarks/feed_bench.py`` (or ``make bench``) for the full size:
10k users following about 50 each, 100k posts, 1M likes and 100k comments.
``--small`` runs a tenth of that in seconds; ``--users/--posts/--likes/--comments``
override single sizes. The script prints a table, then one JSON line with every
figure.

What is measured, for both systems, in one run:

* **feed latency**: the first page (20 posts) of ``for_you`` for random viewers,
  p50/p95, warm. FeedStore also serves a second page through its cursor and the
  ``following_feed`` and ``latest`` feeds. The baseline is stock TinyDB with its
  ``JSONStorage``: each request reads the tables through the stock API (every
  read re-parses the whole JSON file) and scans them to rank every post with
  the same formula (``feed_store.ranking``). It takes seconds per request, so it
  serves only a few viewers.
* **durable likes per second**: ``FeedStore.like`` returns after its journal
  line is fsynced; timed single-threaded and from 4 threads on distinct
  not-yet-liked (user, post) pairs. The baseline's ``likes.insert`` rewrites and
  fsyncs the whole file.
* **cold open**: a fresh Python process (imports done) timing ``FeedStore(path)``
  until it is ready to serve, median of a few processes; for the baseline,
  ``TinyDB(path)`` plus ``.all()`` of each table (a full parse each). Files were
  just copied, so the OS page cache is warm: this is a restart, not a reboot.
* **peak RSS**: the high-water mark of the process that opened the store and ran
  the feed and like measurements (``VmHWM``, which, unlike ``ru_maxrss``, does not
  inherit the parent's peak across ``exec``).

The machine may be shared, so the report also says how busy the rest of it was
while each part ran (CPU time from ``/proc/stat`` minus the worker's own).

The synthetic community is seeded and cached under ``benchmarks/out/`` (keyed by
sizes and seed); every run measures fresh copies, since likes change the data.
The FeedStore files are written straight into the journal storage layout
(``snapshot.json`` with a ``_meta`` table), because building them through the
public API would fsync 1.7 million times; the measured store is then opened with
``FeedStore(path)`` exactly as the app opens it, and its ``stats()`` are checked
against the generated counts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import psutil
from tinydb import TinyDB

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feed_store import FeedStore, NotFound  # noqa: E402
from feed_store.ranking import (  # noqa: E402
    EVERYONE, FOLLOWING, FRIEND_OF_FRIEND, OWN_OR_FRIEND, Cursor, RankingConfig, diversify,
)
from feed_store.tinydb.schema import META_TABLE, SCHEMA_VERSION  # noqa: E402
from feed_store.tinydb.index import pair_key  # noqa: E402
from feed_store.tinydb.journal import SNAPSHOT_NAME  # noqa: E402

OUT_DIR = ROOT / "benchmarks" / "out"
GENERATOR_VERSION = 2  # bump when the generator changes, to invalidate cached datasets
WRITTEN_SCHEMA = 2  # to_tables() writes the documents of this store schema version
DAY = 86400.0
PAGE = 20
DATA_TABLES = ("users", "follows", "posts", "likes", "comments")  # the tables the synthetic data fills

TARGET_FEED_P95_MS = 30.0
TARGET_LIKES_PER_S = 2000.0
TARGET_COLD_OPEN_S = 3.0
TARGET_FEED_SPEEDUP = 20.0
TARGET_LIKES_SPEEDUP = 100.0


@dataclass(frozen=True)
class Sizes:
    users: int
    posts: int
    likes: int
    comments: int
    follows_per_user: int = 50

    def key(self, seed: int) -> str:
        return (f"v{GENERATOR_VERSION}-u{self.users}-f{self.follows_per_user}-p{self.posts}"
                f"-l{self.likes}-c{self.comments}-s{seed}")


FULL = Sizes(users=10_000, posts=100_000, likes=1_000_000, comments=100_000)
SMALL = Sizes(users=1_000, posts=10_000, likes=100_000, comments=10_000)


# -- the synthetic community ----------------------------------------------------------------

ADJECTIVES = ("neon", "quiet", "lucky", "cosmic", "rusty", "sunny", "pixel", "velvet", "brave", "misty",
              "golden", "tiny", "wild", "lunar", "salty", "electric")
NOUNS = ("fox", "otter", "comet", "lynx", "maple", "falcon", "pebble", "koala", "ember", "heron", "tiger",
         "cactus", "nova", "walrus", "sparrow", "dune")
SUBJECTS = ("A corgi astronaut", "Two robots", "A paper boat", "My cameo", "A dragon made of clouds",
            "A jazz band of cats", "An old lighthouse keeper", "A glass whale", "A skateboarding grandma",
            "A tiny chef")
ACTIONS = ("dancing", "racing", "drifting slowly", "arguing about pizza", "exploring", "painting a mural",
           "falling asleep", "building a sandcastle", "playing chess", "singing in the rain")
PLACES = ("on the moon", "through a neon Tokyo street", "in a snow globe", "under the sea", "on a rooftop at dusk",
          "inside a volcano", "in a 1920s train station", "across a desert of glass", "in a library", "at the beach")
STYLES = ("cinematic, 35mm film", "claymation", "studio ghibli style", "hyperreal, golden hour", "pixel art",
          "watercolor", "vhs camcorder footage", "slow motion, shallow depth of field")
COMMENTS = ("this is amazing", "how did you get the lighting like that?", "lol", "remixing this right now",
            "the ending!!", "10/10", "what prompt did you use?", "my cameo looks so real here", "love it",
            "again but with cats please", "wow", "this made my day", "underrated", "the physics are wild")


@dataclass
class Community:
    """The generated community as numpy columns; user and post ids are 0-based here."""

    community_of: np.ndarray  # per user
    user_created: np.ndarray
    follow_src: np.ndarray  # sorted (follower, followee) pairs
    follow_dst: np.ndarray
    follow_at: np.ndarray
    post_author: np.ndarray
    post_visibility: np.ndarray  # VIS_* codes
    post_created: np.ndarray
    post_published: np.ndarray  # NaN for drafts
    post_parent: np.ndarray  # -1 when not a remix
    like_user: np.ndarray  # likes and comments in time order
    like_post: np.ndarray
    like_at: np.ndarray
    comment_user: np.ndarray
    comment_post: np.ndarray
    comment_at: np.ndarray


VIS_DRAFT, VIS_FRIENDS, VIS_PUBLIC = 0, 1, 2
VISIBILITY_NAMES = {VIS_DRAFT: "draft", VIS_FRIENDS: "friends", VIS_PUBLIC: "public"}


class _Csr:
    """Lists of ints per user (community members, friends) in compressed rows, to sample from in bulk."""

    def __init__(self, owners: np.ndarray, values: np.ndarray, n: int) -> None:
        order = np.argsort(owners, kind="stable")
        self.values = values[order]
        self.start = np.searchsorted(owners[order], np.arange(n + 1))
        self.count = np.diff(self.start)

    def row(self, owner: int) -> np.ndarray:
        return self.values[self.start[owner]:self.start[owner + 1]]

    def pick(self, rng: np.random.Generator, owners: np.ndarray) -> np.ndarray:
        """One random value from each owner's row; -1 for an empty row."""
        count = self.count[owners]
        at = self.start[owners] + (rng.random(len(owners)) * count).astype(np.int64)
        return np.where(count > 0, self.values[np.minimum(at, len(self.values) - 1)], -1)


def _friends(n: int, src: np.ndarray, dst: np.ndarray) -> _Csr:
    """Each user's friends (mutual follows), from unique (follower, followee) edges."""
    mutual = np.isin(src.astype(np.int64) * n + dst, dst.astype(np.int64) * n + src)
    return _Csr(src[mutual], dst[mutual], n)


def _zipf_weights(rng: np.random.Generator, n: int, exponent: float, offset: float) -> np.ndarray:
    """Zipf-Mandelbrot popularity ``(rank + offset) ** -exponent`` over randomly ranked items, summing to 1."""
    w = (rng.permutation(n) + offset) ** -exponent
    return w / w.sum()


def _follow_graph(rng: np.random.Generator, sizes: Sizes, community_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique (follower, followee) edges, sorted.

    Two thirds of a user's follows stay in their community and are followed back
    60% of the time; the rest go to popular creators (Zipf) and are rarely
    followed back. Mutual follows (friends) and friends of friends are therefore
    common, as in a real social graph; purely random follows would make almost
    none.
    """
    n = sizes.users
    members = _Csr(community_of, np.arange(n), int(community_of.max()) + 1)
    base = sizes.follows_per_user / 1.1  # follow-backs add ~40%, repeats in small communities take some back
    out_degree = np.clip(rng.lognormal(math.log(base) - 0.125, 0.5, n), 3, 10 * base).astype(np.int64)
    src = np.repeat(np.arange(n), out_degree)
    local = rng.random(len(src)) < 2 / 3
    dst = np.empty_like(src)
    dst[local] = members.pick(rng, community_of[src[local]])
    dst[~local] = rng.choice(n, int((~local).sum()), p=_zipf_weights(rng, n, 1.0, 10.0))
    back = rng.random(len(src)) < np.where(local, 0.6, 0.08)
    src, dst = np.concatenate((src, dst[back])), np.concatenate((dst, src[back]))
    keep = src != dst
    codes = np.unique(src[keep] * n + dst[keep])
    return codes // n, codes % n


def _engagement_pairs(rng: np.random.Generator, author: np.ndarray, visibility: np.ndarray, friends: _Csr,
                      count: int, distinct: bool) -> tuple[np.ndarray, np.ndarray]:
    """``count`` (user, post) pairs the app would accept: published posts the user may see.

    Posts are drawn by Zipf popularity. A friends-only post is engaged with by a
    friend of its author; a public one by a friend 35% of the time, otherwise by
    anyone (weighted by how active they are). Nobody engages with their own post.
    With ``distinct``, no pair repeats (a user likes a post once).
    """
    n_users, n_posts = len(friends.count), len(author)
    published = np.flatnonzero(visibility != VIS_DRAFT)
    post_weights = _zipf_weights(rng, len(published), 1.0, 50.0)
    user_weights = rng.lognormal(0, 1.0, n_users)
    user_weights /= user_weights.sum()
    codes = np.empty(0, dtype=np.int64)
    while len(codes) < count:
        m = int((count - len(codes)) * 1.3) + 100
        post = rng.choice(published, m, p=post_weights)
        by_friend = (visibility[post] == VIS_FRIENDS) | (rng.random(m) < 0.35)
        user = np.where(by_friend, friends.pick(rng, author[post]), rng.choice(n_users, m, p=user_weights))
        ok = (user >= 0) & (user != author[post])
        new = user[ok].astype(np.int64) * n_posts + post[ok]
        codes = np.unique(np.concatenate((codes, new))) if distinct else np.concatenate((codes, new))
    codes = rng.permutation(codes)[:count]
    return codes // n_posts, codes % n_posts


def _in_time_order(rng: np.random.Generator, users: np.ndarray, posts: np.ndarray, published: np.ndarray,
                   anchor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Give each engagement a time after its post was published (most of them soon after) and sort by it."""
    at = published[posts] + (anchor - published[posts]) * rng.random(len(posts)) ** 3
    order = np.argsort(at, kind="stable")
    return users[order], posts[order], at[order]


def generate(sizes: Sizes, seed: int, anchor: float) -> Community:
    """A seeded community whose 30 days of posting end at ``anchor`` (a Unix time)."""
    rng = np.random.default_rng(seed)
    n = sizes.users

    # Communities of about 80 people (lognormal sizes), members scattered over the id space.
    community_sizes: list[int] = []
    while sum(community_sizes) < n:
        community_sizes.append(max(8, int(rng.lognormal(math.log(70), 0.5))))
    community_of = np.repeat(np.arange(len(community_sizes)), community_sizes)[:n][rng.permutation(n)]
    src, dst = _follow_graph(rng, sizes, community_of)
    user_created = anchor - 31 * DAY - rng.random(n) * 365 * DAY
    follow_from = np.maximum(user_created[src], user_created[dst])
    follow_at = follow_from + rng.random(len(src)) * (anchor - 30 * DAY - follow_from)

    # Posts: skewed authorship; ids in creation order over the 30 days; 4% drafts, 15% friends-only.
    p = sizes.posts
    author_weights = rng.lognormal(0, 1.2, n)
    author = rng.choice(n, p, p=author_weights / author_weights.sum())
    created = np.sort(anchor - rng.random(p) * 30 * DAY)
    r = rng.random(p)
    visibility = np.where(r < 0.04, VIS_DRAFT, np.where(r < 0.19, VIS_FRIENDS, VIS_PUBLIC))
    delay = np.minimum(rng.exponential(1800.0, p), anchor - created)
    published = np.where(visibility == VIS_DRAFT, np.nan, created + delay)

    # 12% of published posts remix a public post that was out when they were made.
    public = np.flatnonzero(visibility == VIS_PUBLIC)
    public = public[np.argsort(published[public])]
    remix = np.flatnonzero((visibility != VIS_DRAFT) & (rng.random(p) < 0.12))
    out_by_then = np.searchsorted(published[public], created[remix], side="right")
    pick = public[np.minimum((rng.random(len(remix)) * out_by_then).astype(np.int64), len(public) - 1)]
    parent = np.full(p, -1)
    parent[remix] = np.where(out_by_then > 0, pick, -1)

    friends = _friends(n, src, dst)
    likes = _engagement_pairs(rng, author, visibility, friends, sizes.likes, distinct=True)
    comments = _engagement_pairs(rng, author, visibility, friends, sizes.comments, distinct=False)
    return Community(community_of, user_created, src, dst, follow_at, author, visibility, created, published,
                     parent, *_in_time_order(rng, *likes, published, anchor),
                     *_in_time_order(rng, *comments, published, anchor))


def graph_stats(c: Community, rng: np.random.Generator, sample: int = 200) -> dict[str, float]:
    """Follows and friends per user, the share of follows that are mutual, and the median friends-of-friends."""
    n = len(c.community_of)
    friends = _friends(n, c.follow_src, c.follow_dst)
    fof = []
    for u in rng.choice(n, min(sample, n), replace=False).tolist():
        mine = set(friends.row(u).tolist())
        fof.append(len(set().union(*(friends.row(f).tolist() for f in mine)) - mine - {u}))
    return {"follows_per_user": len(c.follow_src) / n, "mutual_share": int(friends.count.sum()) / len(c.follow_src),
            "friends_per_user": float(friends.count.mean()), "friends_of_friends_median": statistics.median(fof)}


def user_docs(c: Community) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(user id, document)`` for every user, with the fields the stores write."""
    for i, created in enumerate(c.user_created.tolist()):
        adjective, noun = ADJECTIVES[i % len(ADJECTIVES)], NOUNS[(i // len(ADJECTIVES)) % len(NOUNS)]
        yield i + 1, {
            "handle": f"{adjective}_{noun}_{i + 1}", "display_name": f"{adjective.title()} {noun.title()}",
            # A third sign in with a password (a bcrypt-sized hash), the rest with Hugging Face.
            "password_hash": None if i % 3 else "$2b$12$" + f"{i:053d}",
            "external_id": f"hf:{i + 1}" if i % 3 else None,
            "is_admin": i == 0, "created_at": created, "invited_by": None}


def post_docs(c: Community, rng: np.random.Generator) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(post id, document)`` for every post; prompts and hidden prompts drawn from ``rng`` first."""
    words = [rng.integers(0, len(options), len(c.post_author)) for options in (SUBJECTS, ACTIONS, PLACES, STYLES)]
    hide = rng.random(len(c.post_author)) < 0.1
    return _post_docs(c, words, hide)


def _post_docs(c: Community, words: list[np.ndarray], hide: np.ndarray) -> Iterator[tuple[int, dict[str, Any]]]:
    for k in range(len(c.post_author)):
        prompt = " ".join(options[w[k]] for options, w in zip((SUBJECTS, ACTIONS, PLACES), words)) + \
            ", " + STYLES[words[3][k]]
        published = c.post_published[k]
        yield k + 1, {
            "author_id": int(c.post_author[k]) + 1, "prompt": prompt, "hide_prompt": bool(hide[k]),
            "video": f"media/videos/{k + 1}.mp4", "thumbnail": f"media/thumbs/{k + 1}.jpg",
            "preview": f"media/previews/{k + 1}.webp", "cameo_ids": [],
            "parent_id": int(c.post_parent[k]) + 1 if c.post_parent[k] >= 0 else None,
            "visibility": VISIBILITY_NAMES[int(c.post_visibility[k])],
            "model": {"name": "embedded", "steps": 20, "seed": k}, "created_at": float(c.post_created[k]),
            "published_at": None if math.isnan(published) else float(published), "deleted_at": None}


def to_tables(c: Community, seed: int) -> dict[str, dict[str, dict[str, Any]]]:
    """The community as TinyDB tables (``{table: {"doc_id": document}}``), with the fields FeedStore writes."""
    rng = np.random.default_rng(seed + 1)
    users = {str(i): doc for i, doc in user_docs(c)}
    follows = {str(pair_key(a + 1, b + 1)): {"follower_id": a + 1, "followee_id": b + 1, "created_at": at}
               for a, b, at in zip(c.follow_src.tolist(), c.follow_dst.tolist(), c.follow_at.tolist())}
    posts = {str(k): doc for k, doc in post_docs(c, rng)}
    likes = {str(pair_key(p + 1, u + 1)): {"user_id": u + 1, "post_id": p + 1, "created_at": at}
             for u, p, at in zip(c.like_user.tolist(), c.like_post.tolist(), c.like_at.tolist())}
    texts = rng.integers(0, len(COMMENTS), len(c.comment_user)).tolist()
    comments = {str(k + 1): {"user_id": u + 1, "post_id": p + 1, "text": COMMENTS[t], "created_at": at,
                             "deleted_at": None}
                for k, (u, p, t, at) in enumerate(zip(c.comment_user.tolist(), c.comment_post.tolist(), texts,
                                                      c.comment_at.tolist()))}
    return {"users": users, "follows": follows, "posts": posts, "likes": likes, "comments": comments}


def ensure_dataset(sizes: Sizes, seed: int) -> tuple[Path, dict[str, Any]]:
    """The cached dataset for these sizes and seed, generated when missing; returns its folder and manifest.

    The folder holds ``store/snapshot.json`` (FeedStore's journal layout, schema
    version in ``_meta``), ``baseline/db.json`` (stock TinyDB's single file, the
    same documents) and ``manifest.json``.
    """
    folder = OUT_DIR / sizes.key(seed)
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        return folder, json.loads(manifest_path.read_text())
    print(f"generating the community ({sizes}) into {folder} ...", file=sys.stderr)
    started = time.perf_counter()
    anchor = math.floor(time.time() / 3600) * 3600.0
    community = generate(sizes, seed, anchor)
    tables = to_tables(community, seed)
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "store").mkdir(parents=True)
    (folder / "baseline").mkdir()
    (folder / "baseline" / "db.json").write_bytes(orjson.dumps(tables))
    tables[META_TABLE] = {"1": {"schema_version": WRITTEN_SCHEMA}}
    (folder / "store" / SNAPSHOT_NAME).write_bytes(orjson.dumps(tables))
    manifest = {"sizes": asdict(sizes), "seed": seed, "anchor": anchor,
                "counts": {name: len(tables[name]) for name in DATA_TABLES},
                "published_posts": int((community.post_visibility != VIS_DRAFT).sum()),
                "visibility": {name: int((community.post_visibility == code).sum())
                               for code, name in VISIBILITY_NAMES.items()},
                "remixes": int((community.post_parent >= 0).sum()),
                "graph": graph_stats(community, np.random.default_rng(seed + 2)),
                "generated_in_s": round(time.perf_counter() - started, 1)}
    manifest_path.write_text(json.dumps(manifest, indent=2))  # written last: marks the dataset complete
    return folder, manifest


# -- measurements, each run in a fresh process -------------------------------------------------------

def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux ``VmHWM``; ``ru_maxrss`` elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1 << 20) if sys.platform == "darwin" else rss / 1024


def _ms_stats(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "p99_ms": float(np.percentile(ms, 99)), "max_ms": float(ms.max()), "n": len(ms)}


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def worker_open(spec: dict[str, Any]) -> dict[str, Any]:
    """Open the FeedStore once and report how long it took and the memory it needed."""
    seconds, store = _timed(lambda: FeedStore(spec["store"]))
    store.close()
    return {"open_s": seconds, "peak_rss_mb": peak_rss_mb()}


def _unliked_pairs(store: FeedStore, users: int, posts: int, count: int, rng: np.random.Generator,
                   taken: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Random (user, post) pairs where the user sees the published post and has not liked it (public API only)."""
    pairs: list[tuple[int, int]] = []
    while len(pairs) < count:
        user, post = int(rng.integers(1, users + 1)), int(rng.integers(1, posts + 1))
        if (user, post) in taken:
            continue
        try:
            shown = store.get_post(user, post)
        except NotFound:
            continue
        if shown["published_at"] is not None and not shown["liked"]:
            taken.add((user, post))
            pairs.append((user, post))
    return pairs


def fdatasync_per_s(directory: Path, count: int = 1000) -> float:
    """The disk's ceiling for durable appends: 80-byte lines, each followed by ``fdatasync``, as the journal does."""
    path = directory / "fsync_probe.tmp"
    with open(path, "ab", buffering=0) as f:
        start = time.perf_counter()
        for _ in range(count):
            f.write(b"x" * 79 + b"\n")
            os.fdatasync(f.fileno())
        seconds = time.perf_counter() - start
    path.unlink()
    return count / seconds


def _like_all(store: FeedStore, pairs: Iterable[tuple[int, int]], latencies: list[float]) -> None:
    for user, post in pairs:
        start = time.perf_counter()
        store.like(user, post)
        latencies.append(time.perf_counter() - start)


def worker_feedstore(spec: dict[str, Any]) -> dict[str, Any]:
    """Open the FeedStore, then time feeds and durable likes; report the process's peak memory at the end."""
    open_s, store = _timed(lambda: FeedStore(spec["store"]))
    out: dict[str, Any] = {"open_s": open_s, "rss_after_open_mb": peak_rss_mb(), "stats": store.stats()}
    viewers: list[int] = spec["viewers"]

    for viewer in viewers[:10]:  # warm-up: the first calls pay numpy's first-use costs and cold CPU caches
        store.for_you(viewer)
    first, second, following, latest = [], [], [], []
    for viewer in viewers:
        seconds, page = _timed(lambda: store.for_you(viewer, limit=PAGE))
        first.append(seconds)
        if page.next_cursor:
            second.append(_timed(lambda: store.for_you(viewer, cursor=page.next_cursor, limit=PAGE))[0])
        following.append(_timed(lambda: store.following_feed(viewer, limit=PAGE))[0])
        latest.append(_timed(lambda: store.latest(viewer, limit=PAGE))[0])
    out["feed"] = {"for_you_first": _ms_stats(first), "for_you_second": _ms_stats(second),
                   "following": _ms_stats(following), "latest": _ms_stats(latest)}
    # Pages as of the baseline's moment, through the cursor, to check both rank alike.
    frozen = Cursor(spec["as_of"], 0).encode()
    out["check_pages"] = {str(v): [item.post["id"] for item in store.for_you(v, cursor=frozen, limit=PAGE).items]
                          for v in spec["check_viewers"]}

    rng = np.random.default_rng(spec["seed"])
    taken: set[tuple[int, int]] = set()
    n, threads = spec["likes"], spec["threads"]
    warm, single, parallel = (_unliked_pairs(store, spec["users"], spec["posts"], k, rng, taken) for k in (1, n, n))
    first_like_s = _timed(lambda: _like_all(store, warm, []))[0]  # pays TinyDB's next-id scan of the likes table
    latencies: list[float] = []
    cpu = time.process_time()
    single_s = _timed(lambda: _like_all(store, single, latencies))[0]
    cpu_per_like_ms = (time.process_time() - cpu) / n * 1000
    workers = [threading.Thread(target=_like_all, args=(store, parallel[i::threads], [])) for i in range(threads)]
    start = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    parallel_s = time.perf_counter() - start
    out["likes"] = {"first_after_open_ms": first_like_s * 1000, "n": n, "per_s": n / single_s,
                    "latency": _ms_stats(latencies), "cpu_ms": cpu_per_like_ms, "threads": threads,
                    "per_s_threads": n / parallel_s, "disk_fdatasync_per_s": fdatasync_per_s(Path(spec["store"]))}
    # The stall a write meets when the journal outgrows the snapshot (private API: a diagnostic only).
    out["compaction_s"] = _timed(store._storage.compact)[0]
    store.close()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def baseline_for_you(db: TinyDB, viewer: int, as_of: float, config: RankingConfig) -> list[int]:
    """The for-you first page by a full scan of stock TinyDB, as of ``as_of``.

    Same visibility rule, tiers, score and author diversity as FeedStore; blocks
    and reports are ignored (the synthetic data has none), which only spares the
    baseline two more reads of the file.
    """
    following: dict[int, set[int]] = defaultdict(set)
    followers: dict[int, set[int]] = defaultdict(set)
    for f in db.table("follows").all():
        following[f["follower_id"]].add(f["followee_id"])
        followers[f["followee_id"]].add(f["follower_id"])

    def friends_of(user: int) -> set[int]:
        return following[user] & followers[user]

    friends = friends_of(viewer)
    tiers: dict[int, int] = {}
    for user in set().union(*(friends_of(f) for f in friends)):
        tiers[user] = FRIEND_OF_FRIEND
    for user in following[viewer]:
        tiers[user] = FOLLOWING
    for user in friends | {viewer}:
        tiers[user] = OWN_OR_FRIEND

    likes: dict[int, int] = defaultdict(int)
    comments: dict[int, int] = defaultdict(int)
    remixes: dict[int, int] = defaultdict(int)
    for like in db.table("likes").all():
        if like["created_at"] <= as_of:
            likes[like["post_id"]] += 1
    for c in db.table("comments").all():
        if c["deleted_at"] is None and c["created_at"] <= as_of:
            comments[c["post_id"]] += 1
    posts = db.table("posts").all()
    for p in posts:
        if p["parent_id"] is not None and p["published_at"] is not None and p["published_at"] <= as_of \
                and p["deleted_at"] is None:
            remixes[p["parent_id"]] += 1

    scored = []
    for p in posts:
        tier = tiers.get(p["author_id"], EVERYONE)
        visible = p["visibility"] == "public" or (p["visibility"] == "friends" and tier == OWN_OR_FRIEND)
        live = p["published_at"] is not None and p["published_at"] <= as_of and \
            (p["deleted_at"] is None or p["deleted_at"] > as_of)
        if visible and live:
            engagement = (config.like_weight * math.log1p(likes[p.doc_id])
                          + config.comment_weight * math.log1p(comments[p.doc_id])
                          + config.remix_weight * math.log1p(remixes[p.doc_id]))
            age_hours = max(as_of - p["published_at"], 0.0) / 3600.0
            score = config.affinity[tier] * (1.0 + engagement) / (age_hours + config.age_offset_hours) ** config.gravity
            scored.append((-score, -p.doc_id, p["author_id"]))
    scored.sort()
    author_of = {-post: author for _, post, author in scored}
    authors = np.zeros(max(author_of) + 1, dtype=np.int64)
    authors[list(author_of)] = list(author_of.values())
    ranked = np.asarray([-post for _, post, _ in scored], dtype=np.int64)
    return diversify(ranked, authors, config.max_consecutive_per_author, PAGE)[0]


def worker_baseline(spec: dict[str, Any]) -> dict[str, Any]:
    """Stock TinyDB: cold open, full-scan feeds and whole-file likes, then the process's peak memory."""
    start = time.perf_counter()
    db = TinyDB(spec["baseline"])
    tables = {name: db.table(name).all() for name in DATA_TABLES}
    out: dict[str, Any] = {"open_s": time.perf_counter() - start, "open_reads": len(tables),
                           "rss_after_open_mb": peak_rss_mb()}
    config = RankingConfig()
    pages, seconds = {}, []
    for viewer in spec["check_viewers"]:
        elapsed, pages[str(viewer)] = _timed(lambda: baseline_for_you(db, viewer, spec["as_of"], config))
        seconds.append(elapsed)
    out["feed"] = {"for_you_first": _ms_stats(seconds)}
    out["check_pages"] = pages

    liked = {(like["user_id"], like["post_id"]) for like in tables["likes"]}
    public = [p.doc_id for p in tables["posts"] if p["visibility"] == "public"]
    rng = np.random.default_rng(spec["seed"])
    pairs: list[tuple[int, int]] = []
    while len(pairs) < spec["baseline_likes"]:
        pair = (int(rng.integers(1, len(tables["users"]) + 1)), public[int(rng.integers(len(public)))])
        if pair not in liked and pair not in pairs:
            pairs.append(pair)
    del tables, liked, public
    likes = db.table("likes")
    latencies = []
    for user, post in pairs:
        latencies.append(_timed(lambda: likes.insert({"user_id": user, "post_id": post, "created_at": time.time()}))[0])
    out["likes"] = {"n": len(latencies), "per_s": len(latencies) / sum(latencies), "latency": _ms_stats(latencies)}
    db.close()
    out["peak_rss_mb"] = peak_rss_mb()
    return out


WORKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "open": worker_open, "feedstore": worker_feedstore, "baseline": worker_baseline}


def _busy_cpu_s() -> float:
    """CPU-seconds the whole machine has spent busy since boot (hypervisor steal included)."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + t.steal


def run_worker(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh Python process and return its JSON result.

    The result's ``other_load`` is how many CPUs the rest of the machine kept
    busy meanwhile, on average: the machine's busy time minus the worker's own.
    """
    busy, child, start = _busy_cpu_s(), resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--worker", kind, "--spec", json.dumps(spec)],
                          check=True, stdout=subprocess.PIPE, text=True)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    own = after.ru_utime + after.ru_stime - child.ru_utime - child.ru_stime
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["other_load"] = max(0.0, _busy_cpu_s() - busy - own) / wall
    return result


# -- running the workers and reporting ---------------------------------------------------------------------

def _fresh_copy(source: Path, target: Path) -> None:
    """Copy the pristine dataset, then flush it so background writeback does not disturb the timings."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    os.sync()


def _verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def _p50_p95(stats: dict[str, float]) -> str:
    return f"{stats['p50_ms']:.2f} / {stats['p95_ms']:.2f} ms"


def report(manifest: dict[str, Any], fs: dict[str, Any], opens: list[dict[str, Any]], base: dict[str, Any],
           files: dict[str, float], elapsed_s: float) -> dict[str, Any]:
    """Print the table and return every figure (for the JSON line)."""
    counts, graph, vis = manifest["counts"], manifest["graph"], manifest["visibility"]
    open_s = statistics.median(o["open_s"] for o in opens)
    feed, base_feed = fs["feed"]["for_you_first"], base["feed"]["for_you_first"]
    likes, base_likes = fs["likes"], base["likes"]
    feed_speedup = base_feed["p95_ms"] / feed["p95_ms"]
    likes_speedup = likes["per_s"] / base_likes["per_s"]
    checked = base["check_pages"]
    same = sum(fs["check_pages"][v] == checked[v] for v in checked)
    stats_ok = fs["stats"] == {"users": counts["users"], "videos": manifest["published_posts"],
                               "likes": counts["likes"], "comments": counts["comments"]}
    targets = {
        "feed_p95": feed["p95_ms"] <= TARGET_FEED_P95_MS,
        "feed_speedup": feed_speedup >= TARGET_FEED_SPEEDUP,
        "likes_per_s": likes["per_s"] >= TARGET_LIKES_PER_S,
        "likes_speedup": likes_speedup >= TARGET_LIKES_SPEEDUP,
        "cold_open": open_s <= TARGET_COLD_OPEN_S,
    }
    load = {"cold_opens": statistics.median(o["other_load"] for o in opens), "feedstore": fs["other_load"],
            "baseline": base["other_load"]}

    print(f"\nDreamreel feed store benchmark, seed {manifest['seed']}")
    print(f"community: {counts['users']:,} users; {counts['follows']:,} follows ({graph['follows_per_user']:.1f} per "
          f"user, {graph['mutual_share']:.0%} mutual, {graph['friends_per_user']:.1f} friends per user, median "
          f"{graph['friends_of_friends_median']:.0f} friends of friends); {counts['posts']:,} posts ({vis['public']:,} "
          f"public, {vis['friends']:,} friends-only, {vis['draft']:,} drafts, {manifest['remixes']:,} remixes); "
          f"{counts['likes']:,} likes; {counts['comments']:,} comments")
    print(f"files: snapshot.json {files['snapshot_mb']:.0f} MB, stock TinyDB db.json {files['baseline_mb']:.0f} MB; "
          f"posts span 30 days up to {(time.time() - manifest['anchor']) / 3600:.1f} h ago; OS page cache warm")
    print(f"checks: FeedStore.stats() matches the generated data: {_verdict(stats_ok)}; first pages as of one "
          f"moment identical to the baseline's: {same}/{len(checked)} viewers\n")

    rows = [
        ("for_you first page p50 / p95", _p50_p95(feed), f"{base_feed['p50_ms']:,.0f} / {base_feed['p95_ms']:,.0f} ms",
         f"{feed_speedup:,.0f}x", f"p95 <= {TARGET_FEED_P95_MS:.0f} ms, >= {TARGET_FEED_SPEEDUP:.0f}x",
         _verdict(targets["feed_p95"] and targets["feed_speedup"])),
        ("for_you first page p99 / max", f"{feed['p99_ms']:.2f} / {feed['max_ms']:.2f} ms", "", "", "", ""),
        ("for_you second page p50 / p95", _p50_p95(fs["feed"]["for_you_second"]), "", "", "", ""),
        ("following_feed p50 / p95", _p50_p95(fs["feed"]["following"]), "", "", "", ""),
        ("latest p50 / p95", _p50_p95(fs["feed"]["latest"]), "", "", "", ""),
        ("durable likes/s, 1 thread", f"{likes['per_s']:,.0f}/s", f"{base_likes['per_s']:.3f}/s",
         f"{likes_speedup:,.0f}x", f">= {TARGET_LIKES_PER_S:,.0f}/s, >= {TARGET_LIKES_SPEEDUP:.0f}x",
         _verdict(targets["likes_per_s"] and targets["likes_speedup"])),
        (f"durable likes/s, {likes['threads']} threads", f"{likes['per_s_threads']:,.0f}/s", "", "", "", ""),
        ("like latency p50 / p99", f"{likes['latency']['p50_ms']:.2f} / {likes['latency']['p99_ms']:.2f} ms",
         f"{base_likes['latency']['p50_ms']:,.0f} ms (p50)", "", "", ""),
        ("like CPU time (rest is fdatasync)", f"{likes['cpu_ms']:.3f} ms", "", "", "", ""),
        ("disk ceiling: bare append+fdatasync", f"{likes['disk_fdatasync_per_s']:,.0f}/s", "", "", "", ""),
        ("first like after open", f"{likes['first_after_open_ms']:.0f} ms", "", "", "", ""),
        ("cold open", f"{open_s:.2f} s", f"{base['open_s']:.2f} s", f"{base['open_s'] / open_s:.1f}x",
         f"<= {TARGET_COLD_OPEN_S:.0f} s", _verdict(targets["cold_open"])),
        ("RSS after open", f"{statistics.median(o['peak_rss_mb'] for o in opens):,.0f} MB",
         f"{base['rss_after_open_mb']:,.0f} MB", "", "", ""),
        ("peak RSS (open, feeds, likes)", f"{fs['peak_rss_mb']:,.0f} MB", f"{base['peak_rss_mb']:,.0f} MB", "", "", ""),
        ("journal compaction (stalls one write)", f"{fs['compaction_s']:.2f} s", "", "", "", ""),
    ]
    header = ("metric", "FeedStore", "stock TinyDB", "speedup", "target", "met")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())

    runs = ", ".join(f"{o['open_s']:.2f}" for o in opens)
    print(f"\nFeedStore: feeds for {feed['n']} random viewers, warm; {likes['n']:,} likes per setting on distinct "
          f"unliked pairs; cold open = median of {len(opens)} fresh processes ({runs} s).")
    print(f"stock TinyDB: feeds for {len(checked)} of those viewers only, each request re-parsing the JSON file for "
          f"follows, likes, comments and posts; {base_likes['n']} likes, each re-parsing, rewriting and fsyncing "
          f"the file; cold open = TinyDB(path) + .all() of its {base['open_reads']} tables (one parse each).")
    busy = max(load["cold_opens"], load["feedstore"]) > 0.25
    print(f"rest of the machine (other processes, kernel threads incl. our writeback) kept busy on average "
          f"{load['cold_opens']:.2f} (cold opens, median), {load['feedstore']:.2f} (FeedStore run), "
          f"{load['baseline']:.2f} (baseline run) of {os.cpu_count()} CPUs"
          + ("; FeedStore figures are pessimistic" if busy else ""))
    met = all(targets.values())
    missed = ", ".join(k for k, ok in targets.items() if not ok)
    print(f"all targets met: {_verdict(met)}{f' (missed: {missed})' if missed else ''}; "
          f"benchmark took {elapsed_s:.0f} s")

    def without_pages(result: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in result.items() if k != "check_pages"}

    return {"seed": manifest["seed"], "sizes": manifest["sizes"], "counts": counts, "graph": graph, "files": files,
            "stats_match": stats_ok, "first_pages_identical": [same, len(checked)],
            "feedstore": {**without_pages(fs), "cold_open_s": open_s, "cold_open_runs": opens},
            "baseline": without_pages(base), "speedup": {"feed_p95": feed_speedup, "likes_per_s": likes_speedup},
            "other_load_cpus": load, "targets_met": targets, "all_targets_met": met}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="1k users, 10k posts, 100k likes, 10k comments")
    for name in ("users", "posts", "likes", "comments"):
        parser.add_argument(f"--{name}", type=int, help=f"override the number of {name}")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--viewers", type=int, default=200, help="viewers timed on FeedStore (default 200)")
    parser.add_argument("--baseline-viewers", type=int, default=5, help="viewers timed on the baseline (default 5)")
    parser.add_argument("--like-count", type=int, default=3000, help="FeedStore likes per setting (default 3000)")
    parser.add_argument("--baseline-likes", type=int, default=3, help="baseline inserts timed (default 3)")
    parser.add_argument("--open-runs", type=int, default=5,
                        help="fresh processes timing FeedStore's open; the median counts (default 5)")
    parser.add_argument("--backend", choices=("tinydb", "both", "postgresql"), default="tinydb",
                        help="tinydb (default): FeedStore against stock TinyDB; both: TinyDB and PostgreSQL side by "
                             "side; postgresql --large: PostgreSQL at 100k users (see benchmarks/backend_bench.py)")
    parser.add_argument("--large", action="store_true", help="with --backend postgresql: the large community")
    parser.add_argument("--explain", action="store_true", help="with --large: EXPLAIN ANALYZE the hot queries")
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.backend != "tinydb" and not args.worker:
        import backend_bench

        passed = ["--backend", args.backend, "--seed", str(args.seed), "--viewers", str(args.viewers),
                  "--like-count", str(args.like_count)] + ["--large"] * args.large + ["--small"] * args.small + ["--explain"] * args.explain
        backend_bench.main(passed)
        return
    if args.worker:
        print(json.dumps(WORKERS[args.worker](json.loads(args.spec))))
        return

    if SCHEMA_VERSION != WRITTEN_SCHEMA:  # opening would migrate the data and time the migration
        parser.error(f"feed_store is at schema {SCHEMA_VERSION}; update to_tables(), written for {WRITTEN_SCHEMA}")
    started = time.perf_counter()
    base_sizes = SMALL if args.small else FULL
    sizes = Sizes(**{name: getattr(args, name) or getattr(base_sizes, name)
                     for name in ("users", "posts", "likes", "comments")})
    folder, manifest = ensure_dataset(sizes, args.seed)
    run_dir = OUT_DIR / "run"
    _fresh_copy(folder, run_dir)
    files = {"snapshot_mb": (run_dir / "store" / SNAPSHOT_NAME).stat().st_size / 1e6,
             "baseline_mb": (run_dir / "baseline" / "db.json").stat().st_size / 1e6}

    rng = np.random.default_rng(args.seed)
    viewers = (rng.choice(sizes.users, min(args.viewers, sizes.users), replace=False) + 1).tolist()
    spec = {"store": str(run_dir / "store"), "baseline": str(run_dir / "baseline" / "db.json"),
            "viewers": viewers, "check_viewers": viewers[:args.baseline_viewers], "as_of": time.time(),
            "seed": args.seed, "users": sizes.users, "posts": sizes.posts, "likes": args.like_count, "threads": 4,
            "baseline_likes": args.baseline_likes}

    print("timing FeedStore cold opens ...", file=sys.stderr)
    opens = [run_worker("open", spec) for _ in range(args.open_runs)]
    print("timing FeedStore feeds and likes ...", file=sys.stderr)
    fs = run_worker("feedstore", spec)
    print("timing stock TinyDB (slow) ...", file=sys.stderr)
    base = run_worker("baseline", spec)
    figures = report(manifest, fs, opens, base, files, time.perf_counter() - started)
    print(json.dumps(figures, separators=(",", ":")))


if __name__ == "__main__":
    main()
