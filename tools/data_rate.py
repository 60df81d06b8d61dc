"""How many training crops one data-loader worker makes a second, on this machine.

    python -m sparsepix.tools.data_rate ../shared/datasets/bsds500/train --crop 320

On a GPU the workers, not the network, set the training pace for Delaunay-coarse presets: each
crop is cut, sampled, its values coded at `--quality` and its Delaunay fill computed on the CPU
(`train/data.py`). This runs exactly that for one worker with one thread, as the trainer spawns
them, so the rate times the worker count predicts the crops a second a lease can feed
(docs/DECISIONS.md, "Training on leases").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from sparsepix.errors import SparsepixError
from sparsepix.train import data
from sparsepix.train.config import CROP_RANGE, TASKS, TrainConfig


def crops_per_second(
    folders: list[Path], crop: int, task: str, quality: int, count: int, seed: int = 0
) -> float:
    """Crops a second one single-threaded worker makes, timed over `count` crops after a warm-up."""
    config = TrainConfig(
        data=tuple(str(f) for f in folders),
        out="",
        task=task,
        preset="refine-16",
        crop=crop,
        quality=quality,
        seed=seed,
    )
    paths = data.list_images(config.data)
    items = data.WithCoarseFill(data.CorruptedImages(paths, config, train=True))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        items[0]  # warm-up: imports, first allocations
        start = time.perf_counter()
        for i in range(1, count + 1):
            items[i]
        return count / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", type=Path, nargs="+", help="image folders, as `train --data`")
    parser.add_argument("--crop", type=int, default=320, help="crop size in pixels")
    parser.add_argument("--task", default="sparse", choices=sorted(TASKS))
    parser.add_argument("--quality", type=int, default=65, help="pred quality of the kept values")
    parser.add_argument("--count", type=int, default=40, help="crops to time")
    args = parser.parse_args()
    if not CROP_RANGE[0] <= args.crop <= CROP_RANGE[1]:
        parser.error(f"--crop must lie in {CROP_RANGE[0]}..{CROP_RANGE[1]}, as for `sparsepix train`")
    if not 0 <= args.quality <= 100 or args.count < 1:
        parser.error("--quality must lie in 0..100 and --count be at least 1")
    try:
        rate = crops_per_second(args.folders, args.crop, args.task, args.quality, args.count)
    except SparsepixError as exc:
        raise SystemExit(f"error: {exc}") from None
    what = f"{args.task}, quality {args.quality}"
    print(f"{rate:.1f} crops of {args.crop} px a second per one-thread worker ({what})")


if __name__ == "__main__":
    main()
