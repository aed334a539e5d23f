"""Where a run's VGG weights come from, and the cache that makes every later start fast.

:func:`load` takes what ``--vgg`` says and returns a :class:`Network`:

* nothing: MatConvNet's imagenet-vgg-verydeep-19.mat, downloaded once (:mod:`.download`);
* ``keras-vgg19``: Keras' VGG19 ImageNet weights (an 80 MB .h5), downloaded once;
* a path: a MatConvNet .mat (:mod:`.matconvnet`) or a Keras .h5 (:mod:`.keras_h5`), told apart
  by the HDF5 signature at the start of the file or an ``.h5``/``.hdf5`` suffix.

Reading the 535 MB .mat takes seconds, though a run uses only its 80 MB of convolutions. So the
first read writes those (every convolution, before any cut) to
``<cache>/weights/<hash of the resolved path>.npz``, with a JSON ``manifest`` that records the
source's size and modification time in ns, its SHA-256 and a SHA-256 of the arrays. A later run
uses the cache only if the source's size and mtime still match and the cache passes every check
(it opens, the keys and shapes agree with the manifest, the arrays hash to the stored value);
anything else is logged on one line and the cache is rebuilt from the source. The cache is
written to a temporary file and moved into place, so a half-written one is never seen. A cache
folder that cannot be written costs a warning and the full read, not the run.

    python -m tf1cnn.style_transfer.network.weights PATH  # build the cache, time a cached load
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable

import numpy as np

from tf1cnn.common import options
from tf1cnn.common.errors import ModelFileError

from . import download, keras_h5, matconvnet, vgg
from .matconvnet import Layer

log = logging.getLogger(__name__)

KERAS_VGG19 = "keras-vgg19"
CACHE_VERSION = 1  # bump when the cache layout changes; older caches are then rebuilt
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_unwritable: set[str] = set()  # cache folders already warned about in this process


@dataclasses.dataclass(frozen=True)
class Network:
    """The trunk a run uses and what identifies it.

    ``layers`` is cut after the deepest requested output; ``sha256`` is the SHA-256 of the
    source file (for the default download, the pinned value), the weights' identity in a run's
    settings; ``source`` is the path that was read, for the printed config.
    """

    layers: tuple[Layer, ...]
    sha256: str
    source: str


def load(source: str | None, outputs: Iterable[str], *, progress: bool = True) -> Network:
    """The network named by ``--vgg`` (None, ``keras-vgg19`` or a path), cut after ``outputs``.

    Raises :class:`~common.errors.UsageError` subclasses: ``ModelFileError`` for a bad
    file, ``DownloadError`` for a failed download, ``UsageError`` for an unknown layer name.
    """
    if source is None:
        path = download.vgg19_path(progress=progress)
    elif source == KERAS_VGG19:
        path = download.keras_vgg19_path(progress=progress)
    else:
        path = Path(source).expanduser()
    layers, sha256 = read(path)
    return Network(tuple(vgg.trunk(layers, outputs)), sha256, str(path))


def reader(path: str | os.PathLike):
    """``keras_h5.read_layers`` for an HDF5 file, else ``matconvnet.read_layers``."""
    try:
        with open(path, "rb") as f:
            start = f.read(len(_HDF5_SIGNATURE))
    except FileNotFoundError:
        raise ModelFileError(f"VGG file not found: {path} (--vgg takes a MatConvNet .mat, a "
                             f"Keras .h5 or {KERAS_VGG19})") from None
    except OSError as e:
        raise ModelFileError(f"cannot read VGG file {path}: {e.strerror or e}") from None
    if start == _HDF5_SIGNATURE or Path(path).suffix.lower() in (".h5", ".hdf5"):
        return keras_h5.read_layers
    return matconvnet.read_layers


def cache_path(path: str | os.PathLike) -> Path:
    """Where the cache of the weights file at ``path`` lives: one file per resolved path."""
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:24]
    return download.cache_dir() / "weights" / f"{key}.npz"


def read(path: str | os.PathLike) -> tuple[list[Layer], str]:
    """Every trunk layer of the weights file at ``path`` and the file's SHA-256, from the cache
    when it is valid for the file as it is now, else from the file (then cached)."""
    read_layers = reader(path)  # also the check that the file exists
    stat = os.stat(path)  # before reading, so a file changed meanwhile is re-read next time
    stamp = {"source": str(Path(path).resolve()), "size": stat.st_size,
             "mtime_ns": stat.st_mtime_ns}
    cache = cache_path(path)
    cached = _load_cache(cache, stamp)
    if cached is not None:
        return cached
    layers = read_layers(path)
    sha256 = download.file_sha256(path)
    _write_cache(cache, dict(stamp, file_sha256=sha256, reader=read_layers.__module__), layers)
    return layers, sha256


class _Broken(Exception):
    """A cache file that exists but must not be trusted."""


def _load_cache(cache: Path, stamp: dict) -> tuple[list[Layer], str] | None:
    try:
        with np.load(cache, allow_pickle=False) as data:
            manifest = json.loads(str(data["manifest"]))
            if manifest.get("version") != CACHE_VERSION:
                raise _Broken(f"version {manifest.get('version')}, expected {CACHE_VERSION}")
            if {key: manifest.get(key) for key in stamp} != stamp:
                log.info("%s changed since %s was written; rebuilding it", stamp["source"],
                         cache)
                return None
            layers = _layers(manifest["layers"], data)
            sha256 = str(manifest["file_sha256"])
    except (FileNotFoundError, NotADirectoryError):  # no cache yet
        return None
    except Exception as e:  # zip, npy, JSON and key errors all mean: not a cache to trust
        log.warning("ignoring the broken weight cache %s (%s: %s); rebuilding it", cache,
                    type(e).__name__, " ".join(str(e).split()))
        return None
    return layers, sha256


def _layers(entries: list, data) -> list[Layer]:
    """The layers a manifest lists, with every array checked against it."""
    expected = {f"{kind}{i}" for i, entry in enumerate(entries) if entry["kind"] == "conv"
                for kind in "wb"} | {"manifest", "arrays_sha256"}
    if set(data.files) != expected:
        raise _Broken(f"keys {sorted(data.files)}, expected {sorted(expected)}")
    layers, channels = [], 3
    for i, entry in enumerate(entries):
        if entry["kind"] != "conv":
            layers.append(Layer(entry["name"], entry["kind"],
                                pool_size=tuple(entry["pool_size"]),
                                pool_method=entry["pool_method"]))
            continue
        kernel, bias = data[f"w{i}"], data[f"b{i}"]
        shape = tuple(entry["shape"])
        if (kernel.shape != shape or shape[2] != channels or bias.shape != (shape[3],)
                or kernel.dtype != np.float32 or bias.dtype != np.float32):
            raise _Broken(f"layer {entry['name']}: kernel {kernel.shape} {kernel.dtype}, bias "
                          f"{bias.shape}, expected {shape} with {channels} inputs, float32")
        channels = shape[3]
        layers.append(Layer(entry["name"], "conv", kernel, bias))
    if vgg.weights_sha256(layers) != str(data["arrays_sha256"]):
        raise _Broken("the arrays do not match their stored SHA-256")
    return layers


def _write_cache(cache: Path, manifest: dict, layers: list[Layer]) -> None:
    """Write the cache atomically, mode 0644; warn once per folder if that is impossible."""
    entries, arrays = [], {}
    for i, layer in enumerate(layers):
        entries.append({"name": layer.name, "kind": layer.kind,
                        "pool_size": list(layer.pool_size), "pool_method": layer.pool_method,
                        "shape": list(layer.weights.shape) if layer.kind == "conv" else None})
        if layer.kind == "conv":
            arrays[f"w{i}"], arrays[f"b{i}"] = layer.weights, layer.bias
    manifest = dict(manifest, version=CACHE_VERSION, layers=entries)
    temp = None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=cache.parent, prefix=f".{cache.stem}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, manifest=np.array(json.dumps(manifest)),
                     arrays_sha256=np.array(vgg.weights_sha256(layers)), **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, cache)
        log.info("cached the weights of %s in %s", manifest["source"], cache)
    except OSError as e:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        if str(cache.parent) not in _unwritable:
            _unwritable.add(str(cache.parent))
            log.warning("cannot write the weight cache in %s (%s); every run reads the whole "
                        "VGG file", cache.parent, e.strerror or e)


def main(argv: list[str] | None = None) -> int:
    """Build the cache for one file, then time a cached load. A missing or broken file is one
    ``error:`` line and exit 2, as in the tools."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = options.UsageParser(prog="python -m tf1cnn.style_transfer.network.weights",
                                 description="Build the weights cache of a VGG file, then time "
                                             "a cached load.")
    parser.add_argument("path", help="a MatConvNet .mat or a Keras .h5")
    return options.guarded(lambda: _time_cached_load(parser.parse_args(argv).path))


def _time_cached_load(path: str) -> int:
    read(path)
    start = time.perf_counter()
    layers, sha256 = read(path)
    print(f"{len(layers)} layers, SHA-256 {sha256}, cached load "
          f"{time.perf_counter() - start:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
