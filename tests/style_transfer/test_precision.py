"""The bfloat16 trunk: where its casts sit, how far its loss and gradient are from float32's,
tiled against untiled in bfloat16, and what the memory plan counts (what ``auto`` picks:
test_runtime.py). Then ``--precision`` on the command line: recorded in config.json as part of
the run, ``auto`` resolved before the run, kept by a resumed run, and never switched silently
(a tiled level: test_tiled.py; a video: test_video.py).

The tolerances were measured on the tiny random VGG19 of these tests (1/16 of the channels)
at six sizes from 64x80 to 203x317 and as many seeds, and are set with a margin over the
largest difference seen; ``python tests/style_transfer/test_precision.py`` prints them again.
A gradient's difference is measured as ||g' - g|| / ||g||.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tf1cnn.common import runtime
from tf1cnn.style_transfer.config import StyleConfig
from tf1cnn.style_transfer.network import vgg, vgg_graph
from tf1cnn.style_transfer.objective import losses, memory, tiled
from tf1cnn.style_transfer.optimise import engine
from tf1cnn.style_transfer.shell import cli

CONTENT = "relu4_2"
STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
WEIGHTS = (0.01, 1.0, 0.3)  # content, style, tv
LAYER_WEIGHTS = (0.2,) * len(STYLE)
# bfloat16 against float32, the same objective untiled. Largest measured: 1.0e-2 (a loss),
# 8.3e-2 (the gradient, whose cosine with float32's stayed above 0.996); the full-width random
# VGG19 at 96x128 and 128x160 stayed within 2.9e-3 and 2.6e-2.
PRECISION_LOSS, PRECISION_GRADIENT = 3e-2, 0.25
# Tiled against untiled, both bfloat16. The features agree to float32's rounding (losses within
# 2e-7), but each window's gradient is rounded to bfloat16 (2^-8 relative) before the windows
# are added up, so the gradient differs at that scale: 5.1e-3 at most.
TILED_LOSS, TILED_GRADIENT = 2e-6, 2e-2


def trunk(depth=19, seed=0):
    return vgg.trunk(vgg.random_layers(depth, 16, seed=seed), (CONTENT, *STYLE))


def graph_of(layers, precision, height=24, width=32):
    """A graph with the trunk applied once to an image placeholder, and its end points."""
    graph = tf.Graph()
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.float32, [1, height, width, 3], "image")
        end_points = vgg_graph.VGG(layers, precision=precision)(image)
    return graph, end_points


def conv_ops(graph):
    """Each convolution's Conv2D op, found from its bias addition (named after the layer)."""
    return {op.name.split("/")[-1]: op.inputs[0].op for op in graph.get_operations()
            if op.type == "BiasAdd"}


def test_bfloat16_casts_after_the_first_convolution_and_back_at_every_end_point():
    layers = trunk()
    graph, end_points = graph_of(layers, "bfloat16")
    convs = conv_ops(graph)
    assert list(convs)[:2] == ["conv1_1", "conv1_2"] and len(convs) == 13
    first, *rest = convs.values()
    assert all(op.type == "Conv2D" for op in convs.values())
    assert first.inputs[0].op.type == "Placeholder"  # the image, never cast
    assert first.inputs[0].dtype == first.inputs[1].dtype == tf.float32
    assert first.inputs[1].op.type == "Const"
    down = rest[0].inputs[0].op
    assert down.type == "Cast" and down.inputs[0].op.name == "vgg/relu1_1"
    for op in rest:  # filters stored once as bfloat16 constants, not cast per step
        assert op.inputs[1].op.type == "Const" and op.inputs[1].dtype == tf.bfloat16, op.name
        assert op.inputs[0].dtype == tf.bfloat16, op.name
    casts = [op for op in graph.get_operations() if op.type == "Cast"]
    assert all(op.inputs[0].op.type != "Const" for op in casts)
    assert sum(op.outputs[0].dtype == tf.bfloat16 for op in casts) == 1
    for name in (CONTENT, *STYLE):
        assert end_points[name].dtype == tf.float32, name
    assert end_points["relu1_1"].op.name == "vgg/relu1_1"  # float32 already: no cast
    assert end_points["relu2_1"].op.type == "Cast"
    assert end_points["relu2_1"].op.inputs[0].op.name == "vgg/relu2_1"


def test_float32_builds_no_cast_and_float32_constants():
    graph, end_points = graph_of(trunk(), "float32")
    assert not [op for op in graph.get_operations() if op.type == "Cast"]
    assert all(op.inputs[1].dtype == tf.float32 for op in conv_ops(graph).values())
    assert all(value.dtype == tf.float32 for value in end_points.values())


def test_an_unknown_precision_is_refused():
    with tf.Graph().as_default(), pytest.raises(ValueError, match="resolve 'auto'"):
        vgg_graph.VGG(trunk(), precision="auto")


def objective(layers, precision, image, content, style, tile=None):
    """(losses, gradient) of the Gatys objective at ``image`` [H, W, 3] through a trunk in
    ``precision``, its targets from the ``content`` and ``style`` pictures through that trunk
    untiled; with ``tile``, evaluated by a ``TiledEvaluator`` with tiles of that size."""
    height, width, _ = image.shape
    graph = tf.Graph()
    with graph.as_default():
        network = vgg_graph.VGG(layers, "avg", precision)
        picture = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3])
        ends = network(picture, "targets")
        targets = ends[CONTENT], [losses.gram_matrix(ends[name]) for name in STYLE]
        if tile is None:
            x = tf.compat.v1.placeholder(tf.float32, [1, height, width, 3])
            found = network(x)
            content_value = tf.compat.v1.placeholder(tf.float32, found[CONTENT].shape)
            grams_value = [tf.compat.v1.placeholder(tf.float32, [None, None]) for _ in STYLE]
            terms = {"content": losses.content_loss(found[CONTENT], content_value),
                     "style": losses.style_loss([found[name] for name in STYLE], grams_value,
                                                LAYER_WEIGHTS),
                     "tv": losses.total_variation_loss(x)}
            terms["total"] = losses.total_loss(terms["content"], terms["style"], terms["tv"],
                                               *WEIGHTS)
            gradient = tf.gradients(terms["total"], x)[0]
        else:
            network_ = tiled.TileNetwork(network, CONTENT, STYLE, 3)
            variable = tf.compat.v1.Variable(tf.zeros([1, height, width, 3]))
            evaluator = tiled.TiledEvaluator(network_, variable, tile, WEIGHTS, LAYER_WEIGHTS)
    with tf.compat.v1.Session(graph=graph) as session:
        features, _ = session.run(targets, {picture: content[None]})
        _, grams = session.run(targets, {picture: style[None]})
        if tile is not None:
            evaluator.load(features, [grams])
            return evaluator.evaluate(session, image[None])
        feed = {x: image[None], content_value: features, **dict(zip(grams_value, grams))}
        return session.run([terms, gradient], feed)


def differences(a, b):
    """The largest relative difference of the four losses, and the gradients' difference
    relative to the first's norm."""
    (losses_a, gradient_a), (losses_b, gradient_b) = a, b
    loss = max(abs(losses_b[name] - losses_a[name]) / abs(losses_a[name])
               for name in ("total", "content", "style", "tv"))
    return loss, float(np.linalg.norm(gradient_b - gradient_a) / np.linalg.norm(gradient_a))


def pictures(seed, height, width):
    """(image, content, style): two noise images and diagonal colour stripes, so that the
    style's Gram matrices are far from the image's, as a real style's are."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:height, :width]
    phase = (rows + cols)[:, :, None] * 0.3 + np.arange(3) * 2.0
    stripes = 80 * np.sin(phase) + rng.normal(0, 10, (height, width, 3))
    image, content = (rng.uniform(-60, 60, (height, width, 3)) for _ in range(2))
    return [picture.astype(np.float32) for picture in (image, content, stripes)]


@pytest.mark.parametrize("seed, height, width", [(0, 64, 80), (1, 99, 141)])
def test_bfloat16_loss_and_gradient_are_within_the_stated_tolerance_of_float32(
        seed, height, width):
    layers = trunk(seed=seed)
    image, content, style = pictures(seed, height, width)
    single = objective(layers, "float32", image, content, style)
    half = objective(layers, "bfloat16", image, content, style)
    loss, gradient = differences(single, half)
    assert loss <= PRECISION_LOSS and gradient <= PRECISION_GRADIENT, (loss, gradient)
    assert loss > 0  # it did run in bfloat16


@pytest.mark.parametrize("seed, height, width, size", [(1, 99, 141, 32), (2, 130, 100, 48)])
def test_bfloat16_tiles_are_within_the_stated_tolerance_of_untiled_bfloat16(
        seed, height, width, size):
    layers = trunk(seed=seed)
    image, content, style = pictures(seed, height, width)
    untiled = objective(layers, "bfloat16", image, content, style)
    tiles_ = objective(layers, "bfloat16", image, content, style, tile=size)
    loss, gradient = differences(untiled, tiles_)
    assert loss <= TILED_LOSS and gradient <= TILED_GRADIENT, (loss, gradient)


def test_bfloat16_activations_are_counted_at_their_size():
    layers = trunk()
    single = vgg.activation_bytes(layers, 64, 80)
    half = vgg.activation_bytes(layers, 64, 80, "bfloat16")
    sizes = vgg.shapes(layers, 64, 80)
    wide = sum(np.prod(sizes[name]) for name in ("conv1_1", "relu1_1"))
    assert half == 2 * single // 4 + 2 * wide + 2 * np.prod(sizes["relu1_1"])
    copies = vgg.activation_bytes(layers, 64, 80, "bfloat16", (CONTENT, *STYLE))
    assert copies - half == 4 * sum(np.prod(sizes[name]) for name in (CONTENT, *STYLE[1:]))


def test_the_bfloat16_plan_takes_larger_tiles_for_the_same_budget():
    layers = trunk()
    level = StyleConfig(height=800, width=600).levels()[-1]
    budget = memory.level_bytes(layers, level, 128)
    assert memory.plan(layers, [level], budget) == [128]
    assert memory.plan(layers, [level], budget, "float32") == [128]
    (size,) = memory.plan(layers, [level], budget, "bfloat16")
    assert size > 128
    whole = memory.memory_estimate(layers, 800, 600, outputs=(CONTENT, *STYLE))
    assert memory.memory_estimate(layers, 800, 600, precision="bfloat16",
                                  outputs=(CONTENT, *STYLE)) < whole


# The command line.

TINY = ["--height", "24", "--width", "32", "--seed", "1", "--iterations", "2"]


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(args, capsys) -> str:
    """The CLI's stdout for ``args``, which must succeed."""
    code = cli.main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def saved_precision(out: Path) -> tuple[str, str]:
    """The precision in config.json's config and in its settings (the run's identity)."""
    saved = json.loads((out / "config.json").read_text())
    return saved["config"]["precision"], saved["settings"]["precision"]


def answer(monkeypatch, supported: bool) -> None:
    """Simulate the processor check's answer for ``auto``."""
    monkeypatch.setattr(runtime, "bfloat16_supported", lambda *args, **kwargs: supported)


@pytest.fixture
def image_args(tmp_path, tiny_vgg, image_files):
    content, style = image_files
    return ["--vgg", tiny_vgg, "--content", content, "--style", style, "--output-dir",
            str(tmp_path / "out"), *TINY], tmp_path / "out"


def test_an_engine_runs_the_configs_precision_and_refuses_auto(tiny_layers):
    config = StyleConfig(height=24, width=32, precision="bfloat16")
    with engine.Engine(tiny_layers, config) as style_engine:
        assert any(op.type == "Conv2D" and op.outputs[0].dtype == tf.bfloat16
                   for op in style_engine.graph.get_operations())
    with pytest.raises(ValueError, match="resolve 'auto' first"):
        engine.Engine(tiny_layers, StyleConfig(precision="auto"))


def test_a_bfloat16_run_records_it_and_a_float32_rerun_starts_fresh_saying_why(image_args,
                                                                               capsys):
    args, out = image_args
    stdout = run([*args, "--precision", "bfloat16"], capsys)
    assert '"precision": "bfloat16"' in stdout.splitlines()[0]  # the config: line
    assert saved_precision(out) == ("bfloat16", "bfloat16")
    before = snapshot(out)
    stdout = run(args, capsys)  # float32, the default
    assert "starting fresh (settings changed: precision 'bfloat16' -> 'float32'; earlier run " \
           "moved to" in stdout
    assert saved_precision(out) == ("float32", "float32")
    (archived,) = (out / "archive").iterdir()
    assert snapshot(archived) == before
    assert (archived / "losses.csv").read_text() != (out / "losses.csv").read_text()


@pytest.mark.parametrize("supported, expected", [(False, "float32"), (True, "bfloat16")])
def test_auto_records_its_answer_and_a_resumed_run_keeps_it_on_another_processor(
        image_args, capsys, monkeypatch, supported, expected):
    args, out = image_args
    answer(monkeypatch, supported)
    stdout = run([*args, "--precision", "auto"], capsys)
    assert f'"precision": "{expected}"' in stdout.splitlines()[0]
    assert saved_precision(out) == (expected, expected)
    answer(monkeypatch, not supported)  # auto would now pick the other
    stdout = run([*args, "--precision", "auto", "--iterations", "3"], capsys)
    assert "resuming at step 2 (settings match the saved run)" in stdout
    assert saved_precision(out) == (expected, expected)
    other = "float32" if supported else "bfloat16"  # a fresh run decides afresh
    stdout = run([*args, "--precision", "auto", "--style-weight", "2"], capsys)
    assert f"settings changed: precision '{expected}' -> '{other}', style_weight" in stdout


def test_a_run_saved_before_the_option_resumes_in_float32_also_under_auto(image_args, capsys,
                                                                          monkeypatch):
    args, out = image_args
    run(args, capsys)
    saved = json.loads((out / "config.json").read_text())
    for part in ("config", "settings"):
        del saved[part]["precision"]  # as the version before it wrote it
    (out / "config.json").write_text(json.dumps(saved))
    answer(monkeypatch, True)
    stdout = run([*args, "--precision", "auto", "--iterations", "3"], capsys)
    assert "resuming at step 2 (settings match the saved run)" in stdout
    assert saved_precision(out) == ("float32", "float32")


def test_a_batch_runs_in_bfloat16_and_auto_keeps_each_folders_own(tmp_path, tiny_vgg,
                                                                  image_files, capsys,
                                                                  monkeypatch):
    content, style = image_files
    folder, out = tmp_path / "photos", tmp_path / "out"
    folder.mkdir()
    shutil.copy(content, folder / "first.png")
    shutil.copy(style, folder / "second.png")
    args = ["--vgg", tiny_vgg, "--content-dir", str(folder), "--style", style,
            "--output-dir", str(out), *TINY]
    stdout = run([*args, "--precision", "bfloat16"], capsys)
    assert stdout.count("starting fresh (new run)") == 2
    assert [saved_precision(out / name) for name in ("first", "second")] == \
        [("bfloat16", "bfloat16")] * 2
    shutil.rmtree(out / "second")
    answer(monkeypatch, False)  # the first keeps its bfloat16; the second is new: float32
    stdout = run([*args, "--precision", "auto", "--iterations", "3"], capsys)
    assert "resuming at step 2 (settings match" in stdout and "starting fresh (new run)" in stdout
    assert [saved_precision(out / name) for name in ("first", "second")] == \
        [("bfloat16", "bfloat16"), ("float32", "float32")]


if __name__ == "__main__":  # the measurement behind the tolerances
    for seed, height, width, size in [(0, 64, 80, 32), (1, 99, 141, 32), (2, 130, 100, 48),
                                      (3, 160, 200, 64), (4, 203, 317, 64), (5, 120, 90, 32)]:
        layers = trunk(seed=seed)
        image, content, style = pictures(seed, height, width)
        single = objective(layers, "float32", image, content, style)
        half = objective(layers, "bfloat16", image, content, style)
        tiles_ = objective(layers, "bfloat16", image, content, style, tile=size)
        print(f"{height}x{width} seed {seed}: bfloat16 vs float32 loss %.2e gradient %.2e; "
              f"tiles of {size} vs untiled loss %.2e gradient %.2e"
              % (*differences(single, half), *differences(half, tiles_)))
