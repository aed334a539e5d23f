"""The filter bank: the tutorial's exact values, the fixed forms, gains and stacking."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from tf1cnn.common.errors import UsageError
from tf1cnn.kernels import bank

REPO = Path(__file__).resolve().parents[2]

# BLUR_FILTER_RGB as the tutorial printed it: a[i, j] is a 3x3 block (in x out) of one value.
PRINTED_BLUR_RGB = np.array(
    [[[[0.0625] * 3] * 3, [[0.125] * 3] * 3, [[0.0625] * 3] * 3],
     [[[0.125] * 3] * 3, [[0.25] * 3] * 3, [[0.125] * 3] * 3],
     [[[0.0625] * 3] * 3, [[0.125] * 3] * 3, [[0.0625] * 3] * 3]])

SEED_2D = {  # the tutorial's a[i, j] assignments, written out
    "blur": [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "edge": [[0, -1, 0], [-1, 4, -1], [0, -1, 0]],
    "top_sobel": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
SEED_RGB_2D = dict(SEED_2D, blur=PRINTED_BLUR_RGB[:, :, 0, 0],
                   edge=[[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])


def test_blur_filter_rgb_is_the_printed_array():
    assert bank.BLUR_FILTER_RGB.shape == (3, 3, 3, 3)
    assert bank.BLUR_FILTER_RGB.dtype == np.float32
    np.testing.assert_array_equal(bank.BLUR_FILTER_RGB, PRINTED_BLUR_RGB)


@pytest.mark.parametrize("name", bank.NAMES)
def test_seed_filters_hold_the_tutorials_values(name):
    grey, rgb = bank.seed_grey(name), bank.seed_rgb(name)
    assert grey.shape == (3, 3, 1, 1) and rgb.shape == (3, 3, 3, 3)
    np.testing.assert_array_equal(grey[:, :, 0, 0], SEED_2D[name])
    for i in range(3):
        for o in range(3):
            # The tutorial's EDGE_FILTER_RGB alone is diagonal; the others set every pair.
            expected = np.zeros((3, 3)) if name == "edge" and i != o else SEED_RGB_2D[name]
            np.testing.assert_array_equal(rgb[:, :, i, o], expected)


def test_module_constants_are_the_seed_filters_and_read_only():
    pairs = {"BLUR_FILTER": "blur", "SHARPEN_FILTER": "sharpen", "EDGE_FILTER": "edge",
             "TOP_SOBEL": "top_sobel", "EMBOSS_FILTER": "emboss"}
    for constant, name in pairs.items():
        np.testing.assert_array_equal(getattr(bank, constant), bank.seed_grey(name))
        np.testing.assert_array_equal(getattr(bank, constant + "_RGB"), bank.seed_rgb(name))
        with pytest.raises(ValueError):
            getattr(bank, constant)[0, 0, 0, 0] = 7.0
    bank.seed_grey("blur")[0, 0, 0, 0] = 7.0  # builders hand out fresh, writable copies
    assert bank.BLUR_FILTER[0, 0, 0, 0] == 1.0


@pytest.mark.parametrize("name", bank.NAMES)
def test_fixed_forms_are_per_channel_and_keep_the_stated_gain(name):
    weights = bank.BANK[name]
    np.testing.assert_array_equal(bank.grey(name)[:, :, 0, 0], weights)
    rgb = bank.per_channel(name)
    for i in range(3):
        for o in range(3):
            np.testing.assert_array_equal(rgb[:, :, i, o], weights if i == o else 0.0)
    stated = {"blur": 1.0, "sharpen": 1.0, "edge": 0.0, "top_sobel": 0.0, "emboss": 1.0}[name]
    np.testing.assert_allclose(bank.gain(bank.grey(name)), [stated])
    np.testing.assert_allclose(bank.gain(rgb), [stated] * 3)


def test_the_seed_blurs_have_the_wrong_gain():
    assert bank.gain(bank.seed_grey("blur")).tolist() == [9.0]  # a sum of nine pixels
    assert bank.gain(bank.seed_rgb("blur")).tolist() == [3.0] * 3  # R + G + B, each blurred


def test_seed_rgb_turns_pure_red_grey_and_per_channel_keeps_it_red():
    red = np.array([1.0, 0.0, 0.0])
    seed = np.einsum("i,hwio->o", red, bank.seed_rgb("blur"))
    fixed = np.einsum("i,hwio->o", red, bank.per_channel("blur"))
    np.testing.assert_allclose(seed, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(fixed, [1.0, 0.0, 0.0])


def test_kernel_picks_the_form():
    np.testing.assert_array_equal(bank.kernel("blur", rgb=True, seed=True), bank.seed_rgb("blur"))
    np.testing.assert_array_equal(bank.kernel("blur", rgb=False), bank.grey("blur"))
    np.testing.assert_array_equal(bank.kernel("edge", rgb=True), bank.per_channel("edge"))


def test_stack_concatenates_along_the_output_axis_in_order():
    parts = [bank.per_channel(n) for n in ("blur", "edge", "emboss")]
    stacked = bank.stack(parts)
    assert stacked.shape == (3, 3, 3, 9) and stacked.dtype == np.float32
    for k, part in enumerate(parts):
        np.testing.assert_array_equal(stacked[..., 3 * k:3 * k + 3], part)
    with pytest.raises(ValueError, match="share"):
        bank.stack([bank.grey("blur"), bank.per_channel("blur")])
    with pytest.raises(ValueError):
        bank.stack([])


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UsageError, match="unknown kernel 'gauss'; choose from blur, sharpen"):
        bank.seed_grey("gauss")


def test_imports_point_from_kernels_to_style_transfer_only():
    for path in (REPO / "style_transfer").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any("kernels" in n for n in names), f"{path.name} imports kernels"
