"""Typed errors. The CLI prints their message as one line and exits non-zero."""


class SparsepixError(Exception):
    """Base class of every error sparsepix raises on purpose."""


class BitstreamError(SparsepixError):
    """A .spx file is malformed, truncated, corrupted, too large or of an unknown version."""


class InputError(SparsepixError, ValueError):
    """An argument or input image the codec cannot work with (a ValueError too, as Python's
    convention for bad values asks)."""


class ModelError(SparsepixError):
    """A model or reconstructor is unknown, missing or failed its integrity check."""


# How to add torch where it is missing (the README's install section says more).
TORCH_INSTALL = "install torch, then pip install 'sparsepix[torch]'"


class SparsepixWarning(UserWarning):
    """Something was dropped or changed on the way in (alpha, extra frames, 16-bit depth).
    The CLI prints it as one line; `warnings.simplefilter("error", SparsepixWarning)` refuses."""


class ResourceError(SparsepixError):
    """The machine ran out of memory (host or GPU) for this image."""


def memory_errors_typed(what: str):
    """Decorator: out-of-memory inside the function (numpy's MemoryError, torch's CPU or CUDA
    out-of-memory) becomes a one-line ResourceError saying what ran out."""
    import functools

    def wrap(fn):
        @functools.wraps(fn)
        def guarded(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except MemoryError:
                raise ResourceError(f"out of memory while {what}") from None
            except RuntimeError as exc:  # torch: OutOfMemoryError, or "... out of memory ..."
                if type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc).lower():
                    raise ResourceError(
                        f"out of memory while {what} ({str(exc).splitlines()[0][:120]})"
                    ) from None
                raise

        return guarded

    return wrap
