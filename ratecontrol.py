"""Rate control: pick density and quality so that a file hits a size target.

For each candidate quality, a bisection on the density finds the largest file within the target
(bytes grow monotonically with density at fixed quality; the search works on the real encoded
bytes). The candidate whose reconstruction is best (PSNR, with the scorer model) wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsepix.codec.imageio import as_image_array
from sparsepix.codec.samplers import MAX_DENSITY, MIN_DENSITY
from sparsepix.errors import InputError

QUALITIES = (50, 65, 75, 85, 95)
TOLERANCE = 0.05  # within 5 % below the target


@dataclass(frozen=True)
class RateChoice:
    data: bytes
    density: float
    quality: int
    psnr: float


def target_bytes(pixels: int, bpp: float | None = None, size: int | None = None) -> int:
    """The byte budget of a rate target: `size` itself, else `bpp` bits for each pixel."""
    return size if size is not None else max(1, int(bpp * pixels / 8))


def _fit_density(encode_at, target: int, iterations: int = 18) -> tuple[bytes, float] | None:
    """Largest-density file not above `target` bytes, or None if even the sparsest is too big."""
    lo, hi = MIN_DENSITY, MAX_DENSITY
    best = None
    data = encode_at(lo)
    if len(data) > target:
        return None
    best = (data, lo)
    data = encode_at(hi)
    if len(data) <= target:
        return data, hi
    for _ in range(iterations):
        mid = float(np.sqrt(lo * hi))  # bytes scale roughly with density: bisect in log
        data = encode_at(mid)
        if len(data) <= target:
            lo, best = mid, (data, mid)
            if len(data) >= (1 - TOLERANCE / 2) * target:
                break
        else:
            hi = mid
    return best


def encode_to_size(
    image: object,
    target_bytes: int,
    scorer: str = "pushpull",
    qualities: tuple[int, ...] = QUALITIES,
    **encode_args,
) -> RateChoice:
    """The best-reconstructing file of at most `target_bytes` over the candidate qualities.

    image: as `encode` takes it (uint8 array or PIL image). scorer: the model whose
    reconstructions rank the candidates (the fastest by default). `encode_args` go to `encode`
    (sampler, model, ...).
    """
    from sparsepix.api import decode, encode
    from sparsepix.metrics import psnr

    image = as_image_array(image)
    if target_bytes < 1:
        raise InputError("the size target must be positive")
    choices = []
    for quality in qualities:
        fit = _fit_density(
            lambda d, q=quality: encode(image, density=d, quality=q, **encode_args), target_bytes
        )
        if fit is None:
            continue
        data, density = fit
        out = decode(data, model=scorer)
        choices.append(RateChoice(data, density, quality, psnr(image, out)))
    if not choices:
        raise InputError(
            f"cannot fit the image into {target_bytes} bytes even at the lowest density and quality"
        )
    return max(choices, key=lambda c: c.psnr)
