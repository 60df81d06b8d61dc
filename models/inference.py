"""Running a generator on whole images: device choice, precision, tiling with seamless blending."""

from __future__ import annotations

import numpy as np
import torch

from sparsepix.codec.ensemble import check_ensemble
from sparsepix.errors import InputError
from sparsepix.models.generator import Generator

# Images up to this many pixels run in one pass; larger ones in overlapping tiles, so memory
# stays bounded whatever the image size.
MAX_PIXELS_ONE_PASS = 1536 * 1536
TILE, OVERLAP = 768, 64

# Geometric self-ensemble: the image's symmetries the network is run on, each answer mapped
# back and averaged (docs/DECISIONS.md, "Self-ensemble"). Each entry: transpose
# first?, then the axes to flip (of an NCHW tensor). The first 2 are the image as it is and
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


def apply_symmetry(t: torch.Tensor, symmetry: tuple[bool, tuple[int, ...]]) -> torch.Tensor:
    """One of `SYMMETRIES` applied to an NCHW tensor (`_undo` maps it back)."""
    transpose, flips = symmetry
    t = t.transpose(2, 3) if transpose else t
    return t.flip(flips) if flips else t


def _undo(t: torch.Tensor, symmetry: tuple[bool, tuple[int, ...]]) -> torch.Tensor:
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


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def generate(
    model: Generator,
    canvas: np.ndarray,
    mask: np.ndarray,
    device: torch.device,
    tile: int = TILE,
    overlap: int = OVERLAP,
    max_one_pass: int = MAX_PIXELS_ONE_PASS,
    ensemble: int = 1,
) -> np.ndarray:
    """(H, W, C) uint8 canvas + (H, W) mask -> (H, W, C) uint8, tiled when the image is large.

    `ensemble` (1, 2, 4 or 8): run the network on that many symmetries of each tile (`SYMMETRIES`)
    and average the answers mapped back; each costs one more pass of the network."""
    check_ensemble(ensemble)
    h, w = mask.shape
    if h * w <= max_one_pass:
        out = _run(model, canvas[None], mask[None], device, ensemble=ensemble)[0]
    else:
        acc = np.zeros((h, w, canvas.shape[2]), np.float32)
        weight = np.zeros((h, w, 1), np.float32)
        ys, xs = _starts(h, tile, overlap), _starts(w, tile, overlap)
        for y in ys:
            for x in xs:
                sl = (slice(y, y + tile), slice(x, x + tile))
                part = _run(model, canvas[sl][None], mask[sl][None], device, ensemble=ensemble)[0]
                wy = _ramp(part.shape[0], overlap, y == 0, y + tile >= h)
                wx = _ramp(part.shape[1], overlap, x == 0, x + tile >= w)
                wt = (wy[:, None] * wx[None, :])[..., None]
                acc[sl] += part * wt
                weight[sl] += wt
        out = acc / weight
    return _to_uint8(out)


def generate_batch(
    model: Generator,
    canvases: list[np.ndarray],
    masks: list[np.ndarray],
    device: torch.device,
    ensemble: int = 1,
    batch: int = 8,
) -> list[np.ndarray]:
    """`generate` for several images: those of one size that fit a single pass go through the
    network together, up to `batch` a call (what keeps a GPU busy); larger ones are tiled alone."""
    check_ensemble(ensemble)
    out: list[np.ndarray | None] = [None] * len(canvases)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, (canvas, mask) in enumerate(zip(canvases, masks)):
        if mask.size <= MAX_PIXELS_ONE_PASS:
            groups.setdefault(canvas.shape, []).append(i)
        else:
            out[i] = generate(model, canvas, mask, device, ensemble=ensemble)
    for members in groups.values():
        for k in range(0, len(members), batch):
            part = members[k : k + batch]
            stacked = np.stack([canvases[i] for i in part]), np.stack([masks[i] for i in part])
            for i, image in zip(part, _run(model, *stacked, device, ensemble=ensemble)):
                out[i] = _to_uint8(image)
    return out  # type: ignore[return-value]
