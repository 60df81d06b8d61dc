"""The `pred` quality knob: one number -> quantiser steps and which levels keep chroma.

Kept free of numpy and scipy so that the command line can show its defaults without importing
the coder.
"""

from __future__ import annotations

from dataclasses import dataclass

from sparsepix.errors import InputError

# 65, with the finest level luma-only, is cheaper at equal PSNR than the fidelity point 70 (the
# limits it meets: tests/test_predictive.py), and the shipped models were trained on it
# (docs/DECISIONS.md, "Quality 65 by default, 70 for fidelity").
DEFAULT_QUALITY = 65
FIDELITY_QUALITY = 70
CHROMA_KEPT_FROM = 70  # below this quality the finest level drops chroma (chroma_skip None)


@dataclass(frozen=True)
class PredParams:
    luma_step: int = 8
    chroma_step: int = 16
    chroma_skip: int = 1  # finest levels without chroma residuals


def params_for_quality(quality: int, chroma_skip: int | None = None) -> PredParams:
    """Quality 1..100 -> quantiser steps (75 gives luma 8 and chroma 16; 70, 11 and 22; 65, the
    default, 14 and 28). chroma_skip None: 1 below quality CHROMA_KEPT_FROM, else 0, so that the
    one knob trades fidelity for rate monotonically."""
    if not 1 <= quality <= 100:
        raise InputError(f"quality {quality} is outside [1, 100]")
    if chroma_skip is None:
        chroma_skip = 1 if quality < CHROMA_KEPT_FROM else 0
    if not 0 <= chroma_skip <= 3:
        raise InputError(f"chroma_skip {chroma_skip} is outside [0, 3]")
    # The step doubles every 12.5 quality points, anchored at 75 -> 8 (and 100 -> 2).
    luma = max(1, int(round(8 * 2 ** ((75 - quality) / 12.5))))
    return PredParams(luma_step=min(luma, 255), chroma_step=min(2 * luma, 255), chroma_skip=chroma_skip)
