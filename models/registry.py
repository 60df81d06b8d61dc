"""Shipped model weights: one JSON card + one fp16 weights file each, in models/weights/.

`learned()` turns each card into a reconstructor named after the model (e.g. `natural`);
`sparsepix.catalog` offers them beside the classical ones. Weights are read only when first
used, after a SHA-256 check, with `torch.load(..., weights_only=True)`, or by numpy alone for the
lean runtime (`runtime_for` picks it on CPUs: models/lean.py). Nothing is downloaded.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import json
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sparsepix.codec.ensemble import check_ensemble
from sparsepix.codec.reconstructors import ModelRef, Reconstructor
from sparsepix.errors import TORCH_INSTALL, InputError, ModelError
from sparsepix.models.config import DetectorConfig, GeneratorConfig

if TYPE_CHECKING:
    import torch

    from sparsepix.models.generator import Generator
    from sparsepix.models.noisedetector import NoiseDetector

# Reading cards, naming models and listing them import no torch (a second of a cold start);
# the functions that run a network import it.

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@dataclass(frozen=True)
class ShippedModel:
    name: str
    version: int
    path: Path
    sha256: str
    config: GeneratorConfig
    description: str
    trained_on_tuned: bool = False  # trained with `--optimize`: on values tuned for the linear fill
    ensemble: int = 1  # image symmetries averaged when decoding (the card's measured choice)
    task: str = "sparse"  # what it was trained for (train --task; `inpaint` fills known holes)
    # Finds the true pixels of a noisy image before the generator runs (models/noisedetector.py).
    detector: DetectorConfig | None = None

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.name, self.version)


def read_card(card_path: Path) -> ShippedModel:
    try:
        card = json.loads(card_path.read_text())
        return ShippedModel(
            name=card["name"],
            version=int(card["version"]),
            path=card_path.parent / card["file"],
            sha256=card["sha256"],
            config=GeneratorConfig.from_dict(card["generator"]),
            description=card.get("description", f"X-GAN generator {card['name']}"),
            trained_on_tuned=bool(card.get("train_config", {}).get("optimize", 0)),
            ensemble=check_ensemble(card.get("ensemble", 1)),
            task=str(card.get("train_config", {}).get("task", "sparse")),
            detector=DetectorConfig.from_dict(card["detector"]) if "detector" in card else None,
        )
    except (OSError, ValueError, KeyError, TypeError, InputError) as exc:
        raise ModelError(f"broken model card {card_path}: {exc}") from None


def read_cards(folder: Path = WEIGHTS_DIR) -> tuple[dict[str, ShippedModel], dict[str, str]]:
    """The models whose cards read, and for each card that does not, its error: a broken card
    disables its own model only."""
    models, broken = {}, {}
    for path in sorted(folder.glob("*.json")):
        try:
            model = read_card(path)
        except ModelError as exc:
            broken[path.stem] = str(exc)
            continue
        models[model.name] = model
    return models, broken


def shipped(folder: Path = WEIGHTS_DIR) -> dict[str, ShippedModel]:
    return read_cards(folder)[0]


def _checked_bytes(model: ShippedModel) -> bytes:
    """The weights file, after its SHA-256 check."""
    try:
        blob = model.path.read_bytes()
    except OSError as exc:
        raise ModelError(f"model {model.ref}: cannot read {model.path.name}: {exc}") from None
    if hashlib.sha256(blob).hexdigest() != model.sha256:
        raise ModelError(f"model {model.ref}: {model.path.name} fails its SHA-256 check")
    return blob


def _payload(model: ShippedModel) -> dict:
    """The weights file's content as torch tensors."""
    import torch

    blob = _checked_bytes(model)
    try:
        return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except Exception as exc:  # a blocked pickle, a truncated file, ...
        raise _unloadable(model, exc) from None


def _numpy_payload(model: ShippedModel) -> dict:
    """The weights file's content as numpy arrays, read without torch."""
    from sparsepix.models.weightsfile import read_weights

    blob = _checked_bytes(model)
    try:
        return read_weights(blob)
    except Exception as exc:  # as for torch.load: a refused class, a truncated file, ...
        raise _unloadable(model, exc) from None


def _unloadable(model: ShippedModel, exc: Exception) -> ModelError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelError(f"model {model.ref}: {model.path.name} does not load: {reason[:200]}")


def _fp32(module: torch.nn.Module, state: dict, model: ShippedModel, device: torch.device) -> torch.nn.Module:
    """`module` with `state` (fp16 on disk) loaded as fp32, frozen, on `device`."""
    import torch

    try:
        module.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except Exception as exc:  # other tensors than the card says, ...
        raise _unloadable(model, exc) from None
    module.eval().requires_grad_(False)
    return module.to(device, memory_format=torch.channels_last)


def load_generator(model: ShippedModel, device: torch.device) -> Generator:
    """Verify the file's SHA-256, then load it (fp16 on disk, fp32 in memory)."""
    from sparsepix.models.generator import Generator

    payload = _payload(model)
    try:
        generator = Generator(model.config)
        state = payload["state_dict"]
    except Exception as exc:
        raise _unloadable(model, exc) from None
    return _fp32(generator, state, model, device)


def load_detector(model: ShippedModel, device: torch.device) -> NoiseDetector:
    """The model's colour-noise detector (its card has a `detector`), checked and loaded as the
    generator is."""
    from sparsepix.models.noisedetector import NoiseDetector

    if model.detector is None:
        raise ModelError(f"model {model.ref} has no detector")
    payload = _payload(model)
    try:
        state = payload["detector_state_dict"]
    except Exception as exc:
        raise _unloadable(model, exc) from None
    return _fp32(NoiseDetector(model.detector), state, model, device)


GPU_BATCH = 8  # images per network call when decoding several on a GPU


@lru_cache(maxsize=4)
def _cached(model: ShippedModel, device: str) -> Generator:
    import torch

    return load_generator(model, torch.device(device))


@lru_cache(maxsize=2)
def _cached_detector(model: ShippedModel, device: str) -> NoiseDetector:
    import torch

    return load_detector(model, torch.device(device))


def reconstruct_with(
    model: ShippedModel, canvas: np.ndarray, mask: np.ndarray, device: str, ensemble: int = 1
) -> np.ndarray:
    return reconstruct_batch_with(model, [canvas], [mask], device, ensemble)[0]


def reconstruct_batch_with(
    model: ShippedModel,
    canvases: list[np.ndarray],
    masks: list[np.ndarray],
    device: str,
    ensemble: int = 1,
    batch: int | None = None,
) -> list[np.ndarray]:
    """None: GPU_BATCH images per network call on CUDA, one on a CPU (where batching measured
    slower: benchmarks/speed.py)."""
    channels = model.config.image_channels
    # Grayscale files through an RGB model: replicate, then average back.
    inputs = [np.repeat(c, 3, axis=2) if c.shape[2] != channels else c for c in canvases]
    backend, dev = runtime_for(model, device)
    if model.detector is not None:
        inputs, masks = _true_samples(model, inputs, masks, dev)
    if backend == "openvino":
        outs = _lean_batch(model, inputs, masks, ensemble)
    else:
        outs = _torch_batch(model, inputs, masks, dev, ensemble, batch)
    return [
        np.rint(o.mean(axis=2, keepdims=True)).astype(np.uint8) if c.shape[2] != channels else o
        for o, c in zip(outs, canvases)
    ]


def _true_samples(model, inputs, masks, device: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Among the pixels given as kept, only those the model's colour-noise detector takes as true
    ones. The detector runs in torch whichever runtime runs the generator (`runtime_for` made
    sure torch is there; docs/DECISIONS.md, "The lean runtime")."""
    from sparsepix.models.inference import pick_device
    from sparsepix.models.noisedetector import true_pixels

    dev = pick_device(device)
    detector = _cached_detector(model, str(dev))
    masks = [m & true_pixels(detector, c, dev) for c, m in zip(inputs, masks)]
    return [c * m[..., None] for c, m in zip(inputs, masks)], masks


def _torch_batch(model, inputs, masks, device: str, ensemble: int, batch: int | None) -> list[np.ndarray]:
    from sparsepix.models.inference import generate, generate_batch, pick_device

    dev = pick_device(device)
    generator = _cached(model, str(dev))
    if batch is None:
        batch = GPU_BATCH if dev.type == "cuda" else 1
    if len(inputs) == 1 or batch == 1:
        return [generate(generator, c, m, dev, ensemble=ensemble) for c, m in zip(inputs, masks)]
    return generate_batch(generator, inputs, masks, dev, ensemble=ensemble, batch=batch)


def _lean_batch(model, inputs, masks, ensemble: int) -> list[np.ndarray]:
    from sparsepix.models import tiles

    run = functools.partial(_lean_generator(model).run, ensemble=ensemble)
    return [tiles.whole(run, c, m) for c, m in zip(inputs, masks)]


BACKENDS = ("auto", "torch", "openvino")


def _backend_choice() -> str:
    choice = os.environ.get("SPARSEPIX_BACKEND", "auto") or "auto"
    if choice not in BACKENDS:
        raise InputError(f"SPARSEPIX_BACKEND must be one of {', '.join(BACKENDS)}, not {choice!r}")
    return choice


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def cuda_here() -> bool:
    """Whether torch sees a CUDA device; torch is not imported (a second) where no NVIDIA driver
    is loaded."""
    if not _has("torch") or (sys.platform == "linux" and not Path("/proc/driver/nvidia").exists()):
        return False
    import torch

    return torch.cuda.is_available()


def lean_ready(model: ShippedModel) -> bool:
    """Whether the lean runtime can run this model: OpenVINO installed, the graph shipped, and
    torch there for a model with a noise detector."""
    from sparsepix.models import lean

    if not (lean.available() and lean.supports(model.config)):
        return False
    return lean.graph_path(model.path.parent, model.config).is_file() and (
        model.detector is None or _has("torch")
    )


def runtime_for(model: ShippedModel, device: str) -> tuple[str, str]:
    """(backend, device) that run this model: the lean runtime on CPUs where it can
    (SPARSEPIX_BACKEND=torch or openvino forces one), torch on GPUs and elsewhere."""
    from sparsepix.models import lean

    choice = _backend_choice()
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        raise InputError(f"unknown device {device!r} (auto, cpu, cuda)")
    on_cpu = device == "cpu" or (device == "auto" and not cuda_here())
    if choice != "torch" and on_cpu and lean_ready(model):
        return "openvino", "cpu"
    if choice == "openvino":
        raise ModelError(
            f"SPARSEPIX_BACKEND=openvino, but model {model.ref} cannot run there "
            + ("(openvino is not installed)" if not lean.available() else f"on device {device}")
        )
    if model.detector is not None:
        needs_torch(f"{model.name}'s noise detector")
    if not _has("torch"):
        raise ModelError(f"model {model.ref} needs openvino or torch here: pip install openvino")
    return "torch", device


@lru_cache(maxsize=4)
def _lean_generator(model: ShippedModel):
    from sparsepix.models import lean

    state = _numpy_payload(model)["state_dict"]
    try:
        network = lean.compile_graph(lean.graph_path(model.path.parent, model.config), state)
    except Exception as exc:  # a graph that does not match the weights, ...
        raise _unloadable(model, exc) from None
    return lean.LeanGenerator(model.config, network)


def needs_torch(what: str) -> None:
    """One clear error where torch is missing for `what` (decoding needs none: models/lean.py)."""
    if not _has("torch"):
        raise ModelError(f"{what} needs torch, which is not installed: {TORCH_INSTALL}")


def tune_values(
    model: ShippedModel, image: np.ndarray, mask: np.ndarray, steps: int, device: str = "cpu", **fixed
) -> np.ndarray:
    """Tonal optimisation of the sample values for this model (see models/tuning.py)."""
    needs_torch(f"tuning values through {model.name} (--optimize)")
    from sparsepix.models.tuning import optimize_through

    return optimize_through(_frozen_copy(model, device), image, mask, steps, **fixed)


def refine_values(model: ShippedModel, image: np.ndarray, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`values` refined by gradient steps through the model's network (effort 4, models/tuning.py);
    unchanged where the image's channels are not the network's (grey through a colour model)."""
    needs_torch(f"refining values through {model.name} (effort 4)")
    from sparsepix.models.tuning import refine_through

    if image.reshape(*mask.shape, -1).shape[-1] != model.config.image_channels:
        return values
    return refine_through(_frozen_copy(model, "cpu"), image, mask, values)


def _frozen_copy(model: ShippedModel, device: str):
    """A private copy of the generator (not the decoders' cached one) whose weights take no
    gradient: gradients flow to the sample values only."""
    from sparsepix.models.inference import pick_device

    generator = load_generator(model, pick_device(device))
    generator.requires_grad_(False)
    return generator


def tunes_by_least_squares(model: ShippedModel) -> bool:
    return model.config.coarse == "linear" and model.trained_on_tuned


def tuner(model: ShippedModel):
    """How encoders tune sample values for this model (`encode --optimize N`).

    A model trained on values tuned for its Delaunay fill (`train --optimize`) expects exactly
    the least-squares values `linear` gets: N LSQR iterations, as cheap as for `linear`. Any
    other model: N Adam steps on the values through the network itself (models/tuning.py), each
    a forward and backward pass over the whole image.
    """
    if tunes_by_least_squares(model):
        from sparsepix.codec.tonal import optimize_linear

        return lambda image, mask, steps, **fixed: optimize_linear(image, mask, iterations=steps, **fixed)
    return lambda image, mask, steps, **fixed: tune_values(model, image, mask, steps, **fixed)


@dataclass(frozen=True)
class Learned(Reconstructor):
    """A shipped model as a reconstructor: its network run on the images (after its noise
    detector, if it has one); tuned for by `tuner`."""

    model: ShippedModel | None = None
    learned: bool = True

    def run(self, canvases, masks, device, passes, batch):
        return reconstruct_batch_with(self.model, canvases, masks, device, passes, batch)

    @property
    def tunes_cheaply(self) -> bool:
        return tunes_by_least_squares(self.model)

    def tune(self, image, mask, effort, **fixed):
        return tuner(self.model)(image, mask, effort, **fixed)

    def refine(self, image, mask, values):
        return refine_values(self.model, image, mask, values)


def as_reconstructor(model: ShippedModel) -> Reconstructor:
    return Learned(
        name=model.name,
        description=model.description,
        version=model.version,
        ensemble=model.ensemble,
        task=model.task,
        macs_per_pixel=model.config.macs_per_pixel(),
        model=model,
    )


@lru_cache(maxsize=1)
def _installed() -> tuple[dict[str, Reconstructor], dict[str, str]]:
    """The installed cards, read once: models as reconstructors, and broken cards' errors."""
    models, broken_cards = read_cards()
    return {name: as_reconstructor(m) for name, m in models.items()}, broken_cards


def learned() -> dict[str, Reconstructor]:
    """The installed models as reconstructors, by name."""
    return _installed()[0]


def broken() -> dict[str, str]:
    """Installed cards that do not read, by file stem: why."""
    return _installed()[1]
