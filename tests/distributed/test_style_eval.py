"""``tf1cnn-cluster eval`` on a style network's folder: its files, its yardstick, its errors.

The folder is made here, as the trainer leaves it but in seconds: ``style_net.build`` with a
random VGG16 of 1/16 the channels, Adam, and a Saver that keeps a checkpoint before and after
three steps, with the chief's summaries and checkpoint records in an events file. Its run.json
trains with relu2_2 content, which eval must ignore for the style tool's relu4_2.
"""
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tf1cnn.common import images, samples
from tf1cnn.distributed import cli, pictures, style_eval, style_net
from tf1cnn.distributed.config import TrainConfig
from tf1cnn.distributed.style_config import StyleNetConfig
from tf1cnn.style_transfer.config import StyleConfig
from tf1cnn.style_transfer.network import download, matconvnet, transform, vgg, vgg_graph, weights

v1 = tf.compat.v1
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ps_cluster.py"
SIZE = 16  # held-out crops: the smallest that keeps a relu5_1 pixel
STEPS = 3


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The VGG weight cache in a folder of this module's own, also for its subprocesses."""
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("cache")
        patch.setenv("TF1CNN_CACHE", str(folder))
        yield folder


def write_vgg(path: Path, seed: int) -> str:
    matconvnet.write_layers(path, vgg.random_layers(16, width_divisor=16, seed=seed))
    return str(path)


@pytest.fixture(scope="module")
def tiny_vgg(tmp_path_factory) -> str:
    return write_vgg(tmp_path_factory.mktemp("vgg") / "tiny16.mat", seed=0)


def _train(folder: Path, net: StyleNetConfig, layers) -> None:
    style = images.read_rgb(samples.sample(samples.SAMPLE_STYLE), "style")
    crops = pictures.Crops(pictures.training_sources(None), net.crop, seed=0)
    with tf.Graph().as_default():
        v1.set_random_seed(0)
        built = style_net.build(net, layers, style, pictures.held_out(1, net.crop)[0],
                                "/cpu:0", "/cpu:0")
        step = v1.train.get_or_create_global_step()
        train = v1.train.AdamOptimizer(0.05).minimize(built.losses.total, global_step=step)
        v1.summary.scalar("loss", built.losses.total)
        summaries = v1.summary.merge_all()
        saver = v1.train.Saver()
        writer = v1.summary.FileWriter(str(folder))
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            session.run(v1.local_variables_initializer(), built.local_feed)
            for k in range(STEPS + 1):
                if k:
                    found, _ = session.run([summaries, train], {built.pictures: crops.batch(1)})
                    writer.add_summary(found, k)
                if k in (0, STEPS):
                    saved = saver.save(session, str(folder / "model.ckpt"), global_step=k)
                    writer.add_session_log(v1.SessionLog(status=v1.SessionLog.CHECKPOINT,
                                                         checkpoint_path=saved), k)
        writer.close()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, cache, tiny_vgg) -> Path:
    """A style network's folder with checkpoints at global steps 0 and STEPS."""
    folder = tmp_path_factory.mktemp("style-net")
    net = StyleNetConfig(vgg=tiny_vgg, width=0.125, crop=16, batch=1, content_layer="relu2_2")
    layers = weights.load(tiny_vgg, net.layers).layers
    settings = {**TrainConfig(model="style-net").run_settings(), **net.settings(),
                "style_sha256": download.file_sha256(samples.sample(samples.SAMPLE_STYLE)),
                "vgg_sha256": download.file_sha256(tiny_vgg)}
    (folder / "run.json").write_text(json.dumps(settings))
    _train(folder, net, layers)
    return folder


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def eval_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("eval: ")]


def test_eval_writes_the_sheet_the_loss_figure_and_held_out_json(trained, tiny_vgg, tmp_path):
    before = snapshot(trained)
    sheet = tmp_path / "sheet.png"
    done = subprocess.run([sys.executable, str(SCRIPT), "eval", "--checkpoint-dir",
                           str(trained), "--vgg", tiny_vgg, "--held-out-size", str(SIZE),
                           "--output", str(sheet)], check=False, capture_output=True,
                          text=True, timeout=240,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert done.returncode == 0, done.stderr
    lines = eval_lines(done.stdout)
    assert [line.split()[1:3] for line in lines] == [
        [f"checkpoint={trained / 'model.ckpt-0'}", "global_step=0"],
        [f"checkpoint={trained / f'model.ckpt-{STEPS}'}", f"global_step={STEPS}"]]
    figure = tmp_path / "sheet_loss.png"
    saved = tmp_path / "held_out.json"
    assert [line for line in done.stdout.splitlines() if line.startswith("saved: ")] == [
        f"saved: {sheet}", f"saved: {figure}", f"saved: {saved}"]
    for path in (sheet, figure):
        with Image.open(path) as picture:
            assert picture.format == "PNG" and picture.width > 400
    found = json.loads(saved.read_text())
    assert found["held_out"] == {"count": 8, "size": SIZE}
    assert found["objective"]["content_layer"] == "relu4_2"  # not training's relu2_2
    steps = found["checkpoints"]
    assert [s["global_step"] for s in steps] == [0, STEPS]
    assert 0 <= steps[0]["seconds"] <= steps[1]["seconds"]
    assert steps[0]["loss"] != steps[1]["loss"]  # the weights changed, so did the loss
    for s, line in zip(steps, lines):
        assert f"held_out_loss={s['loss']:.6g}" in line
    assert snapshot(trained) == before  # --output elsewhere: the run's folder is untouched


def test_held_out_loss_is_the_style_tools_objective_on_all_crops_at_once(trained, tiny_vgg):
    """score's mean of one-crop passes equals one batch of all 8 through style_net.objective
    with StyleConfig's layers and weights, not training's (the run trained at its own content
    weight), restored from the latest checkpoint; each crop's terms are that crop's alone
    through the same objective; and a rerun agrees."""
    settings = json.loads((trained / "run.json").read_text())
    assert settings["content_weight"] == StyleNetConfig.content_weight != \
        StyleConfig.content_weight
    kept = style_eval.kept_checkpoints(str(trained))[-1:]
    style = images.read_rgb(samples.sample(samples.SAMPLE_STYLE), "style")
    judge = dataclasses.replace(StyleNetConfig(crop=SIZE, batch=8), **{
        name: getattr(StyleConfig, name) for name in (
            "content_layer", "style_layers", "style_layer_weights", "content_weight",
            "style_weight", "tv_weight", "mean_pixel", "pooling")})
    assert dataclasses.replace(judge, batch=1) == style_eval.judge(SIZE)
    layers = weights.load(tiny_vgg, judge.layers).layers
    crops = pictures.held_out(8, SIZE)
    (first,) = style_eval.score(kept, settings["width"], layers, style, crops)
    (again,) = style_eval.score(kept, settings["width"], layers, style, crops)
    assert (again.loss, again.content, again.style) == (first.loss, first.content, first.style)
    grams = style_net.style_grams(layers, judge, style)
    with tf.Graph().as_default():
        batch = tf.constant(crops)
        styled = transform.stylise(batch, settings["width"])
        expected = style_net.objective(vgg_graph.VGG(layers), styled, batch,
                                       [tf.constant(g) for g in grams], judge)
        one = v1.placeholder(tf.float32, [1, SIZE, SIZE, 3])
        alone = style_net.objective(vgg_graph.VGG(layers), transform.stylise(
            one, settings["width"]), one, [tf.constant(g) for g in grams],
            dataclasses.replace(judge, batch=1))
        saver = v1.train.Saver(v1.trainable_variables())
        with v1.Session() as session:
            saver.restore(session, kept[0].path)
            expected, pixels = session.run([expected, styled])
            each = [session.run(list(alone), {one: crop[None]}) for crop in crops]
    assert first.global_step == STEPS
    assert first.loss == pytest.approx(expected.total, rel=1e-4)
    assert first.content == pytest.approx(expected.content, rel=1e-4)
    assert first.style == pytest.approx(expected.style, rel=1e-4)
    np.testing.assert_allclose(first.styled, pixels, atol=1e-2)
    assert first.per_crop.shape == (8, 4)
    np.testing.assert_allclose(first.per_crop, np.asarray(each, np.float64), rtol=1e-4)
    assert len({round(float(row[0]), 3) for row in first.per_crop}) == 8  # not one row copied


def fails(capsys, argv, message):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err, err


def test_default_outputs_go_beside_the_checkpoints(trained, tiny_vgg, tmp_path, capsys):
    """A copied folder still reads (its checkpoint list names the old paths)."""
    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    assert cli.main(["eval", "--checkpoint-dir", str(copy), "--vgg", tiny_vgg,
                     "--held-out-size", str(SIZE)]) == 0
    out = capsys.readouterr().out
    assert len(eval_lines(out)) == 2 and str(copy / "model.ckpt-0") in out
    for name in ("held_out.png", "held_out_loss.png", "held_out.json"):
        assert (copy / name).is_file()


def test_another_style_picture_or_vgg_is_one_line(trained, tiny_vgg, tmp_path, capsys):
    before = snapshot(trained)
    other = tmp_path / "other.png"
    Image.new("RGB", (32, 32), (200, 30, 30)).save(other)
    fails(capsys, ["eval", "--checkpoint-dir", str(trained), "--vgg", tiny_vgg, "--style",
                   str(other)], f"--style {other} is not the style picture this network was "
                                f"trained with")
    other_vgg = write_vgg(tmp_path / "other.mat", seed=1)
    fails(capsys, ["eval", "--checkpoint-dir", str(trained), "--vgg", other_vgg],
          f"--vgg {other_vgg} is not the VGG this network was trained with")
    assert snapshot(trained) == before


def test_no_checkpoint_or_a_corrupt_one_is_one_line(trained, tiny_vgg, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(trained / "run.json", empty)
    fails(capsys, ["eval", "--checkpoint-dir", str(empty)], f"no checkpoint in {empty}")
    assert sorted(p.name for p in empty.iterdir()) == ["run.json"]
    broken = tmp_path / "broken"
    shutil.copytree(trained, broken)
    (broken / f"model.ckpt-{STEPS}.data-00000-of-00001").write_bytes(b"not a checkpoint")
    before = snapshot(broken)
    fails(capsys, ["eval", "--checkpoint-dir", str(broken), "--vgg", tiny_vgg,
                   "--held-out-size", str(SIZE)], f"cannot restore {broken}/model.ckpt-{STEPS}")
    assert snapshot(broken) == before


def test_options_that_do_not_fit_the_run(trained, tmp_path, capsys):
    toy = tmp_path / "toy"
    toy.mkdir()
    (toy / "run.json").write_text(json.dumps(TrainConfig().run_settings()))
    fails(capsys, ["eval", "--checkpoint-dir", str(toy), "--style", "x.png", "--vgg", "y.mat"],
          f"--style --vgg are for a style network's run; {toy} holds the toy model's")
    fails(capsys, ["eval", "--checkpoint-dir", str(trained), "--show"],
          "--show is for the toy model's eval")
    fails(capsys, ["eval", "--checkpoint-dir", str(trained), "--held-out-size", "8"],
          "--held-out-size must be at least 16 pixels")
