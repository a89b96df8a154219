"""Trust and safety through the app's use cases, on the real store, model, moderator, faces and ffmpeg.

What a person would notice: a harmful prompt or comment is refused with its
category and nothing is made; a cameo owner's restrictions and permissions
hold for remixes too; blocking and suspension take effect at once; and every
video leads back to its post, even after it was re-encoded and shrunk.
"""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from skimage import data as skimage_data

import face_clips
from cameo import Cameos, Challenge, FaceDetector, default_embedder
from feed_store import InvalidInput, NotFound, PermissionDenied
from feed_store.media import MediaFolder
from pipeline import CameoNotAllowed, load_model
from pipeline.provenance import Provenance
from pipeline.video_io import write_mp4
from safety.moderation import Moderator
from studio import Accounts, Studio
from studio.service import ContentRefused


@pytest.fixture(scope="module")
def model():
    return load_model("embedded", device="cpu")


@pytest.fixture(scope="module")
def moderator():
    return Moderator.load()


@pytest.fixture
def world(tmp_path, model, moderator, clock, open_store):
    store = open_store()
    media = MediaFolder(tmp_path / "media")
    accounts = Accounts(store, tmp_path / "secret.key", clock=clock)
    first = accounts.first_start()
    cameos = Cameos(store, media, FaceDetector(), default_embedder())
    studio = Studio(store, media, cameos, lambda: model, provenance=Provenance.for_instance(tmp_path / "provenance"),
                    moderator=moderator)
    users = {"admin": accounts.user_for(accounts.sign_in("admin", first.admin_password))}
    for handle, code in zip(("alice", "bob", "carol"), first.invite_codes):
        users[handle] = accounts.user_for(accounts.sign_up(handle, "a long password", code))
    world = type("World", (), {})()
    world.__dict__.update(store=store, media=media, accounts=accounts, studio=studio, users=users, tmp=tmp_path)
    yield world
    store.close()


def give_cameo(world, handle: str, photo: str = "grace", permission: str = "everyone", restrictions: str = "") -> int:
    """A real cameo, made the app's way from a head-turn recording."""
    clip = face_clips.turn_clip(world.tmp / f"{handle}.mp4", photo, ("left", "right"))
    user = world.users[handle]
    cameo = world.studio.create_cameo(user, clip, Challenge("left"))
    world.studio.set_cameo_permission(user, permission, restrictions=restrictions)
    return cameo["id"]


def videos_on_disk(world) -> list:
    return sorted(world.media.root.rglob("*.mp4"))


def reencode(source, target, *filters: str, crf: int = 28):
    """What a re-upload does to a video: a fresh H.264 encode, optionally scaled."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(source)]
    if filters:
        command += ["-vf", ",".join(filters)]
    subprocess.run(command + ["-c:v", "libx264", "-crf", str(crf), "-pix_fmt", "yuv420p", str(target)], check=True)
    return target


# -- moderation ------------------------------------------------------------------------------------


def test_a_harmful_prompt_is_refused_with_its_category_before_anything_is_made(world):
    studio, alice = world.studio, world.users["alice"]
    with pytest.raises(ContentRefused, match="violence"):
        studio.create(alice, "a man stabbing a stranger over and over, blood pouring from the wounds")
    with pytest.raises(ContentRefused, match="real"):
        studio.create(alice, "Barack Obama dancing in a nightclub")
    assert studio.drafts(alice) == [] and videos_on_disk(world) == []
    assert world.store.creation_times(alice, 0) == []  # a refusal costs nothing of the daily allowance

    fine = studio.create(alice, "a chef chopping onions with a big knife in a kitchen", seed=1)
    studio.publish(alice, fine["id"], "public", False)
    with pytest.raises(ContentRefused, match="violence"):
        studio.create(world.users["bob"], "the same scene but he stabs the waiter to death, blood everywhere",
                      parent_id=fine["id"])
    refused = studio.refusals(world.users["admin"])
    assert [(r["handle"], r["what"]) for r in refused] == [("bob", "prompt"), ("alice", "prompt"), ("alice", "prompt")]
    with pytest.raises(PermissionDenied):
        studio.refusals(alice)


def test_harassing_comments_are_refused_and_naming_a_celebrity_in_a_comment_is_fine(world):
    studio, alice, bob = world.studio, world.users["alice"], world.users["bob"]
    post = studio.publish(alice, studio.create(alice, "a red ball bouncing on a beach", seed=2)["id"], "public", False)
    with pytest.raises(ContentRefused, match="(?i)hate|harass"):
        studio.comment(bob, post["id"], "you are a pathetic worthless idiot, nobody wants you here, get lost loser")
    studio.comment(bob, post["id"], "this looks like something Taylor Swift would post")
    assert [c.text for c in reversed(studio.post(alice, post["id"]).comments)] == [
        "this looks like something Taylor Swift would post"]


# -- cameo restrictions, permissions and blocks --------------------------------------------------


def test_a_cameo_owners_restrictions_refuse_other_peoples_prompts_quoting_them(world):
    studio, alice, bob = world.studio, world.users["alice"], world.users["bob"]
    give_cameo(world, "alice", restrictions="no political content, never in swimwear")
    assert "politic" in studio.restrictions_summary("no political content, never in swimwear").lower()

    with pytest.raises(CameoNotAllowed, match='"no political content"'):
        studio.create(bob, "@alice giving a speech at an election rally")
    with pytest.raises(CameoNotAllowed, match='"never in swimwear"'):
        studio.create(bob, "@alice relaxing at the pool in a bikini")
    assert studio.drafts(bob) == []
    made = studio.create(bob, "@alice riding a bike through a park", seed=3)
    assert made["cameo_ids"] and studio.create(alice, "@alice giving a speech at an election rally", seed=4)


def test_a_remix_keeps_its_sources_cameos_and_needs_their_owners_permission(world):
    studio, store = world.studio, world.store
    alice, bob, carol = world.users["alice"], world.users["bob"], world.users["carol"]
    cameo = give_cameo(world, "alice", restrictions="no alcohol")
    original = studio.publish(bob, studio.create(bob, "@alice jumping on a frozen lake", seed=5)["id"], "public", False)

    remix = studio.create(carol, "a blue sky over a frozen lake", parent_id=original["id"], strength=0.5, seed=6)
    assert remix["cameo_ids"] == [cameo]  # her face is still in the pixels
    assert [p.id for p in studio.videos_with_my_cameo(alice)][0] == remix["id"]
    assert studio.post(alice, remix["id"]).post.id == remix["id"]  # the owner sees others' drafts with her
    with pytest.raises(NotFound):
        studio.post(bob, remix["id"])  # nobody else does
    with pytest.raises(CameoNotAllowed, match='"no alcohol"'):
        studio.create(carol, "everyone drinking beer and shots at a bar", parent_id=original["id"])

    studio.set_cameo_permission(alice, "only_me")
    files = len(videos_on_disk(world))
    with pytest.raises(CameoNotAllowed, match="has not allowed you"):
        studio.create(carol, "a pink sky over a frozen lake", parent_id=original["id"], strength=0.5)
    assert len(videos_on_disk(world)) == files

    studio.set_cameo_permission(alice, "everyone")
    studio.block(alice, "carol")
    with pytest.raises((CameoNotAllowed, NotFound)):
        studio.create(carol, "@alice waving", seed=7)
    mine = studio.publish(alice, studio.create(alice, "@alice waving at the camera", seed=8)["id"], "public", False)
    for feed in ("For you", "Latest"):
        assert mine["id"] not in [p.id for p in studio.feed(carol, feed).posts]
        assert mine["id"] in [p.id for p in studio.feed(bob, feed).posts]
    assert store.is_blocked(carol, alice)


def test_a_suspended_account_cannot_sign_in_or_act_and_its_videos_go(world):
    studio, accounts, admin = world.studio, world.accounts, world.users["admin"]
    carol, bob = world.users["carol"], world.users["bob"]
    post = studio.publish(carol, studio.create(carol, "a green car moving left", seed=9)["id"], "public", False)
    session = accounts.sign_in("carol", "a long password")
    report = studio.report(bob, "user", carol, "harassment or hate")
    queued = studio.moderation_queue(admin)
    assert (queued[0]["kind"], queued[0]["target_author"], queued[0]["reporter"]) == ("user", "@carol", "@bob")
    studio.moderate(admin, report["id"], "take_down")
    assert accounts.user_for(session) is None
    with pytest.raises(PermissionDenied, match="suspended"):
        accounts.sign_in("carol", "a long password")
    assert post["id"] not in [p.id for p in studio.feed(bob, "Latest").posts]


# -- provenance ------------------------------------------------------------------------------------


def test_every_video_carries_its_post_id_and_signed_credentials_and_remixes_name_their_parent(world):
    studio, alice, bob = world.studio, world.users["alice"], world.users["bob"]
    post = studio.publish(alice, studio.create(alice, "a yellow ball moving right on a beach", seed=10)["id"],
                          "public", False)
    check = studio.provenance.check(world.media.path(post["video"]))
    assert check.from_this_instance and check.post_id == post["id"] and check.watermark.payload == post["id"]
    assert check.credentials.state == "Trusted" and check.credentials.ai_generated
    assert check.credentials.generation["post_id"] == post["id"] and check.credentials.parent is None
    assert check.tag["post_id"] == post["id"]

    remix = studio.create(bob, "a purple ball moving right on a beach", parent_id=post["id"], seed=11)
    remixed = studio.provenance.check(world.media.path(remix["video"]))
    assert remixed.post_id == remix["id"] and remixed.credentials.state == "Trusted"
    assert remixed.credentials.parent is not None
    assert remixed.credentials.generation["parent_post_id"] == str(post["id"])


def test_verify_finds_the_post_after_a_reencode_and_a_downscale_and_not_in_foreign_videos(world):
    studio, alice, bob = world.studio, world.users["alice"], world.users["bob"]
    post = studio.publish(alice, studio.create(alice, "a white car moving left in a city", seed=12)["id"],
                          "public", False)
    copy = reencode(world.media.path(post["video"]), world.tmp / "reupload.mp4", "scale=iw/2:ih/2", crf=28)
    check, card = studio.verify(bob, copy)
    assert check.from_this_instance and check.post_id == post["id"] and card.id == post["id"]
    assert check.credentials.state == "Missing"  # a re-encode strips the manifest; the watermark survives

    draft = studio.create(alice, "a black car moving right in a city", seed=13)
    check, card = studio.verify(bob, world.media.path(draft["video"]))
    assert check.post_id == draft["id"] and card is None  # bob learns it is from here, not what the draft is

    pan = np.stack([skimage_data.astronaut()[i * 4: i * 4 + 256, i * 4: i * 4 + 256] for i in range(16)])
    write_mp4(pan, world.tmp / "foreign.mp4", 8, {})
    check, card = studio.verify(None, world.tmp / "foreign.mp4")
    assert not check.from_this_instance and check.post_id is None and card is None

    (world.tmp / "notes.mp4").write_text("not a video")
    with pytest.raises(InvalidInput, match="cannot be read as a video"):
        studio.verify(bob, world.tmp / "notes.mp4")


def test_verify_says_what_is_wrong_with_a_file_that_is_not_a_video(world):
    studio, bob = world.studio, world.users["bob"]
    empty = world.tmp / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInput, match=r"Upload a video file \(MP4\) to check"):
        studio.verify(bob, empty)
    with pytest.raises(InvalidInput, match=r"Upload a video file \(MP4\) to check"):
        studio.verify(None, world.tmp / "missing.mp4")
    one_byte = world.tmp / "one-byte.mp4"
    one_byte.write_bytes(b"x")
    with pytest.raises(InvalidInput, match="cannot be read as a video"):
        studio.verify(bob, one_byte)
