"""Tiled evaluation: the same loss and gradient as the untiled network, tile by tile."""
from __future__ import annotations

import dataclasses
import json
import math
import re

import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow as tf

from tf1cnn.common import exits, images
from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.config import StyleConfig, parse_size
from tf1cnn.style_transfer.control import inputs, masks
from tf1cnn.style_transfer.network import vgg, vgg_graph
from tf1cnn.style_transfer.objective import losses, memory, tiled, tiles
from tf1cnn.style_transfer.optimise import engine
from tf1cnn.style_transfer.optimise.records import Progress
from tf1cnn.style_transfer.shell import cli
from tf1cnn.style_transfer.shell.rundir import RunDir

DEFAULT = ("relu4_2", ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"))
SHALLOW = ("relu2_2", ("relu1_1", "relu2_1", "relu3_1"))
DEEP = ("relu4_2", ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "relu5_4"))
WEIGHTS = (0.01, 1.0, 0.3)  # content, style, tv


def float64(layers):
    return [dataclasses.replace(layer, weights=layer.weights.astype(np.float64),
                                bias=layer.bias.astype(np.float64))
            if layer.kind == "conv" else layer for layer in layers]


class Problem:
    """One objective computed both ways in one float64 graph: untiled with the pure loss
    functions, and by a ``TiledEvaluator`` with tiles of ``size``."""

    def __init__(self, depth, pooling, content_layer, style_layers, height, width, size,
                 regions=None, blend=(1.0,), styled=None):
        rng = np.random.default_rng(depth + height)
        layers = vgg.trunk(float64(vgg.random_layers(depth, 16, seed=depth)),
                           (content_layer, *style_layers))
        self.layer_weights = np.linspace(1.0, 2.0, len(style_layers)) / len(style_layers)
        self.graph = tf.Graph()
        with self.graph.as_default():
            network = vgg_graph.VGG(layers, pooling)
            self.image = tf.compat.v1.placeholder(tf.float64, [1, height, width, 3])
            ends = network(self.image)
            self.picture = tf.compat.v1.placeholder(tf.float64, [1, None, None, 3])
            picture_ends = network(self.picture, "targets")
            self.content_target = picture_ends[content_layer]
            self.guided = regions is not None
            self.masks = [tf.compat.v1.placeholder(tf.float64, [None, None, None])
                          for _ in style_layers]
            if self.guided:
                self.target_grams = [
                    losses.guided_gram_matrices(picture_ends[name], mask)
                    for name, mask in zip(style_layers, self.masks)]
            else:
                self.target_grams = [losses.gram_matrix(picture_ends[name])
                                     for name in style_layers]
            self.content_value = tf.compat.v1.placeholder(tf.float64, ends[content_layer].shape)
            self.grams_value = [[tf.compat.v1.placeholder(tf.float64, [None, None])
                                 for _ in style_layers]
                                for _ in range(regions if self.guided else len(blend))]
            self.regions = [tf.compat.v1.placeholder(tf.float64, [None, None, regions])
                            for _ in style_layers]
            content = losses.content_loss(ends[content_layer], self.content_value)
            if self.guided:
                style = tf.add_n([
                    losses.guided_style_loss(
                        ends[name], region_masks,
                        [grams[index] if has else None
                         for grams, has in zip(self.grams_value, styled or [True] * regions)],
                        weight)
                    for index, (name, region_masks, weight) in enumerate(
                        zip(style_layers, self.regions, self.layer_weights))])
            else:
                style = losses.blended_style_loss([ends[name] for name in style_layers],
                                                  self.grams_value, self.layer_weights, blend)
            tv = losses.total_variation_loss(self.image)
            self.losses = {"content": content, "style": style, "tv": tv,
                           "total": losses.total_loss(content, style, tv, *WEIGHTS)}
            self.gradient = tf.gradients(self.losses["total"], self.image)[0]
            self.tile_network = tiled.TileNetwork(network, content_layer, style_layers, 3,
                                                  guided=self.guided)
            variable = tf.compat.v1.Variable(tf.zeros([1, height, width, 3], tf.float64))
            self.tiled = tiled.TiledEvaluator(self.tile_network, variable, size, WEIGHTS,
                                              self.layer_weights, blend)
        self.session = tf.compat.v1.Session(graph=self.graph)
        self.rng, self.layers, self.pooling = rng, layers, pooling
        self.style_layers, self.size = style_layers, size
        self.height, self.width, self.blend = height, width, blend

    def layer_masks(self, weights):
        found = masks.layer_masks(weights, self.layers, *weights.shape[:2], self.pooling)
        return [found[name].astype(np.float64) for name in self.style_layers]

    def load(self, content, styles, content_weights=None):
        """Targets computed untiled (fed to the reference) and tiled (given to the evaluator);
        the two agree first."""
        features = self.session.run(self.content_target, {self.picture: content[None]})
        tiled_features, _ = self.tile_network.forward(self.session, content, self.size,
                                                      grams=False)
        np.testing.assert_allclose(tiled_features, features, rtol=1e-9, atol=1e-9)
        feed = {self.content_value: features}
        if self.guided:
            layer_masks = self.layer_masks(content_weights)
            targets = []
            for region, style in enumerate(styles):
                if style is None:
                    targets.append(None)
                    continue
                region_masks = self.layer_masks(content_weights[:, :, region:region + 1])
                found = self.session.run(self.target_grams, {
                    self.picture: style[None], **dict(zip(self.masks, region_masks))})
                _, tiled_found = self.tile_network.forward(self.session, style, self.size,
                                                           content=False,
                                                           layer_masks=region_masks)
                for a, b in zip(found, tiled_found):
                    np.testing.assert_allclose(b, a, rtol=1e-9)
                targets.append([gram[0] / np.square(m).sum() if m.any() else 0 * gram[0]
                                for gram, m in zip(found, region_masks)])
            feed.update(dict(zip(self.regions, layer_masks)))
            feed.update({placeholder: grams[index] for grams, placeholders in
                         zip(targets, self.grams_value) if grams is not None
                         for index, placeholder in enumerate(placeholders)})
            self.tiled.load(features, targets, layer_masks)
        else:
            targets = []
            for style in styles:
                found = self.session.run(self.target_grams, {self.picture: style[None]})
                _, tiled_found = self.tile_network.forward(self.session, style, self.size,
                                                           content=False)
                for a, b in zip(found, tiled_found):
                    np.testing.assert_allclose(b[0], a, rtol=1e-9)
                targets.append(found)
            feed.update({placeholder: gram for grams, placeholders in
                         zip(targets, self.grams_value)
                         for gram, placeholder in zip(grams, placeholders)})
            self.tiled.load(features, targets)
        self.feed = feed

    def both(self, image):
        untiled = self.session.run([self.losses, self.gradient],
                                   {self.image: image, **self.feed})
        return untiled, self.tiled.evaluate(self.session, image)

    def random(self, scale=60.0):
        return self.rng.uniform(-scale, scale, (self.height, self.width, 3))


def assert_same(untiled, tiled_result, loss_tolerance=1e-9, gradient_tolerance=1e-9):
    (losses_a, gradient_a), (losses_b, gradient_b) = untiled, tiled_result
    for name in ("total", "content", "style", "tv"):
        assert losses_b[name] == pytest.approx(losses_a[name], rel=loss_tolerance), name
    error = np.abs(gradient_b - gradient_a).max() / np.abs(gradient_a).max()
    assert error <= gradient_tolerance, error


@pytest.mark.parametrize("depth, pooling, chosen, size", [
    (19, "avg", DEFAULT, 64),
    (19, "max", DEFAULT, 48),
    (16, "avg", DEFAULT, 64),
    (16, "max", SHALLOW, 32),
    (19, "avg", DEEP, 32),
    (19, "avg", DEFAULT, 16),  # tiles far smaller than the halo of 80
])
def test_tiled_loss_and_gradient_equal_the_untiled_ones(depth, pooling, chosen, size):
    problem = Problem(depth, pooling, *chosen, 203, 317, size)
    assert problem.tiled.tile_count > 4
    problem.load(problem.random(), [problem.random()])
    assert_same(*problem.both(problem.random()[None]))


def test_tiled_is_exact_near_convergence_where_the_gram_difference_cancels():
    problem = Problem(19, "avg", *DEFAULT, 99, 141, 32)
    target = problem.random()
    problem.load(target, [target])
    near = target + problem.rng.normal(0, 1e-3, target.shape)
    untiled, tiled_result = problem.both(near[None])
    assert untiled[0]["style"] < 1e-6 * problem.both(problem.random()[None])[0][0]["style"]
    assert_same(untiled, tiled_result, 1e-7, 1e-7)


def test_tiled_blends_several_styles():
    problem = Problem(19, "avg", *DEFAULT, 77, 90, 32, blend=(0.25, 0.75))
    problem.load(problem.random(), [problem.random(), problem.random()])
    assert_same(*problem.both(problem.random()[None]))


def test_tiled_guided_styles_by_region():
    problem = Problem(19, "avg", *DEFAULT, 96, 120, 32, regions=2)
    weights = np.zeros((96, 120, 2))
    weights[:, :50, 0] = 1.0
    weights[:, 50:, 1] = 1.0
    weights = masks.blend(weights, 6.0).astype(np.float64)
    problem.load(problem.random(), [problem.random(), problem.random()], weights)
    assert_same(*problem.both(problem.random()[None]))


def test_tiled_guided_regions_without_style_or_without_pixels_add_nothing():
    problem = Problem(16, "max", *DEFAULT, 90, 110, 32, regions=3,
                      styled=(True, False, True))
    weights = np.zeros((90, 110, 3))
    weights[:, :60, 0] = 1.0
    weights[:, 60:, 1] = 1.0  # region 2 covers nothing
    problem.load(problem.random(), [problem.random(), None, problem.random()], weights)
    assert_same(*problem.both(problem.random()[None]))


def test_tiles_cover_every_pixel_once_and_windows_start_on_the_grid():
    covered = np.zeros((203, 317), int)
    for tile in tiles.grid(203, 317, 48, 80, 16):
        covered[tile.top:tile.bottom, tile.left:tile.right] += 1
        assert tile.window_top % 16 == 0 and tile.window_left % 16 == 0
        assert tile.window_top == max(0, tile.top - 80)
        assert tile.window_bottom == min(203, tile.bottom + 80)
        top, bottom, left, right = tile.interior
        assert (bottom - top, right - left) == (tile.bottom - tile.top, tile.right - tile.left)
    assert (covered == 1).all()
    assert tiles.count(203, 317, 48) == len(list(tiles.grid(203, 317, 48, 80, 16))) == 5 * 7
    assert tiles.window_size(203, 317, 48, 80) == (203, 208)
    with pytest.raises(ValueError, match="multiples"):
        list(tiles.grid(10, 10, 20, 8, 16))


def test_halo_is_the_widening_rounded_up_to_the_stride():
    assert vgg.halo(vgg.random_layers(19, 16), "relu5_1") == 80
    assert vgg.halo(vgg.random_layers(16, 16), "relu5_1") == 64
    assert vgg.halo(vgg.random_layers(19, 16), "relu3_1") == 12  # 2 + 4 + 4 = 10, stride 4
    assert vgg.halo(vgg.random_layers(19, 16), "relu5_4") == 128  # 70 + 3 * 16 = 118
    assert vgg.strides(vgg.random_layers(19, 16))["relu4_2"] == 8


# Through the engine, in float32 as a run uses it.

SIZE = (100, 130)


def engine_pictures(synthetic_image, shape=SIZE):
    return [images.fit(images.to_rgb(synthetic_image(seed)), *shape) for seed in (1, 2, 3)]


def first_evaluation(layers, config, tiles_, pictures, folder, **controls):
    """(losses, gradient) at a single-level run's initial image, with these tile sizes."""
    content, *styles = pictures
    with engine.Engine(layers, config, tiles_) as style_engine:
        run = style_engine.run(inputs.prepare(config, content, styles[:len(config.style)],
                                              **controls), [RunDir(str(folder))])
        records = run.records()
        next(records)  # LevelStart: targets and start image are loaded
        found = style_engine.level(-1).evaluator.evaluate(style_engine.session)
        records.close()
    return found


def stripes(shape):
    mask = np.zeros((*shape, 3), np.float32)
    mask[:, : shape[1] // 2] = (255, 0, 0)
    mask[:, shape[1] // 2:] = (0, 0, 255)
    return mask


@pytest.mark.parametrize("changes", [
    {},
    {"colour_control": "luminance"},
    {"style": ("a", "b"), "style_blend_weights": (1.0, 3.0), "style_scale": 1.5},
    {"content_mask": "m.png", "region_style": ("red=1", "blue=none")},
])
def test_a_tiled_level_evaluates_as_the_untiled_one(tiny_layers, synthetic_image, tmp_path,
                                                    changes):
    config = dataclasses.replace(StyleConfig(height=SIZE[0], width=SIZE[1], seed=3,
                                             tv_weight=0.5, style=("a",)), **changes)
    pictures = engine_pictures(synthetic_image)
    controls = {"content_mask": stripes(SIZE)} if config.content_mask else {}
    plain = first_evaluation(tiny_layers, config, None, pictures, tmp_path / "a", **controls)
    tiled_ = first_evaluation(tiny_layers, config, [32], pictures, tmp_path / "b", **controls)
    for name in ("total", "content", "style", "tv"):
        assert tiled_[0][name] == pytest.approx(plain[0][name], rel=1e-5), name
    assert np.abs(tiled_[1] - plain[1]).max() / np.abs(plain[1]).max() <= 1e-4


def run_to_end(layers, config, tiles_, pictures, folder, resume=False, stop_at=None):
    """The last Progress and final image of a run; with ``stop_at``, leave at that step and
    save, as Ctrl-C does."""
    content, style = pictures[:2]
    folders = [RunDir(str(folder / f"l{k}")) for k in range(config.scales - 1)] + \
        [RunDir(str(folder))]
    with engine.Engine(layers, config, tiles_) as style_engine:
        run = style_engine.run(inputs.prepare(config, content, [style]), folders, resume=resume)
        last = None
        for record in run.records(lambda step, iterations: True):
            if isinstance(record, Progress):
                last = record
                if stop_at is not None and record.level == config.scales - 1 and \
                        record.step == stop_at:
                    run.save()
                    return last, None
        return last, record.image


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_a_tiled_coarse_to_fine_run_follows_the_untiled_one_and_resumes(
        tiny_layers, synthetic_image, tmp_path, optimizer):
    config = StyleConfig(height=SIZE[0], width=SIZE[1], seed=3, optimizer=optimizer,
                         iterations=8, scales=2, coarse_iterations=4, checkpoint_every=100)
    pictures = engine_pictures(synthetic_image)
    plain, plain_image = run_to_end(tiny_layers, config, None, pictures, tmp_path / "a")
    tiled_, tiled_image = run_to_end(tiny_layers, config, [None, 32], pictures, tmp_path / "b")
    assert tiled_.losses["total"] == pytest.approx(plain.losses["total"], rel=1e-3)
    assert np.abs(tiled_image - plain_image).mean() < 0.05
    stopped, _ = run_to_end(tiny_layers, config, [None, 32], pictures, tmp_path / "c",
                            stop_at=5)
    resumed, resumed_image = run_to_end(tiny_layers, config, [None, 32], pictures,
                                        tmp_path / "c", resume=True)
    assert stopped.step == 5 and resumed.step == 8
    if optimizer == "adam":  # L-BFGS restarts its curvature history on resume
        np.testing.assert_allclose(resumed_image, tiled_image, atol=0.05)
    else:
        assert resumed.losses["total"] < stopped.losses["total"]


# The memory plan and the command line.

def tiny_trunk(tiny_layers):
    return vgg.trunk(tiny_layers, ["relu4_2", "relu5_1"])


def test_the_plan_tiles_only_what_does_not_fit_and_takes_the_largest_tiles_that_do(
        tiny_layers):
    layers = tiny_trunk(tiny_layers)
    levels = StyleConfig(height=800, width=600, scales=2).levels()
    whole = memory.memory_estimate(layers, 800, 600) - memory.runtime_bytes(layers)
    budget = memory.level_bytes(layers, levels[1], 128)
    assert budget < whole
    assert memory.plan(layers, levels, budget) == [None, 128]
    assert memory.level_bytes(layers, levels[1], 144) > budget
    assert memory.plan(layers, levels, whole) == [None, None]
    least = memory.level_bytes(layers, levels[1], 16)
    given = math.ceil(least / 2**30 * 10) / 10
    with pytest.raises(UsageError, match=rf"give --max-memory {given:.1f}G or more"):
        memory.plan(layers, levels, least - 1)
    assert memory.plan(layers, levels, least) == [None, 16]
    assert memory.plan(layers, levels, parse_size(f"{given}G"))[0] is None
    # Refused for the largest level, whose budget then serves every level.
    three = StyleConfig(height=3200, width=2400, scales=3).levels()
    with pytest.raises(UsageError, match=r"^3200x2400 needs"):
        memory.plan(layers, three, memory.level_bytes(layers, three[1], 16))


def test_a_refusal_says_what_is_available_and_kept_free(tiny_layers, monkeypatch):
    layers = tiny_trunk(tiny_layers)
    monkeypatch.setattr(memory, "available_memory", lambda: 2**30)
    with pytest.raises(UsageError, match=r"^4000x4000 needs about [\d.]+ GiB of memory even in "
                                         r"the smallest tiles .* and 1\.0 GiB is available, of "
                                         r"which 1 GiB is kept free; use a smaller "
                                         r"--height/--width or --style-scale, --optimizer adam "
                                         r"or fewer --lbfgs-corrections$"):
        memory.plan(layers, [StyleConfig(height=4000, width=4000, optimizer="lbfgs",
                                         style_scale=2.0)])


@pytest.mark.parametrize("text, size", [("6G", 6 * 2**30), ("6GiB", 6 * 2**30),
                                        ("512m", 512 * 2**20), ("1.5g", int(1.5 * 2**30)),
                                        ("1000", 1000), (" 2 TB ", 2 * 2**40)])
def test_sizes_are_read_in_binary_units(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["6x", "6ib", "G", "-1G", ""])
def test_an_unreadable_size_is_refused(text):
    with pytest.raises(UsageError, match="--max-memory wants a size such as 6G"):
        parse_size(text)


def test_a_run_over_budget_is_tiled_and_gives_the_untiled_result(tiny_vgg, tiny_layers,
                                                                 image_files, tmp_path, capsys):
    content, style = image_files
    common = ["--vgg", tiny_vgg, "--content", content, "--style", style, "--height", "400",
              "--width", "400", "--iterations", "2", "--seed", "1"]
    budget = memory.level_bytes(tiny_trunk(tiny_layers), StyleConfig(height=400, width=400),
                                64)
    assert cli.main([*common, "--output-dir", str(tmp_path / "tiled"), "--max-memory",
                     str(budget)]) == exits.OK
    out = capsys.readouterr().out
    assert re.search(r"^memory: level 1/1, 400x400 in 49 tiles of up to 64x64 pixels with a "
                     r"80-pixel halo; about [\d.]+ GiB beyond the runtime's [\d.]+$", out,
                     re.MULTILINE), out
    assert cli.main([*common, "--output-dir", str(tmp_path / "whole")]) == exits.OK
    assert "memory:" not in capsys.readouterr().out
    tiled_, whole = (iio.imread(tmp_path / name / "result.png").astype(float)
                     for name in ("tiled", "whole"))
    assert np.abs(tiled_ - whole).max() <= 1


def test_a_bfloat16_run_is_planned_with_bfloat16_activations(tiny_vgg, tiny_layers,
                                                             image_files, tmp_path, capsys):
    content, style = image_files
    budget = memory.level_bytes(tiny_trunk(tiny_layers), StyleConfig(height=400, width=400),
                                64, "bfloat16")
    assert memory.plan(tiny_trunk(tiny_layers), [StyleConfig(height=400, width=400)],
                       budget) != [64]  # float32 would need smaller tiles
    out = tmp_path / "out"
    assert cli.main(["--vgg", tiny_vgg, "--content", content, "--style", style, "--height",
                     "400", "--width", "400", "--iterations", "1", "--seed", "1",
                     "--output-dir", str(out), "--max-memory", str(budget),
                     "--precision", "bfloat16"]) == exits.OK
    assert re.search(r"^memory: level 1/1, 400x400 in 49 tiles of up to 64x64 pixels",
                     capsys.readouterr().out, re.MULTILINE)
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["precision"] == saved["settings"]["precision"] == "bfloat16"
