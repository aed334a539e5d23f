"""Read Keras' VGG19 ImageNet weights (vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5).

The file is HDF5, as Keras 1 saved weights in 2016:

* a root attribute ``layer_names``: ``input_1, block1_conv1, block1_conv2, block1_pool, ...``;
* one group per layer, with an attribute ``weight_names`` listing its datasets in order,
  ``block1_conv1_W_1:0`` (the kernel, [height, width, in, out]: TensorFlow's HWIO already) and
  ``block1_conv1_b_1:0`` (the bias); input and pooling layers list none.

There are no ReLU layers (Keras folds the activation into the convolution), so
:func:`read_layers` adds ``reluB_I`` after each convolution and names the layers as MatConvNet
does: ``convB_I``, ``reluB_I``, ``poolB``. The result is the same list of
:class:`~style_transfer.network.matconvnet.Layer` that
:func:`~style_transfer.network.matconvnet.read_layers` returns, so ``relu4_2`` means the same
place in either network.

The weights were ported from the Caffe release, which expects BGR input. Both Caffe and
MatConvNet subtract the same per-channel mean, so flipping the first convolution's input
channels to RGB is all it takes for the network to accept this project's mean-subtracted RGB
images. A classifier head (``flatten``, ``fc1`` ...) in the file is ignored.

Every check raises :class:`~common.errors.ModelFileError` naming the layer, what was
expected and what was found. ``h5py`` is imported when a file is read, not with this module.
"""
from __future__ import annotations

import os
import re

import numpy as np

from tf1cnn.common.errors import ModelFileError

from .matconvnet import Layer, convolution

_CONV = re.compile(r"block(\d+)_conv(\d+)$")
_POOL = re.compile(r"block(\d+)_pool$")
_HEAD = ("flatten", "fc", "predictions", "global_")  # classifier layers start with these


def _names(attrs, key: str, where: str) -> list[str]:
    if key not in attrs:
        raise ModelFileError(f"{where}: expected a '{key}' attribute, found "
                             f"{', '.join(attrs) or 'no attributes'}")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in np.asarray(attrs[key]).flat]


def _conv(group, name: str, weight_names: list[str], channels: int) -> Layer:
    if len(weight_names) != 2:
        raise ModelFileError(f"layer {name}: expected 2 weights (kernel, bias), found "
                             f"{len(weight_names)}: {', '.join(weight_names) or 'none'}")
    arrays = []
    for weight in weight_names:
        if weight not in group:
            raise ModelFileError(f"layer {name}: expected a dataset '{weight}', found "
                                 f"{', '.join(group) or 'none'}")
        arrays.append(np.asarray(group[weight]))
    kernel, bias = arrays
    if kernel.dtype.kind != "f" or bias.dtype.kind != "f":
        raise ModelFileError(f"layer {name}: expected floating-point weights, found "
                             f"{kernel.dtype} kernel and {bias.dtype} bias")
    if kernel.ndim != 4 or bias.ndim != 1:
        raise ModelFileError(f"layer {name}: expected a 4-D kernel and a 1-D bias, found "
                             f"shapes {kernel.shape} and {bias.shape}")
    return convolution(name, kernel, bias, channels)


def read_layers(path: str | os.PathLike) -> list[Layer]:
    """The convolutional trunk of a Keras VGG weights file, in MatConvNet's names, RGB input."""
    import h5py

    path = os.fspath(path)
    try:
        handle = h5py.File(path, "r")
    except FileNotFoundError:
        raise ModelFileError(f"VGG file not found: {path}") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read VGG file {path}: truncated or not an HDF5 file "
                             f"({' '.join(str(exc).split())})") from None
    with handle:
        root = handle["model_weights"] if "model_weights" in handle else handle  # a full save
        layers: list[Layer] = []
        channels, block, index = 3, 1, 0
        for name in _names(root.attrs, "layer_names", path):
            if name.startswith(_HEAD):
                break
            if name not in root:
                raise ModelFileError(f"layer {name}: listed in layer_names, but {path} has no "
                                     f"group of that name")
            group = root[name]
            weight_names = _names(group.attrs, "weight_names", f"layer {name}")
            conv, pool = _CONV.match(name), _POOL.match(name)
            if conv:
                if (int(conv[1]), int(conv[2])) != (block, index + 1):
                    raise ModelFileError(f"layer {name}: expected block{block}_conv{index + 1} "
                                         f"next, found {name}")
                found = _conv(group, name, weight_names, channels)
                kernel = found.weights[:, :, ::-1, :] if not layers else found.weights
                index += 1  # Caffe's BGR input channels, flipped to RGB in the first layer
                channels = kernel.shape[3]
                layers.append(Layer(f"conv{block}_{index}", "conv",
                                    np.ascontiguousarray(kernel), found.bias))
                layers.append(Layer(f"relu{block}_{index}", "relu"))
            elif pool:
                if int(pool[1]) != block or index == 0 or weight_names:
                    raise ModelFileError(f"layer {name}: expected block{block}_pool with no "
                                         f"weights after block{block}'s convolutions, found "
                                         f"{name} with {len(weight_names)} weight(s)")
                layers.append(Layer(f"pool{block}", "pool", pool_size=(2, 2), pool_method="max"))
                block, index = block + 1, 0
            elif name.startswith("input") and not weight_names and not layers:
                continue  # the input layer, whatever its name (input_1, input_2, ...)
            else:
                raise ModelFileError(f"layer {name}: expected blockB_convI or blockB_pool, "
                                     f"found {name} with {len(weight_names)} weight(s)")
    if not layers:
        raise ModelFileError(f"{path}: expected convolution layers, found none")
    return layers
