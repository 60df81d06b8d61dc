"""End-to-end speed on this machine, as JSON records.

    sparsepix bench speed ../shared/datasets/kodak --out benchmarks/results/speed/cpu.json

`h200.json` came from a lent H200 with OMP_NUM_THREADS=1 (as training leases run), on a
folder of 8 Kodak images (kodim01, 04, 07, 12, 15, 19, 20, 23): `--device cuda --images 8
--batch 8 --repeats 2 --steps 120 --workers 15`.

- decode: megapixels a second from .spx bytes to uint8 pixels per model (and Pillow's JPEG for
  scale), one image at a time and, for learned models, batched (`decode_many`);
- cli-decode: wall seconds of one `sparsepix decode` process, start to PNG written, beside a
  Python process that opens the same image as JPEG with Pillow and writes the PNG;
- big-decode: seconds to decode one large photo (`--big` megapixels: the CLI image scaled to 4:3);
- train: training crops a second with the real data path against the network alone (one batch
  reused), for each `--data-paths` entry: CPU workers cut, sample, code and fill the crops, or
  the training device does (train/devicedata.py).

Each record has `device`, `task`, `model`, `backend` (what ran the network: torch or openvino,
numpy for the classical fills; `--backends`), `batch` and `megapixels_per_s`, `seconds` or
`crops_per_s`. Files are encoded at 5 % random samples (effort 0), quality 65, naming the model
decoded; `natural-opt` is what default encodes name.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

import sparsepix
from sparsepix.codec.imageio import image_files, load_image
from sparsepix.models.registry import BACKENDS, cuda_here

DENSITY, QUALITY = 0.05, 65


def device_name(device: str) -> str:
    if device == "cuda" or (device == "auto" and cuda_here()):
        import torch

        return torch.cuda.get_device_name(0)
    return f"cpu: {os.cpu_count()} cores"


def torch_threads() -> int | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


def _file(image: np.ndarray, model: str) -> bytes:
    """The timed files: random samples (effort 0) at DENSITY and QUALITY, naming `model`."""
    return sparsepix.encode(image, density=DENSITY, quality=QUALITY, model=model, effort=0)


def _timed(call) -> float:
    t0 = time.perf_counter()
    call()
    if cuda_here():
        import torch

        torch.cuda.synchronize()
    return time.perf_counter() - t0


@contextmanager
def _backend(name: str) -> Iterator[None]:
    """SPARSEPIX_BACKEND set to `name` meanwhile (models/registry.py), in this process and its
    children; `auto` for what runs no network (numpy, pillow)."""
    before = os.environ.get("SPARSEPIX_BACKEND")
    os.environ["SPARSEPIX_BACKEND"] = name if name in BACKENDS else "auto"
    try:
        yield
    finally:
        if before is None:
            del os.environ["SPARSEPIX_BACKEND"]
        else:
            os.environ["SPARSEPIX_BACKEND"] = before


def _runs(models: list[str], backends: list[str]) -> list[tuple[str, str]]:
    """(model, backend) pairs to time: each learned model under each backend, the rest once."""
    from sparsepix import catalog

    return [
        (name, backend)
        for name in models
        for backend in (backends if catalog.get(name).learned else ["numpy"])
    ]


def decode_records(
    images: list[np.ndarray], models: list[str], backends: list[str], device: str, batch: int
) -> list[dict]:
    from sparsepix import catalog

    pixels = sum(im.shape[0] * im.shape[1] for im in images) / 1e6
    records = []
    jpegs = []
    for image in images:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="JPEG", quality=75)
        jpegs.append(buf.getvalue())
    jpeg_s = _timed(lambda: [np.asarray(Image.open(io.BytesIO(j)).convert("RGB")) for j in jpegs])
    records.append(
        dict(
            task="decode", model="jpeg (Pillow)", backend="pillow", batch=1, megapixels_per_s=pixels / jpeg_s
        )
    )
    for name, backend in _runs(models, backends):
        rec = catalog.get(name)
        datas = [_file(im, name) for im in images]
        with _backend(backend):
            sparsepix.decode(datas[0], device=device)  # load and warm up
            one = _timed(lambda: [sparsepix.decode(d, device=device) for d in datas])
            base = dict(task="decode", model=str(rec.ref), backend=backend, ensemble=rec.passes())
            records.append(dict(base, batch=1, megapixels_per_s=pixels / one, vs_jpeg=jpeg_s / one))
            if rec.learned and batch > 1 and backend == "torch":
                many = _timed(lambda: sparsepix.decode_many(datas, device=device, batch=batch))
                records.append(dict(base, batch=batch, megapixels_per_s=pixels / many, vs_jpeg=jpeg_s / many))
    return records


def big_records(
    image: np.ndarray, megapixels: float, models: list[str], backends: list[str], device: str
) -> list[dict]:
    """One decode of `image` scaled to a 4:3 camera photo of `megapixels` (12: 4000x3000), per
    model and backend: what a user decoding a camera photo waits."""
    import cv2

    width = round((megapixels * 1e6 * 4 / 3) ** 0.5)
    big = cv2.resize(image, (width, width * 3 // 4), interpolation=cv2.INTER_CUBIC)
    records = []
    for name, backend in _runs(models, backends):
        data = _file(big, name)
        with _backend(backend):
            seconds = _timed(lambda: sparsepix.decode(data, device=device))
        mp = big.shape[0] * big.shape[1] / 1e6
        records.append(
            dict(task="big-decode", model=name, backend=backend, batch=1, megapixels=mp, seconds=seconds)
        )
    return records


def cli_records(image_path: Path, models: list[str], backends: list[str], repeats: int) -> list[dict]:
    image = load_image(image_path)
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        jpeg, png = Path(tmp) / "x.jpg", Path(tmp) / "out.png"
        Image.fromarray(image).save(jpeg, quality=75)
        pillow = [
            sys.executable,
            "-c",
            "import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2])",
        ]
        runs = {("jpeg (Pillow, python -c)", "pillow"): [*pillow, str(jpeg), str(png)]}
        for name, backend in _runs(models, backends):
            spx = Path(tmp) / f"{name}.spx"
            spx.write_bytes(_file(image, name))
            ref = sparsepix.inspect(spx.read_bytes()).model
            runs[ref, backend] = [sys.executable, "-m", "sparsepix", "decode", str(spx), str(png), "--quiet"]
        for (name, backend), cmd in runs.items():
            with _backend(backend):
                subprocess.run(cmd, check=True)  # page cache and bytecode warm, as a user's second run
                seconds = statistics.median(_wall(cmd) for _ in range(repeats))
            records.append(
                dict(
                    task="cli-decode",
                    model=name,
                    backend=backend,
                    batch=1,
                    seconds=seconds,
                    image=image_path.name,
                )
            )
    return records


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def train_records(
    folder: Path, preset: str, crop: int, batch: int, steps: int, device: str, workers: int, data_path: str
) -> list[dict]:
    from sparsepix.train.config import LOSS_PROFILES, TrainConfig
    from sparsepix.train.loop import Trainer

    with tempfile.TemporaryDirectory() as tmp:
        config = TrainConfig(
            data=(str(folder),),
            out=tmp,
            preset=preset,
            crop=crop,
            batch=batch,
            steps=steps + 2,
            quality=QUALITY,
            loss_profile="l2",
            weights=LOSS_PROFILES["l2"],
            val_count=1,
            val_every=10**9,
            ckpt_every=10**9,
            workers=workers,
            data_path=data_path,
            device=device,
        )
        trainer = Trainer(config, quiet=True)
        batches = trainer._step_batches()
        first = next(batches)
        trainer.train_step(*first)  # warm-up
        t0 = time.perf_counter()
        for _ in range(steps):
            trainer.train_step(*next(batches))
        _timed(lambda: None)
        real = steps * batch / (time.perf_counter() - t0)
        alone = steps * batch / sum(_timed(lambda: trainer.train_step(*first)) for _ in range(steps))
    base = dict(task="train", model=preset, batch=batch, crop=crop, data_path=data_path)
    base.update(workers=workers if data_path == "workers" else 0)
    return [dict(base, data="real", crops_per_s=real), dict(base, data="network only", crops_per_s=alone)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("folder", type=Path, help="images to decode (and, without --train-data, to train on)")
    p.add_argument("--out", type=Path, help="JSON file to write (default: print only)")
    p.add_argument("--images", type=int, default=8, help="images decoded per model")
    p.add_argument("--models", default="linear,pushpull,natural,natural-opt")
    p.add_argument("--backends", default="torch,openvino", help="what runs the learned models' network")
    p.add_argument("--big", type=float, default=12.0, help="megapixels of the big-decode photo; 0 skips")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--batch", type=int, default=8, help="files per network call for the batched records")
    p.add_argument("--cli-image", default="kodim23.png", help="the image timed through the CLI")
    p.add_argument("--repeats", type=int, default=3, help="CLI runs timed (median)")
    p.add_argument("--train-data", type=Path, help="training images [default: FOLDER]")
    p.add_argument("--preset", default="refine-32-deep")
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--train-batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=5, help="training steps timed; 0 skips training")
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    p.add_argument("--data-paths", default="workers,device", help="training data paths timed")
    args = p.parse_args()
    paths = image_files(args.folder)[: args.images]
    if not paths:
        p.error(f"no images in {args.folder}")
    models = args.models.split(",")
    images = [np.asarray(Image.fromarray(load_image(q)).convert("RGB")) for q in paths]
    backends = args.backends.split(",")
    records = decode_records(images, models, backends, args.device, args.batch)
    cli_path = args.folder / args.cli_image if (args.folder / args.cli_image).is_file() else paths[0]
    records += cli_records(cli_path, models, backends, args.repeats)
    if args.big:
        big_models = [m for m in models if m != "pushpull"]
        records += big_records(load_image(cli_path), args.big, big_models, backends, args.device)
    if args.steps:
        data = args.train_data or args.folder
        for data_path in args.data_paths.split(","):
            records += train_records(
                data,
                args.preset,
                args.crop,
                args.train_batch,
                args.steps,
                args.device,
                args.workers,
                data_path,
            )
    # CPU threads matter to every CPU stage (fills, JPEG): leases run with OMP_NUM_THREADS=1.
    name, threads = device_name(args.device), torch_threads()
    records = [{"device": name, "cpu_threads": threads, **r} for r in records]
    for r in records:
        print(json.dumps(r), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
