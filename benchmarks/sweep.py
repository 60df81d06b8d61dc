"""The sweep: every image x curve x setting, in worker processes, cached per image.

Each measurement is one small JSON file under CACHE/CURVE/, written atomically, so an
interrupted run continues where it stopped and a finished one is re-aggregated for free.
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
from sparsepix.codec.files import write_bytes
from sparsepix.codec.imageio import as_rgb, load_image
from sparsepix.metrics import gradient_ratio, gradient_w1, haarpsi, ms_ssim, psnr

# Bumped whenever a cached measurement would come out differently (a metric fixed, a codec's
# output changed); cached results of another version are measured again.
# 2: HaarPSI with MATLAB's convolution alignment, as the reference implementation; MS-SSIM in
#    float32.
# 3: the detail measures, gradient W1 and gradient ratio.
MEASUREMENT_VERSION = 3


@dataclass(frozen=True)
class Task:
    spec: CurveSpec
    image: str
    setting: float

    def cache_path(self, cache: Path) -> Path:
        return cache / self.spec.cache_key / f"{Path(self.image).stem}__{self.setting:g}.json"


def measure(task: Task) -> dict:
    """Encode and decode one image at one setting; all metrics on 8-bit RGB."""
    codec = make_codec(task.spec)
    image = as_rgb(load_image(task.image))
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
        "gradient_w1": gradient_w1(image, out),
        "gradient_ratio": gradient_ratio(image, out),
        "encoding_time": t1 - t0,
        "decoding_time": t2 - t1,
        "version": MEASUREMENT_VERSION,
    }


def _run_and_cache(args: tuple[Task, str]) -> dict:
    task, cache = args
    result = measure(task)
    path = task.cache_path(Path(cache))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, json.dumps(result).encode())
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


def run(tasks: list[Task], cache: Path, workers: int, progress: bool = True) -> list[dict]:
    """Measure every task not cached yet; return all results (cached and new)."""
    from tqdm import tqdm

    results, todo = [], []
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
        results.append(result)
        left[result["image"]] -= 1
        if left[result["image"]] == 0:
            bar.update(1)

    if workers <= 1:
        for task in todo:
            done(_run_and_cache((task, str(cache))))
    else:
        with get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
            for result in pool.imap_unordered(_run_and_cache, [(t, str(cache)) for t in todo]):
                done(result)
    bar.close()
    return results
