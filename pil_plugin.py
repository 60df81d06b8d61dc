"""Pillow support for .spx files, registered on `import sparsepix`.

    Image.open("photo.spx")                       # header read and checked; .info filled
    image.load()                                  # rebuilt with the model the file names
    image.save("photo.spx", density=0.03)         # or quality=, optimize=, bpp=, size=, ...

Opening validates the whole file but reconstructs nothing; the pixels come on `load()`, as for
every Pillow format. Saving takes `sparsepix.encode`'s options, or `bpp` / `size` for rate
control, and refuses any other.
"""

from __future__ import annotations

from typing import IO

from PIL import Image, ImageFile

from sparsepix.bitstream import MAGIC
from sparsepix.errors import BitstreamError, InputError, SparsepixError

FORMAT = "SPX"
EXTENSION = ".spx"
MIME = "image/x-sparsepix"
ENCODE_OPTIONS = frozenset(
    {"density", "sampler", "seed", "values", "quality", "chroma_skip", "model", "optimize", "effort"}
)
RATE_OPTIONS = frozenset({"bpp", "size"})


def _accept(prefix: bytes) -> bool:
    return prefix[: len(MAGIC)] == MAGIC


class SpxImageFile(ImageFile.ImageFile):
    format = FORMAT
    format_description = "sparsepix sparse-sample image"

    def _open(self) -> None:
        from sparsepix.api import check_decodable, inspect

        assert self.fp is not None
        data = self.fp.read()
        try:
            info = inspect(data)
        except SparsepixError as exc:  # Pillow's way of saying "not a valid file of mine"
            raise SyntaxError(str(exc)) from None
        try:
            check_decodable(data)  # the work its model would cost: refused now, as Pillow's bombs
        except BitstreamError as exc:
            raise Image.DecompressionBombError(str(exc)) from None
        except SparsepixError:
            pass  # a model this installation lacks: load() says so, as an OSError
        self._size = (info.width, info.height)
        self._mode = "L" if info.channels == 1 else "RGB"
        self.info.update(
            density=info.density,
            sampler=info.sampler,
            values=info.value_mode,
            model=info.model,
            samples=info.samples,
            bpp=info.bpp,
        )
        self.tile = [ImageFile._Tile("spx", (0, 0, *self.size), 0, None)]


class SpxDecoder(ImageFile.PyDecoder):
    """Reads the whole file and reconstructs it (`sparsepix.decode`, the file's model)."""

    _pulls_fd = True

    def decode(self, buffer: bytes | Image.SupportsArrayInterface) -> tuple[int, int]:
        from sparsepix.api import decode

        assert self.fd is not None
        try:
            self.set_as_raw(decode(self.fd.read()).tobytes())
        except SparsepixError as exc:  # Pillow callers catch OSError from load()
            raise SpxLoadError(str(exc)) from None
        return -1, 0


class SpxLoadError(SparsepixError, OSError):
    """What `load()` raises when a file does not decode: an OSError, as every Pillow decoder's
    failure is, and a SparsepixError."""


def _save(im: Image.Image, fp: IO[bytes], filename: str | bytes) -> None:
    from sparsepix.api import encode
    from sparsepix.codec.imageio import pil_to_array
    from sparsepix.ratecontrol import encode_to_size, target_bytes

    # Every refusal is an InputError: a ValueError, as Pillow's plugins raise for bad options.
    options = dict(im.encoderinfo)
    unknown = set(options) - ENCODE_OPTIONS - RATE_OPTIONS
    if unknown:
        raise InputError(f"unknown .spx save options: {', '.join(sorted(unknown))}")
    bpp, size = options.pop("bpp", None), options.pop("size", None)
    image = pil_to_array(im)
    if bpp is None and size is None:
        data = encode(image, **options)
    elif {"density", "quality"} & set(options) or (bpp is not None and size is not None):
        raise InputError("bpp or size chooses density and quality; give one of them alone")
    else:
        target = target_bytes(image.shape[0] * image.shape[1], bpp, size)
        data = encode_to_size(image, target, **options).data
    fp.write(data)


def register() -> None:
    Image.register_open(FORMAT, SpxImageFile, _accept)
    Image.register_save(FORMAT, _save)
    Image.register_extension(FORMAT, EXTENSION)
    Image.register_mime(FORMAT, MIME)
    Image.register_decoder("spx", SpxDecoder)


register()
