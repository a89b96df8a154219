"""An invisible watermark that carries a number (Dreamreel embeds the post id) and survives re-encoding.

The visible watermark says a video is AI-made, but a crop removes it. This
one hides a 32-bit payload in the coarse brightness pattern of every frame,
where H.264 and downscaling leave it alone (``docs/notes/trust-safety-research.md``
section 2):

* every frame's luma, box-averaged to a 64x64 working plane whatever the
  frame's size, goes through an orthonormal 2-D DCT;
* the payload and a 16-bit keyed check over it, 48 bits in all, go into
  315 low-frequency coefficients by dither modulation (QIM): each coefficient
  is moved to the nearest point of one of two interleaved lattices, one per
  bit value, offset by a secret dither; the key also decides which
  coefficients carry which bit;
* the detector votes softly over every coefficient of a bit and every frame,
  tries a few hypotheses (mirrored, TV/PC range mix-ups), and reports a mark
  only when the keyed check matches.

Without the key the pattern is noise, and a video not marked with it fails
the check under every hypothesis except by a 2^-16 chance per hypothesis.
Crops, letterboxing and rotation move the grid and defeat it.
"""

from __future__ import annotations

import functools
import hashlib
import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .secret_file import read_or_create_secret

PAYLOAD_BITS = 32
CHECK_BITS = 16
"""The keyed check that tells a mark from chance: one false match in 65,536 per hypothesis."""
WORKING_SIZE = 64
BAND = (4, 24)
"""The coefficients used: 4 <= u + v <= 24 (315 of them), coarse enough to outlive a 50% downscale."""
STEP = 24.0
"""The QIM lattice step Δ, in luma levels of the orthonormal DCT: about 0.08·Δ levels RMS in the frame."""
MIN_CONFIDENCE = 0.1
"""Below this mean |vote| a matching check is still treated as chance."""
GAINS = (1.0, 219 / 255, 255 / 219)
"""Contrast changes a transcode may bring: none, and full/limited range read the wrong way."""
KEY_BYTES = 32
_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)
_ONE_THREAD_PRODUCT = 64**3
"""OpenBLAS runs a matrix product of at most this many multiply-adds on one thread."""


@dataclass(frozen=True)
class WatermarkReading:
    """What :meth:`InvisibleWatermark.detect` found."""

    payload: int
    """The embedded number (Dreamreel embeds the post id)."""
    confidence: float
    """0..1, the mean |soft vote| of the decoded bits."""


class InvisibleWatermark:
    """Embeds and detects this instance's invisible mark; the key decides where it hides.

        mark = InvisibleWatermark.from_key_file(Path("data/watermark.key"))
        frames = mark.embed(frames, post_id)
        reading = mark.detect(read_video(path)[0])  # WatermarkReading or None
    """

    step: float = STEP

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) < 16:
            raise ValueError("The watermark key must be at least 16 bytes.")
        self._check_key = hashlib.blake2b(key, digest_size=32, person=b"dreamreel-check").digest()
        seed = hashlib.blake2b(key, digest_size=16, person=b"dreamreel-layout").digest()
        rng = np.random.default_rng(int.from_bytes(seed, "big"))
        rows, cols = _band_indices()
        order = rng.permutation(len(rows))
        self._rows, self._cols = rows[order], cols[order]
        bits = PAYLOAD_BITS + CHECK_BITS
        self._bit_of = np.arange(len(rows)) % bits
        """Coefficient k carries bit ``_bit_of[k]``: 6 or 7 coefficients per bit."""
        self._dither = rng.random(len(rows))
        """Each coefficient's lattice offset, as a fraction of the step."""

    @classmethod
    def from_key_file(cls, path: Path) -> InvisibleWatermark:
        """Reads the instance's secret key; on first use creates it (32 random bytes, file mode 0600, written atomically)."""
        return cls(read_or_create_secret(path, KEY_BYTES))

    def embed(self, frames: np.ndarray, payload: int) -> np.ndarray:
        """uint8 (F,H,W,3) in, same shape out; payload 0 <= payload < 2**32 else ValueError."""
        _check_frames(frames)
        if not isinstance(payload, numbers.Integral) or isinstance(payload, bool) or not 0 <= payload < 2**PAYLOAD_BITS:
            raise ValueError(f"The payload must be an integer from 0 to {2**PAYLOAD_BITS - 1}, not {payload!r}.")
        _, height, width, _ = frames.shape
        offset = (self._dither + self._bits(int(payload))[self._bit_of] / 2) * self.step
        luma = _luma(frames)
        original = self._band(_analyse(luma))
        target = np.round((original - offset) / self.step) * self.step + offset
        out = _add_to_every_channel(frames.astype(np.int16), self._pattern(target - original, height, width))
        # Clipping at black and white takes part of the pattern away: measure what
        # the detector would miss and add it back once, spread over the whole frame.
        lost = _luma(np.clip(out, 0, 255) - out)
        if lost.any():
            correction = self._pattern(-self._band(_analyse(lost)), height, width)
            out = _add_to_every_channel(out, correction)
        return np.clip(out, 0, 255, out=out).astype(np.uint8)

    def detect(self, frames: np.ndarray) -> WatermarkReading | None:
        """None when no valid mark (CRC fails under every hypothesis or confidence too low)."""
        _check_frames(frames)
        coeffs = _analyse(_luma(frames))
        best = None
        for mirrored in (False, True):
            sign = np.where(self._cols % 2 == 1, -1.0, 1.0) if mirrored else 1.0
            observed = self._band(coeffs) * sign
            for gain in GAINS:
                reading = self._read(observed / gain)
                if reading is not None and (best is None or reading.confidence > best.confidence):
                    best = reading
        return best if best is not None and best.confidence >= MIN_CONFIDENCE else None

    def bit_errors(self, frames: np.ndarray, payload: int) -> int:
        """How many of the 48 coded bits (payload and check) read wrong, no hypothesis tried: for benchmarks."""
        _check_frames(frames)
        votes = self._votes(self._band(_analyse(_luma(frames))))
        return int(np.sum((votes < 0) != self._bits(payload).astype(bool)))

    def _band(self, coefficients: np.ndarray) -> np.ndarray:
        """(F, 64, 64) to the (F, 315) coefficients that carry the mark, in key order."""
        return coefficients[:, self._rows, self._cols]

    def _pattern(self, change: np.ndarray, height: int, width: int) -> np.ndarray:
        """The (F, H, W) luma pattern that changes the marked coefficients by ``change`` (F, 315)."""
        coefficients = np.zeros((len(change), WORKING_SIZE, WORKING_SIZE), np.float32)
        coefficients[:, self._rows, self._cols] = change
        return _synthesize(coefficients, height, width)

    def _votes(self, observed: np.ndarray) -> np.ndarray:
        chips = np.cos(2 * np.pi * (observed / self.step - self._dither)).mean(axis=0)
        bits = PAYLOAD_BITS + CHECK_BITS
        return np.bincount(self._bit_of, chips, bits) / np.bincount(self._bit_of, minlength=bits)

    def _read(self, observed: np.ndarray) -> WatermarkReading | None:
        votes = self._votes(observed)
        value = int("".join("1" if v < 0 else "0" for v in votes), 2)
        payload, check = value >> CHECK_BITS, value & (2**CHECK_BITS - 1)
        if check != self._check(payload):
            return None
        return WatermarkReading(payload=payload, confidence=float(np.abs(votes).mean()))

    def _bits(self, payload: int) -> np.ndarray:
        value = payload << CHECK_BITS | self._check(payload)
        return np.array([(value >> i) & 1 for i in reversed(range(PAYLOAD_BITS + CHECK_BITS))], np.float64)

    def _check(self, payload: int) -> int:
        digest = hashlib.blake2b(payload.to_bytes(4, "big"), key=self._check_key, digest_size=2).digest()
        return int.from_bytes(digest, "big")


def _check_frames(frames: np.ndarray) -> None:
    if not (isinstance(frames, np.ndarray) and frames.dtype == np.uint8 and frames.ndim == 4
            and frames.shape[-1] == 3 and frames.shape[0] > 0 and min(frames.shape[1:3]) > 0):
        got = f"{frames.dtype} {frames.shape}" if isinstance(frames, np.ndarray) else type(frames).__name__
        raise ValueError(f"Expected uint8 frames shaped (F, H, W, 3), got {got}.")


def _luma(pixels: np.ndarray) -> np.ndarray:
    """Y = 0.299 R + 0.587 G + 0.114 B of (..., 3) pixels, as float32.

    The pattern goes equally into R, G and B, so exactly into Y. Computed
    at most 2048 pixels at a time, which keeps OpenBLAS on one thread (see :func:`_product`).
    """
    flat = pixels.reshape(-1, 3)
    block = min(2048, len(flat))
    while len(flat) % block:
        block -= 1
    return (flat.reshape(-1, block, 3).astype(np.float32) @ _LUMA_WEIGHTS).reshape(pixels.shape[:-1])


def _add_to_every_channel(frames: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """Add the (F, H, W) pattern, rounded, to R, G and B of int16 frames, in place: Y rises by the same amount."""
    step = np.rint(pattern).astype(np.int16)
    for channel in range(3):
        frames[..., channel] += step
    return frames


def _analyse(luma: np.ndarray) -> np.ndarray:
    """(F, H, W) luma to the (F, 64, 64) DCT coefficients of its working plane."""
    count, height, width = luma.shape
    rows = _product(luma.reshape(count * height, width), _analysis(width).T)
    columns = rows.reshape(count, height, WORKING_SIZE).transpose(0, 2, 1).reshape(count * WORKING_SIZE, height)
    return _product(columns, _analysis(height).T).reshape(count, WORKING_SIZE, WORKING_SIZE).transpose(0, 2, 1)


def _synthesize(coefficients: np.ndarray, height: int, width: int) -> np.ndarray:
    """(F, 64, 64) coefficients to the (F, H, W) smooth pattern whose :func:`_analyse` gives them back."""
    count = len(coefficients)
    columns = _product(coefficients.transpose(0, 2, 1).reshape(count * WORKING_SIZE, WORKING_SIZE),
                       _synthesis(height).T)
    rows = columns.reshape(count, WORKING_SIZE, height).transpose(0, 2, 1).reshape(count * height, WORKING_SIZE)
    return _product(rows, _synthesis(width).T).reshape(count, height, width)


def _product(rows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``rows @ matrix``, as a stack of products small enough for OpenBLAS to keep each on one thread.

    Spread over threads, products this size cost four times as long whenever
    other work holds the cores (a busy server, torch's threads just after
    generating), and barely less on idle ones.
    """
    n, k = rows.shape
    block = max(1, _ONE_THREAD_PRODUCT // (k * matrix.shape[1]))
    while n % block:
        block -= 1
    return (rows.reshape(n // block, block, k) @ matrix).reshape(n, matrix.shape[1])


@functools.cache
def _band_indices() -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0:WORKING_SIZE, 0:WORKING_SIZE]
    keep = (rows + cols >= BAND[0]) & (rows + cols <= BAND[1])
    return rows[keep], cols[keep]


@functools.cache
def _dct() -> np.ndarray:
    """The orthonormal DCT-II matrix: ``D @ x`` transforms, ``D.T @ X`` inverts."""
    n = np.arange(WORKING_SIZE)
    d = np.cos(np.pi * (n[None, :] + 0.5) * n[:, None] / WORKING_SIZE) * np.sqrt(2 / WORKING_SIZE)
    d[0] /= np.sqrt(2)
    return d


def _box(size: int) -> np.ndarray:
    """(64, size): area-weighted averaging of ``size`` samples down to 64 (PIL's BOX filter)."""
    edges = np.arange(WORKING_SIZE + 1) * size / WORKING_SIZE
    pixels = np.arange(size)
    overlap = np.clip(np.minimum(edges[1:, None], pixels + 1) - np.maximum(edges[:-1, None], pixels), 0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def _bilinear(size: int) -> np.ndarray:
    """(size, 64): linear interpolation of 64 samples up to ``size``, pixel centres aligned."""
    position = np.clip((np.arange(size) + 0.5) * WORKING_SIZE / size - 0.5, 0, WORKING_SIZE - 1)
    low = np.minimum(np.floor(position).astype(int), WORKING_SIZE - 2)
    weight = position - low
    m = np.zeros((size, WORKING_SIZE))
    m[np.arange(size), low] = 1 - weight
    m[np.arange(size), low + 1] = weight
    return m


@functools.cache
def _analysis(size: int) -> np.ndarray:
    """(64, size): frame axis to DCT coefficients, box-averaging to the working size first."""
    return (_dct() @ _box(size)).astype(np.float32)


@functools.cache
def _synthesis(size: int) -> np.ndarray:
    """(size, 64): DCT coefficients to a smooth frame-sized pattern whose analysis gives them back exactly."""
    smooth = _bilinear(size)
    exact = smooth @ np.linalg.pinv(_box(size) @ smooth, rcond=1e-3)
    return (exact @ _dct().T).astype(np.float32)
