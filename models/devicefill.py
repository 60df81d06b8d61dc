"""The Delaunay-linear fill computed on the model's device (GPU decoding).

`codec.classical.linear_float` does it all in numpy. Here only the triangulation of the kept
points stays on the CPU (`codec.triangulation.delaunay`, a few milliseconds); rasterising each
triangle's pixels and interpolating run as torch ops on the canvas's device, scanline by
scanline as `codec.triangulation._runs` does, in exact integer edge functions. Pixels
outside the samples' hull take the nearest sample, found on the CPU (the same Euclidean
distance transform as `classical.nearest`). Agrees with `linear_float` to float rounding.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from sparsepix.codec.triangulation import delaunay

_CHUNK = 1 << 22  # scanlines, then pixels, made at once: bounds the temporary memory


def _offsets(counts: torch.Tensor) -> torch.Tensor:
    """0 .. counts[0]-1, 0 .. counts[1]-1, ... (int64, on counts' device)."""
    starts = torch.cumsum(counts, 0) - counts
    return torch.arange(int(counts.sum()), device=counts.device) - torch.repeat_interleave(starts, counts)


def _chunks(sizes: torch.Tensor, limit: int) -> list[tuple[int, int]]:
    """Consecutive (lo, hi) ranges of `sizes` summing to about `limit` each."""
    ends = torch.cumsum(sizes, 0).cpu().numpy()
    cuts = np.searchsorted(ends, np.arange(limit, int(ends[-1]) if ends.size else 0, limit), side="right")
    edges = np.unique(np.r_[0, cuts, sizes.numel()])
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def _rasterise(ty: torch.Tensor, tx: torch.Tensor, w: int) -> tuple[torch.Tensor, ...]:
    """For triangles with integer corners (M, 3) (positive orientation): every pixel inside or
    on each, as (flat pixel index, triangle index, its three edge functions, (P, 3) int64)."""
    y0, x0 = ty.min(1).values, tx.min(1).values
    heights, widths = ty.max(1).values - y0 + 1, tx.max(1).values - x0 + 1
    ay, ax = ty.roll(-1, 1), tx.roll(-1, 1)
    by, bx = ty.roll(-2, 1), tx.roll(-2, 1)
    a, b = bx - ax, ay - by
    e0 = a * (y0[:, None] - ay) + b * (x0[:, None] - ax)
    out = []
    for lo, hi in _chunks(heights, _CHUNK):
        t = torch.repeat_interleave(torch.arange(lo, hi, device=ty.device), heights[lo:hi])
        r = _offsets(heights[lo:hi])
        first, last = torch.zeros_like(r), widths[t] - 1
        for k in range(3):
            at_c0, bk = e0[t, k] + a[t, k] * r, b[t, k]
            step = torch.where(bk == 0, torch.ones_like(bk), bk.abs())
            first = torch.where(
                bk > 0, torch.maximum(first, -torch.div(at_c0, step, rounding_mode="floor")), first
            )
            last = torch.where(
                bk < 0, torch.minimum(last, torch.div(at_c0, step, rounding_mode="floor")), last
            )
            last = torch.where((bk == 0) & (at_c0 < 0), torch.full_like(last, -1), last)
        runs = (last - first + 1).clamp(min=0)
        for rlo, rhi in _chunks(runs, _CHUNK):
            n = runs[rlo:rhi]
            pt, pr = torch.repeat_interleave(t[rlo:rhi], n), torch.repeat_interleave(r[rlo:rhi], n)
            pc = torch.repeat_interleave(first[rlo:rhi], n) + _offsets(n)
            edges = torch.stack([e0[pt, k] + a[pt, k] * pr + b[pt, k] * pc for k in range(3)], 1)
            out.append(((y0[pt] + pr) * w + x0[pt] + pc, pt, edges))
    return tuple(torch.cat(parts) for parts in zip(*out))


def _nearest_sample(known: np.ndarray) -> np.ndarray:
    """Flat index of each pixel's nearest kept pixel (as `classical.nearest`)."""
    from scipy import ndimage

    iy, ix = ndimage.distance_transform_edt(~known, return_distances=False, return_indices=True)
    return (iy * known.shape[1] + ix).ravel()


def fill_one(values: torch.Tensor, known: np.ndarray) -> torch.Tensor:
    """(C, H, W) float values (only kept pixels matter) and the (H, W) bool mask of kept pixels
    -> (C, H, W) Delaunay-linear fill on `values`' device."""
    from sparsepix.codec.classical import linear_float

    c, h, w = values.shape
    if known.all():  # nothing to fill, as `linear_float`
        return values.clone()
    if h == 1 or w == 1 or not known.any():  # 1-D or empty: the CPU's own handling
        filled = linear_float(values.permute(1, 2, 0).cpu().numpy(), known)
        return torch.from_numpy(filled).permute(2, 0, 1).to(values.device, values.dtype)
    ys, xs = np.nonzero(known)
    tris = delaunay(ys, xs, (h, w))
    flat = values.reshape(c, h * w)
    kept = torch.from_numpy(ys * w + xs).to(values.device)
    samples = flat[:, kept]  # (C, S)
    out = torch.empty_like(flat)
    covered = 0
    if tris.shape[0]:
        dev = values.device
        ty = torch.from_numpy(ys[tris].astype(np.int64)).to(dev)
        tx = torch.from_numpy(xs[tris].astype(np.int64)).to(dev)
        tri = torch.from_numpy(tris).to(dev)
        pixels, owner, edges = _rasterise(ty, tx, w)
        area2 = edges.sum(1, keepdim=True)  # the three edge functions sum to twice the area
        weights = (edges.double() / area2.double()).to(values.dtype)
        corners = tri[owner]
        inside = sum(weights[:, k] * samples[:, corners[:, k]] for k in range(3))
        out[:, pixels] = inside  # pixels on shared edges: both triangles give the edge's value
        hit = torch.zeros(h * w, dtype=torch.bool, device=dev)
        hit[pixels] = True
        covered = int(hit.sum())
    if covered < h * w:  # outside the hull: the nearest sample
        nearest = torch.from_numpy(_nearest_sample(known)).to(values.device)
        outside = ~hit if tris.shape[0] else torch.ones(h * w, dtype=torch.bool, device=values.device)
        out[:, outside] = flat[:, nearest[outside]]
    return out.reshape(c, h, w)


@torch.no_grad()
def delaunay_fill(canvas: torch.Tensor, mask: torch.Tensor, threads: int = 1) -> torch.Tensor:
    """(N, C, H, W) canvas and (N, 1, H, W) mask (1 = kept) -> the fill, on their device.
    `threads` > 1 fills images in parallel threads (the triangulations release the GIL)."""
    known = (mask[:, 0] > 0.5).cpu().numpy()
    if threads > 1 and len(known) > 1:
        with ThreadPoolExecutor(threads) as pool:
            filled = list(pool.map(fill_one, canvas.float(), known))
    else:
        filled = [fill_one(v, k) for v, k in zip(canvas.float(), known)]
    return torch.stack(filled).to(canvas.dtype)
