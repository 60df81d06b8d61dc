"""The Delaunay triangulation of kept pixels and the linear weights over it (codec/triangulation.py)."""

import numpy as np
import pytest
from scipy.interpolate import LinearNDInterpolator
from scipy.spatial import Delaunay

from sparsepix.codec import classical, triangulation
from sparsepix.codec.triangulation import delaunay, linear_weights

SHAPES = [(40, 60, 0.05), (97, 131, 0.01), (64, 64, 0.3), (12, 300, 0.02)]


def _mask(h: int, w: int, density: float, seed: int) -> np.ndarray:
    mask = np.random.default_rng(seed).random((h, w)) < density
    mask[0, 0] = mask[h - 1, w // 2] = mask[h // 2, w - 1] = True  # at least a triangle
    return mask


def _interpolate(mask: np.ndarray, values: np.ndarray, tris=None) -> np.ndarray:
    """Our weights applied to `values`; NaN outside the hull."""
    pixels, corners, weights = linear_weights(mask, tris)
    out = np.full((mask.size, values.shape[1]), np.nan)
    out[pixels] = np.einsum("pk,pkc->pc", weights, values[corners])
    return out


@pytest.mark.parametrize("h,w,density", SHAPES)
def test_weights_match_scipy_on_the_same_triangles(h, w, density):
    """Given Qhull's triangles, the rasteriser reproduces scipy's LinearNDInterpolator."""
    mask = _mask(h, w, density, seed=h)
    ys, xs = np.nonzero(mask)
    values = np.random.default_rng(1).random((ys.size, 3))
    tri = Delaunay(np.column_stack([ys, xs]).astype(float))
    gy, gx = np.mgrid[0:h, 0:w]
    ref = LinearNDInterpolator(tri, values)(gy.ravel(), gx.ravel())
    ours = _interpolate(mask, values, tri.simplices)
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours, ref, atol=1e-6)  # float32 weights, each rounded once
    pixels, _, weights = linear_weights(mask, tri.simplices)
    assert np.unique(pixels).size == pixels.size  # each pixel once, also on shared edges
    np.testing.assert_allclose(weights.sum(1), 1, atol=1e-6)


def _in_circle(a, b, c, d) -> int:
    """Sign of the exact in-circle determinant (Python integers): > 0 when d lies inside the
    circle through a, b, c, given in the order `delaunay` returns (positive area in (x, y))."""
    rows = [(p[0] - d[0], p[1] - d[1]) for p in (a, b, c)]
    m = [(x, y, x * x + y * y) for x, y in rows]
    det = (
        m[0][0] * (m[1][1] * m[2][2] - m[2][1] * m[1][2])
        - m[1][0] * (m[0][1] * m[2][2] - m[2][1] * m[0][2])
        + m[2][0] * (m[0][1] * m[1][2] - m[1][1] * m[0][2])
    )
    return (det > 0) - (det < 0)


@pytest.mark.parametrize("h,w,density", SHAPES)
def test_opencv_triangles_are_delaunay_and_tile_the_hull(h, w, density):
    mask = _mask(h, w, density, seed=w)
    ys, xs = np.nonzero(mask)
    tris = delaunay(ys, xs, mask.shape)
    pts = [(int(x), int(y)) for y, x in zip(ys, xs)]
    for t in tris:
        a, b, c = (pts[i] for i in t)
        assert all(_in_circle(a, b, c, d) <= 0 for d in pts), "a sample inside a circumcircle"
    qhull = Delaunay(np.column_stack([ys, xs]).astype(float)).simplices
    covered = np.zeros(mask.size, bool)
    covered[linear_weights(mask)[0]] = True
    hull = np.zeros(mask.size, bool)
    hull[linear_weights(mask, qhull)[0]] = True
    assert np.array_equal(covered, hull)


def test_large_images_and_gaps_go_to_qhull(monkeypatch):
    mask = _mask(97, 131, 0.02, seed=3)
    ys, xs = np.nonzero(mask)
    qhull = triangulation._oriented(triangulation._qhull_delaunay(ys, xs), ys, xs)
    monkeypatch.setattr(triangulation, "OPENCV_MAX_SIDE", 100)
    assert np.array_equal(delaunay(ys, xs, mask.shape), qhull)
    # A triangulation that leaves a gap along the hull is caught by its area and replaced.
    monkeypatch.setattr(triangulation, "OPENCV_MAX_SIDE", 4096)
    real = triangulation._opencv_delaunay
    monkeypatch.setattr(triangulation, "_opencv_delaunay", lambda *args: real(*args)[1:])
    assert np.array_equal(delaunay(ys, xs, mask.shape), qhull)


def test_collinear_and_too_few_samples_fall_back_to_nearest():
    mask = np.zeros((9, 9), bool)
    mask[4, [1, 4, 7]] = True  # one line: no triangle
    ys, xs = np.nonzero(mask)
    assert delaunay(ys, xs, mask.shape).shape == (0, 3)
    canvas = np.zeros((9, 9, 3), np.uint8)
    canvas[mask] = [[10, 20, 30], [40, 50, 60], [70, 80, 90]]
    np.testing.assert_array_equal(classical.linear(canvas, mask), classical.nearest(canvas, mask))
    assert delaunay(ys[:2], xs[:2], mask.shape).shape == (0, 3)


@pytest.mark.parametrize("h,w,density", SHAPES)
def test_the_fill_is_the_weights_applied(h, w, density):
    """`linear_fill` (runs with a start and a step) agrees with the weights tonal optimisation
    uses, pixel for pixel, and covers the same pixels."""
    mask = _mask(h, w, density, seed=h + w)
    values = np.random.default_rng(2).integers(0, 256, (int(mask.sum()), 3)).astype(np.float32)
    out, inside = triangulation.linear_fill(mask, values)
    pixels, corners, weights = linear_weights(mask)
    assert np.array_equal(np.flatnonzero(inside), np.sort(pixels))
    ref = np.einsum("pk,pkc->pc", weights, values[corners])
    np.testing.assert_allclose(out[pixels], ref, atol=1e-3)


def test_hilbert_order_steps_to_a_neighbour():
    """The insertion order's curve visits every cell of the square once, one step at a time."""
    for side in (2, 5, 16, 33):
        n = 1 << (side - 1).bit_length()
        ys, xs = np.mgrid[0:n, 0:n]
        d = triangulation._hilbert_index(xs.ravel(), ys.ravel(), side)
        assert np.array_equal(np.sort(d), np.arange(n * n))
        order = np.argsort(d)
        steps = np.abs(np.diff(xs.ravel()[order])) + np.abs(np.diff(ys.ravel()[order]))
        assert (steps == 1).all()
