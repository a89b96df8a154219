"""The generation pipeline on tiny real diffusers pipelines of every supported family.

Each model is saved with ``save_pretrained`` and loaded back through
``pipeline.load_model`` exactly as a hub model would be.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

import tiny_pipelines
from pipeline import (
    CameoNotAllowed, CameoReference, GenerationCancelled, GenerationRequest, InvalidRequest, IPAdapterSource,
    ModelUnavailable, generate, load_model, validate, verify,
)
from pipeline.families import family_for
from pipeline.video_io import probe, read_video

SIZE = dict(height=32, width=32)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models are fastest single-threaded, and steadier when the other core is busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def saved(pipe, folder: Path, **load_options):
    pipe.save_pretrained(folder)
    return load_model(str(folder), device="cpu", **load_options)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    animatediff = tiny_pipelines.animatediff()
    ip_adapter = tiny_pipelines.save_ip_adapter(animatediff, root / "ip-adapter")
    return {
        "wan": saved(tiny_pipelines.wan(), root / "wan"),
        "wan-vace": saved(tiny_pipelines.wan(vace=True), root / "vace"),
        "animatediff": saved(animatediff, root / "animatediff"),
        "animatediff+ip": saved(tiny_pipelines.animatediff(), root / "animatediff-ip",
                                ip_adapter=IPAdapterSource(str(ip_adapter), "", "ip-adapter_tiny.safetensors")),
        "modelscope": saved(tiny_pipelines.modelscope(), root / "modelscope"),
    }


FRAMES = {"wan": 9, "wan-vace": 9, "animatediff": 4, "animatediff+ip": 4, "modelscope": 4}


def request(name: str, **overrides) -> GenerationRequest:
    settings = dict(prompt="a red ball rolls to the left", author_handle="alice", num_frames=FRAMES[name],
                    num_inference_steps=4, guidance_scale=5.0, seed=7, **SIZE)
    return GenerationRequest(**{**settings, **overrides})


def raw_frames(model, req: GenerationRequest, source=None) -> np.ndarray:
    """The decoded frames before watermark and encoding, for comparing outputs exactly."""
    generator = torch.Generator().manual_seed(req.seed)
    return model.family.run(req, source, generator, lambda done, total: None)


@pytest.fixture
def face() -> CameoReference:
    crop = Image.fromarray(data.astronaut()[50:190, 160:290]).resize((64, 64))
    return CameoReference(cameo_id=1, handle="alice", face_crops=(crop,), embedding=np.zeros(128),
                          embedding_backend="dlib")


def allow(cameo: CameoReference) -> None:
    """A permission check that lets every cameo through."""


def test_the_family_comes_from_the_pipeline_class_not_the_name(models):
    assert {name: m.family.name for name, m in models.items()} == {
        "wan": "wan", "wan-vace": "wan-vace", "animatediff": "animatediff", "animatediff+ip": "animatediff",
        "modelscope": "modelscope"}
    assert type(models["wan-vace"].pipe).__name__ == "WanVACEPipeline"
    with pytest.raises(InvalidRequest, match="not a text-to-video pipeline"):
        family_for(object())


@pytest.mark.parametrize("name", list(FRAMES))
def test_text_to_video_gives_the_asked_frames_and_is_deterministic(models, name):
    model = models[name]
    first = raw_frames(model, request(name))
    assert first.shape == (FRAMES[name], 32, 32, 3) and first.dtype == np.float32
    assert 0.0 <= first.min() and first.max() <= 1.0
    np.testing.assert_array_equal(raw_frames(model, request(name)), first)
    assert not np.allclose(raw_frames(model, request(name, seed=8)), first)


@pytest.mark.parametrize("name", ["wan", "animatediff", "modelscope"])
def test_remix_at_low_strength_stays_closer_to_the_source(models, name):
    """SDEdit: the less noise the source gets, the more of it survives.

    A random tiny VAE cannot reproduce the source's pixels, so closeness is
    measured against the model's own rendering of the source: the remix that
    re-noises it least (one step of ten).
    """
    model = models[name]
    rng = np.random.default_rng(0)
    source = np.zeros((FRAMES[name], 32, 32, 3), np.uint8)
    source[:, 8:24, 4:20] = (220, 30, 30)  # a red square on black
    source = np.clip(source.astype(int) + rng.integers(0, 20, source.shape), 0, 255).astype(np.uint8)
    out = {strength: raw_frames(model, request(name, strength=strength, num_inference_steps=10), source)
           for strength in (0.1, 0.3, 0.9)}
    assert all(frames.shape == source.shape for frames in out.values())
    distance = {strength: float(np.abs(out[strength] - out[0.1]).mean()) for strength in (0.3, 0.9)}
    assert distance[0.3] < distance[0.9]


def test_remix_through_generate_reads_the_source_file_and_records_the_parent(models, tmp_path):
    model = models["wan"]
    parent = generate(model, request("wan"), tmp_path / "media")
    remix = generate(model, request("wan", prompt="a blue ball", source_video=parent.video_path, strength=0.5,
                                    provenance={"parent_post_id": "12"}), tmp_path / "media")
    assert remix.metadata["strength"] == 0.5
    assert verify(remix.video_path)["parent_post_id"] == "12"


def test_generate_writes_a_playable_mp4_thumbnail_preview_and_provenance(models, tmp_path):
    steps = []
    video = generate(models["wan"], request("wan", provenance={"post_id": "42"}), tmp_path,
                     on_progress=lambda done, total: steps.append((done, total)))
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]
    info = probe(video.video_path)
    assert (info.codec, info.width, info.height) == ("h264", 256, 256)  # 32 px upscaled for display
    frames, fps = read_video(video.video_path)
    assert len(frames) == 9 and fps == models["wan"].limits.fps
    assert video.thumbnail_path.stat().st_size > 0 and Image.open(video.preview_path).n_frames == 9
    provenance = verify(video.video_path)
    assert provenance["ai_generated"] is True and provenance["generator"] == "Dreamreel"
    assert (provenance["seed"], provenance["post_id"], provenance["model"]) == (7, "42", models["wan"].name)
    assert video.video_path.parent == tmp_path and len(video.video_path.stem) >= 20  # unguessable name


def test_the_same_seed_gives_the_same_video_file_frames(models, tmp_path):
    a = generate(models["modelscope"], request("modelscope"), tmp_path)
    b = generate(models["modelscope"], request("modelscope"), tmp_path)
    np.testing.assert_array_equal(read_video(a.video_path)[0], read_video(b.video_path)[0])


def test_cameos_condition_vace_and_ip_adapter_models(models, face):
    for name in ("wan-vace", "animatediff+ip"):
        model = models[name]
        assert model.supports_cameos
        plain = raw_frames(model, request(name))
        starring = raw_frames(model, request(name, prompt="@alice skates", cameos=(face,)))
        assert starring.shape == plain.shape and not np.allclose(starring, plain)


@pytest.mark.parametrize("name", ["wan", "animatediff", "modelscope"])
def test_a_model_without_cameo_support_says_so_before_any_compute(models, face, name, tmp_path):
    model = models[name]
    assert not model.supports_cameos
    steps = []
    with pytest.raises(CameoNotAllowed, match="cannot put cameos"):
        generate(model, request(name, prompt="@alice waves", cameos=(face,)), tmp_path, authorize_cameo=allow,
                 on_progress=lambda *a: steps.append(a))
    assert steps == [] and list(tmp_path.iterdir()) == []


def test_a_cameo_the_author_may_not_use_is_refused_before_any_compute(models, face, tmp_path):
    def owner_says_no(cameo: CameoReference) -> None:
        raise CameoNotAllowed(f"@{cameo.handle} has not allowed you to use their cameo.")

    steps = []
    for check in (owner_says_no, None):
        with pytest.raises(CameoNotAllowed):
            generate(models["wan-vace"], request("wan-vace", prompt="@alice waves", cameos=(face,)), tmp_path,
                     authorize_cameo=check, on_progress=lambda *a: steps.append(a))
    assert steps == [] and list(tmp_path.iterdir()) == []


def test_cancel_stops_within_a_step_and_leaves_no_files(models, tmp_path):
    cancel = threading.Event()
    steps = []

    def on_progress(done: int, total: int) -> None:
        steps.append(done)
        if done == 2:
            cancel.set()

    with pytest.raises(GenerationCancelled):
        generate(models["wan"], request("wan", num_inference_steps=20), tmp_path, on_progress=on_progress,
                 cancel=cancel)
    assert steps == [1, 2]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("overrides, message", [
    (dict(prompt=""), "prompt of 1 to 500"),
    (dict(prompt="   "), "prompt of 1 to 500"),
    (dict(prompt="x" * 501), "prompt of 1 to 500"),
    (dict(num_frames=10), "Frames must be 1 to 121 in steps of 4"),
    (dict(num_frames=200), "Frames must be"),
    (dict(height=40), "Height must be"),
    (dict(width=8), "Width must be"),
    (dict(num_inference_steps=0), "Steps must be"),
    (dict(guidance_scale=-1.0), "Guidance must be"),
    (dict(seed=-5), "seed"),
])
def test_bad_settings_are_refused_with_a_clear_message(models, tmp_path, overrides, message):
    steps = []
    with pytest.raises(InvalidRequest, match=message):
        generate(models["wan"], request("wan", **overrides), tmp_path, on_progress=lambda *a: steps.append(a))
    assert steps == [] and list(tmp_path.iterdir()) == []


def test_more_than_three_cameos_are_refused(models, face, tmp_path):
    with pytest.raises(InvalidRequest, match="at most 3 cameos"):
        generate(models["wan-vace"], request("wan-vace", cameos=(face,) * 4), tmp_path, authorize_cameo=allow)


def test_an_unreadable_source_video_is_refused(models, tmp_path):
    fake = tmp_path / "clip.mp4"
    fake.write_text("this is not a video")
    with pytest.raises(InvalidRequest, match="cannot be read"):
        generate(models["wan"], request("wan", source_video=fake), tmp_path / "media")
    assert not (tmp_path / "media").exists() or list((tmp_path / "media").iterdir()) == []


def test_a_strength_that_leaves_no_step_is_refused(models, tmp_path):
    parent = generate(models["wan"], request("wan"), tmp_path)
    with pytest.raises(InvalidRequest, match="raise the strength or the steps"):
        generate(models["wan"], request("wan", source_video=parent.video_path, strength=0.1), tmp_path)


def test_a_missing_model_or_device_is_a_clear_error(tmp_path):
    with pytest.raises(ModelUnavailable, match="Could not load"):
        load_model(str(tmp_path / "nothing-here"), device="cpu")
    with pytest.raises(ModelUnavailable, match="auto, cuda or cpu"):
        load_model(str(tmp_path), device="tpu")


def test_the_environment_selects_the_model_and_its_memory_savers(tmp_path, monkeypatch):
    from settings import Settings

    tiny_pipelines.wan().save_pretrained(tmp_path / "my-model")
    monkeypatch.setenv("DREAMREEL_MODEL", str(tmp_path / "my-model"))
    monkeypatch.setenv("DREAMREEL_DEVICE", "cpu")
    monkeypatch.setenv("DREAMREEL_VAE_TILING", "1")
    model = Settings.from_env().load_model()
    assert (model.family.name, model.name, model.device.type) == ("wan", str(tmp_path / "my-model"), "cpu")
    assert model.pipe.vae.use_tiling
    monkeypatch.setenv("DREAMREEL_IP_ADAPTER", "just-a-name")
    with pytest.raises(ModelUnavailable, match="repo or folder,subfolder,file"):
        Settings.from_env().load_model()


@pytest.fixture(scope="module")
def embedded():
    """The app's default model, as it loads from assets/."""
    return load_model("embedded", device="cpu")


def embedded_request(**overrides) -> GenerationRequest:
    settings = dict(prompt="a red ball rolls to the left", author_handle="alice", num_frames=16, height=128,
                    width=128, num_inference_steps=2, guidance_scale=4.0, seed=7)
    return GenerationRequest(**{**settings, **overrides})


def test_the_embedded_models_limits_are_the_ones_its_messages_name(embedded):
    limits = embedded.limits
    assert (limits.size, limits.size_multiple, limits.frames, limits.steps, limits.guidance) == (
        (128, 512), 32, (16, 16), (1, 50), (0.0, 20.0))
    # The largest of everything is accepted (and checking it computes nothing).
    assert validate(embedded, embedded_request(height=512, width=512, num_inference_steps=50, guidance_scale=20.0))


@pytest.mark.parametrize("overrides, message", [
    (dict(height=544), "Height must be 128 to 512 pixels, a multiple of 32; got 544."),
    (dict(width=544), "Width must be 128 to 512 pixels, a multiple of 32; got 544."),
    (dict(height=544, width=128), "Height must be 128 to 512 pixels, a multiple of 32; got 544."),
    (dict(height=128, width=1024), "Width must be 128 to 512 pixels, a multiple of 32; got 1024."),
    (dict(num_frames=17), "Frames must be 16 to 16; got 17."),
    (dict(num_frames=32), "Frames must be 16 to 16; got 32."),
    (dict(num_inference_steps=51), "Steps must be 1 to 50; got 51."),
    (dict(guidance_scale=20.5), "Guidance must be 0.0 to 20.0; got 20.5."),
])
def test_settings_above_the_embedded_models_maximum_are_refused_before_any_compute(embedded, tmp_path, overrides,
                                                                                   message):
    steps = []
    with pytest.raises(InvalidRequest) as refused:
        generate(embedded, embedded_request(**overrides), tmp_path, on_progress=lambda *a: steps.append(a))
    assert str(refused.value) == message
    assert steps == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("overrides, message", [
    (dict(height=1296), "Height must be 16 to 1280 pixels, a multiple of 16; got 1296."),
    (dict(width=1296), "Width must be 16 to 1280 pixels, a multiple of 16; got 1296."),
    (dict(num_frames=125), "Frames must be 1 to 121 in steps of 4 from 1; got 125."),
    (dict(num_inference_steps=101), "Steps must be 1 to 100; got 101."),
])
def test_settings_above_a_hub_models_maximum_are_refused_before_any_compute(models, tmp_path, overrides, message):
    steps = []
    with pytest.raises(InvalidRequest) as refused:
        generate(models["wan"], request("wan", **overrides), tmp_path, on_progress=lambda *a: steps.append(a))
    assert str(refused.value) == message
    assert steps == [] and list(tmp_path.iterdir()) == []


def test_a_negative_prompt_may_be_as_long_as_a_prompt_and_no_longer(embedded):
    assert validate(embedded, embedded_request(negative_prompt="n" * 500))
    with pytest.raises(InvalidRequest, match="at most 500 characters"):
        validate(embedded, embedded_request(negative_prompt="n" * 501))


@pytest.mark.parametrize("strength", [0.0, -0.2, 1.01, 2.0])
def test_a_remix_strength_outside_zero_to_one_is_refused(embedded, tmp_path, strength):
    source = tmp_path / "source.mp4"
    source.write_bytes(b"never read: the strength is refused first")
    with pytest.raises(InvalidRequest, match="Remix strength must be above 0 and at most 1"):
        validate(embedded, embedded_request(source_video=source, strength=strength))


@pytest.mark.parametrize("family", ["EmbeddedFamily", "WanFamily", "ModelScopeFamily"])
def test_each_shape_maps_to_a_size_the_model_accepts(family):
    """Portrait, square and landscape give frames of that shape, of about the default's pixels, within limits."""
    from pipeline import families
    from vocabulary import ASPECTS

    limits = getattr(families, family).limits
    area = limits.default_size[0] * limits.default_size[1]
    for name, aspect in ASPECTS.items():
        height, width = limits.size_for(aspect)
        assert height % limits.size_multiple == 0 and width % limits.size_multiple == 0, (name, height, width)
        assert limits.size[0] <= min(height, width) and max(height, width) <= limits.size[1]
        assert abs(width / height - aspect) / aspect < 0.1, (name, height, width)
        assert 0.8 < width * height / area < 1.25, (name, height, width)
    assert limits.size_for(ASPECTS["portrait"])[0] > limits.size_for(ASPECTS["portrait"])[1]  # taller than wide
