"""How the browser tests use the page as a person would: the bottom bar, the sign-in form, the feed's slides."""

from __future__ import annotations

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SECTIONS = {"Home": "feed", "Create": "create", "Cameo": "cameo", "Activity": "activity", "Profile": "profile",
            "Me": "account"}


def go(page, section: str) -> None:
    """Tap a section in the bottom bar and wait until it is the one shown."""
    tab = SECTIONS[section]
    page.locator(f'.dr-nav-item[data-tab="{tab}"]').click()
    page.wait_for_function("t => document.querySelector(`#dr-sections button[role=tab].selected`)?.dataset.tabId === t",
                           arg=tab, timeout=20_000)


def sign_in(page, app, handle: str, password: str) -> None:
    """Open the app, sign in with the form in Me, and wait for the feed it lands on."""
    page.goto(app.url)
    page.locator(".dr-slides").wait_for(timeout=30_000)
    go(page, "Me")
    page.get_by_label("Your handle").fill(handle)
    page.get_by_label("Your password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_function("() => document.querySelector('#dr-sections button[role=tab].selected')?.dataset.tabId"
                           " === 'feed'", timeout=60_000)
    page.get_by_text(f"Signed in as @{handle}", exact=False).first.wait_for(state="attached", timeout=20_000)


def slide(page, post_id: int):
    return page.locator(f'.dr-slide[data-id="{post_id}"]')


def playing(page) -> dict[int, bool]:
    """Each slide's post id and whether its video is playing now."""
    return {int(k): v for k, v in page.evaluate(
        "() => [...document.querySelectorAll('.dr-slide')].map(s => [s.dataset.id, !s.querySelector('video').paused])")}


def wait_playing(page, post_id: int, timeout: float = 20_000) -> None:
    """Wait until the video of ``post_id`` plays and every other one is paused."""
    page.wait_for_function(
        """id => { const slides = [...document.querySelectorAll('.dr-slide')];
                   return slides.length && slides.every(s => (s.dataset.id === String(id)) === !s.querySelector('video').paused); }""",
        arg=post_id, timeout=timeout)


def feed_ids(page) -> list[int]:
    return [int(i) for i in page.evaluate("() => [...document.querySelectorAll('.dr-slide')].map(s => s.dataset.id)")]


def scroll_to_next(page) -> None:
    """Swipe up one screen: the feed snaps to the next video."""
    page.locator(".dr-slides").evaluate("el => el.scrollBy({top: el.clientHeight, behavior: 'instant'})")


def open_feed(page, name: str) -> None:
    page.locator(".dr-feed", has_text=name).click()
    page.wait_for_function("n => document.querySelector('.dr-feed.dr-on')?.textContent === n", arg=name,
                           timeout=20_000)


def reel_toast(page, containing: str) -> None:
    page.locator(".dr-toast").filter(has_text=containing).wait_for(timeout=20_000)
