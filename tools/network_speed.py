"""Time training steps and full-image generator passes per preset on this machine.

    python -m sparsepix.tools.network_speed --presets refine-16,refine-32-deep,xgan
    python -m sparsepix.tools.network_speed --presets refine-16 --compile
    python -m sparsepix.tools.network_speed --presets refine-16 --losses l2 --no-amp

Training steps run the real Trainer (G + three discriminators, the chosen loss profile) on
synthetic crops; inference runs the generator in eval mode on a 768x512 canvas, channels_last
and in the decoder's reduced precision (`--no-amp`: fp32 for both, to compare). `--compile`
instead times the network alone, channels_last and in fp32, the coarse fill given, eagerly and
through torch.compile: whether compiling pays for a one-image decode.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from sparsepix.models.config import PRESETS
from sparsepix.models.generator import Generator
from sparsepix.models.inference import autocast_dtype, reduced_precision
from sparsepix.train.config import LOSS_PROFILES, TrainConfig
from sparsepix.train.loop import Trainer, resolve_device


def _images(folder: Path, n: int = 12, size: int = 160) -> None:
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(folder / f"{i}.png")


def _seconds(call, dev: torch.device) -> float:
    """Wall time of one call, waiting for the GPU where there is one."""
    t0 = time.perf_counter()
    call()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def step_seconds(
    preset: str, loss: str, batch: int, crop: int, device: str, steps: int, amp: bool = True
) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        _images(Path(tmp))
        cfg = TrainConfig(
            data=(tmp,),
            out=str(Path(tmp) / "run"),
            preset=preset,
            batch=batch,
            crop=crop,
            steps=steps + 2,
            loss_profile=loss,
            weights=LOSS_PROFILES[loss],
            val_count=2,
            val_every=10**9,
            ckpt_every=10**9,
            workers=0,
            device=device,
            amp=amp,
            amp_cpu=amp,
        )
        trainer = Trainer(cfg, quiet=True)
        loader = iter(trainer._loader())
        times = []
        for _ in range(steps + 2):
            batch_t = trainer._to_device(next(loader))
            times.append(_seconds(lambda: trainer.train_step(*batch_t), trainer.device))
        return float(np.median(times[2:]))  # the first steps pay for allocation and autotuning


@torch.no_grad()
def decode_seconds(preset: str, device: str, repeats: int = 3, amp: bool = True) -> float:
    dev = resolve_device(device)
    last = torch.channels_last
    g = Generator(PRESETS[preset][0]).to(dev).eval().to(memory_format=last)
    canvas = torch.zeros(1, 3, 512, 768, device=dev).contiguous(memory_format=last)
    mask = torch.ones(1, 1, 512, 768, device=dev).contiguous(memory_format=last)

    def run() -> None:
        with reduced_precision(dev, enabled=amp):
            g(canvas, mask)

    times = [_seconds(run, dev) for _ in range(repeats + 1)]
    return float(np.median(times[1:]))


@torch.no_grad()
def compiled_seconds(preset: str, device: str, repeats: int = 3) -> tuple[float, float, float]:
    """(eager s, compiled first call s, compiled steady s) for one 768x512 network pass."""
    dev = resolve_device(device)
    last = torch.channels_last
    g = Generator(PRESETS[preset][0]).to(dev).eval().to(memory_format=last)
    canvas = torch.rand(1, 3, 512, 768, device=dev).mul(2).sub(1).contiguous(memory_format=last)
    mask = (torch.rand(1, 1, 512, 768, device=dev) < 0.05).float().contiguous(memory_format=last)
    coarse = canvas.clone()  # stands in for the fill: the network's cost does not depend on it
    compiled = torch.compile(g)
    _seconds(lambda: g(canvas, mask, coarse), dev)  # allocation warm-up
    eager = float(np.median([_seconds(lambda: g(canvas, mask, coarse), dev) for _ in range(repeats)]))
    first = _seconds(lambda: compiled(canvas, mask, coarse), dev)
    steady = float(np.median([_seconds(lambda: compiled(canvas, mask, coarse), dev) for _ in range(repeats)]))
    return eager, first, steady


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--presets", default="refine-16,refine-32-deep")
    p.add_argument("--losses", default="xgan,l1")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--compile", action="store_true", help="time eager against torch.compile instead")
    p.add_argument("--no-amp", action="store_true", help="fp32 throughout (as train --no-amp)")
    args = p.parse_args()
    if args.compile:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
        print("| preset | eager s | compiled, first call s | compiled s |")
        print("| --- | --- | --- | --- |")
        for preset in args.presets.split(","):
            cells = compiled_seconds(preset, args.device)
            print(f"| {preset} | " + " | ".join(f"{c:.3f}" for c in cells) + " |", flush=True)
        return
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}, "
        f"batch {args.batch}, crop {args.crop}, "
        + ("fp32" if args.no_amp else f"reduced precision {autocast_dtype(resolve_device(args.device))}")
    )
    print(
        "| preset | "
        + " | ".join(f"step s ({loss})" for loss in args.losses.split(","))
        + " | 768x512 decode s |"
    )
    print("| --- |" + " --- |" * (len(args.losses.split(",")) + 1))
    amp = not args.no_amp
    for preset in args.presets.split(","):
        cells = [
            f"{step_seconds(preset, loss, args.batch, args.crop, args.device, args.steps, amp):.3f}"
            for loss in args.losses.split(",")
        ]
        cells.append(f"{decode_seconds(preset, args.device, amp=amp):.3f}")
        print(f"| {preset} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
