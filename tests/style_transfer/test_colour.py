"""Colour control: exact statistics in float64 before clipping, and no crash on grey styles."""
from __future__ import annotations

import numpy as np
import pytest

from tf1cnn.common import images
from tf1cnn.style_transfer.control import colour


@pytest.fixture
def rng():
    return np.random.default_rng(13)


def random_image(rng, shape=(37, 53), mean=(120, 110, 100), mix=None):
    """Correlated colour noise, so the covariance has off-diagonal terms to match."""
    mix = rng.uniform(-30, 30, (3, 3)) if mix is None else mix
    return rng.standard_normal(shape + (3,)) @ mix.T + np.asarray(mean, float)


def stats(image):
    pixels = image.reshape(-1, 3)
    return pixels.mean(axis=0), np.cov(pixels, rowvar=False, bias=True)


def test_luminance_and_chroma_invert_to_the_same_rgb(rng):
    image = rng.uniform(0, 255, (9, 11, 3))
    np.testing.assert_allclose(colour.with_chroma(colour.luminance(image), image), image,
                               atol=1e-9)
    grey = np.full((2, 2, 3), 77.0)
    np.testing.assert_allclose(colour.chroma(grey), 128.0, atol=1e-9)
    np.testing.assert_allclose(colour.luminance(grey), 77.0, atol=1e-9)


def test_luminance_only_output_has_the_contents_chroma(rng):
    content = rng.uniform(0, 255, (20, 30, 3))
    optimised_y = rng.uniform(-20, 280, (20, 30))  # whatever the optimiser returns
    result = colour.with_chroma(optimised_y, content)
    assert result.dtype == np.float64
    np.testing.assert_allclose(colour.chroma(result), colour.chroma(content), atol=1e-6)
    np.testing.assert_allclose(colour.luminance(result), optimised_y, atol=1e-6)


def test_match_luminance_gives_the_contents_mean_and_spread(rng):
    style_y = rng.gamma(2.0, 30.0, (40, 25))
    content_y = rng.normal(90.0, 12.0, (31, 17))
    moved = colour.match_luminance(style_y, content_y)
    assert moved.shape == style_y.shape
    np.testing.assert_allclose([moved.mean(), moved.std()], [content_y.mean(), content_y.std()],
                               rtol=1e-9)
    # an affine map with positive slope keeps the order of the style's pixels
    assert (np.argsort(moved, axis=None) == np.argsort(style_y, axis=None)).all()


def test_match_luminance_of_a_flat_style_is_the_contents_mean(rng):
    content_y = rng.uniform(0, 255, (8, 8))
    moved = colour.match_luminance(np.full((5, 6), 40.0), content_y)
    np.testing.assert_allclose(moved, content_y.mean())


@pytest.mark.parametrize("method", colour.METHODS)
def test_match_gives_the_style_the_contents_mean_and_covariance(rng, method):
    for trial in range(5):
        style = random_image(rng, (41, 29), rng.uniform(0, 255, 3))
        content = random_image(rng, (23, 61), rng.uniform(0, 255, 3))
        moved = colour.match_colours(style, content, method)
        assert moved.shape == style.shape and moved.dtype == np.float64
        (mean_m, cov_m), (mean_c, cov_c) = stats(moved), stats(content)
        np.testing.assert_allclose(mean_m, mean_c, rtol=1e-6)
        np.testing.assert_allclose(cov_m, cov_c, rtol=1e-6, atol=1e-6 * np.abs(cov_c).max())


def test_eigen_match_of_an_image_onto_itself_is_the_identity(rng):
    image = random_image(rng)
    np.testing.assert_allclose(colour.match_colours(image, image, "eigen"), image, atol=1e-8)
    np.testing.assert_allclose(colour.match_colours(image, image, "cholesky"), image, atol=1e-8)


@pytest.mark.parametrize("method", colour.METHODS)
def test_grey_flat_and_two_colour_styles_do_not_crash(rng, method):
    content = random_image(rng)
    grey = np.repeat(rng.uniform(0, 255, (16, 16, 1)), 3, axis=2)
    flat = np.full((16, 16, 3), 90.0)
    two = np.where(rng.uniform(size=(16, 16, 1)) < 0.5, [255.0, 0, 0], [0, 0, 255.0])
    for style in (grey, flat, two):
        moved = colour.match_colours(style, content, method)
        assert np.isfinite(moved).all()
        np.testing.assert_allclose(stats(moved)[0], stats(content)[0], rtol=1e-6)
    np.testing.assert_allclose(colour.match_colours(flat, content, method),
                               np.broadcast_to(stats(content)[0], flat.shape), rtol=1e-9)
    grey_content = np.repeat(rng.uniform(0, 255, (12, 12, 1)), 3, axis=2)
    assert np.isfinite(colour.match_colours(content, grey_content, method)).all()


def test_clip_pixels_is_the_only_clipping_step(rng):
    style = random_image(rng, mix=np.eye(3) * 200)
    moved = colour.match_colours(style, random_image(rng), "eigen")
    clipped = colour.clip_pixels(moved)
    assert clipped.dtype == np.float32 and clipped.min() >= 0 and clipped.max() <= 255
    with pytest.raises(ValueError, match="cholesky, eigen"):
        colour.match_colours(style, style, "svd")


def test_preserve_colors_agrees_with_with_chroma(rng):
    content, styled = rng.uniform(0, 255, (2, 7, 9, 3))
    np.testing.assert_allclose(
        images.preserve_colors(content, styled),
        colour.clip_pixels(colour.with_chroma(colour.luminance(styled), content)), atol=1e-3)
