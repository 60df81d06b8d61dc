"""Tonal optimisation: choose the stored sample values so the decoder's image is closest.

For Delaunay-linear reconstruction the output is linear in the sample values: every pixel is
a barycentric mix of its triangle's three samples (outside the hull, its nearest sample). So
the best values for a fixed mask solve a sparse least-squares problem, min ||A v - x||^2 per
channel, which LSQR solves in a few dozen iterations. Pixels that are samples map to
themselves in A, so their stored values trade their own exactness for their neighbourhood's.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse.linalg import lsqr

from sparsepix.codec.triangulation import linear_weights


def linear_operator(mask: np.ndarray) -> sparse.csr_matrix:
    """A (H*W, count) matrix: column j = the linear reconstruction's response to sample j."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    n = ys.size
    sample_of_pixel = np.full(h * w, -1, np.int64)
    sample_of_pixel[ys * w + xs] = np.arange(n)
    rows, cols, vals = [], [], []
    inside = np.zeros(h * w, bool)
    if h > 1 and w > 1:
        pixels, corners, weights = linear_weights(mask)
        inside[pixels] = True
        rows.append(np.repeat(pixels, 3))
        cols.append(corners.ravel())
        vals.append(weights.ravel())
    # Outside the hull (or degenerate inputs): the nearest sample, as the reconstructor does.
    outside = np.flatnonzero(~inside)
    if outside.size:
        iy, ix = ndimage.distance_transform_edt(~mask, return_distances=False, return_indices=True)
        nearest = sample_of_pixel[iy.ravel() * w + ix.ravel()]
        rows.append(outside)
        cols.append(nearest[outside])
        vals.append(np.ones(outside.size))
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(h * w, n)
    )


def optimize_linear(
    image: np.ndarray,
    mask: np.ndarray,
    iterations: int = 50,
    fixed: np.ndarray | None = None,
    fixed_values: np.ndarray | None = None,
) -> np.ndarray:
    """Sample values (count, C) uint8 that minimise the squared error of linear reconstruction.

    `fixed` (a subset of `mask`) marks samples whose values are already decided
    (`fixed_values`, (n_fixed, C), row-major order); only the others are solved for, and
    only they are returned, in row-major order.
    """
    a = linear_operator(mask)
    img = image.reshape(mask.size, -1).astype(np.float64)
    kept = np.flatnonzero(mask.ravel())
    values = img[kept].copy()
    free = np.ones(kept.size, bool)
    if fixed is not None:
        free = ~fixed.ravel()[kept]
        values[~free] = fixed_values
    a_free = a[:, np.flatnonzero(free)]
    for c in range(img.shape[1]):
        # Solve for the correction from the plain samples: LSQR starts from zero.
        residual = img[:, c] - a @ values[:, c]
        delta = lsqr(a_free, residual, iter_lim=iterations, atol=1e-6, btol=1e-6)[0]
        values[free, c] += delta
    return np.clip(np.rint(values[free]), 0, 255).astype(np.uint8)
