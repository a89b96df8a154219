"""Content credentials with the real c2pa library, on real MP4s (no mocks).

One clip is encoded once per module: a colour gradient sliding right, 16
frames of 256x256 at 8 fps. One local instance signs it; the other instances
(another local one, a production one) are made where a test needs them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import secrets
import stat
import subprocess
import threading
from pathlib import Path

import c2pa
import imageio_ffmpeg
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from pipeline.content_credentials import (
    AI_GENERATED, CERTIFICATE_FILE, KEY_FILE, ROOT_FILE, ContentCredentials, CredentialsCheck,
)
from pipeline.invisible_watermark import InvisibleWatermark
from pipeline.provenance import Provenance, VideoCheck
from pipeline.video_io import read_video, write_mp4

GENERATION = {"generator": "Dreamreel", "model": "tiny-t2v", "seed": 1234, "steps": 4, "post_id": 42}


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    ramp = np.linspace(0, 255, 256, dtype=np.float32)
    frames = np.stack([np.stack([np.broadcast_to((ramp + 16 * i) % 256, (256, 256)),
                                 np.broadcast_to(ramp[:, None], (256, 256)),
                                 np.full((256, 256), 96.0)], axis=-1) for i in range(16)]).astype(np.uint8)
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_mp4(frames, path, 8, {"comment": "test clip"})
    return path


@pytest.fixture(scope="module")
def instance_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance") / "c2pa"


@pytest.fixture(scope="module")
def credentials(instance_dir) -> ContentCredentials:
    return ContentCredentials.for_instance(instance_dir)


@pytest.fixture(scope="module")
def signed(credentials, clip, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("signed") / "video.mp4"
    credentials.sign(clip, path, GENERATION)
    return path


def test_signed_video_is_trusted_ai_generated_and_plays_the_same(credentials, clip, signed):
    before = hashlib.sha256(clip.read_bytes()).digest()
    check = credentials.check(signed)
    assert check == CredentialsCheck(state="Trusted", ai_generated=True, generation=GENERATION, parent=None,
                                     signer="Dreamreel", failures=())
    assert hashlib.sha256(clip.read_bytes()).digest() == before
    assert credentials.check(clip).state == "Missing"
    original, fps = read_video(clip)
    played, signed_fps = read_video(signed)
    assert signed_fps == fps and played.shape == (16, 256, 256, 3)
    np.testing.assert_array_equal(played, original)


def test_signing_in_place_leaves_no_temporary_file(credentials, clip, tmp_path):
    path = tmp_path / "in-place.mp4"
    path.write_bytes(clip.read_bytes())
    credentials.sign(path, path, {"seed": 7})
    assert [p.name for p in tmp_path.iterdir()] == ["in-place.mp4"]
    check = credentials.check(path)
    assert (check.state, check.generation) == ("Trusted", {"seed": 7})


def test_certificate_and_key_are_made_once_and_reused(credentials, instance_dir, signed):
    assert sorted(p.name for p in instance_dir.iterdir()) == sorted([CERTIFICATE_FILE, KEY_FILE, ROOT_FILE])
    assert stat.S_IMODE((instance_dir / KEY_FILE).stat().st_mode) == 0o600
    files = {name: (instance_dir / name).read_bytes() for name in (CERTIFICATE_FILE, KEY_FILE, ROOT_FILE)}
    again = ContentCredentials.for_instance(instance_dir)
    assert {name: (instance_dir / name).read_bytes() for name in files} == files
    assert again.check(signed).state == "Trusted"

    leaf = x509.load_pem_x509_certificate(files[CERTIFICATE_FILE])
    root = x509.load_pem_x509_certificate(files[ROOT_FILE])
    assert leaf.issuer == root.subject != leaf.subject
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # Without a timestamp authority an expired leaf invalidates every video it signed.
    assert leaf.not_valid_after_utc - dt.datetime.now(dt.timezone.utc) > dt.timedelta(days=99 * 365)


def test_remix_carries_its_parent(credentials, clip, signed, tmp_path):
    remix = tmp_path / "remix.mp4"
    credentials.sign(clip, remix, {**GENERATION, "remix_of": 42, "post_id": 43}, parent=signed)
    check = credentials.check(remix)
    assert (check.state, check.ai_generated, check.parent) == ("Trusted", True, "video.mp4")
    assert check.generation["remix_of"] == 42
    assert credentials.check(signed).parent is None


def test_flipped_video_bytes_are_invalid(credentials, signed, tmp_path):
    data = bytearray(signed.read_bytes())
    frames_at = data.index(b"mdat") + 4
    for i in range(frames_at + 100, frames_at + 110):
        data[i] ^= 0xFF
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    check = credentials.check(tampered)
    assert check.state == "Invalid"
    assert any(f.startswith("assertion.bmffHash.mismatch: ") for f in check.failures)


def test_reencoded_video_has_no_credentials(credentials, signed, tmp_path):
    copy = tmp_path / "reencoded.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(signed),
                    "-c:v", "libx264", "-crf", "28", str(copy)], check=True)
    assert read_video(copy)[0].shape == (16, 256, 256, 3)
    assert credentials.check(copy) == CredentialsCheck("Missing")


def test_another_instance_sees_valid_but_not_trusted(credentials, clip, signed, tmp_path):
    other = ContentCredentials.for_instance(tmp_path / "elsewhere", "Elsewhere")
    check = other.check(signed)
    assert (check.state, check.ai_generated, check.generation, check.signer) == (
        "Valid", True, GENERATION, "Dreamreel")
    assert check.failures == ("signingCredential.untrusted: signing certificate untrusted",)
    theirs = tmp_path / "theirs.mp4"
    other.sign(clip, theirs, {"seed": 1})
    assert (other.check(theirs).state, other.check(theirs).signer) == ("Trusted", "Elsewhere")
    assert credentials.check(theirs).state == "Valid"


def _certificate(subject: x509.Name, key, issuer: x509.Name, issuer_key, *, ca: bool,
                 usages: list[x509.ObjectIdentifier]) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    no = dict(content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
              encipher_only=False, decipher_only=False)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, **no),
                              critical=True))
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


@pytest.fixture
def production(tmp_path) -> dict[str, Path]:
    """A test CA's root and a newsroom's P-384 signing certificate (documentSigning) under it."""
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP384R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test CA"),
                           x509.NameAttribute(NameOID.COMMON_NAME, "Test CA root")])
    leaf_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Newsroom"),
                           x509.NameAttribute(NameOID.COMMON_NAME, "Example Newsroom video signing")])
    root = _certificate(root_name, root_key, root_name, root_key, ca=True, usages=[])
    leaf = _certificate(leaf_name, leaf_key, root_name, root_key, ca=False,
                        usages=[x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")])
    paths = {"certificate": tmp_path / "chain.pem", "private_key": tmp_path / "key.pem",
             "trust_anchors": tmp_path / "roots.pem"}
    paths["certificate"].write_bytes(_pem(leaf))
    paths["private_key"].write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM,
                                                            serialization.PrivateFormat.PKCS8,
                                                            serialization.NoEncryption()))
    paths["trust_anchors"].write_bytes(_pem(root))
    return paths


def test_production_certificate_given_by_paths_is_used(credentials, clip, signed, production, tmp_path):
    directory = tmp_path / "c2pa"
    newsroom = ContentCredentials.for_instance(directory, **production)
    assert not directory.exists()  # no local certificate is made
    video = tmp_path / "newsroom.mp4"
    newsroom.sign(clip, video, GENERATION)
    check = newsroom.check(video)
    assert (check.state, check.signer, check.generation, check.failures) == (
        "Trusted", "Example Newsroom", GENERATION, ())
    assert newsroom.check(signed).state == "Valid"
    assert credentials.check(video).state == "Valid"


def test_production_instance_still_trusts_its_earlier_local_root(instance_dir, signed, production):
    newsroom = ContentCredentials.for_instance(instance_dir, **production)
    assert newsroom.check(signed).state == "Trusted"


def test_unusable_production_certificates_are_refused_at_start(production, tmp_path):
    stranger = tmp_path / "other-key.pem"
    stranger.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ValueError, match="does not belong"):
        ContentCredentials.for_instance(tmp_path, **{**production, "private_key": stranger})

    key = serialization.load_pem_private_key(production["private_key"].read_bytes(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Newsroom")])
    server = _certificate(name, key, name, key, ca=False, usages=[ExtendedKeyUsageOID.SERVER_AUTH])
    production["certificate"].write_bytes(_pem(server))
    with pytest.raises(ValueError, match="extended key usage"):
        ContentCredentials.for_instance(tmp_path, **production)
    with pytest.raises(ValueError, match="together"):
        ContentCredentials.for_instance(tmp_path, certificate=production["certificate"])


def test_uploads_that_are_not_signed_videos_never_raise(credentials, signed, tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a video\n" * 20)
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, np.uint8).tobytes())
    Image.new("RGB", (32, 32), "red").save(tmp_path / "photo.jpg")
    for name in ("empty.mp4", "notes.txt", "noise.mp4", "photo.jpg"):
        assert credentials.check(tmp_path / name) == CredentialsCheck("Missing"), name

    data = signed.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    (tmp_path / "cut-in-manifest.mp4").write_bytes(data[:1000])
    for name in ("cut.mp4", "cut-in-manifest.mp4"):
        check = credentials.check(tmp_path / name)
        assert check.state == "Invalid" and check.failures, name


def test_a_remote_manifest_is_not_fetched(credentials, clip, tmp_path):
    requests = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_error(404)

        def log_message(self, *args):
            pass

    with http.server.HTTPServer(("127.0.0.1", 0), Recorder) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        builder = c2pa.Builder({"title": "remote.mp4", "assertions": [{"label": "c2pa.actions", "data": {
            "actions": [{"action": "c2pa.created", "digitalSourceType": AI_GENERATED}]}}]},
            context=credentials.context)
        builder.set_no_embed()
        builder.set_remote_url(f"http://127.0.0.1:{server.server_port}/manifest.c2pa")
        with open(clip, "rb") as source, open(tmp_path / "remote.mp4", "w+b") as destination:
            builder.sign(credentials.signer, "video/mp4", source, destination)
        check = credentials.check(tmp_path / "remote.mp4")
        server.shutdown()
    assert check.state == "Missing" and "never fetched" in check.failures[0]
    assert requests == []


def test_verify_links_a_post_only_through_proof_from_this_instance(clip, tmp_path):
    """A manifest anyone can sign ("Valid") claiming one of our post ids leads to no post; the same claim signed here does.

    The impostor copies everything it can: the organisation name "Dreamreel", the generation assertion with
    post 42, and an invisible watermark carrying 42 under its own key. Only our key or a trusted root proves origin.
    """
    here = Provenance.for_instance(tmp_path / "here")
    impostor = ContentCredentials.for_instance(tmp_path / "impostor")  # its own root, also named "Dreamreel"
    frames, fps = read_video(clip)
    their_mark = InvisibleWatermark(secrets.token_bytes(32))
    marked = their_mark.embed(frames, 42)
    assert their_mark.detect(marked).payload == 42  # a real watermark carrying 42, just not under our key

    for name, video_frames in (("unmarked.mp4", frames), ("marked-by-them.mp4", marked)):
        forged = tmp_path / name
        write_mp4(video_frames, forged, fps, {"dreamreel": '{"generator": "Dreamreel", "post_id": 42}'})
        impostor.sign(forged, forged, GENERATION)
        theirs = their_mark.detect(read_video(forged)[0])
        assert (theirs.payload if theirs else None) == (42 if video_frames is marked else None), name
        check = here.check(forged)
        assert (check.credentials.state, check.credentials.signer, check.credentials.generation["post_id"]) == (
            "Valid", "Dreamreel", 42), name
        assert check.watermark is None and check.tag["post_id"] == 42, name  # the tag claims it too: anyone can
        assert check.post_id is None and not check.from_this_instance, name

    ours = tmp_path / "ours.mp4"
    write_mp4(frames, ours, fps, {})  # no watermark: the signed manifest alone must link it
    here.sign(ours, GENERATION)
    check = here.check(ours)
    assert (check.credentials.state, check.watermark) == ("Trusted", None)
    assert check.post_id == 42 and check.from_this_instance

    for state in ("Valid", "Invalid", "Missing"):  # a broken or unknown manifest proves nothing either
        claims = VideoCheck(tag={"generator": "Dreamreel", "post_id": 42}, watermark=None,
                            credentials=CredentialsCheck(state, ai_generated=True, generation=GENERATION))
        assert claims.post_id is None and not claims.from_this_instance, state
