"""Feature maps in a TF1 graph: the whole filter bank in one ``conv2d`` over a stacked filter.

``conv``, ``to_grey`` and ``clip_edges`` are pure tensor -> tensor ops. ``feature_maps`` takes
an RGB image as a numpy array in [0, 1), builds a graph inside ``with tf.Graph().as_default()``
(optional grey conversion, a batch dimension, one ``conv2d`` with the filters of the chosen
kernels stacked along the output axis, a split back into one map per kernel, and the edge map's
ReLU and clip), runs it in a Session and returns numpy arrays::

    maps = feature_maps(pixels, ("blur", "edge"), rgb=False, stride=3, padding="SAME")
    maps.input, maps.maps["edge"]

``conv2d`` is a cross-correlation: the filter is not flipped (see ``bank`` for what that means
for the Sobel kernel).

The edge map is clipped to [0, EDGE_MAX] = [0, 1] after the ReLU, the range of the input. The
tutorial clipped it to 255, which on its [0, 1) input never bites; ``seed=True`` keeps that.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import tensorflow as tf

from tf1cnn.common import runtime

from . import bank

EDGE = "edge"
EDGE_MAX = 1.0  # the input lies in [0, 1), so an edge response above 1 is saturated
SEED_EDGE_MAX = 255.0  # the tutorial's bound, written for 0-255 pixels


@dataclasses.dataclass(frozen=True)
class FeatureMaps:
    input: np.ndarray  # [height, width, 1 or 3]: the image the filters saw
    maps: dict[str, np.ndarray]  # kernel name -> [out_height, out_width, 1 or 3]


def conv(images: tf.Tensor, filter_, stride: int, padding: str) -> tf.Tensor:
    """Cross-correlate a [batch, height, width, in] batch with a [k, k, in, out] filter."""
    return tf.nn.conv2d(images, filter_, strides=[1, stride, stride, 1], padding=padding)


def to_grey(images: tf.Tensor) -> tf.Tensor:
    """RGB to one luma channel with TensorFlow's (ITU-R 601) weights, as the tutorial did."""
    return tf.image.rgb_to_grayscale(images)


def clip_edges(maps: tf.Tensor, top: float) -> tf.Tensor:
    """Keep the positive responses, capped at ``top``."""
    return tf.minimum(tf.nn.relu(maps), top)


def filters(names: Sequence[str], rgb: bool, seed: bool = False) -> list[np.ndarray]:
    """The 4-D filter of each kernel in ``names``, grey or RGB, fixed or the tutorial's."""
    return [bank.kernel(name, rgb, seed) for name in names]


def build_maps(image: tf.Tensor, names: Sequence[str], *, rgb: bool, seed: bool, stride: int,
               padding: str) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """Graph ops for ``feature_maps`` on an RGB [height, width, 3] tensor.

    Returns the image the filters see (grey or RGB) and one [out_height, out_width, channels]
    tensor per name, all cut from a single conv2d.
    """
    chosen = filters(names, rgb, seed)
    seen = image if rgb else to_grey(image)
    stacked = conv(tf.expand_dims(seen, 0), tf.constant(bank.stack(chosen), name="bank"),
                   stride, padding)
    parts = tf.split(stacked[0], [f.shape[3] for f in chosen], axis=2)
    maps = {}
    for name, part in zip(names, parts, strict=True):
        maps[name] = clip_edges(part, SEED_EDGE_MAX if seed else EDGE_MAX) if name == EDGE \
            else part
    return seen, maps


def feature_maps(pixels: np.ndarray, names: Sequence[str] = bank.NAMES, *, rgb: bool = False,
                 seed: bool = False, stride: int = 3, padding: str = "SAME") -> FeatureMaps:
    """Apply the kernels ``names`` to ``pixels`` ([height, width, 3] in [0, 1)) in one conv2d."""
    with tf.Graph().as_default():
        image = tf.compat.v1.placeholder(tf.float32, [None, None, 3], name="image")
        seen, maps = build_maps(image, names, rgb=rgb, seed=seed, stride=stride,
                                padding=padding)
        with runtime.new_session(config=runtime.session_config()) as session:
            shown, values = session.run((seen, maps), {image: pixels})
    return FeatureMaps(input=shown, maps=values)
