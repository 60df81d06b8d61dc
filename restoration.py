"""Restoration: fill the holes of a user's mask, or undo the X-GANs paper's corruptions.

    sparsepix.restore(image, mask=holes)           # holes: True (or white) = missing
    sparsepix.restore(image, task="white-block")   # the paper's tasks, the image already corrupted

The model is a learned one trained for the job (its card's `task`: `inpaint` for masks,
`white-block` (else `inpaint`) for the white block, `color-noise`, `color-block`, whose found
patch a `block-holes` model paints), else, where the missing pixels are known (a mask, the
white block), a classical inpainter: `telea`, `ns` or `linear`. Colour noise and colour blocks
hide which pixels are wrong, so only a model trained for them can find them.
"""

from __future__ import annotations

import warnings

import numpy as np

from sparsepix import catalog
from sparsepix.codec import reconstructors
from sparsepix.codec.imageio import as_image_array, load_image
from sparsepix.errors import InputError, ModelError, SparsepixWarning, memory_errors_typed
from sparsepix.tasks import BLOCK_HOLES, HIDDEN, INPAINT, RESTORE_TASKS, white_block_holes

DEFAULT_CLASSICAL = "telea"
# The colour block a blind restorer found: where its answer, box-blurred over 5 px, moved more
# than PATCH_TOLERANCE levels, in one piece of at least PATCH_MIN_AREA pixels.
PATCH_TOLERANCE, PATCH_MIN_AREA = 8, 64
# Before a hole filler paints it, the found patch is squared up (the paper's blocks are squares):
# each side of its box moves to the strongest colour step between neighbouring rows or columns
# within EDGE_REACH pixels, the image's border counting as a step of BORDER_STEP (summed levels).
EDGE_REACH, BORDER_STEP = 4, 60.0


def trained_for(task: str) -> reconstructors.Reconstructor | None:
    """The installed learned model trained for `task` (the first if several), if any."""
    return next((rec for rec in catalog.available().values() if rec.learned and rec.task == task), None)


def found_patch(corrupted: np.ndarray, restored: np.ndarray) -> np.ndarray | None:
    """The colour block a blind restorer found: the largest region its answer changed (holes
    filled), or None when no region qualifies. (H, W, C) uint8 both."""
    import cv2
    from scipy import ndimage

    change = np.abs(corrupted.astype(np.int16) - restored.astype(np.int16)).max(axis=2)
    moved = cv2.blur(change.astype(np.float32), (5, 5)) > PATCH_TOLERANCE
    labels, count = ndimage.label(moved)
    if count == 0:
        return None
    areas = ndimage.sum_labels(moved, labels, range(1, count + 1))
    if areas.max() < PATCH_MIN_AREA:
        return None
    return ndimage.binary_fill_holes(labels == 1 + int(np.argmax(areas)))


def squared_patch(corrupted: np.ndarray, patch: np.ndarray) -> np.ndarray:
    """The square block behind a found `patch` (bool (H, W)): the box of the patch with each
    side moved to the sharpest edge near it; a box that one border cuts is made as long as it
    is wide. The patch itself where that leaves no box."""
    image = corrupted.astype(np.float32)
    h, w = patch.shape
    rows, cols = np.nonzero(patch)

    def edge(at: int, axis: int, lo: int, hi: int, n: int) -> int:
        """The boundary (index of the first row or column past it) nearest `at` with the
        strongest mean step over the span lo..hi of the other axis."""
        lines = image if axis == 0 else image.transpose(1, 0, 2)
        steps = {}
        for k in range(max(1, at - EDGE_REACH), min(n - 1, at + EDGE_REACH) + 1):
            steps[k] = float(np.abs(lines[k, lo:hi] - lines[k - 1, lo:hi]).sum(-1).mean())
        steps.update({border: BORDER_STEP for border in (0, n) if abs(at - border) <= EDGE_REACH})
        return max(steps, key=steps.__getitem__)

    y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    top, bottom = edge(y0, 0, x0, x1, h), edge(y1, 0, x0, x1, h)
    left, right = edge(x0, 1, y0, y1, w), edge(x1, 1, y0, y1, w)
    tall, wide = bottom - top, right - left
    cut_y, cut_x = top == 0 or bottom == h, left == 0 or right == w
    if tall != wide and cut_y and not cut_x and wide <= h:
        top, bottom = (bottom - wide, bottom) if top == 0 and bottom != h else (top, top + wide)
    elif tall != wide and cut_x and not cut_y and tall <= w:
        left, right = (right - tall, right) if left == 0 and right != w else (left, left + tall)
    if bottom <= top or right <= left:
        return patch.copy()
    square = np.zeros_like(patch)
    square[top:bottom, left:right] = True
    return square


def block_restored(corrupted: np.ndarray, restored: np.ndarray, device: str = "cpu") -> np.ndarray:
    """A colour block undone from a blind restorer's answer: the patch it found, squared up,
    painted by an installed hole filler (a model trained for BLOCK_HOLES) from everything
    around it; without a filler, its answer inside the patch. The input elsewhere either way:
    a blind restorer also drifts a little where nothing was wrong."""
    patch = found_patch(corrupted, restored)
    if patch is None:
        return restored
    filler = trained_for(BLOCK_HOLES)
    holes = squared_patch(corrupted, patch)
    if filler is None or holes.all():
        return np.where(patch[..., None], restored, corrupted)
    return reconstructors.reconstruct(filler, corrupted * ~holes[..., None], ~holes, device)


def mask_image(path: str) -> np.ndarray:
    """A mask file's pixels, read as `as_holes` reads a PIL image: one way for the API and CLI."""
    return _gray(load_image(path))


def _gray(mask: np.ndarray) -> np.ndarray:
    """Luma of a colour mask (a white one stays 255); grey as it is."""
    if mask.ndim == 3 and mask.shape[2] >= 3 and mask.dtype == np.uint8:
        import cv2

        return cv2.cvtColor(np.ascontiguousarray(mask[..., :3]), cv2.COLOR_RGB2GRAY)
    return mask[..., 0] if mask.ndim == 3 and mask.shape[2] == 1 else mask


def as_holes(mask: object, shape: tuple[int, int]) -> np.ndarray:
    """A bool (H, W) map of missing pixels from a bool array, a uint8 array or a PIL image
    (white, luma >= 128, is missing). PIL images are read as every input image is
    (codec/imageio.py: 16-bit samples by their high byte, transparency over white)."""
    from PIL import Image

    if isinstance(mask, Image.Image):
        mask = as_image_array(mask)
    if not isinstance(mask, np.ndarray):
        raise InputError(f"mask must be a numpy array or PIL image, not {type(mask).__name__}")
    mask = _gray(mask)
    if mask.shape != shape:
        raise InputError(f"mask of shape {mask.shape} does not match the image's {shape}")
    if mask.dtype == bool:
        return mask.copy()
    if mask.dtype != np.uint8:
        raise InputError(f"mask must be bool or uint8, not {mask.dtype}")
    return mask >= 128


def model_for(job: str, model: str = "auto") -> reconstructors.Reconstructor:
    """What restores `job` ("inpaint" or one of RESTORE_TASKS): `model` if named and fit for it, else
    the installed model trained for it (for the white block, else a hole filler), else (known
    holes only) the classical default."""
    if model != "auto":
        rec = catalog.get(model)
        if job in HIDDEN and rec.task != job:
            raise ModelError(f"{rec.name} was not trained for {job}; only such a model can find its pixels")
        return rec
    for wanted in (job,) if job in HIDDEN else dict.fromkeys((job, INPAINT)):
        rec = trained_for(wanted)
        if rec is not None:
            return rec
    if job in HIDDEN:
        raise ModelError(
            f"no installed model restores {job} (a model trained with `sparsepix train --task {job}`); "
            "classical inpainters need to know which pixels are missing"
        )
    return catalog.get(DEFAULT_CLASSICAL)


# A centre counts as the paper's white block when this share of it is near white (>= 240).
WHITE_SHARE = 0.9


def _warn_unless_white(canvas: np.ndarray, holes: np.ndarray) -> None:
    """Say so when the image has no white block where the task puts one: its centre is then
    replaced all the same, which the caller should know."""
    share = float((canvas[holes] >= 240).all(axis=-1).mean()) if holes.any() else 1.0
    if share < WHITE_SHARE:
        warnings.warn(
            f"no white block at the centre ({100 * share:.0f} % of it is white); its centre is "
            "restored all the same",
            SparsepixWarning,
            stacklevel=4,  # the caller of `restore`, past its memory-error wrapper
        )


@memory_errors_typed("restoring")
def restore(
    image: object,
    mask: object = None,
    task: str | None = None,
    model: str = "auto",
    device: str = "auto",
    ensemble: int | None = None,
) -> np.ndarray:
    """The image with its missing or corrupted pixels rebuilt, uint8, same shape.

    mask: missing pixels (bool True, or white in a uint8 array or PIL image), any shape of hole.
    task: one of RESTORE_TASKS instead of a mask, for an image already corrupted as the paper does.
    model: "auto", a learned model, or a classical inpainter (`telea`, `ns`, `linear`, ...).
    """
    if (mask is None) == (task is None):
        raise InputError("give a mask or a task, not both or neither")
    if task is not None and task not in RESTORE_TASKS:
        raise InputError(f"unknown task {task!r}; choose one of {', '.join(RESTORE_TASKS)}")
    if not isinstance(model, str) or not isinstance(device, str):
        raise InputError("model and device must be strings")
    img = as_image_array(image)
    canvas = img[..., None] if img.ndim == 2 else img
    shape = canvas.shape[:2]
    if task in HIDDEN:
        holes = np.zeros(shape, bool)  # unknown: the model is told every pixel may be kept
    else:
        holes = white_block_holes(*shape) if task == "white-block" else as_holes(mask, shape)
        if task == "white-block":
            _warn_unless_white(canvas, holes)
        if holes.all():
            raise InputError("the mask hides every pixel: nothing to restore from")
        if not holes.any():
            return img.copy()
    rec = model_for(task or INPAINT, model)
    known = ~holes
    canvas = canvas * known[..., None]
    out = reconstructors.reconstruct(rec, canvas, known, device, ensemble, paste=task not in HIDDEN)
    if task == "color-block":
        out = block_restored(canvas, out, device)
    return out[..., 0] if img.ndim == 2 else out
