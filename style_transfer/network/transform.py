"""The feed-forward style network: one pass turns a photograph into a stylised picture.

This is the image transformation network of Johnson, Alahi & Fei-Fei (2016), "Perceptual Losses
for Real-Time Style Transfer", as TF1 graph functions with its variables made by
``tf.compat.v1.get_variable`` (``tf.compat.v1.layers`` is gone beside Keras 3):

    conv 9x9/1 -> c1, conv 3x3/2 -> c2, conv 3x3/2 -> c3      (c1, c2, c3) = channels(width)
    residual blocks: conv 3x3, IN, ReLU, conv 3x3, IN, + input  (no ReLU after the add)
    x2 nearest, conv 3x3 -> c2;  x2 nearest, conv 3x3 -> c1
    conv 9x9 -> 3, then 127.5 * (1 + tanh): pixels in [0, 255]

Every convolution but the last is followed by instance normalisation and a ReLU. All
convolutions are VALID after reflection padding of k // 2 on each side, so no zero border
darkens the picture's edges. ``width`` scales (32, 64, 128); 0.5 is the slimmer network for CPUs.

**Two changes from the paper.** Instance normalisation (Ulyanov, Vedaldi & Lempitsky 2016)
replaces batch normalisation: each image is normalised by its own per-channel mean and variance
over height and width, so the result of an image does not depend on the rest of its batch, and
training and inference run the same ops (no moving averages). Upsampling is a nearest-neighbour
x2 resize followed by a stride-1 convolution instead of a transposed convolution (Odena,
Dumoulin & Olah 2016, "Deconvolution and Checkerboard Artifacts"): when the kernel size is not a
multiple of the stride, a transposed convolution covers output pixels unevenly and prints a
checkerboard. A convolution before IN has no bias: IN subtracts each channel's mean, so a bias
there would be a variable that never moves. Only the last convolution has one.

**Any input size.** Two stride-2 convolutions and two x2 upsamplings give back the input size
only for sides that are multiples of 4, and ``tf.pad``'s REFLECT needs a pad smaller than the
side it reflects: 1 pixel at a quarter of the size, in the residual blocks, so a side of at least
8. ``stylise`` therefore pads each side of n pixels to max(8, 4 * ceil(n / 4)), half before and
the rest after, by reflection where the image has the pixels for it and by repeating the edge
pixel beyond that (a 1x1 image becomes a flat 8x8 one; a side of 3 is reflected once and then
repeated). The output is cropped back to the input's [N, H, W, 3]. Sizes need not be known when
the graph is built: the padding and the crop are computed from ``tf.shape``. The padded border
is part of the picture the network sees, instance-norm statistics included.

Variables live under ``SCOPE`` with ``AUTO_REUSE``: the trainer and the apply graph name them
alike (``transform/conv1/kernel``, ``transform/residual1/norm_a/scale``, ...), so a checkpoint
of one restores into the other, and calling ``stylise`` twice in a graph shares them.
``parameter_count`` gives their number of values by arithmetic alone. Build inside a graph;
nothing here opens a session.
"""
from __future__ import annotations

import tensorflow as tf

v1 = tf.compat.v1

SCOPE = "transform"
CHANNELS = (32, 64, 128)
RESIDUAL_BLOCKS = 5
# Sides padded to a multiple of 4 (two stride-2 downsamplings) and at least 8, so the quarter
# size in the residual blocks is 2 and its 1-pixel reflection pad is legal.
MULTIPLE, MIN_SIDE = 4, 8


def channels(width: float = 1.0) -> tuple[int, int, int]:
    """``CHANNELS`` scaled by ``width`` (> 0) and rounded, each at least 1."""
    if not width > 0:
        raise ValueError(f"width must be a positive factor (1.0 is Johnson's network), "
                         f"got {width!r}")
    return tuple(max(1, round(c * width)) for c in CHANNELS)


def parameter_count(width: float = 1.0, residual_blocks: int = RESIDUAL_BLOCKS) -> int:
    """Values in the variables ``stylise(images, width, residual_blocks)`` makes."""
    _check_blocks(residual_blocks)
    c1, c2, c3 = channels(width)

    def conv_norm(size, inputs, outputs):  # kernel, then the norm's scale and offset
        return size * size * inputs * outputs + 2 * outputs

    return (conv_norm(9, 3, c1) + conv_norm(3, c1, c2) + conv_norm(3, c2, c3)
            + residual_blocks * 2 * conv_norm(3, c3, c3)
            + conv_norm(3, c3, c2) + conv_norm(3, c2, c1)
            + 9 * 9 * c1 * 3 + 3)


def stylise(images, width: float = 1.0, residual_blocks: int = RESIDUAL_BLOCKS):
    """The stylised images: float32 [N, H, W, 3] in [0, 255] for RGB ``images`` in [0, 255] of
    any size (H and W may be unknown until run time). Makes the variables under ``SCOPE`` on
    the first call in a graph and reuses them after."""
    _check_blocks(residual_blocks)
    c1, c2, c3 = channels(width)
    with v1.variable_scope(SCOPE, reuse=v1.AUTO_REUSE):
        images = tf.cast(images, tf.float32)
        x, (top, left) = _pad_to_fit(images / 127.5 - 1.0)
        x = _conv_norm_relu(x, 9, 1, c1, "conv1")
        x = _conv_norm_relu(x, 3, 2, c2, "conv2")
        x = _conv_norm_relu(x, 3, 2, c3, "conv3")
        for index in range(residual_blocks):
            x = residual_block(x, f"residual{index + 1}")
        x = _conv_norm_relu(_upsample(x), 3, 1, c2, "up1")
        x = _conv_norm_relu(_upsample(x), 3, 1, c1, "up2")
        x = _conv(x, 9, 1, 3, "output", bias=True)
        pixels = 127.5 * (1.0 + tf.tanh(x))
        shape = tf.shape(images)
        out = tf.slice(pixels, [0, top, left, 0], [-1, shape[1], shape[2], -1], name="crop")
    out.set_shape(images.shape[:3].concatenate([3]))
    return out


def instance_norm(x, name: str, epsilon: float = 1e-5):
    """Each image's channels normalised by their own mean and variance over height and width,
    then ``scale`` (initially 1) and ``offset`` (initially 0), one of each per channel."""
    depth = x.shape[-1]
    with v1.variable_scope(name):
        scale = v1.get_variable("scale", [depth], initializer=v1.ones_initializer())
        offset = v1.get_variable("offset", [depth], initializer=v1.zeros_initializer())
        mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        return (x - mean) * tf.math.rsqrt(variance + epsilon) * scale + offset


def residual_block(x, name: str):
    """x + IN(conv(ReLU(IN(conv(x))))), both convolutions 3x3 with x's channels; no ReLU after
    the sum, so the block can pass its input through unchanged."""
    depth = x.shape[-1]
    with v1.variable_scope(name):
        y = tf.nn.relu(instance_norm(_conv(x, 3, 1, depth, "conv_a"), "norm_a"))
        y = instance_norm(_conv(y, 3, 1, depth, "conv_b"), "norm_b")
        return x + y


def _conv(x, size: int, stride: int, outputs: int, name: str, bias: bool = False):
    """A ``size`` x ``size`` VALID convolution after reflection padding of size // 2 per side:
    the same size at stride 1, half (for even sides) at stride 2. Glorot-uniform kernel and a
    zero ``bias`` when asked for."""
    with v1.variable_scope(name):
        kernel = v1.get_variable("kernel", [size, size, x.shape[-1], outputs],
                                 initializer=v1.glorot_uniform_initializer())
        pad = size // 2
        x = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
        y = tf.nn.conv2d(x, kernel, strides=[1, stride, stride, 1], padding="VALID")
        if bias:
            y += v1.get_variable("bias", [outputs], initializer=v1.zeros_initializer())
        return y


def _conv_norm_relu(x, size: int, stride: int, outputs: int, name: str):
    return tf.nn.relu(instance_norm(_conv(x, size, stride, outputs, name), f"{name}/norm"))


def _upsample(x):
    """Each pixel repeated 2x2: nearest-neighbour resizing by exactly 2."""
    return tf.image.resize(x, 2 * tf.shape(x)[1:3], method="nearest")


def _pad_to_fit(x):
    """``x`` padded to sides of max(MIN_SIDE, a multiple of MULTIPLE), and where its original
    pixels start, (top, left) (see the module docstring)."""
    shape = tf.shape(x)
    rows, top = _edge_indices(shape[1])
    cols, left = _edge_indices(shape[2])
    return tf.gather(tf.gather(x, rows, axis=1), cols, axis=2), (top, left)


def _edge_indices(n):
    """Source indices along a side of ``n`` pixels for its padded side: reflected about the
    first and last pixels (not repeating them, as tf.pad's REFLECT), and held at the edge
    pixel where the reflection would run off the far side. Also the pad before."""
    padded = tf.maximum(MIN_SIDE, (n + MULTIPLE - 1) // MULTIPLE * MULTIPLE)
    before = (padded - n) // 2
    index = tf.range(-before, padded - before)
    last = n - 1
    reflected = tf.where(index < 0, tf.minimum(-index, last),
                         tf.where(index > last, tf.maximum(2 * last - index, 0), index))
    return reflected, before


def _check_blocks(residual_blocks: int) -> None:
    if residual_blocks < 0:
        raise ValueError(f"residual_blocks must be 0 or more (Johnson's is "
                         f"{RESIDUAL_BLOCKS}), got {residual_blocks!r}")
