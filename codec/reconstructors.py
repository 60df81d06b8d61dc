"""Reconstructors: what rebuilds a whole image from its kept samples.

A reconstructor maps (canvas, mask, device) to a full image; learned ones also take `ensemble`,
how many symmetries of the image their network averages over (models/inference.py). This module
holds the interface, the model reference that files carry, and the classical reconstructors.
Shipped learned models are built by `sparsepix.models.registry`, and `sparsepix.catalog` joins
the two; nothing registers itself on import. Whatever a reconstructor returns, `reconstruct`
pastes the kept pixels back, so every reconstruction keeps them exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from sparsepix.codec import classical
from sparsepix.codec.ensemble import check_ensemble
from sparsepix.errors import InputError, ModelError

ReconstructFn = Callable[..., np.ndarray]

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}")


@dataclass(frozen=True)
class ModelRef:
    """A model as files and callers name it: "natural" or "natural@8" (version 1..255)."""

    name: str
    version: int | None = None

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        name, at, version = text.partition("@")
        if not _NAME.fullmatch(name) or (at and not (version.isdigit() and 1 <= int(version) <= 255)):
            raise InputError(f"bad model reference {text!r}: expected NAME or NAME@VERSION")
        return cls(name, int(version) if at else None)

    def __str__(self) -> str:
        return self.name if self.version is None else f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Reconstructor:
    name: str
    fn: ReconstructFn  # (canvas (H,W,C) uint8, mask (H,W) bool, device[, ensemble]) -> (H,W,C) uint8
    description: str
    learned: bool = False
    version: int | None = None  # learned: the shipped weights' version, written into files
    ensemble: int = 1  # learned: image symmetries averaged by default (codec/ensemble.py)
    task: str = ""  # learned: what it was trained for (`sparse`, `inpaint`, `color-noise`, ...)
    # Tonal optimisation hook for learned models: (image, mask, steps, **fixed) -> values.
    tune: Callable[..., np.ndarray] | None = None
    # Learned: several images per network call (canvases, masks, device, ensemble, batch) -> list.
    batch_fn: Callable[..., list[np.ndarray]] | None = None
    # Learned: the network's multiply-adds per pixel and pass (what a decode's work bound counts).
    macs_per_pixel: int = 0

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.name, self.version)

    @property
    def decodes_samples(self) -> bool:
        """Whether encoders may name it: classical, or learned on sparse samples (not holes)."""
        return not self.learned or self.task.startswith("sparse")

    def passes(self, ensemble: int | None = None) -> int:
        """The symmetries a decode averages: `ensemble` if asked for, else this one's own."""
        return check_ensemble(self.ensemble if ensemble is None else ensemble)


def _classical(name: str, fn: Callable[[np.ndarray, np.ndarray], np.ndarray], doc: str) -> Reconstructor:
    return Reconstructor(name, lambda canvas, mask, device: fn(canvas, mask), doc)


CLASSICAL: dict[str, Reconstructor] = {
    r.name: r
    for r in (
        _classical("nearest", classical.nearest, "colour of the closest kept pixel"),
        _classical("linear", classical.linear, "Delaunay piecewise-linear interpolation"),
        _classical("telea", classical.telea, "OpenCV fast-marching inpainting (Telea)"),
        _classical("ns", classical.navier_stokes, "OpenCV Navier-Stokes inpainting"),
        _classical("pushpull", classical.pushpull, "pyramid push-pull fill, the fastest"),
    )
}

# What decodes a file that names no model: the most accurate classical reconstructor.
DEFAULT_CLASSICAL = "linear"


def reconstruct(
    rec: Reconstructor,
    canvas: np.ndarray,
    mask: np.ndarray,
    device: str = "cpu",
    ensemble: int | None = None,
    paste: bool = True,
) -> np.ndarray:
    """Run a reconstructor on an (H, W, C) canvas and paste the kept pixels back exactly.

    `ensemble`: for learned reconstructors, the number of image symmetries averaged
    (codec/ensemble.py; None: the reconstructor's own); classical ones ignore it. `paste=False`
    keeps the network's own output everywhere (restoration of pixels that are all "kept" but
    some corrupted).
    """
    passes = rec.passes(ensemble)  # checked for every reconstructor, used by learned ones
    _check_input(canvas, mask)
    if rec.learned:
        out = rec.fn(canvas, mask, device, ensemble=passes)
    else:
        out = rec.fn(canvas, mask, device)
    return _pasted(rec, canvas, mask if paste else np.zeros_like(mask), out)


def reconstruct_batch(
    rec: Reconstructor,
    canvases: list[np.ndarray],
    masks: list[np.ndarray],
    device: str = "cpu",
    ensemble: int | None = None,
    batch: int | None = None,
) -> list[np.ndarray]:
    """`reconstruct` for several images; learned models run up to `batch` of one size per
    network call (None: the model's choice for the device), which is what keeps a GPU busy."""
    if rec.batch_fn is None or len(canvases) < 2:
        return [reconstruct(rec, c, m, device, ensemble) for c, m in zip(canvases, masks)]
    passes = rec.passes(ensemble)
    for canvas, mask in zip(canvases, masks):
        _check_input(canvas, mask)
    outs = rec.batch_fn(canvases, masks, device, passes, batch)
    return [_pasted(rec, c, m, o) for c, m, o in zip(canvases, masks, outs)]


def _check_input(canvas: np.ndarray, mask: np.ndarray) -> None:
    if canvas.ndim != 3 or canvas.shape[:2] != mask.shape:
        raise InputError(f"canvas {canvas.shape} does not match mask {mask.shape}")


def _pasted(rec: Reconstructor, canvas: np.ndarray, mask: np.ndarray, out: object) -> np.ndarray:
    """The reconstructor's output, checked, with the kept pixels pasted back exactly."""
    out = np.asarray(out)
    if out.shape != canvas.shape or out.dtype != np.uint8:
        raise ModelError(
            f"reconstructor {rec.name!r} returned {out.dtype} {out.shape}, expected uint8 {canvas.shape}"
        )
    out = out.copy()
    out[mask] = canvas[mask]
    return out
