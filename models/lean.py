"""The lean runtime: the shipped networks run by OpenVINO, with no torch installed.

Each network's graph is an ONNX file without weights, exported once from the torch module
(models/graphs.py) and shipped beside the cards, one per architecture; the weights come from
the same fp16 `.pt` files torch loads, read with numpy (models/weightsfile.py) and set into
the graph as constants. OpenVINO picks its precision per CPU (bf16 where native, as torch's
autocast does). Chosen by measurement: docs/DECISIONS.md, "The lean runtime".
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sparsepix.codec.classical import linear_float
from sparsepix.models import tiles
from sparsepix.models.config import GeneratorConfig


def available() -> bool:
    return importlib.util.find_spec("openvino") is not None


def graph_path(folder: Path, config: GeneratorConfig) -> Path:
    """Where the graph of this architecture lives: one file per distinct config, so models that
    share a network share the file."""
    key = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
    return folder / f"generator-{key}.onnx"


def supports(config: GeneratorConfig) -> bool:
    """Networks refining the Delaunay fill (every shipped one); the push-pull ones run in torch."""
    return config.coarse == "linear" and (config.passthrough or config.residual or config.coarse_input)


@lru_cache(maxsize=1)
def _core() -> Any:
    import openvino

    return openvino.Core()


def cache_dir() -> Path | None:
    """Where OpenVINO keeps compiled networks between processes, so that a one-file decode skips
    most of compiling ($XDG_CACHE_HOME/sparsepix/openvino); None where it cannot write."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = root / "sparsepix" / "openvino"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def compile_graph(graph: Path, weights: dict[str, np.ndarray], config: dict | None = None) -> Any:
    """The graph with `weights` (by state-dict name) set as constants, compiled for this CPU
    (`config`: OpenVINO properties; None: its defaults, with the compiled-network cache). Raises
    ValueError when the graph and the weights do not match."""
    from openvino import Tensor, opset13

    core = _core()
    model = core.read_model(model=graph.read_bytes(), weights=Tensor(np.zeros(0, np.uint8)))
    missing = []
    for parameter in list(model.get_parameters()):
        name = parameter.get_friendly_name()
        if name in weights:
            value = weights[name].astype(np.float32)
            if tuple(parameter.get_partial_shape().to_shape()) != value.shape:
                raise ValueError(f"{name} is {value.shape} in the weights, not as the graph says")
            parameter.output(0).replace(opset13.constant(value).output(0))
            model.remove_parameter(parameter)
        elif parameter.get_partial_shape().is_static:
            missing.append(name)
    if missing:
        raise ValueError(f"the weights lack {', '.join(missing[:3])}")
    if config is None:
        cache = cache_dir()  # keyed by OpenVINO on the graph, the weights and the CPU
        config = {"CACHE_DIR": str(cache)} if cache is not None else {}
    return core.compile_model(model, "CPU", config)


class LeanGenerator:
    """A compiled generator and what its forward pass does around the network, in numpy."""

    def __init__(self, config: GeneratorConfig, network: Any):
        self.config, self.network = config, network
        # A compiled model runs one request at a time (it reuses one), and each uses every core:
        # threads that share this generator (a Dask worker's) take turns.
        self._turn = threading.Lock()

    def run(self, canvas: np.ndarray, mask: np.ndarray, ensemble: int = 1) -> np.ndarray:
        """(N, H, W, C) uint8 canvases + (N, H, W) masks -> (N, H, W, C) float in [0, 255],
        as models/inference.py's `_run`."""
        m = mask.astype(np.float32)[:, None]
        x = (canvas.transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1) * m
        # The classical fill is computed once and carried through each symmetry with the canvas.
        fills = [linear_float(v.transpose(1, 2, 0), k[0] > 0.5) for v, k in zip(x, m)]
        coarse = np.stack(fills).transpose(0, 3, 1, 2)
        total = np.zeros_like(x)
        for symmetry in tiles.SYMMETRIES[:ensemble]:
            views = [np.ascontiguousarray(tiles.apply_symmetry(a, symmetry)) for a in (x, m, coarse)]
            h, w = views[0].shape[-2:]
            ph, pw = self.config.padding(h), self.config.padding(w)  # as the torch generator
            if ph or pw:
                mode = "reflect" if ph < h and pw < w else "edge"  # torch's reflect and replicate
                views = [np.pad(a, ((0, 0), (0, 0), (0, ph), (0, pw)), mode=mode) for a in views]
            with self._turn:
                y = self.network(views)[0][..., :h, :w]
            total += tiles.undo_symmetry(np.clip(y, -1, 1), symmetry)
        return ((total / ensemble + 1) * 127.5).transpose(0, 2, 3, 1)
