"""Training configuration: one frozen dataclass, saved inside every checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from sparsepix import tasks

TASKS = tuple(tasks.TASKS)
# How the sparse tasks draw a density from their range (train/corruptions.py, draw_density).
DENSITY_LAWS = ("uniform", "log")
# Which symmetries of a crop training draws from (train/data.py, random_crop).
AUGMENTS = ("flip", "dihedral")
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
    psnr: float = 0.0  # minus the mean per-image PSNR, not in the paper
    classifier: float = 1.0  # ResGAN's embedded classifier, labelled data only


# "xgan": the paper's objective. "fidelity": the same terms, but a dominant L1 term and a light
# adversarial weight, for a codec judged by PSNR/MS-SSIM. "l1": regression only, no
# discriminator: the cheap PSNR-oriented pre-training that adversarial fine-tuning starts from
# (see docs/DECISIONS.md). "l2": the same with squared error, what PSNR scores: the shipped `natural`
# and `faces` finish on it after their L1 stages (docs/DECISIONS.md). "psnr": minus the mean of
# per-image PSNRs, the figure the benchmark averages (docs/DECISIONS.md).
LOSS_PROFILES = {
    "xgan": LossWeights(),
    "fidelity": LossWeights(gan=0.5, feature_matching=2.0, vgg=2.0, point=10.0, l1=50.0),
    "l1": LossWeights(gan=0.0, feature_matching=0.0, vgg=0.0, point=0.0, l1=1.0, classifier=0.0),
    "l2": LossWeights(gan=0.0, feature_matching=0.0, vgg=0.0, point=0.0, l2=1.0, classifier=0.0),
    "psnr": LossWeights(gan=0.0, feature_matching=0.0, vgg=0.0, point=0.0, psnr=1.0, classifier=0.0),
}


@dataclass(frozen=True)
class TrainConfig:
    data: tuple[str, ...]
    out: str
    task: str = "sparse"
    preset: str = "refine-16"
    crop: int = 128
    batch: int = 8
    steps: int = 1000
    lr: float = 2e-4
    schedule: str = "constant"  # or "cosine": from lr down to 0 at `steps`
    warmup: int = 0  # steps of a linear ramp up to the schedule's rate (fine-tuning with a fresh Adam)
    beta1: float = 0.5
    beta2: float = 0.999
    loss_profile: str = "xgan"
    weights: LossWeights = field(default_factory=LossWeights)
    density_min: float = 0.01
    density_max: float = 0.20
    density_law: str = "uniform"  # or "log": log-uniform over the range (train/corruptions.py)
    augment: str = "flip"  # or "dihedral": also vertical flips and transposes (all 8 symmetries)
    echo: int = 1  # steps each data batch serves, the k-th under the k-th image symmetry (train/loop.py)
    quality: int = 0  # sparse tasks: 0 = exact samples, else the codec's lossy values at this quality
    optimize: int = 0  # sparse tasks: >0 = values tuned for the linear fill (LSQR iterations), as --optimize
    val_count: int = 8  # the last files by name are held out for validation
    val_limit: int = 16  # periodic validation scores this many of them (the first by name)
    val_every: int = 250
    ckpt_every: int = 250
    log_every: int = 10
    ema_decay: float = 0.999  # 0 disables the EMA generator
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # fp16 autocast + grad scaling, CUDA only
    amp_cpu: bool = True  # bf16 autocast on CPUs that compute bf16 natively (1.8x the crops/s here)
    workers: int = 2
    data_path: str = "workers"  # or "device" (DATA_PATHS); the two draw different crops
    vgg_weights: str = ""
    labels: bool = False  # folder-per-class labels for ResGAN's classifier head
    init: str = ""  # start the generator from these weights (exported .pt or a checkpoint)
    detector: str = ""  # color-noise: a model card whose detector picks the samples (train/noisedetect.py)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in names}
        kwargs["data"] = tuple(kwargs["data"])
        kwargs.setdefault("amp_cpu", False)  # runs saved before it existed trained in fp32
        kwargs["weights"] = LossWeights(**kwargs.get("weights", {}))
        return cls(**kwargs)

    def with_changes(self, **changes) -> "TrainConfig":
        return replace(self, **changes)
