"""Where a generator's weights start: the pix2pix initialisation, or trained weights (`--init`),
optionally grown deeper or wider without changing what the network computes."""

from __future__ import annotations

from dataclasses import replace

import torch

from sparsepix.errors import InputError
from sparsepix.models.config import GeneratorConfig
from sparsepix.models.generator import Generator, ResidualBlock
from sparsepix.train import checkpoint


def init_weights(module: torch.nn.Module) -> None:
    """N(0, 0.02) convolutions, N(1, 0.02) norm scales: the pix2pix initialisation."""
    if getattr(module, "starts_at_zero", False):
        torch.nn.init.zeros_(module.weight)  # a residual head adds nothing yet
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

    Weights of a shallower or narrower generator that is otherwise `expected` are grown to its
    depth (`grow_blocks`) and width (`widen`); any other difference is an error.
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
        deeper = replace(saved, n_blocks=expected.n_blocks)
        if deeper != saved:
            weights = grow_blocks(weights, saved, deeper)
        return widen(weights, deeper, expected) if expected != deeper else weights
    raise InputError(f"{path} is a {config} generator; --preset builds {expected.to_dict()}")


def _grows_into(old: GeneratorConfig, new: GeneratorConfig) -> bool:
    """`new` is `old` with at least as many residual blocks, at least its width, and otherwise
    the same."""
    same_otherwise = replace(old, n_blocks=new.n_blocks, ngf=new.ngf) == new
    return same_otherwise and old.n_blocks <= new.n_blocks and old.ngf <= new.ngf


def grow_blocks(weights: dict, old: GeneratorConfig, new: GeneratorConfig) -> dict:
    """`old`'s weights as a state dict of the deeper `new` (more residual blocks, all else equal).

    The old blocks keep their weights; the added ones follow them, each starting as the identity
    (the scale and shift of its last norm layer at zero, so the block adds nothing to its input
    in training and in eval mode alike). The grown network computes exactly what the old one did,
    and training starts where the old one stopped, with the new blocks' capacity to spend.
    """
    if replace(old, n_blocks=new.n_blocks) != new or old.n_blocks > new.n_blocks:
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


def widen(weights: dict, old: GeneratorConfig, new: GeneratorConfig) -> dict:
    """`old`'s weights as a state dict of the wider `new` (a larger `ngf`, all else equal).

    Every layer keeps its old channels and gains new ones, freshly initialised. The weights from
    new channels into old ones start at zero, so the old channels, and the output, are computed
    exactly as before, in training and in eval mode alike; the new channels get gradients through
    those zero weights from the first step. (Net2Net instead splits old units in two, which needs
    noise to break the tie; zero extension keeps the function without it.)
    """
    if replace(old, ngf=new.ngf) != new or old.ngf > new.ngf:
        raise InputError(f"cannot widen a {old.to_dict()} generator into {new.to_dict()}")
    wide = Generator(new)
    wide.apply(init_weights)
    _check_fits(weights, old)
    narrow = Generator(old)
    state = wide.state_dict()
    for name, module in wide.named_modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            out_dim, in_dim = (1, 0) if isinstance(module, torch.nn.ConvTranspose2d) else (0, 1)
            old_weight = weights[f"{name}.weight"]
            if module is wide.head[1]:
                # It reads concatenated pieces, each widened at its own end.
                ins = _positions(narrow.head_inputs, wide.head_inputs)
            else:
                ins = torch.arange(old_weight.shape[in_dim])
            outs = torch.arange(old_weight.shape[out_dim])
            weight = state[f"{name}.weight"]
            weight.index_fill_(out_dim, outs, 0.0)  # old outputs read nothing new...
            block = weight.index_select(out_dim, outs)
            block.index_copy_(in_dim, ins, old_weight)  # ...and their old inputs
            weight.index_copy_(out_dim, outs, block)
            if module.bias is not None:
                state[f"{name}.bias"][outs] = weights[f"{name}.bias"]
        elif isinstance(module, (torch.nn.BatchNorm2d, torch.nn.InstanceNorm2d)):
            for key, value in module.state_dict().items():
                old_value = weights[f"{name}.{key}"]
                if value.ndim == 0:  # num_batches_tracked
                    state[f"{name}.{key}"] = old_value
                else:
                    state[f"{name}.{key}"][: len(old_value)] = old_value
    return state


def _check_fits(weights: dict, config: GeneratorConfig) -> None:
    """Refuse weights that are not exactly those of a `config` generator."""
    expected = Generator(config).state_dict()
    for key in expected.keys() | weights.keys():
        if key not in weights or key not in expected or weights[key].shape != expected[key].shape:
            raise InputError(f"weight {key} does not fit a {config.to_dict()} generator")


def _positions(old_sizes: list[int], new_sizes: list[int]) -> torch.Tensor:
    """Where the channels of concatenated pieces of `old_sizes` sit once each piece has grown to
    `new_sizes` (its old channels first)."""
    starts = [sum(new_sizes[:i]) for i in range(len(new_sizes))]
    return torch.cat([torch.arange(size) + start for size, start in zip(old_sizes, starts)])
