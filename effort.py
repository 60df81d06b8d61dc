"""Encoder effort levels: one number that trades encoding time for quality at the same rate.

As with `cwebp -m` or `cjxl -e`, a level only picks how the encoder searches (sampler and tonal
optimisation); the file format and the rate knobs (density, quality) stay as they are, and any
setting given explicitly wins over the level's. Each level's curve and encode time are in the
Kodak report (`sparsepix bench`, "Effort levels").
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from sparsepix.errors import InputError


@dataclass(frozen=True)
class Effort:
    level: int
    sampler: str
    optimize: int  # least-squares iterations; applied only for models tuned that cheaply
    summary: str
    # The adaptive sampler's levels minimise the error of the decoder the file names (one pass,
    # on values tuned as the file's will be) rather than of the `linear` fill.
    levels_by_decoder: bool = False
    # Pred values of a learned decoder's file are then refined by a few gradient steps through its
    # network (models/tuning.py), starting from the least-squares ones; needs torch.
    refine: bool = False


EFFORTS: tuple[Effort, ...] = (
    Effort(0, "random", 0, "random samples, values as they are (fastest)"),
    Effort(1, "random", 50, "random samples, values tuned by least squares for natural-opt"),
    Effort(2, "adaptive", 50, "a density per block, values tuned by least squares"),
    Effort(3, "adaptive", 50, "as 2, the densities chosen by the decoder's error", True),
    Effort(4, "adaptive", 50, "as 3, the values refined through the decoder (slowest; torch)", True, True),
)
DEFAULT_EFFORT = 2


def get_effort(level: object) -> Effort:
    if not isinstance(level, numbers.Integral) or isinstance(level, bool) or not 0 <= level < len(EFFORTS):
        raise InputError(f"effort must be a whole number 0..{len(EFFORTS) - 1}, not {level!r}")
    return EFFORTS[int(level)]
