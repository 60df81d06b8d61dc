"""`sparsepix train` and `sparsepix export`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import click

from sparsepix.cli import passthrough
from sparsepix.codec.ensemble import ENSEMBLES
from sparsepix.train.config import LOSS_PROFILES, TrainConfig


def _click_type(f: dataclasses.Field) -> click.ParamType | type:
    spec = f.metadata
    if "choices" in spec:
        return click.Choice(spec["choices"])
    if spec.get("file"):
        return click.Path(dir_okay=False)
    kind = {"int": int, "float": float, "str": str}[f.type] if isinstance(f.type, str) else f.type
    if "low" in spec or "high" in spec:
        ranged = click.IntRange if kind is int else click.FloatRange
        return ranged(spec.get("low"), spec.get("high"))
    return kind


def config_options(command: Callable) -> Callable:
    """An option for every TrainConfig field that declares one (train/config.py, `option`):
    written once, there."""
    for f in reversed([f for f in dataclasses.fields(TrainConfig) if "help" in f.metadata]):
        flag = "--" + f.metadata.get("flag", f.name).replace("_", "-")
        if f.type in (bool, "bool"):
            command = click.option(flag, f.name, is_flag=True, help=f.metadata["help"])(command)
        else:
            kind = _click_type(f)
            command = click.option(
                flag, f.name, default=f.default, show_default=True, type=kind, help=f.metadata["help"]
            )(command)
    return command


@click.command()
@click.option(
    "--data",
    "data_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    help="Image folder (searched recursively); repeat for several. Not needed with --resume, "
    "which trains on the checkpoint's folders.",
)
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False),
    help="Run folder: log.jsonl, val.jsonl, samples/, latest.pt. With --resume, the "
    "checkpoint's own folder unless given.",
)
@click.option(
    "--steps",
    default=None,
    type=click.IntRange(1),
    help="Total steps to reach; the cosine schedule ends there. [default: 1000; with --resume, "
    "the checkpoint's own total, so its schedule goes on unchanged]",
)
@click.option(
    "--loss",
    "loss_profile",
    default="xgan",
    show_default=True,
    type=click.Choice(sorted(LOSS_PROFILES)),
    help="Loss weights: xgan (the paper's: LSGAN, feature matching, VGG and point terms), fidelity "
    "(dominant L1, light adversarial terms), l1 (regression only, no discriminator: pre-training), "
    "l2 (squared error only, what PSNR scores: for fine-tuning an l1 model).",
)
@click.option(
    "--density",
    default=(0.01, 0.20),
    show_default=True,
    type=(float, float),
    help="Range of sample densities for the sparse tasks, drawn uniformly.",
)
@config_options
@click.option(
    "--no-amp",
    is_flag=True,
    help="Train in fp32 throughout: no fp16 autocast on CUDA, no bf16 autocast on CPUs with native bf16.",
)
@click.option(
    "--detector",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="With --task color-noise: a model card with a noise detector (sparsepix noisedetect); the "
    "generator learns from the pixels it keeps, as it will restore.",
)
@click.option(
    "--time-limit",
    default=None,
    type=click.FloatRange(0, min_open=True),
    metavar="MINUTES",
    help="Stop after this much wall time (validating and saving latest.pt at the step reached); "
    "--resume it later. For fixed-length machine leases.",
)
@click.option(
    "--stop-at",
    default=None,
    type=click.IntRange(1),
    metavar="STEP",
    help="Stop at this step as --time-limit would, without shortening the --schedule: "
    "replays a run that a time limit cut.",
)
@click.option(
    "--resume",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Continue from a checkpoint (its config wins except --steps/--out/--device/--workers).",
)
def train(
    data_dirs, out, steps, loss_profile, density, no_amp, detector, time_limit, stop_at, resume, **options
) -> None:
    """Train an X-GAN generator on image folders.

    Several GPUs: torchrun --nproc-per-node N -m sparsepix train ... (DistributedDataParallel).
    """
    from sparsepix.train import checkpoint
    from sparsepix.train.loop import Trainer

    if not data_dirs and not resume:
        raise click.UsageError("give --data (image folders), or --resume a checkpoint")
    resumed = checkpoint.load_run(resume) if resume else None  # read once, handed to the trainer
    if resumed is not None:
        # Continuing a run is `--resume RUN/latest.pt` alone: where it lies, up to its own total.
        out = out or str(Path(resume).parent)
        steps = steps or resumed["config"]["steps"]
    elif out is None:
        raise click.UsageError("give --out, the run folder")
    steps = steps or 1000
    if detector:
        from sparsepix.errors import ModelError
        from sparsepix.models.registry import read_card

        try:
            found = read_card(Path(detector)).detector
        except ModelError as exc:
            raise click.BadParameter(str(exc), param_hint="--detector") from None
        if options["task"] != "color-noise" or found is None:
            why = "needs --task color-noise and a card with a detector"
            raise click.BadParameter(why, param_hint="--detector")
    if not 0.001 <= density[0] <= density[1] <= 0.5:
        raise click.BadParameter("need 0.001 <= MIN <= MAX <= 0.5", param_hint="--density")
    config = TrainConfig(
        data=tuple(data_dirs),
        out=out,
        steps=steps,
        loss_profile=loss_profile,
        weights=LOSS_PROFILES[loss_profile],
        density_min=density[0],
        density_max=density[1],
        amp=not no_amp,
        amp_cpu=not no_amp,
        detector=detector or "",
        **options,
    )
    trainer = Trainer(config, resume=resumed)
    if trainer.step >= trainer.config.steps:
        raise click.UsageError(f"the checkpoint is at step {trainer.step}; ask for more --steps")
    trainer.train(time_limit=time_limit, stop_at=stop_at)


@click.command()
@click.argument("checkpoint_path", metavar="CHECKPOINT", type=click.Path(exists=True, dir_okay=False))
@click.argument("name")
@click.option(
    "--out",
    default="models/weights",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for NAME.pt and NAME.json.",
)
@click.option("--version", "model_version", default=1, show_default=True, type=click.IntRange(1, 255))
@click.option("--no-ema", is_flag=True, help="Export the raw generator instead of its EMA.")
@click.option("--description", default="", help="One line shown in reconstructor lists.")
@click.option(
    "--ensemble",
    type=click.Choice([str(n) for n in ENSEMBLES]),
    help="Image symmetries decoders average by default, as measured for this model [default: 1].",
)
def export(checkpoint_path, name, out, model_version, no_ema, description, ensemble) -> None:
    """Export a checkpoint's generator as fp16 weights plus a JSON model card."""
    from sparsepix.train.export import export as do_export

    passes = int(ensemble) if ensemble else None
    weights, card = do_export(checkpoint_path, name, out, model_version, not no_ema, description, passes)
    click.echo(f"{weights} ({weights.stat().st_size} bytes), {card}")


COMMANDS = [
    train,
    export,
    passthrough("noisedetect", "sparsepix.train.noisedetect", "Train a colour-noise detector."),
]
