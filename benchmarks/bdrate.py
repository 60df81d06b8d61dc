"""Bjøntegaard deltas between two rate-distortion curves (piecewise cubic, common range only).

BD-rate: the mean bitrate difference, in percent, at equal quality; negative means the test
curve needs fewer bits. BD-PSNR: the mean quality difference at equal rate. Both interpolate
with monotone piecewise-cubic (PCHIP) curves in the log-rate domain, as the current
VCEG/JVET practice does, and integrate over the interval both curves cover.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator


def _prepared(x: list[float], y: list[float]) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, float), np.asarray(y, float)
    order = np.argsort(x)
    x, y = x[order], y[order]
    keep = np.concatenate([[True], np.diff(x) > 0])  # PCHIP needs strictly increasing x
    return x[keep], y[keep]


def _mean_gap(x1, y1, x2, y2) -> float | None:
    """Mean of (curve2 - curve1) over the common x interval, both as PCHIP functions of x."""
    x1, y1 = _prepared(x1, y1)
    x2, y2 = _prepared(x2, y2)
    if len(x1) < 2 or len(x2) < 2:
        return None
    lo, hi = max(x1[0], x2[0]), min(x1[-1], x2[-1])
    if hi <= lo:
        return None
    p1, p2 = PchipInterpolator(x1, y1), PchipInterpolator(x2, y2)
    return float((p2.integrate(lo, hi) - p1.integrate(lo, hi)) / (hi - lo))


def bd_rate(rate1, psnr1, rate2, psnr2) -> float | None:
    """Percent rate change of curve 2 against curve 1 at equal quality; None without overlap."""
    gap = _mean_gap(psnr1, np.log(rate1), psnr2, np.log(rate2))
    return None if gap is None else float((np.exp(gap) - 1) * 100)


def bd_psnr(rate1, psnr1, rate2, psnr2) -> float | None:
    """Mean quality gain (dB, or the metric's unit) of curve 2 over curve 1 at equal rate."""
    return _mean_gap(np.log(rate1), psnr1, np.log(rate2), psnr2)


def common_range(x1: list[float], x2: list[float]) -> tuple[float, float] | None:
    """The interval both curves cover along one axis (what BD-rate integrates over in quality,
    BD-PSNR in rate); None without overlap."""
    lo, hi = max(min(x1), min(x2)), min(max(x1), max(x2))
    return (lo, hi) if hi > lo else None


def quality_at(rate: list[float], quality: list[float], target: float) -> float | None:
    """A curve's quality at a given rate (PCHIP in log-rate), None outside its range."""
    x, y = _prepared(np.log(rate), quality)
    if len(x) < 2 or not x[0] <= np.log(target) <= x[-1]:
        return None
    return float(PchipInterpolator(x, y)(np.log(target)))
