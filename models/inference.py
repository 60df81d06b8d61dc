"""Running a generator in torch: device choice, precision, the self-ensemble's passes; the tiling is
models/tiles.py's."""

from __future__ import annotations

import functools

import numpy as np
import torch

from sparsepix.codec.ensemble import check_ensemble
from sparsepix.errors import InputError
from sparsepix.models import tiles
from sparsepix.models.generator import Generator
from sparsepix.models.tiles import OVERLAP, SYMMETRIES, TILE, Symmetry


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device cuda was asked for, but torch sees no CUDA device")
    if name != "cpu" and not name.startswith("cuda"):
        raise InputError(f"unknown device {name!r} (auto, cpu, cuda)")
    return torch.device(name)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX), where bf16 autocast runs
    the network faster (docs/DECISIONS.md, "Eager, bf16 where native"); elsewhere it is
    emulated and slower."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()) and (
            torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
        )
    except (AttributeError, RuntimeError):  # a torch without these probes
        return False


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The reduced precision the network runs in on this device, or None for fp32."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_has_native_bf16() else None


def reduced_precision(device: torch.device, enabled: bool = True):
    """Autocast to `autocast_dtype(device)`; fp32 (a no-op) where that is None or not enabled."""
    dtype = autocast_dtype(device) if enabled else None
    return torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


def apply_symmetry(t: torch.Tensor, symmetry: Symmetry) -> torch.Tensor:
    """One of `SYMMETRIES` applied to an NCHW tensor (`_undo` maps it back)."""
    transpose, flips = symmetry
    t = t.transpose(2, 3) if transpose else t
    return t.flip(flips) if flips else t


def _undo(t: torch.Tensor, symmetry: Symmetry) -> torch.Tensor:
    transpose, flips = symmetry
    t = t.flip(flips) if flips else t
    return t.transpose(2, 3) if transpose else t


@torch.no_grad()
def _run(
    model: Generator,
    canvas: np.ndarray,
    mask: np.ndarray,
    device: torch.device,
    ensemble: int = 1,
) -> np.ndarray:
    """(N, H, W, C) uint8 canvases + (N, H, W) masks -> (N, H, W, C) float in [0, 255]."""
    x = torch.from_numpy(np.ascontiguousarray(canvas.transpose(0, 3, 1, 2))).float().div(127.5).sub(1)
    m = torch.from_numpy(mask.astype(np.float32))[:, None]
    # channels_last pays on both: oneDNN on CPUs, tensor cores on CUDA.
    x = x.to(device).contiguous(memory_format=torch.channels_last)
    m = m.to(device).contiguous(memory_format=torch.channels_last)
    # The classical fill is computed once and carried through each symmetry with the canvas.
    coarse = model.coarse_fill(x * m, m) if model.needs_coarse else None
    total = None
    for symmetry in SYMMETRIES[:ensemble]:
        xs, ms = apply_symmetry(x, symmetry), apply_symmetry(m, symmetry)
        cs = None if coarse is None else apply_symmetry(coarse, symmetry)
        with reduced_precision(device):
            y = model(xs, ms, coarse=cs)
        y = _undo(y.float().clamp(-1, 1), symmetry)
        total = y if total is None else total + y
    return total.div(ensemble).add(1).mul(127.5).permute(0, 2, 3, 1).cpu().numpy()


def generate(
    model: Generator,
    canvas: np.ndarray,
    mask: np.ndarray,
    device: torch.device,
    tile: int = TILE,
    overlap: int = OVERLAP,
    max_one_pass: int | None = None,
    ensemble: int = 1,
) -> np.ndarray:
    """(H, W, C) uint8 canvas + (H, W) mask -> (H, W, C) uint8, tiled when the image is large
    (models/tiles.py).

    `ensemble` (1, 2, 4 or 8): run the network on that many symmetries of each tile (`SYMMETRIES`)
    and average the answers mapped back; each costs one more pass of the network."""
    check_ensemble(ensemble)
    run = functools.partial(_run, model, device=device, ensemble=ensemble)
    return tiles.whole(run, canvas, mask, tile, overlap, max_one_pass)


def generate_batch(
    model: Generator,
    canvases: list[np.ndarray],
    masks: list[np.ndarray],
    device: torch.device,
    ensemble: int = 1,
    batch: int = 8,
) -> list[np.ndarray]:
    """`generate` for several images, same-sized ones `batch` a network call (models/tiles.py)."""
    check_ensemble(ensemble)
    run = functools.partial(_run, model, device=device, ensemble=ensemble)
    return tiles.batched(run, canvases, masks, batch)
