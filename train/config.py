"""Training configuration: one frozen dataclass, saved inside every checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from sparsepix.models.config import PRESETS
from sparsepix.tasks import TASKS

# Where training crops are made: CPU data-loader workers (train/data.py) or the training device
# itself (train/devicedata.py, the sparse tasks without --optimize).
DATA_PATHS = ("workers", "device")
CROP_RANGE = (16, 1024)  # training crop sides `sparsepix train` (and benchmarks/data_rate) accept


@dataclass(frozen=True)
class LossWeights:
    """Weights of each generator loss term; 0 switches a term off."""

    gan: float = 1.0  # LSGAN adversarial, summed over the three discriminators
    feature_matching: float = 10.0  # eq. 3-4
    vgg: float = 10.0  # eq. 5; needs --vgg-weights, else off
    point: float = 10.0  # eq. 6, corresponding point loss (sparse and white-block tasks only)
    l1: float = 0.0  # whole-image L1, not in the paper
    l2: float = 0.0  # whole-image mean squared error, not in the paper
    classifier: float = 1.0  # ResGAN's embedded classifier, labelled data only


# "xgan": the paper's objective (kept as its configuration; no shipped model trains on it yet).
# "fidelity": the same terms, but a dominant L1 term and a light
# adversarial weight, for a codec judged by PSNR/MS-SSIM. "l1": regression only, no
# discriminator: the cheap PSNR-oriented pre-training that adversarial fine-tuning starts from
# (see docs/DECISIONS.md). "l2": the same with squared error, what PSNR scores: the shipped `natural`
# and `faces` finish on it after their L1 stages (docs/DECISIONS.md).
LOSS_PROFILES = {
    "xgan": LossWeights(),
    "fidelity": LossWeights(gan=0.5, feature_matching=2.0, vgg=2.0, point=10.0, l1=50.0),
    "l1": LossWeights(gan=0.0, feature_matching=0.0, vgg=0.0, point=0.0, l1=1.0, classifier=0.0),
    "l2": LossWeights(gan=0.0, feature_matching=0.0, vgg=0.0, point=0.0, l2=1.0, classifier=0.0),
}


def option(default, help: str, **spec) -> Any:
    """A field that `sparsepix train` offers as an option (train/cli.py builds it from here):
    `help`, and `choices`, `low`/`high` (a range), `flag` (another option name), `file` (a path
    to an existing file) as needed."""
    return field(default=default, metadata={"help": help, **spec})


@dataclass(frozen=True)
class TrainConfig:
    data: tuple[str, ...]
    out: str
    task: str = option(
        "sparse",
        "Corruption: " + "; ".join(f"{t.name}: {t.help}" for t in TASKS.values()) + ".",
        choices=tuple(TASKS),
    )
    preset: str = option(
        "refine-16",
        "Network: refine-16 and refine-32-deep are the shipped decoders' (scripts/ holds each model's "
        "recipe); xgan is the paper's, resgan adds ResGAN's pass-through channel.",
        choices=tuple(sorted(PRESETS)),
    )
    crop: int = option(128, "Training crop side.", low=CROP_RANGE[0], high=CROP_RANGE[1])
    batch: int = option(8, "Batch per process.", low=1, high=4096)
    steps: int = 1000  # the total the schedule runs to (an option of its own: see train/cli.py)
    lr: float = option(2e-4, "Adam learning rate.", low=0.0)
    schedule: str = option(
        "constant",
        "Learning rate over the run: constant, or cosine from --lr down to 0 at --steps.",
        choices=("constant", "cosine"),
    )
    warmup: int = option(
        0,
        "Ramp the learning rate up linearly over this many first steps (for --init fine-tunes, whose "
        "fresh Adam otherwise jolts the trained weights).",
        low=0,
    )
    beta1: float = option(
        0.5,
        "Adam beta1 (0.5 as the paper for GAN training; 0.9 suits --loss l1 and l2).",
        low=0.0,
        high=0.999,
    )
    beta2: float = 0.999
    loss_profile: str = "xgan"  # --loss; sets `weights` (LOSS_PROFILES)
    weights: LossWeights = field(default_factory=LossWeights)
    density_min: float = 0.01  # --density MIN MAX
    density_max: float = 0.20
    echo: int = option(
        1,
        "Data echoing: each batch the data workers make serves this many steps in a row, the k-th "
        "time under the k-th image symmetry (as it is, mirrored left-right, upside down, both, then "
        "transposed): more steps per crop where the workers, not the GPU, set the pace "
        "(docs/DECISIONS.md). 1 = off.",
        low=1,
        high=8,
    )
    quality: int = option(
        0,
        "Sparse tasks: train on kept values after the codec's lossy value coding at this quality, as "
        "decoders will see them (65: the benchmark's rate-distortion setting, which the shipped models "
        "train on; 70: the encoder's default); 0 = exact values.",
        low=0,
        high=100,
    )
    optimize: int = option(
        0,
        "Sparse tasks: train on kept values tuned for the Delaunay-linear fill with this many "
        "least-squares iterations, as `sparsepix encode --optimize N` stores them for a model trained "
        "so; 0 = the plain samples. For Delaunay-coarse presets (refine-*).",
        low=0,
        high=1000,
    )
    val_count: int = option(8, "Hold out the last N files by name for validation.", low=1)
    val_limit: int = option(16, "Periodic validation scores this many held-out images.", low=1)
    val_every: int = option(250, "Validate every this many steps.", low=1)
    ckpt_every: int = option(250, "Write latest.pt every this many steps.", low=1)
    log_every: int = 10
    ema_decay: float = option(
        0.999, "EMA decay of the generator weights (0 = off).", low=0.0, high=1.0, flag="ema"
    )
    seed: int = option(0, "Seed of every crop, corruption and initial weight.")
    device: str = option("auto", "auto, cpu, cuda or cuda:N.")
    amp: bool = True  # fp16 autocast + grad scaling, CUDA only (--no-amp)
    amp_cpu: bool = True  # bf16 autocast on CPUs that compute bf16 natively (--no-amp)
    workers: int = option(2, "Data-loader processes.", low=0)
    data_path: str = option(
        "workers",
        "Where crops are cut, sampled and value-coded: CPU data-loader workers, or the training device "
        "itself (sparse tasks without --optimize; the other steps are not ported).",
        choices=DATA_PATHS,
    )
    vgg_weights: str = option(
        "", "torchvision vgg19 ImageNet state dict for the VGG loss (else the term is off).", file=True
    )
    labels: bool = option(
        False,
        "Folder-per-class labels for ResGAN's classifier head: that paper's configuration, kept for "
        "it; no shipped model uses it.",
    )
    init: str = option(
        "",
        "Start the generator from these weights (an exported model, e.g. models/weights/natural.pt, "
        "or a checkpoint) with fresh optimisers: fine-tuning. Weights with fewer residual blocks than "
        "--preset are grown to it, the added blocks starting as the identity.",
        file=True,
    )
    detector: str = ""  # --detector: a color-noise card whose detector picks the samples (checked)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs["data"] = tuple(kwargs["data"])
        kwargs.setdefault("amp_cpu", False)  # runs saved before it existed trained in fp32
        known = {f.name for f in fields(LossWeights)}  # runs saved with terms since removed
        kwargs["weights"] = LossWeights(**{k: v for k, v in kwargs.get("weights", {}).items() if k in known})
        return cls(**kwargs)

    def with_changes(self, **changes) -> "TrainConfig":
        return replace(self, **changes)
