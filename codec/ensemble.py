"""How many symmetries of an image a learned decoder averages its network over.

Kept apart from the reconstructor registry so the CLI can offer the choice without importing
scipy or torch. The symmetries themselves are in models/inference.py (`SYMMETRIES`).
"""

from __future__ import annotations

from sparsepix.errors import InputError

# 1: the image as it is; 2: and mirrored left-right; 4: and upside down; 8: and transposed.
# Each model decodes with its own count by default (its card's `ensemble`, measured per model:
# the aligned faces never saw themselves upside down, and a larger network affords fewer passes
# in the CPU budget), so callers pass None for "the model's own" (docs/DECISIONS.md,
# "Self-ensemble"). The counts live in the cards alone, not restated here.
ENSEMBLES = (1, 2, 4, 8)
# A default count is halved while one image's network work would pass this many multiply-adds
# (two passes of `natural` over a 768x512 photo fit), so a camera photo decodes in seconds, not
# minutes; an explicit count is always run (docs/DECISIONS.md, "Self-ensemble").
DEFAULT_PASS_WORK = 250_000_000_000
CHOICES = ("auto",) + tuple(str(n) for n in ENSEMBLES)  # command-line spelling; auto = None
# One help text for every tool that offers the choice (decode, bench, recon_table).
HELP = (
    "Learned models: average the network over this many flips and transposes of the "
    "image, each one more pass (auto: each model's own count, from its card in docs/models, "
    "fewer on large images; 1 is fastest)."
)


def check_ensemble(ensemble: int) -> int:
    if isinstance(ensemble, bool) or not isinstance(ensemble, int) or ensemble not in ENSEMBLES:
        raise InputError(f"ensemble must be one of {', '.join(map(str, ENSEMBLES))}, not {ensemble}")
    return ensemble


def default_passes(own: int, pixels: int, macs_per_pixel: int) -> int:
    """A model's own count for an image of `pixels`, halved to fit DEFAULT_PASS_WORK (at least 1)."""
    passes = check_ensemble(own)
    while passes > 1 and pixels * macs_per_pixel * passes > DEFAULT_PASS_WORK:
        passes //= 2
    return passes


def from_choice(text: str) -> int | None:
    """A command-line value ("auto", "1", "2", "4", "8") as `decode(ensemble=...)` takes it."""
    return None if text == "auto" else check_ensemble(int(text))
