"""How many symmetries of an image a learned decoder averages its network over.

Kept apart from the reconstructor registry so the CLI can offer the choice without importing
scipy or torch. The symmetries themselves are in models/inference.py (`SYMMETRIES`).
"""

from __future__ import annotations

from sparsepix.errors import InputError

# 1: the image as it is; 2: and mirrored left-right; 4: and upside down; 8: and transposed.
ENSEMBLES = (1, 2, 4, 8)
# On Kodak at 5 % the 8 lift `natural` by 0.09-0.14 dB for 3.4x its CPU decode time, inside the
# 3 s budget at 768x512 (docs/DECISIONS.md, "Self-ensemble at decode time").
DEFAULT_ENSEMBLE = 8


def check_ensemble(ensemble: int) -> int:
    if ensemble not in ENSEMBLES:
        raise InputError(f"ensemble must be one of {', '.join(map(str, ENSEMBLES))}, not {ensemble}")
    return ensemble
