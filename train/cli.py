"""`sparsepix train` and `sparsepix export`."""

from __future__ import annotations

from pathlib import Path

import click

from sparsepix import tasks
from sparsepix.cli import passthrough
from sparsepix.codec.ensemble import ENSEMBLES
from sparsepix.models.config import PRESETS
from sparsepix.train.config import AUGMENTS, CROP_RANGE, DATA_PATHS, DENSITY_LAWS, LOSS_PROFILES, TASKS


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
    "--task",
    default="sparse",
    show_default=True,
    type=click.Choice(TASKS),
    help="Corruption: " + "; ".join(f"{t.name}: {t.help}" for t in tasks.TASKS.values()) + ".",
)
@click.option(
    "--preset",
    default="refine-16",
    show_default=True,
    type=click.Choice(sorted(PRESETS)),
    help="Network: refine-16 and refine-32-deep are the shipped decoders' (scripts/ holds "
    "each model's recipe); xgan is the paper's, resgan adds the pass-through channel.",
)
@click.option(
    "--crop", default=128, show_default=True, type=click.IntRange(*CROP_RANGE), help="Training crop side."
)
@click.option(
    "--batch", default=8, show_default=True, type=click.IntRange(1, 4096), help="Batch per process."
)
@click.option(
    "--steps",
    default=None,
    type=click.IntRange(1),
    help="Total steps to reach; the cosine schedule ends there. [default: 1000; with --resume, "
    "the checkpoint's own total, so its schedule goes on unchanged]",
)
@click.option("--lr", default=2e-4, show_default=True, type=float, help="Adam learning rate.")
@click.option(
    "--schedule",
    default="constant",
    show_default=True,
    type=click.Choice(["constant", "cosine"]),
    help="Learning rate over the run: constant, or cosine from --lr down to 0 at --steps.",
)
@click.option(
    "--warmup",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Ramp the learning rate up linearly over this many first steps (for --init fine-tunes, "
    "whose fresh Adam otherwise jolts the trained weights).",
)
@click.option(
    "--beta1",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0, 1, max_open=True),
    help="Adam beta1 (0.5 as the paper for GAN training; 0.9 suits --loss l1, l2 and psnr).",
)
@click.option(
    "--loss",
    "loss_profile",
    default="xgan",
    show_default=True,
    type=click.Choice(sorted(LOSS_PROFILES)),
    help="Loss weights: xgan (the paper's), fidelity (dominant L1, for PSNR), l1 (regression "
    "only, no discriminator: pre-training), l2 (squared error only, what PSNR scores: for "
    "fine-tuning an l1 model), psnr (minus the mean per-image PSNR, what the benchmark "
    "averages).",
)
@click.option(
    "--density",
    default=(0.01, 0.20),
    show_default=True,
    type=(float, float),
    help="Range of sample densities for the sparse tasks.",
)
@click.option(
    "--density-law",
    default="uniform",
    show_default=True,
    type=click.Choice(DENSITY_LAWS),
    help="How densities are drawn from --density: uniform, or log-uniform (each octave of rate "
    "equally often, more of the sparse, hard cases).",
)
@click.option(
    "--augment",
    default="flip",
    show_default=True,
    type=click.Choice(AUGMENTS),
    help="Crop symmetries: left-right flips, or all 8 (flips and transposes), which a decoder's "
    "--ensemble then shows the network.",
)
@click.option(
    "--echo",
    default=1,
    show_default=True,
    type=click.IntRange(1, 8),
    help="Data echoing: each batch the data workers make serves this many steps in a row, the "
    "k-th time under the k-th image symmetry (as it is, mirrored left-right, upside down, both, "
    "then transposed): more steps per crop where the workers, not the GPU, set the pace "
    "(docs/DECISIONS.md). 1 = off.",
)
@click.option(
    "--quality",
    default=0,
    show_default=True,
    type=click.IntRange(0, 100),
    help="Sparse tasks: train on kept values after the codec's lossy value coding at this "
    "--quality, as decoders will see them (65: the benchmark's rate-distortion setting, which the "
    "shipped models train on; 70: the encoder's default); 0 = exact values.",
)
@click.option(
    "--optimize",
    default=0,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Sparse tasks: train on kept values tuned for the Delaunay-linear fill with this many "
    "least-squares iterations, as `sparsepix encode --optimize N` stores them for a model trained "
    "so; 0 = the plain samples. For Delaunay-coarse presets (refine-*).",
)
@click.option(
    "--val-count",
    default=8,
    show_default=True,
    type=click.IntRange(1),
    help="Hold out the last N files by name for validation.",
)
@click.option(
    "--val-limit",
    default=16,
    show_default=True,
    type=click.IntRange(1),
    help="Periodic validation scores this many held-out images.",
)
@click.option("--val-every", default=250, show_default=True, type=click.IntRange(1))
@click.option("--ckpt-every", default=250, show_default=True, type=click.IntRange(1))
@click.option(
    "--ema",
    default=0.999,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="EMA decay of the generator weights (0 = off).",
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option(
    "--no-amp",
    is_flag=True,
    help="Train in fp32 throughout: no fp16 autocast on CUDA, no bf16 autocast on CPUs with native bf16.",
)
@click.option(
    "--workers", default=2, show_default=True, type=click.IntRange(0), help="Data-loader processes."
)
@click.option(
    "--data-path",
    type=click.Choice(DATA_PATHS),
    default="workers",
    show_default=True,
    help="Where crops are cut, sampled and value-coded: CPU data-loader workers, or the training "
    "device itself (sparse tasks without --optimize; the other steps are not ported).",
)
@click.option(
    "--vgg-weights",
    default="",
    type=click.Path(dir_okay=False),
    help="torchvision vgg19 ImageNet state dict for the VGG loss (else the term is off).",
)
@click.option("--labels", is_flag=True, help="Folder-per-class labels: enables ResGAN's classifier head.")
@click.option(
    "--init",
    "init_from",
    default="",
    type=click.Path(dir_okay=False),
    help="Start the generator from these weights (an exported model, e.g. models/weights/natural.pt, "
    "or a checkpoint) with fresh optimisers: fine-tuning. Weights with fewer residual blocks "
    "than --preset are grown to it, the added blocks starting as the identity.",
)
@click.option(
    "--detector",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="With --task color-noise: a model card with a noise detector (python -m "
    "sparsepix.train.noisedetect); the generator learns from the pixels it keeps, as it will restore.",
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
    data_dirs,
    out,
    task,
    preset,
    crop,
    batch,
    steps,
    lr,
    schedule,
    warmup,
    beta1,
    loss_profile,
    density,
    density_law,
    augment,
    echo,
    quality,
    optimize,
    val_count,
    val_limit,
    val_every,
    ckpt_every,
    ema,
    seed,
    device,
    no_amp,
    workers,
    data_path,
    vgg_weights,
    labels,
    init_from,
    detector,
    time_limit,
    stop_at,
    resume,
) -> None:
    """Train an X-GAN generator on image folders.

    Several GPUs: torchrun --nproc-per-node N -m sparsepix train ... (DistributedDataParallel).
    """
    from sparsepix.train import checkpoint
    from sparsepix.train.config import TrainConfig
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
        if task != "color-noise" or found is None:
            why = "needs --task color-noise and a card with a detector"
            raise click.BadParameter(why, param_hint="--detector")
    if not 0.001 <= density[0] <= density[1] <= 0.5:
        raise click.BadParameter("need 0.001 <= MIN <= MAX <= 0.5", param_hint="--density")
    config = TrainConfig(
        data=tuple(data_dirs),
        out=out,
        task=task,
        preset=preset,
        crop=crop,
        batch=batch,
        steps=steps,
        lr=lr,
        schedule=schedule,
        warmup=warmup,
        beta1=beta1,
        loss_profile=loss_profile,
        weights=LOSS_PROFILES[loss_profile],
        density_min=density[0],
        density_max=density[1],
        density_law=density_law,
        augment=augment,
        echo=echo,
        quality=quality,
        optimize=optimize,
        val_count=val_count,
        val_limit=val_limit,
        val_every=val_every,
        ckpt_every=ckpt_every,
        ema_decay=ema,
        seed=seed,
        device=device,
        amp=not no_amp,
        amp_cpu=not no_amp,
        workers=workers,
        data_path=data_path,
        vgg_weights=vgg_weights,
        labels=labels,
        init=init_from,
        detector=detector or "",
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
