"""Exporting a network's graph, without its weights, for the lean runtime (models/lean.py).

The weights stay out: every parameter and buffer is a named graph input, which the lean runtime
replaces with the values of the shipped `.pt` file. So one small graph serves every model of an
architecture, and a model update ships weights only. Needs torch (and onnx, which torch's
exporter uses); run by `sparsepix export`, or `python -m sparsepix.models.graphs` for every
shipped model.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch

from sparsepix.codec.files import write_bytes
from sparsepix.models import lean
from sparsepix.models.config import GeneratorConfig
from sparsepix.models.generator import Generator

OPSET = 17
_AXES = {0: "n", 2: "h", 3: "w"}


def _onnx(module: torch.nn.Module, inputs: dict[str, torch.Tensor], output: str) -> bytes:
    module = module.eval()  # the exporter restores the mode it found: eval, as decoding runs
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about shapes taken as constants
        torch.onnx.export(
            module,
            tuple(inputs.values()),
            buf,
            dynamo=False,
            export_params=False,
            keep_initializers_as_inputs=True,
            do_constant_folding=False,
            input_names=list(inputs),
            output_names=[output],
            dynamic_axes={name: _AXES for name in [*inputs, output]},
            opset_version=OPSET,
        )
    return buf.getvalue()


def generator_graph(config: GeneratorConfig) -> bytes:
    """Inputs canvas, mask, coarse (N, C|1|C, H, W) with H, W multiples of the stride (the lean
    runtime pads); output the image in [-1, 1]."""
    if not lean.supports(config):
        raise ValueError("the lean runtime runs only networks that refine the Delaunay fill")
    g = Generator(config)
    s = 2 * config.stride  # traced at a size that needs no padding, so none is baked in
    c = config.image_channels
    inputs = {"canvas": torch.zeros(1, c, s, s), "mask": torch.ones(1, 1, s, s)}
    inputs["coarse"] = torch.zeros(1, c, s, s)
    return _onnx(g, inputs, "image")


def write_graph(folder: Path, config: GeneratorConfig) -> Path | None:
    """The graph of this generator written into `folder` where missing: its path, or None where
    the lean runtime does not run this network (its models decode with torch)."""
    if not lean.supports(config):
        return None
    path = lean.graph_path(folder, config)
    if not path.exists():
        write_bytes(path, generator_graph(config))
    return path


if __name__ == "__main__":
    from sparsepix.models.registry import shipped

    for model in shipped().values():
        print(f"{model.name}: {write_graph(model.path.parent, model.config)}")
