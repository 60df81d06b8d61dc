"""Every model this installation decodes with, and which one decodes a given file.

A model is whatever rebuilds an image from its samples: a classical reconstructor (`linear`,
...) or a shipped learned one (`natural`, ...). Learned models are read from their cards only
when a name needs them, so classical decodes never import torch.

Old files keep decoding: a file names the exact version it was written for (`natural@6`), and
a newer installation decodes it with the version it has, unless the caller asks for `strict`.
"""

from __future__ import annotations

from typing import Callable

from sparsepix.codec.reconstructors import CLASSICAL, DEFAULT_CLASSICAL, ModelRef, Reconstructor
from sparsepix.errors import ModelError

# The shipped models that encoders name by default (`model="auto"`): `natural` for plain sample
# values, `natural-opt` for values tuned by least squares (`optimize` > 0). An installation
# without them names none, and decoders then use `linear`.
DEFAULT_LEARNED = "natural"
DEFAULT_TUNED = "natural-opt"


def _learned() -> dict[str, Reconstructor]:
    from sparsepix.models.registry import learned

    return learned()


def _find(ref: ModelRef, missing: Callable[[], str]) -> Reconstructor:
    """The installed model of that name (any version), or a ModelError: why its card is broken
    if it is, else `missing()`."""
    rec = CLASSICAL.get(ref.name) or _learned().get(ref.name)
    if rec is None:
        from sparsepix.models.registry import broken

        raise ModelError(broken().get(ref.name) or missing())
    return rec


def available() -> dict[str, Reconstructor]:
    return {**CLASSICAL, **_learned()}


def get(text: str) -> Reconstructor:
    """The model a caller names: "linear", "natural", or "natural@8" (that version exactly)."""
    ref = ModelRef.parse(text)
    rec = _find(ref, lambda: f"unknown model {ref.name!r}; available: {', '.join(sorted(available()))}")
    if ref.version is not None and ref.version != rec.version:
        raise ModelError(f"model {ref} is not installed (this installation has {rec.ref})")
    return rec


def default_ref(tuned: bool = False) -> ModelRef | None:
    """What `encode(model="auto")` names: the default learned model, if installed."""
    rec = _learned().get(DEFAULT_TUNED if tuned else DEFAULT_LEARNED)
    return rec.ref if rec is not None else None


def for_file(file_model: str, asked: str = "auto", strict: bool = False) -> Reconstructor:
    """The model that decodes a file whose header names `file_model` ("" for none).

    asked: a model name overrides the file's; "auto" follows it. A file naming another version
    of an installed model decodes with the installed one; `strict` refuses that instead.
    """
    if asked != "auto":
        return as_decoder(get(asked))
    if not file_model:
        return CLASSICAL[DEFAULT_CLASSICAL]
    ref = ModelRef.parse(file_model)
    rec = _find(
        ref,
        lambda: (
            f"the file asks for model {file_model!r}, which this installation lacks; "
            "pass --model to choose another"
        ),
    )
    if strict and ref.version is not None and ref.version != rec.version:
        raise ModelError(
            f"the file asks for model {file_model!r} and this installation has {rec.ref} "
            "(strict decoding refuses other versions)"
        )
    return as_decoder(rec)


def as_decoder(rec: Reconstructor) -> Reconstructor:
    """`rec`, if it rebuilds images from samples (a restorer of holes or noise does not)."""
    if not rec.decodes_samples:
        raise ModelError(f"{rec.name} is a restoration model ({rec.task}), not a decoder of samples")
    return rec
