from pathlib import Path

import numpy as np
import pytest
from skimage import data as skdata

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Compiled networks (models/lean.py) go to a folder of the run's, not the user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A 512x512 RGB photo bundled with scikit-image."""
    return skdata.astronaut()


@pytest.fixture(scope="session")
def small_rgb(astronaut) -> np.ndarray:
    """An odd-sized crop, to catch even-size assumptions."""
    return np.ascontiguousarray(astronaut[100:167, 200:301])


@pytest.fixture(scope="session")
def kodak_dir() -> Path:
    path = SHARED / "kodak"
    if not (path / "kodim23.png").exists():
        pytest.skip("shared Kodak set not found beside the project")
    return path


@pytest.fixture(scope="session")
def heldout_faces() -> list[Path]:
    """The CelebA crops no shipped model trained on: the last 1,000 by name."""
    path = SHARED / "celeba_faces_128"
    files = sorted(path.glob("*.jpg"))
    if len(files) < 1000:
        pytest.skip("shared CelebA crops not found beside the project")
    return files[-1000:]
