"""Rate control: pick density and quality so that a file hits a size target.

For each candidate quality, a bisection on the density finds the largest file within the target
(bytes grow monotonically with density at fixed quality; the search works on the real encoded
bytes). The candidate whose reconstruction is best (PSNR, with the scorer model) wins. The
search runs on random samples without tonal optimisation, each try a few hundredths of a second;
only the winner is encoded as asked (adaptive densities, tuned values), then shrunk until it fits.
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
    scorer_psnr: float  # the scorer's reconstruction of the untuned candidate: the search's proxy,
    # not the PSNR of `data` decoded by the model it names


def target_bytes(pixels: int, bpp: float | None = None, size: int | None = None) -> int:
    """The byte budget of a rate target: `size` itself, else `bpp` bits for each pixel."""
    if size is not None:
        return checked_size(size)
    if not _is_number(bpp) or not 0 < bpp < 64:
        raise InputError(f"bpp must be a number above 0 and below 64, not {bpp!r}")
    return max(1, int(bpp * pixels / 8))


def _is_number(value: object) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and (bool(np.isfinite(value)))
    )


def _is_quality(q: object) -> bool:
    return isinstance(q, (int, np.integer)) and not isinstance(q, bool) and 1 <= q <= 100


def checked_size(size: object) -> int:
    """A size target in bytes: a whole number of at least 1."""
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
        raise InputError(f"the size target must be a whole number of bytes, at least 1, not {size!r}")
    return int(size)


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
    (effort, sampler, model, optimize, ...).
    """
    from sparsepix.api import decode, encode, encode_settings
    from sparsepix.effort import DEFAULT_EFFORT
    from sparsepix.metrics import psnr

    image = as_image_array(image)
    target_bytes = checked_size(target_bytes)
    if fixed := {"density", "quality"} & set(encode_args):
        raise InputError(f"encode_to_size chooses density and quality; drop {', '.join(sorted(fixed))}")
    if not isinstance(qualities, (tuple, list)) or not qualities or not all(map(_is_quality, qualities)):
        raise InputError(f"qualities must be a non-empty list of whole numbers 1..100, not {qualities!r}")
    fixed = {k: v for k, v in encode_args.items() if k not in ("effort", "sampler", "model", "optimize")}
    effort = encode_args.get("effort", DEFAULT_EFFORT)
    sampler, model, steps = encode_settings(
        effort,
        encode_args.get("sampler"),
        encode_args.get("model", "auto"),
        encode_args.get("optimize"),
        encode_args.get("values", "pred"),
    )

    def encode_at(
        density: float, quality: int, sampler: str = "random", optimize: int = 0, effort: int = 0
    ) -> bytes:
        """The search's files (random, untuned) by default; explicit settings, so `effort` only
        says whether the decoder chooses adaptive densities (levels 0-2 leave them to `linear`)."""
        return encode(
            image, density, sampler, quality=quality, model=model, optimize=optimize, effort=effort, **fixed
        )

    # Adaptive densities cost a second a try; any other sampler is searched as it is.
    search = "random" if sampler == "adaptive" else sampler
    choices = []
    for quality in qualities:
        fit = _fit_density(lambda d, q=quality: encode_at(d, q, search), target_bytes)
        if fit is None:
            continue
        data, density = fit
        out = decode(data, model=scorer)
        choices.append(RateChoice(data, density, quality, psnr(image, out)))
    if not choices:
        raise InputError(
            f"cannot fit the image into {target_bytes} bytes even at the lowest density and quality"
        )
    best = max(choices, key=lambda c: c.scorer_psnr)
    if steps == 0 and search == sampler:
        return best
    density = best.density
    for _ in range(20):  # adaptive densities and tuned values cost more bytes at the same density
        data = encode_at(density, best.quality, sampler, steps, effort)
        if len(data) <= target_bytes:
            return RateChoice(data, density, best.quality, best.scorer_psnr)
        density = max(MIN_DENSITY, density * min(0.99, target_bytes / len(data)))
    return best  # as searched, but within the target
