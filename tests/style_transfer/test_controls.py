"""Colour and spatial control through the engine and the command line (Gatys et al. 2017):
luminance-only transfer, colour matching, region masks (painted or automatic) and coarse-level
styles."""
from __future__ import annotations

import dataclasses
import json
import re

import imageio.v3 as iio
import numpy as np
import pytest

from tf1cnn.common import exits
from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.config import StyleConfig
from tf1cnn.style_transfer.control import colour, controls, inputs
from tf1cnn.style_transfer.optimise import engine
from tf1cnn.style_transfer.shell import cli
from tf1cnn.style_transfer.shell.rundir import RunDir


def records_of(layers, config, content, styles, folder, **pictures):
    with engine.Engine(layers, config) as style_engine:
        run = style_engine.run(inputs.prepare(config, content, styles, **pictures),
                               [RunDir(str(folder / f"l{k}")) for k in range(config.scales - 1)]
                               + [RunDir(str(folder))])
        return list(run.records())


def first_evaluation(layers, config, content, styles, folder, start=None, **pictures):
    """(losses, gradient) of the initial image of a single-level run: ``start``, or the
    config's noise blend."""
    with engine.Engine(layers, config) as style_engine:
        run = style_engine.run(inputs.prepare(config, content, styles, start, **pictures),
                               [RunDir(str(folder))])
        records = run.records()
        next(records)  # LevelStart: targets and start image are loaded
        found = style_engine.level(-1).evaluator.evaluate(style_engine.session)
        records.close()
    return found


def flat_mask(shape, colour_rgb):
    return np.broadcast_to(np.asarray(colour_rgb, np.float32), (*shape[:2], 3)).copy()


def test_one_region_over_the_whole_image_is_the_plain_gram_loss(tiny_layers, pictures,
                                                                 tiny_config, tmp_path):
    content, style = pictures
    plain_losses, plain_gradient = first_evaluation(tiny_layers, tiny_config, content, [style],
                                                    tmp_path / "plain")
    masked = dataclasses.replace(tiny_config, content_mask="m.png", region_style=("red=1",))
    losses, gradient = first_evaluation(tiny_layers, masked, content, [style], tmp_path / "m",
                                        content_mask=flat_mask(content.shape, (255, 0, 0)))
    assert losses["style"] == pytest.approx(plain_losses["style"], rel=1e-5)
    assert losses["content"] == pytest.approx(plain_losses["content"], rel=1e-6)
    scale = np.abs(plain_gradient).max()
    assert np.abs(gradient - plain_gradient).max() / scale < 1e-5


def test_a_region_without_style_gets_no_style_loss(tiny_layers, pictures, tiny_config,
                                                   tmp_path):
    content, style = pictures
    config = dataclasses.replace(tiny_config, content_mask="m.png", region_style=("red=none",),
                                 content_weight=0.0)
    losses, gradient = first_evaluation(tiny_layers, config, content, [style], tmp_path,
                                        content_mask=flat_mask(content.shape, (255, 0, 0)))
    assert losses["style"] == 0 and losses["total"] == 0 and not gradient.any()


def test_two_regions_take_each_their_own_style(tiny_layers, pictures, tiny_config, tmp_path):
    """Left half red, right half blue, two styles: each half ends nearer (by its guided Gram
    loss) to the style it was given than the same half of a run given the styles swapped."""
    content, style = pictures
    other = np.ascontiguousarray(255.0 - style[::-1])
    mask = flat_mask(content.shape, (255, 0, 0))
    mask[:, content.shape[1] // 2:] = (0, 0, 255)
    config = dataclasses.replace(tiny_config, content_mask="m.png", iterations=30,
                                 optimizer="lbfgs", style=("a", "b"), mask_blend=0.0)

    def result(*region_style):
        run = dataclasses.replace(config, region_style=region_style)
        return records_of(tiny_layers, run, content, [style, other],
                          tmp_path / "_".join(region_style), content_mask=mask)[-1].image

    def loss(picture, region, index):
        """The guided style loss of ``picture``'s ``region`` against style ``index``."""
        rest = {"red": "blue", "blue": "red"}[region]
        measure = dataclasses.replace(config, region_style=(f"{region}={index}",
                                                            f"{rest}=none"))
        found, _ = first_evaluation(tiny_layers, measure, content, [style, other],
                                    tmp_path / "measure", picture, content_mask=mask)
        return found["style"]

    asked, swapped = result("red=1", "blue=2"), result("red=2", "blue=1")
    assert loss(asked, "red", 1) < loss(swapped, "red", 1)
    assert loss(asked, "blue", 2) < loss(swapped, "blue", 2)
    assert loss(swapped, "red", 2) < loss(asked, "red", 2)


def test_luminance_control_optimises_one_channel_and_keeps_the_contents_chroma(
        tiny_layers, pictures, tiny_config, tmp_path):
    content, style = pictures
    config = dataclasses.replace(tiny_config, colour_control="luminance", iterations=5)
    with engine.Engine(tiny_layers, config) as style_engine:
        assert style_engine.level(-1).image.shape[-1] == 1
        records = list(style_engine.run(inputs.prepare(config, content, [style]),
                                        [RunDir(str(tmp_path))]).records())
    result = records[-1].image
    np.testing.assert_allclose(colour.chroma(result), colour.chroma(content), atol=2e-3)
    assert not np.allclose(colour.luminance(result), colour.luminance(content), atol=1.0)


def test_luminance_control_shows_the_network_grey_pictures(pictures):
    content, style = pictures
    prepared = controls.prepare(StyleConfig(colour_control="luminance"), content, [style])
    for picture in (prepared.content, *prepared.styles):
        assert np.array_equal(picture[..., 0], picture[..., 1])
        assert np.array_equal(picture[..., 0], picture[..., 2])
    style_y = prepared.styles[0][..., 0].astype(np.float64)
    content_y = colour.luminance(content)
    assert style_y.mean() == pytest.approx(content_y.mean(), abs=0.5)  # after clipping
    assert prepared.original is content


def test_colour_match_gives_the_styles_the_contents_colours(pictures):
    content, style = pictures
    prepared = controls.prepare(StyleConfig(colour_control="match"), content, [style])
    matched = prepared.styles[0].reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(matched.mean(axis=0), content.reshape(-1, 3).mean(axis=0),
                               atol=1.0)  # exact before clipping: see test_colour.py


def test_coarse_style_naming_the_same_image_is_plain_coarse_to_fine(tiny_layers, pictures,
                                                                    tiny_config, tmp_path):
    content, style = pictures
    config = dataclasses.replace(tiny_config, scales=2, coarse_iterations=3, iterations=3,
                                 height=32, width=40)
    plain = records_of(tiny_layers, config, content, [style], tmp_path / "plain")
    same = records_of(tiny_layers, dataclasses.replace(config, coarse_style=("s",)), content,
                      [style], tmp_path / "same", coarse_styles=[style])
    other = records_of(tiny_layers, dataclasses.replace(config, coarse_style=("s",)), content,
                       [style], tmp_path / "other", coarse_styles=[style[::-1, ::-1]])
    np.testing.assert_array_equal(plain[-1].image, same[-1].image)
    assert not np.allclose(plain[-1].image, other[-1].image, atol=1e-2)


@pytest.fixture
def masked_inputs(image_files, tmp_path):
    """(content, style, a two-colour content mask of the content's shape) as files."""
    content, style = image_files
    shape = iio.imread(content).shape
    mask = np.zeros(shape[:2] + (3,), np.uint8)
    mask[:, : shape[1] // 2] = (255, 0, 0)
    mask[:, shape[1] // 2:] = (0, 0, 255)
    path = tmp_path / "inputs" / "mask.png"
    iio.imwrite(path, mask)
    return content, style, str(path), mask


def cli_args(tiny_vgg, content, style, out, *extra):
    return ["--vgg", tiny_vgg, "--content", content, "--style", style, "--output-dir", str(out),
            "--iterations", "2", "--height", "24", "--width", "32", "--seed", "1", *extra]


def test_a_masked_run_writes_metrics_and_prints_them(tiny_vgg, masked_inputs, tmp_path, capsys):
    content, style, mask, _ = masked_inputs
    out = tmp_path / "out"
    code = cli.main(cli_args(tiny_vgg, content, style, out, "--content-mask", mask,
                             "--region-style", "red=1", "blue=none", "--optimizer", "lbfgs"))
    printed = capsys.readouterr().out
    assert code == 0
    found = json.loads((out / "metrics.json").read_text())
    assert set(found) >= {"total_loss", "content_loss", "style_loss", "ssim_luminance",
                          "colour_distance_content", "colour_distance_styles"}
    assert 0 < found["ssim_luminance"] <= 1 and len(found["colour_distance_styles"]) == 1
    assert "metrics: total_loss=" in printed and "ssim_luminance=" in printed


def test_a_mask_of_another_size_but_the_same_shape_is_resized_with_a_note(
        tiny_vgg, masked_inputs, tmp_path, capsys):
    content, style, _, mask = masked_inputs
    larger = tmp_path / "inputs" / "larger.png"
    iio.imwrite(larger, np.repeat(np.repeat(mask, 2, axis=0), 2, axis=1))
    code = cli.main(cli_args(tiny_vgg, content, style, tmp_path / "out", "--content-mask",
                             str(larger), "--region-style", "red=1", "blue=1"))
    assert code == 0
    assert "note: --content-mask is " in capsys.readouterr().out


def snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", ["aspect", "unnamed colour", "absent colour", "unreadable",
                                  "missing region style"])
def test_bad_masks_are_one_line_and_exit_2_and_change_nothing(case, tiny_vgg, masked_inputs,
                                                              tmp_path, capsys):
    content, style, mask_path, mask = masked_inputs
    out = tmp_path / "out"
    assert cli.main(cli_args(tiny_vgg, content, style, out)) == 0
    before = snapshot(out)
    capsys.readouterr()
    wide = tmp_path / "inputs" / "wide.png"
    iio.imwrite(wide, np.concatenate([mask, mask], axis=1))
    notes = tmp_path / "inputs" / "notes.png"
    notes.write_text("not a picture")
    extra, expected = {
        "aspect": (["--content-mask", str(wide), "--region-style", "red=1", "blue=1"],
                   r"--content-mask is \d+x\d+ but its image is \d+x\d+: the aspect ratios"),
        "unnamed colour": (["--content-mask", mask_path, "--region-style", "red=1"],
                           r"--content-mask has \d+ pixels of colour #0000ff"),
        "absent colour": (["--content-mask", mask_path, "--region-style", "red=1", "blue=1",
                           "green=1"], r"--region-style names green, which --content-mask"),
        "unreadable": (["--content-mask", str(notes), "--region-style", "red=1"],
                       r"cannot read content mask image .*notes\.png"),
        "missing region style": (["--content-mask", mask_path],
                                 r"--content-mask and --region-style go together"),
    }[case]
    code = cli.main(cli_args(tiny_vgg, content, style, out, "--iterations", "4", *extra))
    err = capsys.readouterr().err
    assert code == exits.USAGE and len(err.strip().splitlines()) == 1
    assert re.search(expected, err), err
    assert snapshot(out) == before


def test_region_style_names_a_style_by_number_path_or_none():
    config = StyleConfig(style=("a.png", "b.png"), content_mask="m.png",
                         region_style=("red=2", "#00ff00=a.png", "0000ff=none"))
    assert config.region_styles() == [("red", 1), ("#00ff00", 0), ("0000ff", None)]
    for bad in ("red", "red=3", "red=c.png", "=1"):
        with pytest.raises(UsageError, match="--region-style"):
            dataclasses.replace(config, region_style=(bad,)).region_styles()
    with pytest.raises(UsageError, match="does not apply with --region-style"):
        dataclasses.replace(config, style_blend_weights=(1.0, 2.0)).check()


def test_auto_masks_passed_back_as_painted_ones_give_the_same_objective(
        tiny_layers, pictures, tiny_config, tmp_path):
    """The objective of ``--content-mask auto`` equals, bit for bit, that of the masks it made
    given back with ``--content-mask``, ``--style-mask`` and ``--region-style``."""
    content, style = pictures
    auto = dataclasses.replace(tiny_config, content_mask="auto:3")
    made = inputs.prepare(auto, content, [style]).masks
    painted = dataclasses.replace(tiny_config, content_mask="m.png", style_mask=("s.png",),
                                  region_style=tuple(f"{c}=1" for c, _ in auto.region_styles()))
    auto_losses, auto_gradient = first_evaluation(tiny_layers, auto, content, [style],
                                                  tmp_path / "auto")
    losses, gradient = first_evaluation(
        tiny_layers, painted, content, [style], tmp_path / "painted",
        content_mask=made[0].astype(np.float32), style_masks=[made[1].astype(np.float32)])
    assert losses == auto_losses
    np.testing.assert_array_equal(gradient, auto_gradient)
    plain_losses, _ = first_evaluation(tiny_layers, tiny_config, content, [style],
                                       tmp_path / "plain")
    assert plain_losses["style"] != auto_losses["style"]
