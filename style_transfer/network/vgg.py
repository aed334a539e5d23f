"""The VGG trunk's layers and their analytic cost, with no TensorFlow involved.

``trunk`` cuts the layers read by :mod:`~style_transfer.network.matconvnet` after the deepest
layer a run uses. ``shapes``, ``flops`` and ``activation_bytes`` give the analytic cost used by
the benchmarks and the memory check, ``strides``, ``receptive_radius`` and ``halo`` the
geometry that tiling needs, and ``random_layers`` builds VGG16/VGG19-shaped layers with random
weights for tests and speed benchmarks. The trunk as graph ops is
:mod:`~style_transfer.network.vgg_graph`; keeping TensorFlow out of this module lets the memory
check and its ``python -m`` run answer before TensorFlow starts, and so without its notices.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

from tf1cnn.common.errors import UsageError

from .matconvnet import Layer

# Convolutions per block; every VGG block has widths 64, 128, 256, 512, 512.
BLOCKS = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
WIDTHS = (64, 128, 256, 512, 512)
PRECISIONS = ("float32", "bfloat16")


def trunk(layers: Sequence[Layer], outputs: Iterable[str]) -> list[Layer]:
    """The layers up to the deepest of ``outputs``; UsageError for a name the network lacks."""
    names = [layer.name for layer in layers]
    wanted = list(outputs)
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise UsageError(f"unknown layer name(s) {', '.join(unknown)}; this network has "
                         f"{', '.join(names)}")
    return list(layers[:max(names.index(name) for name in wanted) + 1])


def shapes(layers: Sequence[Layer], height: int, width: int) -> dict[str, tuple[int, int, int]]:
    """Each layer's output [height, width, channels] for an input of the given size."""
    result = {}
    channels = 3
    for layer in layers:
        if layer.kind == "conv":
            channels = layer.weights.shape[3]
        elif layer.kind == "pool":
            height = -(-height // layer.pool_size[0])
            width = -(-width // layer.pool_size[1])
        result[layer.name] = (height, width, channels)
    return result


def flops(layers: Sequence[Layer], height: int, width: int, backward: bool = True) -> float:
    """2 x multiply-adds of the convolutions in one forward pass, doubled for the backward pass
    to the input image when ``backward`` (the weights are constants: no filter gradients)."""
    sizes = shapes(layers, height, width)
    total = 0.0
    for layer in layers:
        if layer.kind == "conv":
            rows, cols, _ = sizes[layer.name]
            total += 2.0 * rows * cols * np.prod(layer.weights.shape)
    return total * (2.0 if backward else 1.0)


def activation_bytes(layers: Sequence[Layer], height: int, width: int,
                     precision: str = "float32", outputs: Iterable[str] = ()) -> int:
    """Bytes of every layer output for one image of the given size: 4 a value in float32; in
    bfloat16, 2 a value past the first convolution's ReLU, plus that ReLU's bfloat16 copy and
    the float32 copies of the bfloat16 ``outputs`` (the end points a loss reads)."""
    sizes = shapes(layers, height, width)
    if precision == "float32":
        return sum(4 * r * c * ch for r, c, ch in sizes.values())
    first = _first_relu(layers)
    total, wide = 0, True
    for name, (rows, cols, channels) in sizes.items():
        values = rows * cols * channels
        total += (4 if wide else 2) * values
        if not wide and name in outputs:
            total += 4 * values
        if name == first:
            total += 2 * values
            wide = False
    return total


def _first_relu(layers: Sequence[Layer]) -> str:
    """The layer after which a bfloat16 trunk casts down: the first convolution's ReLU (the
    convolution itself when no ReLU follows it)."""
    names = [layer.name for layer in layers]
    start = next(k for k, layer in enumerate(layers) if layer.kind == "conv")
    after = start + 1
    return names[after] if after < len(layers) and layers[after].kind == "relu" \
        else names[start]


def weight_bytes(layers: Sequence[Layer]) -> int:
    return sum(layer.weights.nbytes + layer.bias.nbytes for layer in layers
               if layer.kind == "conv")


def weights_sha256(layers: Sequence[Layer]) -> str:
    """Hex SHA-256 of the filters and biases: identifies a network whatever file it came from."""
    digest = hashlib.sha256()
    for layer in layers:
        if layer.kind == "conv":
            digest.update(layer.weights.tobytes())
            digest.update(layer.bias.tobytes())
    return digest.hexdigest()


def random_layers(depth: int = 19, width_divisor: int = 1, seed: int = 0) -> list[Layer]:
    """VGG-shaped layers with He-scaled random weights (channel counts divided by
    ``width_divisor``), named as in MatConvNet: conv1_1, relu1_1, ..., pool5."""
    rng = np.random.default_rng(seed)
    layers = []
    channels = 3
    for block, (count, width) in enumerate(zip(BLOCKS[depth], WIDTHS), start=1):
        width = max(1, width // width_divisor)
        for index in range(1, count + 1):
            scale = np.sqrt(2.0 / (9 * channels))
            kernel = rng.standard_normal((3, 3, channels, width), dtype=np.float32) * scale
            bias = np.zeros(width, np.float32)
            layers.append(Layer(f"conv{block}_{index}", "conv", kernel.astype(np.float32), bias))
            layers.append(Layer(f"relu{block}_{index}", "relu"))
            channels = width
        layers.append(Layer(f"pool{block}", "pool"))
    return layers


def _reach(layers: Sequence[Layer], name: str | None) -> tuple[int, int]:
    """(C, S) at layer ``name`` (the last layer when None): S its total stride in input pixels,
    C the sum over the convolutions before it of k // 2 times their own stride, how far the
    convolutions widen a position's pooling footprint on every side, in input pixels."""
    stride, widening = 1, 0
    for layer in layers:
        if layer.kind == "conv":
            widening += layer.weights.shape[0] // 2 * stride
        elif layer.kind == "pool":
            stride *= layer.pool_size[0]
        if layer.name == name:
            break
    else:
        if name is not None:
            raise UsageError(f"unknown layer name {name}; this network has "
                             f"{', '.join(layer.name for layer in layers)}")
    return widening, stride


def strides(layers: Sequence[Layer]) -> dict[str, int]:
    """Each layer's total stride: how many input pixels one of its positions steps over."""
    result, stride = {}, 1
    for layer in layers:
        if layer.kind == "pool":
            stride *= layer.pool_size[0]
        result[layer.name] = stride
    return result


def receptive_radius(layers: Sequence[Layer], name: str | None = None) -> int:
    """How far, in input pixels along a row or column, an input pixel can be from the pooling
    footprint of a position of layer ``name`` (the last layer when None) and still affect it.

    A position of a layer with total stride S averages (or maxes) an S x S footprint of the
    input; each k x k convolution before it widens that by k // 2 positions of its own, that is
    k // 2 * (its stride) input pixels, on every side. So from any one pixel of the footprint
    the receptive field reaches C + S - 1, C the sum of those widenings: for VGG19's relu5_1,
    C = 2*1 + 2*2 + 4*4 + 4*8 + 1*16 = 70 and S = 16, so 85 pixels.
    """
    widening, stride = _reach(layers, name)
    return widening + stride - 1


def halo(layers: Sequence[Layer], name: str | None = None) -> int:
    """The margin a tile needs around its interior so that the features of layer ``name`` (the
    last layer when None) at the interior's positions equal the untiled network's: the
    widening C of ``receptive_radius``, rounded up to the stride S at that layer so that a
    tile's window starts on the pooling grid. Every input pixel that reaches a position lies
    within C of the position's footprint, and a window edge farther than C from the interior
    cannot be felt there: 80 pixels for VGG19's relu5_1 (C = 70, S = 16), 64 for VGG16's."""
    widening, stride = _reach(layers, name)
    return -(-widening // stride) * stride
