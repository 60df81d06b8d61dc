"""Tasks: the kinds of corruption a model is trained to undo, one vocabulary for all.

A model card's `task` is one of these names, `sparsepix train --task` draws crops of it,
`sparsepix restore --task` undoes the paper's three in a user's image, and the codec decodes
with models of the sample tasks only. Their geometry (where the white block and the colour
block lie) is here too, so training and restoration draw the same shapes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Task:
    name: str
    help: str
    samples: bool = False  # the kept pixels are codec samples: a model of it decodes .spx files
    hidden: bool = False  # which pixels are corrupted is not told: the model must find them
    told: bool = False  # the missing pixels are told as holes (a mask)
    point_loss: bool = False  # its kept pixels are true ones, so the point loss applies (paper)


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("sparse", "random or Sobel samples, 50/50", samples=True, point_loss=True),
        Task("sparse-random", "random samples", samples=True, point_loss=True),
        Task("sparse-sobel", "Sobel-weighted samples", samples=True, point_loss=True),
        Task("inpaint", "free-form strokes and boxes over 5-50 %", told=True, point_loss=True),
        Task("color-noise", "85-95 % of pixels replaced by random colours", hidden=True),
        Task("white-block", "a white centre block of half the side", told=True, point_loss=True),
        Task("color-block", "a patch of another image, 16 px to half the side, anywhere", hidden=True),
        Task("block-holes", "a square hole, 16 px to half the side, anywhere", told=True, point_loss=True),
    )
}
SAMPLE_TASKS = frozenset(n for n, t in TASKS.items() if t.samples)
HIDDEN = frozenset(n for n, t in TASKS.items() if t.hidden)
# What `restore --task` undoes in a user's image: the X-GANs paper's three corruptions.
RESTORE_TASKS = ("white-block", "color-noise", "color-block")
INPAINT = "inpaint"  # models that fill told holes of any shape (masks, and the white block)
BLOCK_HOLES = "block-holes"  # models that paint a colour block once it is found


def white_block_holes(h: int, w: int) -> np.ndarray:
    """The paper's white block: the centre half of each side (128x128 of 256x256)."""
    holes = np.zeros((h, w), bool)
    holes[h // 4 : h // 4 + h // 2, w // 4 : w // 4 + w // 2] = True
    return holes


def block_sides(h: int, w: int) -> tuple[int, int]:
    """The sides a colour block is drawn from: 16 px to half the short side (the paper's 16-128
    of 256)."""
    return 16, max(16, min(h, w) // 2)
