"""Reading inputs and writing outputs where they meet a user's files, as `cp` treats them.

- A regular file (or a new name) is replaced atomically: it holds the old content or all of
  the new, never a part, and keeps its permission bits.
- A symbolic link is written through: its target is replaced, the link stays.
- A device or FIFO (`/dev/null`, a named pipe) is written directly; no temp file replaces it.
- An output that is the input it was made from (the same file, through any link) is refused
  before anything is touched.

Every failure is an `InputError` that names the file, in one line.
"""

from __future__ import annotations

import glob
import os
import stat
import sys
import tempfile
import time
from pathlib import Path

from sparsepix.errors import InputError

Pathlike = str | os.PathLike


def check_path(path: object, what: str = "path") -> Path:
    """`path` as a Path, or an InputError for what is not a file name (None, a number, ...)."""
    if not isinstance(path, (str, os.PathLike)) or (isinstance(path, str) and not path):
        raise InputError(f"{what} must be a file name (str or os.PathLike), not {path!r}")
    return Path(path)


def read_bytes(path: Pathlike) -> bytes:
    """A file's bytes; a missing, unreadable or failing file is a one-line InputError."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder") from None
    except OSError as exc:  # permission, EIO, a device that refuses reads, ...
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def read_stdin() -> bytes:
    if sys.stdin is None:  # the process was started with fd 0 closed
        raise InputError("<stdin>: standard input is closed")
    try:
        return sys.stdin.buffer.read()
    except (OSError, ValueError) as exc:  # EBADF, EIO; ValueError: read from a closed file
        raise InputError(f"<stdin>: cannot read ({getattr(exc, 'strerror', None) or exc})") from None


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def is_same_file(source: Pathlike | int, output: Pathlike) -> bool:
    """Whether `output` already is `source` (a path, or an open descriptor such as stdin's 0):
    the same device and inode, whatever links lead there. Devices are never "the same file"
    (reading /dev/zero and writing /dev/zero touch no data of the user's)."""
    try:
        out = os.stat(output)
        src = os.fstat(source) if isinstance(source, int) else os.stat(source)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(out.st_mode) and _identity(out) == _identity(src)


def check_not_input(source: Pathlike | int | None, output: Pathlike) -> None:
    """An InputError if writing `output` would overwrite `source`, the input it is made from."""
    if source is not None and is_same_file(source, output):
        shown = "<stdin>" if isinstance(source, int) else str(source)
        raise InputError(f"{output}: is the input {shown}; give another output name")


def write_bytes(path: Pathlike, data: bytes, source: Pathlike | int | None = None) -> None:
    """Write `data` to `path` by the rules above; `source`, when given, must not be `path`."""
    path = Path(path)
    check_not_input(source, path)
    try:
        st = os.stat(path)  # follows links
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError(f"{path}: not writing through a dangling symbolic link") from None
        _atomic_replace(path, data, None)
        return
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a folder")
    if stat.S_ISREG(st.st_mode):
        _atomic_replace(Path(os.path.realpath(path)), data, stat.S_IMODE(st.st_mode))
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        _write_directly(path, data)
    else:
        raise InputError(f"{path}: is not a file, device or pipe (a socket?); not writing there")


def _write_directly(path: Path, data: bytes) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:  # /dev/full, a pipe whose reader left, ...
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None


def _atomic_replace(path: Path, data: bytes, mode: int | None) -> None:
    """Write beside `path`, then rename over it. `mode`: the replaced file's permission bits
    (kept, as `cp` keeps them); None for a new file (0666 less the umask)."""
    _remove_stale_temps(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, (0o666 & ~_umask()) if mode is None else mode)  # mkstemp makes 0600
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
