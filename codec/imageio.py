"""Turning what users hand us (arrays, PIL images, files) into the codec's uint8 arrays."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from sparsepix.codec.files import read_bytes, write_bytes
from sparsepix.errors import InputError, SparsepixWarning

# What folder listings pick up: everything `load_image` reads that photo sets come as.
IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}
)

WHITE = (255, 255, 255)
_GRAY_MODES = {"1", "L", "LA", "La"}
_SIXTEEN_BIT = {"I;16", "I;16B", "I;16L", "I;16N"}


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


def as_image_array(image: object, background: tuple[int, int, int] = WHITE) -> np.ndarray:
    """A uint8 array (H, W) for grayscale or (H, W, 3) for colour, validated. PIL images, and
    arrays with an alpha channel, go through `pil_to_array` (orientation, transparency, depth)."""
    if isinstance(image, Image.Image):
        return pil_to_array(image, background)
    if not isinstance(image, np.ndarray):
        raise InputError(f"expected a numpy array or PIL image, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InputError(f"expected uint8 pixels, got {image.dtype} (scale to 0..255 first)")
    if image.ndim == 3 and image.shape[2] in (2, 4):  # with alpha: composited as a PIL image is
        return pil_to_array(Image.fromarray(image, "LA" if image.shape[2] == 2 else "RGBA"), background)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise InputError(f"expected shape (H, W) or (H, W, 3), got {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InputError(f"image has no pixels: shape {image.shape}")
    return np.ascontiguousarray(image)


def pil_to_array(img: Image.Image, background: tuple[int, int, int] = WHITE) -> np.ndarray:
    """The pixels a viewer shows: EXIF orientation applied, transparency composited over
    `background`, 16-bit samples cut to their high byte (as Pillow itself reads 16-bit RGB).
    Each change that loses something is a `SparsepixWarning`; what the codec cannot hold at all
    (32-bit or float samples) is an `InputError`."""
    if img.width < 1 or img.height < 1:
        raise InputError(f"image has no pixels: {img.width}x{img.height}")
    if img.mode in ("I", "F"):
        raise InputError(f"{img.mode} images (32-bit or float samples) are not supported; use 8 or 16 bits")
    if getattr(img, "n_frames", 1) > 1:
        _warn(f"{img.n_frames} frames; only the first is used")
    # Pillow reads 16-bit RGB as 8-bit RGB: only the undecoded tile still says so.
    deep = img.mode in _SIXTEEN_BIT or any(";16" in str(t[3]) for t in getattr(img, "tile", None) or ())
    try:
        img.load()
    except (OSError, Image.DecompressionBombError) as exc:
        raise InputError(f"cannot read image ({exc})") from None
    if deep:
        _warn("16-bit samples cut to 8 bits")
    try:
        img = ImageOps.exif_transpose(img)
        if img.mode in _SIXTEEN_BIT:
            img = Image.fromarray((np.asarray(img).astype(np.uint16) >> 8).astype(np.uint8))
        img = _flatten_alpha(img, background)
        return as_image_array(np.asarray(img.convert("L" if img.mode in _GRAY_MODES else "RGB")))
    except InputError:
        raise
    except (ValueError, OSError) as exc:  # modes Pillow cannot convert
        raise InputError(f"{img.mode} images cannot be read: {exc}") from None


def _flatten_alpha(img: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Composite a transparent image over `background`; an opaque alpha channel just goes."""
    if not (img.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in img.info):
        return img
    gray = img.mode in ("LA", "La") or (img.mode == "L" and "transparency" in img.info)
    rgba = img.convert("RGBA")
    if np.asarray(rgba)[..., 3].min() < 255:
        _warn("transparency composited over background #%02x%02x%02x" % tuple(background))
        rgba = Image.alpha_composite(Image.new("RGBA", rgba.size, (*background, 255)), rgba)
    return rgba.convert("L" if gray and len(set(background)) == 1 else "RGB")


def _warn(message: str) -> None:
    warnings.warn(message, SparsepixWarning, stacklevel=3)


def load_image(path: str | os.PathLike, background: tuple[int, int, int] = WHITE) -> np.ndarray:
    """Read an image file into a uint8 array (grayscale stays (H, W)); see `pil_to_array`."""
    return image_from_bytes(read_bytes(path), str(path), background)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Grayscale (H, W) repeated into three channels; (H, W, 3) as it is."""
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def image_from_bytes(
    data: bytes, name: str = "<stdin>", background: tuple[int, int, int] = WHITE
) -> np.ndarray:
    """Decode an image file's bytes (any format Pillow reads); errors name `name`."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return pil_to_array(img, background)
    except InputError as exc:  # a mode we refuse: say which file, as for unreadable ones
        raise InputError(f"{name}: {exc}") from None
    except UnidentifiedImageError:  # Pillow's message names its buffer, not the file
        raise InputError(f"{name}: not an image file (no format Pillow reads)") from None
    except (OSError, Image.DecompressionBombError) as exc:
        raise InputError(f"{name}: cannot read image ({exc})") from None


def image_bytes(image: np.ndarray, fmt: str, name: str = "<stdout>") -> bytes:
    """An image file's bytes in Pillow format `fmt` ("PNG", "JPEG", ...)."""
    buf = io.BytesIO()
    try:
        Image.fromarray(image).save(buf, format=fmt)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{name}: cannot save as {fmt} ({exc})") from None
    return buf.getvalue()


def format_for(path: str | os.PathLike) -> str:
    """Pillow's format name for a file name's extension."""
    suffix = Path(path).suffix.lower()
    fmt = Image.registered_extensions().get(suffix)
    if fmt is None:
        raise InputError(f"{path}: unknown image extension {suffix!r} (use .png)")
    return fmt


def save_image(path: str | os.PathLike, image: np.ndarray, source: str | os.PathLike | None = None) -> None:
    """Save as `files.write_bytes` writes (never over `source`); the format follows the extension."""
    write_bytes(path, image_bytes(image, format_for(path), str(path)), source)
