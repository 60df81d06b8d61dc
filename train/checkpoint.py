"""Checkpoints: everything needed to continue a run exactly, in one weights_only-loadable file."""

from __future__ import annotations

import os
import random
from pathlib import Path

import torch

from sparsepix.errors import InputError


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(_as_python_state(state["python"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _as_python_state(state):
    # torch.save turns the inner tuple into a list; random.setstate wants tuples.
    version, internal, gauss = state
    return version, tuple(internal), gauss


def save(path: Path, payload: dict) -> None:
    """Write atomically: a crash mid-save never destroys the previous checkpoint."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load(path: str | Path) -> dict:
    """A checkpoint or exported weights file, as a dict; anything else is a one-line InputError."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError(f"checkpoint {path} does not exist") from None
    except Exception as exc:  # a file that is not a torch save fails inside the unpickler, in any way
        raise InputError(f"cannot read checkpoint {path}: {type(exc).__name__}: {exc}") from None
    if not isinstance(state, dict):
        raise InputError(f"{path} is not a sparsepix checkpoint")
    return state


def load_run(path: str | Path) -> dict:
    """A training checkpoint (what --resume and export take), not exported weights."""
    state = load(path)
    if not {"config", "step", "gen_config", "G"} <= state.keys():
        raise InputError(f"{path} is not a training checkpoint (a run's latest.pt)")
    return state
