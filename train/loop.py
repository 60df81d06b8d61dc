"""The X-GAN training loop: alternate generator and multi-scale discriminator steps.

One process, or one per GPU under `torchrun` (DistributedDataParallel; gloo on CPU). Runs are
deterministic in the config's seed and resume exactly from a checkpoint.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from sparsepix.errors import InputError
from sparsepix.models import losses
from sparsepix.models.config import PRESETS, DiscriminatorConfig, GeneratorConfig
from sparsepix.models.discriminator import MultiscaleDiscriminator
from sparsepix.models.generator import Generator
from sparsepix.models.inference import SYMMETRIES, apply_symmetry, cpu_has_native_bf16
from sparsepix.models.vgg import VGG19Features
from sparsepix.tasks import HIDDEN
from sparsepix.train import checkpoint, data
from sparsepix.train.config import TrainConfig
from sparsepix.train.corruptions import POINT_LOSS_TASKS
from sparsepix.train.devicedata import DeviceBatches
from sparsepix.train.validate import save_grid, validate
from sparsepix.train.warmstart import init_weights, initial_generator


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str) -> DistInfo:
    """Join the process group when started by torchrun (WORLD_SIZE > 1), else single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError("--device cuda was asked for, but torch sees no CUDA device")
        return torch.device("cuda", local_rank if name == "cuda" else torch.device(name).index)
    if name != "cpu":
        raise InputError(f"unknown device {name!r} (auto, cpu, cuda, cuda:N)")
    return torch.device("cpu")


def network_configs(config: TrainConfig, n_classes: int) -> tuple[GeneratorConfig, DiscriminatorConfig]:
    if config.preset not in PRESETS:
        raise InputError(f"unknown preset {config.preset!r}; choose one of {', '.join(PRESETS)}")
    gen, disc = PRESETS[config.preset]
    return gen, DiscriminatorConfig(**{**disc.to_dict(), "n_classes": n_classes})


class Trainer:
    def __init__(self, config: TrainConfig, resume: str | Path | dict | None = None, quiet: bool = False):
        """`resume`: a run's checkpoint to go on from, as a path or as `checkpoint.load_run` read it."""
        self.dist = init_distributed(config.device)
        self.device = resolve_device(config.device, self.dist.local_rank)
        self.quiet = quiet or not self.dist.main
        resumed = checkpoint.load_run(resume) if isinstance(resume, (str, Path)) else resume
        if resumed is not None:
            # The run's identity comes from the checkpoint; only where/how long may change.
            saved = TrainConfig.from_dict(resumed["config"])
            config = saved.with_changes(
                steps=config.steps, out=config.out, device=config.device, workers=config.workers
            )
        self.config = config
        self.out = Path(config.out)
        if self.dist.main:
            self.out.mkdir(parents=True, exist_ok=True)

        paths = data.list_images(config.data)
        train_paths, val_paths = data.split(paths, config.val_count)
        labels, classes = data.class_labels(train_paths) if config.labels else (None, [])
        self.classes = classes
        self.train_set = data.CorruptedImages(train_paths, config, train=True, labels=labels)
        self.val_set = data.CorruptedImages(val_paths, config, train=False)

        torch.manual_seed(config.seed)
        self.gen_config, self.disc_config = network_configs(config, len(classes))
        self.G = Generator(self.gen_config).to(self.device)
        linear_coarse = self.G.needs_coarse and self.gen_config.coarse == "linear"
        self.device_batches = None
        if config.data_path == "device":
            self.device_batches = DeviceBatches(
                train_paths, config, self.device, labels, linear_coarse, self.dist.rank, self.dist.world
            )
        elif config.data_path != "workers":
            raise InputError(f"unknown data path {config.data_path!r} (workers, device)")
        elif linear_coarse:
            self.train_set = data.WithCoarseFill(self.train_set)
        self.D = MultiscaleDiscriminator(self.disc_config).to(self.device)
        self.G.apply(init_weights)
        self.D.apply(init_weights)
        if config.init and resumed is None:
            self.G.load_state_dict(initial_generator(config.init, self.gen_config))
        self.use_amp = config.amp and self.device.type == "cuda"
        # bf16 needs no loss scaling: it has fp32's exponent range.
        self.cpu_bf16 = config.amp_cpu and self.device.type == "cpu" and cpu_has_native_bf16()
        # channels_last: tensor cores on CUDA, ~30 % faster convolutions on the CPU as well.
        self.G.to(memory_format=torch.channels_last)
        self.D.to(memory_format=torch.channels_last)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if config.ema_decay > 0 else None
        self.opt_g = torch.optim.Adam(self.G.parameters(), config.lr, betas=(config.beta1, config.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), config.lr, betas=(config.beta1, config.beta2))
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.vgg = self._vgg()
        w = config.weights
        # Without adversarial terms (the "l1" pre-training profile) the discriminators are idle.
        self.adversarial = w.gan > 0 or w.feature_matching > 0 or (config.labels and w.classifier > 0)
        self.step = 0
        self.last_val: dict = {}
        if resumed is not None:
            self._restore(resumed)
        # G runs once a step: DDP all-reduces its gradients. D runs three times a step and its
        # loss is a second backward, which DDP's reducer does not follow: its gradients are
        # averaged by hand (`_average_d_grads`), or the ranks' discriminators drift apart.
        self.G_train, self.D_train = self.G, self.D
        if self.dist.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.G_train = DistributedDataParallel(self.G, device_ids=ids)

    # -- set-up ---------------------------------------------------------------------------

    def _vgg(self) -> VGG19Features | None:
        if self.config.weights.vgg <= 0:
            return None
        if not self.config.vgg_weights:
            self._say(
                "VGG perceptual loss is off: no --vgg-weights file was given "
                "(torchvision vgg19 ImageNet state dict)."
            )
            return None
        return VGG19Features.from_file(self.config.vgg_weights).to(self.device)

    def _say(self, message: str) -> None:
        if not self.quiet:
            print(f"sparsepix train: {message}", file=sys.stderr, flush=True)

    def _restore(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.scaler.load_state_dict(state["scaler"])
        if self.G_ema is not None and state.get("G_ema") is not None:
            self.G_ema.load_state_dict(state["G_ema"])
        self.step = int(state["step"])
        self.last_val = dict(state.get("val", {}))
        # Each rank's own random streams (dropout), where the run had as many ranks as this one.
        ranks = state.get("rng_ranks") or []
        checkpoint.set_rng_state(ranks[self.dist.rank] if len(ranks) == self.dist.world else state["rng"])

    def _rng_states(self) -> list[dict]:
        """Every rank's RNG states, in rank order (a collective call under DDP)."""
        mine = checkpoint.rng_state()
        if self.dist.world == 1:
            return [mine]
        states: list = [None] * self.dist.world
        dist.all_gather_object(states, mine)
        return states

    def state(self, rngs: list[dict] | None = None) -> dict:
        rngs = rngs or [checkpoint.rng_state()]
        return {
            "format": "sparsepix-checkpoint-1",
            "config": self.config.to_dict(),
            "gen_config": self.gen_config.to_dict(),
            "disc_config": self.disc_config.to_dict(),
            "classes": self.classes,
            "step": self.step,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict() if self.G_ema is not None else None,
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": rngs[0],
            "rng_ranks": rngs,
            "val": self.last_val,
        }

    # -- one step -------------------------------------------------------------------------

    def train_step(
        self,
        canvas: torch.Tensor,
        mask: torch.Tensor,
        target: torch.Tensor,
        labels: torch.Tensor | None,
        coarse: torch.Tensor | None = None,
    ) -> dict[str, float]:
        w, cfg = self.config.weights, self.config
        self.G_train.train()
        self.D_train.train()
        self._set_lr()
        condition = torch.cat([canvas * mask, mask], dim=1)
        with self._autocast():
            fake = self.G_train(canvas, mask, coarse)
            terms: dict[str, torch.Tensor] = {}
            terms_d: dict[str, torch.Tensor] = {}
            loss_d = None
            if self.adversarial:
                real_out, real_logits = self.D_train(condition, target)
                fake_out_d, _ = self.D_train(condition, fake.detach())
                loss_d = losses.lsgan_d(real_out, fake_out_d)
                cls = losses.classification(real_logits, labels)
                if cls is not None:
                    loss_d = loss_d + w.classifier * cls
                    terms_d = {"d_cls": cls}
                fake_out, fake_logits = self.D_train(condition, fake)
                terms["g_gan"] = losses.lsgan_g(fake_out)
                terms["g_fm"] = losses.feature_matching(real_out, fake_out)
                cls_g = losses.classification(fake_logits, labels)
                if cls_g is not None:
                    terms["g_cls"] = cls_g
            if self.vgg is not None:
                terms["g_vgg"] = losses.vgg_perceptual(self.vgg, fake.float(), target)
            if w.point > 0 and cfg.task in POINT_LOSS_TASKS:
                terms["g_point"] = losses.corresponding_point(fake.float(), canvas, mask)
            if w.l1 > 0:
                terms["g_l1"] = losses.l1(fake.float(), target)
            if w.l2 > 0:
                terms["g_l2"] = losses.l2(fake.float(), target)
            scale = {
                "g_gan": w.gan,
                "g_fm": w.feature_matching,
                "g_vgg": w.vgg,
                "g_point": w.point,
                "g_l1": w.l1,
                "g_l2": w.l2,
                "g_cls": w.classifier,
            }
            loss_g = sum(scale[k] * v for k, v in terms.items())

        self.opt_g.zero_grad(set_to_none=True)
        self.scaler.scale(loss_g).backward()
        self.scaler.step(self.opt_g)
        if loss_d is not None:
            self.opt_d.zero_grad(set_to_none=True)  # drop what loss_g left in D's gradients
            self.scaler.scale(loss_d).backward()
            self._average_d_grads()
            self.scaler.step(self.opt_d)
        self.scaler.update()
        self._update_ema()
        values = {k: float(v.detach()) for k, v in {**terms, **terms_d}.items()}
        values["g_total"] = float(loss_g.detach())
        if loss_d is not None:
            values["d_total"] = float(loss_d.detach())
        return values

    def _average_d_grads(self) -> None:
        """The discriminator's gradients, averaged over the ranks (as DDP does for G)."""
        if self.dist.world == 1:
            return
        for p in self.D.parameters():
            if p.grad is not None:
                dist.all_reduce(p.grad)
                p.grad.div_(self.dist.world)

    def _autocast(self):
        if self.cpu_bf16:
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return torch.autocast(self.device.type, dtype=torch.float16, enabled=self.use_amp)

    def learning_rate(self) -> float:
        """The rate for the coming step: constant, or a cosine from --lr to 0 at --steps; either
        ramped up linearly over the first --warmup steps."""
        cfg = self.config
        ramp = min(1.0, (self.step + 1) / cfg.warmup) if cfg.warmup else 1.0
        if cfg.schedule == "constant":
            return ramp * cfg.lr
        if cfg.schedule == "cosine":
            return ramp * 0.5 * cfg.lr * (1.0 + math.cos(math.pi * min(self.step, cfg.steps) / cfg.steps))
        raise InputError(f"unknown learning-rate schedule {cfg.schedule!r} (constant, cosine)")

    def _set_lr(self) -> None:
        lr = self.learning_rate()
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr

    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.G_ema is None:
            return
        d = self.config.ema_decay
        for ema, live in zip(self.G_ema.parameters(), self.G.parameters()):
            ema.lerp_(live.detach(), 1.0 - d)
        for ema, live in zip(self.G_ema.buffers(), self.G.buffers()):
            ema.copy_(live)

    # -- the loop -------------------------------------------------------------------------

    def _loader(self) -> DataLoader:
        first, stop = self._data_batches()
        sampler = data.IndexRange(first, stop, self.config.batch, self.dist.rank, self.dist.world)
        # Its own generator: a DataLoader draws a base seed when iterated, which would otherwise
        # shift the global torch RNG (dropout) between a straight run and a resumed one.
        generator = torch.Generator().manual_seed(self.config.seed)
        # Workers are spawned, not forked, with one BLAS/OpenMP thread each: forked workers keep
        # the parent's thread pools, and N workers x all-core pools thrash (least-squares value
        # tuning ran 30x slower so on 2 cores).
        spawn = {"multiprocessing_context": "spawn"} if self.config.workers > 0 else {}
        return DataLoader(
            self.train_set,
            batch_size=self.config.batch,
            sampler=sampler,
            num_workers=self.config.workers,
            pin_memory=self.device.type == "cuda",
            generator=generator,
            **spawn,
        )

    def _data_batches(self) -> tuple[int, int]:
        """The data batches [first, stop) the coming steps use: with --echo E, data batch b
        serves steps b*E .. b*E + E-1 (`_step_batches`)."""
        echo = self.config.echo
        return self.step // echo, math.ceil(self.config.steps / echo)

    def _batches(self):
        """Iterate the data batches from the current step on: made on the device, or by the
        loader, whose workers start here, single-threaded."""
        if self.device_batches is not None:
            return (self.device_batches.batch(b) for b in range(*self._data_batches()))
        loader = self._loader()
        with _environment(WORKER_THREADS):
            return iter(loader)

    def _step_batches(self):
        """The batch of each coming step, on the device: every data batch `echo` times in a row,
        the k-th time under the k-th of the image symmetries (models/inference.SYMMETRIES), so
        step s trains on data batch s // echo seen the (s % echo)-th way, resumed or not."""
        echo = self.config.echo
        skip = self.step % echo  # a resumed run may start inside an echoed batch
        for batch in self._batches():
            canvas, mask, target, labels, *coarse = self._to_device(batch)
            for k in range(skip, echo):
                if self.step >= self.config.steps:
                    return
                images = [_turned(t, k) for t in (canvas, mask, target, *coarse)]
                yield *images[:3], labels, *images[3:]
            skip = 0

    def _to_device(self, batch):
        canvas, mask, target, labels, *coarse = batch
        move = lambda t: t.to(self.device, non_blocking=True, memory_format=torch.channels_last)  # noqa: E731
        labels = labels.to(self.device) if self.config.labels else None
        return move(canvas), move(mask), move(target), labels, *(move(c) for c in coarse)

    def evaluate(self) -> dict[str, float]:
        model = self.G_ema if self.G_ema is not None else self.G
        paste = self.config.task not in HIDDEN
        metrics = validate(model, self.val_set, self.device, self.config.val_limit, paste)
        metrics["step"] = self.step
        return metrics

    def _out_of_time(self, deadline: float | None) -> bool:
        """Past the wall-clock deadline; under DDP, agreed by all ranks so they stop together."""
        if deadline is None:
            return False
        late = time.monotonic() > deadline
        if self.dist.world > 1:
            flag = torch.tensor([float(late)], device=self.device if self.device.type == "cuda" else "cpu")
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            late = bool(flag.item())
        return late

    def _at(self, every: int) -> bool:
        """Whether this step is one of every N, or the last."""
        return self.step % every == 0 or self.step == self.config.steps

    def _due(self, every: int) -> bool:
        """Whether the main process logs/validates now: every N steps and at the last."""
        return self.dist.main and self._at(every)

    def train(self, time_limit: float | None = None, stop_at: int | None = None) -> list[dict]:
        """Train to `config.steps`, or until `time_limit` minutes have passed or step `stop_at`
        is reached (then validate and checkpoint there, so that --resume goes on with the same
        schedule); returns the per-step loss records of this call."""
        from tqdm import tqdm

        history: list[dict] = []
        log_path = self.out / "log.jsonl"
        if self.dist.main:
            for path in (log_path, self.out / "val.jsonl"):
                _drop_records_after(path, self.step)
        board = _tensorboard(self.out) if self.dist.main else None
        bar = tqdm(
            total=self.config.steps,
            initial=self.step,
            disable=self.quiet,
            unit="step",
            dynamic_ncols=True,
            file=sys.stderr,
        )
        t_last, n_last = time.perf_counter(), 0
        deadline = time.monotonic() + 60 * time_limit if time_limit else None
        for batch in self._step_batches():
            record = self.train_step(*batch)
            self.step += 1
            record["step"] = self.step
            history.append(record)
            n_last += 1
            if self._due(self.config.log_every):
                elapsed = time.perf_counter() - t_last
                record["images_per_s"] = n_last * self.config.batch * self.dist.world / elapsed
                t_last, n_last = time.perf_counter(), 0
                _append_json(log_path, record)
                _board_scalars(board, "train", record, self.step)
                bar.set_postfix(
                    g=f"{record['g_total']:.3f}",
                    d=f"{record.get('d_total', 0):.3f}",
                    ips=f"{record['images_per_s']:.1f}",
                )
            bar.update(1)
            out_of_time = self._out_of_time(deadline) or (stop_at is not None and self.step >= stop_at)
            if self._due(self.config.val_every) or (out_of_time and self.dist.main):
                self.last_val = self.evaluate()
                _append_json(self.out / "val.jsonl", self.last_val)
                _board_scalars(board, "val", self.last_val, self.step)
                save_grid(
                    self.G_ema or self.G,
                    self.val_set,
                    self.device,
                    self.out / "samples" / f"step_{self.step:07d}.png",
                )
                if not self.quiet:
                    bar.write(
                        f"step {self.step}: val PSNR {self.last_val['psnr']:.2f} dB "
                        f"(push-pull {self.last_val['psnr_pushpull']:.2f}), "
                        f"SSIM {self.last_val['ssim']:.4f}",
                        file=sys.stderr,
                    )
            if self._at(self.config.ckpt_every) or out_of_time:
                rngs = self._rng_states()  # every rank takes part; the main one saves
                if self.dist.main:
                    checkpoint.save(self.out / "latest.pt", self.state(rngs))
            if out_of_time:
                self._say(
                    f"stopped at step {self.step} (time limit or --stop-at); --resume latest.pt to go on"
                )
                break
        bar.close()
        if board is not None:
            board.close()
        if self.dist.world > 1:
            dist.barrier()
        return history


def _turned(t: torch.Tensor, k: int) -> torch.Tensor:
    """An NCHW batch under the k-th image symmetry (0: as it is), channels_last as trained."""
    if k == 0:
        return t
    return apply_symmetry(t, SYMMETRIES[k]).contiguous(memory_format=torch.channels_last)


WORKER_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    """Set environment variables for processes started inside the block, then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _tensorboard(folder: Path):
    """A TensorBoard writer when the tensorboard package is installed (optional), else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(folder / "tensorboard"))


def _board_scalars(board, prefix: str, record: dict, step: int) -> None:
    if board is None:
        return
    for key, value in record.items():
        if key != "step" and isinstance(value, (int, float)):
            board.add_scalar(f"{prefix}/{key}", value, step)


def _drop_records_after(path: Path, step: int) -> None:
    """Forget the records of steps after `step`: a resumed run trains them again, and its logs
    should read as those of one uninterrupted run. Lines cut short by a kill are dropped too."""
    if not path.exists():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = []
    for line in lines:
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except json.JSONDecodeError:
            pass
    if len(kept) < len(lines):
        partial = path.with_suffix(".tmp")
        partial.write_text("".join(kept))
        partial.replace(path)


def _append_json(path: Path, record: dict) -> None:
    with open(path, "a") as f:
        f.write(
            json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in record.items()}) + "\n"
        )
