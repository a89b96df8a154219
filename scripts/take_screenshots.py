"""Screenshots of every screen, at phone (390x844) and desktop (1280x900) size, for the README.

``python scripts/take_screenshots.py`` writes ``docs/screenshots/<phone|desktop>-<screen>.png``. It starts
``python app.py`` on a fresh data directory with the demo community, waits until the demo videos are in, signs
up ana with one of the printed invite codes, makes her cameo from a real head-turn clip, has mira use it and like
her video (so her Activity has something to show), and photographs each screen in Debian's chromium as a person
would reach it: through the bottom bar, the video's rail and its sheets.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from gradio_client import Client, handle_file
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
OUT = REPO / "docs" / "screenshots"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
PASSWORD = "ana's long password"


def start(data: str) -> tuple[subprocess.Popen, str, list[str]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DREAMREEL_DATA_DIR": data, "GRADIO_SERVER_PORT": str(port), "PYTHONUNBUFFERED": "1",
           "DREAMREEL_BREAK_AFTER": "0"}
    app = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(app.stdout.readline, "")), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    while not any("Invite codes:" in line for line in lines):
        time.sleep(0.5)
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return app, url, lines
        except OSError:
            time.sleep(0.5)


def main() -> None:
    import face_clips

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        app, url, lines = start(data)
        try:
            invites = re.search(r"Invite codes: (.+)", "".join(lines))[1].split(", ")
            admin_password = re.search(r"password (\S+)", "".join(lines))[1]
            client = Client(url + "/", verbose=False)
            while len(client.predict("", "Latest", "", api_name="/feed")["posts"]) < 8:
                time.sleep(2)
            ana = client.predict("ana", PASSWORD, invites[0], api_name="/sign_up")
            client.predict(ana, "mira", api_name="/follow")
            first = client.predict(ana, api_name="/cameo_challenge")
            clip = face_clips.turn_clip(Path(data) / "ana.mp4", "grace", (first, "right" if first == "left" else "left"))
            client.predict(ana, handle_file(str(clip)), False, api_name="/create_cameo")
            client.predict(ana, "everyone", None, None, api_name="/cameo_permission")
            draft = client.predict(ana, "@ana jumping on a beach at sunset", 4, None, api_name="/generate")
            client.predict(ana, draft["id"], "public", False, api_name="/publish")
            client.predict(ana, "a yellow bird circling in a forest", 5, None, api_name="/generate")  # a draft
            cat = client.predict("cat", "cat's long password", invites[1], api_name="/sign_up")
            client.predict(cat, draft["id"], api_name="/like")
            client.predict(cat, "@ana surfing a wave at the beach", 6, None, api_name="/generate")
            reported = client.predict("", "Latest", "", api_name="/feed")["posts"][-1]
            client.predict(ana, "post", reported["id"], "spam", api_name="/report")
            video_file = draft["video_url"].split("file=", 1)[1]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=["--autoplay-policy=no-user-gesture-required"])
                for size, viewport in SIZES.items():
                    shoot(browser, url, size, viewport, video_file, draft["id"], admin_password)
                browser.close()
        finally:
            app.terminate()
            app.wait(20)


def shoot(browser, url: str, size: str, viewport: dict, video_file: str, post_id: int, admin_password: str) -> None:
    """Every screen at one size, reached through the page as a person would."""
    from page_helpers import go, open_feed, sign_in

    context = browser.new_context(viewport=viewport)
    page = context.new_page()

    def snap(name: str, wait: float = 1.5) -> None:
        page.wait_for_timeout(wait * 1000)
        page.screenshot(path=str(OUT / f"{size}-{name}.png"))

    page.goto(url)
    page.locator(".dr-slide").first.wait_for(timeout=60_000)
    snap("feed-signed-out", 3)
    page.goto(f"{url}/?post={post_id}")
    page.locator(".dr-banner").wait_for(timeout=30_000)
    snap("shared-link", 3)

    sign_in(page, type("App", (), {"url": url}), "ana", PASSWORD)
    snap("feed", 3)
    first = page.locator(".dr-slide").first
    first.locator(".dr-open-comments").click()
    page.locator(".dr-comment-list .dr-comment, .dr-comment-list .dr-sheet-text").first.wait_for(timeout=20_000)
    snap("comments")
    page.locator(".dr-sheet .dr-close").click()
    first.locator(".dr-more").click()
    page.locator(".dr-why-button").click()
    snap("why-you-see-this", 0.5)
    page.locator(".dr-sheet .dr-close").click()
    page.locator(".dr-tune").click()
    page.locator(".dr-wishes").fill("more birds and beaches, fewer cars")
    snap("tune-my-feed", 0.5)
    page.locator(".dr-save-wishes").click()
    page.wait_for_timeout(1500)
    open_feed(page, "Following")
    snap("following")
    open_feed(page, "For you")
    page.locator(".dr-slide").first.locator(".dr-remix").click()
    page.get_by_label("New prompt").wait_for(timeout=20_000)
    snap("remix", 3)
    for section in ("Create", "Cameo", "Activity", "Profile", "Me"):
        go(page, section)
        snap(section.lower(), 3)
    go(page, "Me")
    page.get_by_text("Your data").click()
    page.get_by_role("button", name="Download my data").click()
    page.locator('a[download^="dreamreel-ana"]').wait_for(timeout=60_000)
    page.get_by_label("Type your handle to confirm").scroll_into_view_if_needed()
    snap("your-data")
    page.get_by_role("button", name="Verify a video").click()
    page.locator("#verify-upload input[type=file]").set_input_files(video_file)
    page.get_by_role("button", name="Check this video").click()
    page.locator("#verify-result").get_by_text("Made on this Dreamreel instance").wait_for(timeout=60_000)
    snap("verify")
    context.close()

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    sign_in(page, type("App", (), {"url": url}), "admin", admin_password)
    go(page, "Me")
    page.get_by_role("button", name="Moderation").click()
    page.locator(".dr-report-row").first.wait_for(timeout=30_000)
    snap("moderation")
    context.close()


if __name__ == "__main__":
    main()
