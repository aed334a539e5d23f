"""The tutorial's network, 1 → hidden ReLU → 1, with its MSE loss, as TF1 graph functions.

``tf.compat.v1.layers.dense`` is gone beside Keras 3, so ``dense`` makes its kernel and bias with
``tf.compat.v1.get_variable``. Build inside a graph; nothing here opens a session. Training and
evaluation call ``predict`` with the same scope names, so a training checkpoint restores into
an evaluation graph.
"""
from __future__ import annotations

import tensorflow as tf

v1 = tf.compat.v1


def dense(inputs, units: int, activation=None, name: str = "dense"):
    """inputs @ kernel + bias, then activation. Glorot-uniform kernel, zero bias, as Keras did."""
    with v1.variable_scope(name):
        kernel = v1.get_variable("kernel", [inputs.shape[-1], units],
                                 initializer=v1.glorot_uniform_initializer())
        bias = v1.get_variable("bias", [units], initializer=v1.zeros_initializer())
        out = tf.matmul(inputs, kernel) + bias
    return activation(out) if activation is not None else out


def predict(x, hidden: int = 10):
    """The fit for x of shape (n, 1)."""
    return dense(dense(x, hidden, tf.nn.relu, name="hidden"), 1, name="output")


def mse(labels, predictions):
    """Mean squared error, as tf.losses.mean_squared_error with its default weights."""
    return tf.reduce_mean(tf.square(labels - predictions))
