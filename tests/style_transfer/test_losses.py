"""The losses and the Gram matrix against a numpy reference of the tutorial's formulas."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tf1cnn.style_transfer.objective import losses


def evaluate(tensor):
    with tf.compat.v1.Session(graph=tensor.graph) as session:
        return session.run(tensor)


def np_gram(features):
    flat = features.reshape(-1, features.shape[-1]).astype(np.float64)
    return flat.T @ flat


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def test_gram_matches_numpy_and_is_symmetric_positive_semidefinite(rng):
    features = rng.standard_normal((1, 6, 7, 5)).astype(np.float32)
    with tf.Graph().as_default():
        gram = evaluate(losses.gram_matrix(tf.constant(features)))
    np.testing.assert_allclose(gram, np_gram(features), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gram, gram.T, rtol=1e-6)
    assert np.linalg.eigvalsh(gram.astype(np.float64)).min() > -1e-4


def test_content_loss_is_squared_error_over_four_times_size(rng):
    generated = rng.standard_normal((1, 4, 5, 3)).astype(np.float32)
    target = rng.standard_normal((1, 4, 5, 3)).astype(np.float32)
    expected = np.sum((generated.astype(np.float64) - target) ** 2) / (4 * target.size)
    with tf.Graph().as_default():
        found = evaluate(losses.content_loss(tf.constant(generated), target))
    np.testing.assert_allclose(found, expected, rtol=1e-5)


def test_layer_style_loss_normalised_by_2nm_squared(rng):
    generated = rng.standard_normal((1, 4, 6, 3)).astype(np.float32)
    style = rng.standard_normal((1, 4, 6, 3)).astype(np.float32)
    n, m = 3, 24
    expected = np.sum((np_gram(generated) - np_gram(style)) ** 2) / (2 * n * m) ** 2
    with tf.Graph().as_default():
        found = evaluate(losses.layer_style_loss(tf.constant(generated), np_gram(style)))
    np.testing.assert_allclose(found, expected, rtol=1e-5)


def test_style_loss_is_weighted_sum_and_total_combines(rng):
    shapes = [(1, 8, 8, 2), (1, 4, 4, 3)]
    generated = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    styles = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    weights = [0.5, 3.0]
    per_layer = [np.sum((np_gram(g) - np_gram(s)) ** 2) / (2 * g[0].size) ** 2
                 for g, s in zip(generated, styles)]  # N * M = channels * pixels = size
    expected_style = sum(w * e for w, e in zip(weights, per_layer))
    with tf.Graph().as_default():
        style = losses.style_loss([tf.constant(g) for g in generated],
                                  [np_gram(s) for s in styles], weights)
        content = tf.constant(7.0)
        total = losses.total_loss(content, style, tf.constant(5.0), 0.01, 2.0, 0.1)
        found_style, found_total = evaluate(tf.stack([style, total]))
    np.testing.assert_allclose(found_style, expected_style, rtol=1e-5)
    np.testing.assert_allclose(found_total, 0.07 + 2.0 * expected_style + 0.5, rtol=1e-5)


def test_losses_vanish_at_the_target(rng):
    features = rng.standard_normal((1, 5, 5, 4)).astype(np.float32)
    with tf.Graph().as_default():
        tensor = tf.constant(features)
        zero = evaluate(tf.stack([losses.content_loss(tensor, features),
                                  losses.layer_style_loss(tensor, np_gram(features))]))
    np.testing.assert_allclose(zero, 0.0, atol=1e-6)


def test_total_variation_is_mean_squared_neighbour_difference(rng):
    image = rng.standard_normal((1, 5, 7, 3)).astype(np.float32)
    pixels = image[0].astype(np.float64)
    expected = (np.mean((pixels[1:] - pixels[:-1]) ** 2)
                + np.mean((pixels[:, 1:] - pixels[:, :-1]) ** 2))
    with tf.Graph().as_default():
        found = evaluate(losses.total_variation_loss(tf.constant(image)))
    np.testing.assert_allclose(found, expected, rtol=1e-5)
    with tf.Graph().as_default():
        flat = evaluate(losses.total_variation_loss(tf.fill([1, 4, 4, 3], 7.0)))
    assert flat == 0.0


def test_blended_style_loss_is_the_weighted_sum_over_styles(rng):
    shapes = [(1, 8, 8, 2), (1, 4, 4, 3)]
    generated = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    styles = [[np_gram(rng.standard_normal(s).astype(np.float32)) for s in shapes]
              for _ in range(3)]
    layer_weights, blend = [0.5, 3.0], [0.2, 0.3, 0.5]
    with tf.Graph().as_default():
        tensors = [tf.constant(g) for g in generated]
        blended = losses.blended_style_loss(tensors, styles, layer_weights, blend)
        each = [losses.style_loss(tensors, grams, layer_weights) for grams in styles]
        found, *singles = evaluate(tf.stack([blended, *each]))
    np.testing.assert_allclose(found, np.dot(blend, singles), rtol=1e-5)
    assert min(singles) > 0


def test_temporal_loss_is_the_masked_squared_error_over_the_image_size(rng):
    image = rng.uniform(-100, 100, (1, 4, 5, 3)).astype(np.float32)
    warped = rng.uniform(-100, 100, (1, 4, 5, 3)).astype(np.float32)
    mask = (rng.uniform(size=(4, 5)) > 0.4).astype(np.float32)
    expected = np.sum(mask[None, :, :, None] * (image.astype(np.float64) - warped) ** 2) \
        / image.size
    with tf.Graph().as_default():
        found = evaluate(losses.temporal_loss(tf.constant(image), tf.constant(warped),
                                              tf.constant(mask)))
        empty = evaluate(losses.temporal_loss(tf.constant(image), tf.constant(warped),
                                              tf.zeros((4, 5))))
    np.testing.assert_allclose(found, expected, rtol=1e-5)
    assert 0 < found < np.mean((image - warped) ** 2)  # the masked-out pixels count for nothing
    assert empty == 0.0
