"""The VGG trunk as a TF1 graph: constant weights, named end points, and its analytic cost.

``trunk`` cuts the layers read by :mod:`~style_transfer.network.matconvnet` after the deepest
layer a run uses. ``VGG`` turns their weights into ``tf.constant``s once (in the current graph)
and can then be applied to any number of input tensors. Each application returns a dict of end
points keyed by the file's own layer names: ``conv4_2`` is the convolution output, ``relu4_2``
the same after its ReLU. Pooling is average by default, as in the tutorial, or max.

**Precision.** ``VGG(..., precision="bfloat16")`` runs the trunk after ``conv1_1`` in bfloat16:
``conv1_1`` and its ReLU stay in the image's dtype (casting the image itself would quantise its
pixels, and L-BFGS's line search then sees a staircase), its output is cast down once, every later
filter and bias is a bfloat16 constant (rounded once when the graph is built, never cast per
step), and every end point past the cast is cast back to the image's dtype, so Gram matrices and
losses see float32 as before. Only the casts a loss reads run: a Session prunes the rest.
"float32" builds the same ops as it always has; ``runtime.resolve_precision`` turns "auto" into
one of the two.

``shapes``, ``flops`` and ``activation_bytes`` give the analytic cost used by the benchmark and
the memory check, with no TensorFlow involved. ``random_layers`` builds VGG16/VGG19-shaped
layers with random weights for tests and speed benchmarks.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np
import tensorflow as tf

from tf1cnn.common.errors import UsageError

from .matconvnet import Layer

BFLOAT16 = tf.bfloat16.as_numpy_dtype

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


class VGG:
    """The trunk as graph ops: weights become constants of the current graph once, and each
    call applies the trunk to an input tensor. ``precision``: "float32" (the layers' own dtype
    throughout) or "bfloat16" (after ``conv1_1``; see the module docstring).

    ``local=True`` holds the weights in local, untrained variables instead, set from
    placeholders when the local variables are initialised: feed ``feed`` to that initialiser
    (``Scaffold(local_init_feed_dict=...)``). A graph that is saved or sent to a cluster then
    stays small, and no ``Saver`` of the global variables writes the weights.
    """

    def __init__(self, layers: Sequence[Layer], pooling: str = "avg",
                 precision: str = "float32", local: bool = False):
        if precision not in PRECISIONS:
            raise ValueError(f"precision {precision!r}: choose one of {', '.join(PRECISIONS)} "
                             f"(resolve 'auto' with runtime.resolve_precision first)")
        self.layers = list(layers)
        self.pooling = pooling
        self.precision = precision
        self.feed: dict = {}  # placeholder: weights, for local variables' initialiser
        self._weights = {}
        narrow = False  # the first convolution keeps the layers' dtype
        with tf.compat.v1.name_scope("vgg_weights"):
            for layer in self.layers:
                if layer.kind == "conv":
                    weights, bias = layer.weights, layer.bias
                    if narrow:
                        weights, bias = weights.astype(BFLOAT16), bias.astype(BFLOAT16)
                    self._weights[layer.name] = (
                        self._hold(weights, f"{layer.name}_w", local),
                        self._hold(bias, f"{layer.name}_b", local))
                    narrow = precision == "bfloat16"

    def _hold(self, values: np.ndarray, name: str, local: bool) -> tf.Tensor:
        if not local:
            return tf.constant(values, name=name)
        return local_constant(values, name, self.feed)

    def __call__(self, image: tf.Tensor, scope: str = "vgg") -> dict[str, tf.Tensor]:
        """End points of the trunk for a [batch, height, width, 3] mean-subtracted RGB tensor."""
        end_points = {}
        net = image
        with tf.compat.v1.name_scope(scope):
            for layer in self.layers:
                if layer.kind == "conv":
                    kernel, bias = self._weights[layer.name]
                    if net.dtype != kernel.dtype:  # bfloat16 from here on
                        net = tf.cast(net, kernel.dtype, name=f"{layer.name}_input")
                    net = tf.nn.bias_add(
                        tf.nn.conv2d(net, kernel, strides=1, padding="SAME"), bias,
                        name=layer.name)
                elif layer.kind == "relu":
                    net = tf.nn.relu(net, name=layer.name)
                else:
                    pool = tf.nn.avg_pool2d if self.pooling == "avg" else tf.nn.max_pool2d
                    net = pool(net, ksize=layer.pool_size, strides=layer.pool_size,
                               padding="SAME", name=layer.name)
                end_points[layer.name] = net if net.dtype == image.dtype else \
                    tf.cast(net, image.dtype, name=f"{layer.name}_{image.dtype.name}")
        return end_points


def local_constant(values: np.ndarray, name: str, feed: dict) -> tf.Tensor:
    """``values`` as a local, untrained variable set from a placeholder when the local
    variables are initialised (the placeholder and ``values`` are added to ``feed``): kept out
    of the GraphDef and of a Saver of the global variables."""
    given = tf.compat.v1.placeholder(tf.as_dtype(values.dtype), values.shape, name)
    feed[given] = values
    variable = tf.compat.v1.Variable(given, trainable=False, name=name,
                                     collections=[tf.compat.v1.GraphKeys.LOCAL_VARIABLES])
    return variable.read_value()


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
