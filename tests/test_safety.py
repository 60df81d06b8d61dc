"""Where a user's files, devices and terminal meet the codec: nothing is damaged, every failure is
one line, and the work a file can demand is bounded (issue "safe by default")."""

import dataclasses
import io
import os
import stat
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import pytest
from PIL import Image

import sparsepix
from sparsepix.bitstream import MAGIC, Limits, pack, parse
from sparsepix.errors import BitstreamError, InputError, ModelError, SparsepixError

CLI = [sys.executable, "-m", "sparsepix"]


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, **kwargs)


def one_line_error(r: subprocess.CompletedProcess, code: int = 1) -> str:
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sparsepix: error:"), r.stderr
    return lines[0]


def char_device(path: str) -> str:
    """`path` if it is a character device here; skips otherwise (an old build may have replaced it)."""
    if not (os.path.exists(path) and stat.S_ISCHR(os.stat(path).st_mode)):
        pytest.skip(f"{path} is not a character device here")
    return path


@pytest.fixture
def photo(tmp_path, small_rgb):
    path = tmp_path / "photo.png"
    Image.fromarray(small_rgb).save(path)
    return path


# 1. Outputs that are not plain files, and the input as output.


def test_a_device_output_is_written_not_replaced(photo):
    r = run("encode", str(photo), char_device(os.devnull), "-r", "linear")
    assert r.returncode == 0, r.stderr
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_full_device_is_a_one_line_error(photo):
    char_device("/dev/full")
    assert "No space left" in one_line_error(run("encode", str(photo), "/dev/full"))
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_symlink_output_is_written_through(tmp_path, photo):
    target, link = tmp_path / "target.spx", tmp_path / "link.spx"
    target.write_bytes(b"old")
    target.chmod(0o640)
    link.symlink_to(target.name)
    assert run("encode", str(photo), str(link), "-r", "linear").returncode == 0
    assert link.is_symlink() and target.read_bytes()[: len(MAGIC)] == MAGIC
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file keeps its permissions
    dangling = tmp_path / "dangling.spx"
    dangling.symlink_to("nowhere.spx")
    assert "dangling" in one_line_error(run("encode", str(photo), str(dangling)))
    assert not (tmp_path / "nowhere.spx").exists()


def test_a_fifo_output_is_written_directly(tmp_path, photo):
    fifo = tmp_path / "pipe.spx"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    r = run("encode", str(photo), str(fifo), "-r", "linear")
    reader.join(30)
    if reader.is_alive():  # the pipe was never opened for writing: release the reader
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(30)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and got and len(got[0]) > 20


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "stdin"])
def test_the_input_is_never_the_output(tmp_path, photo, how):
    before = photo.read_bytes()
    out = {"same": photo, "symlink": tmp_path / "l.png", "hardlink": tmp_path / "h.png", "stdin": photo}[how]
    if how == "symlink":
        out.symlink_to(photo.name)
    if how == "hardlink":
        os.link(photo, out)
    if how == "stdin":
        with open(photo, "rb") as stdin:
            r = run("encode", "-", str(out), stdin=stdin)
    else:
        r = run("restore", str(photo), str(out), "--task", "white-block", "-r", "linear")
    assert "is the input" in one_line_error(r)
    assert photo.read_bytes() == before


def test_the_api_refuses_the_input_as_output(tmp_path, photo):
    before = photo.read_bytes()
    with pytest.raises(InputError, match="is the input"):
        sparsepix.encode_file(photo, photo)
    spx = tmp_path / "a.spx"
    sparsepix.encode_file(photo, spx, model="linear")
    with pytest.raises(InputError, match="is the input"):
        sparsepix.decode_file(spx, spx)
    assert photo.read_bytes() == before and spx.read_bytes()[: len(MAGIC)] == MAGIC


def test_outputs_of_the_other_kind_are_refused_alike(tmp_path, photo):
    spx = tmp_path / "a.spx"
    assert run("encode", str(photo), str(spx), "-r", "linear").returncode == 0
    assert "writes .spx files" in one_line_error(run("encode", str(photo), str(tmp_path / "o.jpg")))
    assert "writes images" in one_line_error(run("decode", str(spx), str(tmp_path / "o.spx")))
    r = run("restore", str(photo), str(tmp_path / "r.spx"), "--task", "white-block")
    assert "writes images" in one_line_error(r)
    assert not any(p.name.startswith(("o.", "r.")) for p in tmp_path.iterdir())


# 2. The work a file can demand of a learned decoder is bounded by its size.


def forged(model: str, side: int = 2000) -> bytes:
    """A tiny flat file claiming side x side pixels, its header naming `model`."""
    flat = np.full((side, side, 3), 128, np.uint8)
    spx = parse(sparsepix.encode(flat, density=0.001, model="linear"))
    header = dataclasses.replace(spx.header, model=model)
    return pack(header, list(spx.sections.items()))


def test_a_small_file_cannot_demand_a_long_learned_decode():
    blob = forged("natural")
    assert len(blob) < 1000
    t0 = time.perf_counter()
    with pytest.raises(BitstreamError, match="out of proportion"):
        sparsepix.decode(blob)
    assert sparsepix.decode_many([blob], errors="return")[0].__class__ is BitstreamError
    with pytest.raises(Image.DecompressionBombError, match="out of proportion"):
        Image.open(io.BytesIO(blob))
    with pytest.raises(BitstreamError, match="out of proportion"):
        sparsepix.decode(forged(""), model="natural")  # asked for by name: bounded the same
    assert time.perf_counter() - t0 < 60  # refused from the header: no network ran
    assert sparsepix.decode(blob, model="linear").shape == (2000, 2000, 3)
    assert sparsepix.decode(blob, limits=Limits(max_work_per_byte=10**12), model="nearest").shape[0] == 2000


def test_encoders_pad_what_decoders_would_refuse():
    """A large flat image at the lowest rate, for the learned default: the file carries the bytes
    its decode's work asks for, so every decoder accepts it."""
    from sparsepix.api import check_decodable

    flat = np.full((2000, 2000, 3), 128, np.uint8)
    blob = sparsepix.encode(flat, density=0.001, model="natural")
    check_decodable(blob)  # raises if a decoder would refuse it
    assert len(blob) > len(sparsepix.encode(flat, density=0.001, model="linear"))


# 3. Pillow's conventions.


def test_pillow_load_errors_are_oserrors_and_save_errors_valueerrors(tmp_path):
    good = sparsepix.encode(np.zeros((16, 16, 3), np.uint8), model="linear")
    header = dataclasses.replace(parse(good).header, model="nosuch")
    missing_model = pack(header, list(parse(good).sections.items()))
    with pytest.raises(Image.DecompressionBombError):  # caught at open, as Pillow's bombs
        Image.open(io.BytesIO(forged("natural")))
    img = Image.open(io.BytesIO(good))
    img.load()
    with pytest.raises(OSError):
        Image.open(io.BytesIO(missing_model)).load()
    image = Image.fromarray(np.zeros((32, 32, 3), np.uint8))
    for bad in (
        dict(bpp=float("nan")),
        dict(bpp=float("inf")),
        dict(bpp="1"),
        dict(size=float("nan")),
        dict(size="300"),
        dict(size=0),
        dict(sampler=3),
        dict(nonsense=1),
    ):
        with pytest.raises(ValueError):
            image.save(io.BytesIO(), format="SPX", **bad)


# 4. I/O errors: one line, exit 1, the rest of a batch still done.


@pytest.mark.parametrize("args", [["info", "FILE"], ["models"], ["--help"], ["--version"]])
def test_a_full_stdout_is_one_line(tmp_path, args):
    char_device("/dev/full")
    spx = tmp_path / "a.spx"
    spx.write_bytes(sparsepix.encode(np.zeros((8, 8, 3), np.uint8), model="linear"))
    with open("/dev/full", "w") as full:
        r = subprocess.run(
            [*CLI, *[str(spx) if a == "FILE" else a for a in args]],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert "standard output" in one_line_error(r)


def test_closed_stdin_and_stdout_are_one_line(tmp_path, photo):
    r = run("encode", "-", str(tmp_path / "o.spx"), stdin=subprocess.DEVNULL, pass_fds=())
    assert r.returncode == 1  # empty stdin: not an image
    closed_in = subprocess.run(
        [*CLI, "encode", "-", str(tmp_path / "o.spx")],
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(0),
    )
    assert "standard input is closed" in one_line_error(closed_in)
    closed_out = subprocess.run(
        [*CLI, "encode", str(photo), "-"],
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(1),
    )
    assert "standard output is closed" in one_line_error(closed_out)
    assert not (tmp_path / "o.spx").exists()


def test_a_broken_pipe_is_quiet(photo):
    proc = subprocess.Popen(
        [*CLI, "decode", "-r", "linear", "-", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    big = np.random.default_rng(0).integers(0, 256, (900, 900, 3), np.uint8)
    blob = sparsepix.encode(big, density=0.2, model="linear")
    proc.stdin.write(blob)
    proc.stdin.close()
    proc.stdout.read(10)
    proc.stdout.close()  # the reader leaves before the PNG is all written
    proc.wait(timeout=120)
    err = proc.stderr.read()
    assert b"Traceback" not in err and b"Broken pipe" not in err


def test_an_unreadable_input_fails_alone_in_a_batch(tmp_path, photo):
    if not os.path.exists("/proc/self/mem"):
        pytest.skip("needs /proc/self/mem (reading it fails with EIO)")
    spx = tmp_path / "a.spx"
    spx.write_bytes(sparsepix.encode(np.zeros((8, 8, 3), np.uint8), model="linear"))
    r = run("decode", str(spx), "/proc/self/mem", str(tmp_path / "out"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "/proc/self/mem: cannot read" in r.stderr and "1 of 2 files done" in r.stderr
    assert (tmp_path / "out" / "a.png").exists()


# 5. API gaps: typed errors, never silent acceptance.


@pytest.fixture(scope="module")
def blob():
    return sparsepix.encode(np.zeros((16, 16, 3), np.uint8), model="linear")


@pytest.mark.parametrize(
    "call",
    [
        lambda b: sparsepix.decode(b, limits="x"),
        lambda b: sparsepix.inspect(b, limits="x"),
        lambda b: sparsepix.decode_many(None),
        lambda b: sparsepix.decode_many(b),
        lambda b: sparsepix.encode_file(None, "x.spx"),
        lambda b: sparsepix.decode_file(None, "x.png"),
        lambda b: sparsepix.encode_to_size(np.zeros((8, 8, 3), np.uint8), "300"),
        lambda b: sparsepix.encode_to_size(np.zeros((8, 8, 3), np.uint8), None),
        lambda b: sparsepix.encode_to_size(np.zeros((8, 8, 3), np.uint8), float("nan")),
        lambda b: sparsepix.encode_to_size(np.zeros((8, 8, 3), np.uint8), float("inf")),
        lambda b: sparsepix.encode_to_size(np.zeros((8, 8, 3), np.uint8), 400, qualities=None),
        lambda b: sparsepix.encode_to_size(np.zeros((8, 8, 3), np.uint8), 400, density=0.1),
    ],
)
def test_bad_api_arguments_are_input_errors(blob, call):
    with pytest.raises(InputError):
        call(blob)


def test_file_helpers_refuse_what_is_not_a_file_name(photo):
    with pytest.raises(InputError, match="dst must be a file name"):
        sparsepix.encode_file(photo, 5)


def test_decode_many_takes_any_iterable(blob):
    assert len(sparsepix.decode_many(b for b in [blob, blob])) == 2


def test_decoders_refuse_models_that_encoders_refuse(blob):
    with pytest.raises(ModelError, match="not a decoder of samples"):
        sparsepix.encode(np.zeros((8, 8, 3), np.uint8), model="inpaint")
    with pytest.raises(ModelError, match="not a decoder of samples"):
        sparsepix.decode(blob, model="inpaint")


@pytest.mark.parametrize("shape", [(1, 5, 3), (5, 1, 3), (1, 1, 3)])
@pytest.mark.parametrize("task", ["white-block", "color-noise", "color-block"])
def test_restore_takes_one_pixel_wide_images(shape, task):
    try:
        out = sparsepix.restore(np.zeros(shape, np.uint8), task=task)
    except SparsepixError:
        return  # a typed refusal is fine; a bare ValueError is not
    assert out.shape == shape


# 6. Inputs read one way.


def test_a_16_bit_mask_reads_the_same_in_the_api_and_the_cli(tmp_path, photo, small_rgb):
    h, w = small_rgb.shape[:2]
    deep = np.zeros((h, w), np.uint16)
    deep[: h // 2] = 1000  # high byte 3: "not missing" read either way, if read one way
    deep[:, : w // 3] = 65535  # missing
    mask_path = tmp_path / "mask16.png"
    Image.fromarray(deep).save(mask_path)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        api = sparsepix.restore(small_rgb, mask=Image.open(mask_path), model="linear")
    out = tmp_path / "out.png"
    r = run("restore", str(photo), str(out), "--mask", str(mask_path), "-r", "linear")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.asarray(Image.open(out)), api)
    assert "sparsepix: warning: " in r.stderr and "SparsepixWarning" not in r.stderr


# 7. Messages that say what happened.


def test_messages_name_the_problem(tmp_path, blob):
    cut = tmp_path / "cut.spx"
    cut.write_bytes(blob[: len(blob) - 5])
    assert "truncated" in one_line_error(run("info", str(cut)))
    empty = tmp_path / "empty.spx"
    empty.write_bytes(b"")
    assert "empty file" in one_line_error(run("info", str(empty)))
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    line = one_line_error(run("encode", str(junk), str(tmp_path / "j.spx")))
    assert "junk.png" in line and "BytesIO" not in line
    r = subprocess.run([*CLI, "info", "-"], input=blob, capture_output=True, timeout=120)
    assert r.stdout.startswith(b"<stdin>:")
