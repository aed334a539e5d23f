"""Guided Gram matrices: numpy reference, one region equals the plain loss, and locality."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from tf1cnn.style_transfer.control import masks
from tf1cnn.style_transfer.network import vgg, vgg_graph
from tf1cnn.style_transfer.objective import losses

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
LAYER_WEIGHTS = (0.2, 0.2, 0.2, 0.2, 0.2)


def evaluate(tensors):
    with tf.compat.v1.Session() as session:
        return session.run(tensors)


def np_guided_gram(features, mask):
    flat = (features[0] * mask[:, :, None]).reshape(-1, features.shape[-1]).astype(np.float64)
    return flat.T @ flat


@pytest.fixture
def rng():
    return np.random.default_rng(17)


@pytest.fixture(scope="module")
def float64_layers():
    """The tiny random VGG19 in float64, so losses agree to 1e-6 rather than float32's 1e-4."""
    return [dataclasses.replace(layer, weights=layer.weights.astype(np.float64),
                                bias=layer.bias.astype(np.float64))
            if layer.kind == "conv" else layer for layer in vgg.random_layers(19, 16)]


def test_guided_gram_matches_numpy_for_both_mask_layouts(rng):
    features = rng.standard_normal((1, 6, 7, 4))
    mask = rng.uniform(size=(6, 7))
    with tf.Graph().as_default():
        flat, full = evaluate([losses.guided_gram_matrix(tf.constant(features), mask),
                               losses.guided_gram_matrix(tf.constant(features),
                                                         mask[None, :, :, None])])
    np.testing.assert_allclose(flat, np_guided_gram(features, mask), rtol=1e-12)
    np.testing.assert_allclose(full, flat, rtol=1e-12)


def test_guided_style_loss_matches_numpy(rng):
    features = rng.standard_normal((1, 5, 6, 3))
    weights = rng.uniform(size=(5, 6, 3))
    weights[:, :, 2] = 0.0  # a region absent from this layer adds nothing
    targets = [np.cov(rng.standard_normal((3, 9))) for _ in range(3)]
    expected = 0.0
    for region in (0, 2):  # region 1 has no style
        mass = np.sum(weights[:, :, region] ** 2)
        gram = np_guided_gram(features, weights[:, :, region])
        if mass:
            expected += np.sum((gram - mass * targets[region]) ** 2) / ((2 * 3) ** 2 * mass * 30)
    with tf.Graph().as_default():
        found = evaluate(losses.guided_style_loss(tf.constant(features), weights,
                                                  [targets[0], None, targets[2]], 0.7))
    np.testing.assert_allclose(found, 0.7 * expected, rtol=1e-12)
    with tf.Graph().as_default():
        assert evaluate(losses.guided_style_loss(tf.constant(features), weights,
                                                 [None] * 3)) == 0.0
        with pytest.raises(ValueError, match="3 region masks but 2 targets"):
            losses.guided_style_loss(tf.constant(features), weights, [None] * 2)


def test_guided_target_is_the_regions_mean_gram(rng):
    features = rng.standard_normal((1, 4, 4, 2))
    mask = np.zeros((4, 4))
    mask[:2] = 1.0
    with tf.Graph().as_default():
        found, empty = evaluate([losses.guided_target(tf.constant(features), mask),
                                 losses.guided_target(tf.constant(features), 0 * mask)])
    top = features[0, :2].reshape(-1, 2)
    np.testing.assert_allclose(found, top.T @ top / 8, rtol=1e-12)
    assert (empty == 0).all()


def test_one_region_over_the_image_is_the_plain_loss_and_gradient(rng, float64_layers):
    height, width = 37, 45
    picture = rng.uniform(-100, 100, (1, height, width, 3))
    style = rng.uniform(-100, 100, (1, height, width, 3))
    shapes = vgg.shapes(float64_layers, height, width)
    with tf.Graph().as_default():
        net = vgg_graph.VGG(vgg.trunk(float64_layers, STYLE_LAYERS))
        image = tf.constant(picture)
        ends, style_ends = net(image), net(tf.constant(style), scope="style")
        features = [ends[name] for name in STYLE_LAYERS]
        targets = evaluate([losses.gram_matrix(style_ends[name]) for name in STYLE_LAYERS])
        plain = losses.style_loss(features, targets, LAYER_WEIGHTS)
        guided = tf.add_n([
            losses.guided_style_loss(f, np.ones(shapes[name][:2] + (1,)),
                                     [a / np.prod(shapes[name][:2])], weight)
            for f, a, name, weight in zip(features, targets, STYLE_LAYERS, LAYER_WEIGHTS)])
        values = evaluate([plain, guided, tf.gradients(plain, image)[0],
                           tf.gradients(guided, image)[0]])
    plain_loss, guided_loss, plain_gradient, guided_gradient = values
    assert plain_loss > 0
    np.testing.assert_allclose(guided_loss, plain_loss, rtol=1e-6)
    np.testing.assert_allclose(guided_gradient, plain_gradient, rtol=1e-6,
                               atol=1e-6 * np.abs(plain_gradient).max())


def test_a_region_without_style_is_untouched_beyond_the_receptive_radius(rng, float64_layers):
    # the styled part ends on the first column of a 16-pixel relu5_1 footprint, so the bound
    # is met exactly: that footprint reaches 15 more columns, and the convolutions 70 beyond
    height, width, styled_cols = 24, 160, 17
    layers = vgg.trunk(float64_layers, STYLE_LAYERS)
    radius = vgg.receptive_radius(layers, STYLE_LAYERS[-1])
    assert styled_cols + radius < width
    weights = np.zeros((height, width, 2))
    weights[:, :styled_cols, 0] = 1.0  # left: styled; right: no style
    weights[:, styled_cols:, 1] = 1.0
    pooled = masks.layer_masks(weights, layers, height, width)
    picture = rng.uniform(-100, 100, (1, height, width, 3))
    with tf.Graph().as_default():
        image = tf.constant(picture)
        ends = vgg_graph.VGG(layers)(image)
        loss = tf.add_n([
            losses.guided_style_loss(ends[name], pooled[name],
                                     [np.eye(ends[name].shape[-1]), None], weight)
            for name, weight in zip(STYLE_LAYERS, LAYER_WEIGHTS)])
        gradient = evaluate(tf.gradients(loss, image)[0])[0]
    reached = np.flatnonzero(np.abs(gradient).max(axis=(0, 2)) > 0)
    farthest = reached.max() - (styled_cols - 1)
    assert farthest == radius
