import json
import os
import socket
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from sparsepix.errors import InputError
from sparsepix.train import checkpoint, corruptions
from sparsepix.train.config import LOSS_PROFILES, TrainConfig
from sparsepix.train.data import CorruptedImages, IndexRange, WithCoarseFill, list_images, split
from sparsepix.train.export import export
from sparsepix.train.loop import Trainer


def _smooth_images(folder, n: int, size: int = 48, seed: int = 0) -> None:
    """Low-frequency colour fields: learnable from sparse samples in a few dozen steps."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:size, 0:size] / size
    for i in range(n):
        f = rng.uniform(0.5, 2.5, (3, 2))
        p = rng.uniform(0, 6.3, (3, 2))
        img = np.stack(
            [np.sin(f[c, 0] * 3 * xx + p[c, 0]) * np.cos(f[c, 1] * 3 * yy + p[c, 1]) for c in range(3)], -1
        )
        Image.fromarray(((img + 1) * 127.5).astype(np.uint8)).save(folder / f"im{i:03d}.png")


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data") / "images"
    _smooth_images(folder, 24)
    return folder


def _config(image_dir, out, **kw) -> TrainConfig:
    base = dict(
        data=(str(image_dir),),
        out=str(out),
        preset="tiny",
        crop=32,
        batch=2,
        steps=4,
        val_count=4,
        val_every=1000,
        ckpt_every=2,
        log_every=1,
        workers=0,
        device="cpu",
        task="sparse",
    )
    base.update(kw)
    return TrainConfig(**base)


# -- corruptions ---------------------------------------------------------------------------


def test_sparse_density_within_range():
    img = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    for seed in range(20):
        for fn in (corruptions.sparse_random, corruptions.sparse_sobel):
            canvas, mask = fn(img, np.random.default_rng(seed), density=(0.02, 0.1))
            assert 0.02 * 4096 - 1 <= mask.sum() <= 0.1 * 4096 + 1
            assert (canvas[~mask] == 0).all() and np.array_equal(canvas[mask], img[mask])


def test_densities_are_drawn_uniformly_from_the_range():
    draws = [corruptions.draw_density(np.random.default_rng(s), (0.01, 0.20)) for s in range(2000)]
    assert np.array_equal(draws, [np.random.default_rng(s).uniform(0.01, 0.20) for s in range(2000)])


def test_lossy_values_match_the_codec_quantiser():
    from skimage import data

    img = data.astronaut()[100:164, 150:214]
    canvas, known = corruptions.sparse_random(img, np.random.default_rng(0), density=(0.1, 0.1))
    errors = {}
    for quality in (40, 65, 100):
        out = corruptions.lossy_values(canvas, known, np.random.default_rng(1), quality)
        assert (out[~known] == 0).all()
        errors[quality] = np.abs(out[known].astype(int) - img[known]).mean()
    # Coarser steps, larger errors; the finest level's chroma is predicted even at quality 100.
    assert errors[40] > errors[65] > errors[100] > 0


def test_tuned_values_are_what_an_optimising_encoder_stores(image_dir, tmp_path):
    from sparsepix.codec.tonal import optimize_linear

    img = np.asarray(Image.open(sorted(image_dir.iterdir())[0]))
    canvas, known = corruptions.sparse_random(img, np.random.default_rng(0), density=(0.1, 0.1))
    tuned = corruptions.linear_tuned_values(img, known, 30)
    assert (tuned[~known] == 0).all()
    assert np.array_equal(tuned[known], optimize_linear(img, known, iterations=30))
    assert not np.array_equal(tuned, canvas)
    plain = CorruptedImages(list_images((str(image_dir),)), _config(image_dir, tmp_path), train=True)
    opt = CorruptedImages(
        list_images((str(image_dir),)), _config(image_dir, tmp_path, optimize=30), train=True
    )
    (c0, m0, t0, _), (c1, m1, t1, _) = plain[5], opt[5]
    assert torch.equal(m0, m1) and torch.equal(t0, t1) and not torch.equal(c0, c1)


def test_hidden_task_validation_scores_the_network_not_its_input(image_dir, tmp_path):
    """Colour noise marks every pixel "known": pasting those back would score the input."""
    Trainer(_config(image_dir, tmp_path, steps=1, task="color-noise"), quiet=True).train()
    val = json.loads((tmp_path / "val.jsonl").read_text().splitlines()[-1])
    assert val["psnr"] != val["psnr_pushpull"]  # push-pull of an all-known canvas is the input


def test_color_noise_share():
    img = np.zeros((100, 100, 3), np.uint8)
    canvas, known = corruptions.color_noise(img, np.random.default_rng(1))
    changed = (canvas != 0).any(-1).mean()
    assert 0.83 < changed < 0.96 and known.all()


def test_white_block_is_centred_half_side():
    img = np.zeros((256, 256, 3), np.uint8)
    canvas, known = corruptions.white_block(img, np.random.default_rng(0))
    assert (~known).sum() == 128 * 128 and not known[64:192, 64:192].any()
    assert (canvas[64:192, 64:192] == 255).all() and (canvas[:64] == 0).all()


def test_free_form_holes_are_seeded_and_reach_their_coverage():
    for coverage in (0.1, 0.25, 0.4):
        holes = corruptions.free_form_holes(96, 128, np.random.default_rng(5), coverage)
        again = corruptions.free_form_holes(96, 128, np.random.default_rng(5), coverage)
        assert np.array_equal(holes, again) and coverage <= holes.mean() < coverage + 0.1
    canvas, known = corruptions.inpaint(np.full((64, 64, 3), 9, np.uint8), np.random.default_rng(0))
    assert 0.05 <= 1 - known.mean() < 0.6 and (canvas[~known] == 0).all() and (canvas[known] == 9).all()


def test_an_inpainting_model_trains(image_dir, tmp_path):
    Trainer(_config(image_dir, tmp_path, steps=1, task="inpaint"), quiet=True).train()
    assert (tmp_path / "latest.pt").is_file()


def test_color_block_pastes_a_donor_patch_of_up_to_half_the_side():
    img = np.zeros((128, 128, 3), np.uint8)
    donor = np.full((128, 128, 3), 200, np.uint8)
    sides = []
    for seed in range(200):
        canvas, known = corruptions.color_block(img, np.random.default_rng(seed), donor)
        sides.append(int(np.sqrt((canvas[..., 0] == 200).sum())))
        assert known.all()
    assert min(sides) == 16 and max(sides) == 64  # the paper's 16-128 px of 256
    canvas, _ = corruptions.color_block(img, np.random.default_rng(3), donor, size=(100, 100))
    assert (canvas[..., 0] == 200).sum() == 100 * 100


def test_block_holes_are_squares_of_the_colour_blocks_sizes():
    img = np.full((128, 128, 3), 7, np.uint8)
    sides = []
    for seed in range(200):
        canvas, known = corruptions.block_holes(img, np.random.default_rng(seed))
        side = int(np.sqrt((~known).sum()))
        rows, cols = np.nonzero(~known)
        assert (~known).sum() == side * side and np.ptp(rows) == np.ptp(cols) == side - 1
        assert (canvas[~known] == 0).all() and (canvas[known] == 7).all()
        sides.append(side)
    assert min(sides) == 16 and max(sides) == 64


# -- data ------------------------------------------------------------------------------------


def test_data_is_deterministic_per_index(image_dir, tmp_path):
    paths = list_images((str(image_dir),))
    train, val = split(paths, 4)
    assert [p.name for p in val] == ["im020.png", "im021.png", "im022.png", "im023.png"]
    ds = CorruptedImages(train, _config(image_dir, tmp_path), train=True)
    a, b = ds[5], ds[5]
    assert all(torch.equal(x, y) for x, y in zip(a[:3], b[:3]))
    assert not torch.equal(ds[5][2], ds[6][2])
    assert list(IndexRange(3, 5, 2, rank=1, world=2)) == [14, 15, 18, 19]


# -- training ----------------------------------------------------------------------------------


def test_checkpoint_round_trip(image_dir, tmp_path):
    t = Trainer(_config(image_dir, tmp_path / "a", steps=2), quiet=True)
    t.train()
    state = checkpoint.load(tmp_path / "a" / "latest.pt")
    assert state["step"] == 2 and state["config"]["preset"] == "tiny"
    t2 = Trainer(
        _config(image_dir, tmp_path / "a", steps=3), resume=str(tmp_path / "a" / "latest.pt"), quiet=True
    )
    assert t2.step == 2
    for a, b in zip(t.G.state_dict().values(), t2.G.state_dict().values()):
        assert torch.equal(a, b)
    assert t2.opt_g.state_dict()["state"].keys() == t.opt_g.state_dict()["state"].keys()


@pytest.mark.parametrize(
    "loss,preset,schedule",
    [
        ("xgan", "tiny", "constant"),
        ("l1", "tiny", "constant"),
        ("l1", "tiny-refine", "constant"),
        ("l2", "tiny-refine", "constant"),
    ],
)
def test_resume_is_exact(image_dir, tmp_path, loss, preset, schedule):
    kw = dict(loss_profile=loss, weights=LOSS_PROFILES[loss], preset=preset, schedule=schedule)
    straight = Trainer(_config(image_dir, tmp_path / "s", steps=4, **kw), quiet=True).train()
    first = Trainer(_config(image_dir, tmp_path / "r", steps=2, **kw), quiet=True).train()
    second = Trainer(
        _config(image_dir, tmp_path / "r", steps=4, **kw),
        resume=str(tmp_path / "r" / "latest.pt"),
        quiet=True,
    ).train()
    assert [r["step"] for r in first + second] == [1, 2, 3, 4]
    for a, b in zip(straight, first + second):
        assert a.keys() == b.keys()
        for key in a:
            if key != "images_per_s":
                assert a[key] == b[key], (key, a, b)


def _step_batches(trainer: Trainer, n: int) -> list:
    """The first n batches the training loop would step on (the loop's own step count advanced)."""
    out = []
    for batch in trainer._step_batches():
        out.append(batch)
        trainer.step += 1
        if len(out) == n:
            break
    return out


def test_echo_serves_each_batch_under_successive_symmetries(image_dir, tmp_path):
    """--echo 3: steps 0, 1, 2 train on data batch 0 as it is, mirrored, upside down; step 3 on
    data batch 1, which is echo 1's second batch. The fill (tiny-refine) turns with the rest."""
    from sparsepix.models.inference import SYMMETRIES, apply_symmetry

    kw = dict(preset="tiny-refine", steps=5)
    plain = _step_batches(Trainer(_config(image_dir, tmp_path / "a", **kw), quiet=True), 2)
    echoed = _step_batches(Trainer(_config(image_dir, tmp_path / "b", echo=3, **kw), quiet=True), 5)
    assert len(plain[0]) == len(echoed[0]) == 5  # canvas, mask, target, labels (none here), fill
    for step, batch in enumerate(echoed):
        source = plain[step // 3]
        for i in (0, 1, 2, 4):
            assert torch.equal(batch[i], apply_symmetry(source[i], SYMMETRIES[step % 3])), (step, i)
        assert batch[3] is None and source[3] is None
    assert not torch.equal(echoed[0][0], echoed[1][0])


def test_resume_inside_an_echoed_batch_is_exact(image_dir, tmp_path):
    kw = dict(preset="tiny-refine", loss_profile="l2", weights=LOSS_PROFILES["l2"], echo=3)
    straight = Trainer(_config(image_dir, tmp_path / "s", steps=5, **kw), quiet=True).train()
    first = Trainer(_config(image_dir, tmp_path / "r", steps=5, **kw), quiet=True).train(stop_at=2)
    resume = str(tmp_path / "r" / "latest.pt")
    second = Trainer(_config(image_dir, tmp_path / "r", steps=5, **kw), resume=resume, quiet=True).train()
    assert [r["step"] for r in first + second] == [1, 2, 3, 4, 5]
    for a, b in zip(straight, first + second):
        assert {k: v for k, v in a.items() if k != "images_per_s"} == {
            k: v for k, v in b.items() if k != "images_per_s"
        }


def test_cli_resume_needs_no_data(image_dir, tmp_path):
    from click.testing import CliRunner

    from sparsepix.train.cli import train

    run = tmp_path / "run"
    common = ["--out", str(run), "--workers", "0", "--device", "cpu"]
    first = CliRunner().invoke(
        train,
        ["--data", str(image_dir), "--preset", "tiny", "--crop", "32", "--batch", "2"]
        + ["--val-count", "4", "--steps", "1", "--ckpt-every", "1", "--seed", "7"]
        + common,
    )
    assert first.exit_code == 0, first.output
    # The checkpoint knows its folders (and every other setting): resuming names none.
    resumed = CliRunner().invoke(train, ["--resume", str(run / "latest.pt"), "--steps", "2"] + common)
    assert resumed.exit_code == 0, resumed.output
    state = checkpoint.load(run / "latest.pt")
    assert state["step"] == 2 and list(state["config"]["data"]) == [str(image_dir)]
    assert state["config"]["seed"] == 7
    neither = CliRunner().invoke(train, common)
    assert neither.exit_code == 2 and "--data" in neither.output
    no_out = CliRunner().invoke(train, ["--data", str(image_dir), "--workers", "0"])
    assert no_out.exit_code == 2 and "--out" in no_out.output


def test_cli_resume_alone_continues_the_run_as_planned(image_dir, tmp_path):
    from click.testing import CliRunner

    from sparsepix.train.cli import train

    run = tmp_path / "run"
    cut = CliRunner().invoke(
        train,
        ["--data", str(image_dir), "--out", str(run), "--preset", "tiny", "--crop", "32"]
        + ["--batch", "2", "--val-count", "4", "--steps", "3", "--stop-at", "1"]
        + ["--schedule", "cosine", "--workers", "0", "--device", "cpu"],
    )
    assert cut.exit_code == 0, cut.output
    assert checkpoint.load(run / "latest.pt")["step"] == 1
    # No --out, no --steps: the checkpoint's folder and its own total (the cosine's end).
    resumed = CliRunner().invoke(train, ["--resume", str(run / "latest.pt"), "--workers", "0"])
    assert resumed.exit_code == 0, resumed.output
    state = checkpoint.load(run / "latest.pt")
    assert state["step"] == 3 and state["config"]["steps"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_bf16_autocast_on_the_cpu_unless_turned_off(image_dir, tmp_path, monkeypatch):
    import sparsepix.train.loop as loop

    monkeypatch.setattr(loop, "cpu_has_native_bf16", lambda: True)
    kw = dict(preset="tiny-refine", loss_profile="l2", weights=LOSS_PROFILES["l2"], steps=2)
    fast = Trainer(_config(image_dir, tmp_path / "a", **kw), quiet=True)
    exact = Trainer(_config(image_dir, tmp_path / "b", amp_cpu=False, **kw), quiet=True)
    assert fast.cpu_bf16 and not exact.cpu_bf16
    # The same batches from the same weights; the residual head starts at zero, so the runs part
    # at the second step, after one update from gradients rounded differently.
    last_fast, last_exact = fast.train()[-1]["g_l2"], exact.train()[-1]["g_l2"]
    assert last_fast != last_exact
    assert last_fast == pytest.approx(last_exact, rel=0.02)
    # Runs saved before the option existed trained in fp32, and resume so.
    old = {k: v for k, v in fast.config.to_dict().items() if k != "amp_cpu"}
    assert TrainConfig.from_dict(old).amp_cpu is False


def test_l2_profile_trains_on_squared_error_alone(image_dir, tmp_path):
    cfg = _config(image_dir, tmp_path, loss_profile="l2", weights=LOSS_PROFILES["l2"], steps=2)
    trainer = Trainer(cfg, quiet=True)
    records = trainer.train()
    assert not trainer.adversarial
    for r in records:
        assert {k for k in r if k.startswith("g_")} == {"g_l2", "g_total"}
        assert r["g_l2"] == pytest.approx(r["g_total"])


def test_coarse_fill_from_the_workers_equals_the_generators_own(image_dir, tmp_path):
    trainer = Trainer(_config(image_dir, tmp_path, preset="tiny-refine"), quiet=True)
    assert isinstance(trainer.train_set, WithCoarseFill)
    canvas, mask, _, _, coarse = trainer.train_set[3]
    assert torch.equal(coarse, trainer.G.coarse_fill((canvas * mask)[None], mask[None])[0])
    trainer.G.eval()
    torch.nn.init.normal_(trainer.G.head[1].weight, 0, 0.05)  # a non-trivial refinement
    with torch.no_grad():
        given = trainer.G(canvas[None], mask[None], coarse[None])
        own = trainer.G(canvas[None], mask[None])
    assert torch.equal(given, own)
    plain = Trainer(_config(image_dir, tmp_path / "p", preset="tiny"), quiet=True)
    assert not isinstance(plain.train_set, WithCoarseFill)  # no Delaunay work it would not use


def test_cosine_schedule_runs_from_lr_to_zero(image_dir, tmp_path):
    trainer = Trainer(_config(image_dir, tmp_path, steps=4, lr=1e-3, schedule="cosine"), quiet=True)
    rates = []
    for step in range(5):
        trainer.step = step
        rates.append(trainer.learning_rate())
    assert rates[0] == pytest.approx(1e-3) and rates[2] == pytest.approx(5e-4) and rates[4] == 0
    assert Trainer(_config(image_dir, tmp_path / "c", lr=1e-3), quiet=True).learning_rate() == 1e-3


def test_warmup_ramps_the_rate_up_then_follows_the_schedule(image_dir, tmp_path):
    kw = dict(steps=8, lr=1e-3, warmup=4)
    for schedule in ("constant", "cosine"):
        trainer = Trainer(_config(image_dir, tmp_path / schedule, schedule=schedule, **kw), quiet=True)
        plain_config = _config(image_dir, tmp_path / f"{schedule}-0", schedule=schedule, **kw)
        plain = Trainer(replace(plain_config, warmup=0), quiet=True)
        rates, plain_rates = [], []
        for step in range(8):
            trainer.step = plain.step = step
            rates.append(trainer.learning_rate())
            plain_rates.append(plain.learning_rate())
        assert rates[:4] == pytest.approx([(i + 1) / 4 * r for i, r in enumerate(plain_rates[:4])])
        assert rates[4:] == pytest.approx(plain_rates[4:])


def test_time_limit_stops_with_a_checkpoint_that_resumes_exactly(image_dir, tmp_path):
    # Cosine: the rate depends on --steps, so the cut run and the straight one share it.
    kw = dict(steps=4, ckpt_every=1000, schedule="cosine")
    straight = Trainer(_config(image_dir, tmp_path / "s", **kw), quiet=True).train()
    cut = Trainer(_config(image_dir, tmp_path / "r", **kw), quiet=True)
    history = cut.train(time_limit=1e-6)  # already past the deadline after the first step
    assert [r["step"] for r in history] == [1]
    replay = Trainer(_config(image_dir, tmp_path / "p", **kw), quiet=True).train(stop_at=1)
    assert replay == [{**history[0], "images_per_s": replay[0]["images_per_s"]}]
    assert checkpoint.load(tmp_path / "r" / "latest.pt")["step"] == 1
    assert json.loads((tmp_path / "r" / "val.jsonl").read_text())["step"] == 1
    resumed = Trainer(
        _config(image_dir, tmp_path / "r", **kw), resume=str(tmp_path / "r" / "latest.pt"), quiet=True
    )
    history += resumed.train()
    assert [r["step"] for r in history] == [1, 2, 3, 4]
    for a, b in zip(straight, history):
        assert a["g_total"] == b["g_total"] and a["d_total"] == b["d_total"]


def test_resumed_logs_read_as_one_run(image_dir, tmp_path):
    # A run killed after logging step 3 with its last checkpoint at step 2: the resumed run trains
    # step 3 again, and the logs must hold it once (and not the torn line a kill can leave).
    Trainer(_config(image_dir, tmp_path, steps=2, val_every=1), quiet=True).train()
    for name in ("log.jsonl", "val.jsonl"):
        with open(tmp_path / name, "a") as f:
            f.write('{"g_total": 0.5, "psnr": 9.0, "step": 3}\n{"g_total": 0.1, "st')
    Trainer(
        _config(image_dir, tmp_path, steps=4, val_every=1), resume=str(tmp_path / "latest.pt"), quiet=True
    ).train()
    for name in ("log.jsonl", "val.jsonl"):
        records = [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]
        assert [r["step"] for r in records] == [1, 2, 3, 4], name
        assert records[2]["g_total" if name == "log.jsonl" else "psnr"] not in (0.5, 9.0)


def test_logs_and_grid_are_written(image_dir, tmp_path):
    Trainer(_config(image_dir, tmp_path, steps=2, val_every=2), quiet=True).train()
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2] and "g_gan" in log[0] and "d_total" in log[0]
    val = json.loads((tmp_path / "val.jsonl").read_text().splitlines()[-1])
    assert {"psnr", "ssim", "psnr_pushpull", "step"} <= val.keys()
    assert (tmp_path / "samples" / "step_0000002.png").exists()


def test_export_writes_fp16_weights_and_card(image_dir, tmp_path):
    Trainer(_config(image_dir, tmp_path / "run", steps=2), quiet=True).train()
    weights, card = export(tmp_path / "run" / "latest.pt", "toy", tmp_path / "w")
    payload = torch.load(weights, weights_only=True)
    assert all(v.dtype == torch.float16 for v in payload["state_dict"].values() if v.is_floating_point())
    info = json.loads(card.read_text())
    assert info["steps"] == 2 and info["ema"] and len(info["sha256"]) == 64
    assert info["validation"]["of"] == "ema" and info["validation"]["step"] == 2
    _, card = export(tmp_path / "run" / "latest.pt", "toy", tmp_path / "w", use_ema=False)
    info = json.loads(card.read_text())
    assert not info["ema"] and info["validation"]["of"] == "ema"  # what the run scored
    assert "ensemble" not in info  # decoders then make one pass
    _, card = export(tmp_path / "run" / "latest.pt", "toy", tmp_path / "w", ensemble=2)
    assert json.loads(card.read_text())["ensemble"] == 2
    with pytest.raises(InputError):
        export(tmp_path / "run" / "latest.pt", "toy", tmp_path / "w", ensemble=3)


def _ddp_worker(rank: int, world: int, port: int, image_dir: str, out: str, steps: int, resume: bool) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
    )
    torch.set_num_threads(1)
    config = _config(image_dir, out, steps=steps, loss_profile="xgan")
    trainer = Trainer(config, resume=os.path.join(out, "latest.pt") if resume else None, quiet=True)
    records = trainer.train()
    flat = torch.cat([p.detach().flatten() for p in trainer.G.parameters()])
    flat_d = torch.cat([p.detach().flatten() for p in trainer.D.parameters()])
    torch.save(
        {"params": flat, "d": flat_d, "records": records}, os.path.join(out, f"rank{rank}_to{steps}.pt")
    )
    torch.distributed.destroy_process_group()


def _ddp(image_dir, out, steps: int, resume: bool = False) -> list[dict]:
    """Train two gloo processes to `steps`; each rank's weights and log records."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = (2, port, str(image_dir), str(out), steps, resume)
    torch.multiprocessing.spawn(_ddp_worker, args=args, nprocs=2)
    return [torch.load(out / f"rank{r}_to{steps}.pt") for r in (0, 1)]


def test_ddp_two_processes_on_cpu_agree_and_resume_exactly(image_dir, tmp_path):
    """The real loop in two processes (gloo, as several hosts would run it): both ranks hold the
    same weights, and 2 steps + resume + 2 steps ends where 4 straight steps do."""
    straight = _ddp(image_dir, tmp_path / "s", 4)
    for part in ("params", "d"):  # generator and discriminator: gradients averaged over ranks
        assert torch.equal(straight[0][part], straight[1][part]), part
    assert checkpoint.load(tmp_path / "s" / "latest.pt")["step"] == 4
    _ddp(image_dir, tmp_path / "r", 2)
    resumed = _ddp(image_dir, tmp_path / "r", 4, resume=True)
    assert torch.equal(resumed[0]["params"], straight[0]["params"])
    assert [r["g_total"] for r in resumed[0]["records"]] == [r["g_total"] for r in straight[0]["records"][2:]]


@pytest.mark.slow
def test_training_beats_the_untrained_network(tmp_path):
    _smooth_images(tmp_path / "smooth", 40, size=48, seed=5)
    cfg = _config(
        tmp_path / "smooth",
        tmp_path / "run",
        preset="tiny-resgan",
        steps=150,
        batch=4,
        crop=32,
        loss_profile="l1",
        weights=LOSS_PROFILES["l1"],
        ema_decay=0.0,
        val_count=6,
        density_min=0.05,
        density_max=0.2,
        lr=1e-3,
    )
    trainer = Trainer(cfg, quiet=True)
    before = trainer.evaluate()["psnr"]
    trainer.train()
    after = trainer.evaluate()["psnr"]
    assert after > before + 3, (before, after)


def test_classifier_head_on_a_tiny_labelled_set(tmp_path):
    """ResGAN's embedded classifier: folder-per-class labels reach D's head and its loss falls."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:48]
    for k, name in enumerate(["horizontal", "vertical"]):  # stripes: separable by orientation
        folder = tmp_path / "labelled" / name
        folder.mkdir(parents=True)
        for i in range(8):
            stripes = np.sin(2 * np.pi * (yy if k == 0 else xx) / rng.uniform(6, 12) + rng.uniform(0, 6))
            img = 127 + 100 * stripes[..., None] + rng.normal(0, 10, (48, 48, 3))
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"{i}.png")
    cfg = _config(
        tmp_path / "labelled",
        tmp_path / "run",
        labels=True,
        steps=30,
        batch=4,
        val_count=2,
        loss_profile="xgan",
        weights=LOSS_PROFILES["xgan"],
        lr=1e-3,
    )
    trainer = Trainer(cfg, quiet=True)
    assert trainer.classes == ["horizontal", "vertical"] and trainer.D.classifier.out_features == 2
    history = trainer.train()
    assert all("g_cls" in r and "d_cls" in r for r in history)
    first, last = np.mean([r["d_cls"] for r in history[:5]]), np.mean([r["d_cls"] for r in history[-5:]])
    assert last < first


def test_init_from_exported_weights(image_dir, tmp_path):
    first = Trainer(_config(image_dir, tmp_path / "a", steps=2), quiet=True)
    first.train()
    weights, _ = export(tmp_path / "a" / "latest.pt", "toy", tmp_path / "w")
    tuned = Trainer(_config(image_dir, tmp_path / "b", steps=2, init=str(weights)), quiet=True)
    for name, value in tuned.G.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(value, first.G_ema.state_dict()[name].half().float())
    with pytest.raises(Exception, match="preset builds"):
        Trainer(
            _config(image_dir, tmp_path / "c", steps=2, preset="tiny-resgan", init=str(weights)), quiet=True
        )


def test_resume_and_export_refuse_what_is_not_a_training_checkpoint(image_dir, tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint\n")
    with pytest.raises(InputError, match="cannot read checkpoint"):
        checkpoint.load(junk)
    Trainer(_config(image_dir, tmp_path / "a", steps=1), quiet=True).train()
    weights, _ = export(tmp_path / "a" / "latest.pt", "toy", tmp_path / "w")
    for bad in (junk, weights):  # exported weights start a run (--init), they do not resume one
        with pytest.raises(InputError):
            Trainer(_config(image_dir, tmp_path / "b", steps=2), resume=str(bad), quiet=True)
        with pytest.raises(InputError):
            export(bad, "again", tmp_path / "w2")
    with pytest.raises(InputError, match="not a training checkpoint"):
        checkpoint.load_run(weights)


def test_crops_flip_left_right_half_the_time():
    from sparsepix.train.data import random_crop

    image = np.arange(16, dtype=np.uint8).reshape(4, 4, 1)
    for i in range(20):  # the crop's place, then one left-right coin, as runs always drew
        rng = np.random.default_rng(i)
        rng.integers(0, 1), rng.integers(0, 1)
        expected = image[:, ::-1] if rng.random() < 0.5 else image
        assert np.array_equal(random_crop(image, 4, np.random.default_rng(i)), expected)


def test_checkpoints_with_removed_options_still_load():
    saved = TrainConfig(data=("d",), out="o").to_dict()
    saved.update(density_law="log", augment="dihedral")
    saved["weights"]["psnr"] = 1.0
    assert TrainConfig.from_dict(saved).weights == TrainConfig(data=("d",), out="o").weights


def _grown_pair(old, new, grow, mode: str, atol: float = 1e-5):
    """A non-trivial `old` generator and its growth into `new`, both in `mode`, checked to compute
    the same image; returns them with the input they were checked on."""
    from sparsepix.models.generator import Generator
    from sparsepix.train.warmstart import init_weights

    torch.manual_seed(0)
    small = Generator(old)
    small.apply(init_weights)
    torch.nn.init.normal_(small.head[1].weight, 0, 0.05)  # not the zero head of a fresh network
    big = Generator(new)
    big.load_state_dict(grow(small.state_dict(), old, new))
    assert sum(p.numel() for p in big.parameters()) > sum(p.numel() for p in small.parameters())
    getattr(small, mode)()
    getattr(big, mode)()
    canvas, mask = torch.rand(2, 3, 24, 28) * 2 - 1, (torch.rand(2, 1, 24, 28) < 0.2).float()
    with torch.no_grad():
        assert torch.allclose(big(canvas, mask), small(canvas, mask), atol=atol)
    return small, big, canvas, mask


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_grown_generator_computes_what_the_shallow_one_did(mode):
    from sparsepix.models.config import PRESETS
    from sparsepix.train.warmstart import grow_blocks

    old = PRESETS["tiny-refine"][0]
    new = replace(old, n_blocks=old.n_blocks + 3)
    shallow, _, _, _ = _grown_pair(old, new, grow_blocks, mode, atol=1e-6)
    with pytest.raises(Exception, match="cannot grow"):
        grow_blocks(shallow.state_dict(), old, replace(new, ngf=16))


@pytest.mark.parametrize("norm", ["batch", "instance"])
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_widened_generator_computes_what_the_narrow_one_did(mode, norm):
    from sparsepix.models.config import PRESETS
    from sparsepix.train.warmstart import widen

    old = replace(PRESETS["tiny-refine"][0], norm=norm)
    new = replace(old, ngf=12)
    narrow, wide, canvas, mask = _grown_pair(old, new, widen, mode)
    assert sum(p.numel() for p in wide.parameters()) > 2 * sum(p.numel() for p in narrow.parameters())
    # The new channels are not dead: the weights that read them get gradients at once.
    wide.train()
    ((wide(canvas, mask) - canvas) ** 2).mean().backward()
    assert wide.head[1].weight.grad[:, 8:12].abs().sum() > 0
    with pytest.raises(Exception, match="cannot widen"):
        widen(narrow.state_dict(), old, replace(new, n_blocks=3))
    with pytest.raises(Exception, match="does not fit"):
        widen(wide.state_dict(), old, new)


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_init_grows_width_and_depth_at_once(mode, tmp_path):
    """refine-16 -> refine-32-deep in miniature: `--init` deepens and widens in one go, exactly."""
    from sparsepix.models.config import PRESETS
    from sparsepix.train.warmstart import initial_generator

    def through_exported_file(weights, old, new):
        path = tmp_path / "weights.pt"
        torch.save({"format": "sparsepix-generator-1", "config": old.to_dict(), "state_dict": weights}, path)
        return initial_generator(str(path), new)

    old = PRESETS["tiny-refine"][0]
    _grown_pair(old, replace(old, ngf=2 * old.ngf, n_blocks=2 * old.n_blocks), through_exported_file, mode)


def test_init_grows_shallower_narrower_weights_to_the_preset(image_dir, tmp_path, monkeypatch):
    from sparsepix.models import config as model_config

    Trainer(_config(image_dir, tmp_path / "a", steps=2, preset="tiny-refine"), quiet=True).train()
    weights, _ = export(tmp_path / "a" / "latest.pt", "toy", tmp_path / "w")
    gen, disc = model_config.PRESETS["tiny-refine"]
    bigger = replace(gen, n_blocks=4, ngf=12)
    monkeypatch.setitem(model_config.PRESETS, "tiny-refine-grown", (bigger, disc))
    grown = Trainer(
        _config(image_dir, tmp_path / "b", preset="tiny-refine-grown", init=str(weights)), quiet=True
    )
    assert grown.gen_config == bigger
    assert grown.train()[0]["g_total"] > 0
    with pytest.raises(Exception, match="preset builds"):  # shallower than the weights: refused
        monkeypatch.setitem(model_config.PRESETS, "tiny-refine-shallow", (replace(gen, n_blocks=1), disc))
        Trainer(
            _config(image_dir, tmp_path / "c", preset="tiny-refine-shallow", init=str(weights)), quiet=True
        )


def test_tensorboard_scalars_when_installed(image_dir, tmp_path):
    pytest.importorskip("tensorboard")
    Trainer(_config(image_dir, tmp_path, steps=2, val_every=2), quiet=True).train()
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
