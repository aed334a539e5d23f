"""Region masks: nearest colours and blends of two, their errors, fitting, blending and the
layer grid."""
from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest
import scipy.ndimage
from PIL import Image

from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.control import masks
from tf1cnn.style_transfer.network import vgg
from tf1cnn.style_transfer.shell import cli

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


def one_hot_reference(mask, listed):
    """The weights of a mask of listed colours (within tolerance): one-hot at the nearest."""
    distance = np.linalg.norm(mask[:, :, None, :] - np.asarray(listed)[None, None], axis=3)
    return np.eye(len(listed), dtype=np.float32)[np.argmin(distance, axis=2)]


def test_a_mask_of_listed_colours_keeps_its_one_hot_weights_bit_for_bit(rng):
    listed = [RED, BLUE, np.array([255.0, 255, 0])]
    labels = rng.integers(0, 3, (6, 8)).repeat(5, axis=0).repeat(5, axis=1)
    mask = np.stack(listed)[labels] + rng.uniform(-12, 12, labels.shape + (3,))
    weights = masks.regions(np.clip(mask, 0, 255), ["red", "blue", "yellow"])
    assert weights.dtype == np.float32
    np.testing.assert_array_equal(weights, one_hot_reference(np.clip(mask, 0, 255), listed))


def test_a_pixel_half_red_half_blue_goes_half_to_each_region():
    mask = two_halves()
    mask[:, 14] = 0.5 * RED + 0.5 * BLUE
    weights = masks.regions(mask, ["red", "blue"])
    np.testing.assert_array_equal(weights[:, 14], [[0.5, 0.5]] * 20)
    np.testing.assert_array_equal(weights[:, 13], [[1, 0]] * 20)
    np.testing.assert_array_equal(weights[:, 15], [[0, 1]] * 20)


def test_a_blend_off_the_line_is_split_as_its_projection_onto_it(rng):
    mask = two_halves()
    blend = 0.7 * RED + 0.3 * BLUE + rng.uniform(-15, 15, (20, 3))
    mask[:, 14] = blend
    # numpy's float64 projection onto the segment red -> blue: the share t of blue
    step = BLUE - RED
    share = np.clip((blend - RED) @ step / (step @ step), 0, 1)
    weights = masks.regions(mask, ["red", "blue"])
    np.testing.assert_allclose(weights[:, 14], np.stack([1 - share, share], axis=1), atol=1e-6)


def painted(labels, palette, sigma):
    """uint8 RGB of regions ``labels`` in colours ``palette``, each region blurred by sigma,
    and the blue share of every pixel (the second region's)."""
    shares = np.stack([scipy.ndimage.gaussian_filter((labels == index).astype(np.float64),
                                                     sigma) for index in range(len(palette))],
                      axis=2)
    return np.round(shares @ np.stack(palette)).astype(np.uint8), shares[:, :, 1]


def issue_labels(height=300, width=433):
    """Red with a blue right half behind a wavy boundary and a blue disc on the red side,
    about 130,000 pixels as in the issue."""
    rows, cols = np.mgrid[:height, :width]
    blue = cols > width / 2 + 20 * np.sin(2 * np.pi * rows / 100)
    blue |= np.hypot(rows - 90, cols - 95) < 40
    return blue.astype(int)


@pytest.mark.parametrize("sigma, suffix, short_reach", [(1, "png", None), (1, "jpg", 0),
                                                        (4, "png", 8)])
def test_the_issues_painted_masks_give_soft_weights(sigma, suffix, short_reach, tmp_path):
    painting, blue = painted(issue_labels(), [RED, BLUE], sigma)
    path = tmp_path / f"mask.{suffix}"
    Image.fromarray(painting).save(path, quality=70)  # the quality of the issue's JPEG
    mask = masks.read_mask(path)
    weights = masks.regions(mask, ["red", "blue"], role="--content-mask")
    assert weights.min() >= 0 and weights.max() <= 1
    np.testing.assert_allclose(weights.sum(axis=2), 1.0, atol=1e-6)
    soft = weights.max(axis=2) < 1
    assert soft.sum() > 1000
    if suffix == "png":  # the split follows the brush's own share to within rounding to uint8
        np.testing.assert_allclose(weights[soft, 1], blue[soft], atol=0.01)
    if short_reach is not None:  # blends lie farther than that from the other pure colour
        with pytest.raises(UsageError, match="pixels of colour"):
            masks.regions(mask, ["red", "blue"], reach=short_reach)


def test_an_unlisted_colour_is_named_with_its_count():
    mask = two_halves()
    mask[2:6, 8:13] = [0, 255, 0]  # near both regions, yet no blend of red and blue
    with pytest.raises(UsageError) as caught:
        masks.regions(mask, ["red", "blue"], role="content mask")
    message = str(caught.value)
    assert "content mask has 20 pixels of colour #00ff00 farther than 40 from every colour " \
        "listed (red, blue) and every blend of two of them painted within 16 pixels" in message
    assert "--region-style" in message and "\n" not in message
    # within the tolerance it is absorbed
    mask[2:6, 8:13] = RED + [0, 30, 0]
    assert masks.regions(mask, ["red", "blue"], tolerance=40)[3, 10, 0] == 1
    with pytest.raises(UsageError, match="pixels of colour #ff1e00"):
        masks.regions(mask, ["red", "blue"], tolerance=20)


def test_a_blend_counts_only_where_both_colours_are_painted_within_reach():
    mask = two_halves(20, 60)  # blue from column 30
    purple = 0.5 * RED + 0.5 * BLUE
    mask[5:10, 2:6] = purple  # 24 pixels and more from the blue half
    with pytest.raises(UsageError, match="has 20 pixels of colour #800080"):
        masks.regions(mask, ["red", "blue"])
    assert masks.regions(mask, ["red", "blue"], reach=28)[7, 5, 1] == 0.5
    mask = two_halves(20, 60)
    mask[5:10, 14:18] = purple  # 16 pixels and less from the blue half
    np.testing.assert_array_equal(masks.regions(mask, ["red", "blue"])[5:10, 14:18],
                                  np.full((5, 4, 2), 0.5))


def test_where_three_regions_meet_a_pixel_near_the_boundary_takes_its_nearest_colour():
    mask = two_halves()
    mask[:10] = [255, 255, 0]  # yellow above both halves: they meet at row 10, column 15
    mask[10, 15] = (RED + BLUE + np.array([255, 255, 0])) / 3  # no blend of two colours
    weights = masks.regions(mask, ["red", "blue", "yellow"])
    np.testing.assert_array_equal(weights[10, 15], [1, 0, 0])


def test_a_run_takes_a_soft_jpeg_mask(tiny_vgg, image_files, tmp_path):
    content, style = image_files
    labels = np.zeros((40, 56), int)
    labels[:, 28:] = 1
    painting, _ = painted(labels, [RED, BLUE], 2.0)  # blends 3 pixels from the boundary
    mask = tmp_path / "mask.jpg"
    Image.fromarray(painting).save(mask, quality=70)
    out = tmp_path / "out"
    code = cli.main(["--vgg", tiny_vgg, "--content", content, "--style", style,
                     "--output-dir", str(out), "--iterations", "2", "--height", "24",
                     "--width", "32", "--content-mask", str(mask),
                     "--region-style", "red=1", "blue=none"])
    assert code == 0 and iio.imread(out / "result.png").shape == (24, 32, 3)


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


@pytest.mark.parametrize("size", [(20, 30), (41, 61), (9, 14), (20, 20)])
def test_fitted_regions_of_listed_colours_equal_regions_of_the_fitted_mask(rng, size):
    mask = np.clip(two_halves(40, 60) + rng.uniform(-12, 12, (40, 60, 3)), 0, 255)
    mask[5:15, 5:12] = [255, 255, 0]
    colours = ["red", "blue", "yellow"]
    fitted, note = masks.fit_mask(mask, *size, (40, 60), "content mask")
    weights, same_note = masks.fit_mask(masks.regions(mask, colours), *size, (40, 60),
                                        "content mask")
    np.testing.assert_array_equal(weights, masks.regions(fitted, colours))
    assert weights.dtype == np.float32 and note == same_note is None
    with pytest.raises(UsageError, match="the aspect ratios differ"):
        masks.fit_mask(masks.regions(mask, colours), *size, (40, 40), "content mask")


def test_regions_read_blends_before_a_mask_is_enlarged():
    painting, _ = painted(issue_labels(150, 216), [RED, BLUE], 4.0)
    mask = painting.astype(np.float32)
    fitted, _ = masks.fit_mask(mask, 450, 648, mask.shape)
    with pytest.raises(UsageError, match="pixels of colour"):  # blends 3x as wide as painted
        masks.regions(fitted, ["red", "blue"])
    weights, _ = masks.fit_mask(masks.regions(mask, ["red", "blue"]), 450, 648, mask.shape)
    np.testing.assert_allclose(weights.sum(axis=2), 1.0, atol=1e-6)


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



def test_nearest_resizes_labels_too_and_enlarging_keeps_every_one(rng):
    labels = rng.integers(0, 5, (7, 9))
    large = masks.nearest(labels, 23, 31)
    assert large.shape == (23, 31) and large.dtype == labels.dtype
    # output pixel i lies over input pixel floor((i + 1/2) * 7 / 23), in integers
    rows, cols = (2 * np.arange(23) + 1) * 7 // 46, (2 * np.arange(31) + 1) * 9 // 62
    np.testing.assert_array_equal(large, labels[rows][:, cols])
    assert set(np.unique(rows)) == set(range(7)) and set(np.unique(cols)) == set(range(9))
