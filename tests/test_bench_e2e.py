"""A tiny end-to-end benchmark run on two small images, through the real CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory, astronaut):
    data = tmp_path_factory.mktemp("data")
    for i, (y, x) in enumerate([(0, 0), (200, 250)]):
        Image.fromarray(np.ascontiguousarray(astronaut[y : y + 176, x : x + 208])).save(data / f"img{i}.png")
    out = tmp_path_factory.mktemp("bench")
    cmd = [
        sys.executable,
        "-m",
        "sparsepix",
        "bench",
        str(data),
        "--out",
        str(out),
        "--quick",
        "--codecs",
        "jpeg,jpeg-optimized,jpeg2000",
        "--sparsepix",
        "random:pushpull",
        "--workers",
        "2",
        "--crop-bpp",
        "0.2,0.5",
        "--crop-curves",
        "jpeg,sparsepix-random-pred70-pushpull",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "2/2" in r.stderr and "74" not in r.stderr.split("measurements")[-1]  # images, not runs
    return out, cmd


def test_compressai_json_schema(bench_run):
    out, _ = bench_run
    names = sorted(p.stem for p in (out / "curves").glob("*.json"))
    assert names == ["jpeg", "jpeg-optimized", "jpeg2000", "sparsepix-random-pred70-pushpull"]
    for name in names:
        curve = json.loads((out / "curves" / f"{name}.json").read_text())
        assert {"name", "description", "results"} <= curve.keys()
        res = curve["results"]
        keys = ["psnr-rgb", "ms-ssim-rgb", "bpp", "encoding_time", "decoding_time", "haarpsi-rgb"]
        keys += ["gradient-w1", "gradient-ratio"]
        assert all(len(res[k]) == len(res["bpp"]) >= 3 for k in keys)
        assert all(b > 0 for b in res["bpp"]) and all(0 < m <= 1 for m in res["ms-ssim-rgb"])
        assert res["images"] == [2] * len(res["bpp"])


def test_bpp_is_the_real_file_size(bench_run):
    out, _ = bench_run
    per_image = json.loads((out / "per_image.json").read_text())
    assert all(r["bpp"] == pytest.approx(8 * r["bytes"] / (176 * 208)) for r in per_image)
    jpeg = {r["setting"]: r["bpp"] for r in per_image if r["curve"] == "jpeg" and r["image"] == "img0.png"}
    opt = {
        r["setting"]: r["bpp"]
        for r in per_image
        if r["curve"] == "jpeg-optimized" and r["image"] == "img0.png"
    }
    assert all(opt[q] < jpeg[q] for q in jpeg)  # optimised Huffman tables are smaller


def test_report_and_resume(bench_run):
    out, cmd = bench_run
    report = (out / "report.md").read_text()
    assert "Bjøntegaard" in report and "jpeg-optimized" in report and "## Detail at equal rate" in report
    # One crop grid per --crop-bpp rate, with the --crop-curves only.
    assert "## The same crop near 0.2 bpp" in report and "## The same crop near 0.5 bpp" in report
    for rate in ("0.2", "0.5"):
        assert (
            f"crops/jpeg_{rate}bpp.png" in report
            and f"crops/sparsepix-random-pred70-pushpull_{rate}bpp.png" in report
        )
    assert "crops/jpeg2000_" not in report
    html = (out / "report.html").read_text()
    assert "data:image/png;base64" in html
    for stem in ("rd_psnr", "rd_msssim", "rd_haarpsi", "rd_detail", "rd_psnr_low"):  # _low: up to 0.3 bpp
        assert (out / f"{stem}.png").exists() and (out / f"{stem}.svg").exists()
    assert "Settings and versions" in report and "optimize=True" in report
    assert (out / "summary.csv").read_text().startswith("curve,setting,images")
    # A second run finds everything cached and measures nothing again.
    before = {p: p.stat().st_mtime_ns for p in (out / "cache").rglob("*.json")}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert {p: p.stat().st_mtime_ns for p in (out / "cache").rglob("*.json")} == before


def test_stale_cache_entries_are_measured_again(bench_run, tmp_path):
    from sparsepix.benchmarks import sweep

    out, _ = bench_run
    path = next((out / "cache" / "jpeg").glob("*.json"))
    cached = json.loads(path.read_text())
    assert sweep._cached(path) == cached
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({**cached, "version": sweep.MEASUREMENT_VERSION - 1}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert sweep._cached(stale) is None and sweep._cached(broken) is None


@pytest.mark.parametrize(
    "option,value,message",
    [
        ("--crop-bpp", "0.1,x", "--crop-bpp takes"),
        ("--crop-curves", "jpeg,nope", "names no curve of this run: nope"),
    ],
)
def test_crop_options_are_checked_before_the_sweep(tmp_path, astronaut, option, value, message):
    Image.fromarray(np.ascontiguousarray(astronaut[:64, :64])).save(tmp_path / "a.png")
    cmd = [sys.executable, "-m", "sparsepix", "bench", str(tmp_path), "--out", str(tmp_path / "o")]
    r = subprocess.run(
        cmd + ["--quick", "--codecs", "jpeg", "--sparsepix", "", option, value],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o" / "cache").exists()
