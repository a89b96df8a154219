"""The page in a real browser (Debian's chromium through playwright) against ``python app.py``.

A new user signs up with an invite, generates a video, publishes it and sees
it play in the feed; the like count updates; a comment holding markup shows as
text and runs nothing; a shared link opens the post for a signed-out visitor;
anyone can check a video in the Verify tab; only the admin sees the
moderation queue, and a video taken down there is gone.
"""

from __future__ import annotations

from playwright.sync_api import expect

from conftest import fetch

XSS = "<img src=x onerror=alert(1)>"


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_sign_up_generate_publish_watch_like_and_comment(page, running_app):
    page.goto(running_app.url)
    open_tab(page, "Account")
    page.get_by_label("Choose a handle").fill("carol")
    page.get_by_label("Choose a password").fill("carol's long password")
    page.get_by_label("Invite code").fill(running_app.invites[2])
    page.get_by_role("button", name="Sign up").click()
    page.get_by_text("Signed in as @carol").wait_for(timeout=20_000)

    open_tab(page, "Create")
    page.get_by_label("Prompt", exact=True).fill("a yellow ball moving right on a beach at sunset")
    page.get_by_role("button", name="Generate").click()
    page.locator("#draft video").wait_for(timeout=120_000)
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("Published #").wait_for(timeout=20_000)

    open_tab(page, "Feed")
    page.get_by_role("radio", name="Latest").check()
    card = page.locator(".dr-post").filter(has_text="a yellow ball moving right").first
    card.wait_for(timeout=30_000)
    video = card.locator("video")
    video.wait_for(timeout=30_000)
    page.wait_for_function("v => v.readyState >= 2", arg=video.element_handle(), timeout=30_000)

    like = card.locator(".dr-like")
    assert like.inner_text().strip().endswith("0")
    like.click()
    page.wait_for_function("b => b.innerText.trim() === '♥ 1'", arg=like.element_handle(), timeout=20_000)

    card.locator(".dr-comment textarea, .dr-comment input").first.fill(XSS)
    card.get_by_role("button", name="Comment").click()
    shown = card.locator(".dr-comment-text").filter(has_text="onerror")
    shown.wait_for(timeout=20_000)
    assert shown.inner_text() == XSS                    # shown as text...
    assert card.locator(".dr-comments img").count() == 0  # ...not as an element
    page.wait_for_timeout(500)
    assert page.dialogs == []                            # and nothing ran


def test_a_shared_link_opens_the_post_for_a_signed_out_visitor(page, running_app):
    from gradio_client import Client

    client = Client(running_app.url + "/", verbose=False)
    session = client.predict("dave", "dave's long password", running_app.invites[3], api_name="/sign_up")
    draft = client.predict(session, "a green car moving left in a city at night", 1, None, api_name="/generate")
    client.predict(session, draft["id"], "public", False, api_name="/publish")

    page.goto(f"{running_app.url}/?post={draft['id']}")
    card = page.locator(f'.dr-card[data-post="{draft["id"]}"]')
    card.wait_for(timeout=30_000)
    assert "a green car moving left" in card.inner_text()
    page.get_by_text("Signed out").wait_for()


def test_anyone_can_verify_a_video_and_the_admin_takes_a_reported_one_down(page, running_app):
    from gradio_client import Client

    client = Client(running_app.url + "/", verbose=False)
    session = client.predict("erin", "erin's long password", running_app.invites[4], api_name="/sign_up")
    post = client.predict(session, "a pink cat coming toward the camera in outer space", 2, None, api_name="/generate")
    client.predict(session, post["id"], "public", False, api_name="/publish")
    client.predict(session, "post", post["id"], "spam", api_name="/report")
    video_file = post["video_url"].split("file=", 1)[1]

    page.goto(running_app.url)  # signed out
    assert page.get_by_role("tab", name="Moderation").count() == 0
    open_tab(page, "Verify")
    page.locator("#verify-upload input[type=file]").set_input_files(video_file)
    page.get_by_role("button", name="Check this video").click()
    result = page.locator("#verify-result")
    result.get_by_text("Made on this Dreamreel instance").wait_for(timeout=60_000)
    assert f"Post #{post['id']} by @erin" in result.inner_text() and "signed by this instance" in result.inner_text()

    open_tab(page, "Account")
    page.get_by_label("Your handle").fill("admin")
    page.get_by_label("Your password").fill(running_app.admin_password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as @admin (admin)").wait_for(timeout=20_000)
    open_tab(page, "Moderation")
    rows = page.locator(".dr-report-row").filter(has_text=f"video #{post['id']} by @erin")
    row = rows.first
    row.wait_for(timeout=20_000)
    assert "reported by @erin" in row.inner_text() and "spam" in row.inner_text()
    row.get_by_role("button", name="Take down").click()
    expect(rows).to_have_count(0, timeout=20_000)
    page.get_by_text(f"take_down post #{post['id']}").wait_for(timeout=20_000)
    assert fetch(running_app, post["video_url"]) in (403, 404)
