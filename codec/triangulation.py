"""Delaunay triangulation of the kept pixels, and the piecewise-linear interpolation over it.

The `linear` reconstructor (and so the fill every shipped model refines) reads `linear_fill`,
and tonal optimisation's linear operator reads `linear_weights`: each pixel inside the convex
hull of the samples is a barycentric mix of its triangle's three samples, and every other
pixel is left to the caller (the nearest sample). Both walk the same scanline runs (`_runs`),
so the encoder's least-squares model is what the decoder computes, to float rounding.

The triangulation is OpenCV's incremental Delaunay (`cv2.Subdiv2D`), 4-6 times faster than
scipy's Qhull on these point sets, checks included (docs/DECISIONS.md, "Delaunay fill: OpenCV"). Its
in-circle test is computed in doubles, exact for integer pixel coordinates only while their
fourth powers fit in 53 bits, so larger images go to Qhull, as does any point set OpenCV fails
on or triangulates with a gap. Pixel grids hold many co-circular quadruples (every
axis-aligned rectangle of samples); there the two libraries may choose different diagonals,
each a valid Delaunay triangulation.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import Delaunay, QhullError

# Largest image side triangulated by OpenCV (see the module docstring); Qhull above it.
OPENCV_MAX_SIDE = 4096
# Subdiv2D's rectangle reaches this many image sides beyond the image on each side.
_MARGIN = 16
# Scanlines, and then pixels, rasterised at once: bounds the temporary memory (about 100 bytes
# each) whatever the image size or the triangles' shape.
_CHUNK = 1 << 20


def delaunay(ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(M, 3) int64 indices into `ys`/`xs` of the Delaunay triangles of distinct pixel positions
    inside `shape`, each ordered so that its signed area in (x, y) is positive; (0, 3) if they
    span no area."""
    if ys.size < 3:
        return np.zeros((0, 3), np.int64)
    tris = None
    if max(shape) <= OPENCV_MAX_SIDE:
        try:
            tris = _oriented(_opencv_delaunay(ys, xs, shape), ys, xs)
        except cv2.error:
            pass
        # Triangles that tile the convex hull have its area in all: checked exactly, in
        # integers, since a triangle lost along the hull would silently leave a gap.
        if tris is not None and _area2(ys[tris], xs[tris]).sum() != _hull_area2(ys, xs):
            tris = None
    return _oriented(_qhull_delaunay(ys, xs), ys, xs) if tris is None else tris


def _opencv_delaunay(ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    # Subdiv2D starts from a triangle of three virtual corners around its rectangle and leaves
    # out the triangles that touch them. Around the image itself they are too close: thin
    # triangles along the convex hull, whose circumcircles reach them, go missing (50 of
    # 323,000 on random masks). A rectangle 33 times the image's size puts them out of reach.
    m = _MARGIN * max(h, w)
    subdiv = cv2.Subdiv2D((-m, -m, w + 2 * m, h + 2 * m))
    # Each point is located by walking from the last one inserted. In row-major order every new
    # row lies outside the hull so far and the cost grows with the row's length; 64-pixel tiles
    # taken along a Hilbert curve keep the walks short, and row-major order inside each tile
    # keeps the diagonals that co-circular samples get close to row-major's (docs/EXPERIMENTS.md).
    order = np.lexsort((xs, ys, _hilbert_index(xs // 64, ys // 64, -(-max(h, w) // 64))))
    subdiv.insert(np.column_stack([xs, ys])[order].astype(np.float32))
    corners = np.asarray(subdiv.getTriangleList(), np.float32).reshape(-1, 6)  # x, y of each corner
    cx = np.rint(corners[:, 0::2]).astype(np.int64)
    cy = np.rint(corners[:, 1::2]).astype(np.int64)
    ours = ((cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)).all(1)  # not touching a virtual corner
    cx, cy = cx[ours], cy[ours]
    index = np.full(h * w, -1, np.int64)
    index[ys.astype(np.int64) * w + xs] = np.arange(ys.size)
    tris = index[cy * w + cx]
    if (tris < 0).any():  # a corner that is no sample: not a triangulation of our points
        raise cv2.error("Subdiv2D returned a vertex that is not a sample")
    return tris


def _hilbert_index(xs: np.ndarray, ys: np.ndarray, side: int) -> np.ndarray:
    """Position of each point (x, y < side) along the Hilbert curve over a 2^k square."""
    x, y = xs.astype(np.int64), ys.astype(np.int64)
    d = np.zeros_like(x)
    s = 1 << max(0, (side - 1).bit_length() - 1)
    while s > 0:
        rx, ry = (x & s) > 0, (y & s) > 0
        d += s * s * ((3 * rx) ^ ry)
        # Rotate the quadrant so the curve inside it starts and ends where the next level expects.
        flip = rx & ~ry
        x, y = np.where(flip, s - 1 - x, x), np.where(flip, s - 1 - y, y)
        x, y = np.where(ry, x, y), np.where(ry, y, x)
        s >>= 1
    return d


def _qhull_delaunay(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    try:
        return Delaunay(np.column_stack([ys, xs]).astype(np.float64)).simplices.astype(np.int64)
    except QhullError:  # all samples on one line
        return np.zeros((0, 3), np.int64)


def _hull_area2(ys: np.ndarray, xs: np.ndarray) -> int:
    """Twice the area of the samples' convex hull (exact: integer corners, shoelace formula)."""
    hull = cv2.convexHull(np.column_stack([xs, ys]).astype(np.int32)).reshape(-1, 2).astype(np.int64)
    x, y = hull[:, 0], hull[:, 1]
    return abs(int((x * np.roll(y, -1) - np.roll(x, -1) * y).sum()))


def _oriented(tris: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Drop zero-area triangles and order the rest so that twice their area is positive."""
    area2 = _area2(ys[tris], xs[tris])
    tris = np.where((area2 < 0)[:, None], tris[:, [0, 2, 1]], tris)
    return tris[area2 != 0]


def _area2(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle from its corners' (M, 3) coordinates."""
    y, x = y.astype(np.int64), x.astype(np.int64)
    return (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (y[:, 1] - y[:, 0]) * (x[:, 2] - x[:, 0])


def _ranges(sizes: np.ndarray, limit: int):
    """Consecutive (lo, hi) index ranges covering `sizes`, each summing to at most about `limit`
    (a single item larger than `limit` is a range of its own)."""
    ends = np.cumsum(sizes)
    cuts = np.searchsorted(ends, np.arange(limit, int(ends[-1]) if ends.size else 0, limit), side="right")
    edges = np.unique(np.r_[0, cuts, sizes.size])
    return zip(edges[:-1].tolist(), edges[1:].tolist())


def _offsets(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[0] - 1, 0, 1, ..., counts[1] - 1, ... (int64)."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum())) - np.repeat(starts, counts)


def _runs(tris: np.ndarray, ys: np.ndarray, xs: np.ndarray, shape: tuple[int, int]):
    """Scanline runs of oriented triangles: yields chunks of about _CHUNK pixels as
    (t, r, first, n, pixel0, e0, a, b): per run, its triangle, its row r in the triangle's
    bounding box, its first column there, its length (n > 0) and the flat index of its first
    pixel, with the triangles' edge functions (e0, a, b), each (M, 3). Corner k's edge function
    (of the edge opposite it) at the pixel r rows and c columns from the bounding box's top-left
    corner is e0[k] + a[k] r + b[k] c, an exact integer, >= 0 on the triangle's side and equal
    to twice its area at corner k, so that divided by the area it is corner k's barycentric
    weight."""
    h, w = shape
    ty, tx = ys.astype(np.int64)[tris], xs.astype(np.int64)[tris]
    y0, x0 = ty.min(1), tx.min(1)
    heights, widths = ty.max(1) - y0 + 1, tx.max(1) - x0 + 1
    ay, ax = ty[:, [1, 2, 0]], tx[:, [1, 2, 0]]  # corner k + 1
    by, bx = ty[:, [2, 0, 1]], tx[:, [2, 0, 1]]  # corner k + 2
    a, b = bx - ax, ay - by
    e0 = a * (y0[:, None] - ay) + b * (x0[:, None] - ax)
    # int32 holds every value where both sides are below 2^14 (|value| < 2^30), which is all
    # but huge images, at half the memory traffic.
    dtype = np.int32 if max(h, w) < 1 << 14 else np.int64
    a, b, e0 = a.astype(dtype), b.astype(dtype), e0.astype(dtype)
    # On each row of its bounding box a triangle covers one run of columns, found exactly from
    # its edge functions; triangles, then runs, are taken about _CHUNK at a time, which bounds
    # the memory whatever the image.
    for lo, hi in _ranges(heights, _CHUNK):
        t = np.repeat(np.arange(lo, hi), heights[lo:hi])
        r = _offsets(heights[lo:hi]).astype(dtype)
        first, last = np.zeros_like(r), (widths[t] - 1).astype(dtype)
        for k in range(3):
            at_c0, bk = e0[t, k] + a[t, k] * r, b[t, k]
            step = np.where(bk == 0, 1, np.abs(bk))
            first = np.where(bk > 0, np.maximum(first, -(at_c0 // step)), first)  # c >= -at_c0 / bk
            last = np.where(bk < 0, np.minimum(last, at_c0 // step), last)  # c <= at_c0 / -bk
            last = np.where((bk == 0) & (at_c0 < 0), -1, last)  # the edge runs along the row
        runs = np.maximum(last - first + 1, 0)
        live = runs > 0
        t, r, first, runs = t[live], r[live], first[live], runs[live]
        pixel0 = (y0[t] + r) * w + x0[t] + first
        for rlo, rhi in _ranges(runs, _CHUNK):
            yield t[rlo:rhi], r[rlo:rhi], first[rlo:rhi], runs[rlo:rhi], pixel0[rlo:rhi], e0, a, b


def linear_fill(mask: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-linear interpolation of `values` ((S, C), the samples of `mask` in row-major
    order) over their Delaunay triangles.

    Returns (out, inside): (H*W, C) float32, the interpolation at every pixel inside the
    samples' convex hull, and the (H*W,) bool of those pixels; `out` is undefined elsewhere.
    Along each scanline run the value is linear in the column, so each run needs a start and a
    step (float64, from the exact integer edge functions) rather than three weights a pixel:
    the same interpolation as `linear_weights`, to float rounding, at a fraction of the work.
    """
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    out = np.empty((h * w, values.shape[1]), np.float32)
    inside = np.zeros(h * w, bool)
    tris = delaunay(ys, xs, (h, w))
    if tris.shape[0] == 0:
        return out, inside
    v = values.astype(np.float64)[tris]  # (M, 3, C): each triangle's corner values
    area2 = _area2(ys[tris], xs[tris]).astype(np.float64)[:, None]
    plane = None
    for t, r, first, n, pixel0, e0, a, b in _runs(tris, ys, xs, (h, w)):
        if plane is None:
            # Each triangle's interpolant is a plane over its bounding box: the value at row r,
            # column c is base + down r + across c (the edge functions weighted by the corners).
            plane = [np.einsum("mk,mkc->mc", e.astype(np.float64), v) / area2 for e in (e0, a, b)]
            base, down, across = plane
        start = base[t] + down[t] * r[:, None] + across[t] * first[:, None]  # (R, C) at each run's start
        offset = _offsets(n)
        pixels = np.repeat(pixel0, n) + offset
        inside[pixels] = True  # pixels on shared edges: both triangles give the edge's value
        for c in range(values.shape[1]):
            out[pixels, c] = np.repeat(start[:, c], n) + offset * np.repeat(across[t, c], n)
    return out, inside


def linear_weights(
    mask: np.ndarray, tris: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Piecewise-linear interpolation of the samples in `mask` as weights (tonal optimisation's
    linear operator).

    Returns (pixels, corners, weights): the flat indices (P,) of the pixels inside the samples'
    convex hull, each exactly once, the sample indices (P, 3) of their triangle's corners
    (samples numbered in row-major order, as `np.nonzero(mask)` lists them) and the barycentric
    weights (P, 3) float32, summing to 1 (int32 indices below 2^31 pixels: memory is the limit
    on large images). `tris` overrides the triangulation (tests)."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    if tris is None:
        tris = delaunay(ys, xs, (h, w))
    else:
        tris = _oriented(np.asarray(tris, np.int64), ys, xs)
    if tris.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros((0, 3), np.int64), np.zeros((0, 3), np.float32)
    area2 = _area2(ys[tris], xs[tris])
    index = np.int32 if h * w < 1 << 31 else np.int64  # pixel and triangle numbers: half the memory
    pixels, owners, edges = [], [], []  # per pixel: its index, its triangle, its edge functions
    for t, r, first, n, pixel0, e0, a, b in _runs(tris, ys, xs, (h, w)):
        offset = _offsets(n)
        pt, pr = np.repeat(t, n), np.repeat(r, n)
        pc = np.repeat(first, n) + offset.astype(first.dtype)
        pixels.append((np.repeat(pixel0, n) + offset).astype(index))
        owners.append(pt.astype(index))
        edges.append(np.column_stack([e0[pt, k] + a[pt, k] * pr + b[pt, k] * pc for k in range(3)]))
    pix, t = _joined(pixels), _joined(owners)
    # A pixel on an edge shared by two triangles (or on a vertex) is inside both: keep one.
    # Either gives the same value, since both interpolate along that edge from its two ends.
    claimed = np.full(h * w, -1, index)  # per pixel, the one of its entries that is kept
    claimed[pix] = np.arange(pix.size, dtype=index)
    keep = claimed[pix] == np.arange(pix.size, dtype=index)
    del claimed
    pix, t = pix[keep], t[keep]
    edge = _joined(edges)[keep]
    # float32 weights (what the fill multiplies by), each the float64 quotient rounded once,
    # computed a chunk at a time so no float64 copy of all of them exists.
    weights = np.empty(edge.shape, np.float32)
    for lo in range(0, t.size, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        weights[sl] = edge[sl] / area2[t[sl]][:, None]
    return pix, tris.astype(index)[t], weights


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """np.concatenate that empties `parts` as it goes (one copy in memory, not two)."""
    out = np.concatenate(parts) if len(parts) > 1 else parts[0]
    parts.clear()
    return out
