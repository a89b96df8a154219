"""Cameo owners' free-text restrictions ("no political content, never in swimwear"), enforced on prompts.

An owner's text is read once into rules: it is split into phrases, each phrase
loses its negators and filler ("no", "never", "content", ...) and is mapped to
a standard topic by the names in ``assets/restrictions/topics.json``; a phrase
that names no standard topic is kept as a custom topic in the owner's words
("no cars", "never in a hospital"). Positive wishes ("only flattering videos")
cannot be checked from a prompt and are reported back as not enforceable.

A prompt breaks a rule when, with its ``@handles`` removed (they name people,
not topics), it contains one of the topic's keywords (word boundaries, so "a
birthday party" never reads as politics), or when one of its clauses is closer
to the topic's prototype scenes than to every neutral scene by a calibrated
margin. The margin is over neutral scenes of the same shape, never on the raw
cosine: sentence shape dominates MiniLM's cosine, and pooled embeddings ignore
negation, which is why the rules keep the topic and drop the "no".
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from vocabulary import MENTION_RE

TOPICS_FILE = Path(__file__).resolve().parent.parent / "assets" / "restrictions" / "topics.json"

TOPIC_MARGIN = 0.0
"""A clause breaks a standard topic when its best prototype beats the best neutral scene by this much."""
CUSTOM_MARGIN = -0.03
"""A custom topic (the owner's noun) may trail the best neutral subject by this much: one word is a weak prototype."""

NEGATORS = {"no", "not", "never", "nothing", "none", "don't", "dont", "do", "avoid", "without", "ban", "banned",
            "forbid", "forbidden", "stop", "zero", "refuse", "exclude", "nor", "neither", "any", "anything"}
FILLER = {"content", "contents", "videos", "video", "clips", "clip", "stuff", "things", "thing", "please",
          "topics", "topic", "themes", "theme", "related", "involving", "with", "of", "about", "me", "my",
          "cameo", "use", "put", "showing", "show", "allowed", "ever", "kind", "kinds", "type", "types",
          "at", "on", "all", "i", "want", "like", "in", "a", "an", "the", "to", "be", "or", "and", "featuring",
          "scenes", "scene", "situations"}
KEEP_AS_WRITTEN = {"in", "at", "on", "a", "an", "the"}
"""Filler dropped for naming a topic but kept in a custom topic's scene ("in a hospital")."""
POSITIVE_WORDS = r"only|always|must|should|keep|make sure|ensure|just|be|i want|please (?:make|keep|be)"
POSITIVE = re.compile(rf"^(?:{POSITIVE_WORDS})\b")
STRUCTURAL = re.compile(r"\b(remix|remixes|remixing|duet|duets)\b")
"""Permissions the app grants elsewhere, not topics a prompt can show."""
SPLIT = re.compile(rf"[,;.\n!]+|\s+(?:and|but)\s+(?=(?:{POSITIVE_WORDS})\b)", re.IGNORECASE)
LEADING_JOIN = re.compile(r"^(?:and|or|but)\s+", re.IGNORECASE)
SUB_SPLIT = re.compile(r"\s+(?:and|or|nor|&)\s+|/")
CLAUSE_SPLIT = re.compile(r"[,;.\n!]+|\s+(?:while|and then|then|but|whilst)\s+")
WORD = re.compile(r"[a-z0-9']+(?:-[a-z0-9']+)*")


@dataclass(frozen=True)
class Rule:
    """One enforced restriction: the owner's words and the topic they name."""

    phrase: str
    topic: str


@dataclass(frozen=True)
class Interpretation:
    """What the app enforces of an owner's restrictions, and what it cannot check."""

    enforced: tuple[Rule, ...]
    not_enforceable: tuple[str, ...]

    def summary(self) -> str:
        """One plain line for the owner."""
        topics: dict[str, list[str]] = {}
        for rule in self.enforced:
            topics.setdefault(rule.phrase, []).append(_topic_label(rule))
        parts = []
        if topics:
            parts.append("Enforced: " + ", ".join(f'"{p}" ({", ".join(t)})' for p, t in topics.items()) + ".")
        if self.not_enforceable:
            parts.append("Not enforceable: " + ", ".join(f'"{p}"' for p in self.not_enforceable) + ".")
        return " ".join(parts) or "No restrictions."


@dataclass(frozen=True)
class Breach:
    """A prompt clause that breaks one of the owner's rules."""

    rule: Rule
    clause: str

    def message(self, handle: str) -> str:
        """The refusal shown to the prompt's author, quoting the owner."""
        return f'@{handle.lstrip("@")} does not allow this: "{self.rule.phrase}".'


@lru_cache(maxsize=1)
def _lexicon() -> dict:
    return json.loads(TOPICS_FILE.read_text(encoding="utf-8"))


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower().replace("’", "'"))


def _core(phrase: str, keep: set[str] = frozenset()) -> list[str]:
    """The words of a phrase that say what is restricted."""
    return [w for w in _words(phrase) if w not in NEGATORS and (w in keep or w not in FILLER)]


def _subjects(phrase: str) -> list[tuple[str, str]]:
    """``(topic, words)`` for each sub-phrase ("drugs or alcohol" has two); ``topic`` is "custom" if unnamed."""
    names = {name: topic for topic, entry in _lexicon()["topics"].items() for name in entry["names"]}
    found = []
    for part in SUB_SPLIT.split(phrase.lower()):
        core = _core(part)
        if not core:
            continue
        text = " ".join(core)
        topic = next((t for n, t in names.items() if re.search(rf"\b{re.escape(n)}\b", text)), "custom")
        found.append((topic, " ".join(_core(part, KEEP_AS_WRITTEN)).strip()))
    return found


def _topic_label(rule: Rule) -> str:
    if rule.topic != "custom":
        return rule.topic
    return "custom: " + ", ".join(w for t, w in _subjects(rule.phrase) if t == "custom")


def interpret(restrictions: str) -> Interpretation:
    """Rules out of an owner's free text, in their order; phrases that cannot be checked are listed apart."""
    enforced: list[Rule] = []
    not_enforceable: list[str] = []
    for phrase in (LEADING_JOIN.sub("", p.strip()) for p in SPLIT.split(restrictions or "")):
        lowered = phrase.lower()
        negated = any(w in NEGATORS for w in _words(lowered))
        if not phrase or not _core(phrase):
            continue
        if STRUCTURAL.search(lowered) or MENTION_RE.search(phrase) or (POSITIVE.match(lowered) and not negated):
            not_enforceable.append(phrase)
            continue
        for topic in dict.fromkeys(t for t, _ in _subjects(phrase)):
            enforced.append(Rule(phrase, topic))
    return Interpretation(tuple(enforced), tuple(not_enforceable))


def _keyword_pattern(words: list[str]) -> re.Pattern:
    """Any of ``words`` as whole words or phrases, plural s allowed, not after "non-"."""
    alternatives = "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in words), key=len, reverse=True))
    return re.compile(rf"(?<!non-)\b(?:{alternatives})(?:s|es)?\b")


@dataclass(frozen=True)
class _Target:
    """How one rule is checked: keywords, and prototype embeddings with the neutral ones they must beat."""

    rule: Rule
    keywords: tuple[re.Pattern, ...]
    prototypes: np.ndarray
    neutral: np.ndarray


def _strip_plural(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


class RestrictionChecker:
    """Checks prompts against an owner's restrictions with the shared MiniLM; rules are cached per text."""

    cache_size = 256

    def __init__(self, encoder=None) -> None:
        self._encoder = encoder
        self._targets: OrderedDict[str, tuple[_Target, ...]] = OrderedDict()
        self._lexicon_embeddings: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def encoder(self):
        if self._encoder is None:
            from .text_encoder import shared_encoder

            self._encoder = shared_encoder()
        return self._encoder

    def _embedded(self, key: str, texts: list[str]) -> np.ndarray:
        """Embeddings of lexicon texts, computed once per checker."""
        if key not in self._lexicon_embeddings:
            self._lexicon_embeddings[key] = self.encoder.sentence_embeddings(texts)
        return self._lexicon_embeddings[key]

    def _topic_target(self, rule: Rule) -> _Target:
        lexicon = _lexicon()
        entry = lexicon["topics"][rule.topic]
        neutral = np.vstack([self._embedded("neutral", lexicon["neutral"]),
                             self._embedded(f"{rule.topic}/look_alikes", entry["look_alikes"])])
        return _Target(rule, (_keyword_pattern(entry["keywords"]),),
                       self._embedded(f"{rule.topic}/prototypes", entry["prototypes"]), neutral)

    def _custom_targets(self, rule: Rule) -> list[_Target]:
        lexicon = _lexicon()
        template = lexicon["custom_template"]
        neutral = self._embedded("neutral_subjects", [template.format(s) for s in lexicon["neutral_subjects"]])
        targets = []
        for topic, subject in _subjects(rule.phrase):
            if topic == "custom":
                noun = " ".join(w for w in subject.split() if w not in KEEP_AS_WRITTEN)
                keywords = tuple(_keyword_pattern([_strip_plural(w)]) for w in noun.split())
                prototype = self.encoder.sentence_embeddings([template.format(noun)])
                targets.append(_Target(rule, keywords, prototype, neutral))
        return targets

    def _compile(self, restrictions: str) -> tuple[_Target, ...]:
        targets = []
        for rule in interpret(restrictions).enforced:
            targets.extend(self._custom_targets(rule) if rule.topic == "custom" else [self._topic_target(rule)])
        return tuple(targets)

    def targets(self, restrictions: str) -> tuple[_Target, ...]:
        """The compiled rules for ``restrictions``, from the cache when seen before."""
        with self._lock:
            if restrictions in self._targets:
                self._targets.move_to_end(restrictions)
                return self._targets[restrictions]
        targets = self._compile(restrictions)
        with self._lock:
            self._targets[restrictions] = targets
            while len(self._targets) > self.cache_size:
                self._targets.popitem(last=False)
        return targets

    def scores(self, prompt: str, restrictions: str) -> list[tuple[Rule, str, float, bool]]:
        """``(rule, clause, margin over neutral, keyword hit)`` for each check, at its best clause."""
        targets = self.targets(restrictions)
        text = " ".join(MENTION_RE.sub(" ", prompt).split())
        clauses = list(dict.fromkeys([text, *(c.strip() for c in CLAUSE_SPLIT.split(text))]))
        clauses = [c for c in clauses if _words(c)]
        if not targets or not clauses:
            return []
        embedded = self.encoder.sentence_embeddings(clauses)
        lowered = [c.lower() for c in clauses]
        found = []
        for target in targets:
            hits = [c for c, low in zip(clauses, lowered) if all(k.search(low) for k in target.keywords)]
            over = (embedded @ target.prototypes.T).max(1) - (embedded @ target.neutral.T).max(1)
            best = int(over.argmax())
            found.append((target.rule, min(hits, key=len) if hits else clauses[best], float(over[best]), bool(hits)))
        return found

    def breach(self, prompt: str, restrictions: str) -> Breach | None:
        """The first rule ``prompt`` breaks, or ``None`` if it keeps them all."""
        for rule, clause, over, hit in self.scores(prompt, restrictions):
            if hit or over > (CUSTOM_MARGIN if rule.topic == "custom" else TOPIC_MARGIN):
                return Breach(rule, clause)
        return None
