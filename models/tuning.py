"""Tonal optimisation through a learned generator: gradient steps on the stored sample values.

The decoder's output G(canvas(v)) with the samples pasted back is differentiable in the values
v, so Adam on v (in [-1, 1]) lowers the squared error of what the decoder will show. Samples
listed as fixed (already decided, e.g. the adaptive sampler's first stage) stay as given.
`refine_through` starts from values already tuned (least squares, effort 4) and works tile by
tile, so that the memory the backward pass keeps stays bounded on large images.

A Delaunay-coarse generator computes its fill with scipy, outside autograd; here the fill is
the same linear map written as a sparse matrix (codec/tonal.py's `linear_operator`), so the
gradient also flows through it.
"""

from __future__ import annotations

import numpy as np
import torch

from sparsepix.models.generator import Generator
from sparsepix.models.inference import reduced_precision

# Effort 4's refinement (docs/DECISIONS.md, "Effort levels"): a few larger steps from the
# least-squares values, an L1 pull towards them (a value that stays keeps its residual's bits);
# tiles bound the activations kept for the backward pass.
REFINE_STEPS = 6
REFINE_LR = 0.008
REFINE_PULL = 0.02
REFINE_TILE = 1024
REFINE_MARGIN = 32


def optimize_through(
    generator: Generator,
    image: np.ndarray,
    mask: np.ndarray,
    steps: int,
    fixed: np.ndarray | None = None,
    fixed_values: np.ndarray | None = None,
    lr: float = 0.01,
    start: np.ndarray | None = None,
    reduced: bool = False,
    pull: float = 0.0,
) -> np.ndarray:
    """Values (n_free, C) uint8 for the free samples of `mask`, in row-major order, from
    `start` ((n, C) uint8, every sample of `mask`; None: the image's own), with the network in
    the device's reduced precision if `reduced`, and `pull` times the mean absolute move from
    the start added to the loss."""
    device = next(generator.parameters()).device
    h, w = mask.shape
    img = image.reshape(h, w, -1)
    target = torch.from_numpy(img.transpose(2, 0, 1).copy()).float().div(127.5).sub(1)[None].to(device)
    ys, xs = np.nonzero(mask)
    first = img[ys, xs] if start is None else start.reshape(ys.size, -1)
    values = torch.from_numpy(first.astype(np.float32) / 127.5 - 1).to(device)
    free = np.ones(ys.size, bool) if fixed is None else ~fixed[ys, xs]
    if fixed is not None:
        values[torch.from_numpy(~free)] = torch.from_numpy(fixed_values.astype(np.float32) / 127.5 - 1).to(
            device
        )
    free_t = torch.from_numpy(free).to(device)
    param = values[free_t].clone().requires_grad_(True)
    origin = param.detach().clone()
    m = torch.from_numpy(mask.astype(np.float32))[None, None].to(device)
    fill = _differentiable_fill(generator, mask, device)
    yi, xi = torch.from_numpy(ys).to(device), torch.from_numpy(xs).to(device)
    opt = torch.optim.Adam([param], lr=lr)
    generator.eval()
    for _ in range(steps):
        current = values.clone()
        current[free_t] = param
        canvas = torch.zeros_like(target)
        canvas[0, :, yi, xi] = current.T
        coarse = fill(current) if fill is not None else None  # sparse product: fp32
        with reduced_precision(device, enabled=reduced):
            out = generator(canvas, m, coarse).float()
        out = torch.where(m.bool(), canvas, out)
        loss = torch.mean((out - target) ** 2)
        if pull:
            loss = loss + pull * torch.mean(torch.abs(param - origin))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            param.clamp_(-1, 1)
    result = ((param.detach().cpu().numpy() + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
    return result


def refine_through(
    generator: Generator, image: np.ndarray, mask: np.ndarray, values: np.ndarray, steps: int = REFINE_STEPS
) -> np.ndarray:
    """`values` ((n, C) uint8, the samples of `mask` in row-major order) after `steps` Adam steps
    through the network, in its reduced precision, tile by tile: each tile's own samples move,
    those in a margin around it stay as they are and give the network its context."""
    h, w = mask.shape
    out = values.reshape(np.count_nonzero(mask), -1).copy()
    index = np.full(mask.shape, -1, np.int64)
    index[mask] = np.arange(out.shape[0])
    for y0 in range(0, h, REFINE_TILE):
        for x0 in range(0, w, REFINE_TILE):
            top, left = max(y0 - REFINE_MARGIN, 0), max(x0 - REFINE_MARGIN, 0)
            ys = slice(top, min(y0 + REFINE_TILE + REFINE_MARGIN, h))
            xs = slice(left, min(x0 + REFINE_TILE + REFINE_MARGIN, w))
            sub, local = mask[ys, xs], index[ys, xs]
            own = np.zeros(sub.shape, bool)  # the tile itself, without its margin
            own[y0 - top : y0 - top + REFINE_TILE, x0 - left : x0 - left + REFINE_TILE] = True
            if not (sub & own).any():
                continue
            fixed = sub & ~own
            out[local[sub & own]] = optimize_through(
                generator,
                image[ys, xs],
                sub,
                steps,
                fixed=fixed if fixed.any() else None,
                fixed_values=out[local[fixed]],
                lr=REFINE_LR,
                start=out[local[sub]],  # the tile's samples, row-major as optimize_through's
                reduced=True,
                pull=REFINE_PULL,
            )
    return out


def _differentiable_fill(generator: Generator, mask: np.ndarray, device: torch.device):
    """For a Delaunay-coarse generator: values (n, C) -> its coarse image (1, C, H, W), as a
    sparse matrix product that autograd sees through; None for other generators."""
    if not generator.needs_coarse or generator.config.coarse != "linear":
        return None
    from sparsepix.codec.tonal import linear_operator

    a = linear_operator(mask).tocoo()
    h, w = mask.shape
    op = torch.sparse_coo_tensor(
        np.vstack([a.row, a.col]), a.data.astype(np.float32), a.shape, device=device, check_invariants=True
    ).coalesce()
    return lambda values: torch.sparse.mm(op, values).T.reshape(1, -1, h, w)
