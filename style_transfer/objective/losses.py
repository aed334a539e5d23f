"""The Gatys losses as pure tensor functions, with the 2019 tutorial's normalisation.

* content: sum((F - P)^2) / (4 |P|), F the generated and P the content features of one layer;
* style, per layer: sum((G - A)^2) / (2 N M)^2, G and A the Gram matrices of the generated and
  style features, N the channels and M the pixels of that layer;
* style: the weighted sum of the per-layer style losses; with several style images, their
  style losses blended by weights that sum to 1 (the generated Gram matrices computed once);
* total variation: mean((x[i+1, j] - x[i, j])^2) + mean((x[i, j+1] - x[i, j])^2) over the image;
* total: content_weight * content + style_weight * style + tv_weight * total variation.
* guided style (spatial control): per region r of a mask, the style loss of the features
  weighted by the region's mask, against that region's own style; see ``guided_style_loss``.

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


def temporal_loss(image: tf.Tensor, warped: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
    """Ruder et al. 2016: sum(c * (x - w)^2) / D for the image x, the previous result warped
    to this frame w, both [1, h, w, c], and the per-pixel consistency c in [0, 1] ([h, w]); D
    is the number of image values, so the loss does not grow with the size."""
    weights = mask[None, :, :, None]
    return tf.reduce_sum(weights * tf.square(image - warped)) / tf.cast(tf.size(image),
                                                                        tf.float32)


def total_loss(content: tf.Tensor, style: tf.Tensor, tv: tf.Tensor, content_weight: float,
               style_weight: float, tv_weight: float) -> tf.Tensor:
    return content_weight * content + style_weight * style + tv_weight * tv


# Guided Gram matrices (Gatys et al. 2017): one style per region of the image.
#
# Region r weighs each position of a layer by m_r in [0, 1] (``masks.layer_masks``), and its
# guided Gram matrix is G_r = (F m_r)^T (F m_r), which sums m_r^2 f f^T over positions: a Gram
# matrix over M_r = sum m_r^2 pixels. Its style loss is the plain one with that region as the
# whole image, sum((G_r / M_r - T_r)^2) / (2 N)^2, T_r the style region's guided Gram divided by
# its own M_r (a per-pixel mean, so regions of different sizes in the result and in the style
# image compare like with like). The regions' losses are averaged with weights M_r / M, their
# shares of the layer's M pixels, so a region's pixels feel the same pull whatever its size.
# Together, for a region of N channels, M_r pixels and a layer of M pixels:
#
#     loss_r = sum((G_r - M_r T_r)^2) / ((2 N)^2 M_r M)
#
# One region covering the image has M_r = M and M T_r = A, the plain target at the result's
# pixel count, and so gives exactly the plain loss sum((G - A)^2) / (2 N M)^2. A region absent
# from a layer (M_r = 0) adds nothing there.


def guided_gram_matrix(features: tf.Tensor, mask) -> tf.Tensor:
    """(F m)^T (F m) for features [1, h, w, channels] and a mask [h, w] or [1, h, w, 1]."""
    mask = tf.convert_to_tensor(mask, dtype=features.dtype)
    if mask.shape.rank == 2:
        mask = mask[None, :, :, None]
    return gram_matrix(features * mask)


def guided_gram_matrices(features: tf.Tensor, masks: tf.Tensor) -> tf.Tensor:
    """Every region's guided Gram matrix at once: [R, channels, channels] for features
    [1, h, w, channels] and masks [h, w, R], R known only when the graph runs."""
    channels = features.shape[-1]
    masks = tf.convert_to_tensor(masks, dtype=features.dtype)
    weighted = features[0][:, :, None, :] * masks[:, :, :, None]  # [h, w, R, channels]
    flat = tf.reshape(weighted, [-1, tf.shape(masks)[2], channels])
    return tf.einsum("prn,prm->rnm", flat, flat)


def guided_style_loss(features: tf.Tensor, masks, target_grams: Sequence,
                      layer_weight: float = 1.0) -> tf.Tensor:
    """The style loss of one layer over regions: ``masks`` [h, w, R] (the layer's masks),
    ``target_grams[r]`` region r's per-pixel target Gram matrix T_r (the style region's guided
    Gram over its own sum of m^2), or None for a region without style."""
    _, height, width, channels = features.shape
    masks = tf.convert_to_tensor(masks, dtype=features.dtype)
    if masks.shape[-1] != len(target_grams):
        raise ValueError(f"{masks.shape[-1]} region masks but {len(target_grams)} targets")
    terms = []
    for region, target in enumerate(target_grams):
        if target is None:
            continue
        mask = masks[:, :, region]
        mass = tf.reduce_sum(tf.square(mask))
        target = tf.convert_to_tensor(target, dtype=features.dtype)
        error = tf.reduce_sum(tf.square(guided_gram_matrix(features, mask) - mass * target))
        scale = float((2 * channels) ** 2 * height * width)
        terms.append(tf.math.divide_no_nan(error, scale * mass))
    if not terms:
        return tf.zeros([], features.dtype)
    return layer_weight * tf.add_n(terms)


def guided_target(features: tf.Tensor, mask) -> tf.Tensor:
    """T_r for ``guided_style_loss``: a style image's guided Gram matrix on one layer over its
    region's sum of m^2 (zero for a region the style image lacks on that layer)."""
    mask = tf.convert_to_tensor(mask, dtype=features.dtype)
    return tf.math.divide_no_nan(guided_gram_matrix(features, mask),
                                 tf.reduce_sum(tf.square(mask)))
