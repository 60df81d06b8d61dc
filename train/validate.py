"""Validation on the fixed held-out crops: PSNR and SSIM of the generator against push-pull."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from skimage.metrics import structural_similarity

from sparsepix.codec.classical import pushpull
from sparsepix.metrics import psnr


def to_uint8(t: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> uint8 (H, W, C)."""
    return ((t.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()


@torch.no_grad()
def run_generator(
    model: torch.nn.Module, canvas: torch.Tensor, mask: torch.Tensor, device: torch.device
) -> torch.Tensor:
    was_training = model.training
    model.eval()
    out = model(canvas.to(device), mask.to(device)).float().cpu()
    model.train(was_training)
    return out


def validate(
    model: torch.nn.Module, val_set, device: torch.device, limit: int | None = None, paste: bool = True
) -> dict[str, float]:
    """Mean PSNR/SSIM over the validation set (its first `limit` items), kept pixels pasted back
    as the codec does (`paste`; not for the hidden tasks, whose "kept" pixels are the input)."""
    scores = {"psnr": [], "ssim": [], "psnr_pushpull": []}
    for i in range(min(len(val_set), limit or len(val_set))):
        canvas, mask, target, _ = val_set[i]
        out = run_generator(model, canvas[None], mask[None], device)[0]
        if paste:
            out = torch.where(mask.bool().expand_as(out), canvas, out)
        ref, img = to_uint8(target), to_uint8(out)
        known = mask[0].bool().numpy()
        scores["psnr"].append(psnr(ref, img))
        scores["ssim"].append(structural_similarity(ref, img, channel_axis=2, data_range=255))
        scores["psnr_pushpull"].append(psnr(ref, pushpull(to_uint8(canvas), known)))
    return {k: float(np.mean(v)) for k, v in scores.items()}


def save_grid(model: torch.nn.Module, val_set, device: torch.device, path: Path, rows: int = 4) -> None:
    """A PNG with one row per validation crop: input | output | target."""
    from PIL import Image

    tiles = []
    for i in range(min(rows, len(val_set))):
        canvas, mask, target, _ = val_set[i]
        out = run_generator(model, canvas[None], mask[None], device)[0]
        tiles.append(np.concatenate([to_uint8(canvas * mask), to_uint8(out), to_uint8(target)], axis=1))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(tiles, axis=0)).save(path)
