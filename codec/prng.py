"""A tiny, fully specified PRNG: SplitMix64 evaluated at arbitrary indices.

numpy only promises stable raw bit streams, not stable `Generator.random()` or `choice()`
results across versions, and a decoder must rebuild the encoder's random mask bit for bit.
SplitMix64 is a handful of 64-bit integer operations, so any language reproduces it exactly
(docs/FORMAT.md gives the reference definition).
"""

from __future__ import annotations

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
MASK64 = (1 << 64) - 1


def splitmix64(seed: int, indices: np.ndarray) -> np.ndarray:
    """Output number `i` of SplitMix64 started from `seed`, for every i in `indices` (uint64).

    Output i is mix(seed + (i + 1) * GOLDEN) with mix the SplitMix64 finaliser, all modulo 2^64.
    """
    idx = np.asarray(indices, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed & MASK64) + (idx + np.uint64(1)) * GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def uniform(seed: int, n: int) -> np.ndarray:
    """n floats in the open interval (0, 1) from the top 53 bits of each output."""
    bits = splitmix64(seed, np.arange(n, dtype=np.uint64)) >> np.uint64(11)
    return (bits.astype(np.float64) + 0.5) * (1.0 / (1 << 53))
