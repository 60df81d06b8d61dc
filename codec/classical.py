"""Classical reconstructors: rebuild a full image from a sparse canvas without learning.

Each takes `canvas` (H, W, C) uint8, zero where nothing was kept, and `mask` (H, W) bool, and
returns (H, W, C) uint8. The registry pastes the kept pixels back afterwards, so functions here
may blur them.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from sparsepix.codec.triangulation import linear_fill


def nearest(canvas: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each pixel takes the colour of the closest kept pixel (Voronoi cells)."""
    iy, ix = ndimage.distance_transform_edt(~mask, return_distances=False, return_indices=True)
    return canvas[iy, ix]


def linear(canvas: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation over the Delaunay triangulation of the kept pixels
    (codec/triangulation.py).

    Pixels outside the convex hull of the samples take the nearest sample's colour. Degenerate
    inputs (one row, one column, collinear or too few samples) fall back to 1-D or nearest.
    """
    return np.clip(np.rint(linear_float(canvas, mask)), 0, 255).astype(np.uint8)


def linear_float(canvas: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`linear` on any numeric (H, W, C) canvas, returning float32 without rounding."""
    h, w = mask.shape
    if mask.all():  # nothing to fill (the hidden restoration tasks): skip triangulating the grid
        return canvas.astype(np.float32)
    if h == 1 or w == 1:
        return _linear_1d(canvas, mask)
    out, inside = linear_fill(mask, canvas[mask])
    if not inside.all():  # pixels outside the hull (all when the samples span no area): nearest
        outside = ~inside
        out[outside] = nearest(canvas, mask).reshape(mask.size, -1)[outside]
    return out.reshape(h, w, -1)


def _linear_1d(canvas: np.ndarray, mask: np.ndarray) -> np.ndarray:
    flat, keep = canvas.reshape(mask.size, -1), mask.ravel()
    if not keep.any():  # nothing to interpolate from: zeros, as the 2-D fill gives
        return np.zeros(canvas.shape, np.float32)
    pos = np.arange(mask.size)
    cols = [np.interp(pos, pos[keep], flat[keep, c].astype(np.float64)) for c in range(flat.shape[1])]
    return np.stack(cols, axis=-1).astype(np.float32).reshape(canvas.shape)


def _inpaint(canvas: np.ndarray, mask: np.ndarray, method: int) -> np.ndarray:
    missing = (~mask).astype(np.uint8)
    if canvas.shape[2] == 1:
        return cv2.inpaint(canvas[..., 0], missing, 3, method)[..., None]
    return cv2.inpaint(np.ascontiguousarray(canvas), missing, 3, method)


def telea(canvas: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """OpenCV's fast-marching inpainting (Telea 2004), radius 3."""
    return _inpaint(canvas, mask, cv2.INPAINT_TELEA)


def navier_stokes(canvas: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """OpenCV's Navier-Stokes inpainting (Bertalmio et al. 2001), radius 3."""
    return _inpaint(canvas, mask, cv2.INPAINT_NS)


def pushpull(canvas: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Pyramid fill (push-pull, Gortler et al. 1996): normalised convolution over a pyramid.

    Push: halve the resolution repeatedly, averaging colours weighted by confidence (1 at kept
    pixels, 0 elsewhere). Pull: from the coarsest level up, each pixel blends its own average
    with the upsampled coarser estimate by its confidence, so holes fill smoothly.
    """
    value = canvas.astype(np.float32) * mask[..., None]
    weight = mask.astype(np.float32)
    pyramid = []
    while True:
        pyramid.append((value, weight))
        h, w = weight.shape
        if h == 1 and w == 1:
            break
        size = (max(1, (w + 1) // 2), max(1, (h + 1) // 2))
        # INTER_AREA averages, so weight sums are 4 * the area mean (clipped to 1 = confident).
        down_w = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
        down_v = _as3d(cv2.resize(value, size, interpolation=cv2.INTER_AREA))
        value, weight = down_v, np.minimum(1.0, 4.0 * down_w)
        value = value * np.divide(weight, down_w, out=np.zeros_like(down_w), where=down_w > 0)[..., None]
    estimate = _normalise(*pyramid[-1])
    for value, weight in reversed(pyramid[:-1]):
        h, w = weight.shape
        up = _as3d(cv2.resize(estimate, (w, h), interpolation=cv2.INTER_LINEAR))
        own = _normalise(value, weight)
        alpha = weight[..., None]
        estimate = alpha * own + (1.0 - alpha) * up
    return np.clip(np.rint(estimate), 0, 255).astype(np.uint8)


def _normalise(value: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weighted sums back to colours where weight > 0."""
    safe = np.where(weight > 0, weight, 1.0)[..., None]
    return value / safe


def _as3d(a: np.ndarray) -> np.ndarray:
    return a[..., None] if a.ndim == 2 else a
