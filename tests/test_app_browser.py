"""The page as a short-video app, in a real browser (Debian's chromium through playwright) against ``python app.py``.

At phone size (390x844) and desktop size (1280x900): the video in view plays
and the others are paused; scrolling snaps to the next, which starts; a
double tap likes (and the like survives a reload); the comment sheet posts a
comment another person then sees; Report takes a reason and a confirmation
and the video leaves the reporter's feed; "Why you're seeing this" gives the
ranking's reason; Follow turns into Following; another person's like and use
of one's cameo raise the Activity badge; a draft survives a reload and
publishes; the cameo's head-turn steps survive switching sections and a clip
made to them is accepted; signing out survives a reload; a shared link to a
draft says the video is not available; anyone can verify a video and the
admin takes a reported one down.
"""

from __future__ import annotations

import pytest
from gradio_client import Client, handle_file
from playwright.sync_api import expect

import face_clips
from conftest import app_running, fetch
from page_helpers import (
    DESKTOP, PHONE, feed_ids, go, open_feed, reel_toast, scroll_to_next, sign_in, slide, wait_playing,
)

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """alice and bob are friends; carol follows nobody. alice and bob have published videos, alice has a draft."""
    with app_running(tmp_path_factory.mktemp("feed-app")) as app:
        client = Client(app.url + "/", verbose=False)
        tokens = {h: client.predict(h, PASSWORD, code, api_name="/sign_up")
                  for h, code in zip(("alice", "bob", "carol", "dave"), app.invites)}
        client.predict(tokens["alice"], "bob", api_name="/follow")
        client.predict(tokens["bob"], "alice", api_name="/follow")
        posts = {}
        for name, who, prompt in (("ball", "alice", "a red ball bouncing on a beach at sunset"),
                                  ("car", "bob", "a blue car moving right in a city at night"),
                                  ("bird", "alice", "a yellow bird circling in a forest"),
                                  ("cat", "dave", "a pink cat coming toward the camera in outer space")):
            draft = client.predict(tokens[who], prompt, len(posts), None, api_name="/generate")
            posts[name] = client.predict(tokens[who], draft["id"], "public", False, api_name="/publish")["id"]
        posts["draft"] = client.predict(tokens["alice"], "a green person jumping on the ice", 9, None,
                                        api_name="/generate")["id"]
        yield app, client, tokens, posts


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def screen(request, browser):
    context = browser.new_context(viewport=request.param)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def test_the_video_in_view_plays_and_the_next_starts_when_scrolled_to(screen, world):
    app, *_ = world
    screen.goto(app.url)
    screen.locator(".dr-slide").first.wait_for(timeout=30_000)
    first, second = feed_ids(screen)[:2]
    wait_playing(screen, first)
    box = screen.locator(".dr-reel").bounding_box()
    if screen.viewport_size == PHONE:  # edge to edge, above the bottom bar
        assert box["x"] == 0 and box["width"] == 390 and box["height"] >= 844 - 56 - 1
    else:  # a phone-shaped column in the middle
        assert abs(box["x"] + box["width"] / 2 - 640) < 2 and 0.5 < box["width"] / box["height"] < 0.6
    scroll_to_next(screen)
    wait_playing(screen, second)
    slide(screen, second).click(position={"x": 60, "y": 200})  # one tap pauses
    screen.wait_for_function("id => document.querySelector(`.dr-slide[data-id='${id}'] video`).paused", arg=second)


def test_a_double_tap_likes_and_the_like_survives_a_reload(screen, world):
    app, client, tokens, posts = world
    handle = "carol" if screen.viewport_size == PHONE else "dave"
    sign_in(screen, app, handle, PASSWORD)
    open_feed(screen, "Latest")
    post = slide(screen, posts["ball"])
    post.scroll_into_view_if_needed()
    wait_playing(screen, posts["ball"])
    before = int(post.locator(".dr-like .dr-n").inner_text())
    post.dblclick(position={"x": 80, "y": 240})
    expect(post.locator(".dr-like")).to_have_attribute("aria-pressed", "true")
    expect(post.locator(".dr-heart.dr-burst")).to_have_count(1)
    expect(post.locator(".dr-like .dr-n")).to_have_text(str(before + 1))
    screen.wait_for_timeout(1000)  # the server's answer settles the count
    screen.reload()
    open_feed(screen, "Latest")
    again = slide(screen, posts["ball"])
    expect(again.locator(".dr-like")).to_have_attribute("aria-pressed", "true", timeout=20_000)
    expect(again.locator(".dr-like .dr-n")).to_have_text(str(before + 1))


def test_a_comment_posted_in_the_sheet_is_seen_by_someone_else(screen, world, browser):
    app, *_, posts = world
    sign_in(screen, app, "carol", PASSWORD)
    open_feed(screen, "Latest")
    text = f"so smooth <b>{screen.viewport_size['width']}</b>"
    slide(screen, posts["car"]).locator(".dr-open-comments").click()
    box = screen.locator(".dr-comment-input")
    box.fill(text)
    screen.locator(".dr-send").click()
    screen.locator(".dr-comment-text", has_text=text).wait_for(timeout=20_000)
    expect(box).to_have_value("")  # cleared only once the comment is saved

    other = browser.new_context(viewport=PHONE).new_page()
    sign_in(other, app, "bob", PASSWORD)
    open_feed(other, "Latest")
    slide(other, posts["car"]).locator(".dr-open-comments").click()
    shown = other.locator(".dr-comment-text", has_text=text)
    shown.wait_for(timeout=20_000)
    assert shown.inner_text() == text and other.locator(".dr-comment-list b").count() == 0  # text, not markup
    other.context.close()


def test_report_asks_a_reason_confirms_and_the_video_leaves_the_feed(screen, world):
    app, *_, posts = world
    reporter = "carol" if screen.viewport_size == PHONE else "dave"
    target = posts["bird"] if reporter == "carol" else posts["ball"]
    sign_in(screen, app, reporter, PASSWORD)
    open_feed(screen, "Latest")
    slide(screen, target).locator(".dr-more").click()
    screen.locator(".dr-report-button").click()
    confirm = screen.locator(".dr-confirm-report")
    expect(confirm).to_be_disabled()  # no reason chosen yet: nothing is filed by accident
    screen.locator(".dr-reason", has_text="violence").click()
    confirm.click()
    reel_toast(screen, "Reported")
    expect(slide(screen, target)).to_have_count(0)
    screen.reload()
    open_feed(screen, "Latest")
    screen.locator(".dr-slide").first.wait_for(timeout=20_000)
    assert target not in feed_ids(screen)


def test_why_you_see_this_names_the_friend(screen, world):
    app, *_, posts = world
    sign_in(screen, app, "bob", PASSWORD)
    slide(screen, posts["ball"]).locator(".dr-more").click()
    screen.locator(".dr-why-button").click()
    expect(screen.locator(".dr-why")).to_contain_text("from your friend @alice")


def test_follow_turns_into_following(screen, world):
    app, *_ = world
    who = "carol" if screen.viewport_size == PHONE else "dave"
    sign_in(screen, app, who, PASSWORD)
    screen.locator(".dr-slide .dr-author", has_text="@bob").first.click()
    screen.locator("#dr-profile-head").get_by_text("@bob").wait_for(timeout=20_000)
    followers = screen.locator("#dr-profile-head .dr-stat").nth(1)
    before = int(followers.inner_text().split()[0])
    screen.get_by_role("button", name="Follow", exact=True).click()
    expect(screen.get_by_role("button", name="Following", exact=True)).to_be_visible(timeout=20_000)
    expect(followers).to_have_text(f"{before + 1} followers")


def test_a_like_and_a_cameo_use_raise_the_activity_badge(page, world, tmp_path):
    app, client, tokens, posts = world
    first = client.predict(tokens["alice"], api_name="/cameo_challenge")
    clip = face_clips.turn_clip(tmp_path / "alice.mp4", "grace", (first, "right" if first == "left" else "left"))
    client.predict(tokens["alice"], handle_file(str(clip)), False, api_name="/create_cameo")
    client.predict(tokens["alice"], "everyone", None, None, api_name="/cameo_permission")
    sign_in(page, app, "alice", PASSWORD)
    go(page, "Activity")  # read what there is so far: bob's follow, carol's and dave's likes...
    page.locator(".dr-line").first.wait_for(timeout=20_000)  # shown once they are marked read
    badge = page.locator(".dr-badge-count")
    expect(badge).to_be_hidden()

    client.predict(tokens["dave"], posts["bird"], api_name="/like")
    client.predict(tokens["dave"], "@alice jumping on a frozen lake", 3, None, api_name="/generate")  # a draft
    page.reload()
    expect(badge).to_have_text("2", timeout=30_000)
    go(page, "Activity")
    lines = page.locator(".dr-line")
    expect(lines.filter(has_text="@dave liked your video")).to_have_count(1)
    expect(lines.filter(has_text="@dave made a video with your cameo")).to_have_count(1)
    expect(badge).to_be_hidden()
    lines.filter(has_text="made a video with your cameo").click()  # the owner sees others' drafts with her
    go_back = page.locator(".dr-slide .dr-badge", has_text="draft")
    go_back.first.wait_for(timeout=20_000)


def test_a_draft_survives_a_reload_and_publishes(page, world):
    app, client, tokens, posts = world
    sign_in(page, app, "alice", PASSWORD)
    page.reload()
    go(page, "Create")
    tile = page.locator(f'#dr-drafts .dr-tile[data-id="{posts["draft"]}"]')
    tile.wait_for(timeout=20_000)
    tile.click()
    draft = slide(page, posts["draft"])
    expect(draft.locator(".dr-badge", has_text="draft")).to_have_count(1, timeout=20_000)
    draft.locator(".dr-more").click()
    page.locator(".dr-publish-public").click()
    reel_toast(page, "Published to everyone")
    expect(draft.locator(".dr-badge", has_text="draft")).to_have_count(0)
    bob = Client(app.url + "/", verbose=False)
    latest = bob.predict(tokens["bob"], "Latest", "", api_name="/feed")
    assert posts["draft"] in [p["id"] for p in latest["posts"]]


def test_the_cameo_steps_survive_switching_sections_and_a_clip_made_to_them_is_accepted(page, world, tmp_path):
    app, *_ = world
    sign_in(page, app, "carol", PASSWORD)
    go(page, "Cameo")
    steps = page.locator("ol").filter(has_text="Turn your head to your")
    steps.wait_for(timeout=20_000)
    told = steps.inner_text()
    for section in ("Home", "Profile", "Cameo"):
        go(page, section)
    expect(steps).to_have_text(told)
    first = "left" if "to your left" in told.split("\n")[1] else "right"
    clip = face_clips.turn_clip(tmp_path / "carol.mp4", "astronaut", (first, "right" if first == "left" else "left"))
    page.locator("#cameo-recording input[type=file]").set_input_files(str(clip))
    page.get_by_role("button", name="Make my cameo").click()
    page.get_by_text("Your cameo is ready").wait_for(timeout=120_000)
    expect(page.get_by_text("Who may use it: Only me")).to_be_visible()


def test_signing_out_survives_a_reload(page, world):
    app, *_ = world
    sign_in(page, app, "dave", PASSWORD)
    go(page, "Me")
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_text("Signed out").first.wait_for(state="attached", timeout=20_000)
    page.reload()
    page.locator(".dr-slide").first.wait_for(timeout=20_000)
    slide_like = page.locator(".dr-slide .dr-like").first
    slide_like.click()
    page.get_by_text("Sign in to like videos").wait_for(timeout=10_000)  # a sign-in prompt, not an error


def test_a_shared_link_to_a_draft_says_the_video_is_not_available(page, world):
    app, client, tokens, posts = world
    hidden = client.predict(tokens["bob"], "a purple car moving right in a city at night", 4, None,
                            api_name="/generate")
    page.goto(f"{app.url}/?post={hidden['id']}")
    page.locator(".dr-banner").get_by_text("This video isn't available").wait_for(timeout=30_000)
    assert hidden["id"] not in feed_ids(page)
    page.goto(f"{app.url}/?post={posts['car']}")  # a published one opens first, with a way in
    page.locator(".dr-banner").get_by_text("Shared with you").wait_for(timeout=30_000)
    assert feed_ids(page)[0] == posts["car"]
    wait_playing(page, posts["car"])
    expect(page.locator(".dr-banner .dr-join")).to_be_visible()


def test_anyone_can_verify_a_video_and_the_admin_takes_a_reported_one_down(page, world):
    app, client, tokens, posts = world
    post = client.predict(tokens["dave"], "a white skater sliding to the left on a frozen lake", 2, None,
                          api_name="/generate")
    client.predict(tokens["dave"], post["id"], "public", False, api_name="/publish")
    client.predict(tokens["carol"], "post", post["id"], "spam", api_name="/report")
    video_file = post["video_url"].split("file=", 1)[1]

    page.goto(app.url)  # signed out
    page.locator(".dr-slides").wait_for(timeout=30_000)
    go(page, "Me")
    page.get_by_role("button", name="Verify a video").click()
    page.locator("#verify-upload input[type=file]").set_input_files(video_file)
    page.get_by_role("button", name="Check this video").click()
    result = page.locator("#verify-result")
    result.get_by_text("Made on this Dreamreel instance").wait_for(timeout=60_000)
    assert f"Post #{post['id']} by @dave" in result.inner_text() and "signed by this instance" in result.inner_text()
    expect(page.get_by_role("button", name="Moderation")).to_be_hidden()

    sign_in(page, app, "admin", app.admin_password)
    go(page, "Me")
    page.get_by_role("button", name="Moderation").click()
    rows = page.locator(".dr-report-row").filter(has_text=f"video #{post['id']} by @dave")
    row = rows.first
    row.wait_for(timeout=20_000)
    assert "reported by @carol" in row.inner_text() and "spam" in row.inner_text()
    row.get_by_role("button", name="Take down").click()
    expect(rows).to_have_count(0, timeout=20_000)
    page.get_by_text(f"take_down post #{post['id']}").wait_for(timeout=20_000)
    assert fetch(app, post["video_url"]) in (403, 404)


def test_your_data_downloads_and_the_account_deletes_from_the_page(page, world, tmp_path):
    app, client, tokens, posts = world
    erin = client.predict("erin", PASSWORD, app.invites[4], api_name="/sign_up")
    mine = client.predict(erin, "a silver kite over a green hill", 8, None, api_name="/generate")
    client.predict(erin, mine["id"], "public", False, api_name="/publish")
    sign_in(page, app, "erin", PASSWORD)
    go(page, "Me")
    page.get_by_text("Your data").click()
    page.get_by_role("button", name="Download my data").click()
    link = page.locator('a[download^="dreamreel-erin"]')
    link.wait_for(timeout=60_000)
    with page.expect_download() as download:
        link.click()
    path = tmp_path / "export.zip"
    download.value.save_as(path)
    import json
    import zipfile
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data.json"))
        assert [p["prompt"] for p in data["posts"]] == ["a silver kite over a green hill"]
        assert any(n.endswith(".mp4") for n in archive.namelist())

    page.get_by_label("Your password (none if you signed in with Hugging Face)").fill("wrong password")
    page.get_by_label("Type your handle to confirm").fill("erin")
    page.get_by_role("button", name="Delete my account and everything in it").click()
    page.locator("[data-testid=toast-text]").filter(has_text="Wrong password").wait_for(timeout=20_000)
    page.get_by_label("Your password (none if you signed in with Hugging Face)").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account and everything in it").click()
    page.wait_for_function("() => document.querySelector('#dr-sections button[role=tab].selected')?.dataset.tabId"
                           " === 'feed'", timeout=60_000)
    assert mine["id"] not in feed_ids(page)
    with pytest.raises(Exception, match="Sign in"):
        client.predict(erin, "Following", "", api_name="/feed")  # the old session is dead
    assert fetch(app, mine["video_url"]) in (403, 404)  # the files are gone
