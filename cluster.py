"""Batch work on a Dask cluster: `--scheduler ADDRESS` (or SPARSEPIX_SCHEDULER) on `bench` and
folder `encode` / `decode`.

The client reads every input and writes every output; workers get bytes and return bytes, so they
need no shared file system. Calls go out a window ahead of the one being waited for, so a folder
of a million files never sits in memory at once. Models load once per worker process (the
registry caches them). Workers that advertise a `GPU` resource (`dask worker --resources GPU=1`)
take the learned decodes; the rest go anywhere.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from sparsepix.errors import InputError, SparsepixError, SparsepixWarning

ENV = "SPARSEPIX_SCHEDULER"
GPU = "GPU"  # the Dask resource name a GPU worker advertises
# Calls in flight per worker thread: enough to keep workers busy while the client reads/writes.
AHEAD_PER_THREAD = 4


LOCAL = "local"  # --scheduler local: run here even where the environment names a scheduler


def address(option: str | None) -> str | None:
    """The scheduler to use: the option, else the environment variable, else None (run locally)."""
    where = option or os.environ.get(ENV) or None
    return None if where == LOCAL else where


def connect(where: str):
    """A `distributed.Client` on `where`; a one-line error if distributed is missing or the
    scheduler does not answer within Dask's connect timeout (`distributed.comm.timeouts.connect`,
    e.g. DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s)."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError(
            "--scheduler needs Dask's distributed package: pip install 'sparsepix[cluster]'"
        ) from None
    try:
        return Client(where, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"{where}: cannot reach a Dask scheduler ({str(exc).splitlines()[0]})") from None


def threads(client) -> int:
    return max(1, sum(client.nthreads().values()))


def has_gpus(client) -> bool:
    """Whether some worker advertises the GPU resource."""
    import inspect

    # Newer clients list only a few workers unless asked for all.
    every = {"n_workers": -1} if "n_workers" in inspect.signature(client.scheduler_info).parameters else {}
    workers = client.scheduler_info(**every)["workers"].values()
    return any(w.get("resources", {}).get(GPU, 0) > 0 for w in workers)


# A call: (function, its arguments, whether it wants a GPU worker).
Call = tuple[Callable[..., Any], tuple, bool]


def _recorded(fn: Callable[..., Any], *args: Any) -> tuple[Any, list[str]]:
    """`fn(*args)` on a worker, with the SparsepixWarnings it gave (the client says them)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SparsepixWarning)
        result = fn(*args)
    return result, [str(w.message) for w in caught if issubclass(w.category, SparsepixWarning)]


def _unwrapped(future) -> Any:
    """A finished call's result, its warnings given again here."""
    result, said = future.result()
    for message in said:
        warnings.warn(message, SparsepixWarning, stacklevel=2)
    return result


def _send(client, call: Call, gpus: bool):
    """Submit one call, to a GPU worker where it wants one and the cluster has them."""
    fn, args, wants_gpu = call
    resources = {GPU: 1} if wants_gpu and gpus else None
    return client.submit(_recorded, fn, *args, resources=resources, pure=False)


def _failure(future, exc: BaseException) -> BaseException:
    """What a failed call raises on the client: the function's own exception, as a local run
    would; a worker that died or a call the scheduler dropped as one line."""
    from distributed import KilledWorker

    if future.status == "error" and not isinstance(exc, KilledWorker):
        return exc
    first = (str(exc).splitlines() or [""])[0]
    return SparsepixError(f"lost on the cluster ({type(exc).__name__}: {first})")


class Ahead:
    """Results of `calls` in order, each submitted while earlier ones are still being waited
    for, at most `window` in flight. `prepare(i)` builds call i on the client (it reads the
    input); a SparsepixError it raises is re-raised when result i is asked for."""

    def __init__(self, client, count: int, prepare: Callable[[int], Call], window: int | None = None):
        self.client, self.count, self.prepare = client, count, prepare
        self.window = window or AHEAD_PER_THREAD * threads(client)
        self.gpus = has_gpus(client)
        self.pending: dict[int, Any] = {}
        self.next = 0

    def _submit(self, i: int) -> None:
        try:
            self.pending[i] = _send(self.client, self.prepare(i), self.gpus)
        except SparsepixError as exc:
            self.pending[i] = exc

    def result(self, i: int) -> Any:
        while self.next < min(self.count, i + self.window):
            self._submit(self.next)
            self.next += 1
        job = self.pending.pop(i)
        if isinstance(job, SparsepixError):
            raise job
        try:
            return _unwrapped(job)
        except Exception as exc:
            failure = _failure(job, exc)
            if failure is exc:
                raise
            raise failure from None


def unordered(
    client, count: int, prepare: Callable[[int], Call], window: int | None = None
) -> Iterator[tuple[int, Any]]:
    """(index, result or exception) for calls 0..count-1, as they finish, at most `window` in
    flight; `prepare` as for `Ahead`. A call that failed yields its exception, and the rest go on."""
    from distributed import as_completed

    window = window or AHEAD_PER_THREAD * threads(client)
    gpus = has_gpus(client)
    index: dict[Any, int] = {}
    queue = as_completed(loop=client.loop, with_results=False)
    following = iter(range(count))
    failed: list[tuple[int, SparsepixError]] = []

    def submit_next() -> None:
        for i in following:
            try:
                future = _send(client, prepare(i), gpus)
            except SparsepixError as exc:
                failed.append((i, exc))
                continue
            index[future] = i
            queue.add(future)
            return

    for _ in range(window):
        submit_next()
    while failed or not queue.is_empty():
        if failed:
            yield failed.pop()
            continue
        future = next(queue)
        i = index.pop(future)
        try:
            yield i, _unwrapped(future)
        except Exception as exc:
            yield i, _failure(future, exc)
        submit_next()
