"""Turning what users hand us (arrays, PIL images, files) into the codec's uint8 arrays."""

from __future__ import annotations

import glob
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from sparsepix.errors import InputError

# What folder listings pick up: everything `load_image` reads that photo sets come as.
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}
)

# Pillow modes we convert without surprise; alpha is dropped (the codec has no alpha channel).
_GRAY_MODES = {"1", "L", "LA"}
_DEEP_MODES = {"I;16", "I;16B", "I;16L", "I", "F"}


def image_files(
    folder: str | os.PathLike, recursive: bool = False, suffixes: frozenset[str] = IMAGE_SUFFIXES
) -> list[Path]:
    """The files in `folder` (and below it, if `recursive`) whose suffix is one of `suffixes`,
    sorted by path: the one order that validation splits and `--last N` rely on. A missing folder
    is an `InputError`; an empty list is the caller's to judge."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{folder} is not a folder")
    found = root.rglob("*") if recursive else root.iterdir()
    return sorted(p for p in found if p.suffix.lower() in suffixes and p.is_file())


def as_image_array(image: object) -> np.ndarray:
    """A uint8 array (H, W) for grayscale or (H, W, 3) for colour, validated."""
    if isinstance(image, Image.Image):
        return pil_to_array(image)
    if not isinstance(image, np.ndarray):
        raise InputError(f"expected a numpy array or PIL image, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InputError(f"expected uint8 pixels, got {image.dtype} (scale to 0..255 first)")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise InputError(f"expected shape (H, W) or (H, W, 3), got {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InputError(f"image has no pixels: shape {image.shape}")
    return np.ascontiguousarray(image)


def pil_to_array(img: Image.Image) -> np.ndarray:
    if img.mode in _DEEP_MODES:
        raise InputError(f"{img.mode} images (16-bit or float) are not supported; save as 8-bit")
    if img.width < 1 or img.height < 1:
        raise InputError(f"image has no pixels: {img.width}x{img.height}")
    try:
        return as_image_array(np.asarray(img.convert("L" if img.mode in _GRAY_MODES else "RGB")))
    except ValueError as exc:  # modes Pillow cannot convert (e.g. "La")
        raise InputError(f"{img.mode} images cannot be read: {exc}") from None


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file into a uint8 array (grayscale stays (H, W))."""
    try:
        with Image.open(path) as img:
            img.load()
            return pil_to_array(img)
    except InputError as exc:  # a mode we refuse: say which file, as for unreadable ones
        raise InputError(f"{path}: {exc}") from None
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise InputError(f"{path}: cannot read image ({exc})") from None


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes so that `path` holds either the old content or all of the new, never a part.

    A destination that cannot be written (no such folder, no permission, a full disk) is an
    `InputError` naming it, and leaves nothing behind."""
    path = Path(path)
    _remove_stale_temps(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise


STALE_AFTER_S = 60  # a temp file lives for the milliseconds of one write; older ones were orphaned


def _remove_stale_temps(path: Path) -> None:
    """Temp files that a killed run left beside `path` (a concurrent writer's are younger)."""
    now = time.time()
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            if now - tmp.stat().st_mtime > STALE_AFTER_S:
                tmp.unlink()
        except OSError:
            pass  # gone already, or not ours to remove


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Save atomically; the format follows the extension (PNG when in doubt)."""
    import io

    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: unknown image extension {path.suffix!r} (use .png)")
    buf = io.BytesIO()
    try:
        Image.fromarray(image).save(buf, format=fmt)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{path}: cannot save as {fmt} ({exc})") from None
    atomic_write(path, buf.getvalue())
