"""The `edges` sampler (format version 2's `adaptive`, decoded only): edge-aware sampling whose
positions cost no bits. It lost to random sampling at equal rate (docs/EXPERIMENTS.md).

Half the samples (stage 1) are the random sampler's mask. From their *decoded* values the
decoder can rebuild what the encoder saw: a coarse luma image (integer inverse-distance
interpolation of the 4 nearest stage-1 samples), its integer Sobel magnitude, and from that a
sampling weight per pixel. Stage 2 draws the other half with those weights. Every step is
integer arithmetic on decoded data, so decoder and encoder pick the same pixels on any machine.
Stage-2 values are then predicted from stage 1 (and coarser stage-2 levels).
"""

from __future__ import annotations

import numpy as np

from sparsepix.codec import predictive
from sparsepix.codec.prng import splitmix64
from sparsepix.codec.samplers import random_mask

STAGE2_STREAM = 0xADA97  # xor-ed into the seed for stage 2's keys
CHUNK = 1 << 16  # pixels per neighbour query, to bound memory on large images


def stage_counts(count: int) -> tuple[int, int]:
    n1 = max(1, count // 2)
    return n1, count - n1


def coarse_luma(positions: np.ndarray, luma: np.ndarray, height: int, width: int) -> np.ndarray:
    """Integer IDW-4 interpolation of luma at every pixel (the same rule as value prediction)."""
    out = np.empty(height * width, np.int64)
    values = luma.reshape(-1, 1).astype(np.int64)
    for start in range(0, height * width, CHUNK):
        idx = np.arange(start, min(start + CHUNK, height * width))
        grid = np.stack(np.divmod(idx, width), axis=1)
        near, d2 = predictive._neighbours(positions, grid, predictive.NEIGHBOURS)
        out[idx] = predictive._predict(values, near, d2)[:, 0]
    return out.reshape(height, width)


def sobel_l1(y: np.ndarray) -> np.ndarray:
    """|Gx| + |Gy| of the 3x3 Sobel operator, borders replicated, in integers."""
    p = np.pad(y, 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return np.abs(gx) + np.abs(gy)


def stage2_weights(coarse: np.ndarray) -> np.ndarray:
    """w = 4 |grad| + floor(mean |grad|) + 1: 80 % of the mass follows edges, 20 % is uniform."""
    g = sobel_l1(coarse)
    return 4 * g + g.sum() // g.size + 1


def stage2_mask(seed: int, weights: np.ndarray, first: np.ndarray, n2: int) -> np.ndarray:
    """The n2 pixels outside `first` with the smallest key(i) // w_i, ties to the lower index.

    For sparse draws a pixel's chance is proportional to its weight (key/w is uniform on
    [0, 2^64 / w)), and the rule is exact integer arithmetic.
    """
    candidates = np.flatnonzero(~first.ravel())
    keys = splitmix64(seed ^ STAGE2_STREAM, candidates.astype(np.uint64))
    keys = keys // weights.ravel()[candidates].astype(np.uint64)
    chosen = candidates[np.lexsort((candidates, keys))[:n2]]
    mask = np.zeros(first.size, bool)
    mask[chosen] = True
    return mask.reshape(first.shape)


def first_stage(seed: int, height: int, width: int, count: int) -> np.ndarray:
    return random_mask(seed, height, width, stage_counts(count)[0])


def second_stage(seed: int, first: np.ndarray, first_values: np.ndarray, count: int) -> np.ndarray:
    """Stage-2 mask from the decoded stage-1 values ((n1, C) uint8, row-major order)."""
    h, w = first.shape
    idx = np.flatnonzero(first.ravel())
    luma = predictive.to_coding_domain(first_values)[:, 0]
    coarse = coarse_luma(predictive.positions_of(idx, w), luma, h, w)
    return stage2_mask(seed, stage2_weights(coarse), first, stage_counts(count)[1])
