"""The CLI as a user meets it: real subprocesses, exit codes, one-line errors, no partial files."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import sparsepix


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sparsepix", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def photo(tmp_path, small_rgb):
    path = tmp_path / "photo.png"
    Image.fromarray(small_rgb).save(path)
    return path


def test_encode_info_decode(tmp_path, photo, small_rgb):
    spx, png = tmp_path / "a.spx", tmp_path / "a.png"
    r = run("encode", str(photo), str(spx), "--density", "0.1", "--sampler", "sobel", "--seed", "3")
    assert r.returncode == 0, r.stderr
    info = json.loads(run("info", "--json", str(spx)).stdout)
    assert info["total_bytes"] == spx.stat().st_size and info["sampler"] == "sobel"
    r = run("decode", str(spx), str(png), "--reconstructor", "linear")
    assert r.returncode == 0, r.stderr
    assert np.asarray(Image.open(png)).shape == small_rgb.shape
    assert "bpp" in run("info", str(spx)).stdout


def assert_one_line_error(r: subprocess.CompletedProcess) -> None:
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sparsepix: error:"), r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("kind", ["random", "truncated", "flipped", "huge", "empty"])
def test_corrupt_inputs_fail_cleanly(tmp_path, photo, kind):
    good = sparsepix.encode(np.asarray(Image.open(photo)), density=0.05)
    blobs = {
        "random": np.random.default_rng(0).bytes(500),
        "truncated": good[: len(good) // 2],
        "flipped": good[:40] + bytes([good[40] ^ 1]) + good[41:],
        "huge": _huge_header(),
        "empty": b"",
    }
    bad, out = tmp_path / "bad.spx", tmp_path / "out.png"
    bad.write_bytes(blobs[kind])
    assert_one_line_error(run("decode", str(bad), str(out)))
    assert not out.exists()
    assert_one_line_error(run("info", str(bad)))


def _huge_header() -> bytes:
    import struct
    import zlib

    from sparsepix.bitstream import MAGIC

    body = MAGIC + struct.pack("<BBIIBBBBQIB", 1, 0, 10**6, 10**6, 3, 0, 0, 0, 1, 5, 0) + b"\0"
    return body + struct.pack("<I", zlib.crc32(body))


def test_bad_arguments(tmp_path, photo):
    assert_one_line_error(run("encode", str(photo), str(tmp_path / "x.spx"), "--density", "0.9"))
    assert not (tmp_path / "x.spx").exists()
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    assert_one_line_error(run("encode", str(not_image), str(tmp_path / "y.spx")))
    spx = tmp_path / "ok.spx"
    assert run("encode", str(photo), str(spx)).returncode == 0
    assert_one_line_error(run("decode", str(spx), str(tmp_path / "out.xyz")))
    assert_one_line_error(run("decode", str(spx), str(tmp_path / "o.png"), "-r", "nonsense"))


def test_unwritable_output_is_one_line(tmp_path, photo):
    """A destination folder that does not exist is a one-line error naming it, not a traceback."""
    spx = tmp_path / "ok.spx"
    assert run("encode", str(photo), str(spx), "--density", "0.05").returncode == 0
    missing = tmp_path / "no" / "such" / "out.png"
    r = run("decode", str(spx), str(missing), "-r", "pushpull")
    assert_one_line_error(r)
    assert "cannot write" in r.stderr and not missing.parent.exists()
    assert_one_line_error(run("encode", str(photo), str(tmp_path / "nowhere" / "x.spx")))


def test_one_file_into_existing_folder(tmp_path, photo):
    """As `cp` does: one input and an existing folder as OUTPUT writes FOLDER/STEM.suffix."""
    out = tmp_path / "out"
    out.mkdir()
    r = run("encode", str(photo), str(out), "--density", "0.05")
    assert r.returncode == 0, r.stderr
    assert (out / "photo.spx").is_file()
    r = run("decode", str(out / "photo.spx"), str(out), "-r", "pushpull")
    assert r.returncode == 0, r.stderr
    assert (out / "photo.png").is_file()


def test_folder_batch(tmp_path, small_rgb):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        Image.fromarray(np.roll(small_rgb, i, axis=0)).save(src / f"im{i}.png")
    (src / "readme.txt").write_text("ignored")
    r = run("encode", str(src), str(tmp_path / "spx"), "--density", "0.02")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "spx").iterdir()) == ["im0.spx", "im1.spx", "im2.spx"]
    r = run("decode", str(tmp_path / "spx"), str(tmp_path / "png"), "-r", "pushpull")
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "png").glob("*.png"))) == 3
    (tmp_path / "spx" / "im1.spx").write_bytes(b"junk")  # one bad file among those decoded together
    r = run("decode", str(tmp_path / "spx"), str(tmp_path / "png2"), "--batch", "3")
    assert r.returncode == 1 and "im1.spx: not a sparsepix file" in r.stderr
    assert sorted(p.name for p in (tmp_path / "png2").iterdir()) == ["im0.png", "im2.png"]


def test_help_explains_every_command():
    r = run("--help")
    assert r.returncode == 0
    for command in ("encode", "decode", "info"):
        assert command in r.stdout
    assert "--sampler" in run("encode", "--help").stdout


def test_demo_writes_every_reconstruction(tmp_path):
    r = run("demo", str(tmp_path / "demo"), "--density", "0.02")
    assert r.returncode == 0, r.stderr
    assert "linear" in r.stdout and "bpp" in r.stdout
    names = {p.name for p in (tmp_path / "demo").iterdir()}
    assert {"astronaut.spx", "original.png", "samples.png", "linear.png", "pushpull.png"} <= names
    assert "faces-white-block.png" not in names  # a restoration model decodes no samples


def test_decode_ensemble_option(tmp_path, photo):
    """`--ensemble N` decodes with N passes of the file's model (same samples kept); a count
    the decoder does not offer is a usage error, and no file is written."""
    spx = tmp_path / "a.spx"
    assert run("encode", str(photo), str(spx), "--density", "0.1").returncode == 0
    outs = {}
    for n in ("1", "auto"):
        png = tmp_path / f"{n}.png"
        r = run("decode", str(spx), str(png), "--ensemble", n)
        assert r.returncode == 0, r.stderr
        outs[n] = np.asarray(Image.open(png)).astype(int)
    from sparsepix.api import decode_samples

    mask = decode_samples(spx.read_bytes())[2]
    assert np.array_equal(outs["1"][mask], outs["auto"][mask])
    if sparsepix.inspect(spx.read_bytes()).model:  # a shipped model: its own passes differ
        assert np.abs(outs["1"] - outs["auto"]).mean() > 0
    r = run("decode", str(spx), str(tmp_path / "bad.png"), "--ensemble", "3")
    assert r.returncode == 2 and not (tmp_path / "bad.png").exists()


def test_non_finite_rates_are_usage_errors(tmp_path, photo):
    for value in ("nan", "inf"):
        r = run("encode", str(photo), str(tmp_path / "x.spx"), "--bpp", value)
        assert r.returncode == 2 and "Traceback" not in r.stderr and "--bpp" in r.stderr
    assert not (tmp_path / "x.spx").exists()


def test_a_killed_runs_temp_file_is_removed_by_the_next_run(tmp_path, photo):
    import os
    import time

    stale = tmp_path / ".out.spx.abc123.tmp"  # what atomic_write leaves if killed mid-write
    stale.write_bytes(b"partial")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = tmp_path / ".out.spx.def456.tmp"  # a concurrent writer's: left alone
    fresh.write_bytes(b"writing")
    assert run("encode", str(photo), str(tmp_path / "out.spx")).returncode == 0
    assert not stale.exists() and fresh.exists()


def run_bytes(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sparsepix", *args], input=stdin, capture_output=True, timeout=120
    )


def test_pipes_carry_data_only_on_stdout(tmp_path, photo):
    r = run_bytes("encode", "-", "-", "-d", "0.1", "-r", "linear", stdin=photo.read_bytes())
    assert r.returncode == 0, r.stderr
    assert r.stdout == sparsepix.encode(np.asarray(Image.open(photo)), density=0.1, model="linear")
    assert b"bytes" in r.stderr  # the report goes to stderr
    png = run_bytes("decode", "-", "-", stdin=r.stdout)
    assert png.returncode == 0 and Image.open(io.BytesIO(png.stdout)).format == "PNG"
    jpeg = run_bytes("decode", "-", "-", "--format", "jpeg", "--quiet", stdin=r.stdout)
    assert Image.open(io.BytesIO(jpeg.stdout)).format == "JPEG" and jpeg.stderr == b""
    info = run_bytes("info", "-", "--json", stdin=r.stdout)
    assert json.loads(info.stdout)["total_bytes"] == len(r.stdout)


def test_a_batch_never_writes_to_stdout(tmp_path, photo):
    r = run_bytes("encode", str(photo), str(photo), "-")
    assert r.returncode == 2 and r.stdout == b""


def test_short_options_and_dash_o(tmp_path, photo):
    out = tmp_path / "out"
    r = run("encode", str(photo), str(photo), "-o", str(out), "-d", "0.04", "-q", "60", "-r", "linear")
    assert r.returncode == 0, r.stderr
    assert (out / "photo.spx").is_file() and "[1/2]" in r.stderr and "2 of 2 files done" in r.stderr
    info = sparsepix.inspect((out / "photo.spx").read_bytes())
    assert info.density == pytest.approx(0.04, abs=1e-3) and info.model == "linear"
    r = run("encode", str(photo), str(tmp_path / "b.spx"), "-b", "0.3", "-v")
    assert r.returncode == 0 and "quality" in r.stderr  # verbose: what rate control chose
    assert sparsepix.inspect((tmp_path / "b.spx").read_bytes()).bpp <= 0.3


def test_version_names_the_format():
    from sparsepix.bitstream import VERSION

    r = run("--version")
    assert r.returncode == 0 and f"format version {VERSION}" in r.stdout


@pytest.mark.parametrize(
    "args, says",
    [
        (["encode", "PHOTO"], "missing OUTPUT"),
        (["encode", "PHOTO", "PHOTO", "TMP/one.spx"], "names a file"),
        (["encode", "PHOTO", "TMP/x.spx", "--values", "raw8", "-q", "50"], "--quality applies to pred"),
        (["encode", "PHOTO", "TMP/x.spx", "--bpp", "0.2", "--density", "0.1"], "drop --density"),
        (["encode", "PHOTO", "TMP/x.spx", "--quiet", "-v"], "not both"),
        (["encode", "TMP/missing.png", "TMP/x.spx"], "no such file"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(tmp_path, photo, args, says):
    args = [a.replace("PHOTO", str(photo)).replace("TMP", str(tmp_path)) for a in args]
    r = run(*args)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "one.spx").exists() and not (tmp_path / "x.spx").exists()


def test_decode_reports_each_file_and_quiet_silences_it(tmp_path, photo):
    spx = tmp_path / "a.spx"
    assert run("encode", str(photo), str(spx), "-r", "linear").returncode == 0
    r = run("decode", str(spx), str(tmp_path / "a.png"))
    assert r.returncode == 0 and "a.png:" in r.stderr and r.stdout == ""
    r = run("decode", str(spx), str(tmp_path / "a.png"), "--quiet")
    assert r.returncode == 0 and r.stderr == ""
    r = run("decode", str(spx), str(tmp_path / "a.spx.png"), "-f", "jpeg")
    assert_one_line_error(r)


def test_transparent_input_warns_once(tmp_path, small_rgb):
    rgba = np.dstack([small_rgb, np.full(small_rgb.shape[:2], 128, np.uint8)])
    src = tmp_path / "t.png"
    Image.fromarray(rgba, "RGBA").save(src)
    r = run("encode", str(src), str(tmp_path / "t.spx"))
    assert r.returncode == 0 and r.stderr.count("sparsepix: warning:") == 1 and "transparency" in r.stderr
    assert run("encode", str(src), str(tmp_path / "t.spx"), "--quiet").stderr == ""


def test_a_model_version_not_installed_is_refused_not_swapped(tmp_path, photo):
    """`--model natural@99` names a version this installation lacks: refused, nothing written."""
    r = run("encode", str(photo), str(tmp_path / "x.spx"), "--model", "natural@99")
    assert_one_line_error(r)
    assert "not installed" in r.stderr and not (tmp_path / "x.spx").exists()


def test_models_lists_what_each_learned_model_was_trained_for():
    r = run("models")
    assert r.returncode == 0 and "telea" in r.stdout and "classical" in r.stdout
    from sparsepix import catalog

    for rec in catalog.available().values():
        if rec.learned:
            assert f"learned, {rec.task}" in r.stdout


@pytest.mark.parametrize(
    "args, usage",
    [
        (["bench", "recon", "--help"], "usage: sparsepix bench recon"),
        (["bench", "restore", "--help"], "usage: sparsepix bench restore"),
        (["bench", "speed", "--help"], "usage: sparsepix bench speed"),
        (["noisedetect", "--help"], "usage: sparsepix noisedetect"),
    ],
)
def test_the_measurement_tools_are_subcommands(args, usage):
    r = run(*args)
    assert r.returncode == 0 and r.stdout.startswith(usage), r.stderr


def test_bad_values_are_usage_errors(tmp_path, photo):
    for args in (
        ["encode", str(photo), str(tmp_path / "a.spx"), "-d", "0.9"],
        ["decode", str(photo), str(tmp_path / "a.png"), "-r", "foo"],
        ["restore", str(photo), str(tmp_path / "r.png"), "--task", "white-block", "-r", "foo"],
    ):
        r = run(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr


def test_verbose_lines_say_what_was_chosen(tmp_path, photo):
    spx = tmp_path / "a.spx"
    r = run("encode", "-v", str(photo), str(spx), "-q", "65", "-r", "linear")
    assert "adaptive sampler, density 0.04" in r.stderr  # what the file holds: whole samples
    assert "values pred quality 65, chroma skip 1, model linear" in r.stderr
    assert "quality 65, chroma skip 1" in run("info", str(spx)).stdout
    r = run("restore", "-v", str(photo), str(tmp_path / "r.png"), "--task", "white-block", "-r", "telea")
    assert ", telea, " in r.stderr
    listing = run("models").stdout
    assert "[default for encode]" in listing and "[decodes files that name no model]" in listing


def test_restoring_a_white_block_that_is_not_there_warns(tmp_path, photo, small_rgb):
    r = run("restore", str(photo), str(tmp_path / "r.png"), "--task", "white-block", "-r", "telea")
    assert r.returncode == 0 and "sparsepix: warning: " in r.stderr and "no white block" in r.stderr
    from sparsepix.tasks import white_block_holes

    blocked = small_rgb.copy()
    blocked[white_block_holes(*blocked.shape[:2])] = 255
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sparsepix.restore(blocked, task="white-block", model="telea")


def test_rgba_arrays_are_composited_as_rgba_images_are(small_rgb):
    import warnings

    rgba = np.dstack([small_rgb, np.full(small_rgb.shape[:2], 255, np.uint8)])
    rgba[:5, :5, 3] = 0
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        from_array = sparsepix.encode(rgba, model="linear")
        from_image = sparsepix.encode(Image.fromarray(rgba, "RGBA"), model="linear")
    assert from_array == from_image
    assert issubclass(sparsepix.InputError, ValueError)


def test_long_work_says_it_goes_on_unless_quiet(monkeypatch, capsys):
    import time

    from sparsepix import cli

    monkeypatch.setattr(cli, "HEARTBEAT_S", 0.1)
    cli._run_batch([("slow.spx", "out.png")], lambda i, s, d, r: time.sleep(0.35) or "done", cli.Voice(1))
    err = capsys.readouterr().err
    assert "slow.spx: working, 0 s" in err and err.rstrip().endswith("out.png: done")
    cli._run_batch([("slow.spx", "out.png")], lambda i, s, d, r: time.sleep(0.35) or "done", cli.Voice(0))
    assert capsys.readouterr().err == ""


def test_long_work_shows_the_tiles_done(monkeypatch, capsys):
    """A network run in tiles reports each (codec/progress.py); the heartbeat line shows it."""
    import time

    from sparsepix import cli
    from sparsepix.models import tiles

    monkeypatch.setattr(cli, "HEARTBEAT_S", 0.1)
    canvas, mask = np.zeros((100, 150, 3), np.uint8), np.ones((100, 150), bool)

    def job(i, src, dst, remote):
        slow = lambda c, m: time.sleep(0.15) or c.astype(np.float32)  # noqa: E731
        tiles.whole(slow, canvas, mask, tile=64, overlap=16, max_one_pass=0)  # 2 x 3 tiles
        return "done"

    cli._run_batch([("big.spx", "out.png")], job, cli.Voice(1))
    err = capsys.readouterr().err
    assert "big.spx: working, 0 s (network 1/6)" in err or "(network 2/6)" in err, err
