"""Training pictures for the feed-forward style network: random crops of photographs.

The trainer draws batches of ``size x size`` RGB crops, float32 in [0, 255], from a folder of
the user's photographs or, without one, from photographs our dependencies already install, so
training needs no download::

    python -c "from tf1cnn.distributed.pictures import *; print(held_out(2, 64).shape)"

The default photographs and their fixed split:

- training (``TRAINING_PHOTOS``): scikit-image's ``astronaut`` (512x512), ``coffee``
  (400x600), ``rocket`` (427x640) and the left view of ``stereo_motorcycle`` (500x741), all
  files inside scikit-image's wheel (its ``data/`` folder), which load with no network;
- held out, never trained on (``HELD_OUT_PHOTOS``): scikit-image's ``chelsea`` (300x451) and
  our bundled content photograph ``grace_hopper.jpg`` (600x512), so the trained network can be
  compared with the optimisation tool on its own default content.

scikit-image's other pictures are microscopy, astronomy, textures, grey or drawn, or are
fetched on first use, and are left out.

The rules of a training crop (``Crops``): pick a picture at random; scale it so its shorter
side is a random whole number of pixels between ``size`` and ``2 * size``, but no larger than
it already is (no upscaling for scale's sake); a picture whose shorter side is below ``size``
is scaled up to exactly ``size``. Then take a random ``size x size`` crop and flip it left to
right with probability 1/2. A generator seeded with ``seed`` makes every choice, so a seed gives
the same batches on every run; worker ``k`` passes ``seed + k`` to draw crops of its own.
Each picture is decoded once: arrays and the default set (about 20 MB) stay in memory; files of
a user folder are cached up to ``CACHE_BYTES`` (512 MB of float32), least recently used dropped.

Held-out crops (``held_out``) involve no chance: crop ``i`` comes from held-out photograph
``i mod 2``, scaled so its shorter side is ``1.5 * size``, at the ``i // 2``-th of a fixed list
of positions (centre, corners, edge middles). Sizes above are height x width.
"""
from __future__ import annotations

import collections
import functools
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from tf1cnn.common import images, samples
from tf1cnn.common.errors import UsageError

TRAINING_PHOTOS = ("astronaut", "coffee", "rocket", "motorcycle")
HELD_OUT_PHOTOS = ("chelsea", "grace_hopper")
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png")  # compared in lower case
CACHE_BYTES = 512 * 2 ** 20  # decoded pictures of a user folder kept in memory, float32
MAX_SCALE = 2.0  # a training picture's shorter side is scaled to at most this times the crop
HELD_OUT_SCALE = 1.5  # held-out photographs' shorter side, in crop sizes
# Where held-out crops sit, as (down, across) fractions of the room left around a crop.
HELD_OUT_POSITIONS = ((0.5, 0.5), (0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0),
                      (0.5, 0.0), (0.5, 1.0), (0.0, 0.5), (1.0, 0.5))

Source = str | os.PathLike | np.ndarray


def _load_default(name: str) -> np.ndarray:
    """Decode one default photograph (uint8 from scikit-image, float32 from our data/)."""
    if name == "grace_hopper":
        return images.read_rgb(samples.sample(samples.SAMPLE_CONTENT), "sample")
    import skimage.data  # imported here: only the default set needs it

    if name == "motorcycle":
        return skimage.data.stereo_motorcycle()[0]
    return getattr(skimage.data, name)()


@functools.cache
def default_photo(name: str) -> np.ndarray:
    """The default photograph ``name`` (one of ``TRAINING_PHOTOS`` or ``HELD_OUT_PHOTOS``) as
    read-only float32 RGB in [0, 255], decoded once per process."""
    if name not in TRAINING_PHOTOS + HELD_OUT_PHOTOS:
        raise ValueError(f"no default photograph {name!r}: choose from "
                         f"{', '.join(TRAINING_PHOTOS + HELD_OUT_PHOTOS)}")
    pixels = _as_pixels(_load_default(name))
    pixels.flags.writeable = False
    return pixels


def read_folder(folder: str | os.PathLike) -> list[Path]:
    """The .jpg, .jpeg and .png files (any case) under ``folder``, subfolders included, sorted;
    names starting with a dot are skipped. Nothing is decoded here: a file that is no image
    is reported when ``Crops`` reads it."""
    root = Path(folder)
    if not root.exists():
        raise UsageError(f"picture folder not found: {root}")
    if not root.is_dir():
        raise UsageError(f"picture folder is a file, not a folder: {root}")
    try:
        found = sorted(path for path in root.rglob("*")
                       if path.suffix.lower() in PICTURE_SUFFIXES and path.is_file()
                       and not any(part.startswith(".")
                                   for part in path.relative_to(root).parts))
    except OSError as exc:
        raise UsageError(f"cannot list picture folder {root}: {exc.strerror or exc}") from None
    if not found:
        raise UsageError(f"picture folder {root} holds no .jpg, .jpeg or .png file: add "
                         "photographs, or give no folder to train on the default ones")
    return found


def training_sources(folder: str | os.PathLike | None) -> list[Source]:
    """The files of ``folder`` (``read_folder``) when given, else the default training
    photographs as arrays."""
    if folder is not None:
        return list(read_folder(folder))
    return [default_photo(name) for name in TRAINING_PHOTOS]


def _as_pixels(array: np.ndarray) -> np.ndarray:
    """float RGB in [0, 255] as float32; any other dtype or layout through ``images.to_rgb``."""
    array = np.asarray(array)
    if array.dtype.kind == "f":
        if array.ndim != 3 or array.shape[2] != 3 or 0 in array.shape:
            raise ValueError(f"a float picture must be [height, width, 3], got {array.shape}")
        return array.astype(np.float32, copy=False)
    return images.to_rgb(array, "picture")


def _scaled_crop(picture: np.ndarray, scale: float, top: int, left: int,
                 size: int) -> np.ndarray:
    """The ``size x size`` crop at (top, left) of ``picture`` resized by ``scale`` (Lanczos),
    resampling only the part of the picture the crop needs."""
    height, width = picture.shape[:2]
    box = [left / scale, top / scale, (left + size) / scale, (top + size) / scale]
    box[2], box[3] = min(box[2], width), min(box[3], height)  # float rounding at the edge
    margin = math.ceil(3 * max(1.0, 1.0 / scale)) + 1  # Lanczos-3's reach in source pixels
    x0, y0 = max(0, math.floor(box[0]) - margin), max(0, math.floor(box[1]) - margin)
    x1 = min(width, math.ceil(box[2]) + margin)
    y1 = min(height, math.ceil(box[3]) + margin)
    shifted = (box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0)
    part = picture[y0:y1, x0:x1]
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(part[:, :, c]))
                           .resize((size, size), Image.Resampling.LANCZOS, box=shifted))
                for c in range(3)]
    return np.clip(np.stack(channels, axis=2), 0.0, 255.0)


class Crops:
    """Random training crops from ``sources``: image files (decoded on first use with
    ``images.read_rgb``) or arrays (float RGB in [0, 255], or any layout ``images.to_rgb``
    takes). Decoded files are kept up to ``cache_bytes``, the least recently used dropped
    first (the one in use always stays); arrays are always kept."""

    def __init__(self, sources: Sequence[Source], size: int = 256, seed: int = 0,
                 cache_bytes: int = CACHE_BYTES):
        if not sources:
            raise ValueError("Crops needs at least one picture")
        if size < 1:
            raise ValueError(f"crop size must be at least 1, got {size}")
        self.size = size
        self.cache_bytes = cache_bytes
        self._rng = np.random.default_rng(seed)
        self._sources = [source if isinstance(source, np.ndarray) else Path(source)
                         for source in sources]
        self._arrays = {i: _as_pixels(s) for i, s in enumerate(self._sources)
                        if isinstance(s, np.ndarray)}
        self._cache: collections.OrderedDict[int, np.ndarray] = collections.OrderedDict()

    @property
    def cached_bytes(self) -> int:
        """Bytes of decoded files held now (arrays given as sources not counted)."""
        return sum(pixels.nbytes for pixels in self._cache.values())

    def _picture(self, index: int) -> np.ndarray:
        if index in self._arrays:
            return self._arrays[index]
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        pixels = images.read_rgb(self._sources[index], "training")
        self._cache[index] = pixels
        while len(self._cache) > 1 and self.cached_bytes > self.cache_bytes:
            self._cache.popitem(last=False)
        return pixels

    def crop(self) -> np.ndarray:
        """One random crop, float32 [size, size, 3] in [0, 255] (the module's rules)."""
        rng, size = self._rng, self.size
        picture = self._picture(int(rng.integers(len(self._sources))))
        height, width = picture.shape[:2]
        shorter = min(height, width)
        target = size if shorter <= size else \
            int(rng.integers(size, min(shorter, round(MAX_SCALE * size)) + 1))
        scale = target / shorter
        rows = max(size, math.floor(height * scale + 1e-9))
        cols = max(size, math.floor(width * scale + 1e-9))
        top = int(rng.integers(rows - size + 1))
        left = int(rng.integers(cols - size + 1))
        crop = _scaled_crop(picture, scale, top, left, size)
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        return crop

    def batch(self, n: int) -> np.ndarray:
        """``n`` random crops, float32 [n, size, size, 3] in [0, 255]."""
        out = np.empty((n, self.size, self.size, 3), np.float32)
        for i in range(n):
            out[i] = self.crop()
        return out


def held_out_names(count: int = 8) -> list[str]:
    """The photograph each of ``held_out(count)``'s crops comes from, in order."""
    return [HELD_OUT_PHOTOS[i % len(HELD_OUT_PHOTOS)] for i in range(count)]


def held_out(count: int = 8, size: int = 256) -> np.ndarray:
    """``count`` fixed crops, float32 [count, size, size, 3] in [0, 255], from the held-out
    photographs only: crop ``i`` from photograph ``i mod len(HELD_OUT_PHOTOS)``, scaled so its
    shorter side is ``HELD_OUT_SCALE * size``, at position ``i // len(HELD_OUT_PHOTOS)`` of
    ``HELD_OUT_POSITIONS`` (cycling). The same on every call."""
    out = np.empty((count, size, size, 3), np.float32)
    scaled: dict[str, np.ndarray] = {}
    for i, name in enumerate(held_out_names(count)):
        if name not in scaled:
            photo = default_photo(name)
            shorter = min(photo.shape[:2])
            scale = round(HELD_OUT_SCALE * size) / shorter
            scaled[name] = images.resize(photo, max(size, round(photo.shape[0] * scale)),
                                         max(size, round(photo.shape[1] * scale)))
        picture = scaled[name]
        down, across = HELD_OUT_POSITIONS[(i // len(HELD_OUT_PHOTOS)) %
                                          len(HELD_OUT_POSITIONS)]
        top = round(down * (picture.shape[0] - size))
        left = round(across * (picture.shape[1] - size))
        out[i] = picture[top:top + size, left:left + size]
    return out
