"""The sweep: every image x curve x setting, in local worker processes or on a Dask cluster,
cached per image.

Each measurement is one small JSON file under CACHE/CURVE/, written atomically, so an
interrupted run continues where it stopped and a finished one is re-aggregated for free. A
measurement that fails is reported by image and curve, and the rest go on.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from sparsepix.benchmarks.codecs import CurveSpec, make_codec
from sparsepix.codec.files import read_bytes, write_bytes
from sparsepix.codec.imageio import as_rgb, image_from_bytes
from sparsepix.metrics import haarpsi, ms_ssim, psnr

# Bumped whenever a cached measurement would come out differently (a metric fixed, a codec's
# output changed); cached results of another version are measured again.
# 2: HaarPSI with MATLAB's convolution alignment, as the reference implementation; MS-SSIM in
#    float32.
# 3: the detail measures, gradient W1 and gradient ratio (since dropped: docs/EXPERIMENTS.md).
MEASUREMENT_VERSION = 3


@dataclass(frozen=True)
class Task:
    spec: CurveSpec
    image: str
    setting: float

    def cache_path(self, cache: Path) -> Path:
        return cache / self.spec.cache_key / f"{Path(self.image).stem}__{self.setting:g}.json"

    @property
    def learned(self) -> bool:
        """Whether it decodes with a learned model (a cluster's GPU workers take those)."""
        from sparsepix.codec.reconstructors import CLASSICAL

        return self.spec.kind == "sparsepix" and self.spec.model not in CLASSICAL


def measure(task: Task, raw: bytes) -> dict:
    """Encode and decode one image (`raw`: its file's bytes) at one setting; all metrics on
    8-bit RGB."""
    codec = make_codec(task.spec)
    image = as_rgb(image_from_bytes(raw, task.image))
    t0 = time.perf_counter()
    data = codec.encode(image, task.setting)
    t1 = time.perf_counter()
    out = codec.decode(data)
    t2 = time.perf_counter()
    h, w = image.shape[:2]
    return {
        "image": Path(task.image).name,
        "curve": task.spec.name,
        "setting": task.setting,
        "bytes": len(data),
        "bpp": 8 * len(data) / (h * w),
        "psnr": psnr(image, out),
        "ms_ssim": ms_ssim(image, out),
        "haarpsi": haarpsi(image, out),
        "encoding_time": t1 - t0,
        "decoding_time": t2 - t1,
        "version": MEASUREMENT_VERSION,
    }


def attempt(task: Task, raw: bytes) -> dict:
    """`measure`, or a record of why it failed: {"image", "curve", "setting", "error"}."""
    try:
        return measure(task, raw)
    except Exception as exc:  # any codec's failure on one image must not stop the sweep
        return _failed(task, exc)


def _failed(task: Task, exc: BaseException) -> dict:
    message = (str(exc).splitlines() or [""])[0] or type(exc).__name__
    name = Path(task.image).name
    message = message.removeprefix(f"{task.image}: ").removeprefix(f"{name}: ")  # said once, before
    return {"image": name, "curve": task.spec.name, "setting": task.setting, "error": message}


def _store(result: dict, task: Task, cache: Path) -> None:
    if "error" not in result:
        path = task.cache_path(cache)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(path, json.dumps(result).encode())


def _run_and_cache(args: tuple[Task, str]) -> dict:
    task, cache = args
    try:
        result = attempt(task, read_bytes(task.image))
    except Exception as exc:  # the image file itself could not be read
        result = _failed(task, exc)
    _store(result, task, Path(cache))
    return result


def _cached(path: Path) -> dict | None:
    """A cached result of the current measurement version, else None (measure again)."""
    if not path.exists():
        return None
    try:
        result = json.loads(path.read_text())
    except ValueError:
        return None
    return result if result.get("version") == MEASUREMENT_VERSION else None


def _init_worker() -> None:
    # One thread per process: the pool supplies the parallelism.
    import torch

    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"


def run(
    tasks: list[Task], cache: Path, workers: int, progress: bool = True, client=None
) -> tuple[list[dict], list[dict]]:
    """Measure every task not cached yet, in `workers` local processes or through a Dask
    `client`; return (all results, cached and new; the failures)."""
    from tqdm import tqdm

    results, failures, todo = [], [], []
    for task in tasks:
        cached = _cached(task.cache_path(cache))
        if cached is not None:
            results.append(cached)
        else:
            todo.append(task)
    # The bar counts images whose every measurement is done (a run is images x settings).
    left = Counter(Path(t.image).name for t in todo)
    images = {Path(t.image).name for t in tasks}
    bar = tqdm(
        total=len(images),
        initial=len(images) - len(left),
        unit="image",
        disable=not progress,
        dynamic_ncols=True,
        desc=f"bench, {len(tasks)} measurements",
    )

    def done(result: dict) -> None:
        (failures if "error" in result else results).append(result)
        left[result["image"]] -= 1
        if left[result["image"]] == 0:
            bar.update(1)

    if client is not None:
        _on_cluster(client, todo, cache, done)
    elif workers <= 1:
        for task in todo:
            done(_run_and_cache((task, str(cache))))
    else:
        with get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
            for result in pool.imap_unordered(_run_and_cache, [(t, str(cache)) for t in todo]):
                done(result)
    bar.close()
    return results, failures


def _on_cluster(client, todo: list[Task], cache: Path, done) -> None:
    """The tasks on a Dask cluster, image by image: each image's bytes go to the cluster once
    and are dropped there after its last measurement. Results are cached here, on the client,
    as they come."""
    from sparsepix import cluster

    todo = sorted(todo, key=lambda t: t.image)  # stable: each image's tasks together
    current: list = [None, None]  # (image path, its bytes on the cluster)

    def prepare(i: int) -> cluster.Call:
        task = todo[i]
        if current[0] != task.image:
            current[:] = task.image, client.scatter(read_bytes(task.image), hash=False)
        return attempt, (task, current[1]), task.learned

    for i, result in cluster.unordered(client, len(todo), prepare):
        task = todo[i]
        result = _failed(task, result) if isinstance(result, BaseException) else result
        _store(result, task, cache)
        done(result)
