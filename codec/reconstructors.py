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
from sparsepix.codec.ensemble import check_ensemble, default_passes
from sparsepix.errors import InputError, ModelError
from sparsepix.tasks import SAMPLE_TASKS

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
    """What rebuilds whole images from their kept samples: one call, `run`, for every kind (as
    CompressAI's models share one interface). Classical ones are `Classical` below; learned ones
    are built from their cards by `sparsepix.models.registry`."""

    name: str
    description: str
    learned: bool = False
    version: int | None = None  # learned: the shipped weights' version, written into files
    ensemble: int = 1  # learned: image symmetries averaged by default (codec/ensemble.py)
    task: str = ""  # learned: what it was trained for (`sparse`, `inpaint`, `color-noise`, ...)
    macs_per_pixel: int = 0  # learned: network multiply-adds per pixel and pass (the work bound)

    def run(
        self, canvases: list[np.ndarray], masks: list[np.ndarray], device: str, passes: int, batch: int | None
    ) -> list[np.ndarray]:
        """Images (H, W, C) uint8 from canvases (H, W, C) uint8 and masks (H, W) bool (True =
        kept), averaging `passes` image symmetries where that means anything, up to `batch`
        images a call (None: the reconstructor's choice for the device)."""
        raise NotImplementedError

    def tune(self, image: np.ndarray, mask: np.ndarray, effort: int, **fixed) -> np.ndarray:
        """Sample values at `mask` tuned so that this reconstructor rebuilds `image` best
        (`encode --optimize`; codec/tonal.py, models/tuning.py)."""
        raise InputError(
            f"tonal optimisation supports the linear reconstructor and learned models, "
            f"not {self.name!r}; encode with --model linear or a model name"
        )

    def refine(self, image: np.ndarray, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Tuned `values` at `mask` refined through this reconstructor by gradient steps (effort
        4; learned models only): the least-squares values are already the best for a fill."""
        return values

    @property
    def tunes_cheaply(self) -> bool:
        """Whether `tune` is least squares (about a second), not gradient steps through a
        network: encoder effort levels tune only where it is."""
        return False

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.name, self.version)

    @property
    def decodes_samples(self) -> bool:
        """Whether encoders may name it: classical, or learned on sparse samples (not holes)."""
        return not self.learned or self.task in SAMPLE_TASKS

    def passes(self, ensemble: int | None = None, pixels: int = 0) -> int:
        """The symmetries a decode of `pixels` averages: `ensemble` if asked for, else this
        one's own, fewer on images too large for them (`default_passes`)."""
        if ensemble is not None:
            return check_ensemble(ensemble)
        return default_passes(self.ensemble, pixels, self.macs_per_pixel)


@dataclass(frozen=True)
class Classical(Reconstructor):
    """A fill computed image by image: `fill(canvas, mask) -> image`; `tuner`, if any, is its
    tonal optimisation `(image, mask, iterations, **fixed) -> values`."""

    fill: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    tuner: Callable[..., np.ndarray] | None = None

    def run(self, canvases, masks, device, passes, batch):
        return [self.fill(c, m) for c, m in zip(canvases, masks)]

    @property
    def tunes_cheaply(self) -> bool:
        return self.tuner is not None

    def tune(self, image, mask, effort, **fixed):
        if self.tuner is None:
            return super().tune(image, mask, effort, **fixed)
        return self.tuner(image, mask, effort, **fixed)


def _tune_linear(image: np.ndarray, mask: np.ndarray, iterations: int, **fixed) -> np.ndarray:
    from sparsepix.codec.tonal import optimize_linear

    return optimize_linear(image, mask, iterations=iterations, **fixed)


CLASSICAL: dict[str, Reconstructor] = {
    r.name: r
    for r in (
        Classical("nearest", "colour of the closest kept pixel", fill=classical.nearest),
        Classical(
            "linear", "Delaunay piecewise-linear interpolation", fill=classical.linear, tuner=_tune_linear
        ),
        Classical("telea", "OpenCV fast-marching inpainting (Telea)", fill=classical.telea),
        Classical("ns", "OpenCV Navier-Stokes inpainting", fill=classical.navier_stokes),
        Classical("pushpull", "pyramid push-pull fill, the fastest", fill=classical.pushpull),
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
    return reconstruct_batch(rec, [canvas], [mask], device, ensemble, paste=paste)[0]


def reconstruct_batch(
    rec: Reconstructor,
    canvases: list[np.ndarray],
    masks: list[np.ndarray],
    device: str = "cpu",
    ensemble: int | None = None,
    batch: int | None = None,
    paste: bool = True,
) -> list[np.ndarray]:
    """`reconstruct` for several images; learned models run up to `batch` of one size per
    network call (None: the model's choice for the device), which is what keeps a GPU busy."""
    # Checked for every reconstructor, used by learned ones: one call per count of passes.
    by_count: dict[int, list[int]] = {}
    for i, mask in enumerate(masks):
        by_count.setdefault(rec.passes(ensemble, mask.size), []).append(i)
    if len(by_count) > 1:  # sizes far enough apart for different default counts
        outs = [np.empty(0)] * len(masks)
        for members in by_count.values():
            group = [canvases[i] for i in members], [masks[i] for i in members]
            for i, out in zip(members, reconstruct_batch(rec, *group, device, ensemble, batch, paste)):
                outs[i] = out
        return outs
    for canvas, mask in zip(canvases, masks):
        _check_input(canvas, mask)
    passes = next(iter(by_count), None) or rec.passes(ensemble)
    outs = rec.run(list(canvases), list(masks), device, passes, batch)
    return [_pasted(rec, c, m if paste else np.zeros_like(m), o) for c, m, o in zip(canvases, masks, outs)]


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
