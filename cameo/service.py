"""Cameos for the app: make one from a clip, cast them from @mentions, erase them.

Everything the owner controls goes through the store (who may use the cameo,
every video that uses it); this class adds the faces and the files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from feed_store import FeedStore, NotFound
from feed_store.media import MediaFolder
from pipeline.request import MAX_CAMEOS, CameoNotAllowed, CameoReference
from vocabulary import MENTION_RE

from .capture import CameoRejected, Challenge, verify_clip
from .embedding import Embedding, FaceEmbedder, default_embedder
from .faces import FaceDetector


class Cameos:
    """The cameo package's face toward the app."""

    def __init__(self, store: FeedStore, media: MediaFolder, detector: FaceDetector | None = None,
                 embedder: FaceEmbedder | None = None) -> None:
        self.store = store
        self.media = media
        self.detector = detector or FaceDetector()
        self.embedder = embedder or default_embedder()

    def create(self, owner: int, clip: Path, challenge: Challenge, *, keep_recording: bool = False) -> dict[str, Any]:
        """Verify a recording and save the owner's cameo (usable by them alone at first).

        The recording itself is kept only if the owner opts in. A face that
        matches another person's cameo is refused: nobody can claim a likeness
        that is already someone's.
        """
        if self.store.cameo_of(owner) is not None:
            raise CameoRejected("exists", "You already have a cameo. Delete it to record a new one.")
        likeness = verify_clip(clip, challenge, self.detector, self.embedder)
        for other in self.store.all_cameos():
            theirs = Embedding(np.asarray(other["embedding"], np.float32), other["embedding_backend"])
            if other["owner_id"] != owner and theirs.backend == self.embedder.backend and \
                    self.embedder.same_person(likeness.embedding, theirs):
                raise CameoRejected("impersonation", "This face already belongs to another person's cameo. "
                                                     "You can only make a cameo of yourself.")
        names: list[str] = []
        recording = None
        try:
            for crop in likeness.crops:
                names.append(self.media.new_name("cameos", ".png"))
                Image.fromarray(crop).save(self.media.path(names[-1]))
            if keep_recording:
                recording = self.media.new_name("cameos", Path(clip).suffix.lower() or ".mp4")
                shutil.copyfile(clip, self.media.path(recording))
            return self.store.create_cameo(owner, {
                "embedding": likeness.embedding.vector.tolist(), "embedding_backend": likeness.embedding.backend,
                "crops": names, "recording": recording, "quality": likeness.quality})
        except BaseException:
            self.media.erase(*names, recording)
            raise

    def reference(self, cameo_id: int) -> CameoReference:
        """What generation needs of a cameo: its crops and embedding."""
        cameo = self.store.get_cameo(cameo_id)
        owner = self.store.get_user(cameo["owner_id"])
        crops = tuple(Image.open(self.media.path(name)).convert("RGB") for name in cameo["crops"])
        return CameoReference(cameo_id, owner["handle"], crops, np.asarray(cameo["embedding"], np.float32),
                              cameo["embedding_backend"])

    def cast(self, author: int, prompt: str) -> tuple[CameoReference, ...]:
        """The cameos a prompt names with ``@handle``, each checked before any compute."""
        handles = list(dict.fromkeys(m.lower() for m in MENTION_RE.findall(prompt)))
        cameos = []
        for handle in handles:
            try:
                cameo = self.store.cameo_of(self.store.user_by_handle(handle)["id"])
            except NotFound:
                cameo = None
            if cameo is None:
                raise CameoNotAllowed(f"@{handle} has no cameo.")
            self.authorize(author)(cameo["id"])
            cameos.append(cameo["id"])
        if len(cameos) > MAX_CAMEOS:
            raise CameoNotAllowed(f"A video can star at most {MAX_CAMEOS} cameos.")
        return tuple(self.reference(c) for c in cameos)

    def authorize(self, author: int) -> Callable[[CameoReference | int], None]:
        """A check for ``pipeline.generate``: raises ``CameoNotAllowed`` unless the author may use the cameo now."""
        def check(cameo: CameoReference | int) -> None:
            cameo_id = cameo if isinstance(cameo, int) else cameo.cameo_id
            refusal = self.store.cameo_use_refusal(author, cameo_id)
            if refusal is not None:
                raise CameoNotAllowed(refusal)
        return check

    def delete_post(self, actor: int, post_id: int) -> None:
        """Delete a video (as its author, an admin or the owner of a cameo in it), files included."""
        post = self.store.delete_post(actor, post_id)
        self.media.erase(post["video"], post["thumbnail"], post["preview"])

    def delete(self, owner: int, cameo_id: int) -> None:
        """Erase a cameo: the record, its crops, its embedding and any kept recording."""
        cameo = self.store.delete_cameo(owner, cameo_id)
        self.media.erase(*cameo.get("crops", []), cameo.get("recording"))
