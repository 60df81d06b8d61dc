"""Whole images through a network, whatever runs it (torch or the lean runtime): overlapping
tiles blended without seams, batches of same-sized images, the symmetries of the self-ensemble.
numpy only; `run` is the backend's (N, H, W, C) uint8 canvases + (N, H, W) masks -> (N, H, W, C)
float in [0, 255]."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sparsepix.codec import progress

Run = Callable[[np.ndarray, np.ndarray], np.ndarray]

# Images up to this many pixels run in one pass; larger ones in overlapping tiles, so memory
# stays bounded whatever the image size. Tiles as large as one pass: the overlap, computed
# twice, is then the smallest share of the work.
MAX_PIXELS_ONE_PASS = 1536 * 1536
TILE, OVERLAP = 1536, 64

# Geometric self-ensemble: the image's symmetries the network is run on, each answer mapped
# back and averaged (docs/DECISIONS.md, "Self-ensemble"). Each entry: transpose
# first?, then the axes to flip (of an NCHW array). The first 2 are the image as it is and
# mirrored left-right, as every model saw in training; 4 adds the upside-down ones, 8 the
# transposes.
SYMMETRIES = (
    (False, ()),
    (False, (3,)),
    (False, (2,)),
    (False, (2, 3)),
    (True, ()),
    (True, (3,)),
    (True, (2,)),
    (True, (2, 3)),
)
Symmetry = tuple[bool, tuple[int, ...]]


def apply_symmetry(a: np.ndarray, symmetry: Symmetry) -> np.ndarray:
    """One of `SYMMETRIES` applied to an NCHW array (`undo_symmetry` maps it back)."""
    transpose, flips = symmetry
    a = a.swapaxes(2, 3) if transpose else a
    return np.flip(a, flips) if flips else a


def undo_symmetry(a: np.ndarray, symmetry: Symmetry) -> np.ndarray:
    transpose, flips = symmetry
    a = np.flip(a, flips) if flips else a
    return a.swapaxes(2, 3) if transpose else a


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _ramp(length: int, overlap: int, at_start: bool, at_end: bool) -> np.ndarray:
    """1-D blending weight: rises over the overlap unless the tile touches the image border."""
    w = np.ones(length, np.float32)
    ramp = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
    if not at_start:
        w[:overlap] = np.minimum(w[:overlap], ramp[: min(overlap, length)])
    if not at_end:
        w[-overlap:] = np.minimum(w[-overlap:], ramp[::-1][-min(overlap, length) :])
    return w


def _starts(size: int, tile: int, overlap: int) -> list[int]:
    if size <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, size - tile, step)) + [size - tile]
    return sorted(set(starts))


def whole(
    run: Run,
    canvas: np.ndarray,
    mask: np.ndarray,
    tile: int = TILE,
    overlap: int = OVERLAP,
    max_one_pass: int | None = None,
) -> np.ndarray:
    """(H, W, C) uint8 canvas + (H, W) mask -> (H, W, C) uint8, in tiles when the image is
    larger than `max_one_pass` pixels (MAX_PIXELS_ONE_PASS by default)."""
    h, w = mask.shape
    if h * w <= (MAX_PIXELS_ONE_PASS if max_one_pass is None else max_one_pass):
        return to_uint8(run(canvas[None], mask[None])[0])
    acc = np.zeros((h, w, canvas.shape[2]), np.float32)
    weight = np.zeros((h, w, 1), np.float32)
    corners = [(y, x) for y in _starts(h, tile, overlap) for x in _starts(w, tile, overlap)]
    for k, (y, x) in enumerate(corners):
        progress.report("network", k, len(corners))
        sl = (slice(y, y + tile), slice(x, x + tile))
        part = run(canvas[sl][None], mask[sl][None])[0]
        wy = _ramp(part.shape[0], overlap, y == 0, y + tile >= h)
        wx = _ramp(part.shape[1], overlap, x == 0, x + tile >= w)
        wt = (wy[:, None] * wx[None, :])[..., None]
        acc[sl] += part * wt
        weight[sl] += wt
    progress.report("network", len(corners), len(corners))
    return to_uint8(acc / weight)


def batched(run: Run, canvases: list[np.ndarray], masks: list[np.ndarray], batch: int) -> list[np.ndarray]:
    """`whole` for several images: those of one size that fit a single pass go through `run`
    together, up to `batch` a call (what keeps a GPU busy); larger ones are tiled alone."""
    out: list[np.ndarray | None] = [None] * len(canvases)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, (canvas, mask) in enumerate(zip(canvases, masks)):
        if mask.size <= MAX_PIXELS_ONE_PASS:
            groups.setdefault(canvas.shape, []).append(i)
        else:
            out[i] = whole(run, canvas, mask)
    for members in groups.values():
        for k in range(0, len(members), batch):
            part = members[k : k + batch]
            stacked = np.stack([canvases[i] for i in part]), np.stack([masks[i] for i in part])
            for i, image in zip(part, run(*stacked)):
                out[i] = to_uint8(image)
    return out  # type: ignore[return-value]
