"""Provenance beyond the visible watermark: what lets anyone check a video after it left the app.

Three layers, each surviving more than the one before:

* the ``dreamreel`` MP4 tag: how the video was made (a re-mux drops it);
* a C2PA manifest signed by this instance: tamper-evident, with the
  AI-generated assertion, the model and, for a remix, its parent (a re-encode
  drops it);
* an invisible watermark carrying the post id: it survives H.264
  re-encoding and downscaling, so even a re-uploaded copy leads back to its post.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .content_credentials import ContentCredentials, CredentialsCheck
from .invisible_watermark import InvisibleWatermark, WatermarkReading
from .video_io import probe, read_metadata, read_video

GENERATOR_NAME = "Dreamreel"
PROVENANCE_TAG = "dreamreel"

CHECK_FRAMES = 48
"""Frames decoded to look for the watermark: its vote over frames is sure long before that."""
CHECK_SIDE = 640
"""Larger uploads are decoded downscaled: the watermark lives in low frequencies."""


@dataclass(frozen=True)
class VideoCheck:
    """Everything a video says about where it came from."""

    tag: dict | None
    """The ``dreamreel`` MP4 tag, if the file still has it (anyone can write one: not proof)."""
    watermark: WatermarkReading | None
    """This instance's invisible watermark, if found."""
    credentials: CredentialsCheck
    """The C2PA manifest and whether it validates."""

    @property
    def from_this_instance(self) -> bool:
        """Proof, not claims: our own watermark, or a manifest signed by a root this instance trusts."""
        return self.watermark is not None or self.credentials.state == "Trusted"

    @property
    def post_id(self) -> int | None:
        """The post the video belongs to, read from the watermark or, failing that, the trusted manifest."""
        if self.watermark is not None:
            return self.watermark.payload
        if self.credentials.state == "Trusted":
            post_id = self.credentials.generation.get("post_id")
            return post_id if isinstance(post_id, int) else None
        return None


class Provenance:
    """This instance's marks: the invisible watermark's key and the content-credentials signer."""

    def __init__(self, watermark: InvisibleWatermark, credentials: ContentCredentials) -> None:
        self.watermark = watermark
        self.credentials = credentials

    @classmethod
    def for_instance(cls, directory: Path, *, certificate: Path | None = None, private_key: Path | None = None,
                     trust_anchors: Path | None = None) -> Provenance:
        """Keys and certificates in ``directory``, made on the first start; production certificates by path."""
        directory = Path(directory)
        return cls(InvisibleWatermark.from_key_file(directory / "watermark.key"),
                   ContentCredentials.for_instance(directory / "c2pa", certificate=certificate,
                                                   private_key=private_key, trust_anchors=trust_anchors))

    def mark(self, frames: np.ndarray, post_id: int) -> np.ndarray:
        """The frames with the post id woven in, invisibly."""
        return self.watermark.embed(frames, post_id)

    def sign(self, video: Path, generation: dict, parent: Path | None = None) -> None:
        """Embed a signed manifest in the MP4 in place; a remix names its parent video as an ingredient."""
        self.credentials.sign(video, video, generation, parent)

    def check(self, path: Path) -> VideoCheck:
        """Read every layer of a video file; raises ``VideoError`` if it cannot be decoded at all."""
        path = Path(path)
        info = probe(path)
        scale = min(1.0, CHECK_SIDE / max(info.width, info.height))
        size = None if scale == 1.0 else (2 * round(info.width * scale / 2), 2 * round(info.height * scale / 2))
        frames, _ = read_video(path, max_frames=CHECK_FRAMES, size=size)
        return VideoCheck(tag=verify(path), watermark=self.watermark.detect(frames),
                          credentials=self.credentials.check(path))


def verify(path: Path) -> dict | None:
    """The provenance Dreamreel wrote into a video, or ``None`` if it carries none."""
    tag = read_metadata(path).get(PROVENANCE_TAG)
    if tag is None:
        return None
    try:
        provenance = json.loads(tag)
    except json.JSONDecodeError:
        return None
    return provenance if isinstance(provenance, dict) and provenance.get("generator") == GENERATOR_NAME else None
