"""Progress of long single operations (a tiled network pass over a large image), for whoever
listens. Library calls stay silent; the CLI listens (cli.py, `_progress_line`) and draws a line
on stderr once one decode has run for a couple of seconds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[str, int, int], None]  # (what, done, total)
_listener: ContextVar[Listener | None] = ContextVar("sparsepix_progress", default=None)


def report(what: str, done: int, total: int) -> None:
    listener = _listener.get()
    if listener is not None:
        listener(what, done, total)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
