"""End to end through the named API with ``gradio_client``, against ``python app.py`` on a fresh data directory.

One story, in order, as two people would live it: sign up with invites, make
a cameo from a real head-turn recording, generate with it, publish, like,
comment, remix, revoke the cameo and see its use refused, delete a video as
the cameo's owner. Then the ways one user might try to act as another, and
trust and safety: a refused prompt, a report taken down by the admin, and a
re-uploaded copy traced back to its post.
"""

from __future__ import annotations

import subprocess
import urllib.request

import imageio_ffmpeg
import pytest
from gradio_client import Client, handle_file

import face_clips
from conftest import drop_database, new_database, app_running, fetch


@pytest.fixture(scope="module", params=["tinydb", "postgresql"])
def app(request, tmp_path_factory):
    """The app under test: the shared one on TinyDB, and one of its own on a fresh PostgreSQL database."""
    if request.param == "tinydb":
        yield request.getfixturevalue("running_app")
        return
    server = request.getfixturevalue("postgres_server")
    url = new_database(server)
    with app_running(tmp_path_factory.mktemp("app-on-postgres"), DREAMREEL_DATABASE_URL=url) as app:
        yield app
    drop_database(server, url)


@pytest.fixture(scope="module")
def client(app) -> Client:
    return Client(app.url + "/", verbose=False)


@pytest.fixture(scope="module")
def people(client, app) -> dict[str, str]:
    return {name: client.predict(name, f"{name} has a long password", code, api_name="/sign_up")
            for name, code in zip(("alice", "bob"), app.invites)}


def refused(client, message: str, *args, api_name: str) -> None:
    with pytest.raises(Exception, match=message):
        client.predict(*args, api_name=api_name)


def test_a_full_story_through_the_api(client, people, app, tmp_path):
    alice, bob = people["alice"], people["bob"]

    # Alice makes her cameo, turning the way the app asks, and lets everyone use it.
    first = client.predict(alice, api_name="/cameo_challenge")
    order = (first, "right" if first == "left" else "left")
    clip = face_clips.turn_clip(tmp_path / "alice.mp4", "grace", order)
    cameo = client.predict(alice, handle_file(str(clip)), False, api_name="/create_cameo")
    assert cameo["permission"] == "only_me"
    assert client.predict(bob, api_name="/usable_cameos") == []
    client.predict(alice, "everyone", None, None, api_name="/cameo_permission")
    assert client.predict(bob, api_name="/usable_cameos") == ["alice"]

    # Bob stars her in a video: a draft nobody else sees until he publishes it.
    draft = client.predict(bob, "@alice jumping on a frozen lake", 7, None, api_name="/generate")
    assert draft["published_at"] is None and draft["cameo_handles"] == ["alice"]
    assert fetch(app, draft["video_url"]) == 200
    assert client.predict(alice, draft["id"], api_name="/post")["post"]["id"] == draft["id"]  # her face: she sees it
    refused(client, "No video", "", draft["id"], api_name="/post")  # nobody else does
    post = client.predict(bob, draft["id"], "public", False, api_name="/publish")
    assert post["visibility"] == "public"
    latest = client.predict(alice, "Latest", "", api_name="/feed")["posts"]
    assert [p["id"] for p in latest] == [post["id"]]

    # Alice likes and comments; Bob sees both.
    assert client.predict(alice, post["id"], api_name="/like") == {"liked": True, "likes": 1}
    client.predict(alice, post["id"], "love it", api_name="/comment")
    seen = client.predict(bob, post["id"], api_name="/post")
    assert seen["post"]["likes"] == 1 and [c["text"] for c in seen["comments"]] == ["love it"]

    # Alice remixes Bob's video; the remix links back and the parent lists it.
    remix = client.predict(alice, post["id"], "a pink person jumping on a beach at sunset", 0.5, 3, api_name="/remix")
    client.predict(alice, remix["id"], "public", False, api_name="/publish")
    assert client.predict(alice, remix["id"], api_name="/post")["lineage"] == [post["id"], remix["id"]]
    assert client.predict(bob, post["id"], api_name="/post")["remixes"] == [remix["id"]]

    # Bob drafts another video with her; she sees it although it is his draft. Her remix of his video
    # keeps her face, so it is listed too.
    second = client.predict(bob, "@alice moving right in a forest", 8, None, api_name="/generate")
    assert {p["id"] for p in client.predict(alice, api_name="/cameo_videos")} == {post["id"], remix["id"], second["id"]}

    # Alice revokes: Bob's next use is refused before any compute.
    client.predict(alice, "only_me", None, None, api_name="/cameo_permission")
    refused(client, "has not allowed you", bob, "@alice rising in a city at night", 9, None, api_name="/generate")

    # As the cameo's owner she deletes his draft; its file is gone.
    client.predict(alice, second["id"], api_name="/delete_post")
    assert {p["id"] for p in client.predict(alice, api_name="/cameo_videos")} == {post["id"], remix["id"]}
    assert fetch(app, second["video_url"]) in (403, 404)
    assert not any(app.data_dir.rglob(second["video_url"].rsplit("/", 1)[1]))
    assert [d["id"] for d in client.predict(bob, api_name="/drafts")] == []


def test_nobody_acts_as_someone_else(client, people):
    alice, bob = people["alice"], people["bob"]
    forged = alice.rsplit(".", 1)[0] + ".0123456789abcdef0123456789abcdef"
    refused(client, "Sign in to make videos", forged, "a red ball", None, None, api_name="/generate")
    refused(client, "Sign in to like", "", 1, api_name="/like")
    user_id, expiry, signature = bob.split(".")
    refused(client, "Sign in to comment", f"1.{expiry}.{signature}", 1, "hi", api_name="/comment")
    refused(client, "Wrong handle or password", "alice", "not her password", api_name="/sign_in")


def test_sign_up_needs_a_valid_unused_invite(client, people, app):
    refused(client, "invite code", "mallory", "a long password", "", api_name="/sign_up")
    refused(client, "not valid or has been used", "mallory", "a long password", app.invites[0],
            api_name="/sign_up")
    refused(client, "at least 8 characters", "mallory", "short", app.invites[-1], api_name="/sign_up")


def test_bad_input_gets_a_clear_message_and_changes_nothing(client, people):
    bob = people["bob"]
    before = client.predict(bob, api_name="/drafts")
    refused(client, "prompt must be 1 to 500 characters", bob, "   ", None, None, api_name="/generate")
    refused(client, "Steps must be", bob, "a red ball", None, 500, api_name="/generate")
    refused(client, "has no cameo", bob, "@nobody_here dancing", None, None, api_name="/generate")
    assert client.predict(bob, api_name="/drafts") == before


def test_media_outside_the_videos_is_not_served(client, people, app):
    assert fetch(app, "/gradio_api/file=" + str(app.data_dir / "secret.key")) in (403, 404)
    assert fetch(app, "/gradio_api/file=" + str(app.data_dir / "store" / "snapshot.json")) in (403, 404)
    crops = sorted((app.data_dir / "media" / "cameos").glob("*.png"))
    assert crops and fetch(app, "/gradio_api/file=" + str(crops[0])) in (403, 404)


def test_moderation_reports_and_verification_through_the_api(client, people, app, tmp_path):
    alice, bob = people["alice"], people["bob"]
    refused(client, r"Blocked \(graphic violence\)", bob, "a man stabbing a stranger, blood pouring from the wounds",
            None, None, api_name="/generate")
    post = client.predict(bob, "a white car moving left in a city at night", 4, None, api_name="/generate")
    client.predict(bob, post["id"], "public", False, api_name="/publish")

    # Alice downloads it and re-uploads a shrunk, re-encoded copy: Verify still finds the post.
    original = tmp_path / "download.mp4"
    with urllib.request.urlopen(app.url + post["video_url"], timeout=10) as response:
        original.write_bytes(response.read())
    checked = client.predict(alice, handle_file(str(original)), api_name="/verify")
    assert checked["from_this_instance"] and checked["credentials"]["state"] == "Trusted"
    assert checked["credentials"]["ai_generated"] and checked["post"]["id"] == post["id"]
    copy = tmp_path / "reupload.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(original), "-vf",
                    "scale=iw/2:ih/2", "-c:v", "libx264", "-crf", "28", str(copy)], check=True)
    checked = client.predict(alice, handle_file(str(copy)), api_name="/verify")
    assert checked["watermark"]["post_id"] == post["id"] and checked["credentials"]["state"] == "Missing"

    # She reports it; the admin takes it down; its file goes and Verify says the post is gone.
    client.predict(alice, "post", post["id"], "violence", api_name="/report")
    admin = client.predict("admin", app.admin_password, api_name="/sign_in")
    refused(client, "Only moderators", alice, api_name="/moderation_queue")
    queue = client.predict(admin, api_name="/moderation_queue")
    report = next(r for r in queue if r["kind"] == "post" and r["target_id"] == post["id"])
    assert report["reporter"] == "@alice" and report["target_author"] == "@bob"
    client.predict(admin, report["id"], "take_down", api_name="/moderate")
    assert fetch(app, post["video_url"]) in (403, 404)
    checked = client.predict(alice, handle_file(str(copy)), api_name="/verify")
    assert checked["post_id"] == post["id"] and checked["post"] is None
    assert any(r["category"] == "violence" for r in client.predict(admin, api_name="/refusals"))


def test_your_data_and_leaving_through_the_api(client, app):
    """Download everything as a zip; delete the account with the password and the handle; the session dies."""
    import json
    import zipfile

    code = app.invites[2]
    zed = client.predict("zed", "zed's long password", code, api_name="/sign_up")
    post = client.predict(zed, "a golden kite over the dunes", 3, None, api_name="/generate")
    archive = client.predict(zed, api_name="/export_my_data")
    with zipfile.ZipFile(archive) as z:
        data = json.loads(z.read("data.json"))
    assert data["profile"]["handle"] == "zed" and [p["id"] for p in data["posts"]] == [post["id"]]
    refused(client, "Wrong password", zed, "not it", "zed", api_name="/delete_account")
    refused(client, "Type your handle", zed, "zed's long password", "alice", api_name="/delete_account")
    assert client.predict(zed, "zed's long password", "zed", api_name="/delete_account") == "account deleted"
    refused(client, "Sign in", zed, api_name="/export_my_data")
    assert fetch(app, post["video_url"]) in (403, 404)
