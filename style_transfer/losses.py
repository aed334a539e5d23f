"""The Gatys losses as pure tensor functions, with the 2019 tutorial's normalisation.

* content: sum((F - P)^2) / (4 |P|), F the generated and P the content features of one layer;
* style, per layer: sum((G - A)^2) / (2 N M)^2, G and A the Gram matrices of the generated and
  style features, N the channels and M the pixels of that layer;
* style: the weighted sum of the per-layer style losses; with several style images, their
  style losses blended by weights that sum to 1 (the generated Gram matrices computed once);
* total variation: mean((x[i+1, j] - x[i, j])^2) + mean((x[i, j+1] - x[i, j])^2) over the image;
* total: content_weight * content + style_weight * style + tv_weight * total variation.

Targets (P, A) may be numpy arrays or tensors. No sessions, variables or globals in here.
"""
from __future__ import annotations

from collections.abc import Sequence

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
    return _gram_distance(features, gram_matrix(features), target_gram)


def _gram_distance(features: tf.Tensor, gram: tf.Tensor, target_gram) -> tf.Tensor:
    _, height, width, channels = features.shape
    target_gram = tf.convert_to_tensor(target_gram, dtype=features.dtype)
    pixels = height * width
    return tf.reduce_sum(tf.square(gram - target_gram)) / float((2 * channels * pixels) ** 2)


def style_loss(features: Sequence[tf.Tensor], target_grams: Sequence,
               layer_weights: Sequence[float]) -> tf.Tensor:
    terms = [weight * layer_style_loss(f, a)
             for f, a, weight in zip(features, target_grams, layer_weights, strict=True)]
    return tf.add_n(terms)


def blended_style_loss(features: Sequence[tf.Tensor], target_grams: Sequence[Sequence],
                       layer_weights: Sequence[float], blend: Sequence[float]) -> tf.Tensor:
    """sum over styles s of blend[s] * style_loss(features, target_grams[s], layer_weights)."""
    terms = []
    for index, (f, weight) in enumerate(zip(features, layer_weights, strict=True)):
        gram = gram_matrix(f)
        terms += [weight * share * _gram_distance(f, gram, grams[index])
                  for grams, share in zip(target_grams, blend, strict=True)]
    return tf.add_n(terms)


def total_variation_loss(image: tf.Tensor) -> tf.Tensor:
    """Mean squared difference of vertical plus of horizontal neighbours, [1, h, w, c] image."""
    down = image[:, 1:, :, :] - image[:, :-1, :, :]
    right = image[:, :, 1:, :] - image[:, :, :-1, :]
    return tf.reduce_mean(tf.square(down)) + tf.reduce_mean(tf.square(right))


def total_loss(content: tf.Tensor, style: tf.Tensor, tv: tf.Tensor, content_weight: float,
               style_weight: float, tv_weight: float) -> tf.Tensor:
    return content_weight * content + style_weight * style + tv_weight * tv
