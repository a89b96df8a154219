"""What a hostile visitor can send, sent by hand to ``python app.py``: files it never uploaded, ids that are not
whole numbers, text of control characters, still images named .mp4, oversize uploads, forged forwarding headers,
tokens after sign-out.

The app runs on a data directory of its own, because the sign-up throttle counts every account made from
this machine. Page events are called the way the page calls them (:mod:`page_protocol`), named endpoints too,
so nothing here depends on what ``gradio_client`` would or would not send.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from conftest import REPO, app_running, fetch
from page_protocol import PageClient, file_data

GENERIC = "went wrong on our side"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with app_running(tmp_path_factory.mktemp("hostile-app")) as running:
        yield running


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url + "/", verbose=False)


@pytest.fixture(scope="module")
def people(client, app) -> dict[str, str]:
    sessions = {name: client.predict(name, f"{name} has a long password", code, api_name="/sign_up")
                for name, code in zip(("alice", "bob"), app.invites)}
    sessions["admin"] = client.predict("admin", app.admin_password, api_name="/sign_in")
    return sessions


@pytest.fixture(scope="module")
def alice_post(client, people) -> dict:
    draft = client.predict(people["alice"], "a red ball moving left on a frozen lake", 1, None, api_name="/generate")
    return client.predict(people["alice"], draft["id"], "public", False, api_name="/publish")


def refused(client, message: str, *args, api_name: str) -> str:
    with pytest.raises(Exception, match=message) as caught:
        client.predict(*args, api_name=api_name)
    assert GENERIC not in str(caught.value)
    return str(caught.value)


def served_path(url: str) -> Path:
    return Path(url.split("file=", 1)[1])


def signed_in_page(app, handle: str, password: str) -> PageClient:
    """A page session signed in through the page's own sign-in button."""
    page = PageClient(app.url)
    sign_in = next(e for e in page.events() if e.api_name and e.api_name.startswith("sign_in")
                   and e.visibility == "private")
    assert page.call(sign_in.fn_index, [handle, password]).ok
    return page


def arguments(page: PageClient, event, session: str, file_argument) -> list:
    """Every argument of ``event``: the session first (named endpoints), the hostile file, defaults elsewhere."""
    if event.visibility != "private":
        parameters = page.info["named_endpoints"][f"/{event.api_name}"]["parameters"]
        args = [p["parameter_default"] for p in parameters]
        args[0] = session
    else:
        args = [False if kind == "checkbox" else None for kind in event.input_types]
    for position in event.file_arguments:
        args[position] = file_argument
    return args


# -- 1. Files handed in by a request ----------------------------------------------------------------

def test_no_request_can_hand_the_app_a_file_it_did_not_upload(app, client, people, alice_post):
    pages = {"signed out": PageClient(app.url), "signed in": signed_in_page(app, "bob", "bob has a long password")}
    sessions = {"signed out": "", "signed in": people["bob"]}
    video, thumbnail = served_path(alice_post["video_url"]), served_path(alice_post["thumbnail_url"])
    data = app.data_dir
    secrets = [data / "secret.key", *sorted(p for p in (data / "provenance").rglob("*") if p.is_file())]
    assert any(p.name == "private-key.pem" for p in secrets)  # the C2PA key is among them
    targets = [video, thumbnail, *sorted(p for p in (data / "store").iterdir() if p.is_file()), *secrets]
    before = {p: p.read_bytes() for p in targets}
    upload_folder = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")

    def forms(path: Path) -> list:
        """The path as given, and the ways one might disguise it."""
        relative = os.path.relpath(path, REPO)
        return [str(path), f"{upload_folder}/../..{path}", f"{upload_folder}/{'../' * 12}{str(path)[1:]}",
                relative, f"{path.parent}/./{path.name}", f"{path.parent}//{path.name}",
                file_data(str(path), url=f"/gradio_api/file={path}"), f"/gradio_api/file={path}"]

    events = [e for e in pages["signed out"].events() if e.file_arguments]
    # Every file input the app declares is exercised, the page's and the API's: any added later is covered too.
    assert {"verify", "create_cameo"} <= {e.api_name for e in events if e.visibility != "private"}
    assert len([e for e in events if e.visibility == "private"]) >= 2
    calls = 0
    for who, page in pages.items():
        for event in events:
            for target in targets:
                for form in forms(target):
                    argument = form if isinstance(form, dict) else file_data(form)
                    outcome = page.call(event.fn_index, arguments(page, event, sessions[who], argument))
                    calls += 1
                    where = f"{event.api_name} ({who}) with {form}"
                    assert not outcome.ok, f"{where} was accepted"
                    assert outcome.error and GENERIC not in outcome.error, f"{where}: {outcome.error!r}"
                    assert re.search(r"not uploaded|was not uploaded by a user|Invalid file type", outcome.error), \
                        f"{where}: {outcome.error!r}"
    assert calls >= 2 * 4 * len(targets) * 8
    for path, content in before.items():
        assert path.read_bytes() == content, f"{path} changed"
    assert fetch(app, alice_post["video_url"]) == 200 and fetch(app, alice_post["thumbnail_url"]) == 200


def test_a_real_upload_is_read_from_a_private_copy_that_is_removed(app, client, people, alice_post, tmp_path):
    download = tmp_path / "download.mp4"
    download.write_bytes(httpx.get(app.url + alice_post["video_url"]).content)
    page = PageClient(app.url)
    uploaded = page.upload(str(download))
    verify = page.event("verify")
    outcome = page.call(verify.fn_index, arguments(page, verify, people["bob"], file_data(uploaded)))
    assert outcome.ok and outcome.output[0]["post_id"] == alice_post["id"]
    assert Path(uploaded).read_bytes() == download.read_bytes()  # what Gradio received is left to Gradio's cache
    assert not list(Path(tempfile.gettempdir()).glob("dreamreel-upload-*"))  # the private copy is gone


def test_an_oversize_upload_is_refused_at_the_door_with_the_limit(app):
    size = 101 * 1024 * 1024
    response = httpx.post(app.url + "/gradio_api/upload", files={"files": ("big.mp4", b"\0" * size)}, timeout=120)
    assert response.status_code == 413
    assert "104857600 bytes" in response.text  # 100 MB, said in the refusal


def test_a_still_image_named_mp4_is_refused_as_not_a_video(client, people, tmp_path):
    fake = tmp_path / "photo.mp4"
    Image.new("RGB", (320, 240), "teal").save(fake, format="PNG")
    refused(client, r"still image \(PNG\), not a video", people["bob"], handle_file(str(fake)), api_name="/verify")
    client.predict(people["bob"], api_name="/cameo_challenge")
    refused(client, "not a video", people["bob"], handle_file(str(fake)), False, api_name="/create_cameo")


# -- 3. Smaller holes -------------------------------------------------------------------------------

ID_ARGUMENTS = {  # every named endpoint that takes an id, with the rest of its arguments
    "/post": lambda s, i: (s, i), "/publish": lambda s, i: (s, i, "public", False), "/like": lambda s, i: (s, i),
    "/comment": lambda s, i: (s, i, "nice"), "/remix": lambda s, i: (s, i, "a blue ball moving right", 0.6, 1),
    "/report": lambda s, i: (s, "post", i, "spam"), "/moderate": lambda s, i: (s, i, "dismiss"),
    "/delete_post": lambda s, i: (s, i),
}


def test_ids_must_be_whole_numbers_everywhere(client, people, alice_post):
    post_id = alice_post["id"]
    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    takes_an_id = {name for name, e in info.items() for p in e["parameters"]
                   if re.search(r"(^|_)id$", p["parameter_name"])}
    assert takes_an_id == set(ID_ARGUMENTS)  # an endpoint added with an id must be listed above
    client.predict(people["alice"], post_id, api_name="/post")  # her first look counts as a view
    before = client.predict(people["alice"], post_id, api_name="/post")
    for name, args in ID_ARGUMENTS.items():
        for bad in (post_id + 0.5, "1.5", "one", -0.5, True, [post_id], {"id": post_id}):
            session = people["admin"] if name == "/moderate" else people["alice"]
            refused(client, "whole number", *args(session, bad), api_name=name)
    after = client.predict(people["alice"], post_id, api_name="/post")
    assert after == before  # no like, comment, report, remix or deletion landed on the post
    # 3.0 is the whole number 3: the page's number boxes send floats.
    assert client.predict(people["bob"], float(post_id), api_name="/like")["liked"]
    client.predict(people["bob"], post_id, api_name="/like")


def test_text_of_control_characters_is_refused_and_stored_text_has_none(client, people, alice_post):
    bob = people["bob"]
    drafts = client.predict(bob, api_name="/drafts")
    refused(client, "only control characters", bob, "\x01\x02\x03\x1b", None, None, api_name="/generate")
    refused(client, "only control characters", bob, alice_post["id"], "\x07\x08\x00", api_name="/comment")
    assert client.predict(bob, api_name="/drafts") == drafts
    comment = client.predict(bob, alice_post["id"], "so\x00 good\x1b[31m\nsecond line\u202e!", api_name="/comment")
    assert comment["text"] == "so good[31m\nsecond line!"
    seen = client.predict(bob, alice_post["id"], api_name="/post")["comments"]
    assert seen[-1]["text"] == "so good[31m\nsecond line!"
    draft = client.predict(bob, "a green\tcar moving\x00 right\non a beach", 2, None, api_name="/generate")
    assert draft["prompt"] == "a green car moving right on a beach"


def test_refused_requests_spend_no_post_id(client, people):
    bob = people["bob"]
    first = client.predict(bob, "a yellow bird moving up in a forest", 3, None, api_name="/generate")
    refused(client, "Steps must be", bob, "a yellow bird moving up", None, 500, api_name="/generate")
    refused(client, "1 to 500 characters", bob, "   ", None, None, api_name="/generate")
    refused(client, r"Blocked \(graphic violence\)", bob, "a man stabbing a stranger, blood pouring from the wounds",
            None, None, api_name="/generate")
    refused(client, "has no cameo", bob, "@nobody_here dancing", None, None, api_name="/generate")
    refused(client, "seed", bob, "a yellow bird moving up", -4, None, api_name="/generate")
    refused(client, "No video", bob, 99999, "a remix", 0.5, None, api_name="/remix")
    second = client.predict(bob, "a yellow bird moving down in a forest", 4, None, api_name="/generate")
    assert second["id"] == first["id"] + 1


def test_a_comment_on_a_post_the_reporter_cannot_see_is_reported_as_missing(client, people):
    alice, bob = people["alice"], people["bob"]
    draft = client.predict(alice, "a pink cat moving right in space", 5, None, api_name="/generate")
    client.predict(alice, draft["id"], "public", False, api_name="/publish")
    comment = client.predict(alice, draft["id"], "my own comment", api_name="/comment")
    client.predict(alice, draft["id"], "friends", False, api_name="/publish")  # bob is not her friend
    hidden = refused(client, "No comment with id", bob, "comment", comment["id"], "spam", api_name="/report")
    missing = refused(client, "No comment with id", bob, "comment", 987654, "spam", api_name="/report")
    assert hidden.replace(str(comment["id"]), "N") == missing.replace("987654", "N")
    assert client.predict(people["admin"], api_name="/moderation_queue") == []


def test_a_long_password_signs_in_and_a_wrong_long_one_is_just_wrong(client, people):
    admin = people["admin"]
    code = client.predict(admin, api_name="/invite")
    password = "a passphrase much longer than bcrypt's seventy-two bytes, with ünïcödé in it " * 2
    token = client.predict("carol", password, code, api_name="/sign_up")
    assert client.predict(token, api_name="/drafts") == []
    assert client.predict("carol", password, api_name="/sign_in")
    refused(client, "Wrong handle or password", "carol", password[:-1], api_name="/sign_in")
    refused(client, "Wrong handle or password", "carol", password * 20, api_name="/sign_in")


def test_signing_out_ends_the_token_for_the_api_too(client, app, people):
    token = client.predict("alice", "alice has a long password", api_name="/sign_in")
    other = client.predict("alice", "alice has a long password", api_name="/sign_in")
    assert client.predict(token, api_name="/drafts") is not None
    client.predict(token, api_name="/sign_out")
    refused(client, "Sign in", token, api_name="/drafts")
    assert client.predict(other, api_name="/drafts") is not None  # her other devices stay signed in
    client.predict(other, api_name="/sign_out_everywhere")
    refused(client, "Sign in", other, api_name="/drafts")


def test_the_sign_up_throttle_ignores_forwarded_addresses_from_untrusted_peers(app, people):
    """Three accounts exist from this machine already (alice, bob, carol); the throttle allows five an hour."""
    admin = people["admin"]
    codes = [Client(app.url + "/", verbose=False).predict(admin, api_name="/invite") for _ in range(3)]
    for n, code in enumerate(codes):
        forged = Client(app.url + "/", verbose=False, headers={"X-Forwarded-For": f"203.0.113.{n + 1}"})
        if n < 2:
            forged.predict(f"user_{n}", "a long enough password", code, api_name="/sign_up")
        else:
            refused(forged, "Too many new accounts from your network", f"user_{n}", "a long enough password", code,
                    api_name="/sign_up")
