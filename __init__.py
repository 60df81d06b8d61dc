"""sparsepix: a sparse-sample image codec.

The encoder keeps a small share of an image's pixels and packs positions and colours into a
zstd bitstream; the decoder rebuilds the image with a classical or learned reconstructor.

    >>> import sparsepix
    >>> data = sparsepix.encode(image, density=0.05)
    >>> restored = sparsepix.decode(data)

Importing it also teaches Pillow to open and save .spx files (sparsepix/pil_plugin.py).
"""

from sparsepix import pil_plugin as _pil_plugin  # noqa: F401  (opens and saves .spx in Pillow)
from sparsepix.errors import (
    BitstreamError,
    InputError,
    ModelError,
    ResourceError,
    SparsepixError,
    SparsepixWarning,
)

__version__ = "0.1.0"

__all__ = [
    "BitstreamError",
    "InputError",
    "ModelError",
    "ResourceError",
    "SparsepixError",
    "SparsepixWarning",
    "decode",
    "decode_file",
    "decode_many",
    "encode",
    "encode_file",
    "encode_to_size",
    "inspect",
    "restore",
]


def __getattr__(name: str):
    # The API pulls in numpy/scipy/OpenCV; keep `import sparsepix.bitstream` light.
    if name in {"encode", "decode", "decode_many", "inspect", "encode_file", "decode_file"}:
        from sparsepix import api

        return getattr(api, name)
    if name == "restore":
        from sparsepix.restoration import restore

        return restore
    if name == "encode_to_size":
        from sparsepix.ratecontrol import encode_to_size

        return encode_to_size
    raise AttributeError(f"module 'sparsepix' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
