"""Offline moderation of prompts and comments, checked before anything is generated or posted.

Nothing here calls a service: a prompt or comment is judged on this machine in
about one MiniLM forward pass. Three kinds of evidence, in order:

* **rules** for what must never slip through: explicit sexual, gore, self-harm
  and hate phrases (lowercased, word boundaries, plurals), and sexual content
  involving minors as a hard rule: a minor term together with a sexual term or
  even a low sexual score;
* a **trained head**: one-vs-rest logistic regression on MiniLM mean ⊕ max
  features (``safety.text_encoder``), with per-category thresholds, trained by
  ``scripts/train_moderation.py`` on hand-written prompts;
* **real named people**: a curated list of public figures, then a capitalised
  "Firstname Lastname" heuristic. ``@handle`` mentions are stripped first:
  those are cameos, which their owners authorised.

Every file it reads is in ``assets/moderation`` (see the model card there).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vocabulary import MENTION_RE

CATEGORIES = ("sexual", "minors", "violence", "self_harm", "hate", "real_person")
LABELS = {
    "sexual": "sexual content",
    "minors": "sexual content involving minors",
    "violence": "graphic violence",
    "self_harm": "self-harm",
    "hate": "hate or harassment",
    "real_person": "a real named person",
}
HEAD_CATEGORIES = ("sexual", "violence", "self_harm", "hate")
"""The categories the trained head scores; minors and real_person are rules."""

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[1] / "assets" / "moderation"

LEXICONS = {
    "sexual": (
        "porn", "porno", "pornographic", "pornography", "xxx", "nsfw", "hentai", "erotic", "erotica", "orgy",
        "orgasm*", "masturbat*", "intercourse", "having sex", "sex scene", "sex tape", "sex video", "blowjob",
        "handjob", "genital*", "penis", "vagina", "nipple", "jerking off", "jerk off", "striptease", "strip tease",
        "onlyfans", "full frontal", "topless", "camgirl",
    ),
    "violence": (
        "gore", "gory", "gruesome", "decapitat*", "behead*", "dismember*", "disembowel*", "mutilat*", "bloodbath",
        "massacre", "lynch*", "gouged out", "gouging out", "eyes gouged", "beaten to death", "stabbed to death", "hacked to death", "burned alive",
        "skinned alive", "blood gushing", "blood spraying", "guts spilling", "intestines spilling",
    ),
    "self_harm": (
        "kill myself", "killing myself", "kill yourself", "kill themselves", "kys", "end my life", "end my own life",
        "take my own life", "taking my own life", "end their life", "end their lives", "self harm", "self harming",
        "self inflicted", "slit my wrists", "slit their wrists", "cut myself", "cutting myself", "hang myself",
        "hanging himself", "hanging herself", "hanging themselves", "commit suicide", "attempting suicide",
        "suicide note", "suicide pact", "thinspo", "thinspiration", "pro ana", "pro mia", "hurt myself",
        "hurting myself", "hurt yourself", "shoot myself", "shooting myself", "shooting himself", "shooting herself",
        "shooting themselves", "shot himself", "shot herself", "kill himself", "kill herself", "killing himself",
        "killing herself", "killing themselves",
    ),
    "hate": (
        "subhuman", "less than human", "ethnic cleansing", "white power", "white supremacy", "master race",
        "heil hitler", "sieg heil", "kkk", "ku klux klan",
    ),
}
"""Phrases that decide their category alone: unambiguous in a video prompt. No slurs are written here."""

MINOR_TERMS = (
    "child", "children", "kid", "kiddie", "toddler", "baby", "babies", "infant", "minor", "underage", "preteen",
    "pre teen", "tween", "teen", "teenage", "teenager", "schoolgirl", "schoolboy", "school girl", "school boy",
    "school uniform", "boy", "girl", "daughter", "son", "niece", "nephew", "juvenile", "loli", "lolita", "shota",
    "jailbait", "middle schooler", "high schooler", "grade schooler", "elementary schooler", "junior high",
    "kindergartner", "kindergartener", "preschooler", "little one", "youngster", "adolescent", "pubescent",
    "prepubescent",
)
_AGES_IN_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                  "sixteen|seventeen")
MINOR_AGE_RE = re.compile(
    r"(?<!\d)(?:[1-9]|1[0-7]) ?(?:years?|yrs?|yo)(?: old)?(?!\w)|(?<!\w)aged? (?:[1-9]|1[0-7])(?!\d)"
    rf"|(?<!\w)(?:{_AGES_IN_WORDS}) ?(?:years?|yrs?) ?old(?!\w)|(?<!\w)aged (?:{_AGES_IN_WORDS})(?!\w)"
    r"|(?<!\w)(?:first|second|third|fourth|fifth|sixth|seventh|eighth|[1-8](?:st|nd|rd|th)) graders?(?!\w)")
"""A written age under 18, in digits or words ("12 yo", "a twelve-year-old", "aged nine"), or a school grade."""
SUGGESTIVE_TERMS = (
    "sex", "sexy", "sexual*", "sexualis*", "sexualiz*", "naked", "nude", "nudity", "undress*", "stripping",
    "seducti*", "seductive*", "lingerie", "in underwear", "panties", "thong", "provocative*", "sensual*", "lewd",
    "aroused", "arousing", "fetish*", "kinky", "suggestive*",
)
"""Terms that are not always sexual alone ("a nude lipstick") but always are next to a minor term."""


def normalise(text: str) -> str:
    """Lowercase, accents and hyphens dropped, whitespace collapsed: the form lexicons match against."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[-_/]", " ", text.lower().replace("’", "'")).split())


class Lexicon:
    """Words and phrases found on word boundaries in normalised text; ``s``/``es`` plurals match too, ``*`` is a prefix."""

    def __init__(self, terms: Iterable[str]) -> None:
        parts = [re.escape(normalise(t.rstrip("*"))) + (r"\w*" if t.endswith("*") else "(?:s|es)?") for t in terms]
        self.pattern = re.compile(r"(?<!\w)(?:" + "|".join(sorted(parts, key=len, reverse=True)) + r")(?!\w)")

    def find(self, text: str) -> str | None:
        """The first term found in ``text`` (already normalised), or None."""
        found = self.pattern.search(text)
        return found.group(0) if found else None


class Head:
    """One-vs-rest logistic regression over MiniLM mean ⊕ max features, with one threshold per category."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, center: np.ndarray, scale: np.ndarray,
                 thresholds: dict[str, float], minor_threshold: float) -> None:
        self.weights, self.bias, self.center, self.scale = weights, bias, center, scale
        self.thresholds, self.minor_threshold = thresholds, minor_threshold

    @classmethod
    def load(cls, directory: Path) -> Head:
        """``head.npz`` and ``thresholds.json``, as written by ``scripts/train_moderation.py``."""
        arrays = np.load(directory / "head.npz")
        settings = json.loads((directory / "thresholds.json").read_text())
        return cls(arrays["weights"], arrays["bias"], arrays["center"], arrays["scale"],
                   settings["thresholds"], settings["minor_sexual_threshold"])

    def scores(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), len(HEAD_CATEGORIES))`` probabilities."""
        return probabilities(features(texts), self.center, self.scale, self.weights, self.bias)


def features(texts: list[str]) -> np.ndarray:
    """The head's input: mean-pooled ⊕ max-pooled MiniLM features, 768-d.

    Every ``@handle`` reads as the same ``@someone``: who is mentioned must
    not sway the verdict (word pieces of one handle scored far above another's).
    """
    from safety.text_encoder import shared_encoder

    mean, peak = shared_encoder().encode([MENTION_RE.sub("@someone", t) for t in texts])
    return np.concatenate([mean, peak], axis=1).astype(np.float32)


def probabilities(x: np.ndarray, center: np.ndarray, scale: np.ndarray, weights: np.ndarray,
                  bias: np.ndarray) -> np.ndarray:
    """Sigmoid of the standardised features times the weights: shared by inference and training."""
    logits = ((x - center) / scale) @ weights.T + bias
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))


class PublicFigures:
    """Real people's names in a text: a curated list first, then a capitalised "Firstname Lastname" heuristic."""

    LINK_WORDS = {"A", "An", "The", "And", "Or", "Of", "In", "On", "At", "To", "With", "By", "For", "From", "I", "My"}

    def __init__(self, people: dict[str, str], given_names: set[str], not_people: set[str]) -> None:
        """``people`` maps each alias (as written) to the person's display name."""
        self.people = {normalise(alias): name for alias, name in people.items()}
        several = [re.escape(a) for a in self.people if " " in a or "." in a]
        single = [re.escape(a.capitalize()) for a in self.people if " " not in a and "." not in a]
        self.several = re.compile(r"(?<!\w)(?:" + "|".join(sorted(several, key=len, reverse=True)) + r")(?!\w)")
        self.single = re.compile(r"(?<![\w@])(?:" + "|".join(single) + r")(?!\w)", re.IGNORECASE)
        self.given_names, self.not_people = given_names, {normalise(n) for n in not_people}

    @classmethod
    def load(cls, directory: Path) -> PublicFigures:
        people = {}
        for line in lines(directory / "public_figures.txt"):
            names = [n.strip() for n in line.split("|")]
            people.update({alias: names[0] for alias in names})
        given = {n for line in lines(directory / "given_names.txt") for n in line.split()}
        return cls(people, given, set(lines(directory / "not_people.txt")))

    def find(self, text: str) -> str | None:
        """The first real person named in ``text`` (``@handle`` cameos ignored), or None."""
        text = MENTION_RE.sub(" ", text)
        listed = self.several.search(normalise(text))
        if listed:
            return self.people[listed.group(0)]
        for found in self.single.finditer(unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()):
            if found.group(0)[0].isupper():
                return self.people[found.group(0).lower()]
        return self.likely_name(text)

    def likely_name(self, text: str) -> str | None:
        """A known given name followed by a capitalised word ("Grace Hopper"), unless the whole text is title case."""
        words = re.findall(r"[A-Za-z][\w'.]*", text)
        if len(words) >= 4 and sum(w[0].isupper() for w in words) > 0.6 * len(words):
            return None
        for found in re.finditer(r"(?<![\w@])([A-Z][a-z]+) ([A-Z][a-z]+(?:[-'][A-Za-z]+)?)(?!\w)", text):
            first, last = found.group(1), re.sub(r"'s$", "", found.group(2))
            if first in self.given_names and last not in self.LINK_WORDS and normalise(f"{first} {last}") not in self.not_people:
                return f"{first} {last}"
        return None


def lines(path: Path) -> list[str]:
    """A hand-written list: one entry a line, ``#`` comments and blank lines skipped."""
    return [s for s in (line.strip() for line in path.read_text(encoding="utf-8").splitlines()) if s and not s.startswith("#")]


@dataclass(frozen=True)
class Verdict:
    """What moderation decided about one text, and why, in words a user can read."""

    blocked: bool
    category: str | None
    label: str
    reason: str
    scores: dict[str, float]


class Moderator:
    """Checks prompts (every category) and comments (every category but real_person)."""

    def __init__(self, head: Head, figures: PublicFigures) -> None:
        self.head, self.figures = head, figures
        self.lexicons = {category: Lexicon(terms) for category, terms in LEXICONS.items()}
        self.minor_terms, self.suggestive = Lexicon(MINOR_TERMS), Lexicon(SUGGESTIVE_TERMS)

    @classmethod
    def load(cls, directory: Path = DEFAULT_DIRECTORY) -> Moderator:
        """Weights, thresholds and name lists from ``directory``; MiniLM itself loads on the first check."""
        return cls(Head.load(directory), PublicFigures.load(directory))

    def check_prompt(self, text: str) -> Verdict:
        """Judge a generate or remix prompt; ``@handle`` mentions are cameos, not real-person hits."""
        return self.check(text, "prompt", people=True)

    def check_comment(self, text: str) -> Verdict:
        """Judge a comment: the same as a prompt, except that naming a real person is fine."""
        return self.check(text, "comment", people=False)

    def check(self, text: str, kind: str, people: bool) -> Verdict:
        """Minors rule, then lexicons, then the head, then (if ``people``) real named people."""
        plain = normalise(text)
        head = dict(zip(HEAD_CATEGORIES, self.head.scores([text])[0].tolist()))
        scores = {category: head.get(category, 0.0) for category in CATEGORIES}
        sexual_term = self.lexicons["sexual"].find(plain) or self.suggestive.find(plain)
        minor = self.minor_terms.find(plain) or MINOR_AGE_RE.search(plain)
        if minor and (sexual_term or head["sexual"] >= self.head.minor_threshold):
            scores["minors"] = 1.0
            return blocked("minors", f"This {kind} puts a child or teenager together with sexual content. "
                                     "Dreamreel never makes or allows this.", scores)
        for category, lexicon in self.lexicons.items():
            if lexicon.find(plain):
                scores[category] = 1.0
                return blocked(category, plain_reason(kind, category), scores)
        over = {c: head[c] / self.head.thresholds[c] for c in HEAD_CATEGORIES if head[c] >= self.head.thresholds[c]}
        if over:
            category = max(over, key=over.get)
            return blocked(category, plain_reason(kind, category), scores)
        name = self.figures.find(text) if people else None
        if name:
            scores["real_person"] = 1.0
            return blocked("real_person", f"This prompt names {name}, a real person. Dreamreel only shows real people "
                                          f"through their own cameo: use their @handle if they have one, or describe "
                                          f"a fictional character instead.", scores)
        return Verdict(False, None, "", "", scores)


def plain_reason(kind: str, category: str) -> str:
    """The sentence a user sees for a blocked prompt or comment."""
    if kind == "prompt":
        return f"This prompt asks for {LABELS[category]}, which Dreamreel does not make."
    return f"This comment contains {LABELS[category]}, which Dreamreel does not allow."


def blocked(category: str, reason: str, scores: dict[str, float]) -> Verdict:
    return Verdict(True, category, LABELS[category], reason, scores)
