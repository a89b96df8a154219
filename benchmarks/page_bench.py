"""Page benchmark: how soon the feed plays, in Debian's chromium, on a fresh instance with the demo community.

Run ``python benchmarks/page_bench.py`` (``--loads N`` page loads, default 10). It prints a table, then one JSON
line. Targets (issue 13): the first video plays within 2 s of the page load starting, and the next video starts
within 300 ms of snapping into view.

* **First video playing**: from navigation start to the first ``playing`` event of a feed video, in a fresh
  browser context each time (no cache), at phone size (390x844). Baseline in the same run: a bare ``gr.Blocks``
  page with one autoplaying ``gr.Video`` of the same demo file, served the same way: the floor that Gradio and the
  browser set for "a page that plays a video".
* **Next video starts**: after the first plays, the feed is scrolled one screen; measured from the scroll to the
  next video's ``playing`` event, for each of the following videos in turn.

Both are read from the page's own clock (``performance.now()``), so the test driver's latency is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
RECORD_PLAYING = """
window.__playing = {};
document.addEventListener('playing', (e) => {
  const id = e.target.dataset.id || 'video';
  if (!(id in window.__playing)) window.__playing[id] = performance.now();
}, true);
"""
BARE_APP = """
import sys
import gradio as gr
with gr.Blocks() as demo:
    gr.Video(sys.argv[1], autoplay=True, loop=True)
demo.launch(allowed_paths=[sys.argv[1]])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False",
                                    **env})
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{args} did not start")


def wait_for_demo(url: str, videos: int = 8, timeout: float = 900) -> list[dict]:
    """Wait until the demo community is seeded (the model makes its videos in the background)."""
    from gradio_client import Client

    client = Client(url + "/", verbose=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        posts = client.predict("", "Latest", "", api_name="/feed")["posts"]
        if len(posts) >= videos:
            return posts
        time.sleep(5)
    raise RuntimeError("the demo community was not seeded in time")


def first_playing(browser, url: str, selector: str) -> float:
    """Milliseconds from navigation start to the first video playing, in a fresh context."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.add_init_script(RECORD_PLAYING)
    page.goto(url)
    page.wait_for_function("() => Object.keys(window.__playing).length > 0", timeout=60_000)
    page.locator(selector).first.wait_for()
    value = page.evaluate("() => Math.min(...Object.values(window.__playing))")
    context.close()
    return value


def next_starts(browser, url: str, count: int) -> list[float]:
    """Milliseconds from scrolling one screen to the next video's ``playing``, ``count`` times in a row."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.add_init_script(RECORD_PLAYING)
    page.goto(url)
    page.wait_for_function("() => Object.keys(window.__playing).length > 0", timeout=60_000)
    out = []
    for _ in range(count):
        page.wait_for_timeout(1500)  # watch a little, as a person would: the next one preloads meanwhile
        start = page.evaluate("""() => {
            const list = document.querySelector('.dr-slides');
            const t = performance.now();
            list.scrollBy({top: list.clientHeight, behavior: 'instant'});
            window.__next = document.querySelector('.dr-reel').dataset.active;
            return t; }""")
        try:
            page.wait_for_function(
                """() => { const id = document.querySelector('.dr-reel').dataset.active;
                           return id !== window.__next && (id in window.__playing); }""", timeout=10_000)
        except Exception:
            break  # the end of the feed
        active = page.evaluate("() => document.querySelector('.dr-reel').dataset.active")
        out.append(page.evaluate("id => window.__playing[id]", active) - start)
    context.close()
    return out


def stats(values: list[float]) -> dict:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return {"n": len(values), "p50_ms": round(statistics.median(values), 1), "p95_ms": round(p95, 1),
            "max_ms": round(values[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        app, url = start(["app.py"], {"DREAMREEL_DATA_DIR": str(Path(tmp) / "data"), "DREAMREEL_DEMO": "1"})
        try:
            posts = wait_for_demo(url)
            video = posts[0]["video_url"].split("file=", 1)[1]
            bare, bare_url = start(["-c", BARE_APP, video], {})
            try:
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM,
                                                args=["--autoplay-policy=no-user-gesture-required"])
                    first_playing(browser, url, ".dr-slide")  # warm the server's caches once, like any live page
                    first_playing(browser, bare_url, "video")
                    ours = [first_playing(browser, url, ".dr-slide") for _ in range(args.loads)]
                    floor = [first_playing(browser, bare_url, "video") for _ in range(args.loads)]
                    nexts = [t for _ in range(max(1, args.loads // 3)) for t in next_starts(browser, url, 6)]
                    browser.close()
            finally:
                bare.terminate()
        finally:
            app.terminate()
    out = {"first_video_playing": stats(ours), "bare_gradio_video_playing": stats(floor),
           "next_video_starts": stats(nexts), "targets_ms": {"first": 2000, "next": 300}}
    rows = [("first video playing (page load)", out["first_video_playing"], "<= 2000 ms"),
            ("  baseline: bare gr.Video page", out["bare_gradio_video_playing"], ""),
            ("next video starts after the snap", out["next_video_starts"], "<= 300 ms")]
    print(f"{'measure':40} {'p50':>9} {'p95':>9} {'max':>9}  target")
    for name, s, target in rows:
        print(f"{name:40} {s['p50_ms']:>7.0f}ms {s['p95_ms']:>7.0f}ms {s['max_ms']:>7.0f}ms  {target}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
