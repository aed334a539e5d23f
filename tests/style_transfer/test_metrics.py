"""The measures on cases worked out by hand, and the one-megapixel cap."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tf1cnn.style_transfer.shell import metrics


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def test_identical_images_have_ssim_1_and_distance_0(rng):
    image = rng.uniform(0, 255, (40, 50, 3)).astype(np.float32)
    assert metrics.ssim_luminance(image, image) == pytest.approx(1.0)
    assert metrics.colour_distance(image, image) == 0.0
    found = metrics.measures(image, image, [image, 255.0 - image])
    assert found["ssim_luminance"] == pytest.approx(1.0)
    assert found["colour_distance_content"] == 0.0
    assert found["colour_distance_styles"][0] == 0.0
    assert 0.0 < found["colour_distance_styles"][1] <= 1.0


def test_ssim_falls_with_noise_and_ignores_chroma(rng):
    image = rng.uniform(0, 255, (32, 32, 3)).astype(np.float32)
    noisy = np.clip(image + rng.normal(0, 40, image.shape), 0, 255).astype(np.float32)
    assert metrics.ssim_luminance(noisy, image) < 0.9
    grey = np.repeat(image.mean(axis=2, keepdims=True), 3, axis=2)
    tinted = grey + np.array([0.587, -0.299, 0.0]) * 40  # 0.299 * 0.587 - 0.587 * 0.299 = 0
    assert metrics.ssim_luminance(tinted.astype(np.float32), grey) == pytest.approx(1.0)


def test_tiny_images_use_a_smaller_window_and_mismatched_shapes_are_refused(rng):
    small = rng.uniform(0, 255, (5, 4, 3)).astype(np.float32)
    assert metrics.ssim_luminance(small, small) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one shape"):
        metrics.ssim_luminance(small, small[:4])


def test_disjoint_colours_are_at_distance_1():
    red = np.zeros((10, 10, 3), np.float32)
    red[..., 0] = 255
    blue = np.zeros((7, 3, 3), np.float32)
    blue[..., 2] = 200
    assert metrics.colour_distance(red, blue) == pytest.approx(1.0)


def test_histogram_is_normalised_with_sixteen_levels_per_bin():
    pixels = np.array([[[0, 0, 0], [15, 15, 15], [16, 0, 0], [255, 255, 255]]], np.float32)
    histogram = metrics.colour_histogram(pixels)
    assert histogram.shape == (16, 16, 16) and histogram.sum() == pytest.approx(1.0)
    assert histogram[0, 0, 0] == 0.5 and histogram[1, 0, 0] == 0.25
    assert histogram[15, 15, 15] == 0.25


def test_hellinger_is_symmetric_bounded_and_worked_by_hand(rng):
    for _ in range(20):
        p, q = rng.uniform(size=(2, 4, 4, 4)) * (rng.uniform(size=(2, 4, 4, 4)) < 0.5)
        distance = metrics.hellinger(p, q)
        assert 0.0 <= distance <= 1.0
        assert distance == metrics.hellinger(q, p)
    # half the mass shared: sum sqrt(p q) = sqrt(0.5 * 0.5) = 0.5, H = sqrt(1 - 0.5)
    assert metrics.hellinger([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]) == pytest.approx(math.sqrt(0.5))
    assert metrics.hellinger([2.0, 2.0], [1.0, 1.0]) == 0.0  # normalised first
    with pytest.raises(ValueError, match="different shapes"):
        metrics.hellinger([1.0], [0.5, 0.5])


def test_capped_size_keeps_the_aspect_ratio_within_one_megapixel():
    assert metrics.capped_size(2000, 2000) == (1000, 1000)
    assert metrics.capped_size(800, 600) == (800, 600)
    for height, width in [(4000, 3000), (1001, 999), (12345, 17), (3, 999_999_999)]:
        rows, cols = metrics.capped_size(height, width)
        assert rows * cols <= metrics.MAX_PIXELS
        if min(rows, cols) > 1:  # a one-pixel-thin image cannot keep its ratio
            assert abs(rows / cols - height / width) <= height / width / min(rows, cols)


def test_a_large_result_is_measured_on_at_most_one_megapixel(rng, monkeypatch):
    seen = []
    histogramdd, ssim = metrics.np.histogramdd, metrics.structural_similarity
    monkeypatch.setattr(metrics.np, "histogramdd",
                        lambda pixels, **kw: seen.append(len(pixels)) or histogramdd(pixels, **kw))
    monkeypatch.setattr(metrics, "structural_similarity",
                        lambda a, b, **kw: seen.append(a.size) or ssim(a, b, **kw))
    big = np.broadcast_to(rng.uniform(0, 255, (1, 2000, 3)), (2000, 2000, 3))
    found = metrics.measures(big, big, [big])
    assert seen == [1_000_000] * 4
    assert found["colour_distance_content"] == 0.0
