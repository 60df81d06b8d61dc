"""Batch work on a real Dask cluster: a scheduler and two worker processes on 127.0.0.1, against
the local run (cluster.py, `--scheduler`)."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from sparsepix import cluster

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as local:
        yield local.scheduler_address


@pytest.fixture()
def folder(tmp_path, astronaut):
    """Three small photos and one file that is no image."""
    src = tmp_path / "in"
    src.mkdir()
    for i, (y, x) in enumerate([(0, 0), (200, 150), (300, 300)]):
        Image.fromarray(astronaut[y : y + 64, x : x + 80]).save(src / f"p{i}.png")
    (src / "p3-broken.png").write_bytes(b"not an image")
    return src


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real command line; `.output` is what it said on stderr."""
    r = subprocess.run(
        [sys.executable, "-m", "sparsepix", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    r.output, r.exit_code = r.stderr, r.returncode
    return r


def test_folder_encode_and_decode_equal_the_local_run(tmp_path, folder, scheduler):
    for where, env in (("local", {}), ("dask", {cluster.ENV: scheduler})):
        enc = run("encode", str(folder), str(tmp_path / f"spx-{where}"), "--model", "natural", env=env)
        # The broken file is named and the other three finish.
        assert enc.exit_code == 1, enc.output
        assert "p3-broken.png: not an image file" in enc.output and "3 of 4 files done" in enc.output
        dec = run("decode", str(tmp_path / f"spx-{where}"), str(tmp_path / f"png-{where}"), env=env)
        assert dec.exit_code == 0, dec.output
    for i in range(3):
        spx = [(tmp_path / f"spx-{where}/p{i}.spx").read_bytes() for where in ("local", "dask")]
        assert spx[0] == spx[1]
        local = np.asarray(Image.open(tmp_path / f"png-local/p{i}.png"))
        dask = np.asarray(Image.open(tmp_path / f"png-dask/p{i}.png"))
        assert np.array_equal(local, dask)


def test_models_load_once_per_worker(tmp_path, folder, scheduler):
    run("encode", str(folder), str(tmp_path / "spx"), "--model", "natural", "--scheduler", scheduler)
    for _ in range(2):
        out = run("decode", str(tmp_path / "spx"), str(tmp_path / "png"), "--scheduler", scheduler)
        assert out.exit_code == 0, out.output

    def loads() -> int:
        from sparsepix.models import registry

        # Either runtime's cache: torch's, or the lean one where openvino is installed.
        return registry._cached.cache_info().misses + registry._lean_generator.cache_info().misses

    with distributed.Client(scheduler, set_as_default=False) as client:
        per_worker = client.run(loads)
    # Six learned decodes over two workers; each loaded the model at most once.
    assert len(per_worker) == 2 and all(n <= 1 for n in per_worker.values()), per_worker
    assert sum(per_worker.values()) >= 1


def _summary(out) -> list[dict]:
    rows = list(csv.DictReader((out / "summary.csv").open()))
    return [{k: v for k, v in r.items() if not k.endswith("_time")} for r in rows]


def test_bench_equals_the_local_run_and_resumes_from_its_cache(tmp_path, folder, scheduler):
    (folder / "p3-broken.png").unlink()
    args = ["bench", str(folder), "--quick", "--codecs", "jpeg", "--sparsepix", "random:linear:pred65"]
    args += ["--crop-curves", "jpeg"]
    local = run(*args, "--out", str(tmp_path / "local"))
    assert local.exit_code == 0, local.output
    # The cluster run shares a cache holding one image's measurements: those are kept as they are.
    cache = tmp_path / "cache"
    first = run(*args, "--limit", "1", "--out", str(tmp_path / "first"), "--cache", str(cache))
    assert first.exit_code == 0, first.output
    kept = {p: p.stat().st_mtime_ns for p in cache.rglob("*.json")}
    dask = run(*args, "--out", str(tmp_path / "dask"), "--cache", str(cache), "--scheduler", scheduler)
    assert dask.exit_code == 0, dask.output
    assert _summary(tmp_path / "local") == _summary(tmp_path / "dask")
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())
    assert len(list(cache.rglob("*.json"))) == 3 * len(kept)


def test_gpu_workers_take_the_calls_that_want_one(scheduler):
    """A third worker advertises a GPU: every call that wants one runs there, and only there."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", scheduler, "--nthreads", "1"]
        + ["--resources", f"{cluster.GPU}=1", "--no-nanny", "--no-dashboard", "--name", "gpu"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with distributed.Client(scheduler, set_as_default=False) as client:
            client.wait_for_workers(3, timeout=60)
            gpu = next(a for a, w in client.scheduler_info()["workers"].items() if w["name"] == "gpu")
            gpu_pid = client.run(os.getpid, workers=[gpu])[gpu]
            # Each call says which process ran it; the even ones want a GPU.
            ahead = cluster.Ahead(client, 12, lambda i: (os.getpid, (), i % 2 == 0))
            ran = [ahead.result(i) for i in range(12)]
            assert all(pid == gpu_pid for pid in ran[::2])
            finished = dict(cluster.unordered(client, 12, lambda i: (os.getpid, (), i % 2 == 0)))
            assert all(finished[i] == gpu_pid for i in range(0, 12, 2))
    finally:
        worker.kill()  # a worker without a nanny may linger on SIGTERM while it closes
        worker.wait(timeout=30)


def test_an_unreachable_scheduler_is_one_line(tmp_path, folder):
    out = run(
        "encode", str(folder / "p0.png"), str(tmp_path / "a.spx"),
        env={cluster.ENV: "tcp://127.0.0.1:9", "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"},
    )  # fmt: skip
    assert out.exit_code == 1
    assert len(out.output.strip().splitlines()) == 1 and "cannot reach a Dask scheduler" in out.output
    assert not (tmp_path / "a.spx").exists()


def test_local_overrides_the_environment(monkeypatch):
    monkeypatch.delenv(cluster.ENV, raising=False)
    assert cluster.address(None) is None
    monkeypatch.setenv(cluster.ENV, "tcp://10.0.0.1:8786")
    assert cluster.address(None) == "tcp://10.0.0.1:8786"
    assert cluster.address("local") is None and cluster.address("tcp://h:1") == "tcp://h:1"


def test_without_distributed_the_option_says_what_to_install(tmp_path, folder):
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "distributed.py").write_text("raise ImportError('hidden by the test')\n")
    out = run(
        "encode", str(folder), str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9",
        env={"PYTHONPATH": os.pathsep.join(filter(None, [str(hide), os.environ.get("PYTHONPATH")]))},
    )  # fmt: skip
    assert out.exit_code == 1 and "pip install 'sparsepix[cluster]'" in out.output
