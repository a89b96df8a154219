"""Faces and embeddings on real faces: real MTCNN, real dlib, real ffmpeg.

The faces are the astronaut and Grace Hopper photos, composited and turned by
tests/face_clips.py. Detection runs in batches and models are loaded once per
module: the file takes about 15 s on an idle 2-core machine.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageEnhance

import face_clips
from cameo.embedding import (
    FACENET_WEIGHTS_ENV,
    FACENET_WEIGHTS_FILE,
    DlibEmbedder,
    Embedding,
    FacenetEmbedder,
    default_embedder,
    facenet_weights_path,
    mean_embedding,
)
from cameo.faces import (
    MAX_LUMA,
    MIN_FACE_PX,
    MIN_LUMA,
    MIN_SHARPNESS,
    Face,
    FaceDetector,
    aligned_crop,
    face_quality,
    yaw_degrees,
)
from pipeline.video_io import read_video

PHOTOS = ["astronaut", "grace"]
TURNED = 15.0  # a head turn reads beyond this; anything else stays within it


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.fixture(scope="module")
def dlib_embedder() -> DlibEmbedder:
    return DlibEmbedder()


def one_face(detector: FaceDetector, frame: np.ndarray) -> Face:
    faces = detector.detect([frame])[0]
    assert len(faces) == 1
    return faces[0]


# --- detection -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PHOTOS)
def test_one_face_per_photo_with_landmarks_inside_its_box(detector, name):
    face = one_face(detector, face_clips.photo(name))
    assert face.box.dtype == np.float32 and face.box.shape == (4,)
    assert face.landmarks.dtype == np.float32 and face.landmarks.shape == (5, 2)
    assert face.prob >= detector.threshold_prob
    x0, y0, x1, y1 = face.box
    assert ((face.landmarks >= (x0, y0)) & (face.landmarks <= (x1, y1))).all()
    left_eye, right_eye, nose, mouth_left, mouth_right = face.landmarks
    assert left_eye[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
    assert face.width == pytest.approx(x1 - x0)


def test_no_face_in_a_landscape(detector):
    assert detector.detect([face_clips.landscape_frame()]) == [[]]


def test_two_faces_side_by_side(detector):
    faces = detector.detect([face_clips.two_faces_frame()])[0]
    assert len(faces) == 2
    centres = sorted((f.box[0] + f.box[2]) / 2 for f in faces)
    assert centres[0] < face_clips.SIZE[0] / 2 < centres[1]
    assert faces[0].prob >= faces[1].prob


def test_batches_keep_each_frames_faces_in_order(detector):
    """Frames of different sizes in one call: each gets its own faces, as if detected alone."""
    frames = [face_clips.photo("astronaut"), face_clips.landscape_frame(), face_clips.photo("grace"),
              face_clips.two_faces_frame()]
    batched = detector.detect(frames)
    assert [len(faces) for faces in batched] == [1, 0, 1, 2]
    for frame, faces in zip(frames, batched):
        alone = detector.detect([frame])[0]
        for a, b in zip(faces, alone):
            np.testing.assert_allclose(a.box, b.box, atol=0.5)
    assert detector.detect([]) == []


# --- yaw ---------------------------------------------------------------------------------------------------------

def test_yaw_formula_ignores_roll_and_scale_and_follows_the_nose():
    frontal = np.array([[40, 50], [80, 50], [60, 70], [45, 90], [75, 90]], np.float64)
    assert yaw_degrees(frontal) == pytest.approx(0.0, abs=1e-9)
    toward_right = frontal + [[0, 0], [0, 0], [10, 0], [0, 0], [0, 0]]  # nose 1/4 eye distance to the image right
    assert yaw_degrees(toward_right) == pytest.approx(np.degrees(np.arctan2(0.25, 0.45)))
    angle = np.radians(35)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = 2.5 * toward_right @ rotation.T + [300, -20]
    assert yaw_degrees(moved) == pytest.approx(yaw_degrees(toward_right))


@pytest.mark.parametrize("name", PHOTOS)
def test_photos_face_the_camera(detector, name):
    assert abs(one_face(detector, face_clips.photo(name)).yaw) < 8


@pytest.mark.parametrize("name", PHOTOS)
def test_head_turns_read_with_the_right_sign(detector, name):
    """Turning to one's own left (positive yaw, see face_clips) reads positive; to the right, negative."""
    frames = face_clips.head_turn_frames(name, [face_clips.DIRECTION_SIGN["left"] * 30,
                                                face_clips.DIRECTION_SIGN["right"] * 30])
    (left,), (right,) = detector.detect(list(frames))
    assert left.yaw > TURNED
    assert right.yaw < -TURNED


@pytest.mark.parametrize("name", PHOTOS)
def test_a_tilted_or_rolled_photo_is_not_a_turn(detector, name):
    """A print swung ±30° about its vertical axis, or rolled ±10°, keeps the nose between the eyes."""
    frames = [*face_clips.tilted_frames(name, [-30, 30]), *face_clips.rolled_frames(name, [-10, 10])]
    for faces in detector.detect(frames):
        assert len(faces) == 1
        assert abs(faces[0].yaw) < 0.8 * TURNED


# --- quality -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PHOTOS)
def test_dark_and_blurred_faces_fail_the_quality_gates(detector, name):
    frame = face_clips.head_turn_frames(name, [0])[0]
    dark, blurred = face_clips.darken(frame[None])[0], face_clips.blur(frame[None])[0]
    (face,), (dark_face,), (blurred_face,) = detector.detect([frame, dark, blurred])
    good, dim, soft = face_quality(frame, face), face_quality(dark, dark_face), face_quality(blurred, blurred_face)

    assert good.width_px >= MIN_FACE_PX and MIN_LUMA <= good.luma <= MAX_LUMA and good.sharpness >= MIN_SHARPNESS
    assert dim.luma < MIN_LUMA
    assert dim.sharpness == pytest.approx(good.sharpness, rel=0.25)  # darkness alone is not blur
    assert soft.sharpness < MIN_SHARPNESS / 2
    assert soft.luma == pytest.approx(good.luma, rel=0.1)  # blur alone is not darkness


def test_small_faces_fail_the_size_gate(detector):
    frame = np.asarray(Image.fromarray(face_clips.head_turn_frames("grace", [0])[0]).resize((256, 192)))
    assert face_quality(frame, one_face(detector, frame)).width_px < MIN_FACE_PX


def test_overexposed_faces_fail_the_luma_gate(detector):
    """At ×1.25 half of the astronaut's face box is clipped to white."""
    bright = np.asarray(ImageEnhance.Brightness(Image.fromarray(face_clips.photo("astronaut"))).enhance(1.25))
    assert face_quality(bright, one_face(detector, bright)).luma > MAX_LUMA


# --- aligned crops -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PHOTOS)
def test_aligned_crops_have_level_eyes_and_a_steady_scale(detector, name):
    frames = [*face_clips.rolled_frames(name, [-15, 15]), *face_clips.head_turn_frames(name, [-30, 0, 30])]
    crops = [aligned_crop(frame, faces[0]) for frame, faces in zip(frames, detector.detect(frames))]
    assert all(c.shape == (160, 160, 3) and c.dtype == np.uint8 for c in crops)
    eye_mouth = []
    for faces in detector.detect(crops):
        lm = faces[0].landmarks
        assert abs(lm[0, 1] - lm[1, 1]) < 4                   # eyes level
        assert abs((lm[0, 0] + lm[1, 0]) / 2 - 80) < 10       # and centred
        eye_mouth.append((lm[3, 1] + lm[4, 1] - lm[0, 1] - lm[1, 1]) / 2)
    assert max(eye_mouth) < 1.2 * min(eye_mouth)  # the same face size through roll and turn
    assert aligned_crop(frames[0], detector.detect(frames[:1])[0][0], size=112).shape == (112, 112, 3)


def test_aligned_crop_frames_a_face_alike_at_any_resolution(detector):
    """The same face at twice the size (pre-shrunk before resampling) lands in the same place in the crop."""
    small = face_clips.photo("grace")
    large = np.asarray(Image.fromarray(small).resize((small.shape[1] * 2, small.shape[0] * 2), Image.BICUBIC))
    crops = [aligned_crop(frame, one_face(detector, frame)) for frame in (small, large)]
    a, b = (one_face(detector, crop).landmarks for crop in crops)
    assert np.abs(a - b).max() < 4


# --- dlib embeddings ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dlib_vectors(detector, dlib_embedder) -> dict[str, dict[str, Embedding]]:
    """Per photo: the original's embedding and those of copies that should still be the same person."""
    out = {}
    for name in PHOTOS:
        pil = Image.fromarray(face_clips.photo(name))
        same_size = {
            "original": face_clips.photo(name),
            "darker": np.asarray(ImageEnhance.Brightness(pil).enhance(0.6)),
            "rotated": np.asarray(pil.rotate(12, resample=Image.Resampling.BILINEAR, fillcolor=(128, 128, 128))),
        }
        turns = dict(zip(["turned -30", "turned +30"], face_clips.head_turn_frames(name, [-30, 30])))
        out[name] = {}
        for group in (same_size, turns):
            for (label, frame), faces in zip(group.items(), detector.detect(list(group.values()))):
                out[name][label] = dlib_embedder.embed(frame, faces[0])
    return out


def test_dlib_embeddings_are_128_floats_and_deterministic(detector, dlib_embedder, dlib_vectors):
    e = dlib_vectors["grace"]["original"]
    assert e.backend == "dlib-resnet-v1" == dlib_embedder.backend
    assert e.vector.dtype == np.float32 and e.vector.shape == (128,)
    photo = face_clips.photo("grace")
    again = dlib_embedder.embed(photo, one_face(detector, photo))
    assert np.array_equal(again.vector, e.vector)


@pytest.mark.parametrize("name", PHOTOS)
def test_dlib_same_person_through_light_rotation_and_turns(dlib_embedder, dlib_vectors, name):
    original = dlib_vectors[name]["original"]
    for label, e in dlib_vectors[name].items():
        assert dlib_embedder.distance(original, e) < dlib_embedder.same_person_threshold, label
        assert dlib_embedder.same_person(original, e)


def test_dlib_tells_the_astronaut_from_grace_hopper(dlib_embedder, dlib_vectors):
    for a in dlib_vectors["astronaut"].values():
        for g in dlib_vectors["grace"].values():
            assert not dlib_embedder.same_person(a, g)
            assert dlib_embedder.distance(a, g) > dlib_embedder.same_person_threshold


def test_mean_embedding(dlib_embedder, dlib_vectors):
    grace = list(dlib_vectors["grace"].values())
    mean = mean_embedding(grace)
    assert mean.backend == "dlib-resnet-v1" and mean.vector.dtype == np.float32
    np.testing.assert_allclose(mean.vector, np.mean([e.vector for e in grace], axis=0), atol=1e-6)
    assert all(dlib_embedder.same_person(mean, e) for e in grace)
    assert not dlib_embedder.same_person(mean, dlib_vectors["astronaut"]["original"])

    unit = [Embedding(np.array([1, 0], np.float32), "facenet-vggface2"),
            Embedding(np.array([0, 1], np.float32), "facenet-vggface2")]
    np.testing.assert_allclose(mean_embedding(unit).vector, [0.7071068, 0.7071068], rtol=1e-6)
    with pytest.raises(ValueError):
        mean_embedding([])
    with pytest.raises(ValueError):
        mean_embedding([grace[0], unit[0]])


def test_comparing_across_backends_is_refused(dlib_embedder, dlib_vectors):
    mine = dlib_vectors["grace"]["original"]
    foreign = Embedding(mine.vector.copy(), "facenet-vggface2")
    for a, b in [(mine, foreign), (foreign, mine)]:
        with pytest.raises(ValueError, match="facenet-vggface2"):
            dlib_embedder.distance(a, b)
        with pytest.raises(ValueError):
            dlib_embedder.same_person(a, b)


# --- facenet backend (its real loading code, on randomly initialised weights) -----------------------------------

@pytest.fixture(scope="module")
def random_facenet_weights(tmp_path_factory):
    """A checkpoint shaped like the VGGFace2 one (with its classifier), from an untrained network."""
    import torch
    from facenet_pytorch import InceptionResnetV1

    torch.manual_seed(0)
    model = InceptionResnetV1(pretrained=None)
    model.logits = torch.nn.Linear(512, 8631)  # the real file carries the VGGFace2 classifier: it must be dropped
    path = tmp_path_factory.mktemp("facenet") / "weights.pt"
    torch.save(model.state_dict(), path)
    return path


def test_facenet_backend_loads_and_embeds(monkeypatch, random_facenet_weights, detector, dlib_vectors):
    monkeypatch.setenv(FACENET_WEIGHTS_ENV, str(random_facenet_weights))
    assert facenet_weights_path() == random_facenet_weights
    embedder = default_embedder()
    assert isinstance(embedder, FacenetEmbedder) and default_embedder() is embedder
    assert embedder.backend == "facenet-vggface2"

    photo = face_clips.photo("grace")
    face = one_face(detector, photo)
    e = embedder.embed(photo, face)
    assert e.backend == "facenet-vggface2"
    assert e.vector.dtype == np.float32 and e.vector.shape == (512,)
    assert np.linalg.norm(e.vector) == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(embedder.embed(photo, face).vector, e.vector)

    # Untrained weights know nobody, so no distance here can say "same person" (that is
    # test_the_default_backend_tells_people_apart_across_frames_and_copies). What they show is the backend's
    # plumbing: the vector comes from the face it is given, and distance is the real euclidean distance.
    frame = face_clips.head_turn_frames("grace", [0])[0]  # the same face, moved and rescaled in another image
    astronaut = face_clips.photo("astronaut")
    moved = embedder.embed(frame, one_face(detector, frame))
    other = embedder.embed(astronaut, one_face(detector, astronaut))
    apart = embedder.distance(e, other)
    assert apart == pytest.approx(float(np.linalg.norm(e.vector - other.vector)), rel=1e-6)
    assert 0 < apart <= 2 and embedder.distance(other, e) == apart  # unit vectors: at most 2 apart
    # Seeded, the untrained network still sees which face it was given: the aligned crop of the moved face
    # is nearer its source than either is to another face (measured 0.004 against 0.009 and 0.011).
    assert embedder.distance(e, moved) < min(apart, embedder.distance(moved, other))

    with pytest.raises(ValueError):
        embedder.distance(e, dlib_vectors["grace"]["original"])
    with pytest.raises(ValueError):
        embedder.same_person(dlib_vectors["grace"]["original"], e)


def test_without_facenet_weights_dlib_is_the_default(monkeypatch, tmp_path):
    monkeypatch.delenv(FACENET_WEIGHTS_ENV, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert facenet_weights_path() is None
    embedder = default_embedder()
    assert isinstance(embedder, DlibEmbedder) and default_embedder() is embedder


def test_facenet_weights_are_found_in_the_torch_cache(monkeypatch, tmp_path):
    cached = tmp_path / "checkpoints" / FACENET_WEIGHTS_FILE
    cached.parent.mkdir()
    cached.touch()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv(FACENET_WEIGHTS_ENV, str(tmp_path / "missing.pt"))  # set but absent: ignored
    assert facenet_weights_path() == cached


# --- clips through ffmpeg ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Every kind of test clip, 2 s at 10 fps, written to MP4 and read back."""
    root = tmp_path_factory.mktemp("clips")
    short = dict(seconds=2, fps=10)
    paths = {
        "left-right": face_clips.turn_clip(root / "lr.mp4", "grace", ("left", "right"), **short),
        "right-left": face_clips.turn_clip(root / "rl.mp4", "astronaut", ("right", "left"), **short),
        "static": face_clips.static_clip(root / "static.mp4", "grace", **short),
        "two": face_clips.two_faces_clip(root / "two.mp4", **short),
        "dark": face_clips.dark_clip(root / "dark.mp4", "grace", **short),
        "blurred": face_clips.blurred_clip(root / "blurred.mp4", "grace", **short),
        "none": face_clips.no_face_clip(root / "none.mp4", **short),
    }
    return {kind: read_video(path)[0] for kind, path in paths.items()}


def test_the_default_backend_tells_people_apart_across_frames_and_copies(detector, clips):
    """Distances that mean something, with the embedder the app uses on this machine and its threshold.

    The same person in different images (two frames of her clip after an
    ffmpeg round trip, one of them turned, and her photo shifted and
    re-encoded as a JPEG) is within the threshold of each of her other images;
    every image of the other person is beyond it. With dlib (0.55): the same
    person 0.11-0.32 apart, the two people 0.61-0.66.
    """
    embedder = default_embedder()
    images = {}
    for name, clip in (("grace", "left-right"), ("astronaut", "right-left")):
        photo = face_clips.photo(name)
        encoded = io.BytesIO()
        Image.fromarray(photo[17:, 23:]).save(encoded, "JPEG", quality=40)  # shifted 17 px down, 23 px left
        images[name] = [clips[clip][0], clips[clip][3], np.asarray(Image.open(encoded).convert("RGB"))]
    embeddings = {name: [embedder.embed(frame, one_face(detector, frame)) for frame in frames]
                  for name, frames in images.items()}
    same = [embedder.distance(a, b) for person in embeddings.values() for i, a in enumerate(person)
            for b in person[i + 1:]]
    different = [embedder.distance(a, b) for a in embeddings["grace"] for b in embeddings["astronaut"]]
    assert abs(yaw_degrees(one_face(detector, images["grace"][1]).landmarks)) > TURNED  # a real second pose
    assert max(same) < embedder.same_person_threshold < min(different), (same, different)


def test_clips_are_playable_mp4s_of_the_expected_shape(clips):
    for frames in clips.values():
        assert frames.shape == (20, 480, 640, 3)


@pytest.mark.parametrize("kind, order", [("left-right", ("left", "right")), ("right-left", ("right", "left"))])
def test_turn_clips_turn_in_the_requested_order(detector, clips, kind, order):
    yaws = [faces[0].yaw for faces in detector.detect(list(clips[kind]))]
    first = face_clips.DIRECTION_SIGN[order[0]]
    assert first * max(yaws, key=lambda y: first * y) > TURNED
    assert first * min(yaws, key=lambda y: first * y) < -TURNED
    assert int(np.argmax([first * y for y in yaws])) < int(np.argmin([first * y for y in yaws]))
    assert abs(yaws[0]) < 10 and abs(yaws[-1]) < 10


def test_a_static_clip_never_turns(detector, clips):
    yaws = [faces[0].yaw for faces in detector.detect(list(clips["static"][::4]))]
    assert max(yaws) - min(yaws) < 3


def test_the_other_clips_show_what_they_say(detector, clips):
    sample = slice(None, None, 5)
    assert all(len(faces) == 2 for faces in detector.detect(list(clips["two"][sample])))
    assert all(faces == [] for faces in detector.detect(list(clips["none"][sample])))
    dark = detector.detect(list(clips["dark"][sample]))
    assert sum(len(faces) == 1 for faces in dark) >= len(dark) / 2  # some turned frames are lost in the dark
    for frame, faces in zip(clips["dark"][sample], dark):
        assert all(face_quality(frame, face).luma < MIN_LUMA for face in faces)
    for frame, faces in zip(clips["blurred"][sample], detector.detect(list(clips["blurred"][sample]))):
        assert face_quality(frame, faces[0]).sharpness < MIN_SHARPNESS
