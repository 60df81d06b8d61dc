"""Samplers choose which pixels the encoder keeps, as a boolean (H, W) mask, and what else the
decoder needs to rebuild that mask (a side section).

- `random`: uniform. The mask is a pure function of (seed, H, W, count) so the file stores
  only the seed. Masks are nested: for one seed, a lower count keeps a subset of a higher one.
- `adaptive`: a density level per block (16-64 px), chosen by the encoder for the `linear`
  fill's error (or the decoder's, at effort 3) and stored (a byte a block before zstd); random
  inside each block (codec/blockdensity.py).
- `sobel`: the X-GANs feature sampling. A probability map from the Sobel gradient magnitude,
  mixed with a uniform floor so flat areas still get samples; exactly `count` pixels are drawn
  from it without replacement. The decoder cannot recompute it, so positions are stored.
- `edges` (decode only): format version 2's `adaptive`, half random, half edge-weighted from
  what the decoder rebuilds of the first half (codec/edgesampler.py, driven by the API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from sparsepix.codec import blockdensity
from sparsepix.codec.positions import decode_positions, encode_positions
from sparsepix.codec.prng import splitmix64, uniform
from sparsepix.errors import InputError

MIN_DENSITY, MAX_DENSITY = 0.001, 0.5
SOBEL_FLOOR = 0.2  # share of the probability mass spread uniformly (see docs/DECISIONS.md)
SOBEL_STREAM = 0x5B0E1  # xor-ed into the seed so Sobel draws differ from the random mask


def sample_count(height: int, width: int, density: float) -> int:
    """Number of samples for a density: round(density * H * W), at least 1."""
    if not MIN_DENSITY <= density <= MAX_DENSITY:
        raise InputError(f"density {density} is outside [{MIN_DENSITY}, {MAX_DENSITY}]")
    return min(height * width, max(1, int(round(density * height * width))))


def _smallest(keys: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` smallest keys, ties broken by the lower index (fully specified)."""
    if count >= keys.size:
        return np.arange(keys.size)
    kth = np.partition(keys, count - 1)[count - 1]
    below = np.flatnonzero(keys < kth)
    tied = np.flatnonzero(keys == kth)[: count - below.size]
    return np.concatenate([below, tied])


def random_mask(seed: int, height: int, width: int, count: int) -> np.ndarray:
    """Keep the `count` pixels whose SplitMix64 keys are smallest (row-major pixel index)."""
    keys = splitmix64(seed, np.arange(height * width, dtype=np.uint64))
    mask = np.zeros(height * width, dtype=bool)
    mask[_smallest(keys, count)] = True
    return mask.reshape(height, width)


def sobel_probability(image: np.ndarray, floor: float = SOBEL_FLOOR) -> np.ndarray:
    """Sampling probability per pixel, summing to 1: (1 - floor) * |grad| / sum|grad| + floor / N."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    gray = cv2.GaussianBlur(gray.astype(np.float32), (3, 3), 0)  # tame sensor noise and JPEG grain
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.hypot(gx, gy).astype(np.float64)
    uniform_share = np.full(mag.shape, 1.0 / mag.size)
    total = mag.sum()
    if total <= 0:  # a flat image has no edges: plain uniform sampling
        return uniform_share
    return (1.0 - floor) * mag / total + floor * uniform_share


def sobel_mask(image: np.ndarray, seed: int, count: int, floor: float = SOBEL_FLOOR) -> np.ndarray:
    """Draw exactly `count` pixels without replacement, weighted by the Sobel probability map.

    Efraimidis-Spirakis weighted sampling: keep the pixels with the smallest -log(u) / p.
    """
    prob = sobel_probability(image, floor).ravel()
    keys = -np.log(uniform(seed ^ SOBEL_STREAM, prob.size)) / prob
    mask = np.zeros(prob.size, dtype=bool)
    mask[_smallest(keys, count)] = True
    return mask.reshape(image.shape[:2])


MASK_TAG, DENS_TAG = b"MASK", b"DENS"  # the sections the sobel and adaptive samplers store


def _sobel_place(image: np.ndarray, seed: int, count: int, fill=None) -> tuple[np.ndarray, bytes]:
    mask = sobel_mask(image, seed, count)
    return mask, encode_positions(mask)


@dataclass(frozen=True)
class Sampler:
    name: str
    id: int  # stored in the header
    # Encoder: (image, seed, count, fill) -> (mask, the raw side section or None); `fill`
    # (canvas, mask) -> image is the reconstruction an encoder that searches minimises the
    # error of (None: `linear`).
    place: Callable[..., tuple[np.ndarray, bytes | None]] | None
    # Decoder: (raw side section or None, seed, height, width, count) -> mask.
    recover: Callable[[bytes | None, int, int, int, int], np.ndarray] | None
    side_tag: bytes | None = None  # the section the decoder needs besides the seed
    encodes: bool = True  # False: kept so that earlier files decode


SAMPLERS: dict[str, Sampler] = {
    "random": Sampler(
        "random",
        0,
        lambda img, seed, n, fill=None: (random_mask(seed, *img.shape[:2], n), None),
        lambda raw, seed, h, w, n: random_mask(seed, h, w, n),
    ),
    "sobel": Sampler(
        "sobel", 1, _sobel_place, lambda raw, seed, h, w, n: decode_positions(raw, h, w, n), MASK_TAG
    ),
    "adaptive": Sampler("adaptive", 3, blockdensity.place, blockdensity.recover, DENS_TAG),
    # Format version 2's adaptive sampler (codec/edgesampler.py): two stages, run by the API.
    "edges": Sampler("edges", 2, None, None, encodes=False),
}
SAMPLER_BY_ID = {s.id: s for s in SAMPLERS.values()}


def get_sampler(name: str) -> Sampler:
    """An encoder's sampler by name."""
    sampler = SAMPLERS.get(name)
    if sampler is None or not sampler.encodes:
        choices = ", ".join(n for n, s in SAMPLERS.items() if s.encodes)
        raise InputError(f"unknown sampler {name!r}; choose one of {choices}")
    return sampler
