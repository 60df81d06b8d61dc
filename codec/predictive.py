"""Value mode 1, `pred`: lossy, predicted sample values (all integer arithmetic, bit-exact).

1. Colour: RGB -> YCoCg-R (reversible lifting; Y in [0, 255], Co and Cg in [-255, 255]).
2. Order: samples sorted by their SplitMix64 key (for the random sampler, the order in which
   its nested masks add them), cut into levels growing 4x: the first LEVEL0 samples, then up to
   4x as many, ... A level's samples are spread over the image like a coarser random mask.
3. Prediction: each sample of level l > 0 from the K = 4 nearest samples of levels < l,
   inverse-squared-distance weighted with integer weights; level 0 from mid-grey (Y 128, Co/Cg 0).
4. Quantisation, closed loop: r rounds (v - p) / s to nearest, luma with a dead zone of a
   tenth of a step (0 is the cheapest residual; the error added barely moves a
   reconstruction), and the decoded value is clip(p + r*s) -- the decoder computes the same p
   from the same decoded values.
5. Chroma may stop `chroma_skip` levels early: the finest levels then carry Y only and take
   Co/Cg from the prediction (chroma is smooth; luma carries the detail).
6. Residuals are range-coded per context (layout 2, codec/contextcoder.py). Files of layout 1
   stored them zigzag-mapped, planar by channel, one or two bytes each; they still decode.

docs/FORMAT.md specifies the section byte by byte.
"""

from __future__ import annotations

import struct

import numpy as np
from scipy.spatial import cKDTree

from sparsepix.codec import contextcoder
from sparsepix.codec.prng import splitmix64
from sparsepix.codec.quality import PredParams
from sparsepix.errors import BitstreamError

LEVEL0 = 64
NEIGHBOURS = 4
WEIGHT_ONE = 1 << 16
_HEAD = struct.Struct("<BBBB")  # layout, luma step, chroma step, chroma_skip


def stored_chroma_skip(raw: bytes) -> int | None:
    """The chroma_skip a pred value section was written with (None if it is too short)."""
    return _HEAD.unpack_from(raw)[3] if len(raw) >= _HEAD.size else None


_WIDE = struct.Struct("<B")  # layout 1: which planes hold two-byte residuals
LAYOUT = 2  # what encoders write; decoders read 1 and 2
# Rounding toward zero, in hundredths of a step: luma (or gray) residuals within 0.6 steps of
# zero code as 0, the cheapest symbol; chroma rounds to nearest (its errors reach two RGB
# channels, and the learned decoders lose more from them). docs/DECISIONS.md has the measurement.
DEAD_ZONE = (10, 0, 0)


# -- colour ----------------------------------------------------------------------------------


def rgb_to_ycocg(rgb: np.ndarray) -> np.ndarray:
    """(n, 3) uint8 -> (n, 3) int32 YCoCg-R."""
    r, g, b = (rgb[:, i].astype(np.int32) for i in range(3))
    co = r - b
    t = b + (co >> 1)
    cg = g - t
    y = t + (cg >> 1)
    return np.stack([y, co, cg], axis=1)


def ycocg_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Inverse lifting, then clip (quantised values may leave the RGB cube)."""
    y, co, cg = ycc[:, 0], ycc[:, 1], ycc[:, 2]
    t = y - (cg >> 1)
    g = cg + t
    b = t - (co >> 1)
    r = b + co
    return np.clip(np.stack([r, g, b], axis=1), 0, 255).astype(np.uint8)


# -- levels and neighbours -----------------------------------------------------------------


def level_order(seed: int, indices: np.ndarray) -> np.ndarray:
    """Permutation of the kept pixels (row-major indices) by (SplitMix64 key, index)."""
    keys = splitmix64(seed, indices.astype(np.uint64))
    return np.lexsort((indices, keys))


def level_bounds(count: int) -> list[int]:
    """End offsets of the levels: ..., count/16, count/4, count (each >= LEVEL0)."""
    bounds = [count]
    while bounds[-1] // 4 >= LEVEL0:
        bounds.append(bounds[-1] // 4)
    return bounds[::-1]


def _neighbours(coarse: np.ndarray, fine: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each fine point, the k coarse points nearest by (squared distance, index): exact ties.

    Returns (indices into coarse, squared distances), both (n_fine, k') with k' = min(k, n).
    """
    k = min(k, len(coarse))
    tree = cKDTree(coarse)
    want = np.arange(len(fine))
    out_idx = np.empty((len(fine), k), np.int64)
    out_d2 = np.empty((len(fine), k), np.int64)
    extra = 4
    while want.size:
        kk = min(k + extra, len(coarse))
        _, idx = tree.query(fine[want], k=kk, workers=-1)
        idx = idx.reshape(len(want), kk)
        diff = coarse[idx] - fine[want][:, None, :]
        d2 = (diff * diff).sum(-1)
        order = np.lexsort((idx, d2), axis=1)
        d2, idx = np.take_along_axis(d2, order, 1), np.take_along_axis(idx, order, 1)
        # Settled when every point at the k-th distance was returned (or all were).
        settled = (kk == len(coarse)) | (d2[:, -1] > d2[:, k - 1])
        out_idx[want[settled]] = idx[settled, :k]
        out_d2[want[settled]] = d2[settled, :k]
        want = want[~settled]
        extra *= 4
    return out_idx, out_d2


def _predict(values: np.ndarray, idx: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Integer inverse-squared-distance weighted mean of neighbour values, rounded half up.

    Where every neighbour is over 256 px away all weights are 0, and the prediction is 0
    (docs/FORMAT.md), as numpy's integer division by zero gave before the spec said so.
    """
    w = WEIGHT_ONE // np.maximum(d2, 1)
    num = (w[..., None] * values[idx]).sum(1)
    den = w.sum(1)[:, None]
    empty = den == 0
    pred = np.floor_divide(2 * num + den, 2 * np.where(empty, 1, den))
    return np.where(empty, 0, pred)


# -- the level loop, shared by encoder and decoder ----------------------------------------------


def _limits(channels: int) -> tuple[np.ndarray, np.ndarray]:
    if channels == 1:
        return np.array([0]), np.array([255])
    return np.array([0, -255, -255]), np.array([255, 255, 255])


def _run_levels(
    positions: np.ndarray,
    channels: int,
    params: PredParams,
    residual_source,
    prior: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Walk the levels; `residual_source(level, sl, pred, steps, has_chroma, spread)` gives
    residuals (`spread`: per sample and channel, max - min of the neighbours' decoded values).

    The encoder's source quantises and records; the decoder's reads the stored ones. Both get
    the same predictions, so reconstructions match bit for bit. `prior` (positions, decoded
    values in the coding domain) are samples decoded earlier (the adaptive sampler's first
    stage): they predict level 0 and join the neighbours of every later level.
    """
    n_prior = 0 if prior is None else len(prior[0])
    all_positions = positions if prior is None else np.concatenate([prior[0], positions])
    decoded = np.zeros((n_prior + len(positions), channels), np.int64)
    if prior is not None:
        decoded[:n_prior] = prior[1]
    steps = np.array([params.luma_step] + [params.chroma_step] * (channels - 1), np.int64)
    lo, hi = _limits(channels)
    bounds = level_bounds(len(positions))
    start = 0
    for level, end in enumerate(bounds):
        sl = slice(start, end)
        known = n_prior + start
        if known == 0:
            pred = np.tile(np.array([128] + [0] * (channels - 1), np.int64), (end - start, 1))
            spread = np.zeros_like(pred)
        else:
            idx, d2 = _neighbours(all_positions[:known], positions[sl], NEIGHBOURS)
            pred = _predict(decoded[:known], idx, d2)
            around = decoded[:known][idx]
            spread = around.max(1) - around.min(1)
        has_chroma = channels > 1 and level < len(bounds) - params.chroma_skip
        r = residual_source(level, sl, pred, steps, has_chroma, spread)
        decoded[n_prior + start : n_prior + end] = np.clip(pred + r * steps, lo, hi)
        start = end
    return decoded[n_prior:]


def to_coding_domain(values: np.ndarray) -> np.ndarray:
    """(n, C) uint8 -> int64 in the domain predictions work in (YCoCg-R, or gray as is)."""
    return rgb_to_ycocg(values).astype(np.int64) if values.shape[1] == 3 else values.astype(np.int64)


def positions_of(indices: np.ndarray, width: int) -> np.ndarray:
    rows, cols = np.divmod(indices.astype(np.int64), width)
    return np.stack([rows, cols], axis=1)


# -- section bytes ---------------------------------------------------------------------------------


def _unzigzag(z: np.ndarray) -> np.ndarray:
    return np.where(z % 2 == 0, z // 2, -(z + 1) // 2)


def chroma_count(n: int, params: PredParams) -> int:
    """How many samples (a prefix in level order) carry chroma residuals."""
    bounds = level_bounds(n)
    keep = len(bounds) - params.chroma_skip
    return bounds[keep - 1] if keep >= 1 else 0


def _ordered_positions(indices: np.ndarray, width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = level_order(seed, indices)
    return order, positions_of(indices, width)[order]


def encode_pred(
    samples: np.ndarray,
    indices: np.ndarray,
    width: int,
    seed: int,
    params: PredParams,
    prior: tuple[np.ndarray, np.ndarray] | None = None,
) -> bytes:
    """Raw VALS bytes (layout 2) for samples (n, C) uint8 at row-major pixel `indices` (increasing).

    `prior`: (positions, coding-domain values) of samples the decoder already has.
    """
    channels = samples.shape[1]
    order, positions = _ordered_positions(indices, width, seed)
    target = to_coding_domain(samples)[order]
    coder = contextcoder.Encoder()

    def quantise(level, sl, pred, steps, has_chroma, spread):
        e = target[sl] - pred
        dz = np.array(DEAD_ZONE[:channels])
        r = np.sign(e) * ((100 * np.abs(e) + (50 - dz) * steps) // (100 * steps))
        coded = channels if has_chroma else 1
        r[:, coded:] = 0
        for c, rows, m in _groups(steps, spread, coded):
            coder.add(r[rows, c], m)
        return r

    _run_levels(positions, channels, params, quantise, prior)
    head = _HEAD.pack(LAYOUT, params.luma_step, params.chroma_step, params.chroma_skip)
    return head + coder.finish()


def _groups(steps: np.ndarray, spread: np.ndarray, coded: int):
    """One level's residual groups in layout 2's order, channel then context: (channel, rows,
    largest |residual|)."""
    ctx = contextcoder.contexts(spread, steps)
    for c in range(coded):
        m = contextcoder.alphabet(int(steps[c]), chroma=c > 0)
        for k in range(contextcoder.CONTEXTS):
            yield c, ctx[:, c] == k, m


def decode_pred(
    raw: bytes,
    indices: np.ndarray,
    width: int,
    seed: int,
    channels: int,
    prior: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(n, C) uint8 sample values for the kept pixels at row-major `indices` (increasing)."""
    if len(raw) < _HEAD.size:
        raise BitstreamError("value section too short for its parameters")
    layout, luma_step, chroma_step, chroma_skip = _HEAD.unpack_from(raw)
    if layout not in (1, 2):
        raise BitstreamError(f"unknown predictive value layout {layout}")
    if luma_step < 1 or chroma_step < 1:
        raise BitstreamError("quantiser step of 0")
    params = PredParams(luma_step, chroma_step, chroma_skip)
    n = len(indices)
    levels = len(level_bounds(n))
    if chroma_skip > levels:
        raise BitstreamError("chroma skips more levels than there are")
    order, positions = _ordered_positions(indices, width, seed)
    if layout == 1:
        residuals = _layout1_residuals(raw[_HEAD.size :], n, channels, params)
        source = lambda level, sl, pred, steps, has_chroma, spread: residuals[sl]  # noqa: E731
    else:
        coder = contextcoder.Decoder(raw[_HEAD.size :])

        def source(level, sl, pred, steps, has_chroma, spread):
            r = np.zeros((sl.stop - sl.start, channels), np.int64)
            for c, rows, m in _groups(steps, spread, channels if has_chroma else 1):
                r[rows, c] = coder.read(int(np.count_nonzero(rows)), m)
            return r

    decoded = _run_levels(positions, channels, params, source, prior)
    if layout == 2:
        coder.finish()
    values = ycocg_to_rgb(decoded) if channels == 3 else decoded.astype(np.uint8)
    out = np.empty_like(values)
    out[order] = values
    return out


def _layout1_residuals(body: bytes, n: int, channels: int, params: PredParams) -> np.ndarray:
    """Layout 1's planes of zigzag-mapped residuals, one or two bytes each (`wide` bits)."""
    if len(body) < _WIDE.size:
        raise BitstreamError("value section too short for its parameters")
    (wide,) = _WIDE.unpack_from(body)
    n_chroma = chroma_count(n, params) if channels == 3 else 0
    sizes = [n] + [n_chroma] * (channels - 1)
    expected = _WIDE.size + sum(s * (2 if wide >> c & 1 else 1) for c, s in enumerate(sizes))
    if len(body) != expected or wide >> channels:
        raise BitstreamError(
            f"value section is {_HEAD.size + len(body)} bytes, expected {_HEAD.size + expected}"
        )
    planes, pos = [], _WIDE.size
    for c, size in enumerate(sizes):
        dtype = np.dtype("<u2") if wide >> c & 1 else np.dtype(np.uint8)
        planes.append(_unzigzag(np.frombuffer(body, dtype, size, pos).astype(np.int64)))
        pos += size * dtype.itemsize
    residuals = np.zeros((n, channels), np.int64)
    residuals[:, 0] = planes[0]
    for c in range(1, channels):
        residuals[:n_chroma, c] = planes[c]
    return residuals
