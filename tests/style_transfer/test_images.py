"""Images in any mode become RGB floats in [0, 255]; fitting crops the centre; writing is safe."""
from __future__ import annotations

import os

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from tf1cnn.common import images
from tf1cnn.common.errors import UsageError


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)


def save(tmp_path, name, pil_image, **kwargs):
    path = tmp_path / name
    pil_image.save(path, **kwargs)
    return path


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "1", "I;16", "CMYK"])
def test_every_mode_reads_as_rgb_float(tmp_path, rgb, mode):
    source = Image.fromarray(rgb)
    if mode == "I;16":
        source = Image.fromarray((np.asarray(source.convert("L"), np.uint16) * 257))
    else:
        source = source.convert(mode)
    name = "x.jpg" if mode == "CMYK" else "x.png"
    pixels = images.read_rgb(save(tmp_path, name, source))
    assert pixels.shape == (20, 30, 3) and pixels.dtype == np.float32
    assert 0 <= pixels.min() and pixels.max() <= 255
    reference = np.asarray(source.convert("RGB"), np.float32) if mode != "I;16" else \
        np.repeat(np.asarray(Image.fromarray(rgb).convert("L"), np.float32)[..., None], 3, 2)
    tolerance = 40 if mode == "CMYK" else 1.0  # JPEG is lossy
    assert np.abs(pixels - reference).mean() < tolerance


def test_sixteen_bit_keeps_full_range(tmp_path):
    ramp = np.linspace(0, 65535, 64, dtype=np.uint16).reshape(8, 8)
    pixels = images.read_rgb(save(tmp_path, "ramp.png", Image.fromarray(ramp)))
    assert pixels[0, 0, 0] == 0 and pixels[-1, -1, 0] == pytest.approx(255)
    assert len(np.unique(pixels)) == 64  # no two levels collapse, unlike a clip to 8 bits


def test_alpha_is_composited_over_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:2, :, 3] = 255  # top half opaque red, bottom half transparent
    pixels = images.read_rgb(save(tmp_path, "a.png", Image.fromarray(rgba)))
    np.testing.assert_array_equal(pixels[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(pixels[3, 0], [255, 255, 255])


def test_animation_uses_first_frame(tmp_path, rgb):
    frames = [Image.fromarray(rgb), Image.fromarray(np.zeros_like(rgb))]
    path = save(tmp_path, "a.gif", frames[0], save_all=True, append_images=frames[1:])
    assert images.read_rgb(path).mean() > 50


def test_float_and_bool_arrays():
    np.testing.assert_array_equal(images.to_rgb(np.array([[True, False]]))[0, :, 0], [255, 0])
    assert images.to_rgb(np.full((2, 2, 3), 0.5))[0, 0, 0] == pytest.approx(127.5)


def test_fit_crops_the_centre_then_resizes():
    wide = np.zeros((10, 40, 3), np.float32)
    wide[:, 15:25] = 255  # a bright centre band, 10 px wide
    fitted = images.fit(wide, 20, 20)  # keep the centre 10x10, then double it
    assert fitted.shape == (20, 20, 3)
    assert fitted.min() > 250
    tall = np.zeros((40, 10, 3), np.float32)
    tall[:15] = 255
    assert images.fit(tall, 10, 10).max() < 5  # the top rows are cropped away


def test_fit_keeps_exact_sizes_untouched(rgb):
    np.testing.assert_array_equal(images.fit(rgb.astype(np.float32), 20, 30), rgb)


def test_write_png_clips_and_rounds(tmp_path):
    path = tmp_path / "out.png"
    images.write_png(path, np.array([[[-5.0, 127.6, 300.0]]]))
    np.testing.assert_array_equal(iio.imread(path)[0, 0], [0, 128, 255])
    assert os.listdir(tmp_path) == ["out.png"]  # no temporary file left behind


def test_missing_file(tmp_path):
    with pytest.raises(UsageError, match=r"^content image not found: .*nope\.jpg$"):
        images.read_rgb(tmp_path / "nope.jpg", "content")


def test_directory(tmp_path):
    with pytest.raises(UsageError, match=r"style image is a directory"):
        images.read_rgb(tmp_path, "style")


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("not a picture")
    with pytest.raises(UsageError, match=r"cannot read style image .*notes\.jpg: not a readable"):
        images.read_rgb(path, "style")


def test_empty_image():
    with pytest.raises(UsageError, match=r"the image is empty \(0x5\)"):
        images.to_rgb(np.zeros((0, 5, 3), np.uint8))


def test_odd_array_shape():
    with pytest.raises(UsageError, match=r"expected a 2-D grey or colour image"):
        images.to_rgb(np.zeros((2, 2, 7), np.uint8))


def test_preserve_colors_keeps_the_styled_luminance_and_the_content_chroma():
    rng = np.random.default_rng(1)
    content = rng.uniform(60, 190, (8, 9, 3)).astype(np.float32)
    styled = rng.uniform(60, 190, (8, 9, 3)).astype(np.float32)
    kept = images.preserve_colors(content, styled)
    ycbcr = images.RGB_TO_YCBCR
    np.testing.assert_allclose(kept @ ycbcr[0], styled @ ycbcr[0], atol=1e-3)
    np.testing.assert_allclose(kept @ ycbcr[1:].T, content @ ycbcr[1:].T, atol=1e-3)
    grey = np.repeat(content[:, :, :1], 3, axis=2)
    np.testing.assert_allclose(np.ptp(images.preserve_colors(grey, styled), axis=2), 0,
                               atol=1e-3)  # grey content gives a grey result


def test_resize_keeps_a_flat_image_flat():
    flat = np.full((10, 14, 3), 77.0, np.float32)
    resized = images.resize(flat, 21, 29)
    assert resized.shape == (21, 29, 3)
    np.testing.assert_allclose(resized, 77.0, atol=1e-3)


def test_centre_crop_is_the_crop_fit_makes():
    rng = np.random.default_rng(0)
    for shape, size in [((40, 80, 3), (10, 10)), ((81, 40, 3), (20, 30)), ((7, 9, 3), (7, 9))]:
        image = rng.uniform(0, 255, shape).astype(np.float32)
        np.testing.assert_array_equal(images.fit(image, *size),
                                      images.resize(images.centre_crop(image, *size), *size))
