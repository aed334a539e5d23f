"""Automatic masks (``--content-mask auto[:K]``): flat blocks split into exactly their regions,
always the same way, numbered by luminance and paired in that order; the masks a run writes read
back to the same weights; bad values are one line before TensorFlow."""
from __future__ import annotations

import itertools
import re
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from tf1cnn.common import exits, images, runtime
from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.config import AUTO_PALETTE, StyleConfig, auto_colours
from tf1cnn.style_transfer.control import auto_masks, colour, inputs, masks
from tf1cnn.style_transfer.shell import cli

# Flat colours of clearly different luminance (Y about 14, 110, 214, 60, 170).
BLOCK_COLOURS = np.array([[0, 0, 120], [40, 160, 40], [250, 230, 40], [200, 20, 20],
                          [120, 200, 240]], np.float32)


def blocks(count: int, height: int = 48, width: int = 64) -> np.ndarray:
    """Region of each pixel [height, width]: ``count`` blocks of uneven shapes, one of them in
    two pieces, so that a region is not a rectangle found by place alone."""
    labels = np.zeros((height, width), int)
    labels[:, width // 2:] = 1 % count
    labels[height // 2:, : width // 3] = 2 % count
    labels[height // 8: height // 3, 5 * width // 8: 7 * width // 8] = 3 % count
    labels[5 * height // 8:, 9 * width // 16: 3 * width // 4] = 4 % count
    labels[2:6, 2:8] = 2 % count  # a second piece of block 2, far from the first
    return labels


def luminance_ranks(palette: np.ndarray) -> np.ndarray:
    """The rank of each colour by BT.601 luminance, the darkest 0."""
    return np.argsort(np.argsort(palette @ auto_masks.LUMA))


@pytest.mark.parametrize("count", [2, 3, 4, 5])
def test_flat_colour_blocks_split_into_exactly_those_regions_darkest_first(count):
    labels = blocks(count)
    picture = BLOCK_COLOURS[:count][labels]
    found = auto_masks.split(picture, count, *labels.shape)
    assert found.shape == labels.shape and found.dtype.kind == "i"
    np.testing.assert_array_equal(found, luminance_ranks(BLOCK_COLOURS[:count])[labels])


def test_only_the_crop_the_run_sees_is_split():
    """A 40x120 picture fitted to 40x40 keeps its middle third, red and orange halves; green
    fills the borders. Split whole, its two regions would be green and the rest; split as the
    run sees it, they are red and orange, and the border joins one of them."""
    picture = np.zeros((40, 120, 3), np.float32)
    picture[:] = (0, 160, 0)
    picture[:, 40:60], picture[:, 60:80] = (255, 0, 0), (255, 140, 0)
    found = auto_masks.split(picture, 2, 40, 40)
    assert (found[:, 40:60] == 0).all() and (found[:, 60:80] == 1).all()  # red is darker
    assert set(np.unique(found)) == {0, 1}


def test_the_same_picture_splits_the_same_way_in_another_process(tmp_path, synthetic_image):
    picture = images.to_rgb(synthetic_image(5, 60, 80))
    found = auto_masks.split(picture, 4, 60, 80)
    np.testing.assert_array_equal(found, auto_masks.split(picture.copy(), 4, 60, 80))
    np.save(tmp_path / "picture.npy", picture)
    code = ("import sys, numpy as np\n"
            "from tf1cnn.style_transfer.control import auto_masks\n"
            f"picture = np.load({str(tmp_path / 'picture.npy')!r})\n"
            f"np.save({str(tmp_path / 'labels.npy')!r}, auto_masks.split(picture, 4, 60, 80))\n")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "labels.npy"), found)


@pytest.mark.parametrize("count", [2, 3, 6])
def test_regions_of_a_picture_are_numbered_by_mean_luminance(count, synthetic_image):
    picture = images.to_rgb(synthetic_image(7, 60, 80))
    found = auto_masks.split(picture, count, 60, 80)
    assert sorted(np.unique(found)) == list(range(count))
    means = [colour.luminance(picture)[found == index].mean() for index in range(count)]
    assert means == sorted(means)


def test_a_large_picture_is_split_on_a_smaller_copy_and_labelled_at_its_own_size(monkeypatch):
    labels = blocks(3, 90, 120)
    picture = BLOCK_COLOURS[:3][labels]
    monkeypatch.setattr(auto_masks, "MAX_PIXELS", 30 * 40)
    found = auto_masks.split(picture, 3, 90, 120)
    assert found.shape == (90, 120)
    expected = luminance_ranks(BLOCK_COLOURS[:3])[labels]
    assert (found == expected).mean() > 0.97  # the edges move by up to a working pixel


@pytest.mark.parametrize("shape", [(1, 8), (3, 3), (20, 30)])
def test_where_slic_finds_too_few_superpixels_a_grid_stands_in(shape, monkeypatch):
    monkeypatch.setattr(auto_masks.skimage.segmentation, "slic",
                        lambda rgb, **options: np.zeros(rgb.shape[:2], int))
    picture = np.random.default_rng(1).uniform(0, 255, shape + (3,)).astype(np.float32)
    found = auto_masks.split(picture, 8, *shape)
    assert sorted(np.unique(found)) == list(range(8))


def test_the_palette_is_far_apart_and_spread_from_black_to_white():
    palette = {name: masks.parse_colour(name) for name in AUTO_PALETTE}
    for a, b in itertools.combinations(palette.values(), 2):
        assert np.linalg.norm(a - b) >= 255
    for count in range(2, len(AUTO_PALETTE) + 1):
        names = auto_colours(count)
        assert len(set(names)) == count and names[0] == "black" and names[-1] == "white"
        luma = [palette[name] @ auto_masks.LUMA for name in names]
        assert luma == sorted(luma)


def hand_made_pair():
    """A content of three upright bands and a style of three level bands, each of clearly
    different luminance, and the band of each region, darkest first."""
    content = np.zeros((24, 32, 3), np.float32)
    content[:, :11], content[:, 11:22], content[:, 22:] = (0, 0, 120), (250, 230, 40), \
        (40, 160, 40)
    style = np.zeros((30, 40, 3), np.float32)
    style[:10], style[10:20], style[20:] = (255, 255, 255), (0, 0, 0), (128, 128, 128)
    content_bands = [np.s_[:, :11], np.s_[:, 22:], np.s_[:, 11:22]]  # blue, green, yellow
    style_bands = [np.s_[10:20], np.s_[20:], np.s_[:10]]  # black, grey, white
    return content, style, content_bands, style_bands


def test_the_ith_darkest_content_region_takes_the_ith_darkest_style_region():
    content, style, content_bands, style_bands = hand_made_pair()
    config = StyleConfig(content_mask="auto:3", height=24, width=32)
    prepared = inputs.prepare(config, content, [style])
    found = prepared.controls
    assert [index for _, index in found.regions] == [0, 0, 0]
    for region, (inside, source) in enumerate(zip(content_bands, style_bands)):
        expected = np.zeros((24, 32), np.float32)
        expected[inside] = 1
        np.testing.assert_array_equal(found.content_regions[:, :, region], expected)
        expected = np.zeros((30, 40), np.float32)
        expected[source] = 1
        np.testing.assert_array_equal(found.style_regions[0][:, :, region], expected)
    content_mask, style_mask = prepared.masks
    assert content_mask.dtype == np.uint8 and style_mask.shape == (30, 40, 3)
    np.testing.assert_array_equal(style_mask[15, 20], (0, 0, 0))  # black: region 0
    np.testing.assert_array_equal(content_mask[0, 0], (0, 0, 0))


def test_a_flat_style_still_gives_every_content_region_a_part_of_it():
    """A flat style has no colours to tell regions apart: it splits by place alone into as many
    compact parts as the content has regions, one for each, every one of the same colour."""
    content, _, _, _ = hand_made_pair()
    flat = np.full((30, 40, 3), 90.0, np.float32)
    prepared = inputs.prepare(StyleConfig(content_mask="auto:3", height=24, width=32), content,
                              [flat])
    style_regions = prepared.controls.style_regions[0]
    assert (style_regions.reshape(-1, 3).sum(axis=0) >= 300).all()  # 1200 pixels in three
    np.testing.assert_array_equal(style_regions.sum(axis=2), 1)


def test_a_style_with_fewer_pixels_than_regions_is_refused():
    content, _, _, _ = hand_made_pair()
    tiny = np.zeros((1, 2, 3), np.float32)
    with pytest.raises(UsageError, match="style picture is 2x1: too few pixels for 3 regions"):
        inputs.prepare(StyleConfig(content_mask="auto:3", height=24, width=32), content, [tiny])


def test_region_styles_under_auto_give_every_region_the_style():
    config = StyleConfig(content_mask="auto:4")
    assert config.auto_regions() == 4 and StyleConfig(content_mask="auto").auto_regions() == 3
    assert config.region_styles() == [(name, 0) for name in auto_colours(4)]
    assert StyleConfig(content_mask="mask.png", region_style=("red=1",)).auto_regions() is None
    config.check()


def cli_args(tiny_vgg, content, style, out, *extra):
    return ["--vgg", tiny_vgg, "--content", content, "--style", style, "--output-dir", str(out),
            "--iterations", "2", "--height", "24", "--width", "32", "--seed", "1", *extra]


def test_a_run_writes_its_masks_and_they_read_back_to_the_same_weights(
        tiny_vgg, image_files, tmp_path, capsys):
    content, style = image_files
    out = tmp_path / "out"
    code = cli.main(cli_args(tiny_vgg, content, style, out, "--content-mask", "auto:2"))
    printed = capsys.readouterr().out
    assert code == 0
    line = next(line for line in printed.splitlines() if line.startswith("masks: "))
    passed_back = line.split("; to edit them and pass them back")[1].split(": ", 1)[1].split()
    assert passed_back == ["--content-mask", str(out / "content_mask.png"), "--style-mask",
                           str(out / "style_mask_1.png"), "--region-style", "black=1",
                           "white=1"]
    for name, picture in (("content_mask.png", content), ("style_mask_1.png", style)):
        written = iio.imread(out / name)
        assert written.shape == iio.imread(picture).shape
        assert {tuple(p) for p in written.reshape(-1, 3)} == {(0, 0, 0), (255, 255, 255)}

    auto = StyleConfig(style=(style,), content_mask="auto:2", height=24, width=32)
    back = StyleConfig(style=(style,), content_mask=passed_back[1],
                       style_mask=(passed_back[3],), region_style=tuple(passed_back[5:]),
                       height=24, width=32)
    back.check()
    (made,), (read,) = list(inputs.read(auto, [content])), list(inputs.read(back, [content]))
    assert made.controls.regions == read.controls.regions
    np.testing.assert_array_equal(made.controls.content_regions, read.controls.content_regions)
    np.testing.assert_array_equal(made.controls.style_regions[0],
                                  read.controls.style_regions[0])
    assert read.masks == () and not read.notes

    again = tmp_path / "again"
    assert cli.main(cli_args(tiny_vgg, content, style, again, *passed_back)) == 0
    assert not (again / "content_mask.png").exists()


def test_a_changed_run_leaves_the_masks_in_place_for_a_rerun_reading_them(
        tiny_vgg, image_files, tmp_path, capsys):
    content, style = image_files
    out = tmp_path / "out"
    assert cli.main(cli_args(tiny_vgg, content, style, out, "--content-mask", "auto:2")) == 0
    written = (out / "content_mask.png").read_bytes()
    back = ["--content-mask", str(out / "content_mask.png"), "--style-mask",
            str(out / "style_mask_1.png"), "--region-style", "black=1", "white=1"]
    assert cli.main(cli_args(tiny_vgg, content, style, out, *back)) == 0
    assert "earlier run moved to" in capsys.readouterr().out
    assert (out / "content_mask.png").read_bytes() == written
    assert cli.main(cli_args(tiny_vgg, content, style, out, *back)) == 0
    assert "resuming at step 2" in capsys.readouterr().out


@pytest.mark.parametrize("value, extra, expected", [
    ("auto:0", [], "--content-mask auto:K takes K from 2 to 8 regions, got 'auto:0'"),
    ("auto:x", [], "--content-mask auto:K takes K from 2 to 8 regions, got 'auto:x'"),
    ("auto:9", [], "takes K from 2 to 8 regions, got 'auto:9'"),
    ("auto:1", [], "got 'auto:1' (one region is the run without a mask)"),
    ("auto", ["--region-style", "black=1"], "drop --region-style and --style-mask"),
    ("auto:2", ["--video", "clip.mp4"], "are for still images, not --video"),
])
def test_bad_auto_values_are_one_line_and_exit_2_before_tensorflow(
        value, extra, expected, monkeypatch, image_files, tmp_path, capsys):
    def no_tensorflow():
        raise AssertionError("TensorFlow imported for a bad option")

    monkeypatch.setattr(runtime, "import_tensorflow", no_tensorflow)
    _, style = image_files
    code = cli.main(["--style", style, "--output-dir", str(tmp_path / "out"), "--content-mask",
                     value, *extra])
    err = capsys.readouterr().err
    assert code == exits.USAGE and len(err.strip().splitlines()) == 1
    assert expected in err, err
    assert not (tmp_path / "out").exists()


def test_two_styles_under_auto_are_refused_before_tensorflow(monkeypatch, image_files, capsys):
    monkeypatch.setattr(runtime, "import_tensorflow", lambda: pytest.fail("TensorFlow"))
    content, style = image_files
    code = cli.main(["--content", content, "--style", style, style, "--content-mask", "auto"])
    err = capsys.readouterr().err
    assert code == exits.USAGE and len(err.strip().splitlines()) == 1
    assert re.search(r"pairs the content's regions with one style picture's, got 2", err)


def test_a_style_too_small_to_split_is_one_line_and_exit_2(tiny_vgg, image_files, tmp_path,
                                                           capsys):
    content, _ = image_files
    tiny = tmp_path / "tiny.png"
    iio.imwrite(tiny, np.zeros((1, 2, 3), np.uint8))
    code = cli.main(cli_args(tiny_vgg, content, str(tiny), tmp_path / "out", "--content-mask",
                             "auto:3"))
    err = capsys.readouterr().err
    assert code == exits.USAGE and err.strip() == (
        "error: style picture is 2x1: too few pixels for 3 regions; give a larger picture or "
        "fewer (--content-mask auto:K)")

