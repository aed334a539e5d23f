"""The VGG trunk as a TF1 graph: constant weights and named end points.

``VGG`` turns the weights of layers that :func:`~style_transfer.network.vgg.trunk` cut into
``tf.constant``s once (in the current graph) and can then be applied to any number of input
tensors. Each application returns a dict of end points keyed by the file's own layer names:
``conv4_2`` is the convolution output, ``relu4_2`` the same after its ReLU. Pooling is average
by default, as in the tutorial, or max.

**Precision.** ``VGG(..., precision="bfloat16")`` runs the trunk after ``conv1_1`` in bfloat16:
``conv1_1`` and its ReLU stay in the image's dtype (casting the image itself would quantise its
pixels, and L-BFGS's line search then sees a staircase), its output is cast down once, every later
filter and bias is a bfloat16 constant (rounded once when the graph is built, never cast per
step), and every end point past the cast is cast back to the image's dtype, so Gram matrices and
losses see float32 as before. Only the casts a loss reads run: a Session prunes the rest.
"float32" builds the same ops as it always has; ``runtime.resolve_precision`` turns "auto" into
one of the two.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from .matconvnet import Layer
from .vgg import PRECISIONS

BFLOAT16 = tf.bfloat16.as_numpy_dtype


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
