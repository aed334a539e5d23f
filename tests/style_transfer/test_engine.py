"""The engine: the loss falls, the schedule matches the tutorial, resume loses nothing, and one
graph serves every image of a batch and every level."""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from tf1cnn.common import images, runtime
from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.config import StyleConfig
from tf1cnn.style_transfer.control import inputs
from tf1cnn.style_transfer.network import vgg
from tf1cnn.style_transfer.objective import memory
from tf1cnn.style_transfer.optimise import engine, levels, stopping
from tf1cnn.style_transfer.optimise.records import LevelEnd, LevelStart, Progress, is_logged
from tf1cnn.style_transfer.shell.rundir import RunDir


def run_of(style_engine, content, styles, folders, **keywords):
    """``style_engine``'s run of ``content`` towards ``styles``, the inputs prepared."""
    return style_engine.run(inputs.prepare(style_engine.config, content, styles), folders,
                            **keywords)


def progress(records):
    return [r for r in records if isinstance(r, Progress)]


def optimise(layers, pictures, config, folder, resume=False):
    """(the Progress records, the final image) of one single-level run into ``folder``."""
    content, style = pictures
    with engine.Engine(layers, config) as style_engine:
        records = list(run_of(style_engine, content, [style], [RunDir(str(folder))],
                                        resume=resume).records())
    assert isinstance(records[0], LevelStart) and isinstance(records[-1], LevelEnd)
    return progress(records), records[-1].image


def test_loss_falls_and_records_follow_the_schedule(tiny_layers, pictures, tiny_config,
                                                    tmp_path):
    records, final = optimise(tiny_layers, pictures, tiny_config, tmp_path)
    assert [r.step for r in records] == [1, 2, 3, 4, 5, 10, 20, 30]
    losses = [r.losses["total"] for r in records]
    assert losses[-1] < 0.2 * losses[0]
    assert records[-1].pixel_sum == pytest.approx(final.sum(), rel=1e-6)
    np.testing.assert_allclose(
        records[-1].losses["total"],
        tiny_config.content_weight * records[-1].losses["content"]
        + tiny_config.style_weight * records[-1].losses["style"], rtol=1e-5)
    assert (tmp_path / "summaries").is_dir() and any((tmp_path / "summaries").iterdir())


def test_schedule_is_the_tutorials():
    logged = [s for s in range(1, 301) if is_logged(s, 300)]
    assert logged == [1, 2, 3, 4, 5, 10, 20] + list(range(40, 301, 20))
    assert is_logged(7, 7)  # the last step is always logged


def test_resumed_run_equals_an_uninterrupted_one(tiny_layers, pictures, tiny_config, tmp_path):
    short, long = (dataclasses.replace(tiny_config, iterations=n) for n in (5, 12))
    _, straight = optimise(tiny_layers, pictures, long, tmp_path / "straight")
    first, _ = optimise(tiny_layers, pictures, short, tmp_path / "split")
    second, resumed = optimise(tiny_layers, pictures, long, tmp_path / "split", resume=True)
    assert first[-1].step == 5 and [r.step for r in second] == [10, 12]
    # Adam's moments are restored too; a restart from the image alone would differ.
    np.testing.assert_allclose(resumed, straight, rtol=1e-4, atol=1e-2)


def test_initial_image_is_seeded_noise_blended_with_content(pictures, tiny_config):
    content, _ = pictures
    first = levels.initial_image(content, tiny_config)
    np.testing.assert_array_equal(first, levels.initial_image(content, tiny_config))
    assert not np.array_equal(first, levels.initial_image(
        content, dataclasses.replace(tiny_config, seed=4)))
    noise = (first - 0.4 * (content - np.asarray(tiny_config.mean_pixel))) / 0.6
    assert noise.min() >= -20 and noise.max() <= 20 and noise.std() > 10


def test_initial_noise_drawn_in_bands_is_the_one_draw_of_the_whole_image(tiny_config):
    content = np.random.default_rng(0).uniform(0, 255, (700, 600, 3)).astype(np.float32)
    noise = np.random.default_rng(tiny_config.seed).uniform(-20, 20, content.shape)
    whole = (noise * 0.6 + (content - np.asarray(tiny_config.mean_pixel)) * 0.4)
    np.testing.assert_array_equal(levels.initial_image(content, tiny_config),
                                  whole.astype(np.float32))


def test_absurd_size_is_refused_with_an_estimate():
    layers = vgg.trunk(vgg.random_layers(19, width_divisor=1), ["relu5_1"])
    huge = StyleConfig(height=100_000, width=100_000)
    with pytest.raises(UsageError, match=r"^100000x100000 needs about [\d.]+ GiB of memory even "
                                         r"in the smallest tiles \(16x16 pixels\), [\d.]+ GiB of "
                                         r"it for the runtime, and [\d.]+ GiB is available, of "
                                         r"which 1 GiB is kept free; use a smaller"):
        memory.plan(layers, [huge])
    assert memory.plan(layers, StyleConfig(scales=2).levels()) == [None, None]


def test_memory_estimate_grows_with_pixels():
    layers = vgg.trunk(vgg.random_layers(19), ["relu5_1"])
    small, large = (memory.memory_estimate(layers, s, s) for s in (256, 512))
    assert 3.5 < (large - memory.memory_estimate(layers, 1, 1)) / \
        (small - memory.memory_estimate(layers, 1, 1)) < 4.5


def test_lbfgs_loss_falls_within_pixel_bounds_and_counts_evaluations(tiny_layers, pictures,
                                                                     tiny_config, tmp_path):
    config = dataclasses.replace(tiny_config, optimizer="lbfgs", iterations=20)
    records, final = optimise(tiny_layers, pictures, config, tmp_path)
    assert [r.step for r in records] == [1, 2, 3, 4, 5, 10, 20]
    assert records[-1].losses["total"] < 0.2 * records[0].losses["total"]
    assert all(b.losses["total"] <= a.losses["total"] for a, b in itertools.pairwise(records))
    assert records[-1].evaluations >= 20
    assert final.min() >= -1e-3 and final.max() <= 255 + 1e-3
    np.testing.assert_allclose(records[-1].image, final, atol=1e-3)
    assert [r.checkpointed for r in records] == [False] * 4 + [True] * 3


def test_lbfgs_resumes_at_its_step_and_the_loss_keeps_falling(tiny_layers, pictures,
                                                             tiny_config, tmp_path):
    short, long = (dataclasses.replace(tiny_config, optimizer="lbfgs", iterations=n)
                   for n in (5, 15))
    first, _ = optimise(tiny_layers, pictures, short, tmp_path)
    second, _ = optimise(tiny_layers, pictures, long, tmp_path, resume=True)
    assert [r.step for r in second] == [10, 15]  # steps 6-15: history restarts, the image not
    assert second[0].evaluations > first[-1].evaluations
    assert second[-1].losses["total"] < second[0].losses["total"] < first[-1].losses["total"]


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_a_level_resumed_at_its_end_ends_with_its_final_losses(tiny_layers, pictures,
                                                              tiny_config, tmp_path, optimizer):
    """No step is left to record, so the LevelEnd evaluates the final image once: L-BFGS's
    last record was of that image; Adam's was of the image entering its last step, and one
    more step from there would record the LevelEnd's losses."""
    config = dataclasses.replace(tiny_config, optimizer=optimizer, iterations=6)
    content, style = pictures

    def run(iterations, resume):
        with engine.Engine(tiny_layers, dataclasses.replace(config, iterations=iterations)
                           ) as style_engine:
            return list(run_of(style_engine, content, [style], [RunDir(str(tmp_path))],
                                         resume=resume).records(lambda step, n: True))
    first = run(6, False)
    again = run(6, True)
    assert [type(r) for r in again] == [LevelStart, LevelEnd]
    end = again[-1]
    assert end.step == 6 and end.evaluations == first[-1].evaluations
    expected = first[-2].losses if optimizer == "lbfgs" else run(7, True)[1].losses
    assert end.losses == pytest.approx(expected, rel=1e-5)
    assert first[-1].losses == first[-2].losses  # a recorded last step: its record's


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_tolerance_stops_early_with_a_checkpoint(tiny_layers, pictures, tiny_config, tmp_path,
                                                 optimizer):
    config = dataclasses.replace(tiny_config, optimizer=optimizer, iterations=500,
                                 tolerance=0.05)
    records, _ = optimise(tiny_layers, pictures, config, tmp_path)
    last = records[-1]
    assert last.step < 500 and last.stopped and last.checkpointed
    assert all(not r.stopped for r in records[:-1])
    # A rerun, even one asking for more steps, ends the level where it stopped.
    more = dataclasses.replace(config, iterations=1000)
    with engine.Engine(tiny_layers, more) as style_engine:
        records = list(run_of(style_engine, pictures[0], pictures[1:], [RunDir(str(tmp_path))],
                                        resume=True).records())
    assert [type(r) for r in records] == [LevelStart, LevelEnd]
    assert records[0].resumed_at == last.step and records[0].ended == last.stopped
    np.testing.assert_allclose(records[-1].image, last.image, atol=1e-3)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_a_target_stops_at_the_first_step_whose_content_and_style_reach_it(
        tiny_layers, pictures, tiny_config, tmp_path, optimizer):
    config = dataclasses.replace(tiny_config, optimizer=optimizer, iterations=12, tv_weight=1.0)
    content, style = pictures
    with engine.Engine(tiny_layers, config) as style_engine:
        def run(folder, target=None):
            stops = stopping.StopRules.of_level([config], 0, target)
            return progress(run_of(style_engine, content, [style], [RunDir(str(folder))],
                                             stops=stops).records(lambda step, n: True))
        full = run(tmp_path / "full")
        found = [stopping.content_style(r.losses, config) for r in full]
        assert found[6] < found[5]  # the loss still falls there
        stopped = run(tmp_path / "target", target=found[6])
    last = stopped[-1]
    assert last.step == 7 and last.checkpointed
    assert last.stopped == f"content+style loss {found[6]:.6g} <= target {found[6]:.6g}"
    assert [r.losses["total"] for r in stopped] == pytest.approx(
        [r.losses["total"] for r in full[:7]], rel=1e-6)
    # The total counts the TV term; the target does not.
    assert last.losses["total"] > stopping.content_style(last.losses, config)


def test_content_style_weights_the_two_terms_as_the_total_does():
    config = StyleConfig(content_weight=0.5, style_weight=3.0)
    assert stopping.content_style({"content": 4.0, "style": 2.0, "tv": 9.0}, config) == 8.0
    values = {"content": 4.0, "style": 2.0}

    def rules(target):
        return stopping.StopRules.of_level([config], 0, target)
    assert rules(None).target_reached(values) == "" and rules(7.9).target_reached(values) == ""
    assert rules(8.0).target_reached(values) == "content+style loss 8 <= target 8"




def levels_run(layers, pictures, config, folder, resume=False, leave_after=None):
    """The records of a coarse-to-fine run into ``folder``; with ``leave_after``, the loop is
    left after the Progress record that many Progress records into the last level."""
    content, style = pictures
    out = RunDir(str(folder))
    folders = [out.level(c.height, c.width) for c in config.levels()[:-1]] + [out]
    found = []
    with engine.Engine(layers, config) as style_engine:
        for record in run_of(style_engine, content, [style], folders, resume=resume).records(
                schedule=lambda step, iterations: True):
            found.append(record)
            last_level = progress(r for r in found if r.level == config.scales - 1)
            if leave_after is not None and len(last_level) == leave_after:
                break
    return found


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_a_coarse_level_stops_on_its_evaluation_budget(tiny_layers, pictures, tiny_config,
                                                       tmp_path, optimizer):
    config = dataclasses.replace(tiny_config, optimizer=optimizer, scales=2, iterations=4,
                                 coarse_iterations=200, coarse_evaluations=9)
    records = progress(levels_run(tiny_layers, pictures, config, tmp_path))
    coarse = [r for r in records if r.level == 0]
    assert coarse[-1].stopped.startswith("evaluation budget 9 used")
    assert 9 <= coarse[-1].evaluations <= 9 + (0 if optimizer == "adam" else 20)
    assert len(coarse) < 200 and not any(r.stopped for r in coarse[:-1])
    assert [r.step for r in records if r.level == 1] == [1, 2, 3, 4]  # no budget at full size


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_a_level_that_stopped_early_is_not_optimised_again_on_resume(
        tiny_layers, pictures, tiny_config, tmp_path, optimizer):
    config = dataclasses.replace(tiny_config, optimizer=optimizer, scales=2, iterations=6,
                                 coarse_iterations=500, coarse_tolerance=0.05,
                                 checkpoint_every=100)
    straight = levels_run(tiny_layers, pictures, config, tmp_path / "straight")
    # Left during the full size before its first checkpoint: a rerun resumes the coarse level.
    levels_run(tiny_layers, pictures, config, tmp_path / "split", leave_after=2)
    resumed = levels_run(tiny_layers, pictures, config, tmp_path / "split", resume=True)
    coarse_end = progress(straight)[[r.level for r in progress(straight)].index(1) - 1]
    assert coarse_end.stopped.startswith("relative loss change")
    assert resumed[0].resumed_at == coarse_end.step and resumed[0].ended == coarse_end.stopped
    assert isinstance(resumed[1], LevelEnd) and resumed[1].level == 0
    assert [r.step for r in progress(resumed)] == list(range(1, 7))
    np.testing.assert_allclose(resumed[-1].image, straight[-1].image, rtol=1e-5, atol=1e-3)


def first_loss(layers, content, styles, config, folder):
    """The loss terms of the initial image (Adam's step 1 reports the image entering it)."""
    config = dataclasses.replace(config, iterations=1)
    with engine.Engine(layers, config) as style_engine:
        (record,) = progress(run_of(style_engine, content, styles, [RunDir(str(folder))]).records())
    return record


def test_several_styles_all_count_with_equal_weights_by_default(tiny_layers, pictures,
                                                                tiny_config, tmp_path):
    content, style = pictures
    other = np.ascontiguousarray(style[::-1, ::-1])
    config = dataclasses.replace(tiny_config, style=("a", "b"))
    both = first_loss(tiny_layers, content, [style, other], config, tmp_path / "both")
    one, two = (first_loss(tiny_layers, content, [s], tiny_config, tmp_path / name)
                for s, name in ((style, "one"), (other, "two")))
    first, second = one.losses["style"], two.losses["style"]
    assert first != pytest.approx(second, rel=1e-3)
    assert both.losses["style"] == pytest.approx((first + second) / 2, rel=1e-4)
    weighted = dataclasses.replace(config, style_blend_weights=(1.0, 3.0))
    blended = first_loss(tiny_layers, content, [style, other], weighted, tmp_path / "w")
    assert blended.losses["style"] == pytest.approx(0.25 * first + 0.75 * second, rel=1e-4)


def test_a_larger_style_image_is_compared_at_the_results_pixel_count(tiny_layers, pictures,
                                                                     tiny_config, tmp_path):
    """The style image at twice the size (``style_scale=2``) has Gram matrices summed over four
    times the pixels; rescaled to the result's pixel count, they give about the same loss."""
    content, style = pictures
    larger = images.resize(style, 2 * style.shape[0], 2 * style.shape[1])
    same = first_loss(tiny_layers, content, [style], tiny_config, tmp_path / "a")
    scaled = first_loss(tiny_layers, content, [larger], tiny_config, tmp_path / "b")
    assert scaled.losses["style"] == pytest.approx(same.losses["style"], rel=0.2)


def test_tv_weight_adds_the_total_variation(tiny_layers, pictures, tiny_config, tmp_path):
    content, style = pictures
    config = dataclasses.replace(tiny_config, tv_weight=2.0)
    record = first_loss(tiny_layers, content, [style], config, tmp_path)
    assert record.losses["tv"] > 0
    losses = record.losses
    assert losses["total"] == pytest.approx(
        0.01 * losses["content"] + losses["style"] + 2.0 * losses["tv"], rel=1e-5)


def test_initial_image_from_a_picture_is_that_picture_less_the_mean(pictures, tiny_config):
    content, style = pictures
    start = levels.initial_image(content, tiny_config, style)
    np.testing.assert_allclose(start + np.asarray(tiny_config.mean_pixel), style, atol=1e-4)


def test_lbfgs_and_a_larger_style_raise_the_estimate():
    layers = vgg.trunk(vgg.random_layers(19), ["relu5_1"])
    adam = memory.memory_estimate(layers, 1000, 1000)
    assert memory.memory_estimate(layers, 1000, 1000, "lbfgs") - adam == \
        memory.lbfgs_bytes_per_value() * 3_000_000
    assert memory.memory_estimate(layers, 1000, 1000, "adam", style_scale=3.0) > adam
    assert memory.memory_estimate(layers, 1000, 1000, "adam", style_scale=0.5) == adam


def test_leaving_lbfgs_early_and_save_keep_the_work(tiny_layers, pictures, tiny_config,
                                                    tmp_path):
    """What Ctrl-C or a caller's ``break`` does: the optimisation stops, the work is saved."""
    content, style = pictures
    config = dataclasses.replace(tiny_config, optimizer="lbfgs", iterations=50)
    with engine.Engine(tiny_layers, config) as style_engine:
        run = run_of(style_engine, content, [style], [RunDir(str(tmp_path))])
        records = run.records()
        for record in records:
            if isinstance(record, Progress) and record.step == 3:
                break
        records.close()
        step, image = run.save()
        assert step == 3
        np.testing.assert_allclose(image, record.image, atol=1e-3)
        assert runtime.latest_checkpoint(str(tmp_path / "checkpoints")).endswith("style-3")


def test_save_before_any_level_started_saves_nothing(tiny_layers, pictures, tiny_config,
                                                     tmp_path):
    with engine.Engine(tiny_layers, tiny_config) as style_engine:
        run = run_of(style_engine, *pictures[:1], pictures[1:], [RunDir(str(tmp_path))])
        assert run.level is None and run.save() is None
    assert not (tmp_path / "checkpoints").exists()


def test_every_image_of_a_batch_equals_its_own_single_run(tiny_layers, pictures, tiny_config,
                                                          tmp_path):
    """One engine, three images in a row: each result is the one a fresh engine gives it, so
    the optimiser's state (Adam's moments, the step) starts afresh and the targets follow."""
    content, style = pictures
    others = [content, np.ascontiguousarray(content[::-1]), style]
    config = dataclasses.replace(tiny_config, iterations=12, scales=2, coarse_iterations=4,
                                 height=32, width=40)
    with engine.Engine(tiny_layers, config) as shared:
        batch = [list(run_of(shared, picture, [style], [RunDir(str(tmp_path / f"b{k}" / "c")),
                                                    RunDir(str(tmp_path / f"b{k}"))]).records())
                 for k, picture in enumerate(others)]
    for k, (picture, records) in enumerate(zip(others, batch)):
        with engine.Engine(tiny_layers, config) as alone:
            single = list(run_of(alone, picture, [style], [RunDir(str(tmp_path / f"s{k}" / "c")),
                                                       RunDir(str(tmp_path / f"s{k}"))]).records())
        assert [type(r) for r in records] == [type(r) for r in single]
        for mine, theirs in zip(progress(records), progress(single)):
            assert mine.losses == pytest.approx(theirs.losses, rel=1e-5)
        np.testing.assert_allclose(records[-1].image, single[-1].image, rtol=1e-5, atol=1e-3)
    assert not np.allclose(batch[0][-1].image, batch[1][-1].image, atol=1.0)


def test_levels_share_one_graph_and_checkpoints_name_variables_as_if_alone(tiny_layers,
                                                                           tiny_config):
    config = dataclasses.replace(tiny_config, scales=2)
    with engine.Engine(tiny_layers, config) as style_engine:
        convolutions = [op for op in style_engine.graph.get_operations()
                        if op.type == "Const" and op.name.endswith("conv1_1_w")]
        assert len(convolutions) == 1  # the weights are in the graph once, for every level
        names = [sorted(style_engine.level(k).saver._var_list) for k in range(2)]
    assert names[0] == names[1]
    assert "input_image" in names[0] and "input_image/Adam" in names[0]


def test_adam_step_is_one_bare_step_of_the_started_level(tiny_layers, pictures, tiny_config,
                                                         tmp_path):
    content, style = pictures
    with engine.Engine(tiny_layers, tiny_config) as style_engine:
        run = run_of(style_engine, content, [style], [RunDir(str(tmp_path))])
        records = run.records()
        with pytest.raises(ValueError, match="adam_step"):
            run.adam_step  # no level has started yet
        next(records)  # LevelStart
        before = run.current_image()
        for _ in range(3):
            run.session.run(run.adam_step)
        assert run.step == 3
        assert not np.array_equal(run.current_image(), before)
        records.close()
    assert not list(tmp_path.iterdir())  # no checkpoint, summary or image of its own


def test_summaries_hold_the_losses_and_the_image_at_each_logged_step(tiny_layers, pictures,
                                                                      tiny_config, tmp_path):
    import tensorflow as tf

    config = dataclasses.replace(tiny_config, iterations=3, optimizer="lbfgs")
    optimise(tiny_layers, pictures, config, tmp_path)
    tags = {}
    for path in (tmp_path / "summaries").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append((event.step, value))
    assert [step for step, _ in tags["image"]] == [1, 2, 3]
    assert {"losses/total", "losses/content", "losses/style", "losses/tv"} <= set(tags)
    _, picture = tags["image"][-1]
    assert (picture.image.height, picture.image.width) == (tiny_config.height, tiny_config.width)


def test_a_summary_picture_is_at_most_512_pixels_on_its_long_side():
    from tf1cnn.style_transfer.optimise import summaries

    wide = summaries.picture(np.zeros((768, 1024, 3), np.float32))
    assert (wide.height, wide.width) == (384, 512)
    assert wide.encoded_image_string.startswith(b"\x89PNG")
    small = summaries.picture(np.zeros((30, 40, 3), np.float32))
    assert (small.height, small.width) == (30, 40)
