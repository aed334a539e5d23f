"""Read and write MatConvNet "simplenn" model files such as imagenet-vgg-verydeep-19.mat.

A MatConvNet file holds a cell array ``layers``; each entry is a struct with a ``name``, a
``type`` ('conv', 'relu', 'pool', ...) and, for convolutions, the filters and biases. Two
generations of the format exist and both are read here:

* old: top-level keys ``layers``, ``classes`` and ``normalization``; filters in a ``weights`` cell
  ``{W, b}`` (the very oldest files use separate ``filters`` and ``biases`` fields);
* new: top-level keys ``layers`` and ``meta``, filters in the ``weights`` cell.

MatConvNet stores filters as [width, height, in, out]. :func:`read_layers` transposes them to
TensorFlow's [height, width, in, out], as the known-good TensorFlow readers of these files do.
The fully connected head (fc6 onwards) is dropped: only the convolutional trunk is returned.

Every check raises :class:`~common.errors.ModelFileError` naming the layer, what was
expected and what was found. :func:`write_layers` is the inverse, used to build test fixtures,
the random-weight benchmark network and converted networks.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Sequence

import numpy as np
import scipy.io

from tf1cnn.common.errors import ModelFileError

TRUNK_TYPES = ("conv", "relu", "pool")


@dataclasses.dataclass(frozen=True)
class Layer:
    """One layer of the convolutional trunk, with weights already in TensorFlow's HWIO order."""

    name: str
    kind: str  # one of TRUNK_TYPES
    weights: np.ndarray | None = None  # [height, width, in, out], float32
    bias: np.ndarray | None = None  # [out], float32
    pool_size: tuple[int, int] = (2, 2)
    pool_method: str = "max"


def _unwrap(value):
    """Strip MATLAB's 1x1 array wrappers around a struct or scalar."""
    while isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        value = value.flat[0]
    return value


def _text(value) -> str:
    value = _unwrap(value)
    if isinstance(value, np.ndarray):
        return "".join(str(v) for v in value.flat)
    return str(value)


def _field(struct, name: str, where: str):
    if name not in getattr(struct, "_fieldnames", ()):
        found = ", ".join(getattr(struct, "_fieldnames", ())) or "no fields"
        raise ModelFileError(f"{where}: expected a '{name}' field, found {found}")
    return getattr(struct, name)


def _filters(struct, name: str) -> tuple[np.ndarray, np.ndarray]:
    fields = struct._fieldnames
    if "weights" in fields:
        cell = np.asarray(struct.weights, dtype=object).ravel()
        if cell.size != 2:
            raise ModelFileError(f"layer {name}: expected weights {{filters, biases}} "
                                 f"(2 entries), found {cell.size}")
        kernel, bias = cell[0], cell[1]
    elif "filters" in fields and "biases" in fields:
        kernel, bias = struct.filters, struct.biases
    else:
        raise ModelFileError(f"layer {name}: expected a 'weights' field on a conv layer, "
                             f"found {', '.join(fields)}")
    kernel = np.asarray(kernel)
    bias = np.asarray(bias)
    if kernel.dtype.kind != "f" or bias.dtype.kind != "f":
        raise ModelFileError(f"layer {name}: expected floating-point filters, found "
                             f"{kernel.dtype} filters and {bias.dtype} biases")
    # MATLAB drops trailing singleton dimensions: a 3x3x1x1 filter is stored as 3x3.
    if kernel.ndim < 4:
        kernel = kernel.reshape(kernel.shape + (1,) * (4 - kernel.ndim))
    if kernel.ndim != 4:
        raise ModelFileError(f"layer {name}: expected 4-D filters, found shape {kernel.shape}")
    return kernel, bias.reshape(-1)


def convolution(name: str, kernel: np.ndarray, bias: np.ndarray, channels: int) -> Layer:
    """A checked conv Layer from an HWIO ``kernel`` and its ``bias`` (shared with the Keras
    reader): ``channels`` input channels, one bias per output, finite values, float32."""
    if kernel.shape[2] != channels:
        raise ModelFileError(f"layer {name}: expected {channels} input channels, "
                             f"found {kernel.shape[2]} (filter shape {kernel.shape})")
    if bias.size != kernel.shape[3]:
        raise ModelFileError(f"layer {name}: expected {kernel.shape[3]} biases, "
                             f"found {bias.size}")
    if not (np.isfinite(kernel).all() and np.isfinite(bias).all()):
        raise ModelFileError(f"layer {name}: expected finite weights, found NaN or inf")
    return Layer(name, "conv", np.ascontiguousarray(kernel, dtype=np.float32),
                 bias.astype(np.float32).reshape(-1))


def read_layers(path: str | os.PathLike) -> list[Layer]:
    """Return the convolutional trunk of a MatConvNet simplenn file, checked and in HWIO order."""
    path = os.fspath(path)
    try:
        data = scipy.io.loadmat(path, struct_as_record=False, squeeze_me=False)
    except FileNotFoundError:
        raise ModelFileError(f"VGG file not found: {path}") from None
    except Exception as exc:  # scipy raises many types for damaged files
        raise ModelFileError(f"cannot read VGG file {path}: truncated or not a MATLAB file "
                             f"({type(exc).__name__}: {exc})") from None
    if "layers" not in data:
        keys = ", ".join(k for k in data if not k.startswith("__")) or "none"
        raise ModelFileError(f"{path}: expected a MatConvNet model with a 'layers' entry, "
                             f"found keys: {keys}")
    entries = np.asarray(data["layers"], dtype=object).ravel()
    layers: list[Layer] = []
    channels = 3
    for index, entry in enumerate(entries):
        struct = _unwrap(entry)
        where = f"layer #{index + 1}"
        name = _text(_field(struct, "name", where))
        kind = _text(_field(struct, "type", f"layer {name}"))
        if name.startswith("fc") or kind not in TRUNK_TYPES:
            break  # the classifier head starts here
        if kind == "conv":
            kernel, bias = _filters(struct, name)
            layer = convolution(name, kernel.transpose(1, 0, 2, 3), bias, channels)
            channels = layer.weights.shape[3]
            layers.append(layer)
        elif kind == "pool":
            size = np.asarray(_unwrap(getattr(struct, "pool", np.array([2, 2])))).ravel()
            size = tuple(int(s) for s in (size if size.size == 2 else np.repeat(size, 2)))
            method = _text(getattr(struct, "method", "max"))
            layers.append(Layer(name, kind, pool_size=size, pool_method=method))
        else:
            layers.append(Layer(name, kind))
    if not any(layer.kind == "conv" for layer in layers):
        raise ModelFileError(f"{path}: expected convolution layers, found none")
    return layers


def write_layers(path: str | os.PathLike, layers: Sequence[Layer], layout: str = "new",
                 head: Sequence[tuple[str, np.ndarray, np.ndarray]] = ()) -> None:
    """Write layers (HWIO weights) as a MatConvNet simplenn file in the 'old' or 'new' layout.

    ``head`` adds fully connected layers as (name, HWIO filters, biases), which readers drop.
    """
    if layout not in ("old", "new"):
        raise ValueError(f"layout must be 'old' or 'new', not {layout!r}")
    records = []
    for layer in layers:
        record = {"name": layer.name, "type": layer.kind}
        if layer.kind == "conv":
            cell = np.empty((1, 2), dtype=object)
            cell[0, 0] = layer.weights.transpose(1, 0, 2, 3)  # back to MatConvNet's WHIO
            cell[0, 1] = layer.bias.reshape(1, -1)
            record.update(weights=cell, stride=np.array([[1.0, 1.0]]),
                          pad=np.array([[1.0, 1.0, 1.0, 1.0]]))
        elif layer.kind == "pool":
            record.update(method=layer.pool_method, pool=np.array([layer.pool_size], float),
                          stride=np.array([[2.0, 2.0]]), pad=np.zeros((1, 4)))
        records.append(record)
    for name, kernel, bias in head:
        cell = np.empty((1, 2), dtype=object)
        cell[0, 0] = kernel.transpose(1, 0, 2, 3)
        cell[0, 1] = bias.reshape(1, -1)
        records.append({"name": name, "type": "conv", "weights": cell})
    cells = np.empty((1, len(records)), dtype=object)
    for i, record in enumerate(records):
        cells[0, i] = record
    normalization = {"averageImage": np.array([123.68, 116.779, 103.939]).reshape(1, 1, 3),
                     "imageSize": np.array([[224.0, 224.0, 3.0, 1.0]])}
    classes = {"name": np.array(["class"], dtype=object)}
    if layout == "old":
        content = {"layers": cells, "classes": classes, "normalization": normalization}
    else:
        content = {"layers": cells, "meta": {"normalization": normalization, "classes": classes}}
    scipy.io.savemat(os.fspath(path), content)
