"""Training batches made on the training device (`sparsepix train --data-path device`).

The worker path (train/data.py) cuts, samples and codes each crop in numpy on the CPU, which a
GPU outruns many times over. Here the images are decoded once and kept on the device; crops,
flips, the codec's random and Sobel masks and its lossy `pred` values are batched torch ops
there. The masks and values follow the codec's own definitions (codec/prng.py,
codec/samplers.py, codec/predictive.py) in exact integer arithmetic, so a network trains on
what a decoder of real files gets (tests/test_devicedata.py compares them).

Only the per-crop scalars (file, offset, symmetry, density, seed) come from numpy, seeded by
(seed, data batch index) as the worker path seeds by sample index: a resumed run sees the same
batches. The two paths draw differently, so a run keeps the path it started with.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from sparsepix.codec.imageio import as_rgb, load_image
from sparsepix.codec.predictive import (
    DEAD_ZONE,
    NEIGHBOURS,
    WEIGHT_ONE,
    _limits,
    decode_pred,
    encode_pred,
    level_bounds,
)
from sparsepix.codec.quality import params_for_quality
from sparsepix.codec.samplers import SOBEL_FLOOR, SOBEL_STREAM, sample_count
from sparsepix.errors import InputError
from sparsepix.train.config import TrainConfig
from sparsepix.train.corruptions import SPARSE_TASKS, draw_density
from sparsepix.train.data import epoch_file, pad_to

# -- SplitMix64 on int64 tensors ----------------------------------------------------------------
# torch has no full uint64 arithmetic; int64 multiplication wraps modulo 2^64 just the same, and
# a logical right shift is an arithmetic one with the sign bits masked off.

_GOLDEN = 0x9E3779B97F4A7C15 - (1 << 64)
_M1 = 0xBF58476D1CE4E5B9 - (1 << 64)
_M2 = 0x94D049BB133111EB - (1 << 64)
_SIGN = -(1 << 63)  # xor-ing it makes signed order agree with unsigned order


def _signed(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _shr(z: torch.Tensor, k: int) -> torch.Tensor:
    return (z >> k) & ((1 << (64 - k)) - 1)


def splitmix64(seeds: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """`codec.prng.splitmix64` for int64 `seeds` (B, 1) and `indices` (B, N) or (N,): the same
    64 bits, held in int64."""
    z = seeds + (indices + 1) * _GOLDEN
    z = (z ^ _shr(z, 30)) * _M1
    z = (z ^ _shr(z, 27)) * _M2
    return z ^ _shr(z, 31)


def _uniform(bits: torch.Tensor) -> torch.Tensor:
    """`codec.prng.uniform` from SplitMix64 outputs: the top 53 bits as float64 in (0, 1)."""
    return (_shr(bits, 11).double() + 0.5) * (1.0 / (1 << 53))


def _seed_column(seeds: list[int], device: torch.device) -> torch.Tensor:
    return torch.tensor([_signed(s) for s in seeds], dtype=torch.int64, device=device)[:, None]


def _keep_smallest(keys: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """(B, N) keys -> bool (B, N), True for each row's `counts` smallest, ties to the lower index
    (`codec.samplers._smallest`). A stable sort keeps tied keys in index order."""
    order = torch.sort(keys, dim=1, stable=True).indices
    rank = torch.arange(keys.shape[1], device=keys.device)[None]
    return torch.zeros_like(keys, dtype=torch.bool).scatter_(1, order, rank < counts[:, None])


def random_masks(seeds: list[int], height: int, width: int, counts: torch.Tensor) -> torch.Tensor:
    """`codec.samplers.random_mask` for a batch: (B, H, W) bool on `counts`' device."""
    device = counts.device
    keys = splitmix64(_seed_column(seeds, device), torch.arange(height * width, device=device))
    return _keep_smallest(keys ^ _SIGN, counts).reshape(-1, height, width)


def _gray(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> int32 (B, H, W): OpenCV's fixed-point RGB->gray, bit for bit."""
    r, g, b = (images[:, c].int() for c in range(3))
    return (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14


def _filter3(plane: torch.Tensor, rows: list[float], cols: list[float]) -> torch.Tensor:
    """A separable 3x3 filter with OpenCV's default border (reflect-101), float32."""
    kernel = torch.tensor(rows, dtype=torch.float32, device=plane.device)[:, None] * torch.tensor(
        cols, dtype=torch.float32, device=plane.device
    )
    padded = F.pad(plane[:, None], (1, 1, 1, 1), mode="reflect")
    return F.conv2d(padded, kernel[None, None])[:, 0]


def sobel_probability(images: torch.Tensor, floor: float = SOBEL_FLOOR) -> torch.Tensor:
    """`codec.samplers.sobel_probability` for a batch: (B, H*W) float64, each row summing to 1.
    The blur and the Sobel sums are exact in float32 (multiples of 1/16 below 2^12), as in OpenCV."""
    gray = _filter3(_gray(images).float(), [0.25, 0.5, 0.25], [0.25, 0.5, 0.25])
    gx = _filter3(gray, [1.0, 2.0, 1.0], [-1.0, 0.0, 1.0])
    gy = _filter3(gray, [-1.0, 0.0, 1.0], [1.0, 2.0, 1.0])
    mag = torch.hypot(gx, gy).double().flatten(1)
    n = mag.shape[1]
    total = mag.sum(1, keepdim=True)
    edges = (1.0 - floor) * mag / total.clamp(min=1e-300) + floor / n
    return torch.where(total > 0, edges, torch.full_like(mag, 1.0 / n))


def sobel_masks(images: torch.Tensor, seeds: list[int], counts: torch.Tensor) -> torch.Tensor:
    """`codec.samplers.sobel_mask` for a batch of uint8 (B, 3, H, W) crops: (B, H, W) bool.
    Efraimidis-Spirakis keys -log(u) / p in float64, as the codec; a key may round differently
    from numpy's in its last bit, so a rare near-tie can pick the other pixel."""
    b, _, h, w = images.shape
    prob = sobel_probability(images)
    seeds_x = [s ^ SOBEL_STREAM for s in seeds]
    bits = splitmix64(_seed_column(seeds_x, images.device), torch.arange(h * w, device=images.device))
    keys = -torch.log(_uniform(bits)) / prob
    return _keep_smallest(keys, counts).reshape(b, h, w)


# -- the codec's lossy `pred` values ----------------------------------------------------------


def _rgb_to_ycocg(rgb: torch.Tensor) -> torch.Tensor:
    r, g, b = (rgb[:, c].long() for c in range(3))
    co = r - b
    t = b + (co >> 1)
    cg = g - t
    return torch.stack([t + (cg >> 1), co, cg], 1)


def _ycocg_to_rgb(ycc: torch.Tensor) -> torch.Tensor:
    y, co, cg = ycc[:, 0], ycc[:, 1], ycc[:, 2]
    t = y - (cg >> 1)
    g = cg + t
    b = t - (co >> 1)
    return torch.stack([b + co, g, b], 1).clamp(0, 255).to(torch.uint8)


def _nearest(known: torch.Tensor, fine: torch.Tensor, k: int, chunk: int = 1 << 24):
    """The k nearest `known` points (n, 2) of each `fine` point by (squared distance, index), as
    `codec.predictive._neighbours`: brute force, in row chunks that bound the memory."""
    n = len(known)
    k = min(k, n)
    rows = max(1, chunk // n)
    ky, kx = known.int().unbind(1)  # squared distances inside a crop fit in int32
    index = torch.arange(n, device=known.device)
    out_idx, out_d2 = [], []
    for lo in range(0, len(fine), rows):
        fy, fx = fine[lo : lo + rows].int().unbind(1)
        dy, dx = fy[:, None] - ky, fx[:, None] - kx
        d2 = (dy * dy).add_(dx * dx)
        pick = torch.topk(d2.long() * n + index, k, dim=1, largest=False).indices  # (d2, index) order
        out_idx.append(pick)
        out_d2.append(torch.gather(d2, 1, pick).long())
    return torch.cat(out_idx), torch.cat(out_d2)


def pred_values(samples: torch.Tensor, indices: torch.Tensor, width: int, seed: int, quality: int):
    """What `decode_pred(encode_pred(samples, indices, width, seed, params_for_quality(quality)))`
    returns, computed with torch on the samples' device: (n, 3) uint8 samples at increasing
    row-major `indices`. The closed-loop levels of codec/predictive.py, in the same integers."""
    params = params_for_quality(quality)
    device = samples.device
    keys = splitmix64(_seed_column([seed], device), indices)[0] ^ _SIGN
    order = torch.sort(keys, stable=True).indices  # indices increase, so ties keep index order
    positions = torch.stack([indices // width, indices % width], 1)[order]
    target = _rgb_to_ycocg(samples)[order]
    steps = torch.tensor([params.luma_step, params.chroma_step, params.chroma_step], device=device)
    dead = torch.tensor(DEAD_ZONE, device=device)
    lo, hi = (torch.as_tensor(v, device=device) for v in _limits(3))  # the coding domain's range
    decoded = torch.zeros_like(target)
    bounds = level_bounds(len(indices))
    start = 0
    for level, end in enumerate(bounds):
        if start == 0:
            pred = torch.tensor([128, 0, 0], device=device).expand(end, 3)
        else:
            idx, d2 = _nearest(positions[:start], positions[start:end], NEIGHBOURS)
            w = WEIGHT_ONE // d2.clamp(min=1)
            num = (w[..., None] * decoded[:start][idx]).sum(1)
            den = w.sum(1, keepdim=True)
            pred = torch.div(2 * num + den, 2 * den.clamp(min=1), rounding_mode="floor")
            pred = torch.where(den == 0, torch.zeros_like(pred), pred)
        e = target[start:end] - pred
        r = torch.sign(e) * torch.div(100 * e.abs() + (50 - dead) * steps, 100 * steps, rounding_mode="floor")
        if level >= len(bounds) - params.chroma_skip:
            r[:, 1:] = 0
        decoded[start:end] = torch.minimum(torch.maximum(pred + r * steps, lo), hi)
        start = end
    out = torch.empty_like(samples)
    out[order] = _ycocg_to_rgb(decoded)
    return out


def _pred_values_numpy(samples: torch.Tensor, indices: torch.Tensor, width: int, seed: int, quality: int):
    """`pred_values` by the codec itself, for CPU tensors."""
    values, where = samples.numpy(), indices.numpy()
    raw = encode_pred(values, where, width, seed, params_for_quality(quality))
    return torch.from_numpy(decode_pred(raw, where, width, seed, values.shape[1]))


# -- the batches ---------------------------------------------------------------------------------


def _flipped(crop: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """`data.random_crop`'s mirror image, drawn as it draws it, on a (3, S, S) tensor."""
    return crop.flip(2) if rng.random() < 0.5 else crop


class DeviceBatches:
    """Batches for the sparse tasks, made on `device` from images held there.

    `batch(b)` is data batch b of this rank: (canvas, mask, target, labels, *coarse) as the
    worker path's DataLoader gives them, with the coarse Delaunay-linear fill when `coarse` is
    set (its triangulation runs in CPU threads, the rest on the device)."""

    def __init__(
        self,
        paths: list[Path],
        config: TrainConfig,
        device: torch.device,
        labels: list[int] | None = None,
        coarse: bool = False,
        rank: int = 0,
        world: int = 1,
    ):
        missing = unported(config)
        if missing:
            raise InputError(f"--data-path device does not do {missing} yet; use --data-path workers")
        self.config, self.device, self.labels, self.coarse = config, device, labels, coarse
        self.rank, self.world = rank, world
        self.images = [_load(p, config.crop, device) for p in paths]
        self.threads = max(1, min(16, os.cpu_count() or 1))  # for the fill's triangulations

    def batch(self, b: int):
        cfg, n = self.config, len(self.images)
        size, device = cfg.crop, self.device
        rng = np.random.default_rng([cfg.seed, 2, b * self.world + self.rank])
        first = (b * self.world + self.rank) * cfg.batch
        crops, seeds, counts, sobel, files = [], [], [], [], []
        for i in range(first, first + cfg.batch):
            k = epoch_file(cfg.seed, i, n)
            image = self.images[k]
            y = int(rng.integers(0, image.shape[1] - size + 1))
            x = int(rng.integers(0, image.shape[2] - size + 1))
            crops.append(_flipped(image[:, y : y + size, x : x + size], rng))
            density = draw_density(rng, (cfg.density_min, cfg.density_max))
            counts.append(sample_count(size, size, density))
            seeds.append(int(rng.integers(0, 2**63)))
            sobel.append(cfg.task == "sparse-sobel" or (cfg.task == "sparse" and rng.random() < 0.5))
            files.append(k)
        target = torch.stack(crops).contiguous()
        count_t = torch.tensor(counts, device=device)
        mask = random_masks(seeds, size, size, count_t)
        if any(sobel):
            pick = torch.tensor([j for j, s in enumerate(sobel) if s], device=device)
            mask[pick] = sobel_masks(target[pick], [seeds[j] for j in pick.tolist()], count_t[pick])
        canvas = target * mask[:, None]
        if cfg.quality:
            canvas = self._lossy(canvas, mask, seeds)
        labels = torch.tensor([self.labels[k] if self.labels else -1 for k in files])
        out = [_to_float(canvas), mask[:, None].float(), _to_float(target), labels]
        if self.coarse:
            out.append(self._fill(out[0] * out[1], out[1]))
        return tuple(out)

    def _lossy(self, canvas: torch.Tensor, mask: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        flat = canvas.flatten(2)  # (B, 3, H*W)
        width, quality = canvas.shape[-1], self.config.quality
        # The brute-force neighbour search suits a GPU; on a CPU the codec's k-d tree is faster.
        values_of = pred_values if canvas.device.type != "cpu" else _pred_values_numpy
        for j, seed in enumerate(seeds):
            indices = torch.nonzero(mask[j].flatten())[:, 0]
            if len(indices):
                flat[j, :, indices] = values_of(flat[j, :, indices].T, indices, width, seed, quality).T
        return flat.reshape(canvas.shape)

    def _fill(self, canvas: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        from sparsepix.models.devicefill import delaunay_fill

        return delaunay_fill(canvas, mask, threads=self.threads)


def unported(config: TrainConfig) -> str:
    """'' when `config` can be trained with on-device data, else what is not ported."""
    if config.task not in SPARSE_TASKS:
        return f"task {config.task}"
    if config.optimize:
        return "--optimize (tuned values)"
    return ""


def _load(path: Path, size: int, device: torch.device) -> torch.Tensor:
    """An image as uint8 (3, H, W) on the device, reflect-padded to at least the crop side."""
    image = load_image(path)
    image = pad_to(as_rgb(image), size)
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).to(device)


def _to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 -> float in [-1, 1], as `data.to_tensor`."""
    return images.float() / 127.5 - 1.0
