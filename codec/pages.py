"""Decoding without numpy's transparent-huge-page advice.

numpy advises the kernel to back every large array with huge pages. Where the kernel honours
that advice by compacting memory on the spot (THP "defrag" set to madvise, a common default),
the first touch of a fresh array can stall for hundreds of milliseconds of system time while
memory is compacted: in the fuzzing campaign's long-lived worker, small files claiming a few
megapixels decoded several times slower than alone (docs/FUZZING.md). Decoding gains
nothing measurable from huge pages, so `decode` switches the advice off while it runs and
restores the caller's setting afterwards (the first of overlapping decodes saves it, the last
restores it).
"""

from __future__ import annotations

import contextlib
import threading

try:  # numpy 2
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # pragma: no cover - numpy 1.x, or a build without it: nothing to switch
    try:
        from numpy.core.multiarray import _set_madvise_hugepage
    except ImportError:
        _set_madvise_hugepage = None

_lock = threading.Lock()
_active = 0
_saved = True


@contextlib.contextmanager
def no_hugepage_advice():
    global _active, _saved
    if _set_madvise_hugepage is None:
        yield
        return
    with _lock:
        if _active == 0:
            _saved = _set_madvise_hugepage(False)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                _set_madvise_hugepage(_saved)
