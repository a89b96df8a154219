"""Making, casting and erasing cameos with the real face stack (MTCNN, dlib) on real clips.

The clips come from two real photos (``skimage``'s astronaut and matplotlib's
Grace Hopper), turned in 3D for the head turns (see ``face_clips``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import face_clips
from cameo import CameoRejected, Cameos, Challenge, Embedding, FaceDetector, default_embedder
from feed_store import FeedStore, NotFound
from feed_store.media import MediaFolder
from pipeline import CameoNotAllowed
from pipeline.video_io import read_video

LEFT_FIRST = Challenge("left")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Every clip once per module: building the turns is the slow part."""
    d = tmp_path_factory.mktemp("clips")
    return {
        "grace": face_clips.turn_clip(d / "grace.mp4", "grace", ("left", "right")),
        "astronaut": face_clips.turn_clip(d / "astronaut.mp4", "astronaut", ("left", "right")),
        "static": face_clips.static_clip(d / "static.mp4"),
        "two_faces": face_clips.two_faces_clip(d / "two.mp4"),
        "dark": face_clips.dark_clip(d / "dark.mp4"),
        "blurred": face_clips.blurred_clip(d / "blurred.mp4"),
        "no_face": face_clips.no_face_clip(d / "none.mp4"),
        "short": face_clips.turn_clip(d / "short.mp4", "grace", ("left", "right"), seconds=1),
        "long": face_clips.static_clip(d / "long.mp4", seconds=31, fps=2),
    }


@pytest.fixture(scope="module")
def face_stack():
    return FaceDetector(), default_embedder()


@pytest.fixture
def app(tmp_path, face_stack):
    store = FeedStore(tmp_path / "store")
    media = MediaFolder(tmp_path / "media")
    users = {h: store.create_user(h)["id"] for h in ("alice", "bob", "carol")}
    yield Cameos(store, media, *face_stack), store, media, users
    store.close()


def media_files(media: MediaFolder) -> list[Path]:
    return sorted(p for p in media.root.rglob("*") if p.is_file())


def test_a_live_turning_face_becomes_a_cameo(app, clips):
    cameos, store, media, users = app
    cameo = cameos.create(users["alice"], clips["grace"], LEFT_FIRST)
    assert cameo["owner_id"] == users["alice"] and cameo["permission"] == "only_me"
    assert cameo["embedding_backend"] == cameos.embedder.backend and len(cameo["embedding"]) >= 128
    assert cameo["quality"]["yaw_min"] < -15 < 15 < cameo["quality"]["yaw_max"]
    crops = [Image.open(media.path(name)) for name in cameo["crops"]]
    assert len(crops) == 3 and all(c.size == (160, 160) for c in crops)
    reference = cameos.reference(cameo["id"])
    assert reference.handle == "alice" and len(reference.face_crops) == 3
    # Generation gets the crops and the embedding from the stored files and record: each crop, embedded afresh,
    # is the person the stored embedding records (Grace Hopper), and is not someone else (the astronaut).
    detector, embedder = cameos.detector, cameos.embedder
    recorded = Embedding(reference.embedding, reference.embedding_backend)
    astronaut = face_clips.photo("astronaut")
    someone_else = embedder.embed(astronaut, detector.detect([astronaut])[0][0])
    for crop in reference.face_crops:
        pixels = np.asarray(crop)
        (face,) = detector.detect([pixels])[0]
        seen = embedder.embed(pixels, face)
        assert embedder.same_person(seen, recorded), embedder.distance(seen, recorded)
        assert not embedder.same_person(seen, someone_else), embedder.distance(seen, someone_else)
    assert cameo["recording"] is None and not list(media.root.rglob("*.mp4"))  # the raw clip is not kept


def test_the_recording_is_kept_only_when_the_owner_opts_in(app, clips):
    cameos, store, media, users = app
    cameo = cameos.create(users["alice"], clips["grace"], LEFT_FIRST, keep_recording=True)
    assert media.path(cameo["recording"]).read_bytes() == clips["grace"].read_bytes()


@pytest.mark.parametrize("clip, challenge, reason, advice", [
    ("grace", Challenge("right"), "wrong_order", "You turned to your left first"),  # turns in the wrong order
    ("static", LEFT_FIRST, "no_turns", "did not see the head turns"),      # a photo held up: a replay
    ("two_faces", LEFT_FIRST, "several_faces", "yourself alone"),
    ("dark", LEFT_FIRST, "too_dark", "Turn on a light"),
    ("blurred", LEFT_FIRST, "blurry", "Hold the camera still"),
    ("no_face", LEFT_FIRST, "no_face", "keep your whole face in view"),
    ("short", LEFT_FIRST, "too_short", "2 to 30 seconds"),
    ("long", LEFT_FIRST, "too_long", "2 to 30 seconds"),
])
def test_a_clip_that_is_not_one_live_person_is_refused_and_nothing_is_kept(app, clips, clip, challenge, reason,
                                                                            advice):
    cameos, store, media, users = app
    with pytest.raises(CameoRejected, match=advice) as refused:
        cameos.create(users["alice"], clips[clip], challenge)
    assert refused.value.reason == reason
    assert store.all_cameos() == [] and media_files(media) == []


def test_a_second_person_in_part_of_the_clip_gets_the_record_yourself_alone_advice(app, tmp_path):
    """A good head turn, but someone else is in view for its middle third: whose likeness would the cameo be?

    Not the whole clip (the two-faces case above), and more than a stray frame:
    the person is told to record alone, not that their face was not seen.
    """
    cameos, store, media, users = app
    clip = face_clips.visited_turn_clip(tmp_path / "visited.mp4", "grace", "astronaut", visit=(1 / 3, 2 / 3))
    frames, _ = read_video(clip)
    faces_in_view = [len(f) for f in cameos.detector.detect([frames[0], frames[len(frames) // 2], frames[-1]])]
    assert faces_in_view == [1, 2, 1]  # alone at the start and the end, two in the middle
    with pytest.raises(CameoRejected, match="Record yourself alone") as refused:
        cameos.create(users["alice"], clip, LEFT_FIRST)
    assert refused.value.reason == "several_faces"
    assert store.all_cameos() == [] and media_files(media) == []


@pytest.mark.parametrize("content, reason, advice", [
    (b"this is a text file, not a video", "unreadable", "not a video we can read"),
    (b"", "unreadable", "not a video we can read"),
])
def test_a_file_that_is_not_a_video_is_refused(app, tmp_path, content, reason, advice):
    cameos, store, media, users = app
    fake = tmp_path / "me.mp4"
    fake.write_bytes(content)
    with pytest.raises(CameoRejected, match=advice) as refused:
        cameos.create(users["alice"], fake, LEFT_FIRST)
    assert refused.value.reason == reason and store.all_cameos() == []


def test_a_file_that_is_not_a_video_by_its_type_is_refused(app, clips, tmp_path):
    cameos, store, media, users = app
    photo = tmp_path / "me.jpg"
    photo.write_bytes(clips["grace"].read_bytes())
    with pytest.raises(CameoRejected, match="MP4, WebM or MOV"):
        cameos.create(users["alice"], photo, LEFT_FIRST)


def test_an_oversize_upload_is_refused_before_it_is_read(app, tmp_path):
    cameos, store, media, users = app
    big = tmp_path / "big.mp4"
    with open(big, "wb") as f:
        f.truncate(50 * 1024 * 1024 + 1)  # one byte over the limit
    with pytest.raises(CameoRejected, match="over 50 MB"):
        cameos.create(users["alice"], big, LEFT_FIRST)


def test_a_face_that_is_already_someones_cameo_is_refused(app, clips):
    cameos, store, media, users = app
    cameos.create(users["alice"], clips["grace"], LEFT_FIRST)
    with pytest.raises(CameoRejected, match="already belongs to another person") as refused:
        cameos.create(users["bob"], clips["grace"], LEFT_FIRST)
    assert refused.value.reason == "impersonation"
    assert cameos.create(users["bob"], clips["astronaut"], LEFT_FIRST)["owner_id"] == users["bob"]


def test_a_worse_recording_of_someones_cameo_face_is_still_refused(app, clips, tmp_path):
    """Impersonation does not need the owner's own file: a re-filmed or re-uploaded copy is lower quality.

    Every frame of the same turn shrunk to half size, JPEG-compressed at
    quality 15 and scaled back still passes the quality gates, and its face
    embedding has moved well away from the original's (an exact-copy check
    would miss it). It is still the same person, so it is still refused.
    """
    cameos, store, media, users = app
    alices = cameos.create(users["alice"], clips["grace"], LEFT_FIRST)
    worse = face_clips.lower_quality_clip(tmp_path / "worse.mp4", "grace", ("left", "right"), quality=15, scale=0.5)
    original, copy = read_video(clips["grace"])[0][0], read_video(worse)[0][0]
    (face,), (copied_face,) = cameos.detector.detect([original, copy])
    moved = cameos.embedder.distance(cameos.embedder.embed(original, face), cameos.embedder.embed(copy, copied_face))
    assert moved > 0.15, moved  # not a near-duplicate of the enrolled clip
    with pytest.raises(CameoRejected, match="already belongs to another person") as refused:
        cameos.create(users["bob"], worse, LEFT_FIRST)
    assert refused.value.reason == "impersonation"
    assert [c["id"] for c in store.all_cameos()] == [alices["id"]] and store.cameo_of(users["bob"]) is None


def test_casting_checks_permission_before_any_compute(app, clips):
    cameos, store, media, users = app
    cameo = cameos.create(users["alice"], clips["grace"], LEFT_FIRST)
    assert [r.handle for r in cameos.cast(users["alice"], "@alice surfing")] == ["alice"]
    with pytest.raises(CameoNotAllowed, match="@alice has not allowed you"):
        cameos.cast(users["bob"], "@alice surfing")
    with pytest.raises(CameoNotAllowed, match="@carol has no cameo"):
        cameos.cast(users["alice"], "@alice and @carol")
    store.set_cameo_permission(users["alice"], cameo["id"], "approved", approved_ids=[users["bob"]])
    (reference,) = cameos.cast(users["bob"], "@Alice surfing at dawn")
    assert reference.cameo_id == cameo["id"] and reference.embedding.shape == (len(cameo["embedding"]),)
    store.set_cameo_permission(users["alice"], cameo["id"], "only_me")  # revoked: refused at once
    with pytest.raises(CameoNotAllowed):
        cameos.authorize(users["bob"])(reference)


def test_the_owner_deletes_another_users_draft_and_its_files(app, clips, tmp_path):
    cameos, store, media, users = app
    cameo = cameos.create(users["alice"], clips["grace"], LEFT_FIRST)
    store.set_cameo_permission(users["alice"], cameo["id"], "everyone")
    names = [media.new_name("videos", suffix) for suffix in (".mp4", ".jpg", ".webp")]
    for name in names:
        media.path(name).write_bytes(b"video bytes")
    draft = store.create_post(users["bob"], "@alice on the moon", video=names[0], thumbnail=names[1],
                              preview=names[2], cameo_ids=[cameo["id"]])
    with pytest.raises(NotFound):  # carol cannot even see bob's draft
        cameos.delete_post(users["carol"], draft["id"])
    cameos.delete_post(users["alice"], draft["id"])
    assert not any(media.path(n).exists() for n in names)
    assert store.posts_with_cameo(users["alice"], cameo["id"]) == []


def test_deleting_a_cameo_erases_every_trace(app, clips):
    cameos, store, media, users = app
    cameo = cameos.create(users["alice"], clips["grace"], LEFT_FIRST, keep_recording=True)
    assert len(media_files(media)) == 4
    cameos.delete(users["alice"], cameo["id"])
    assert media_files(media) == [] and store.all_cameos() == [] and store.cameo_of(users["alice"]) is None
    on_disk = b"".join(p.read_bytes() for p in store.directory.iterdir() if p.is_file())
    assert b"embedding" not in on_disk  # not in the snapshot, and the journal no longer holds it either
    # Once erased the same face may be enrolled again, by its owner.
    assert cameos.create(users["alice"], clips["grace"], LEFT_FIRST)["id"] != cameo["id"]


@pytest.mark.parametrize("first, then", [("left", "right"), ("right", "left")])
def test_the_instructions_name_the_turns_in_the_order_the_check_wants(first, then):
    text = Challenge(first).instructions
    assert text.index(f"to your {first}") < text.index(f"to your {then}")
    assert "camera" in text
