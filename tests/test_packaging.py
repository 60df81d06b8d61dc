"""`pip install .` (not editable) gives a working package: the wheel holds the shipped weights
and py.typed, and an installed copy finds its models away from the source tree."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")  # keep build/ out of the source tree
    cmd = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q"]
    r = subprocess.run([*cmd, "-w", str(out)], capture_output=True, text=True, cwd=build, timeout=300)
    if r.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {r.stderr.strip().splitlines()[-1:]}")
    return next(out.glob("sparsepix-*.whl"))


def test_the_wheel_holds_the_package_its_weights_and_types(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    weights = (ROOT / "models" / "weights").iterdir()
    shipped = {p.name for p in weights if p.suffix in (".pt", ".json", ".onnx")}
    assert shipped and {f"sparsepix/models/weights/{n}" for n in shipped} <= names
    assert {"sparsepix/py.typed", "sparsepix/pil_plugin.py", "sparsepix/codec/predictive.py"} <= names
    assert not any(n.startswith(("sparsepix/tests/", "sparsepix/runs/", "tests/")) for n in names)
    # Developer tools and committed results stay in the source tree.
    assert not any(n.startswith(("sparsepix/tools/", "sparsepix/benchmarks/results/")) for n in names)


@pytest.mark.slow
def test_an_installed_copy_decodes_with_its_shipped_models(wheel, tmp_path):
    # The wheel alone into a folder of its own, run by this interpreter: its dependencies (torch
    # & co.) come from wherever this test session has them, a virtual environment or not, and
    # the folder comes first on the path, before any editable install of the source tree.
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "--target", str(target), str(wheel)], check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = (
        "import sparsepix, numpy as np; from sparsepix import catalog;"
        "print(sparsepix.__file__); print(' '.join(n for n, r in catalog.available().items() if r.learned));"
        "img = np.zeros((32, 32, 3), np.uint8); print(sparsepix.decode(sparsepix.encode(img)).shape)"
    )
    run = dict(capture_output=True, text=True, cwd=tmp_path, timeout=300, env=env)
    r = subprocess.run([sys.executable, "-c", probe], **run)
    assert r.returncode == 0, r.stderr
    where, learned, shape = r.stdout.splitlines()
    assert where.startswith(str(target)) and "natural" in learned.split() and shape == "(32, 32, 3)"
    version = subprocess.run([sys.executable, "-m", "sparsepix", "--version"], **run)
    assert "format version" in version.stdout
