"""The Gatys losses as pure tensor functions, with the 2019 tutorial's normalisation.

* content: sum((F - P)^2) / (4 |P|), F the generated and P the content features of one layer;
* style, per layer: sum((G - A)^2) / (2 N M)^2, G and A the Gram matrices of the generated and
  style features, N the channels and M the pixels of that layer;
* style: the weighted sum of the per-layer style losses;
* total: content_weight * content + style_weight * style.

Targets (P, A) may be numpy arrays or tensors. No sessions, variables or globals in here.
"""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf


def gram_matrix(features: tf.Tensor) -> tf.Tensor:
    """F^T F for features [1, height, width, channels] reshaped to [height * width, channels]."""
    channels = features.shape[-1]
    flat = tf.reshape(features, [-1, channels])
    return tf.matmul(flat, flat, transpose_a=True)


def content_loss(features: tf.Tensor, target) -> tf.Tensor:
    target = tf.convert_to_tensor(target, dtype=features.dtype)
    size = tf.cast(tf.size(target), features.dtype)
    return tf.reduce_sum(tf.square(features - target)) / (4.0 * size)


def layer_style_loss(features: tf.Tensor, target_gram) -> tf.Tensor:
    """Style loss of one layer against the style image's Gram matrix on that layer."""
    _, height, width, channels = features.shape
    pixels = height * width
    gram = gram_matrix(features)
    target_gram = tf.convert_to_tensor(target_gram, dtype=features.dtype)
    return tf.reduce_sum(tf.square(gram - target_gram)) / float((2 * channels * pixels) ** 2)


def style_loss(features: Sequence[tf.Tensor], target_grams: Sequence,
               layer_weights: Sequence[float]) -> tf.Tensor:
    terms = [weight * layer_style_loss(f, a)
             for f, a, weight in zip(features, target_grams, layer_weights, strict=True)]
    return tf.add_n(terms)


def total_loss(content: tf.Tensor, style: tf.Tensor, content_weight: float,
               style_weight: float) -> tf.Tensor:
    return content_weight * content + style_weight * style
