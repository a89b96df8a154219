"""A feed you can steer: "more space and skating, fewer cats", matched by meaning.

A person tells their feed what they want in plain words; "See less like
this" on a video adds its prompt to what they want less of. Each wish is a
short phrase; a video's prompt is matched to the phrases by meaning with the
MiniLM sentence encoder the app already ships (``safety.text_encoder``), so
"cats" also finds "a jazz band of cats" and "kitten". The match becomes a
multiplier on the video's "For you" score (:class:`feed_store.ranking.Taste`):
up to ``MORE_BOOST`` for a close match with a "more" wish, ``LESS_FACTOR`` for a
close match with a "less" wish. Both stay well inside the ranking's friend to
stranger ratio, so friends still come first.

Prompts are embedded once each (many videos share a prompt) and kept in
memory; a hidden prompt is never matched, so the ranking cannot hint at it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from feed_store import FeedStore
from feed_store.ranking import Taste

Encoder = Callable[[Sequence[str]], np.ndarray]
"""Texts to unit-length vectors, one row each."""

BATCH = 32
"""Prompts per MiniLM pass: small, so a comment's moderation (same encoder, one pass at a time) waits little."""
MAX_CACHED = 1024
"""Tastes kept between pages (one per distinct set of wishes; all are dropped when the cache is full)."""
FLOOR = 0.25
"""No prompt is about a wish below this cosine similarity (MiniLM: unrelated texts score under 0.25)."""
SPREAD = 1.0
"""A prompt is about a wish when it is this many standard deviations above the wish's mean similarity to every
prompt: a short word scores low against whole sentences, so the bar is set by how the wish ranks prompts."""
MORE_BOOST = 6.0
"""What a "more" wish multiplies a score by at its closest matches (2 at the bar); friend/stranger is 16."""
SHORT = 4
"""A wish of at most this many words is embedded as "a video of <wish>", which MiniLM matches better."""
SAID = 0.3
"""Added to the similarity when a prompt holds every word of a wish ("cats" in "a jazz band of cats"): meaning
finds what is like the wish, the words themselves are what the person said."""
_MINOR_WORDS = frozenset("a an the of in on at to and or with for from by into under over video videos".split())
LESS_FACTOR = 0.08
"""What a "less" wish multiplies a matching video's score by."""
def _words(text: str) -> frozenset[str]:
    """The words of a text that carry meaning, lowercased, a plural's final s dropped ("Cats" -> "cat")."""
    out = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word not in _MINOR_WORDS:
            out.add(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return frozenset(out)


_LESS = re.compile(r"^(?:less|fewer|no more|no|not|without|stop(?: showing)?|hide|skip|avoid|nothing with)\b\s*(?:of\s+)?",
                   re.IGNORECASE)
_MORE = re.compile(r"^(?:more|lots of|show me|i want|i like|i love|give me|extra)\b\s*(?:of\s+)?", re.IGNORECASE)


@dataclass(frozen=True)
class Wishes:
    """What someone asked their feed for, as phrases."""

    more: tuple[str, ...]
    less: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.more or self.less)


def parse_wishes(text: str, less_like: Sequence[str] = ()) -> Wishes:
    """Split "more space and skating, fewer cats" into more=("space", "skating") and less=("cats",).

    Clauses are split at commas, semicolons, full stops and "but"; a clause starting with "less", "fewer",
    "no", "without"... is a "less" wish, one with "more", "show me"... (or none, at first) a "more" wish, and a
    clause without a word of its own keeps the one before ("fewer cats, dogs"). Inside a clause, "and" and "or"
    separate phrases. ``less_like`` (prompts of videos marked "See less like this") are "less" wishes as they are.
    """
    more: list[str] = []
    less: list[str] = list(dict.fromkeys(p.strip() for p in less_like if p.strip()))
    polarity = more
    for clause in re.split(r"[,;.\n]|\bbut\b", text or "", flags=re.IGNORECASE):
        clause = clause.strip()
        if not clause:
            continue
        if _LESS.match(clause):
            polarity, clause = less, _LESS.sub("", clause, count=1)
        elif _MORE.match(clause):
            polarity, clause = more, _MORE.sub("", clause, count=1)
        for phrase in re.split(r"\band\b|\bor\b|&|/", clause, flags=re.IGNORECASE):
            phrase = phrase.strip(" !?\"'")
            if phrase and phrase not in polarity:
                polarity.append(phrase)
    return Wishes(tuple(more), tuple(less))


class TasteModel:
    """Embeds published prompts once each and turns a person's wishes into a :class:`Taste` for their feed."""

    def __init__(self, store: FeedStore, encoder: Callable[[], Encoder]) -> None:
        """``encoder`` loads the sentence encoder on first use (the page starts without it)."""
        self.store = store
        self._load_encoder = encoder
        self._encode: Encoder | None = None
        self._lock = threading.Lock()
        self._rows: dict[str, int] = {}  # prompt -> row of _vectors
        self._vectors = np.zeros((0, 384), np.float32)
        self._post_rows = np.full(0, -1, np.int64)  # post id -> row (-1: not embedded, hidden or gone)
        self._prompts: list[str] = []
        self._prompt_words: list[frozenset[str]] = []
        self._seen = -1  # the store's prompt_changes at the last refresh
        self._phrases: dict[str, np.ndarray] = {}
        self._tastes: dict[Wishes, tuple[int, Taste]] = {}  # the last taste made for each set of wishes

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts``, in batches (a first refresh may embed thousands of prompts)."""
        with self._lock:
            if self._encode is None:
                self._encode = self._load_encoder()
        texts = list(texts)
        parts = [self._encode(texts[i:i + BATCH]) for i in range(0, len(texts), BATCH)]
        return np.concatenate(parts) if parts else np.zeros((0, self._vectors.shape[1]), np.float32)

    def _phrase_vectors(self, phrases: Sequence[str]) -> np.ndarray:
        """Wish phrases are few and come back on every page: each is embedded once."""
        missing = [p for p in dict.fromkeys(phrases) if p not in self._phrases]
        if missing:
            for phrase, vector in zip(missing, self.encode(missing)):
                self._phrases[phrase] = vector
        return np.stack([self._phrases[p] for p in phrases])

    def refresh(self) -> None:
        """After the visible prompts changed (in any process): embed the prompts not seen before (each once), forget
        those gone, and map every post to one."""
        version = self.store.prompt_changes
        if version == self._seen:
            return
        prompts = self.store.visible_prompts()
        self._forget_gone(set(prompts.values()))
        new = [p for p in dict.fromkeys(prompts.values()) if p not in self._rows]
        vectors = self.encode(new) if new else np.zeros((0, self._vectors.shape[1]), np.float32)
        with self._lock:
            for prompt in new:
                self._rows[prompt] = len(self._prompts)
                self._prompts.append(prompt)
                self._prompt_words.append(_words(prompt))
            self._vectors = np.concatenate([self._vectors, vectors.astype(np.float32)]) if new else self._vectors
            rows = np.full(max(prompts, default=0) + 1, -1, np.int64)
            for post_id, prompt in prompts.items():
                rows[post_id] = self._rows[prompt]
            self._post_rows, self._seen = rows, version

    def _forget_gone(self, visible: set[str]) -> None:
        """Drop the prompts no published video shows any more (deleted, hidden, an erased account's)."""
        keep = [row for row, prompt in enumerate(self._prompts) if prompt in visible]
        if len(keep) == len(self._prompts):
            return
        with self._lock:
            self._prompts = [self._prompts[row] for row in keep]
            self._prompt_words = [self._prompt_words[row] for row in keep]
            self._vectors = self._vectors[keep]
            self._rows = {prompt: row for row, prompt in enumerate(self._prompts)}
            self._tastes.clear()

    def taste(self, wishes: Wishes) -> Taste | None:
        """The multipliers and reasons for someone with ``wishes`` (``None`` when they have none)."""
        if not wishes:
            return None
        self.refresh()
        cached = self._tastes.get(wishes)
        if cached is not None and cached[0] == self._seen:
            return cached[1]
        phrases = [f"a video of {p}" if len(p.split()) <= SHORT else p for p in wishes.more + wishes.less]
        similarity = self._vectors @ self._phrase_vectors(phrases).T  # prompts x phrases
        bar = np.maximum(FLOOR, similarity.mean(axis=0) + SPREAD * similarity.std(axis=0))
        for column, wish in enumerate(wishes.more + wishes.less):
            said = _words(wish)
            if said and len(said) <= SHORT:
                similarity[[said <= words for words in self._prompt_words], column] += SAID
        closeness = np.clip((similarity - bar) / np.maximum(similarity.max(axis=0) - bar, 1e-6), 0, 1)
        about = similarity >= bar
        more, less = slice(0, len(wishes.more)), slice(len(wishes.more), None)
        per_prompt = np.ones(len(similarity))
        if wishes.more:
            boosted = about[:, more].any(axis=1)
            per_prompt[boosted] = 2 + (MORE_BOOST - 2) * closeness[boosted, more].max(axis=1)
        else:
            boosted = np.zeros(len(similarity), bool)
        if wishes.less:
            per_prompt[about[:, less].any(axis=1)] = LESS_FACTOR  # a "less" wish wins over a "more" one
        rows = self._post_rows
        weights = np.where(rows >= 0, per_prompt[np.maximum(rows, 0)], 1.0)
        more_words = [wishes.more[i] for i in similarity[:, more].argmax(axis=1)] if wishes.more else []

        def explain(post_id: int) -> str | None:
            if post_id >= len(rows) or rows[post_id] < 0 or not boosted[rows[post_id]]:
                return None
            return f"you asked for more {more_words[rows[post_id]]}"

        taste = Taste(weights, explain)
        if len(self._tastes) > MAX_CACHED:
            self._tastes.clear()
        self._tastes[wishes] = (self._seen, taste)
        return taste
