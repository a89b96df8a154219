"""User text never becomes markup: hostile strings planted in every field a person can write, then every place
each one shows opened in Chromium, for its author and for someone else, error messages and toasts included.

Each place is checked the same way (:func:`assert_inert`): no dialog fired, no element or attribute came from user
text (an ``<img src=x>``, an ``onerror`` or ``onload`` attribute, a script, an SVG link, a ``javascript:`` URL),
and every link inside user text was clicked without anything running. Also here, because it needs a browser:
signing out survives a reload.
"""

from __future__ import annotations

import re

import pytest
from gradio_client import Client, handle_file
from playwright.sync_api import expect

import face_clips
from conftest import app_running, start_app
from feed_store import FeedStore
from page_helpers import go, open_feed, sign_in, slide

SVG_LINK = '<svg width="200" height="40"><a href="javascript:alert(7)"><text x="5" y="25">CLICKME</text></a></svg>'
PAYLOADS = ("<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>', "<script>alert(1)</script>",
            "javascript:alert(1)", "[x](javascript:alert(1))", SVG_LINK)
DISPLAY_NAME = '<img src=x onerror=alert(2)>"><b>'
USER_TEXT = (".dr-prompt, .dr-comment-text, .dr-profile, .dr-lineage, .dr-report, [data-testid=toast-text], "
             ".prose, .dr-why, .dr-info, .dr-line, .dr-toast")
"""Where user text is shown: the feed's slides and sheets, profiles, lineage, reports, the inbox, toasts and Markdown."""

MARKUP_FROM_USER_TEXT = """() => {
    const found = [];
    for (const el of document.querySelectorAll('*')) {
        for (const attr of el.attributes) {
            if (/^on/i.test(attr.name)) found.push(`${el.tagName} ${attr.name}`);
            if (/^\\s*javascript:/i.test(attr.value)) found.push(`${el.tagName} ${attr.name}=${attr.value}`);
        }
    }
    document.querySelectorAll('img[src="x"]').forEach(el => found.push('img src=x'));
    document.querySelectorAll('script').forEach(el => { if (el.textContent.includes('alert(')) found.push('script'); });
    document.querySelectorAll('svg text').forEach(el => { if (el.textContent.includes('CLICKME')) found.push('svg link'); });
    return found;
}"""


def assert_inert(page, where: str, *shown: str) -> None:
    """Nothing from user text is markup here, clicking its links runs nothing, and each of ``shown`` reads as text."""
    for text in shown:
        page.get_by_text(text, exact=False).locator("visible=true").first.wait_for(timeout=30_000)
    assert page.evaluate(MARKUP_FROM_USER_TEXT) == [], where
    for link in page.locator(USER_TEXT).locator("a").all():
        if link.is_visible():
            link.click(no_wait_after=True)
    page.wait_for_timeout(300)
    assert page.dialogs == [], f"{where}: a dialog fired: {page.dialogs}"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """An app with alice (who writes the payloads), bob (who reads them), and mallory, a Hugging Face account
    whose display name is markup (a Space takes display names from Hugging Face as they are)."""
    data = tmp_path_factory.mktemp("xss-app")
    first = start_app(data)
    first.stop()
    with FeedStore(data / "store") as store:
        store.create_user("mallory", DISPLAY_NAME, external_id="hf:mallory")
    with app_running(data, first_start=False) as running:
        running.admin_password, running.invites = first.admin_password, first.invites
        yield running


@pytest.fixture(scope="module")
def planted(app, tmp_path_factory):
    """Every stored field a person writes, holding a payload; returns the ids the tests open."""
    client = Client(app.url + "/", verbose=False)
    alice = client.predict("alice", "alice has a long password", app.invites[0], api_name="/sign_up")
    bob = client.predict("bob", "bob has a long password", app.invites[1], api_name="/sign_up")
    admin = client.predict("admin", app.admin_password, api_name="/sign_in")
    posts = []
    for n, payload in enumerate(PAYLOADS):
        draft = client.predict(alice, f"a red ball moving left on a frozen lake {payload}", n, None,
                               api_name="/generate")
        posts.append(client.predict(alice, draft["id"], "public", False, api_name="/publish"))
    hidden = client.predict(alice, f"a blue car moving right in a city at night {SVG_LINK}", 9, None,
                            api_name="/generate")
    client.predict(alice, hidden["id"], "public", True, api_name="/publish")
    comments = [client.predict(bob, posts[0]["id"], f"nice {payload}", api_name="/comment") for payload in PAYLOADS]
    for payload, comment in zip(PAYLOADS, comments):
        client.predict(alice, "comment", comment["id"], f"reason {payload}", api_name="/report")
    client.predict(bob, "post", hidden["id"], f"reason {SVG_LINK}", api_name="/report")  # it leaves bob's feeds
    client.predict(bob, "user", 2, f"reason {PAYLOADS[0]}", api_name="/report")  # mallory, made before alice
    with pytest.raises(Exception, match="Blocked"):  # kept for the moderators, payload included
        client.predict(bob, f"a man stabbing a stranger, blood everywhere {PAYLOADS[0]}", None, None,
                       api_name="/generate")
    # Alice's cameo, open to everyone, with a restriction holding the SVG link (set in the page below too).
    first = client.predict(alice, api_name="/cameo_challenge")
    clip = face_clips.turn_clip(tmp_path_factory.mktemp("clip") / "alice.mp4", "grace",
                                (first, "right" if first == "left" else "left"))
    client.predict(alice, handle_file(str(clip)), False, api_name="/create_cameo")
    client.predict(alice, "everyone", None, f"never in swimwear {SVG_LINK}", api_name="/cameo_permission")
    return {"posts": posts, "hidden": hidden, "admin": admin}


def toast(page, containing: str) -> None:
    """Wait for a toast holding ``containing`` as text, then close every toast."""
    try:
        page.locator("[data-testid=toast-text]").filter(has_text=containing).first.wait_for(timeout=30_000)
    except Exception:
        page.screenshot(path="/tmp/exp/toast-fail.png")
        raise


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_prompts_comments_and_lineage_show_as_text(page, app, planted, who):
    sign_in(page, app, who, f"{who} has a long password")
    open_feed(page, "Latest")
    page.locator(".dr-slide").nth(len(PAYLOADS) - 1).wait_for(timeout=30_000)
    assert_inert(page, f"the feed as {who}", *PAYLOADS)
    hidden = slide(page, planted["hidden"]["id"])
    if who == "alice":  # a hidden prompt: its author alone reads it
        assert "CLICKME" in hidden.locator(".dr-prompt").inner_text()
    else:
        assert hidden.count() == 0  # bob reported it

    first = slide(page, planted["posts"][0]["id"])
    first.locator(".dr-open-comments").click()
    page.locator(".dr-comment-text").filter(has_text="nice").first.wait_for(timeout=30_000)
    assert_inert(page, f"comments as {who}", *(f"nice {p}" for p in PAYLOADS))
    page.locator(".dr-sheet .dr-close").click()
    first.locator(".dr-more").click()
    page.locator(".dr-why-button").click()
    assert_inert(page, f"why you see it, as {who}")
    page.locator(".dr-sheet .dr-close").click()

    first.locator(".dr-remix").click()
    page.locator(".dr-lineage").locator("visible=true").first.wait_for(timeout=30_000)
    expect(page.get_by_label("New prompt")).to_have_value(re.compile(re.escape(PAYLOADS[0]) + "$"), timeout=30_000)
    assert_inert(page, f"the remix composer as {who}")


def search_profile(page, handle: str) -> None:
    go(page, "Profile")
    # The section first fills itself with one's own profile: search once that has landed, or it may answer last.
    page.locator("#dr-profile-head .dr-profile, #dr-profile-head .dr-profile-empty").first.wait_for(timeout=30_000)
    find = page.locator("#dr-find textarea, #dr-find input").first
    find.fill(handle)
    find.press("Enter")


def test_the_authors_profile_and_her_videos_show_as_text(page, app, planted):
    sign_in(page, app, "bob", "bob has a long password")
    search_profile(page, "alice")
    page.locator("#dr-profile-head").get_by_text("@alice").wait_for(timeout=30_000)
    page.locator("#dr-profile-grid .dr-tile").nth(len(PAYLOADS) - 1).wait_for(timeout=30_000)
    assert_inert(page, "alice's profile for bob")
    page.locator("#dr-profile-grid .dr-tile").first.click()  # opens in the feed, prompt and all
    page.locator(".dr-slide").first.wait_for(timeout=30_000)
    assert_inert(page, "alice's video opened from her profile", "CLICKME")


def test_a_handle_typed_as_markup_is_refused_as_text(page, app, planted):
    page.goto(app.url)
    go(page, "Me")
    for payload in PAYLOADS[:3]:
        page.get_by_label("Choose a handle").fill(payload)
        page.get_by_label("Choose a password").fill("a long enough password")
        page.get_by_label("Invite code").fill(app.invites[2])
        page.get_by_role("button", name="Sign up").click()
        toast(page, "A handle is 3 to 30 lowercase letters")
        assert_inert(page, f"sign-up with the handle {payload}")


@pytest.mark.parametrize("who", ["a visitor", "bob"])
def test_a_display_name_from_hugging_face_shows_as_text(page, app, planted, who):
    if who == "bob":
        sign_in(page, app, "bob", "bob has a long password")
    else:
        page.goto(app.url)
        page.locator(".dr-slides").wait_for(timeout=30_000)
    search_profile(page, "mallory")
    page.locator("#dr-profile-head").get_by_text("@mallory").wait_for(timeout=30_000)
    assert DISPLAY_NAME in page.locator(".dr-profile h3").inner_text()
    assert_inert(page, f"mallory's profile for {who}")


def test_typed_payloads_come_back_as_text_in_messages_and_toasts(page, app, planted):
    sign_in(page, app, "alice", "alice has a long password")
    for payload in PAYLOADS:  # a handle that does not exist is quoted back in the toast
        search_profile(page, payload)
        toast(page, "No user @")
        assert_inert(page, f"the profile search with {payload}")
        page.reload()
        page.locator(".dr-slides").wait_for(timeout=30_000)

    go(page, "Cameo")
    page.get_by_label("Restrictions").fill(f"never in swimwear {SVG_LINK}")
    page.get_by_role("textbox", name="People I approve").fill("")
    page.get_by_role("radio", name="Everyone").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved:").wait_for(timeout=20_000)
    assert_inert(page, "the owner's saved restrictions", "CLICKME")
    for payload in PAYLOADS[:3]:
        page.get_by_role("textbox", name="People I approve").fill(payload)
        page.get_by_role("button", name="Save").click()
        toast(page, "No user @")
        assert_inert(page, f"approved people {payload}")


def test_a_refusal_quoting_the_owner_shows_her_words_as_text(page, app, planted):
    sign_in(page, app, "bob", "bob has a long password")
    go(page, "Create")
    page.get_by_label("Prompt", exact=True).fill("@alice in swimwear at the beach")
    page.get_by_role("button", name="Generate").click()
    toast(page, "does not allow this")
    assert_inert(page, "the restriction refusal", "CLICKME")
    assert page.get_by_label("Prompt", exact=True).input_value() == "@alice in swimwear at the beach"  # kept


def test_the_moderators_see_reports_and_refusals_as_text(page, app, planted):
    sign_in(page, app, "admin", app.admin_password)
    go(page, "Me")
    page.get_by_role("button", name="Moderation").click()
    page.locator(".dr-report-row").nth(len(PAYLOADS) + 1).wait_for(timeout=30_000)
    assert_inert(page, "the moderation queue", *(f"reason {p}" for p in PAYLOADS), *(f"nice {p}" for p in PAYLOADS), "reported by @bob")
    assert_inert(page, "the refusals", f"blood everywhere {PAYLOADS[0]}")


def test_sign_out_survives_a_reload_and_the_old_token_is_dead(page, app, planted):
    def shown_as(words: str) -> None:  # after a reload, in Me (a section's content is drawn when it is opened)
        page.locator(".dr-slides").wait_for(timeout=30_000)
        go(page, "Me")
        page.get_by_text(words).first.wait_for(timeout=30_000)

    sign_in(page, app, "bob", "bob has a long password")
    token = page.evaluate("() => Object.entries(localStorage).find(([k]) => k.includes('dreamreel-session'))")
    assert token is not None  # the session is kept in the browser, encrypted
    page.reload()
    shown_as("Signed in as @bob")
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_text("Signed out").first.wait_for(state="attached", timeout=20_000)
    page.reload()
    shown_as("Signed out")
    # Putting the old saved value back does not sign anyone in: the session itself has ended.
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", token)
    page.reload()
    shown_as("Signed out")
    assert not re.search("Signed in as", page.content())
