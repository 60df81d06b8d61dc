"""Training and validation data: image folders, deterministic crops and corruptions.

Every sample is a pure function of (seed, global sample index): the file, the crop, the flip
and the corruption all come from a numpy Generator seeded with both. So a resumed run, a run
with more data-loader workers, or the same run on another machine sees the same batches.
"""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from sparsepix.codec.imageio import as_rgb, image_files, load_image
from sparsepix.errors import InputError
from sparsepix.train import corruptions
from sparsepix.train.config import TASKS, TrainConfig

# Decoded images kept per worker: all of BSDS500 (~230 MB decoded), a slice of larger sets.
CACHE_ITEMS = 2048


def list_images(folders: tuple[str, ...]) -> list[Path]:
    """Every image below the folders, sorted by path (the order splits depend on)."""
    paths: list[Path] = []
    for folder in folders:
        try:
            paths += image_files(folder, recursive=True)
        except InputError:
            raise InputError(f"data folder {folder} does not exist") from None
    if not paths:
        raise InputError(f"no images found in {', '.join(folders)}")
    return sorted(paths)


def split(paths: list[Path], val_count: int) -> tuple[list[Path], list[Path]]:
    """Hold out the last `val_count` files by name (e.g. the last 1,000 CelebA crops)."""
    if len(paths) <= val_count:
        raise InputError(f"{len(paths)} images are too few to hold out {val_count} for validation")
    return paths[: len(paths) - val_count], paths[len(paths) - val_count :]


def class_labels(paths: list[Path]) -> tuple[list[int], list[str]]:
    """Folder-per-class labels: the parent folder's name."""
    names = sorted({p.parent.name for p in paths})
    index = {n: i for i, n in enumerate(names)}
    return [index[p.parent.name] for p in paths], names


def corruption_for(task: str, density: tuple[float, float]) -> corruptions.Corruption:
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    return {
        "sparse": partial(corruptions.sparse_mixed, density=density),
        "sparse-random": partial(corruptions.sparse_random, density=density),
        "sparse-sobel": partial(corruptions.sparse_sobel, density=density),
        "inpaint": corruptions.inpaint,
        "color-noise": corruptions.color_noise,
        "white-block": corruptions.white_block,
        "block-holes": corruptions.block_holes,
    }.get(task)  # color-block needs a donor image: handled by the dataset


@lru_cache(maxsize=1)
def _detector(card: str) -> torch.nn.Module:
    from sparsepix.models import registry

    return registry.load_detector(registry.read_card(Path(card)), torch.device("cpu"))


def found_pixels(card: str, noisy: np.ndarray) -> np.ndarray:
    """The pixels of a noisy crop that the card's detector takes as true (on the CPU: data
    workers run it)."""
    from sparsepix.models.noisedetector import true_pixels

    return true_pixels(_detector(card), noisy, torch.device("cpu"))


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, C) -> float (C, H, W) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float() / 127.5 - 1.0


def pad_to(image: np.ndarray, size: int) -> np.ndarray:
    """Reflect-pad images smaller than the crop rather than upscale them."""
    h, w = image.shape[:2]
    if h >= size and w >= size:
        return image
    return np.pad(image, ((0, max(0, size - h)), (0, max(0, size - w)), (0, 0)), mode="reflect")


def random_crop(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random square crop, mirrored left-right half the time."""
    image = pad_to(image, size)
    h, w = image.shape[:2]
    y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    crop = image[y : y + size, x : x + size]
    return crop[:, ::-1] if rng.random() < 0.5 else crop


def centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    image = pad_to(image, size)
    h, w = image.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return image[y : y + size, x : x + size]


@lru_cache(maxsize=4)
def _epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n)


def epoch_file(seed: int, i: int, n: int) -> int:
    """The file of training sample i: each epoch visits all n files in a seeded random order."""
    epoch, pos = divmod(i, n)
    return int(_epoch_order(seed, epoch, n)[pos])


class CorruptedImages(Dataset):
    """Item i: (canvas, mask, target, label) for global sample index i, deterministic in (seed, i).

    Training (`train=True`): the file is the i-th of a per-epoch permutation, randomly cropped
    and flipped. Validation: file i, centre crop, the same corruption every time.
    """

    def __init__(self, paths: list[Path], config: TrainConfig, train: bool, labels: list[int] | None = None):
        self.paths, self.config, self.train = paths, config, train
        self.labels = labels
        self.corrupt = corruption_for(config.task, (config.density_min, config.density_max))
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def _image(self, k: int) -> np.ndarray:
        image = self._cache.get(k)
        if image is None:
            image = load_image(self.paths[k])
            image = as_rgb(image)
            if len(self._cache) < CACHE_ITEMS:
                self._cache[k] = image
        return image

    def _file_index(self, i: int) -> int:
        if not self.train:
            return i % len(self.paths)
        return epoch_file(self.config.seed, i, len(self.paths))

    def __getitem__(self, i: int):
        rng = np.random.default_rng([self.config.seed, int(self.train), i])
        k = self._file_index(i)
        image = self._image(k)
        size = self.config.crop
        crop = random_crop(image, size, rng) if self.train else centre_crop(image, size)
        crop = np.ascontiguousarray(crop)
        if self.config.task == "color-block":
            donor = self._image(int(rng.integers(0, len(self.paths))))
            canvas, known = corruptions.color_block(crop, rng, donor)
        else:
            canvas, known = self.corrupt(crop, rng)
            if self.config.detector:
                # The samples a restoration will hand the generator: the detector's pick.
                known = found_pixels(self.config.detector, canvas)
                canvas = canvas * known[..., None]
            if self.config.task in corruptions.SPARSE_TASKS:
                # What a decoder gets: tuned values (encoders with --optimize), then quantised.
                if self.config.optimize:
                    canvas = corruptions.linear_tuned_values(crop, known, self.config.optimize)
                if self.config.quality:
                    canvas = corruptions.lossy_values(canvas, known, rng, self.config.quality)
        label = self.labels[k] if self.labels is not None else -1
        return to_tensor(canvas), torch.from_numpy(known[None].astype(np.float32)), to_tensor(crop), label


class WithCoarseFill(Dataset):
    """Appends the generator's Delaunay-linear fill to each item (canvas, mask, target, label).

    The fill is scipy work on the CPU; computed here, it runs in the data-loader workers beside
    the training step instead of inside it, where it would leave a GPU mostly idle.
    """

    def __init__(self, items: Dataset):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        from sparsepix.models.generator import linear_fill

        canvas, mask, target, label = self.items[i]
        return canvas, mask, target, label, linear_fill((canvas * mask)[None], mask[None])[0]


class IndexRange(torch.utils.data.Sampler):
    """Global sample indices for one process: steps [start, stop), this rank's slice of each batch."""

    def __init__(self, start_step: int, stop_step: int, batch: int, rank: int = 0, world: int = 1):
        self.start, self.stop, self.batch, self.rank, self.world = start_step, stop_step, batch, rank, world

    def __iter__(self):
        for step in range(self.start, self.stop):
            base = (step * self.world + self.rank) * self.batch
            yield from range(base, base + self.batch)

    def __len__(self) -> int:
        return (self.stop - self.start) * self.batch
