"""Every string a user controls reads as text in the page, in every view of ``web.views`` (no browser needed).

The inputs are the real shapes: posts, comments, reports, refusals, the moderation log and profiles as a real
FeedStore and :class:`~studio.service.Studio` return them, and provenance checks as a real c2pa reader makes them
from a video signed with a stranger's certificate. Then every string in them is replaced by a hostile one (a
display name from Hugging Face sign-in is not checked, handles come from stored data, prompts, comments, report reasons
and a foreign video's C2PA signer, model and parent title are written by whoever wants to), and the output is
parsed with :mod:`html.parser`:

- it has exactly the elements and attributes it has for harmless text (so none came from the user's text): no
  ``img``, ``svg`` or ``script``, no ``on*`` attribute, no ``javascript:`` URL;
- the hostile text is there, as text.

Markdown (``markdown_text``) is rendered with markdown-it-py as CommonMark with raw HTML allowed, as Gradio's
Markdown components allow it. Messages (``error``, ``notice``, ``user_facing``) are checked as the HTML a toast renders.

A view added to ``web.views`` later must be listed in ``VIEWS`` (a test fails until it is).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import itertools
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable

import c2pa
import gradio as gr
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from markdown_it import MarkdownIt

from feed_store import FeedStore, InvalidInput
from feed_store.media import MediaFolder
from pipeline.content_credentials import AI_GENERATED, GENERATION_LABEL, ContentCredentials, CredentialsCheck
from pipeline.invisible_watermark import WatermarkReading
from pipeline.provenance import Provenance, VideoCheck
from pipeline.video_io import write_mp4
from web import views
from studio.service import Studio

SVG_LINK = '<svg width="200" height="40"><a href="javascript:alert(7)"><text x="5" y="25">CLICKME</text></a></svg>'
PAYLOADS = ("<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>', "<script>alert(1)</script>",
            "javascript:alert(1)", "[x](javascript:alert(1))", SVG_LINK, "<!-- a comment --><b>bold</b>&amp;")
HARMLESS = "plain words"
DANGEROUS_TAGS = {"script", "img", "svg", "iframe", "object", "embed", "a", "style", "link", "meta", "form", "input",
                  "video", "audio", "source", "math", "base", "b"}
"""Tags a payload tries to make (``b`` is in ``<b>bold</b>``): allowed only where the view writes them itself."""


class Markup(HTMLParser):
    """Every element, attribute, comment and piece of text in an HTML fragment, entities resolved."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, tuple[tuple[str, str | None], ...]]] = []
        self.texts: list[str] = []
        self.other: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, tuple(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, tuple(attrs)))

    def handle_data(self, data):
        self.texts.append(data)

    def handle_comment(self, data):
        self.other.append(f"<!--{data}-->")

    def handle_decl(self, decl):
        self.other.append(f"<!{decl}>")

    def unknown_decl(self, data):
        self.other.append(f"<![{data}]>")

    def handle_pi(self, data):
        self.other.append(f"<?{data}>")

    @property
    def text(self) -> str:
        return "".join(self.texts)

    @property
    def shape(self) -> list[tuple[str, tuple[str, ...]]]:
        """Element names with their attribute names, in order: what text must never change."""
        return [(tag, tuple(name for name, _ in attrs)) for tag, attrs in self.elements]


def assert_only_text_from(payload: str, html: str, harmless_html: str) -> None:
    """``html`` (made with ``payload`` in every string) has the markup of ``harmless_html`` and shows ``payload``."""
    got, expected = Markup(html), Markup(harmless_html)
    assert got.other == expected.other == [], f"comment or declaration from user text in {html!r}"
    for tag, attrs in got.elements:
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler {name}= on <{tag}> in {html!r}"
            assert not (value or "").strip().lower().startswith("javascript:"), f"javascript: URL in {html!r}"
    made = [tag for tag, _ in got.elements if tag in DANGEROUS_TAGS]
    assert made == [tag for tag, _ in expected.elements if tag in DANGEROUS_TAGS], f"<{made}> from user text in {html!r}"
    assert got.shape == expected.shape, f"user text changed the markup:\n{html}\nvs\n{harmless_html}"
    assert payload in got.text, f"{payload!r} is not shown as text in {html!r}"


def hostile(value: Any, text: str, keep: frozenset[str] = frozenset(), key: str | None = None) -> Any:
    """``value`` with every string in it (nested in dicts, lists, tuples and cards) replaced by ``text``.

    Keys in ``keep`` keep their value: the few that select what a view shows (a report's kind), not text in it.
    """
    if isinstance(value, str):
        return value if key in keep else text
    if isinstance(value, dict):
        return {k: hostile(v, text, keep, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(hostile(v, text, keep) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: hostile(getattr(value, f.name), text, keep, f.name)
                                             for f in dataclasses.fields(value) if f.init})
    return value


# -- the real shapes ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shown(tmp_path_factory) -> dict[str, Any]:
    """What the views are given, as a real store and Studio give it: one of each kind of thing they show."""
    root = tmp_path_factory.mktemp("views")
    ticks = itertools.count(1_700_000_000, 60)
    store = FeedStore(root / "store", clock=lambda: float(next(ticks)))
    studio = Studio(store, MediaFolder(root / "media"), None, lambda: None, provenance=None)
    admin = store.create_user("admin", is_admin=True)["id"]
    # Signed in with Hugging Face: the display name comes from there, unchecked.
    alice = store.create_user("alice", "<img src=x onerror=alert(2)>", external_id="hf:alice")["id"]
    bob, carol, dave = (store.create_user(h)["id"] for h in ("bob", "carol", "dave"))
    for a, b in ((bob, alice), (alice, bob), (carol, alice), (alice, dave)):
        store.follow(a, b)
    original = store.create_post(alice, "a red ball", visibility="public", video="videos/a.mp4",
                                 thumbnail="videos/a.jpg", preview="videos/a.webp",
                                 model={"model": "tiny", "seed": 3, "demo": True})["id"]
    remix = store.create_post(bob, "a blue ball", parent_id=original, visibility="public")["id"]
    green = store.create_post(carol, "a green ball", parent_id=remix, visibility="public")["id"]
    gone = store.create_post(dave, "a grey ball", visibility="public")["id"]
    orphan = store.create_post(bob, "a black ball", parent_id=gone, visibility="public")["id"]
    store.delete_post(dave, gone)
    comment = store.comment(bob, original, "nice one")
    store.comment(carol, original, "agreed")
    store.report(carol, "post", original, "spam")
    store.report(carol, "comment", comment["id"], "rude")
    store.report(carol, "user", dave, "impersonation")
    store.resolve_report(admin, store.report(bob, "user", carol, "just because")["id"], "dismiss")
    store.record_refusal(alice, "prompt", "violence", "something violent")

    cards = list(studio.feed(bob, "For you").posts)
    card, remixes = studio.post(bob, remix).post, studio.post(bob, remix).remixes
    comments = studio.post(bob, original).comments
    chain = studio.post(bob, green).lineage
    broken_chain = studio.post(bob, orphan).lineage
    queue = studio.moderation_queue(admin)
    data = {"cards": cards, "card": card, "comments": comments, "remixes": remixes, "chain": chain,
            "broken_chain": broken_chain, "profile": studio.profile(carol, "alice"), "reports": queue,
            "refusals": studio.refusals(admin), "log": studio.moderation_log(admin)}
    # What the views are meant to show must really be in the data, or the tests below check nothing.
    assert any(c.reasons for c in cards) and card.parent_id == original and card.parent_handle == "alice"
    assert len(comments) == 2 and remixes and len(chain) == 3 and broken_chain[0] is None
    assert data["profile"].followers and data["profile"].following and data["profile"].friends
    assert sorted(r["kind"] for r in queue) == ["comment", "post", "user"]
    assert data["refusals"] and data["log"]
    yield data
    store.close()


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    frames = np.stack([np.full((64, 64, 3), 40 + 10 * i, np.uint8) for i in range(8)])
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_mp4(frames, path, 8, {})
    return path


@pytest.fixture(scope="module")
def here(tmp_path_factory) -> Provenance:
    """This instance: its watermark key and content credentials."""
    return Provenance.for_instance(tmp_path_factory.mktemp("here"))


def stranger_credentials(organization: str) -> ContentCredentials:
    """A signer anyone can make: its own root CA and a P-256 leaf naming ``organization`` (no length limit on O=)."""
    now = dt.datetime.now(dt.timezone.utc)
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                           x509.NameAttribute(NameOID.COMMON_NAME, "stranger root")])
    no = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
              encipher_only=False, decipher_only=False)

    def certificate(subject: x509.Name, key, ca: bool) -> x509.CertificateBuilder:
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(root_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, **no),
                               critical=True))

    root = certificate(root_name, root_key, True).sign(root_key, hashes.SHA256())
    leaf_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                           x509.NameAttribute(NameOID.COMMON_NAME, "stranger")])
    leaf = (certificate(leaf_name, leaf_key, False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .sign(root_key, hashes.SHA256()))
    key = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return ContentCredentials(leaf.public_bytes(serialization.Encoding.PEM), key,
                              root.public_bytes(serialization.Encoding.PEM))


def foreign_check(here: Provenance, clip: Path, directory: Path, text: str) -> VideoCheck:
    """This instance's real check of a remix signed by a stranger whose organisation, model and parent title are ``text``."""
    stranger = stranger_credentials(text)
    manifest = {"claim_generator_info": [{"name": text}], "title": text,
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
                    {"action": "c2pa.edited", "digitalSourceType": AI_GENERATED}]}},
                    {"label": GENERATION_LABEL, "data": {"model": text, "generator": text, "post_id": 1}}]}
    directory.mkdir(parents=True, exist_ok=True)
    video = directory / "foreign.mp4"
    with c2pa.Builder(manifest, context=stranger.context) as builder:
        with open(clip, "rb") as parent:
            builder.add_ingredient({"title": text, "relationship": "parentOf", "label": "parent"}, "video/mp4", parent)
        with open(clip, "rb") as source, open(video, "w+b") as destination:
            builder.sign(stranger.signer, "video/mp4", source, destination)
    return here.check(video)


# -- every view, from its inputs ----------------------------------------------------------------------------------

Build = Callable[[dict[str, Any], str], str]


def _verify_ours(shown: dict[str, Any], text: str) -> str:
    """A video from here with its post found: every credentials string hostile, and the post's card too."""
    card = hostile(shown["card"], text)
    credentials = CredentialsCheck(state="Trusted", ai_generated=True,
                                   generation={"model": text, "post_id": card.id, "seed": 3},
                                   parent=text, signer=text, failures=(text, text))
    check = VideoCheck(tag={"generator": text}, watermark=WatermarkReading(card.id, 0.93),
                       credentials=credentials)
    return views.verify_html(check, card)


def _verify_claims(shown: dict[str, Any], text: str) -> str:
    """A stranger's video: an unknown validation state, a metadata tag, a watermark-free post that is not visible."""
    credentials = CredentialsCheck(state=text, ai_generated=False, generation={"model": text}, parent=text,
                                   signer=text, failures=(text,))
    return views.verify_html(VideoCheck(tag={"generator": text, "post_id": text}, watermark=None,
                                        credentials=credentials), None)


def _verify_unreachable_post(shown: dict[str, Any], text: str) -> str:
    credentials = CredentialsCheck(state="Valid", ai_generated=True, generation={"model": text}, parent=text,
                                   signer=text, failures=(text,))
    return views.verify_html(VideoCheck(tag=None, watermark=WatermarkReading(99, 0.7), credentials=credentials),
                             None)


VIEWS: dict[str, Build] = {
    "lineage_html": lambda s, t: views.lineage_html(hostile(s["chain"], t), hostile(s["remixes"], t)),
    "lineage_html[unavailable ancestor]": lambda s, t: views.lineage_html(hostile(s["broken_chain"], t), []),
    "profile_html": lambda s, t: views.profile_html(hostile(s["profile"], t)),
    "profile_html[initials]": lambda s, t: views.profile_html(hostile(dataclasses.replace(s["profile"], avatar=None), t)),
    "report_html": lambda s, t: "".join(views.report_html(r) for r in hostile(s["reports"], t, frozenset({"kind"}))),
    "refusals_html": lambda s, t: views.refusals_html(hostile(s["refusals"], t)),
    "moderation_log_html": lambda s, t: views.moderation_log_html(hostile(s["log"], t)),
    "verify_html": _verify_ours,
    "verify_html[foreign claims]": _verify_claims,
    "verify_html[post not visible]": _verify_unreachable_post,
}
"""Each view function, with inputs in which every string is the given text (the name before ``[`` is the function)."""

MESSAGES = {"html_text", "markdown_text", "error", "notice", "user_facing"}
"""Checked one by one below: they escape text for a caller, not render a stored thing."""
NOT_USER_TEXT = {"when", "file_url"}
"""Public functions that show nothing a user wrote (``when`` formats a timestamp, ``file_url`` a media path)."""


def test_every_view_function_is_checked():
    """A view added later shows up here until it is listed in VIEWS (or, if it shows no user text, NOT_USER_TEXT)."""
    public = {name for name, fn in inspect.getmembers(views, inspect.isfunction)
              if fn.__module__ == views.__name__ and not name.startswith("_")}
    listed = {name.split("[")[0] for name in VIEWS}
    assert {name for name in public if name.endswith("_html")} <= listed, "a view function is not in VIEWS"
    assert public <= listed | MESSAGES | NOT_USER_TEXT, f"unclassified: {public - listed - MESSAGES - NOT_USER_TEXT}"


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("view", list(VIEWS))
def test_user_text_in_a_view_is_only_text(shown, view, payload):
    build = VIEWS[view]
    assert_only_text_from(payload, build(shown, payload), build(shown, HARMLESS))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_foreign_videos_own_credentials_show_as_text_on_verify(here, clip, tmp_path, payload):
    """Signer, model and parent title as a stranger signed them, read back by this instance's real c2pa check."""
    check = foreign_check(here, clip, tmp_path / "hostile", payload)
    harmless = foreign_check(here, clip, tmp_path / "harmless", HARMLESS)
    credentials = check.credentials
    assert (credentials.state, credentials.signer, credentials.parent, credentials.generation["model"]) == (
        "Valid", payload, payload, payload)
    assert not check.from_this_instance and check.post_id is None
    html = views.verify_html(check, None)
    assert_only_text_from(payload, html, views.verify_html(harmless, None))
    assert Markup(html).text.count(payload) == 3  # signer, model and parent each read as text


# -- messages and Markdown ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_html_text_is_safe_in_element_content_and_in_quoted_attributes(payload):
    markup = Markup(f'<p title="{views.html_text(payload)}">{views.html_text(payload)}</p>')
    assert markup.elements == [("p", (("title", payload),))]
    assert markup.text == payload and markup.other == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_an_error_message_is_shown_as_text(payload):
    err = views.error(f'@mallory does not allow this: "{payload}".')
    assert isinstance(err, gr.Error)
    markup = Markup(err.message)
    assert markup.elements == [] and markup.other == []
    assert markup.text == f'@mallory does not allow this: "{payload}".'


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_notice_is_shown_as_text(capsys, payload):
    """Outside a running app gr.Info prints exactly the message it would show in the toast."""
    views.notice(f"Thanks, {payload}")
    markup = Markup(capsys.readouterr().out.rstrip("\n"))
    assert markup.elements == [] and markup.other == [] and markup.text == f"Thanks, {payload}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_package_error_reaches_the_page_as_text_and_anything_else_not_at_all(payload):
    @views.user_facing
    def refused():
        raise InvalidInput(f"No user called {payload}.")

    @views.user_facing
    def broken():
        raise RuntimeError(f"internal detail {payload}")

    with pytest.raises(gr.Error) as raised:
        refused()
    markup = Markup(raised.value.message)
    assert markup.elements == [] and markup.other == [] and markup.text == f"No user called {payload}."
    with pytest.raises(gr.Error) as raised:
        broken()
    assert raised.value.message == views.SOMETHING_WENT_WRONG


MARKDOWN_PAYLOADS = PAYLOADS + (
    "![x](javascript:alert(1))", "<javascript:alert(1)>", "<https://example.com>", "[x]: javascript:alert(1)",
    "*emphasis* __strong__ `code` ~~struck~~", "# heading", "- item", "+ item", "1. item", "1) item", "> quote",
    "| a | b |", "&lt;b&gt; &#60;i&#62; &copy;", "a \\ backslash\\", "=== --- ***", "[x][y] [y]",
    "<?php echo 1 ?>", "a] b [c", "x</p><p>y",
)
"""Single lines, as every text reaching Markdown is (handles, visibility, invite codes, summaries; all trimmed)."""


@pytest.fixture(scope="module")
def markdown() -> MarkdownIt:
    """CommonMark with raw HTML on, plus the GFM tables and strikethrough Gradio's Markdown also has."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


@pytest.mark.parametrize("payload", MARKDOWN_PAYLOADS)
def test_markdown_text_renders_as_exactly_the_text(markdown, payload):
    markup = Markup(markdown.render(views.markdown_text(payload)))
    assert markup.shape == [("p", ())] and markup.other == [], markup.elements
    assert markup.text.strip() == payload


@pytest.mark.parametrize("payload", MARKDOWN_PAYLOADS)
def test_markdown_text_inside_the_apps_own_markdown_stays_text(markdown, payload):
    """As the page shows a handle: ``Signed in as **@handle**``; the bold around it must hold."""
    markup = Markup(markdown.render(f"Signed in as **@{views.markdown_text(payload)}** (admin)"))
    assert markup.shape == [("p", ()), ("strong", ())] and markup.other == [], markup.elements
    assert markup.text.strip() == f"Signed in as @{payload} (admin)"


@pytest.mark.parametrize("payload", MARKDOWN_PAYLOADS)
def test_markdown_text_inside_a_links_text_keeps_the_link_whole(markdown, payload):
    """``[text](/?post=1)``: brackets in user text neither end the app's link early nor start another one."""
    markup = Markup(markdown.render(f"[{views.markdown_text(payload)}](/?post=1)"))
    assert markup.elements == [("p", ()), ("a", (("href", "/?post=1"),))] and markup.other == [], markup.elements
    assert markup.text.strip() == payload
