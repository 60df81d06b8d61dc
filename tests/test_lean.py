"""The lean runtime (models/lean.py): OpenVINO runs the shipped networks as torch does, and
decoding needs no torch."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import sparsepix
from sparsepix import metrics
from sparsepix.errors import InputError, ModelError
from sparsepix.models import lean, registry, tiles
from sparsepix.models.weightsfile import read_weights

pytestmark = pytest.mark.skipif(not lean.available(), reason="openvino is not installed")
SHIPPED = registry.shipped()


def _decode_both(model: str, image: np.ndarray, monkeypatch, density: float = 0.05) -> dict:
    data = sparsepix.encode(image, density=density, model=model)
    out = {}
    for backend in ("openvino", "torch"):
        monkeypatch.setenv("SPARSEPIX_BACKEND", backend)
        out[backend] = sparsepix.decode(data)
    return out


@pytest.mark.parametrize("name", ["natural", "natural-opt"])
def test_shipped_models_decode_as_with_torch(name, astronaut, monkeypatch):
    """Both shipped graphs (natural's is faces' and inpaint's too), their own passes; each runtime
    at its own precision for this CPU, as decode runs them."""
    image = np.ascontiguousarray(astronaut[128:384, 96:352])
    out = _decode_both(name, image, monkeypatch)
    gap = metrics.psnr(image, out["openvino"]) - metrics.psnr(image, out["torch"])
    assert abs(gap) < 0.05, gap
    assert np.abs(out["openvino"].astype(int) - out["torch"]).max() <= 8


def test_every_shipped_model_has_its_graphs():
    assert all(registry.lean_ready(m) for m in SHIPPED.values()), [
        m.name for m in SHIPPED.values() if not registry.lean_ready(m)
    ]


def test_tiles_and_odd_sizes_match_torch(monkeypatch):
    """Padding to the stride (reflect, and replicate for tiny images) and tiled images, in fp32
    on both sides so that they must agree to rounding."""
    from sparsepix.models import inference
    from sparsepix.models.inference import generate

    monkeypatch.setattr(inference, "cpu_has_native_bf16", lambda: False)
    model = SHIPPED["natural-opt"]
    g = registry.load_generator(model, torch.device("cpu"))
    network = lean.compile_graph(
        lean.graph_path(model.path.parent, model.config),
        registry._numpy_payload(model)["state_dict"],
        config={"INFERENCE_PRECISION_HINT": "f32"},
    )
    net = lean.LeanGenerator(model.config, network)
    rng = np.random.default_rng(0)
    for h, w, one_pass in ((5, 3, None), (37, 61, None), (150, 210, 1)):
        mask = rng.random((h, w)) < 0.2
        mask[0, 0] = True
        canvas = rng.integers(0, 256, (h, w, 3), dtype=np.uint8) * mask[..., None]
        a = generate(
            g, canvas, mask, torch.device("cpu"), tile=96, overlap=16, max_one_pass=one_pass, ensemble=4
        )
        run = lambda c, m: net.run(c, m, ensemble=4)  # noqa: E731
        b = tiles.whole(run, canvas, mask, tile=96, overlap=16, max_one_pass=one_pass)
        assert np.abs(a.astype(int) - b).max() <= 1, (h, w)


def test_backend_choice(monkeypatch):
    natural = SHIPPED["natural"]
    monkeypatch.setenv("SPARSEPIX_BACKEND", "torch")
    assert registry.runtime_for(natural, "cpu") == ("torch", "cpu")
    monkeypatch.setenv("SPARSEPIX_BACKEND", "auto")
    assert registry.runtime_for(natural, "cpu") == ("openvino", "cpu")
    assert registry.runtime_for(natural, "cuda")[0] == "torch"
    monkeypatch.setenv("SPARSEPIX_BACKEND", "onnx")
    with pytest.raises(InputError, match="SPARSEPIX_BACKEND"):
        registry.runtime_for(natural, "cpu")
    monkeypatch.setenv("SPARSEPIX_BACKEND", "openvino")
    with pytest.raises(ModelError, match="cannot run there"):
        registry.runtime_for(natural, "cuda")


def test_weights_read_without_torch_equal_torch_load():
    for model in (SHIPPED["natural"], SHIPPED["faces-color-noise"]):
        blob = model.path.read_bytes()
        ours, theirs = read_weights(blob), torch.load(io.BytesIO(blob), weights_only=True)
        assert ours["config"] == theirs["config"] and ours["version"] == theirs["version"]
        for key in [k for k in theirs if k.endswith("state_dict")]:
            assert list(ours[key]) == list(theirs[key])
            for name, value in theirs[key].items():
                assert ours[key][name].dtype == value.numpy().dtype
                assert np.array_equal(ours[key][name], value.numpy()), name


def test_weights_reader_refuses_other_classes_and_garbage(tmp_path):
    buf = io.BytesIO()
    torch.save({"state_dict": {"w": torch.ones(2)}, "extra": {1, 2}}, buf)  # a set: not allowed
    with pytest.raises(ValueError, match="set is not allowed"):
        read_weights(buf.getvalue())
    for blob in (b"", b"PK\x03\x04junk", buf.getvalue()[: len(buf.getvalue()) // 2]):
        with pytest.raises(ValueError):
            read_weights(blob)
    # A view of part of a larger storage: its own elements only.
    buf = io.BytesIO()
    torch.save({"w": torch.arange(6.0)[1:5:2]}, buf)
    assert read_weights(buf.getvalue())["w"].tolist() == [1.0, 3.0]


_NO_TORCH = """
import sys
sys.modules["torch"] = None  # `import torch` fails, as where it is not installed
from sparsepix.main import main
sys.argv = ["sparsepix", *sys.argv[1:]]
main()
"""


def _without_torch(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPARSEPIX_BACKEND": "auto"}
    return subprocess.run(
        [sys.executable, "-c", _NO_TORCH, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_encode_and_decode_need_no_torch(astronaut, tmp_path, monkeypatch):
    from PIL import Image

    image = np.ascontiguousarray(astronaut[:200, :248])
    Image.fromarray(image).save(tmp_path / "in.png")
    for model in ("natural", "natural-opt"):
        spx = f"{model}.spx"
        done = _without_torch("encode", "in.png", spx, "-d", "0.05", "--model", model, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        done = _without_torch("decode", f"{model}.spx", f"{model}.png", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        monkeypatch.setenv("SPARSEPIX_BACKEND", "torch")
        by_torch = sparsepix.decode((tmp_path / f"{model}.spx").read_bytes())
        lean_psnr = metrics.psnr(image, np.asarray(Image.open(tmp_path / f"{model}.png")))
        assert abs(lean_psnr - metrics.psnr(image, by_torch)) < 0.05


def test_what_needs_torch_says_so_in_one_line(astronaut, tmp_path):
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(astronaut[:64, :64])).save(tmp_path / "in.png")
    for args in (
        ["encode", "in.png", "out.spx", "--model", "natural", "--optimize", "2"],
        ["encode", "in.png", "out.spx", "--effort", "4"],
        ["train", "--data", ".", "--out", "run", "--steps", "1"],
        ["restore", "in.png", "out.png", "--task", "color-noise", "--model", "faces-color-noise"],
        ["bench", "recon", ".", "--models", "linear"],
    ):
        done = _without_torch(*args, cwd=tmp_path)
        assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "needs torch, which is not installed" in done.stderr, done.stderr
    assert "sparsepix bench recon needs torch" in done.stderr


@pytest.mark.data
def test_on_kodak_the_lean_decode_is_within_005_db_of_torch(kodak_dir, monkeypatch):
    """The default model at two densities on six Kodak images, mean PSNR of each runtime."""
    from sparsepix.codec.imageio import load_image

    gaps = []
    for path in sorted(kodak_dir.glob("kodim*.png"))[::4]:
        image = load_image(path)
        for density in (0.02, 0.1):
            out = _decode_both("natural", image, monkeypatch, density)
            gaps.append(metrics.psnr(image, out["openvino"]) - metrics.psnr(image, out["torch"]))
    assert len(gaps) == 12 and abs(np.mean(gaps)) < 0.05 and max(map(abs, gaps)) < 0.05, gaps


def test_export_writes_the_graph_of_a_new_architecture(tmp_path, astronaut, monkeypatch):
    """A model of a network no shipped graph covers: `export` writes its graph, and the lean
    runtime decodes with it as torch does (torch in fp32, OpenVINO at its own precision)."""
    from sparsepix.models import inference
    from sparsepix.models.config import PRESETS
    from sparsepix.models.generator import Generator
    from sparsepix.train.export import export

    torch.manual_seed(0)
    g = Generator(PRESETS["tiny-refine"][0])
    torch.nn.init.normal_(g.head[1].weight, 0, 0.05)  # not the zero head of a fresh refiner
    state = {"G": g.state_dict(), "G_ema": None, "gen_config": g.config.to_dict(), "step": 0, "config": {}}
    torch.save(state, tmp_path / "ckpt.pt")
    export(tmp_path / "ckpt.pt", "toy", tmp_path)
    assert [p.name for p in tmp_path.glob("*.onnx")] == [lean.graph_path(tmp_path, g.config).name]
    model = registry.read_card(tmp_path / "toy.json")
    assert registry.lean_ready(model)

    monkeypatch.setattr(inference, "cpu_has_native_bf16", lambda: False)
    mask = np.random.default_rng(4).random((96, 128)) < 0.1
    canvas = np.ascontiguousarray(astronaut[:96, :128]) * mask[..., None]
    outs = {}
    for backend in ("openvino", "torch"):
        monkeypatch.setenv("SPARSEPIX_BACKEND", backend)
        outs[backend] = registry.reconstruct_with(model, canvas, mask, "cpu", ensemble=2).astype(int)
    assert np.abs(outs["openvino"] - outs["torch"]).max() <= 2


def test_threads_sharing_a_model_take_turns(astronaut, monkeypatch):
    """A Dask worker's threads share the cached compiled model, which runs one request at a time."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("SPARSEPIX_BACKEND", "openvino")
    crop = np.ascontiguousarray(astronaut[:160, :224])
    datas = [sparsepix.encode(np.roll(crop, 19 * k, axis=1), density=0.05) for k in range(8)]
    alone = [sparsepix.decode(d) for d in datas]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(sparsepix.decode, datas))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together))


def test_compiled_networks_are_cached_between_processes(tmp_path, astronaut):
    """A one-file decode compiles a network once per machine; where the cache cannot be written,
    decoding costs only time."""
    src = tmp_path / "a.spx"
    src.write_bytes(sparsepix.encode(astronaut[:64, :64], density=0.1, effort=0))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "SPARSEPIX_BACKEND": "openvino"}

    def decode(out: str) -> bytes:
        cmd = [sys.executable, "-m", "sparsepix", "decode", str(src), str(tmp_path / out)]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return (tmp_path / out).read_bytes()

    first = decode("0.png")
    assert any((tmp_path / "cache" / "sparsepix" / "openvino").iterdir())
    assert decode("1.png") == first
    (tmp_path / "file").write_text("")
    env["XDG_CACHE_HOME"] = str(tmp_path / "file")  # no folder can be made under a file
    assert decode("2.png") == first
