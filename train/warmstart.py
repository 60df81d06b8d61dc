"""Where a generator's weights start: the pix2pix initialisation, or trained weights (`--init`),
optionally grown deeper without changing what the network computes."""

from __future__ import annotations

from dataclasses import replace

import torch

from sparsepix.errors import InputError
from sparsepix.models.config import GeneratorConfig
from sparsepix.models.generator import Generator, ResidualBlock
from sparsepix.train import checkpoint


def init_weights(module: torch.nn.Module) -> None:
    """N(0, 0.02) convolutions, N(1, 0.02) norm scales: the pix2pix initialisation."""
    if getattr(module, "is_residual_head", False):
        torch.nn.init.zeros_(module.weight)  # a residual generator starts as its coarse input
        torch.nn.init.zeros_(module.bias)
    elif isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
        torch.nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            torch.nn.init.zeros_(module.bias)
    elif isinstance(module, (torch.nn.BatchNorm2d, torch.nn.InstanceNorm2d)) and module.weight is not None:
        torch.nn.init.normal_(module.weight, 1.0, 0.02)
        torch.nn.init.zeros_(module.bias)


def initial_generator(path: str, expected: GeneratorConfig) -> dict:
    """Generator weights to start from: an exported model (fp16) or a checkpoint (its EMA).

    Weights of a shallower generator that is otherwise `expected` are grown to its depth
    (`grow_blocks`); any other difference is an error.
    """
    state = checkpoint.load(path)
    if state.get("format") == "sparsepix-generator-1":
        config, weights = state["config"], state["state_dict"]
    elif "gen_config" in state:
        config, weights = state["gen_config"], state.get("G_ema") or state["G"]
    else:
        raise InputError(f"{path} holds neither exported weights nor a training checkpoint")
    weights = {k: v.float() if v.is_floating_point() else v for k, v in weights.items()}
    saved = GeneratorConfig.from_dict(config)
    if saved == expected:
        return weights
    if _grows_into(saved, expected):
        return grow_blocks(weights, saved, expected)
    raise InputError(f"{path} is a {config} generator; --preset builds {expected.to_dict()}")


def _grows_into(old: GeneratorConfig, new: GeneratorConfig) -> bool:
    """`new` is `old` with at least as many residual blocks, and otherwise the same."""
    return replace(old, n_blocks=new.n_blocks) == new and old.n_blocks <= new.n_blocks


def grow_blocks(weights: dict, old: GeneratorConfig, new: GeneratorConfig) -> dict:
    """`old`'s weights as a state dict of the deeper `new` (more residual blocks, all else equal).

    The old blocks keep their weights; the added ones follow them, each starting as the identity
    (the scale and shift of its last norm layer at zero, so the block adds nothing to its input
    in training and in eval mode alike). The grown network computes exactly what the old one did,
    and training starts where the old one stopped, with the new blocks' capacity to spend.
    """
    if not _grows_into(old, new):
        raise InputError(f"cannot grow a {old.to_dict()} generator into {new.to_dict()}")
    grown = Generator(new)
    grown.apply(init_weights)
    # The blocks' indices in `body`, read off the network rather than restating its layout.
    blocks = [i for i, layer in enumerate(grown.body) if isinstance(layer, ResidualBlock)]
    added = range(blocks[-1] + 1 - (new.n_blocks - old.n_blocks), blocks[-1] + 1)
    for index in added:
        last_norm = grown.body[index].body[-1]
        torch.nn.init.zeros_(last_norm.weight)
        torch.nn.init.zeros_(last_norm.bias)
    state = grown.state_dict()
    for key, value in weights.items():
        if key.startswith("body."):
            _, index, rest = key.split(".", 2)
            if int(index) >= added.start:  # the transposed-conv stages after the blocks move down
                key = f"body.{int(index) + len(added)}.{rest}"
        if key not in state or state[key].shape != value.shape:
            raise InputError(f"weight {key} does not fit a {new.to_dict()} generator")
        state[key] = value
    return state
