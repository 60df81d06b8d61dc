"""Typed errors. The CLI prints their message as one line and exits non-zero."""


class SparsepixError(Exception):
    """Base class of every error sparsepix raises on purpose."""


class BitstreamError(SparsepixError):
    """A .spx file is malformed, truncated, corrupted, too large or of an unknown version."""


class InputError(SparsepixError):
    """An argument or input image the codec cannot work with."""


class ModelError(SparsepixError):
    """A model or reconstructor is unknown, missing or failed its integrity check."""


class SparsepixWarning(UserWarning):
    """Something was dropped or changed on the way in (alpha, extra frames, 16-bit depth).
    The CLI prints it as one line; `warnings.simplefilter("error", SparsepixWarning)` refuses."""
