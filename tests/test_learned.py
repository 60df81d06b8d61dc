"""Learned reconstructors: loading shipped weights safely, tiling, and use through the codec."""

import json

import numpy as np
import pytest
import torch

import sparsepix
from sparsepix.errors import InputError, ModelError
from sparsepix.models.config import GeneratorConfig
from sparsepix.models.generator import Generator
from sparsepix.models.inference import generate
from sparsepix.models.registry import (
    load_generator,
    read_card,
    read_cards,
    reconstruct_batch_with,
    reconstruct_with,
    shipped,
)
from sparsepix.train.export import export


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """Export an untrained tiny generator through the real export path."""
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    g = Generator(GeneratorConfig(ngf=8, n_blocks=1, passthrough=True))
    ckpt = folder / "ckpt.pt"
    torch.save(
        {
            "G": g.state_dict(),
            "G_ema": None,
            "gen_config": g.config.to_dict(),
            "step": 0,
            "config": {"preset": "test"},
        },
        ckpt,
    )
    export(ckpt, "toy", folder)
    return read_card(folder / "toy.json")


def test_card_and_load(tiny_model):
    assert str(tiny_model.ref) == "toy@1"
    g = load_generator(tiny_model, torch.device("cpu"))
    assert not g.training and all(p.dtype == torch.float32 for p in g.parameters())


def test_tampered_weights_are_refused(tiny_model, tmp_path):
    bad = tmp_path / "toy.pt"
    blob = bytearray(tiny_model.path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    bad.write_bytes(bytes(blob))
    card = json.loads((tiny_model.path.parent / "toy.json").read_text())
    (tmp_path / "toy.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="SHA-256"):
        load_generator(read_card(tmp_path / "toy.json"), torch.device("cpu"))
    (tmp_path / "broken.json").write_text("{")
    models, broken = read_cards(tmp_path)
    assert "toy" in models and "broken model card" in broken["broken"]  # one card, one model


def test_weights_that_do_not_load_are_a_model_error(tiny_model, tmp_path):
    """A file whose SHA-256 matches its card can still be the wrong thing: typed, one line."""
    import hashlib
    import pickle

    card = json.loads((tiny_model.path.parent / "toy.json").read_text())
    for name, blob in {
        "pickle": pickle.dumps({"state_dict": print}),  # refused by weights_only loading
        "tensors": _saved({"state_dict": {"head.1.weight": torch.zeros(2)}, "config": {}}),
    }.items():
        (tmp_path / f"{name}.pt").write_bytes(blob)
        card.update(name=name, file=f"{name}.pt", sha256=hashlib.sha256(blob).hexdigest())
        (tmp_path / f"{name}.json").write_text(json.dumps(card))
        with pytest.raises(ModelError, match="does not load"):
            load_generator(read_card(tmp_path / f"{name}.json"), torch.device("cpu"))


def _saved(obj) -> bytes:
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def test_a_broken_card_disables_only_its_model(monkeypatch, astronaut):
    from sparsepix import catalog
    from sparsepix.models import registry

    monkeypatch.setattr(registry, "learned", lambda: {})
    monkeypatch.setattr(registry, "broken", lambda: {"natural": "broken model card natural.json: x"})
    with pytest.raises(ModelError, match="broken model card"):
        catalog.get("natural")
    with pytest.raises(ModelError, match="broken model card"):
        catalog.for_file("natural@8")
    data = sparsepix.encode(astronaut[:32, :32], density=0.1, model="linear")
    assert sparsepix.decode(data).shape == (32, 32, 3)


def test_reconstruct_rgb_and_gray(tiny_model):
    rng = np.random.default_rng(0)
    canvas = rng.integers(0, 256, (21, 35, 3), dtype=np.uint8)
    mask = rng.random((21, 35)) < 0.2
    out = reconstruct_with(tiny_model, canvas * mask[..., None], mask, "cpu")
    assert out.shape == (21, 35, 3) and out.dtype == np.uint8
    gray = reconstruct_with(tiny_model, canvas[..., :1] * mask[..., None], mask, "cpu")
    assert gray.shape == (21, 35, 1)


def test_batched_reconstruction_equals_one_by_one(tiny_model):
    """Same-sized images share network calls (two groups here), a larger one is tiled alone, a
    grey one goes through the RGB model; each output equals its one-image decode."""
    from sparsepix.models import tiles

    rng = np.random.default_rng(1)
    shapes = [(21, 35, 3), (21, 35, 3), (40, 24, 3), (21, 35, 1), (21, 35, 3), (70, 90, 3)]
    canvases = [rng.integers(0, 256, s, dtype=np.uint8) for s in shapes]
    masks = [rng.random(s[:2]) < 0.2 for s in shapes]
    canvases = [c * m[..., None] for c, m in zip(canvases, masks)]
    one_by_one = [reconstruct_with(tiny_model, c, m, "cpu") for c, m in zip(canvases, masks)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tiles, "MAX_PIXELS_ONE_PASS", 70 * 90 - 1)  # the last image tiles
        batched = reconstruct_batch_with(tiny_model, canvases, masks, "cpu", batch=2)
    for a, b in zip(one_by_one, batched):
        assert a.shape == b.shape and np.abs(a.astype(int) - b).max() <= 1


def test_decode_many_matches_decode_and_reports_bad_files(astronaut):
    import sparsepix

    datas = [sparsepix.encode(astronaut[:64, :96], density=d) for d in (0.05, 0.1)]  # the default model
    datas += [b"not a file", sparsepix.encode(astronaut[:64, :96, 0], density=0.05)]
    out = sparsepix.decode_many(datas, errors="return", batch=2)
    assert isinstance(out[2], sparsepix.BitstreamError)
    for data, image in zip(datas[:2] + datas[3:], out[:2] + out[3:]):
        assert np.array_equal(image, sparsepix.decode(data))
    with pytest.raises(sparsepix.BitstreamError):
        sparsepix.decode_many(datas)
    with pytest.raises(sparsepix.InputError):
        sparsepix.decode_many(datas, batch=0)


def test_cpu_bf16_decode_stays_within_a_level_or_two_of_fp32(tiny_model, astronaut, monkeypatch):
    from sparsepix.models import inference

    g = load_generator(tiny_model, torch.device("cpu"))
    mask = np.random.default_rng(2).random(astronaut.shape[:2]) < 0.05
    canvas = astronaut[:256, :256] * mask[:256, :256, None]
    cpu = torch.device("cpu")
    monkeypatch.setattr(inference, "cpu_has_native_bf16", lambda: True)
    assert inference.autocast_dtype(cpu) == torch.bfloat16
    fast = generate(g, canvas, mask[:256, :256], cpu).astype(int)
    monkeypatch.setattr(inference, "cpu_has_native_bf16", lambda: False)
    assert inference.autocast_dtype(cpu) is None
    exact = generate(g, canvas, mask[:256, :256], cpu).astype(int)
    diff = np.abs(fast - exact)
    assert diff.any()  # bf16 did run
    assert diff.mean() < 0.5 and diff.max() <= 4


def test_tiles_blend_seamlessly(tiny_model, astronaut):
    g = load_generator(tiny_model, torch.device("cpu"))
    mask = np.random.default_rng(1).random(astronaut.shape[:2]) < 0.1
    canvas = astronaut * mask[..., None]
    whole = generate(g, canvas, mask, torch.device("cpu")).astype(int)
    tiled = generate(g, canvas, mask, torch.device("cpu"), tile=192, overlap=32, max_one_pass=1).astype(int)
    diff = np.abs(whole - tiled)
    assert diff.mean() < 1.0  # tiles see less context only near their borders
    # No seam: differences along tile boundaries are not larger than elsewhere by much.
    assert diff[:, 150:170].mean() < 3 * diff.mean() + 0.5


def _refining_generator() -> Generator:
    """A small Delaunay-refining generator whose head is not the zero of a fresh one."""
    from sparsepix.models.config import PRESETS

    torch.manual_seed(0)
    g = Generator(PRESETS["tiny-refine"][0]).eval()
    torch.nn.init.normal_(g.head[1].weight, 0, 0.05)
    return g


def test_ensemble_averages_the_network_over_the_image_symmetries(monkeypatch):
    """Checked against the symmetries written in numpy: each view is the image flipped and/or
    transposed, the network's answer is mapped back, and the views are averaged."""
    from sparsepix.models import inference
    from sparsepix.models.inference import _run

    monkeypatch.setattr(inference, "cpu_has_native_bf16", lambda: False)  # fp32, to compare exactly

    g = _refining_generator()
    rng = np.random.default_rng(3)
    mask = rng.random((20, 28)) < 0.25
    canvas = rng.integers(0, 256, (20, 28, 3), dtype=np.uint8) * mask[..., None]
    to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None].float()  # noqa: E731
    x, m = to_t(canvas) / 127.5 - 1, to_t(mask[..., None].astype(np.float32))
    fill = g.coarse_fill(x * m, m)[0].permute(1, 2, 0).numpy()  # computed once, as decoders do
    views = [
        (lambda a: a, lambda a: a),
        (lambda a: a[:, ::-1], lambda a: a[:, ::-1]),
        (lambda a: a[::-1], lambda a: a[::-1]),
        (lambda a: a[::-1, ::-1], lambda a: a[::-1, ::-1]),
        (lambda a: a.transpose(1, 0, 2), lambda a: a.transpose(1, 0, 2)),
        (lambda a: a.transpose(1, 0, 2)[:, ::-1], lambda a: a[:, ::-1].transpose(1, 0, 2)),
        (lambda a: a.transpose(1, 0, 2)[::-1], lambda a: a[::-1].transpose(1, 0, 2)),
        (lambda a: a.transpose(1, 0, 2)[::-1, ::-1], lambda a: a[::-1, ::-1].transpose(1, 0, 2)),
    ]
    answers = []
    with torch.no_grad():
        for view, undo in views:
            y = g(
                to_t(view(canvas)) / 127.5 - 1,
                to_t(view(mask[..., None]).astype(np.float32)),
                to_t(view(fill)),
            )
            answers.append(undo(y.clamp(-1, 1).add(1).mul(127.5)[0].permute(1, 2, 0).numpy()))
    for n in (1, 2, 4, 8):
        assert np.allclose(
            _run(g, canvas[None], mask[None], torch.device("cpu"), ensemble=n)[0],
            np.mean(answers[:n], 0),
            atol=1e-3,
        )
    assert np.abs(answers[0] - answers[4]).mean() > 0.1  # the views do differ: the test can fail


def test_ensemble_tiles_blend_and_bad_counts_are_refused(astronaut):
    g = _refining_generator()
    mask = np.random.default_rng(1).random((256, 256)) < 0.1
    canvas = astronaut[:256, :256] * mask[..., None]
    cpu = torch.device("cpu")
    whole = generate(g, canvas, mask, cpu, ensemble=4).astype(int)
    tiled = generate(g, canvas, mask, cpu, tile=160, overlap=32, max_one_pass=1, ensemble=4).astype(int)
    assert np.abs(whole - tiled).mean() < 1.0
    with pytest.raises(InputError, match="ensemble must be one of 1, 2, 4, 8"):
        generate(g, canvas, mask, cpu, ensemble=3)
    data = sparsepix.encode(astronaut[:64, :64], density=0.1, model="")
    with pytest.raises(InputError, match="ensemble"):
        sparsepix.decode(data, ensemble=6)


def test_each_model_decodes_with_its_cards_ensemble(tiny_model, tmp_path):
    """A card's `ensemble` is the model's default count of symmetries; none means one pass."""
    import json

    from sparsepix.codec import reconstructors

    assert tiny_model.ensemble == 1  # export writes no count
    card = json.loads((tiny_model.path.with_suffix(".json")).read_text())
    for count, ok in ((4, True), (3, False)):
        path = tmp_path / f"card{count}.json"
        path.write_text(json.dumps(dict(card, ensemble=count, file=str(tiny_model.path))))
        if ok:
            assert read_card(path).ensemble == 4
        else:
            with pytest.raises(ModelError, match="broken model card"):
                read_card(path)
    seen = []

    class Spy(reconstructors.Reconstructor):
        def run(self, canvases, masks, device, passes, batch):
            seen.append(passes)
            return canvases

    rec = Spy("spy", "records", learned=True, ensemble=4)
    canvas, mask = np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), bool)
    reconstructors.reconstruct(rec, canvas, mask)
    reconstructors.reconstruct(rec, canvas, mask, ensemble=1)
    assert seen == [4, 1]


def test_large_images_get_fewer_default_passes_and_explicit_counts_stay():
    from sparsepix.codec import reconstructors
    from sparsepix.codec.ensemble import DEFAULT_PASS_WORK, default_passes

    per_pixel = DEFAULT_PASS_WORK // 1000  # 8 passes fit 125 pixels, 1 pass 1,000
    assert [default_passes(8, n, per_pixel) for n in (125, 126, 250, 500, 1000, 10**6)] == [8, 4, 4, 2, 1, 1]
    assert default_passes(2, 10**9, 0) == 2  # classical: no network work
    seen = []

    class Spy(reconstructors.Reconstructor):
        def run(self, canvases, masks, device, passes, batch):
            seen.append((len(canvases), passes))
            return canvases

    rec = Spy("spy", "records", learned=True, ensemble=8, macs_per_pixel=per_pixel)
    small, large = (np.zeros((n, n, 3), np.uint8) for n in (8, 20))  # 64 and 400 pixels
    masks = [np.zeros(c.shape[:2], bool) for c in (small, small, large)]
    outs = reconstructors.reconstruct_batch(rec, [small, small, large], masks)
    assert [o.shape[0] for o in outs] == [8, 8, 20] and seen == [(2, 8), (1, 2)]  # one call a count
    seen.clear()
    reconstructors.reconstruct_batch(rec, [small, large], masks[1:], ensemble=4)
    assert seen == [(2, 4)]


def test_shipped_models_decode_through_the_codec_or_restore(astronaut):
    """Every model in the package loads and verifies; codec models rebuild a photo from its
    file, restoration models the corruption they were trained for."""
    import sparsepix
    from sparsepix import catalog
    from sparsepix.tasks import BLOCK_HOLES, INPAINT

    models = shipped()
    if not models:
        pytest.skip("no shipped models in this checkout")
    for name, model in models.items():
        rec = catalog.get(name)
        assert rec.learned and rec.ref == model.ref
        if not rec.decodes_samples:
            crop = astronaut[:128, :128]
            if model.task in (INPAINT, BLOCK_HOLES):  # fills a mask's holes
                holes = np.zeros((128, 128), bool)
                holes[40:80, 30:90] = True
                out = sparsepix.restore(crop, mask=holes, model=name)
            else:
                out = sparsepix.restore(crop, task=model.task, model=name)
            assert out.shape == (128, 128, 3)
            continue
        data = sparsepix.encode(astronaut, density=0.05, model=name)
        assert sparsepix.inspect(data).model == str(model.ref)
        out = sparsepix.decode(data)  # auto: the file's model
        assert out.shape == astronaut.shape


def test_shipped_weights_fit_the_package_budget():
    """Each card states its file's size; the codec's models together stay within 25 MB (issue
    4), the restoration models within 40 MB (issue 35)."""
    models = shipped()
    if not models:
        pytest.skip("no shipped models in this checkout")
    sizes = {name: m.path.stat().st_size for name, m in models.items()}
    for name, model in models.items():
        assert json.loads(model.path.with_suffix(".json").read_text())["bytes"] == sizes[name]
    from sparsepix import catalog

    codec = {n for n in models if catalog.get(n).decodes_samples}
    assert sum(sizes[n] for n in codec) <= 25_000_000, sizes
    assert sum(sizes[n] for n in set(models) - codec) <= 40_000_000, sizes


def _decoded(g: Generator, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """What a decoder shows from these sample values: the generator's output, samples pasted."""
    canvas = np.zeros(mask.shape + (values.shape[1],), np.uint8)
    canvas[mask] = values
    out = generate(g, canvas, mask, torch.device("cpu"))
    out[mask] = values
    return out


def test_tonal_optimisation_through_a_generator_lowers_its_error(tiny_model, astronaut):
    from sparsepix.metrics import psnr
    from sparsepix.models.registry import tune_values

    img = astronaut[:64, :80]
    mask = np.random.default_rng(2).random((64, 80)) < 0.1
    g = load_generator(tiny_model, torch.device("cpu"))

    tuned = tune_values(tiny_model, img, mask, steps=30)
    assert tuned.shape == (mask.sum(), 3)
    assert psnr(img, _decoded(g, mask, tuned)) > psnr(img, _decoded(g, mask, img[mask])) + 0.2
    half = mask & (np.arange(80)[None, :] < 40)
    part = tune_values(tiny_model, img, mask, steps=5, fixed=half, fixed_values=img[half])
    assert part.shape == ((mask & ~half).sum(), 3)


def test_tuning_rule_per_model_kind(tiny_model, astronaut):
    """Least squares for a Delaunay-coarse model trained on such values; else gradient steps."""
    import dataclasses

    from sparsepix.codec.tonal import optimize_linear
    from sparsepix.models.registry import tune_values, tuner

    refine = dataclasses.replace(
        tiny_model, config=dataclasses.replace(tiny_model.config, coarse="linear", residual=True)
    )
    tuned_model = dataclasses.replace(refine, trained_on_tuned=True)
    img = astronaut[:48, :64]
    mask = np.random.default_rng(3).random((48, 64)) < 0.1
    least_squares = optimize_linear(img, mask, iterations=20)
    assert np.array_equal(tuner(tuned_model)(img, mask, 20), least_squares)
    for gradient in (tiny_model, refine):  # not trained on tuned values: Adam through the network
        through = tuner(gradient)(img, mask, 20)
        assert np.array_equal(through, tune_values(gradient, img, mask, 20))
        assert not np.array_equal(through, least_squares)


def test_gradient_tuning_sees_through_the_delaunay_fill(astronaut):
    from sparsepix.metrics import psnr
    from sparsepix.models.tuning import _differentiable_fill, optimize_through

    torch.manual_seed(0)
    g = Generator(
        GeneratorConfig(
            ngf=8, n_blocks=1, passthrough=True, residual=True, coarse="linear", coarse_input=True, skip=True
        )
    ).eval()
    torch.nn.init.normal_(g.head[1].weight, 0, 0.02)  # a refinement that is not zero
    img = astronaut[100:164, 180:260]
    mask = np.random.default_rng(4).random(img.shape[:2]) < 0.08
    values = torch.from_numpy(img[mask].astype(np.float32) / 127.5 - 1)
    canvas = torch.zeros(1, 3, *mask.shape)
    ys, xs = np.nonzero(mask)
    canvas[0, :, ys, xs] = values.T
    m = torch.from_numpy(mask.astype(np.float32))[None, None]
    fill = _differentiable_fill(g, mask, torch.device("cpu"))
    assert torch.allclose(fill(values), g.coarse_fill(canvas, m), atol=1e-5)

    tuned = optimize_through(g, img, mask, steps=30)
    assert psnr(img, _decoded(g, mask, tuned)) > psnr(img, _decoded(g, mask, img[mask])) + 0.3


def test_refinement_moves_each_tile_and_lowers_the_error(astronaut, monkeypatch):
    """Effort 4's refinement with tiles smaller than the image: every tile's samples move, and
    the network's error falls."""
    from sparsepix.metrics import psnr
    from sparsepix.models import tuning

    torch.manual_seed(0)
    g = Generator(
        GeneratorConfig(
            ngf=8, n_blocks=1, passthrough=True, residual=True, coarse="linear", coarse_input=True, skip=True
        )
    ).eval()
    torch.nn.init.normal_(g.head[1].weight, 0, 0.02)
    img = astronaut[100:180, 180:300]
    mask = np.random.default_rng(5).random(img.shape[:2]) < 0.1
    monkeypatch.setattr(tuning, "REFINE_TILE", 48)
    refined = tuning.refine_through(g, img, mask, img[mask], steps=10)
    assert refined.shape == (mask.sum(), 3) and refined.dtype == np.uint8
    moved = np.zeros(mask.shape, bool)
    moved[mask] = (refined != img[mask]).any(axis=1)
    assert all(moved[y : y + 48, x : x + 48].any() for y in (0, 48) for x in (0, 48, 96))
    assert psnr(img, _decoded(g, mask, refined)) > psnr(img, _decoded(g, mask, img[mask])) + 0.1


def test_auto_names_the_shipped_default_for_plain_and_tuned_values(astronaut):
    from sparsepix.catalog import available

    img = astronaut[:64, :64]
    plain = sparsepix.inspect(sparsepix.encode(img, density=0.05, effort=0)).model
    tuned = sparsepix.inspect(sparsepix.encode(img, density=0.05, optimize=5, effort=0)).model
    assert plain == str(available()["natural"].ref) and plain.startswith("natural@")
    assert tuned == str(available()["natural-opt"].ref) and tuned.startswith("natural-opt@")
    # The default effort tunes, for natural-opt; optimize=0 turns that off, and so the model.
    assert sparsepix.inspect(sparsepix.encode(img, density=0.05)).model == tuned
    assert sparsepix.inspect(sparsepix.encode(img, density=0.05, optimize=0)).model == plain
    assert sparsepix.inspect(sparsepix.encode(img, density=0.05, model="")).model == ""


def test_files_for_an_older_version_decode_with_the_installed_one(astronaut, tmp_path):
    """A file names the exact version it was written for; a retrain must not orphan it."""
    from dataclasses import replace

    from sparsepix.bitstream import pack, parse
    from sparsepix.catalog import available
    from sparsepix.cli import cli

    natural = available().get("natural")
    if natural is None:
        pytest.skip("no shipped natural model in this checkout")
    img = astronaut[:48, :64]
    spx = parse(sparsepix.encode(img, density=0.05, model="natural"))
    old = pack(replace(spx.header, model="natural@1"), list(spx.sections.items()))
    assert natural.version != 1
    assert np.array_equal(
        sparsepix.decode(old, ensemble=1), sparsepix.decode(old, model="natural", ensemble=1)
    )
    info = sparsepix.inspect(old)
    assert (info.model, info.decodes_with) == ("natural@1", str(natural.ref))
    with pytest.raises(ModelError, match="strict"):
        sparsepix.decode(old, strict=True)
    with pytest.raises(ModelError, match="not installed"):
        sparsepix.decode(old, model="natural@1")

    from click.testing import CliRunner

    path = tmp_path / "old.spx"
    path.write_bytes(old)
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert f"model natural@1 (decodes with {natural.ref})" in result.output


def _bundled_cases():
    """(model, image, encode options): photos for the photo models, a face crop for `faces`."""
    from skimage import data, transform

    face = transform.resize(data.astronaut()[30:230, 140:340], (128, 128), anti_aliasing=True)
    face = (face * 255).round().astype(np.uint8)
    photos = {"astronaut": data.astronaut(), "coffee": data.coffee()}
    cases = [("natural", name, img, 0) for name, img in photos.items()]
    cases += [("natural-opt", name, img, 50) for name, img in photos.items()]
    return cases + [("faces", "astronaut face", face, 0)]


@pytest.mark.parametrize("model, name, image, optimize", _bundled_cases(), ids=lambda v: str(v)[:20])
def test_each_shipped_model_beats_linear_from_the_same_file(model, name, image, optimize):
    """The headline claim, on images scikit-image bundles: the learned model rebuilds the file it
    is named in better than the Delaunay-linear fill of the same samples."""
    from sparsepix.metrics import psnr

    if model not in shipped():
        pytest.skip(f"no shipped {model} in this checkout")
    blob = sparsepix.encode(image, density=0.05, quality=65, seed=1, model=model, optimize=optimize)
    assert psnr(image, sparsepix.decode(blob)) > psnr(image, sparsepix.decode(blob, model="linear")) + 0.3


def test_first_use_from_several_threads_names_the_model_every_time():
    """Learned models are read on first use; threads racing to it must all see them."""
    import subprocess
    import sys

    script = (
        "import numpy as np, sparsepix\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "img = np.full((16, 16, 3), 99, np.uint8)\n"
        "with ThreadPoolExecutor(4) as pool:\n"
        "    files = list(pool.map(lambda _: sparsepix.encode(img, density=0.1, effort=0), range(4)))\n"
        "print(sorted({sparsepix.inspect(f).model for f in files}))\n"
    )
    if "natural" not in shipped():
        pytest.skip("no shipped natural model in this checkout")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == f"['{shipped()['natural'].ref}']", out.stderr
