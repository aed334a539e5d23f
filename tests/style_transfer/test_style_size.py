"""How far a run scales its style pictures up: hand-computed factors, the engine's own fit, and
the two remedies the warning names (style_size.py); and the bundled pattern drawn at any size
(data/make_style_image.py)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from tf1cnn.common import images
from tf1cnn.style_transfer.config import StyleConfig
from tf1cnn.style_transfer.objective import memory
from tf1cnn.style_transfer.objective import style_size as ss

REPO = Path(__file__).resolve().parents[2]
WAVES = ("waves.png", (384, 512))  # the bundled picture's (height, width)


def levels(height, width, **settings):
    return StyleConfig(height=height, width=width, **settings).levels()


def factor_at(height, width, scales, pictures, style_scale) -> float:
    return ss.largest_upscale(levels(height, width, scales=scales, style_scale=style_scale),
                              pictures).factor


def load_script():
    spec = importlib.util.spec_from_file_location("make_style_image",
                                                  REPO / "data" / "make_style_image.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundled_picture_at_4k_is_scaled_up_7_5_times():
    # 384x512 to 16:9 keeps round(512 * 2160 / 3840) = 288 rows: 2160 / 288 = 3840 / 512 = 7.5.
    found = ss.largest_upscale(levels(2160, 3840), [WAVES])
    assert found == ss.Upscale("waves.png", (384, 512), (2160, 3840), 0, 7.5)


def test_the_factor_is_the_larger_axis_of_the_engines_crop():
    # 200x300 to 3:4 keeps round(200 * 400 / 300) = 267 columns: rows 600 / 200 = 3.0,
    # columns 800 / 267 = 2.996; the larger is the factor.
    assert ss.crop_shape((200, 300), 600, 800) == (200, 267)
    assert ss.upscale((200, 300), 600, 800) == 3.0


def test_coarse_to_fine_warns_for_the_full_size_not_the_coarse_level():
    # The coarse level is 300x400: a 200x300 picture is scaled up 1.5x there, 3x at 600x800.
    steps = levels(600, 800, scales=2)
    assert [(level.height, level.width) for level in steps] == [(300, 400), (600, 800)]
    assert ss.upscale((200, 300), 300, 400) == 1.5
    found = ss.largest_upscale(steps, [("small.png", (200, 300))])
    assert (found.level, found.fitted, found.factor) == (1, (600, 800), 3.0)
    assert ss.warning(steps, [("small.png", (200, 300))]).startswith(
        "warning: style picture small.png (300x200) is scaled up 3.0x to 800x600")


def test_coarse_styles_are_judged_at_the_coarse_levels_only():
    # A 100x100 coarse style for a 300x400 level keeps round(100 * 300 / 400) = 75 rows: 4x.
    # The 600x800 full-size style is not scaled at all.
    steps = levels(600, 800, scales=2)
    found = ss.largest_upscale(steps, [("big.png", (600, 800))], [("tiny.png", (100, 100))])
    assert (found.name, found.level, found.factor) == ("tiny.png", 0, 4.0)
    assert ss.largest_upscale(steps, [("big.png", (600, 800))]).factor == 1.0


def test_style_scale_half_brings_a_2_5x_case_under_the_limit():
    picture = [("p.png", (200, 400))]
    assert ss.largest_upscale(levels(500, 1000), picture).factor == 2.5
    assert ss.warning(levels(500, 1000), picture) is not None
    half = levels(500, 1000, style_scale=0.5)
    assert ss.largest_upscale(half, picture).fitted == (250, 500)
    assert ss.largest_upscale(half, picture).factor == 1.25
    assert ss.warning(half, picture) is None


def test_exactly_the_limit_is_not_warned_about():
    assert ss.largest_upscale(levels(768, 1024), [WAVES]).factor == 2.0
    assert ss.warning(levels(768, 1024), [WAVES]) is None


def test_the_factor_is_what_the_engine_fit_does_to_pictures():
    """The shape of ``images.fit``'s crop, on real pixels, for random shapes and sizes."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        shape = tuple(int(v) for v in rng.integers(1, 60, 2))
        size = memory.scaled(*(int(v) for v in rng.integers(1, 300, 2)), rng.uniform(0.2, 3))
        picture = np.zeros((*shape, 3), np.float32)
        assert ss.crop_shape(shape, *size) == images.centre_crop(picture, *size).shape[:2]
    assert images.fit(np.zeros((384, 512, 3), np.float32), 2160, 3840).shape == (2160, 3840, 3)


def test_the_4k_warning_names_picture_size_factor_and_both_remedies():
    line = ss.warning(levels(2160, 3840), [("data/style_waves.png", (384, 512))])
    assert line == ("warning: style picture data/style_waves.png (512x384) is scaled up 7.5x "
                    "to 3840x2160, which blurs its texture away; give a style picture of at "
                    "least 1920x1080, or --style-scale 0.26 or less to keep the scale-up "
                    "within 2x")
    # 0.26 gives 998x562 (1.95x); 0.27 would give 1037x583 (2.03x).
    assert ss.largest_upscale(levels(2160, 3840, style_scale=0.26), [WAVES]).factor <= 2
    assert ss.largest_upscale(levels(2160, 3840, style_scale=0.27), [WAVES]).factor > 2


def test_both_remedies_are_the_largest_that_keep_within_the_limit():
    rng = np.random.default_rng(1)
    for _ in range(100):
        shape = tuple(int(v) for v in rng.integers(2, 80, 2))
        height, width = (int(v) for v in rng.integers(20, 700, 2))
        steps = levels(height, width, scales=int(rng.integers(1, 3)),
                       style_scale=float(rng.uniform(0.5, 2)))
        pictures = [("p", shape)]
        found = ss.largest_upscale(steps, pictures)
        if found.factor <= 2:
            continue
        scale = ss.style_scale_within(steps, pictures)
        digits = f"{scale:.1e}"  # two significant digits, as printed
        assert float(digits) == scale
        unit = 10.0 ** (int(digits.split("e")[1]) - 1)
        ideal = steps[-1].style_scale * 2 / found.factor  # what the proportion gives
        assert factor_at(height, width, len(steps), pictures, scale) <= 2
        assert scale <= ideal
        # Below the proportional value only where rounding to whole pixels made that fail.
        above = np.arange(scale + unit, ideal + 1e-12, unit)
        assert all(factor_at(height, width, len(steps), pictures, value) > 2
                   for value in above), above
        need = ss.smallest_picture(found.fitted)
        assert ss.upscale(need, *found.fitted) <= 2
        assert ss.upscale((need[0] - 1, need[1] - 1), *found.fitted) > 2


def test_counting_down_past_a_decade_keeps_two_significant_digits():
    # A 2x3 picture for 37x47 keeps all of itself: 37 / 2 = 18.5x, so 2 / 18.5 = 0.108. Yet
    # 0.10 fits it to 4x5, whose crop keeps round(2 * 5 / 4) = 2 columns: 2.5x. Down through
    # 0.099, ... the size stays 4x5 until 0.095 gives 4x4 (4.465 columns): exactly 2x.
    steps, picture = levels(37, 47), [("p", (2, 3))]
    assert ss.largest_upscale(steps, picture).factor == 18.5
    assert ss.upscale((2, 3), *memory.scaled(37, 47, 0.10)) == 2.5
    assert ss.style_scale_within(steps, picture) == 0.095


def test_a_rounded_crop_needs_a_picture_larger_than_half_the_size():
    # A 3x2 picture fitted to 5x4 keeps round(2 * 5 / 4) = 2 rows (2.5x): 4x3 is the smallest.
    assert ss.upscale((3, 2), 5, 4) == 2.5
    assert ss.smallest_picture((5, 4)) == (4, 3)


def test_no_style_pictures_give_nothing():
    assert ss.largest_upscale(levels(100, 100), []) is None
    assert ss.warning(levels(100, 100), []) is None


def test_the_script_with_no_size_draws_todays_picture_exactly(tmp_path):
    script = load_script()
    committed = REPO / "data" / "style_waves.png"
    assert np.array_equal(script.draw(), iio.imread(committed))
    assert script.main(["--output", str(tmp_path / "waves.png")]) == 0
    assert (tmp_path / "waves.png").read_bytes() == committed.read_bytes()


def test_the_script_writes_the_size_it_is_given(tmp_path):
    script = load_script()
    out = tmp_path / "waves.png"
    assert script.main(["--size", "64x48", "--output", str(out)]) == 0
    assert iio.imread(out).shape == (48, 64, 3)


def test_the_pattern_scales_with_the_size():
    """Drawn at twice the pixels and brought back down, it is today's picture but for its
    grain: sigma 6 per pixel, so about 4.8 of mean absolute difference from the grain alone.
    Had the waves kept their size in pixels, it would differ by about 60."""
    script = load_script()
    today = script.draw().astype(np.float32)
    large = images.resize(script.draw(768, 1024).astype(np.float32), 384, 512)
    assert np.abs(large - today).mean() < 6
    # 16:9 gets the middle of the pattern, as images.fit would crop today's picture: 288 rows.
    wide = images.resize(script.draw(540, 960).astype(np.float32), 288, 512)
    assert np.abs(wide - today[48:336]).mean() < 6


@pytest.mark.parametrize("argv, message", [
    (["--size", "640"], "--size wants WIDTHxHEIGHT such as 3840x2160, got 640"),
    (["--size", "0x10"], "--size wants WIDTHxHEIGHT such as 3840x2160, got 0x10"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_a_bad_size_is_one_line_and_exit_2(argv, message, tmp_path, capsys):
    script = load_script()
    assert script.main([*argv, "--output", str(tmp_path / "x.png")]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {message}\n"
    assert list(tmp_path.iterdir()) == []
