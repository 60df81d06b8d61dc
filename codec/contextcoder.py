"""Range coding of pred residuals by context (value layout 2, docs/FORMAT.md).

A residual's context is its level, its channel and how much the coarser samples that predicted
it disagree in that channel: the spread (max - min) of their decoded values, in half quantiser
steps, cut at SPREAD_EDGES. Flat neighbourhoods give small residuals, edges large ones, so each
context gets its own model: P(0) = a/256 and P(+-k) falling geometrically by b/256 per step.
The encoder fits (a, b) per context and stores them; both sides build the table with integer
arithmetic, so every platform codes with the same probabilities.
"""

from __future__ import annotations

import numpy as np

from sparsepix.errors import BitstreamError

SPREAD_EDGES = np.array([1, 3, 6, 10, 16])  # spread in half steps: contexts <1, <3, ..., >= 16
CONTEXTS = len(SPREAD_EDGES) + 1
_ONE = 1 << 22  # weight of |r| = 1 before the geometric decay


def contexts(spread: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """(n, C) neighbour spreads in the coding domain -> (n, C) context ids in [0, CONTEXTS)."""
    return np.searchsorted(SPREAD_EDGES, (2 * spread) // steps, side="right")


def alphabet(step: int, chroma: bool) -> int:
    """The largest |residual| a channel can need: |value - prediction| spans 255 (luma, gray)
    or 510 (Co, Cg), and rounding adds at most one step."""
    return (510 if chroma else 255) // step + 1


def table(a: int, b: int, m: int) -> np.ndarray:
    """Probabilities of residuals -m..m (integer weights; the coder scales them)."""
    tail = np.zeros(m, np.int64)
    tail[0] = _ONE
    for k in range(1, m):
        tail[k] = (tail[k - 1] * b) >> 8
    zero = 2 * a * int(tail.sum())
    weights = np.concatenate([(256 - a) * tail[::-1], [zero], (256 - a) * tail])
    # Every residual keeps a probability the coder can represent (2^-20 of the total, where
    # its precision is 2^-24), however steep the decay: an outlier must stay codable.
    return np.maximum(weights, int(weights.sum()) >> 20).astype(np.float64)


def _bits(x: np.ndarray, a: int, b: int, m: int) -> float:
    p = table(a, b, m)
    return float(-np.log2(np.maximum(p[x + m] / p.sum(), 2.0**-24)).sum())


def fit(x: np.ndarray, m: int) -> tuple[int, int]:
    """(a, b) for residuals x: the share of zeros, then the decay that codes x shortest near the
    geometric fit of the non-zero magnitudes."""
    mags = np.abs(x)
    a = int(np.clip(round(256 * np.count_nonzero(mags == 0) / len(x)), 1, 255))
    nonzero = mags[mags > 0]
    guess = int(np.clip(round(256 * (1 - 1 / nonzero.mean())), 0, 255)) if nonzero.size else 0
    candidates = range(max(0, guess - 3), min(255, guess + 3) + 1)
    return a, min(candidates, key=lambda b: _bits(x, a, b, m))


def _model(a: int, b: int, m: int):
    import constriction

    return constriction.stream.model.Categorical(table(a, b, m).astype(np.float32), perfect=False)


class Encoder:
    """Collects (residuals, alphabet) per context in decoding order; `finish` gives the bytes."""

    def __init__(self) -> None:
        self.groups: list[tuple[np.ndarray, int]] = []

    def add(self, residuals: np.ndarray, m: int) -> None:
        if residuals.size:
            self.groups.append((residuals.astype(np.int64), m))

    def finish(self) -> bytes:
        fitted = [(x, *fit(x, m), m) for x, m in self.groups]
        params = b"".join(bytes((a, b)) for _, a, b, _ in fitted)
        return len(fitted).to_bytes(2, "little") + params + _range_code(fitted).tobytes()


def _range_code(groups: list[tuple[np.ndarray, int, int, int]]) -> np.ndarray:
    """The range coder's words for (residuals, a, b, m) groups, in order."""
    import constriction

    coder = constriction.stream.queue.RangeEncoder()
    for x, a, b, m in groups:
        coder.encode((x + m).astype(np.int32), _model(a, b, m))
    return coder.get_compressed().astype("<u4")


class Decoder:
    """Reads the groups back in the order they were added."""

    def __init__(self, raw: bytes) -> None:
        import constriction

        if len(raw) < 2:
            raise BitstreamError("value section too short for its context models")
        self.count = int.from_bytes(raw[:2], "little")
        start = 2 + 2 * self.count
        if len(raw) < start or (len(raw) - start) % 4:
            raise BitstreamError("value section does not hold its context models and whole words")
        self.params = raw[2:start]
        self.words = np.frombuffer(raw, "<u4", offset=start)
        self.coder = constriction.stream.queue.RangeDecoder(self.words.astype(np.uint32))
        self.groups: list[tuple[np.ndarray, int, int, int]] = []

    def read(self, n: int, m: int) -> np.ndarray:
        if n == 0:
            return np.zeros(0, np.int64)
        used = len(self.groups)
        if used == self.count:
            raise BitstreamError("value section has fewer context models than its samples need")
        a, b = self.params[2 * used], self.params[2 * used + 1]
        if a == 0:
            raise BitstreamError("context model with no zeros")
        try:
            x = self.coder.decode(_model(a, b, m), n).astype(np.int64) - m
        except (AssertionError, ValueError, RuntimeError):  # how constriction reports bad words
            raise BitstreamError("value section's coded words are damaged") from None
        self.groups.append((x, a, b, m))
        return x

    def finish(self) -> None:
        """Every model used, and the words exactly what an encoder writes for what was read:
        damage the decode could not notice, and bytes hidden after the data, are caught here."""
        if len(self.groups) != self.count or not np.array_equal(_range_code(self.groups), self.words):
            raise BitstreamError("value section does not code its samples exactly")
