"""App benchmark: start-up time, and feed, like and comment latency on the benchmark-sized store.

Run ``python benchmarks/app_bench.py`` (``--small`` for the 1k-user store).
It prints a table, then one JSON line.

* **Start-up**: from starting ``python app.py`` on an empty data directory to
  its first HTTP 200, median of ``--starts`` (default 3). Baseline in the same
  run: a bare ``gr.Blocks`` with one Markdown, launched the same way, i.e. the
  floor Gradio itself sets on this machine.
* **Handlers** on the feed benchmark's community (``benchmarks/feed_bench.py``:
  10k users, 500k follows, 100k posts, 1M likes, 100k comments; generated and
  cached on first use): ``python app.py`` on a copy of it, then ``--calls``
  calls each of ``/feed`` (first page of For you), ``/like`` and ``/comment``
  through ``gradio_client`` as a random active user. Reported: server time
  (the ``studio.Studio`` call, timed inside the app process by the same calls
  made in-process on the same store) and the full round trip through the
  queue, p50 and p95.
* **While a video generates**: the same ``/like`` round trips while another
  user's generation runs, against the idle figures above.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from feed_bench import FULL, SMALL, ensure_dataset  # noqa: E402

BARE_APP = "import gradio as gr\nwith gr.Blocks() as demo:\n    gr.Markdown('hello')\ndemo.launch()\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], data_dir: Path) -> tuple[subprocess.Popen, str, float]:
    """Start a server; returns it, its URL and the seconds to its first HTTP 200."""
    port = free_port()
    env = {**os.environ, "DREAMREEL_DATA_DIR": str(data_dir), "DREAMREEL_DEMO": "0", "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, *args], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return process, url, time.perf_counter() - started
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{args} exited with {process.returncode}") from None
            time.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(20)


def startup(runs: int) -> dict:
    times: dict[str, list[float]] = {"app": [], "bare_gradio": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as d:
            script = Path(d) / "bare.py"
            script.write_text(BARE_APP)
            for name, argv in (("app", ["app.py"]), ("bare_gradio", [str(script)])):
                process, _, seconds = start(argv, Path(d) / name)
                times[name].append(seconds)
                stop(process)
    return {name: statistics.median(values) for name, values in times.items()}


def percentiles(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def session_for(data_dir: Path, user_id: int) -> str:
    """A session token for a benchmark user, signed with the instance's secret (as the operator can)."""
    from feed_store import FeedStore
    from studio.accounts import Accounts

    store = FeedStore(data_dir / "store")
    try:
        return Accounts(store, data_dir / "secret.key").session_for(user_id)
    finally:
        store.close()


def public_posts_and_users(data_dir: Path, count: int) -> tuple[list[int], list[int]]:
    """20 random users and ``count`` recent public posts that each of them may see, like and comment on."""
    from feed_store import FeedStore

    store = FeedStore(data_dir / "store")
    rng = np.random.default_rng(1)
    users = rng.choice(np.arange(1, store.stats()["users"] + 1), size=20, replace=False).tolist()
    posts = [item.post["id"] for item in store.latest(None, limit=100).items
             if not any(store.is_blocked(u, item.post["author_id"]) for u in users)][:count]
    store.close()
    return users, posts


def in_process(data_dir: Path, users: list[int], posts: list[int], calls: int) -> dict:
    """The Studio calls behind the three endpoints, timed on the same store (server compute only)."""
    from feed_store import FeedStore
    from feed_store.media import MediaFolder
    from pipeline.provenance import Provenance
    from studio.service import Studio

    store = FeedStore(data_dir / "store")
    studio = Studio(store, MediaFolder(data_dir / "media"), cameos=None, load_model=lambda: None,
                    provenance=Provenance.for_instance(data_dir / "provenance"))
    timings: dict[str, list[float]] = {"feed": [], "like": [], "comment": []}
    for i in range(calls):
        user, post = users[i % len(users)], posts[i % len(posts)]
        for name, call in (("feed", lambda: studio.feed(user, "For you")),
                           ("like", lambda: studio.toggle_like(user, post)),
                           ("comment", lambda: studio.comment(user, post, "benchmark comment"))):
            t = time.perf_counter()
            call()
            timings[name].append(time.perf_counter() - t)
    store.close()
    return {name: percentiles(v) for name, v in timings.items()}


def round_trips(url: str, sessions: list[str], posts: list[int], calls: int, endpoints=("feed", "like", "comment")
                ) -> dict:
    from gradio_client import Client

    client = Client(url + "/", verbose=False)
    timings: dict[str, list[float]] = {name: [] for name in endpoints}
    for i in range(calls):
        session, post = sessions[i % len(sessions)], posts[i % len(posts)]
        arguments = {"feed": (session, "For you", ""), "like": (session, post), "comment": (session, post, "bench")}
        for name in endpoints:
            t = time.perf_counter()
            client.predict(*arguments[name], api_name=f"/{name}")
            timings[name].append(time.perf_counter() - t)
    return {name: percentiles(v) for name, v in timings.items()}


def likes_while_generating(url: str, sessions: list[str], posts: list[int]) -> dict:
    """``/like`` round trips from other users for as long as one user's 50-step generation runs."""
    from gradio_client import Client

    maker, liker = Client(url + "/", verbose=False), Client(url + "/", verbose=False)
    maker.predict(sessions[-1], "warm-up", 1, 1, api_name="/generate")  # the model loads outside the measure
    job = maker.submit(sessions[-1], "a red ball moving left on a frozen lake", 1, 50, api_name="/generate")
    timings = []
    while not job.done() or len(timings) < 5:
        session, post = sessions[len(timings) % (len(sessions) - 1)], posts[len(timings) % len(posts)]
        t = time.perf_counter()
        liker.predict(session, post, api_name="/like")
        timings.append(time.perf_counter() - t)
    job.result()
    return {"like": percentiles(timings), "calls": len(timings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()

    boot = startup(args.starts)
    sizes = SMALL if args.small else FULL
    dataset, manifest = ensure_dataset(sizes, 42)
    with tempfile.TemporaryDirectory() as d:
        data_dir = Path(d)
        shutil.copytree(dataset / "store", data_dir / "store")
        users, posts = public_posts_and_users(data_dir, args.calls)
        server = in_process(data_dir, users, posts, args.calls)
        sessions = [session_for(data_dir, u) for u in users]
        process, url, _ = start(["app.py"], data_dir)
        try:
            idle = round_trips(url, sessions, posts[::-1], args.calls)
            busy = likes_while_generating(url, sessions, posts)
        finally:
            stop(process)

    print(f"start-up to first HTTP 200: app {boot['app']:.2f} s (bare Gradio {boot['bare_gradio']:.2f} s)")
    print(f"store: {manifest['counts']}")
    print(f"{'':10} {'server p50':>11} {'p95':>8} {'round trip p50':>15} {'p95':>8}")
    for name in ("feed", "like", "comment"):
        s, r = server[name], idle[name]
        print(f"{name:10} {s['p50_ms']:9.1f}ms {s['p95_ms']:6.1f}ms {r['p50_ms']:13.1f}ms {r['p95_ms']:6.1f}ms")
    print(f"like while a video generates: p50 {busy['like']['p50_ms']:.1f} ms, p95 {busy['like']['p95_ms']:.1f} ms")
    print(json.dumps({"startup_s": boot, "server": server, "round_trip": idle, "while_generating": busy}))


if __name__ == "__main__":
    main()
