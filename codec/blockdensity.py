"""The adaptive sampler: a density level per block, chosen by the encoder.

The encoder sees the image, so it can spend samples where the reconstruction needs them: it
measures a reconstruction's error in every block at six densities (a quarter of the mean to
eight times it) and picks the level per block that minimises the total error for the sample
count (a Lagrangian choice). The reconstruction is the `linear` fill, or the decoder's own
where the encoder is given it (`fill`: effort 3). The file stores the block size and one level
per block (the `DENS` section); the decoder shares the count out by level and area
(`block_counts`, exact integer arithmetic), and each block keeps its pixels with the smallest
SplitMix64 keys, as the random sampler does over the whole image.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from sparsepix.codec.classical import linear
from sparsepix.codec.prng import splitmix64
from sparsepix.errors import BitstreamError

BLOCKS = (16, 32, 64)  # block sides a file may use
WEIGHTS = (1, 2, 4, 8, 16, 32)  # relative density of each level; level 2 is the mean
MEAN_LEVEL = 2
# The encoder takes the smallest block holding this many samples at the mean density: smaller
# blocks follow the image more closely, but their levels cost more bytes (docs/DECISIONS.md).
SAMPLES_PER_BLOCK = 4


def block_size(height: int, width: int, count: int) -> int:
    """The encoder's block side for `count` samples."""
    for block in BLOCKS:
        if count * block * block >= SAMPLES_PER_BLOCK * height * width:
            return block
    return BLOCKS[-1]


def grid(height: int, width: int, block: int) -> tuple[int, int]:
    """Blocks down and across (the last row and column may be partial)."""
    return -(-height // block), -(-width // block)


def block_areas(height: int, width: int, block: int) -> np.ndarray:
    """Pixels in each block, (by, bx) int64."""
    by, bx = grid(height, width, block)
    rows = np.minimum(block, height - block * np.arange(by))
    cols = np.minimum(block, width - block * np.arange(bx))
    return np.outer(rows, cols).astype(np.int64)


def block_counts(levels: np.ndarray, count: int, height: int, width: int, block: int) -> np.ndarray:
    """Share `count` samples out over the blocks in proportion to WEIGHTS[level] x area.

    Largest remainders, ties to the lower block index (row-major); a block whose share exceeds
    its area is filled and the rest shared again among the others. Exact integer arithmetic,
    so every decoder computes the same counts.
    """
    areas = block_areas(height, width, block).ravel()
    weight = np.asarray(WEIGHTS, np.int64)[levels.ravel()] * areas
    counts = np.zeros(areas.size, np.int64)
    open_ = np.ones(areas.size, bool)
    left = int(count)
    while left > 0 and open_.any():
        idx = np.flatnonzero(open_)
        num = left * weight[idx]  # < 2^63: count < 2^32, weight <= 32 x 4096
        den = int(weight[idx].sum())
        share = num // den
        extra = left - int(share.sum())
        order = np.lexsort((idx, -(num % den)))[:extra]  # largest remainders first
        share[order] += 1
        full = share >= areas[idx]
        if not full.any():
            counts[idx] = share
            break
        counts[idx[full]] = areas[idx[full]]
        open_[idx[full]] = False
        left = int(count) - int(counts.sum())
    return counts.reshape(levels.shape)


def block_keys(seed: int, height: int, width: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Each block's SplitMix64 keys of the row-major pixel index, as it lies and sorted
    ((blocks, block * block) each; padding past the image's edge gets the largest key)."""
    by, bx = grid(height, width, block)
    keys = np.full((by * block, bx * block), np.iinfo(np.uint64).max, np.uint64)
    pixels = np.arange(height * width, dtype=np.uint64)
    keys[:height, :width] = splitmix64(seed, pixels).reshape(height, width)
    blocks = keys.reshape(by, block, bx, block).transpose(0, 2, 1, 3).reshape(by * bx, block * block)
    return blocks, np.sort(blocks, axis=1)


def block_mask(
    seed: int,
    height: int,
    width: int,
    counts: np.ndarray,
    block: int,
    keys: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """In each block, its count of pixels with the smallest keys (the random sampler's
    SplitMix64 keys of the row-major pixel index). `keys`: `block_keys`' result, when the
    caller makes several masks of one seed."""
    by, bx = grid(height, width, block)
    blocks, ranked = keys if keys is not None else block_keys(seed, height, width, block)
    n = counts.ravel()
    # Keys are distinct (SplitMix64 is a bijection), so "at most the n-th smallest" keeps n.
    threshold = ranked[np.arange(n.size), np.maximum(n - 1, 0)]
    keep = (blocks <= threshold[:, None]) & (n > 0)[:, None]
    full = keep.reshape(by, bx, block, block).transpose(0, 2, 1, 3).reshape(by * block, bx * block)
    return full[:height, :width].copy()


def choose_levels(
    image: np.ndarray,
    seed: int,
    count: int,
    block: int,
    keys: tuple[np.ndarray, np.ndarray] | None = None,
    fill: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """The level per block that minimises the squared error of `fill` ((H, W, C) canvas, mask
    -> image; None: the `linear` fill) for `count` samples: each block's error at each uniform
    density, then the Lagrangian choice."""
    fill = fill or linear
    h, w = image.shape[:2]
    flat = np.full(grid(h, w, block), MEAN_LEVEL, np.uint8)
    keys = keys if keys is not None else block_keys(seed, h, w, block)
    errors, costs = [], []
    for weight in WEIGHTS:
        trial = min(h * w, max(1, count * weight // WEIGHTS[MEAN_LEVEL]))
        counts = block_counts(flat, trial, h, w, block)
        mask = block_mask(seed, h, w, counts, block, keys)
        canvas = np.where(mask[..., None] if image.ndim == 3 else mask, image, 0)
        err = (fill(canvas.reshape(h, w, -1), mask).astype(np.float64) - image.reshape(h, w, -1)) ** 2
        errors.append(block_sums(err.sum(2), block))
        costs.append(counts.astype(np.float64))
    errors, costs = np.stack(errors), np.stack(costs)
    lo, hi = 0.0, float(errors.max()) + 1.0
    for _ in range(40):  # bisect the price of a sample until the choice spends `count`
        price = (lo + hi) / 2
        spent = np.take_along_axis(costs, np.argmin(errors + price * costs, 0)[None], 0).sum()
        lo, hi = (price, hi) if spent > count else (lo, price)
    return np.argmin(errors + hi * costs, 0).astype(np.uint8)


def block_sums(values: np.ndarray, block: int) -> np.ndarray:
    """Sum of `values` (H, W) over each block."""
    h, w = values.shape
    by, bx = grid(h, w, block)
    padded = np.zeros((by * block, bx * block))
    padded[:h, :w] = values
    return padded.reshape(by, block, bx, block).sum((1, 3))


def place(image: np.ndarray, seed: int, count: int, fill=None) -> tuple[np.ndarray, bytes]:
    """Encoder: the mask and the `DENS` section (the block side's log2, then one level byte
    per block, row-major); `fill` as for `choose_levels`."""
    h, w = image.shape[:2]
    block = block_size(h, w, count)
    keys = block_keys(seed, h, w, block)
    levels = choose_levels(image, seed, count, block, keys, fill)
    mask = block_mask(seed, h, w, block_counts(levels, count, h, w, block), block, keys)
    return mask, bytes([block.bit_length() - 1]) + levels.tobytes()


def recover(raw: bytes, seed: int, height: int, width: int, count: int) -> np.ndarray:
    """Decoder: the mask from the `DENS` section, which is checked, never trusted."""
    if not raw or raw[0] not in [b.bit_length() - 1 for b in BLOCKS]:
        raise BitstreamError("density map names no block size this decoder knows")
    block = 1 << raw[0]
    by, bx = grid(height, width, block)
    if len(raw) - 1 != by * bx:
        raise BitstreamError(f"density map holds {len(raw) - 1} levels, the image has {by * bx} blocks")
    levels = np.frombuffer(raw, np.uint8, offset=1).reshape(by, bx)
    if levels.max() >= len(WEIGHTS):
        raise BitstreamError(f"density level {levels.max()} is over the {len(WEIGHTS) - 1} allowed")
    return block_mask(seed, height, width, block_counts(levels, count, height, width, block), block)
