"""The X-GANs corruption tasks, as pure functions of (image, rng) on uint8 (H, W, 3) arrays.

Each returns (canvas, known): the corrupted image the generator sees and a boolean map of the
pixels it may trust (the mask channel). For colour noise and cluttered blocks the network is not
told which pixels are polluted, so `known` is all True there, as in the paper.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from sparsepix.codec.predictive import decode_pred, encode_pred
from sparsepix.codec.quality import params_for_quality
from sparsepix.codec.samplers import random_mask, sample_count, sobel_mask
from sparsepix.tasks import TASKS, block_sides, white_block_holes

Corruption = Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**63))


def draw_density(rng: np.random.Generator, density: tuple[float, float]) -> float:
    """A sample density drawn uniformly from the range."""
    lo, hi = density
    return float(rng.uniform(lo, hi))


def sparse_random(
    image: np.ndarray, rng: np.random.Generator, density: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Keep a uniform random share of pixels (density drawn from the range), with the codec's sampler."""
    h, w = image.shape[:2]
    count = sample_count(h, w, draw_density(rng, density))
    mask = random_mask(_seed(rng), h, w, count)
    return image * mask[..., None], mask


def sparse_sobel(
    image: np.ndarray, rng: np.random.Generator, density: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Keep Sobel-weighted samples, with the codec's sampler."""
    h, w = image.shape[:2]
    count = sample_count(h, w, draw_density(rng, density))
    mask = sobel_mask(image, _seed(rng), count)
    return image * mask[..., None], mask


def sparse_mixed(
    image: np.ndarray, rng: np.random.Generator, density: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Either sampler with equal odds: one model for both."""
    pick = sparse_sobel if rng.random() < 0.5 else sparse_random
    return pick(image, rng, density)


def lossy_values(canvas: np.ndarray, known: np.ndarray, rng: np.random.Generator, quality: int) -> np.ndarray:
    """The kept pixels as a decoder sees them after the codec's lossy `pred` value coding at
    `quality` (default chroma skip), so the network learns from the inputs it will get."""
    h, w, c = canvas.shape
    indices = np.flatnonzero(known)
    if indices.size == 0:
        return canvas
    seed, params = _seed(rng), params_for_quality(quality)
    samples = canvas.reshape(-1, c)[indices]
    decoded = decode_pred(encode_pred(samples, indices, w, seed, params), indices, w, seed, c)
    out = canvas.copy()
    out.reshape(-1, c)[indices] = decoded
    return out


def linear_tuned_values(image: np.ndarray, known: np.ndarray, iterations: int) -> np.ndarray:
    """The canvas an encoder with `--optimize` stores for a Delaunay-coarse model: kept values
    solved by least squares so that the linear fill is closest to the image (codec/tonal.py)."""
    from sparsepix.codec.tonal import optimize_linear

    out = np.zeros_like(image)
    if known.any():
        out[known] = optimize_linear(image, known, iterations=iterations)
    return out


def color_noise(
    image: np.ndarray, rng: np.random.Generator, share: tuple[float, float] = (0.85, 0.95)
) -> tuple[np.ndarray, np.ndarray]:
    """Replace a share of pixels (85-95 % by default) with uniformly random RGB colours."""
    h, w = image.shape[:2]
    noisy = rng.random((h, w)) < rng.uniform(*share)
    out = image.copy()
    out[noisy] = rng.integers(0, 256, (int(noisy.sum()), image.shape[2]), dtype=np.uint8)
    return out, np.ones((h, w), bool)


def white_block(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A white centre block of half the side (128x128 in a 256x256 image, as the paper)."""
    holes = white_block_holes(*image.shape[:2])
    out = image.copy()
    out[holes] = 255
    return out, ~holes


def free_form_holes(h: int, w: int, rng: np.random.Generator, coverage: float) -> np.ndarray:
    """Holes as users draw them, True = missing: brush strokes (random walks of 3-10 segments,
    2-6 % of the short side thick) and, one time in four, filled boxes (5-30 % of each side),
    added until at least `coverage` of the pixels are missing. Seeded by `rng` alone."""
    import cv2

    holes = np.zeros((h, w), np.uint8)
    side, target = min(h, w), coverage * h * w
    while np.count_nonzero(holes) < target:
        if rng.random() < 0.25:
            bh, bw = int(rng.uniform(0.05, 0.3) * h) + 1, int(rng.uniform(0.05, 0.3) * w) + 1
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            holes[y : y + bh, x : x + bw] = 1
            continue
        thickness = max(1, int(rng.uniform(0.02, 0.06) * side))
        y, x, angle = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0, 2 * np.pi)
        for _ in range(int(rng.integers(3, 11))):
            angle += rng.uniform(-1.0, 1.0)
            step = rng.uniform(0.05, 0.2) * side
            ny = float(np.clip(y + step * np.sin(angle), 0, h - 1))
            nx = float(np.clip(x + step * np.cos(angle), 0, w - 1))
            cv2.line(holes, (int(x), int(y)), (int(nx), int(ny)), 1, thickness)
            y, x = ny, nx
    return holes.astype(bool)


def inpaint(
    image: np.ndarray, rng: np.random.Generator, coverage: tuple[float, float] = (0.05, 0.5)
) -> tuple[np.ndarray, np.ndarray]:
    """Free-form holes (`free_form_holes`) over a coverage drawn uniformly from the range."""
    holes = free_form_holes(*image.shape[:2], rng, float(rng.uniform(*coverage)))
    return image * ~holes[..., None], ~holes


def color_block(
    image: np.ndarray, rng: np.random.Generator, donor: np.ndarray, size: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Paste a random square patch cut from another image (`donor`) at a random place; its side
    is drawn from `size`, by default `block_sides`."""
    h, w = image.shape[:2]
    lo, hi = size or block_sides(h, w)
    side = int(rng.integers(lo, hi + 1))
    ph, pw = min(side, h, donor.shape[0]), min(side, w, donor.shape[1])
    sy, sx = int(rng.integers(0, donor.shape[0] - ph + 1)), int(rng.integers(0, donor.shape[1] - pw + 1))
    ty, tx = int(rng.integers(0, h - ph + 1)), int(rng.integers(0, w - pw + 1))
    out = image.copy()
    out[ty : ty + ph, tx : tx + pw] = donor[sy : sy + ph, sx : sx + pw]
    return out, np.ones((h, w), bool)


def block_holes(
    image: np.ndarray, rng: np.random.Generator, size: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A square hole, side drawn from `size` (by default `block_sides`) at a random place:
    `color_block`'s geometry with the place told, what a blind block restorer's hole filler gets
    once the patch is found."""
    h, w = image.shape[:2]
    lo, hi = size or block_sides(h, w)
    side = min(int(rng.integers(lo, hi + 1)), h, w)
    y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    holes = np.zeros((h, w), bool)
    holes[y : y + side, x : x + side] = True
    return image * ~holes[..., None], ~holes


SPARSE_TASKS = {n for n, t in TASKS.items() if t.samples}
POINT_LOSS_TASKS = {n for n, t in TASKS.items() if t.point_loss}
