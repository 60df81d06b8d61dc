"""Reading a shipped weights file (`torch.save`'s zip format) with numpy alone, no torch.

A torch checkpoint is a zip: `<root>/data.pkl` pickles the dicts, and each tensor's storage is a
raw little-endian record `<root>/data/<key>`. The unpickler here builds only what our exports hold
(dicts, numbers, strings, fp16/fp32/int64 tensors) and refuses every other class, as
`torch.load(weights_only=True)` does; callers check the file's SHA-256 first.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict

import numpy as np

# torch storage classes -> numpy dtypes (little-endian, as `torch.save` writes on every host).
_DTYPES = {
    "HalfStorage": "<f2",
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "BoolStorage": "?",
}


class _Storage:
    def __init__(self, dtype: str):
        self.dtype = np.dtype(dtype)


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple, stride: tuple, *_ignored) -> np.ndarray:
    """torch._utils._rebuild_tensor_v2: a view of `storage` with this size and stride (in
    elements), copied so that every array owns C-contiguous memory."""
    if not size:
        return storage[offset : offset + 1].reshape(()).copy()
    end = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if min(size) == 0:
        return np.zeros(size, storage.dtype)
    if end > storage.size or offset < 0 or min(stride) < 0:
        raise pickle.UnpicklingError("a tensor reaches past its storage")
    byte_strides = tuple(s * storage.itemsize for s in stride)
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size, strides=byte_strides)
    return np.ascontiguousarray(view)


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, records: dict[str, bytes]):
        super().__init__(io.BytesIO(data))
        self.records = records

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _Storage(_DTYPES[name])
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a weights file")

    def persistent_load(self, pid):
        # ('storage', storage class, key, location, number of elements)
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError("unknown persistent id")
        _, kind, key, _location, numel = pid
        if not isinstance(kind, _Storage) or str(key) not in self.records:
            raise pickle.UnpicklingError(f"storage {key!r} is missing")
        raw = self.records[str(key)]
        if len(raw) < int(numel) * kind.dtype.itemsize:
            raise pickle.UnpicklingError(f"storage {key!r} is truncated")
        return np.frombuffer(raw, kind.dtype, count=int(numel))


def read_weights(blob: bytes) -> dict:
    """The payload `torch.save` wrote into `blob`, with tensors as numpy arrays. Raises
    ValueError for anything that is not such a file."""
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            names = archive.namelist()
            pickles = [n for n in names if n.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise ValueError("not a torch zip checkpoint")
            root = pickles[0][: -len("data.pkl")]
            records = {
                n[len(root) + len("data/") :]: archive.read(n) for n in names if n.startswith(root + "data/")
            }
            return _Unpickler(archive.read(pickles[0]), records).load()
    except (zipfile.BadZipFile, pickle.UnpicklingError, EOFError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable weights file: {exc}") from None
