import io
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from sparsepix.benchmarks.bdrate import bd_psnr, bd_rate, quality_at
from sparsepix.metrics import haarpsi, ms_ssim, psnr

RATES = [0.1, 0.2, 0.4, 0.8]
PSNRS = [25.0, 28.0, 31.0, 34.0]


def test_bd_rate_known_answers():
    assert bd_rate(RATES, PSNRS, RATES, PSNRS) == pytest.approx(0.0, abs=1e-9)
    assert bd_rate(RATES, PSNRS, [0.9 * r for r in RATES], PSNRS) == pytest.approx(-10.0, abs=1e-6)
    assert bd_rate(RATES, PSNRS, [1.25 * r for r in RATES], PSNRS) == pytest.approx(25.0, abs=1e-6)
    assert bd_rate(RATES, PSNRS, [r * 100 for r in RATES], [p + 50 for p in PSNRS]) is None  # no overlap


def test_bd_psnr_known_answers():
    assert bd_psnr(RATES, PSNRS, RATES, [p + 1.5 for p in PSNRS]) == pytest.approx(1.5, abs=1e-9)
    # Doubling the rate on a 3 dB/octave curve costs exactly 3 dB at equal rate.
    assert bd_psnr(RATES, PSNRS, [2 * r for r in RATES], PSNRS) == pytest.approx(-3.0, abs=1e-6)


def test_quality_at():
    assert quality_at(RATES, PSNRS, 0.2) == pytest.approx(28.0)
    assert quality_at(RATES, PSNRS, np.sqrt(0.1 * 0.2)) == pytest.approx(26.5)  # linear in log-rate
    assert quality_at(RATES, PSNRS, 0.05) is None


def test_speed_and_bits_per_sample_tables():
    from sparsepix.benchmarks.results import bits_per_sample_table, speed_table

    def curve(setting, bpp, enc, dec):
        return {"results": {"setting": setting, "bpp": bpp, "encoding_time": enc, "decoding_time": dec}}

    curves = {
        "jpeg-optimized": curve([5, 50], [0.1, 0.5], [0.01, 0.03], [0.01, 0.01]),
        "sparsepix-random": curve([0.01, 0.05], [0.04, 0.15], [0.2, 0.6], [0.5, 1.5]),
    }
    rows = {r[0]: r[1:] for r in speed_table(curves, "jpeg-optimized")}
    assert rows["sparsepix-random"] == ["0.400", "20x", "1.000", "100x"]
    assert rows["jpeg-optimized"] == ["0.020", "1.0x", "0.010", "1.0x"]
    header, bits = bits_per_sample_table(curves)
    assert header == ["1 %", "5 %"] and bits == [["sparsepix-random", "4.00", "3.00"]]


def test_psnr_known_pairs():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 255  # MSE = 255^2 / 48
    assert psnr(a, b) == pytest.approx(10 * np.log10(48))
    assert psnr(a, a) == float("inf")


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf))


def test_ms_ssim_and_haarpsi_are_one_for_identical_and_rank_distortions(astronaut):
    low, high = _jpeg(astronaut, 5), _jpeg(astronaut, 60)
    for metric in (ms_ssim, haarpsi):
        assert metric(astronaut, astronaut) == pytest.approx(1.0, abs=1e-9)
        assert metric(astronaut, low) < metric(astronaut, high) < 1.0
    face = astronaut[:128, :128]
    assert 0 < ms_ssim(face, _jpeg(face, 10)) < 1


@pytest.mark.parametrize(
    "name, expected",
    # Values from the authors' reference code (github.com/rgcda/haarpsi, haarPsi.py at 3b9599b,
    # NumPy path) on the same pairs; see docs/DECISIONS.md, "HaarPSI".
    [("astronaut", 0.8127651839), ("coffee", 0.8272797495), ("camera", 0.7223348074)],
)
def test_haarpsi_matches_the_reference_implementation(name, expected):
    from scipy.ndimage import gaussian_filter
    from skimage import data

    image = getattr(data, name)()
    sigma = (1.5, 1.5, 0) if image.ndim == 3 else 1.5
    blurred = np.clip(gaussian_filter(image.astype(float), sigma), 0, 255).astype(np.uint8)
    assert haarpsi(image, blurred) == pytest.approx(expected, abs=1e-8)


def test_ms_ssim_matches_the_library_on_large_images(astronaut):
    import torch
    from pytorch_msssim import ms_ssim as reference

    low = _jpeg(astronaut, 10)
    t = lambda a: torch.from_numpy(np.array(a.transpose(2, 0, 1))).double()[None]  # noqa: E731
    expected = float(reference(t(astronaut), t(low), data_range=255))  # float64 in the library
    assert ms_ssim(astronaut, low) == pytest.approx(expected, abs=1e-5)


def test_sparsepix_curves_are_cached_per_format_model_version_and_ensemble():
    from sparsepix.benchmarks.codecs import CurveSpec
    from sparsepix.bitstream import VERSION
    from sparsepix.catalog import available

    natural = available()["natural"]
    version = natural.version
    single = CurveSpec("sparsepix", model="natural", ensemble=1)
    key = f"{single.name}-f{VERSION}"  # a new format, a new cache folder
    assert single.cache_key == f"{key}@{version}"  # new weights, new cache folder
    assert CurveSpec("sparsepix", model="natural", ensemble=4).cache_key == f"{key}@{version}-x4"
    own = f"-x{natural.ensemble}" if natural.ensemble != 1 else ""  # the model's own count
    assert CurveSpec("sparsepix", model="natural").cache_key == f"{key}@{version}{own}"
    assert CurveSpec("sparsepix").cache_key == f"{CurveSpec('sparsepix').name}-f{VERSION}"
    assert CurveSpec("jpeg").cache_key == "jpeg"


def test_sparsepix_curve_specs_parse_values_and_quality():
    import click

    from sparsepix.benchmarks.cli import _sparsepix_specs
    from sparsepix.codec.quality import DEFAULT_QUALITY

    plain, q65, raw, tuned = _sparsepix_specs(
        "random:linear,sobel:linear:pred65,random:linear:raw8,random:linear:pred:50"
    )
    assert (plain.values, plain.quality) == ("pred", DEFAULT_QUALITY)
    assert plain.name == f"sparsepix-random-pred{DEFAULT_QUALITY}-linear"
    assert (q65.values, q65.quality, q65.name) == ("pred", 65, "sparsepix-sobel-pred65-linear")
    assert raw.name == "sparsepix-random-raw8-linear" and tuned.optimize == 50
    # An effort level names the curve of its explicit settings (one cache for both).
    effort0, effort1, effort3 = _sparsepix_specs("effort0,effort1,effort3")
    assert effort0.name == f"sparsepix-random-pred{DEFAULT_QUALITY}-natural"
    assert effort1.name == f"sparsepix-random-pred{DEFAULT_QUALITY}-natural-opt-opt50"
    assert effort3.name == f"sparsepix-adaptive-decoder-pred{DEFAULT_QUALITY}-natural-opt-opt50"
    for bad in ("random:linear:pred0", "random:linear:jpeg", "random:linear:pred:x", "random", "effort9"):
        with pytest.raises(click.BadParameter):
            _sparsepix_specs(bad)


def test_benchmark_folders_without_images_exit_with_one_line(tmp_path):
    from sparsepix.benchmarks.recon_table import list_images

    with pytest.raises(SystemExit, match="is not a folder"):
        list_images(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(SystemExit, match="no images in"):
        list_images(tmp_path)
    Image.new("RGB", (4, 4)).save(tmp_path / "b.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "a.JPG")
    assert [p.name for p in list_images(tmp_path)] == ["a.JPG", "b.png"]
    assert [p.name for p in list_images(tmp_path, {".png"})] == ["b.png"]


def test_data_rate_times_one_worker_and_refuses_bad_input(tmp_path, astronaut, monkeypatch, capsys):
    """The worker-rate benchmark runs the real data pipeline and leaves torch's threads as found."""
    import sys

    from sparsepix.tools import data_rate

    for i in range(2):
        Image.fromarray(astronaut[64 * i : 64 * i + 96, :96]).save(tmp_path / f"{i}.png")
    threads = torch.get_num_threads()
    assert data_rate.crops_per_second([tmp_path], crop=64, task="sparse", quality=65, count=3) > 0
    assert torch.get_num_threads() == threads
    for argv, message in (
        ([str(tmp_path / "missing")], "does not exist"),
        ([str(tmp_path), "--crop", "0"], "--crop"),
    ):
        monkeypatch.setattr(sys, "argv", ["data_rate", *argv])
        with pytest.raises(SystemExit) as exit_:
            data_rate.main()
        assert message in capsys.readouterr().err + str(exit_.value.code)  # parser: stderr; ours: the code


def test_references_sharing_a_name_are_told_apart(tmp_path):
    import json

    from sparsepix.benchmarks.results import load_reference

    curve = {"bpp": [0.1, 0.2], "psnr-rgb": [25.0, 27.0]}
    for stem in ("compressai-mbt2018_mse_cpu", "compressai-mbt2018_ms-ssim_cpu", "hm"):
        name = "HM" if stem == "hm" else "mbt2018"
        (tmp_path / f"{stem}.json").write_text(json.dumps({"name": name, "results": curve}))
    assert sorted(load_reference(tmp_path)) == [
        "ref: HM",
        "ref: compressai-mbt2018_ms-ssim_cpu",
        "ref: compressai-mbt2018_mse_cpu",
    ]


def test_crops_are_laid_out_as_a_grid(tmp_path):
    from pathlib import Path

    from sparsepix.benchmarks.report import crop_grid

    rows = [("original", Path("original.png"), 24.0, float("inf"))]
    rows += [(f"c{i}", Path(f"c{i}.png"), 0.1, 25.0) for i in range(5)]
    lines = crop_grid(rows, most=4).splitlines()  # six crops: two rows of three, none empty
    assert len(lines) == 4 and lines[2].count("![") == 3 and lines[3].count("![") == 3
    assert "c4, 0.100 bpp, 25.00 dB" in lines[3]
    assert crop_grid(rows[:5], most=4).splitlines()[3].count("![") == 2  # 5: three and two


def test_the_reports_curves_get_colours_of_their_own_from_their_names():
    import json
    from pathlib import Path

    from sparsepix.benchmarks.plots import PALETTE, colours

    curves = list(Path(__file__).resolve().parents[1].glob("benchmarks/results/kodak/curves/*.json"))
    names = [p.stem for p in curves]
    assert len(set(colours(names).values())) == len(names) <= len(PALETTE)
    # A curve's colour does not depend on its place in the run, nor on a classical codec's absence.
    assert colours(names) == colours(sorted(names, reverse=True))
    mine = [n for n in names if n.startswith("sparsepix")][:1] + ["jpeg2000"]
    assert colours(mine) == {n: colours(names)[n] for n in mine}
    assert all(json.loads(p.read_text())["description"] for p in curves)


def test_bd_table_states_the_ranges_it_averages_over():
    from sparsepix.benchmarks.results import bd_table

    anchor = {"bpp": [0.1, 0.2, 0.4], "psnr-rgb": [24.0, 27.0, 30.0], "ms-ssim-rgb": [0.8, 0.9, 0.95]}
    test = {"bpp": [0.02, 0.05, 0.15], "psnr-rgb": [23.0, 25.0, 26.0], "ms-ssim-rgb": [0.7, 0.8, 0.85]}
    curves = {"a": {"results": anchor}, "t": {"results": test}}
    (row,) = bd_table(curves, "a")
    assert row[0] == "t" and row[2] == "24.0–26.0" and row[5] == "0.100–0.150"
    assert row[1].endswith(" %") and row[4].endswith(" dB")


def test_standing_names_a_better_curve_that_stops_short_of_a_rate():
    from sparsepix.benchmarks.cli import _standing

    res = lambda bpp, psnr: {"results": {"bpp": bpp, "psnr-rgb": psnr}}  # noqa: E731
    text = _standing(
        {
            "avif": res([0.1, 0.3], [27.0, 30.0]),
            "sparsepix-a": res([0.05, 0.3], [20.0, 22.0]),
            "sparsepix-b": res([0.05, 0.247], [23.0, 25.0]),
        }
    )
    line = next(x for x in text.split("\n\n") if x.startswith("At 0.25 bpp"))
    assert "sparsepix-a" in line and "sparsepix-b ends below, at 0.247 bpp with 25.00 dB" in line


def test_speed_records_name_device_task_model_and_a_rate(tmp_path, small_rgb):
    from PIL import Image

    from sparsepix.benchmarks import speed

    images = [small_rgb, np.ascontiguousarray(small_rgb[::-1])]
    records = speed.decode_records(images, ["linear"], ["torch", "openvino"], "cpu", batch=2)
    assert [(r["model"], r["backend"]) for r in records] == [("jpeg (Pillow)", "pillow"), ("linear", "numpy")]
    assert all(r["task"] == "decode" and r["megapixels_per_s"] > 0 for r in records)
    learned = speed.decode_records(images, ["natural"], ["torch", "openvino"], "cpu", batch=2)[1:]
    assert [(r["backend"], r["batch"]) for r in learned] == [("torch", 1), ("torch", 2), ("openvino", 1)]
    for i, image in enumerate(images):
        Image.fromarray(image).save(tmp_path / f"{i}.png")
    cli = speed.cli_records(tmp_path / "0.png", ["linear"], ["torch"], repeats=1)
    assert [r["model"] for r in cli] == ["jpeg (Pillow, python -c)", "linear"] and cli[1]["seconds"] > 0
    big = speed.big_records(small_rgb, 0.03, ["linear"], ["torch"], "cpu")
    assert [(r["model"], r["backend"]) for r in big] == [("linear", "numpy")]
    assert big[0]["megapixels"] == 200 * 150 / 1e6 and big[0]["seconds"] > 0
    for path in ("workers", "device"):
        train = speed.train_records(
            tmp_path, "tiny", crop=32, batch=2, steps=1, device="cpu", workers=0, data_path=path
        )
        assert [r["data"] for r in train] == ["real", "network only"] and all(
            r["crops_per_s"] > 0 for r in train
        )
        assert all(r["data_path"] == path for r in train)


def test_restore_table_scores_every_fit_model_on_the_same_inputs(small_rgb):
    from sparsepix.benchmarks import restore_table

    images = [small_rgb, np.ascontiguousarray(small_rgb[::-1])]
    for task in ("white-block", "color-block", "color-noise", "free-25"):
        canvas, holes = restore_table.corrupt(task, images[0], images[1], seed=0)
        again, _ = restore_table.corrupt(task, images[0], images[1], seed=0)
        assert np.array_equal(canvas, again) and holes.any() and not holes.all()
    rows = {t: restore_table.scores(images, t, ["telea", "natural"]) for t in ("white-block", "color-noise")}
    assert set(rows["white-block"]) == {"telea", "natural"} and set(rows["color-noise"]) == {"telea"}
    text = restore_table.table("t", rows, ["telea", "natural"])
    assert "| natural |" in text and "–" in text.splitlines()[-1]
    block = SimpleNamespace(learned=True, task="color-block")  # a model of one hidden task
    tasks = ("color-block", "color-noise", "white-block", "free-25")
    assert [restore_table.fits(block, t) for t in tasks] == [True, False, False, False]
    filler = SimpleNamespace(learned=True, task="block-holes")  # told the holes of every task
    assert all(restore_table.fits(filler, t) and restore_table.told_holes(filler, t) for t in tasks)
    assert not restore_table.told_holes(block, "color-block") and restore_table.told_holes(block, "free-25")


def test_run_summary_tables_the_losses_and_strips_the_crops(tmp_path):
    from sparsepix.tools import run_summary

    logs = [{"step": s, "g_total": float(s), "d_total": 1.0, "images_per_s": 9.0} for s in range(1, 7)]
    (tmp_path / "log.jsonl").write_text("\n".join(json.dumps(r) for r in logs) + '\n{"step": 7, "g_to')
    (tmp_path / "val.jsonl").write_text(json.dumps({"step": 4, "psnr": 21.5, "ssim": 0.61}) + "\n")
    table = run_summary.loss_table(tmp_path, every=4).splitlines()
    assert table[0] == "| steps | d_total | g_total | val PSNR / SSIM |"
    assert table[2:] == ["| 1-4 | 1.0000 | 2.5000 | 21.50 / 0.610 |", "| 5-6 | 1.0000 | 5.5000 | – |"]
    (tmp_path / "samples").mkdir()
    for step, value in ((4, 10), (6, 20)):  # each grid: input | output | target, two rows of 8 px
        grid = np.zeros((16, 24, 3), np.uint8)
        grid[:, :8], grid[:, 8:16], grid[:, 16:] = 1, value, 3
        Image.fromarray(grid).save(tmp_path / "samples" / f"step_{step:07d}.png")
    assert run_summary.crop_strip(tmp_path, tmp_path / "strip.png") == [4, 6]
    strip = np.asarray(Image.open(tmp_path / "strip.png"))
    assert strip.shape == (8, 32, 3) and strip[0, ::8, 0].tolist() == [1, 10, 20, 3]
