"""The embedded model's toy domain: procedural captioned clips, drawn in numpy.

A clip is a scene (frozen lake, beach at sunset, city at night, forest, outer
space) with one subject (ball, car, bird, cat, skater, or one to three people
standing in for cameos) of one colour, moving one way. Scenes are muted and
subjects saturated, so a subject's colour never hides in its background and
:mod:`.adherence` can read colour and motion back from any generated frames.

Every clip has four channels in [0, 1]: RGB and a *head* channel that marks
where people's heads are. The model learns to draw that channel too, and the
pipeline pastes a cameo's face where it says (see :mod:`.compositing`). Each
clip also comes with its *motion prior*: a soft blob along the subject's
track, the layout the model is conditioned on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SIZE = 32
FRAMES = 16

COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.92, 0.10, 0.10), "orange": (1.00, 0.55, 0.00), "yellow": (1.00, 0.92, 0.10),
    "green": (0.10, 0.80, 0.20), "blue": (0.10, 0.30, 1.00), "purple": (0.60, 0.15, 0.85),
    "pink": (1.00, 0.45, 0.75), "white": (0.97, 0.97, 0.97),
}
COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red", "crimson", "scarlet", "ruby", "cherry red"),
    "orange": ("orange", "tangerine", "amber", "bright orange"),
    "yellow": ("yellow", "golden", "lemon yellow", "canary yellow"),
    "green": ("green", "emerald", "lime green", "bright green"),
    "blue": ("blue", "azure", "cobalt", "sapphire", "royal blue"),
    "purple": ("purple", "violet", "plum", "lilac purple"),
    "pink": ("pink", "rose", "hot pink", "magenta"),
    "white": ("white", "snow white", "ivory", "pure white"),
}
MOTIONS = ("left", "right", "up", "down", "circle", "zoom", "jump")
MOTION_WORDS: dict[str, tuple[str, ...]] = {
    "left": ("moving left", "drifting to the left", "heading left", "going leftward", "sliding to the left",
             "travelling left"),
    "right": ("moving right", "drifting to the right", "heading right", "going rightward", "sliding to the right",
              "travelling right"),
    "up": ("moving up", "rising", "floating upward", "going up", "climbing upward", "ascending"),
    "down": ("moving down", "falling", "sinking", "dropping down", "descending", "going downward"),
    "circle": ("moving in a circle", "circling", "going round in circles", "looping around", "orbiting in a circle"),
    "zoom": ("zooming in", "coming toward the camera", "approaching the camera", "growing bigger",
             "getting closer"),
    "jump": ("jumping", "hopping", "bouncing up and down", "leaping"),
}
SUBJECTS = ("ball", "car", "bird", "cat", "skater", "person")
SUBJECT_WORDS: dict[str, tuple[str, ...]] = {
    "ball": ("ball", "sphere", "round ball"), "car": ("car", "automobile", "little car"),
    "bird": ("bird", "small bird", "songbird"), "cat": ("cat", "kitten", "house cat"),
    "skater": ("skater", "ice skater", "skateboarder"), "person": ("person", "man", "woman"),
}
GROUP_WORDS = {2: ("two people", "a pair of people"), 3: ("three people", "a group of three people")}
SCENES = ("frozen lake", "beach at sunset", "city at night", "forest", "outer space")
SCENE_WORDS: dict[str, tuple[str, ...]] = {
    "frozen lake": ("on a frozen lake", "over the frozen lake", "on the ice"),
    "beach at sunset": ("on a beach at sunset", "at the seaside at dusk", "on the sand at sunset"),
    "city at night": ("in a city at night", "downtown at night", "in the night city"),
    "forest": ("in a forest", "in the woods", "among the trees"),
    "outer space": ("in outer space", "among the stars", "in deep space"),
}
TRAIN_TEMPLATES = (
    "{thing} {motion} {scene}",
    "{thing}, {motion}, {scene}",
    "video of {thing} {motion} {scene}",
    "{scene}, {thing} {be} {motion}",
    "{thing_in} {motion} {scene}",
    "a clip of {thing} {motion}",
)
HELD_OUT_TEMPLATES = (
    "watch {thing} {motion} {scene}",
    "footage of {thing} {motion} {scene}",
)
HELD_OUT_COMBOS = frozenset({
    ("red", "left"), ("blue", "up"), ("green", "circle"), ("yellow", "zoom"), ("purple", "right"),
    ("orange", "jump"), ("pink", "down"), ("white", "left"), ("red", "jump"), ("blue", "right"),
})
"""Colour and motion pairs never shown together in training: adherence is measured on them."""
SKIN = (0.87, 0.68, 0.55)


@dataclass(frozen=True)
class ClipSpec:
    """What a clip shows; the caption describes it, the renderer draws it."""

    scene: str
    subject: str
    colour: str
    motion: str
    people: int = 1
    seed: int = 0


@dataclass(frozen=True)
class Labels:
    """Class indices of a caption's attributes (0 = not said), the targets of the text heads."""

    colour: int
    motion: int
    subject: int
    scene: int
    people: int


ATTRIBUTE_SIZES = {"colour": len(COLOURS) + 1, "motion": len(MOTIONS) + 1, "subject": len(SUBJECTS) + 1,
                   "scene": len(SCENES) + 1, "people": 4}


def caption(spec: ClipSpec, rng: np.random.Generator, templates: tuple[str, ...] = TRAIN_TEMPLATES,
            drop: float = 0.15) -> tuple[str, Labels]:
    """A random wording of ``spec``; colour and scene are each left out with probability ``drop``."""
    say_colour, say_scene = rng.random() >= drop, rng.random() >= drop
    colour = str(rng.choice(COLOUR_WORDS[spec.colour])) if say_colour else ""
    if spec.subject == "person" and spec.people > 1:
        count, noun = str(rng.choice(GROUP_WORDS[spec.people])).rsplit(" ", 1)
        thing, thing_in, be = f"{count} {colour} {noun}", f"{count} {noun}", "are"
    else:
        noun = str(rng.choice(SUBJECT_WORDS[spec.subject]))
        thing, thing_in, be = _with_article(f"{colour} {noun}"), _with_article(noun), "is"
    if say_colour:
        thing_in += f" in {colour}"
    text = str(rng.choice(templates)).format(
        thing=thing, thing_in=thing_in, be=be, motion=str(rng.choice(MOTION_WORDS[spec.motion])),
        scene=str(rng.choice(SCENE_WORDS[spec.scene])) if say_scene else "")
    text = " ".join(text.split()).replace(" ,", ",").strip(", ")
    labels = Labels(colour=COLOUR_INDEX[spec.colour] if say_colour else 0, motion=MOTIONS.index(spec.motion) + 1,
                    subject=SUBJECTS.index(spec.subject) + 1, scene=SCENES.index(spec.scene) + 1 if say_scene else 0,
                    people=spec.people if spec.subject == "person" else 0)
    return text, labels


COLOUR_INDEX = {name: i + 1 for i, name in enumerate(COLOURS)}


def _with_article(phrase: str) -> str:
    phrase = " ".join(phrase.split())
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def random_spec(rng: np.random.Generator, held_out: frozenset = HELD_OUT_COMBOS) -> ClipSpec:
    """A training clip: any combination except the held-out colour and motion pairs."""
    while True:
        colour, motion = str(rng.choice(list(COLOURS))), str(rng.choice(MOTIONS))
        if (colour, motion) not in held_out:
            break
    subject = str(rng.choice(SUBJECTS))
    people = int(rng.choice([1, 1, 1, 2, 3])) if subject == "person" else 1
    return ClipSpec(str(rng.choice(SCENES)), subject, colour, motion, people, int(rng.integers(2**31)))


# --- drawing -----------------------------------------------------------------

_YY, _XX = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) + 0.5


def _soft(distance: np.ndarray) -> np.ndarray:
    """Coverage of a pixel by a shape from its signed distance (anti-aliased edge)."""
    return np.clip(0.5 - distance, 0.0, 1.0)


def _disc(cx: float, cy: float, r: float) -> np.ndarray:
    return _soft(np.hypot(_XX - cx, _YY - cy) - r)


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    d = np.hypot((_XX - cx) / rx, (_YY - cy) / ry)
    return _soft((d - 1.0) * min(rx, ry))


def _rect(cx: float, cy: float, hw: float, hh: float) -> np.ndarray:
    return _soft(np.maximum(np.abs(_XX - cx) - hw, np.abs(_YY - cy) - hh))


def _paint(image: np.ndarray, mask: np.ndarray, colour) -> None:
    m = mask[..., None]
    image[..., :3] = image[..., :3] * (1 - m) + np.asarray(colour, np.float32) * m


def render_scene(scene: str, rng: np.random.Generator) -> np.ndarray:
    """A still (SIZE, SIZE, 3) background in muted colours."""
    v = (_YY / SIZE)[..., None]
    img = np.zeros((SIZE, SIZE, 3), np.float32)
    shade = rng.uniform(-0.04, 0.04)
    if scene == "frozen lake":
        horizon = rng.uniform(10, 14)
        img[:] = np.where(_YY[..., None] < horizon, (0.58, 0.64, 0.72) - 0.1 * v, (0.46, 0.55, 0.60) + 0.08 * v)
        for _ in range(3):
            y = rng.uniform(horizon + 3, SIZE - 2)
            img[int(y), :, :] += 0.05
    elif scene == "beach at sunset":
        sea, sand = rng.uniform(11, 14), rng.uniform(18, 22)
        img[:] = (0.50, 0.34, 0.40) + 0.25 * v * np.array([0.3, 0.3, -0.1], np.float32)
        img[_YY >= sea] = (0.22, 0.26, 0.36)
        img[_YY >= sand] = (0.56, 0.50, 0.40)
        sun = _disc(rng.uniform(6, 26), sea - 1, 3.0)
        img[..., :3] = img * (1 - sun[..., None]) + np.array((0.72, 0.58, 0.46), np.float32) * sun[..., None]
    elif scene == "city at night":
        img[:] = (0.05, 0.06, 0.13) + 0.05 * v
        x = 0.0
        while x < SIZE:
            w, h = rng.uniform(4, 8), rng.uniform(8, 22)
            img[int(SIZE - h):, int(x):int(x + w)] = (0.13, 0.13, 0.17)
            for _ in range(3):
                wy, wx = rng.integers(int(SIZE - h), SIZE), rng.integers(int(x), int(min(x + w, SIZE)))
                img[wy, wx] = (0.55, 0.50, 0.30)
            x += w + rng.uniform(0, 2)
    elif scene == "forest":
        img[:] = (0.14, 0.24, 0.16) + 0.06 * v
        for _ in range(int(rng.integers(4, 7))):
            x = rng.uniform(0, SIZE)
            img[..., :3] = np.where(_rect(x, 16, rng.uniform(0.6, 1.2), 16)[..., None] > 0.5, (0.26, 0.19, 0.13), img)
        img[_YY >= 26] = (0.18, 0.22, 0.13)
    elif scene == "outer space":
        img[:] = (0.02, 0.02, 0.06)
        for _ in range(int(rng.integers(8, 16))):
            img[rng.integers(SIZE), rng.integers(SIZE)] = rng.uniform(0.35, 0.5)
    else:
        raise ValueError(f"unknown scene {scene!r}")
    return np.clip(img + shade, 0, 1)


def trajectory(motion: str, rng: np.random.Generator, frames: int = FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """Centre (frames, 2) in pixels and size scale (frames,) of a subject moving ``motion``."""
    t = np.linspace(0.0, 1.0, frames, dtype=np.float32)
    scale = np.ones(frames, np.float32)
    a, b = rng.uniform(5, 8), rng.uniform(24, 27)
    across = rng.uniform(10, 22)
    if motion in ("left", "right"):
        x = b + (a - b) * t if motion == "left" else a + (b - a) * t
        y = np.full(frames, across)
    elif motion in ("up", "down"):
        y = b + (a - b) * t if motion == "up" else a + (b - a) * t
        x = np.full(frames, across)
    elif motion == "circle":
        start, turn = rng.uniform(0, 2 * math.pi), rng.choice([-1.0, 1.0])
        angle = start + turn * 2 * math.pi * t
        r = rng.uniform(7, 9)
        x, y = 16 + r * np.cos(angle), 16 + r * np.sin(angle)
    elif motion == "zoom":
        x, y = np.full(frames, rng.uniform(13, 19)), np.full(frames, rng.uniform(13, 19))
        scale = 0.55 + 1.45 * t
    elif motion == "jump":
        x = np.full(frames, rng.uniform(9, 23))
        y = rng.uniform(22, 25) - rng.uniform(10, 13) * np.abs(np.sin(2 * math.pi * t))
    else:
        raise ValueError(f"unknown motion {motion!r}")
    jitter = rng.normal(0, 0.25, (frames, 2)).astype(np.float32)
    return np.stack([x, y], 1).astype(np.float32) + jitter, scale


def subject_track(motion: str, people: int, rng: np.random.Generator, frames: int = FRAMES
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Centre (frames, 2) and scale (frames,) of a subject, or of a group of ``people`` side by side."""
    centres, scales = trajectory(motion, rng, frames)
    if people > 1:  # a group keeps inside the frame while it moves
        centres[:, 0] = 16 + (centres[:, 0] - 16) * (1 - 0.25 * (people - 1))
    return centres, scales


def motion_prior(centres: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Where the subject should be in each frame: a soft blob (frames, SIZE, SIZE) in [0, 1] along its track."""
    radius = 2.5 * scales[:, None, None]
    d2 = (_XX[None] - centres[:, 0, None, None]) ** 2 + (_YY[None] - centres[:, 1, None, None]) ** 2
    return np.exp(-d2 / (2 * radius ** 2)).astype(np.float32)


def _draw_subject(image: np.ndarray, subject: str, colour, cx: float, cy: float, s: float, frame: int) -> None:
    """Draw one subject centred at (cx, cy) at scale s into a 4-channel frame."""
    dark = (0.08, 0.08, 0.08)
    if subject == "ball":
        _paint(image, _disc(cx, cy, 3.6 * s), colour)
    elif subject == "car":
        _paint(image, _rect(cx, cy, 5.0 * s, 1.8 * s), colour)
        _paint(image, _rect(cx, cy - 2.2 * s, 2.6 * s, 1.2 * s), colour)
        for dx in (-3.0, 3.0):
            _paint(image, _disc(cx + dx * s, cy + 2.0 * s, 1.1 * s), dark)
    elif subject == "bird":
        flap = 1.0 if frame % 4 < 2 else -1.0
        _paint(image, _ellipse(cx, cy, 3.2 * s, 1.6 * s), colour)
        _paint(image, _ellipse(cx - 1.2 * s, cy - 1.6 * flap * s, 1.6 * s, 1.4 * s), colour)
        _paint(image, _disc(cx + 2.8 * s, cy - 0.8 * s, 1.2 * s), colour)
    elif subject == "cat":
        _paint(image, _ellipse(cx, cy + 0.5 * s, 3.4 * s, 2.0 * s), colour)
        _paint(image, _disc(cx + 3.0 * s, cy - 1.6 * s, 1.7 * s), colour)
        _paint(image, _rect(cx - 3.8 * s, cy - 1.0 * s, 0.5 * s, 1.6 * s), colour)
    elif subject == "skater":
        _paint(image, _rect(cx, cy, 1.4 * s, 3.2 * s), colour)
        _paint(image, _disc(cx, cy - 4.6 * s, 1.5 * s), SKIN)
        _paint(image, _rect(cx, cy + 3.8 * s, 2.8 * s, 0.5 * s), dark)
    elif subject == "person":
        head = _disc(cx, cy - 4.2 * s, 2.6 * s)
        _paint(image, _rect(cx, cy + 1.6 * s, 2.2 * s, 3.4 * s), colour)
        _paint(image, head, SKIN)
        image[..., 3] = np.maximum(image[..., 3], head)
    else:
        raise ValueError(f"unknown subject {subject!r}")


def render(spec: ClipSpec, frames: int = FRAMES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The clip (frames, SIZE, SIZE, 4) in [0, 1], its subject mask and its motion prior (frames, SIZE, SIZE)."""
    rng = np.random.default_rng(spec.seed)
    background = render_scene(spec.scene, rng)
    people = spec.people if spec.subject == "person" else 1
    centres, scales = subject_track(spec.motion, people, rng, frames)
    colour = np.clip(np.asarray(COLOURS[spec.colour]) + rng.normal(0, 0.03, 3), 0, 1)
    offsets = (np.arange(people) - (people - 1) / 2) * 9.0
    base = 0.9 if people == 1 else 0.75
    clip = np.zeros((frames, SIZE, SIZE, 4), np.float32)
    mask = np.zeros((frames, SIZE, SIZE), np.float32)
    for f in range(frames):
        clip[f, ..., :3] = background
        blank = np.zeros((SIZE, SIZE, 4), np.float32)
        for dx in offsets:
            _draw_subject(clip[f], spec.subject, colour, centres[f, 0] + dx * scales[f], centres[f, 1],
                          base * scales[f], f)
            _draw_subject(blank, spec.subject, (1, 1, 1), centres[f, 0] + dx * scales[f], centres[f, 1],
                          base * scales[f], f)
        mask[f] = blank[..., 0]
    return clip, mask, motion_prior(centres, scales)


def batch(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray]:
    """``size`` training clips (B, F, 4, H, W) in [-1, 1], subject masks, motion priors, captions and labels (B, 5)."""
    clips, masks, priors, texts, labels = [], [], [], [], []
    for _ in range(size):
        spec = random_spec(rng)
        clip, mask, prior = render(spec)
        text, label = caption(spec, rng)
        clips.append(clip)
        masks.append(mask)
        priors.append(prior)
        texts.append(text)
        labels.append((label.colour, label.motion, label.subject, label.scene, label.people))
    x = np.stack(clips).transpose(0, 1, 4, 2, 3) * 2 - 1
    return x.astype(np.float32), np.stack(masks), np.stack(priors), texts, np.asarray(labels, np.int64)


def held_out_prompts(count: int, seed: int = 1234) -> list[tuple[str, ClipSpec]]:
    """Evaluation prompts: held-out colour and motion pairs, in held-out sentence templates, synonyms included."""
    rng = np.random.default_rng(seed)
    combos = sorted(HELD_OUT_COMBOS)
    prompts = []
    for i in range(count):
        colour, motion = combos[i % len(combos)]
        subject = str(rng.choice(SUBJECTS))
        spec = ClipSpec(str(rng.choice(SCENES)), subject, colour, motion, 1, int(rng.integers(2**31)))
        text, _ = caption(spec, rng, HELD_OUT_TEMPLATES, drop=0.0)
        prompts.append((text, spec))
    return prompts
