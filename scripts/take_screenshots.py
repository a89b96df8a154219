"""Screenshots of each tab for the README: ``python scripts/take_screenshots.py`` (writes docs/screenshots/).

Starts ``python app.py`` on a fresh data directory with the demo community,
waits until the demo videos are in, signs up a user with one of the printed
invite codes, makes a cameo from a real head-turn clip, and photographs every
tab in Debian's chromium: the Verify tab checking one of the user's videos, and
the Moderation tab as the admin sees a report.
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
TABS = ("Feed", "Create", "Remix", "Cameo", "Profile", "Account")


def main() -> None:
    import face_clips

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        env = {**os.environ, "DREAMREEL_DATA_DIR": data, "GRADIO_SERVER_PORT": str(port), "PYTHONUNBUFFERED": "1"}
        app = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        threading.Thread(target=lambda: lines.extend(iter(app.stdout.readline, "")), daemon=True).start()
        url = f"http://127.0.0.1:{port}"
        try:
            while not any("Invite codes:" in line for line in lines):
                time.sleep(0.5)
            invites = re.search(r"Invite codes: (.+)", "".join(lines))[1].split(", ")
            admin_password = re.search(r"password (\S+)", "".join(lines))[1]
            while True:
                try:
                    urllib.request.urlopen(url, timeout=2)
                    break
                except OSError:
                    time.sleep(0.5)
            client = Client(url + "/", verbose=False)
            while len(client.predict("", "Latest", "", api_name="/feed")["posts"]) < 8:
                time.sleep(2)
            me = client.predict("ana", "ana's long password", invites[0], api_name="/sign_up")
            client.predict(me, "mira", api_name="/follow")
            first = client.predict(me, api_name="/cameo_challenge")
            clip = face_clips.turn_clip(Path(data) / "ana.mp4", "grace", (first, "right" if first == "left" else "left"))
            client.predict(me, handle_file(str(clip)), False, api_name="/create_cameo")
            draft = client.predict(me, "@ana jumping on a beach at sunset", 4, None, api_name="/generate")
            client.predict(me, draft["id"], "public", False, api_name="/publish")
            reported = client.predict("", "Latest", "", api_name="/feed")["posts"][-1]
            client.predict(me, "post", reported["id"], "spam", api_name="/report")
            shoot(url, "ana", "ana's long password", TABS)
            shoot(url, "ana", "ana's long password", ("Verify",), upload=draft["video_url"].split("file=", 1)[1])
            shoot(url, "admin", admin_password, ("Moderation",))
        finally:
            app.terminate()
            app.wait(20)


def shoot(url: str, handle: str, password: str, tabs: tuple[str, ...], upload: str | None = None) -> None:
    """Sign in and photograph ``tabs``; with ``upload``, check that video in the Verify tab first."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1100, "height": 1300})
        page.goto(url)
        page.get_by_role("tab", name="Account").click()
        page.get_by_label("Your handle").fill(handle)
        page.get_by_label("Your password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text(f"Signed in as @{handle}").wait_for()
        for tab in tabs:
            page.get_by_role("tab", name=tab).click()
            if upload is not None:
                page.locator("#verify-upload input[type=file]").set_input_files(upload)
                page.get_by_role("button", name="Check this video").click()
                page.locator("#verify-result p").first.wait_for(timeout=60_000)
            page.wait_for_timeout(2500)
            page.screenshot(path=str(OUT / f"{tab.lower()}.png"))
            print("wrote", OUT / f"{tab.lower()}.png")
        browser.close()


if __name__ == "__main__":
    main()
