"""A tiny end-to-end benchmark run on two small images, through the real CLI."""

import json
import re
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
        "jpeg,sparsepix-random-pred65-pushpull",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    # The bar counts images (2), not measurements: every "done/total" it prints has total 2.
    totals = {int(t) for t in re.findall(r"\b\d+/(\d+) \[", r.stderr)}
    assert totals == {2}, r.stderr
    return out, cmd


def test_compressai_json_schema(bench_run):
    out, _ = bench_run
    names = sorted(p.stem for p in (out / "curves").glob("*.json"))
    assert names == ["jpeg", "jpeg-optimized", "jpeg2000", "sparsepix-random-pred65-pushpull"]
    for name in names:
        curve = json.loads((out / "curves" / f"{name}.json").read_text())
        assert {"name", "description", "results"} <= curve.keys()
        res = curve["results"]
        keys = ["psnr-rgb", "ms-ssim-rgb", "bpp", "encoding_time", "decoding_time", "haarpsi-rgb"]
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
    assert "Bjøntegaard" in report and "jpeg-optimized" in report and "(HaarPSI)" in report
    # The generated standing follows the table it cites.
    assert report.index("## Quality at equal rate") < report.index("Where sparsepix stands")
    # One crop grid per --crop-bpp rate, with the --crop-curves only.
    assert "## The same crop near 0.2 bpp" in report and "## The same crop near 0.5 bpp" in report
    for rate in ("0.2", "0.5"):
        assert (
            f"crops/jpeg_{rate}bpp.png" in report
            and f"crops/sparsepix-random-pred65-pushpull_{rate}bpp.png" in report
        )
    assert "crops/jpeg2000_" not in report
    html = (out / "report.html").read_text()
    assert "data:image/png;base64" in html
    assert "<h2>Bjøntegaard deltas against <code>jpeg-optimized</code></h2>" in html
    assert html.count("<div class='gallery'>") == 2 and "<td></td>" not in html
    for stem in ("rd_psnr", "rd_msssim", "rd_haarpsi", "rd_psnr_low"):  # _low: up to 0.3 bpp
        assert (out / f"{stem}.png").exists() and (out / f"{stem}.svg").exists()
    assert "Settings and versions" in report and "optimize=True" in report
    assert (out / "summary.csv").read_text().startswith("curve,setting,images")
    # A second run finds everything cached and measures nothing again.
    before = {p: p.stat().st_mtime_ns for p in (out / "cache").rglob("*.json")}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert {p: p.stat().st_mtime_ns for p in (out / "cache").rglob("*.json")} == before


def test_the_comparison_page_shows_every_curves_decode_with_the_runs_scores(bench_run):
    out, _ = bench_run
    page = (out / "compare.html").read_text()
    entries = json.loads(page.split('<script id="data" type="application/json">')[1].split("</script>")[0])
    runs = json.loads((out / "per_image.json").read_text())
    measured = {(r["curve"], r["image"], r["setting"]): r for r in runs}
    assert [e["image"] for e in entries] == ["img0.png"]  # the crop image by default
    (entry,) = entries
    assert sorted(entry["rates"]) == ["0.2", "0.5"] and (out / entry["original"]).is_file()
    for shown in entry["rates"].values():
        curves = {"jpeg", "jpeg-optimized", "jpeg2000", "sparsepix-random-pred65-pushpull"}
        assert {d["curve"] for d in shown} == curves
        for d in shown:
            decoded = np.asarray(Image.open(out / d["file"]))
            assert decoded.shape == (176, 208, 3)
            run = measured[d["curve"], "img0.png", d["setting"]]
            assert d["bytes"] == run["bytes"] and d["psnr"] == run["psnr"]
    assert "http" not in page.split("<body>")[1]  # nothing from the network
    assert "compare.html" in (out / "report.md").read_text()


def _browser() -> str | None:
    import shutil

    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


@pytest.mark.skipif(_browser() is None, reason="no headless Chromium installed")
def test_the_comparison_page_runs_in_a_real_browser(bench_run):
    out, _ = bench_run
    dom = subprocess.run(
        [_browser(), "--headless", "--disable-gpu", "--no-sandbox", "--allow-file-access-from-files",
         "--virtual-time-budget=5000", "--dump-dom", (out / "compare.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    # The script ran: it filled the pickers and the score table from the page's data.
    assert '<option value="0.2">0.2 bpp</option>' in dom
    assert 'data-curve="sparsepix-random-pred65-pushpull"' in dom and "PSNR dB" in dom
    assert 'id="leftname">original<' in dom


def test_a_broken_image_is_named_and_the_rest_are_reported(tmp_path, astronaut):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a-broken.png").write_bytes(b"not an image")
    Image.fromarray(np.ascontiguousarray(astronaut[:96, :128])).save(data / "b.png")
    cmd = [sys.executable, "-m", "sparsepix", "bench", str(data), "--out", str(tmp_path / "out"), "--quick"]
    cmd += ["--codecs", "jpeg", "--sparsepix", ""]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert "sparsepix: a-broken.png: jpeg at 2: not an image file" in r.stderr
    assert "5 measurements failed; the report leaves them out" in r.stderr and "Traceback" not in r.stderr
    summary = (tmp_path / "out" / "summary.csv").read_text().splitlines()
    assert len(summary) == 6 and all(line.split(",")[2] == "1" for line in summary[1:])  # b.png alone
    assert (tmp_path / "out" / "crops" / "jpeg_0.25bpp.png").is_file()


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
