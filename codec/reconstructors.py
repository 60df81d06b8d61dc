"""One registry for every reconstructor, classical or learned.

A reconstructor maps (canvas, mask, device) to a full image; learned ones also take `ensemble`,
how many symmetries of the image their network averages over (models/inference.py). Learned
ones register themselves from `sparsepix.models.registry` when it is imported; the classical
ones live in `codec.classical`. Whatever the function returns, `reconstruct` pastes the kept
pixels back, so every reconstruction keeps them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from sparsepix.codec import classical
from sparsepix.codec.ensemble import check_ensemble
from sparsepix.errors import InputError, ModelError

ReconstructFn = Callable[[np.ndarray, np.ndarray, str], np.ndarray]


@dataclass(frozen=True)
class Reconstructor:
    name: str
    fn: ReconstructFn  # (canvas (H,W,C) uint8, mask (H,W) bool, device[, ensemble]) -> (H,W,C) uint8
    description: str
    learned: bool = False
    hint: str = ""  # "name@version" written into files meant for this reconstructor
    ensemble: int = 1  # learned: image symmetries averaged by default (codec/ensemble.py)
    # Tonal optimisation hook for learned models: (image, mask, steps, **fixed) -> values.
    tune: Callable[..., np.ndarray] | None = None

    def passes(self, ensemble: int | None = None) -> int:
        """The symmetries a decode averages: `ensemble` if asked for, else this one's own."""
        return check_ensemble(self.ensemble if ensemble is None else ensemble)


_REGISTRY: dict[str, Reconstructor] = {}
_LEARNED_LOADED = False

# Best classical choice when the file names no model (or the named model is not installed
# and the user asked for "auto"): Delaunay-linear is the most accurate classical method here.
DEFAULT_CLASSICAL = "linear"


# The shipped models that encoders name by default (`model="auto"`), measured best on Kodak
# from the same bits: `natural` for plain sample values, `natural-opt` for values tuned by least
# squares (`optimize` > 0). Their figures live in their cards (docs/models/), not restated here,
# where each new version left them stale. An installation without them falls back to `linear`.
DEFAULT_LEARNED = "natural"
DEFAULT_TUNED = "natural-opt"


def default_hint(tuned: bool = False) -> str:
    """What `encode(model="auto")` writes: the default learned model's hint, if installed."""
    rec = available().get(DEFAULT_TUNED if tuned else DEFAULT_LEARNED)
    return rec.hint if rec is not None else ""


def register(rec: Reconstructor) -> Reconstructor:
    if rec.name in _REGISTRY:
        raise ValueError(f"reconstructor {rec.name!r} registered twice")
    _REGISTRY[rec.name] = rec
    return rec


def _classical(name: str, fn: Callable[[np.ndarray, np.ndarray], np.ndarray], doc: str) -> None:
    register(Reconstructor(name, lambda canvas, mask, device: fn(canvas, mask), doc))


_classical("nearest", classical.nearest, "colour of the closest kept pixel")
_classical("linear", classical.linear, "Delaunay piecewise-linear interpolation")
_classical("telea", classical.telea, "OpenCV fast-marching inpainting (Telea)")
_classical("ns", classical.navier_stokes, "OpenCV Navier-Stokes inpainting")
_classical("pushpull", classical.pushpull, "pyramid push-pull fill, the fastest")


def _load_learned() -> None:
    """Import the shipped-model registry once; it registers learned reconstructors."""
    global _LEARNED_LOADED
    if _LEARNED_LOADED:
        return
    _LEARNED_LOADED = True
    try:
        import sparsepix.models.registry  # noqa: F401  (registers on import)
    except ModuleNotFoundError as exc:
        # No torch, or no shipped models yet: the classical reconstructors still work.
        if exc.name not in ("torch", "sparsepix.models.registry"):
            raise


def available() -> dict[str, Reconstructor]:
    _load_learned()
    return dict(_REGISTRY)


def get(name: str) -> Reconstructor:
    registry = available()
    if name not in registry:
        raise ModelError(f"unknown reconstructor {name!r}; available: {', '.join(sorted(registry))}")
    return registry[name]


def resolve(name: str, model_hint: str) -> Reconstructor:
    """The reconstructor to use: `name`, or for "auto" the file's hint, else the classical default."""
    if name != "auto":
        return get(name)
    if model_hint:
        hinted = available().get(model_hint.split("@")[0])
        if hinted is None or (hinted.hint and hinted.hint != model_hint):
            have = f" (this installation has {hinted.hint})" if hinted is not None else ""
            raise ModelError(
                f"the file asks for model {model_hint!r}, which this installation lacks{have}; "
                "pass --reconstructor to choose another"
            )
        return hinted
    return get(DEFAULT_CLASSICAL)


def reconstruct(
    rec: Reconstructor, canvas: np.ndarray, mask: np.ndarray, device: str = "cpu", ensemble: int | None = None
) -> np.ndarray:
    """Run a reconstructor on an (H, W, C) canvas and paste the kept pixels back exactly.

    `ensemble`: for learned reconstructors, the number of image symmetries averaged
    (codec/ensemble.py; None: the reconstructor's own); classical ones ignore it.
    """
    if canvas.ndim != 3 or canvas.shape[:2] != mask.shape:
        raise InputError(f"canvas {canvas.shape} does not match mask {mask.shape}")
    passes = rec.passes(ensemble)  # checked for every reconstructor, used by learned ones
    if rec.learned:
        out = np.asarray(rec.fn(canvas, mask, device, ensemble=passes))
    else:
        out = np.asarray(rec.fn(canvas, mask, device))
    if out.shape != canvas.shape or out.dtype != np.uint8:
        raise ModelError(
            f"reconstructor {rec.name!r} returned {out.dtype} {out.shape}, expected uint8 {canvas.shape}"
        )
    out = out.copy()
    out[mask] = canvas[mask]
    return out
