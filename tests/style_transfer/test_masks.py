"""Region masks: nearest-colour assignment, its errors, fitting, blending and the layer grid."""
from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.control import masks
from tf1cnn.style_transfer.network import vgg

RED, BLUE = np.array([255.0, 0, 0]), np.array([0, 0, 255.0])


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def two_halves(height=20, width=30):
    mask = np.empty((height, width, 3), np.float32)
    mask[:, :width // 2], mask[:, width // 2:] = RED, BLUE
    return mask


def test_colours_parse_from_hex_with_or_without_hash_and_names():
    for text in ("#ff0000", "ff0000", "FF0000", "red"):
        np.testing.assert_allclose(masks.parse_colour(text), RED)
    np.testing.assert_allclose(masks.parse_colour("#00ff7f"), [0, 255, 127])
    with pytest.raises(UsageError, match="unknown region colour 'reddish'"):
        masks.parse_colour("reddish")


def test_noisy_pixels_go_to_the_nearest_listed_colour(rng):
    clean = two_halves()
    noisy = np.clip(clean + rng.normal(0, 8, clean.shape), 0, 255)
    weights = masks.regions(noisy, ["red", "#0000ff"])
    assert weights.shape == (20, 30, 2) and weights.dtype == np.float32
    np.testing.assert_array_equal(weights[:, :15], [[[1, 0]] * 15] * 20)
    np.testing.assert_array_equal(weights[:, 15:], [[[0, 1]] * 15] * 20)


def test_anti_aliased_boundaries_are_accepted():
    mask = two_halves()
    mask[:, 14] = 0.6 * RED + 0.4 * BLUE  # a blend far from both colours
    mask[:, 15] = 0.4 * RED + 0.6 * BLUE
    weights = masks.regions(mask, ["red", "blue"])
    np.testing.assert_array_equal(weights[:, 14], [[1, 0]] * 20)
    np.testing.assert_array_equal(weights[:, 15], [[0, 1]] * 20)


def test_an_unlisted_colour_is_named_with_its_count():
    mask = two_halves()
    mask[2:6, 2:7] = [0, 255, 0]
    with pytest.raises(UsageError) as caught:
        masks.regions(mask, ["red", "blue"], role="content mask")
    message = str(caught.value)
    assert "content mask has 20 pixels of colour #00ff00" in message
    assert "--region-style" in message and "\n" not in message
    # within the tolerance it is absorbed
    mask[2:6, 2:7] = RED + [0, 30, 0]
    assert masks.regions(mask, ["red", "blue"], tolerance=40)[3, 3, 0] == 1
    with pytest.raises(UsageError, match="pixels of colour #ff1e00"):
        masks.regions(mask, ["red", "blue"], tolerance=20)


def test_absent_names_colours_without_pixels():
    weights = masks.regions(two_halves(), ["red", "blue", "yellow"])
    assert masks.absent(weights, ["red", "blue", "yellow"]) == ["yellow"]


def test_read_mask_reads_any_mode_and_refuses_unreadable_files(tmp_path):
    grey = tmp_path / "grey.png"
    iio.imwrite(grey, np.full((4, 5), 255, np.uint8))
    assert masks.read_mask(grey).shape == (4, 5, 3)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(UsageError, match="cannot read style mask image .*broken.png"):
        masks.read_mask(broken, "style mask")
    with pytest.raises(UsageError, match="content mask image not found"):
        masks.read_mask(tmp_path / "missing.png", "content mask")


def test_a_mask_of_another_aspect_ratio_is_refused():
    with pytest.raises(UsageError, match="is 30x20 but its image is 40x40: the aspect"):
        masks.fit_mask(two_halves(), 20, 20, (40, 40, 3), role="content mask")


def test_a_mask_of_another_size_is_resized_with_a_note_and_stays_pure():
    mask = two_halves(20, 30)
    fitted, note = masks.fit_mask(mask, 41, 61, (40, 60, 3), role="content mask")
    assert fitted.shape == (41, 61, 3)
    assert note == "content mask is 30x20, its image 60x40: resized to match (nearest neighbour)"
    assert {tuple(p) for p in fitted.reshape(-1, 3)} == {tuple(RED), tuple(BLUE)}
    np.testing.assert_array_equal(fitted[:, 0], [RED] * 41)
    same, none = masks.fit_mask(two_halves(40, 60), 40, 60, (40, 60, 3))
    assert none is None and same.shape == (40, 60, 3)
    one_off, _ = masks.fit_mask(two_halves(20, 31), 20, 30, (40, 60))  # rounding is no error
    assert one_off.shape == (20, 30, 3)


def test_fit_mask_crops_as_images_fit_does():
    mask = np.zeros((40, 80, 3), np.float32)
    mask[:, :20] = RED  # the left quarter is cropped away by a square fit
    fitted, _ = masks.fit_mask(mask, 10, 10, (40, 80))
    assert fitted.max() == 0


def test_blend_sums_to_one_and_width_zero_is_the_identity(rng):
    labels = rng.integers(0, 3, (5, 7)).repeat(6, axis=0).repeat(6, axis=1)
    weights = np.eye(3, dtype=np.float32)[labels]
    np.testing.assert_array_equal(masks.blend(weights, 0), weights)
    soft = masks.blend(weights, masks.BLEND_WIDTH)
    np.testing.assert_allclose(soft.sum(axis=2), 1.0, rtol=1e-6)
    assert soft.min() >= 0 and 0 < soft[labels == 0, 1].max() < 1


def test_blend_ramps_over_about_the_width():
    weights = masks.regions(two_halves(4, 60), ["red", "blue"])
    row = masks.blend(weights, 8)[0, :, 0]
    ramp = np.flatnonzero((row > 0.02) & (row < 0.98))
    assert 6 <= len(ramp) <= 10 and ramp.min() > 20 and ramp.max() < 40


@pytest.mark.parametrize("size", [(203, 317), (24, 32), (1, 5)])
def test_layer_masks_follow_the_networks_grid_and_sum_to_one(rng, size):
    layers = vgg.random_layers(19, width_divisor=16)
    weights = masks.blend(np.eye(2, dtype=np.float32)[rng.integers(0, 2, size)], 2)
    found = masks.layer_masks(weights, layers, *size)
    shapes = vgg.shapes(layers, *size)
    assert list(found) == list(shapes)
    for name, mask in found.items():
        assert mask.shape == shapes[name][:2] + (2,)
        np.testing.assert_allclose(mask.sum(axis=2), 1.0, rtol=1e-6)


def test_layer_masks_average_with_same_padding():
    weights = np.zeros((3, 3, 1))
    weights[2, 2] = 1.0  # the corner window of a 3x3 input has one pixel of its own
    pooled = masks.layer_masks(weights, vgg.random_layers(19, 16)[:5], 3, 3)["pool1"]
    np.testing.assert_allclose(pooled[..., 0], [[0, 0], [0, 1]])
    weights[0, 0] = 1.0
    pooled = masks.layer_masks(weights, vgg.random_layers(19, 16)[:5], 3, 3)["pool1"]
    np.testing.assert_allclose(pooled[..., 0], [[0.25, 0], [0, 1]])
    with pytest.raises(ValueError, match="expected 4x3"):
        masks.layer_masks(weights, [], 3, 4)

