"""The optimisation: the loss falls, the schedule matches the tutorial, resume loses nothing."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tf1cnn.style_transfer import stylize, vgg
from tf1cnn.style_transfer.errors import UsageError


def optimise(layers, pictures, config, folder, resume=False):
    content, style = pictures
    with stylize.Stylizer(layers, content, [style], config, str(folder / "ckpt"),
                          str(folder / "summaries")) as run:
        if not (resume and run.resume() is not None):
            run.start(stylize.initial_image(content, config))
        records = list(run.steps())
        return records, run.current_image()


def test_loss_falls_and_records_follow_the_schedule(tiny_layers, pictures, tiny_config,
                                                    tmp_path):
    records, final = optimise(tiny_layers, pictures, tiny_config, tmp_path)
    assert [r.step for r in records] == [1, 2, 3, 4, 5, 10, 20, 30]
    losses = [r.total_loss for r in records]
    assert losses[-1] < 0.2 * losses[0]
    assert records[-1].pixel_sum == pytest.approx(final.sum(), rel=1e-6)
    np.testing.assert_allclose(
        records[-1].total_loss,
        tiny_config.content_weight * records[-1].content_loss
        + tiny_config.style_weight * records[-1].style_loss, rtol=1e-5)
    assert (tmp_path / "summaries").is_dir() and any((tmp_path / "summaries").iterdir())


def test_schedule_is_the_tutorials():
    logged = [s for s in range(1, 301) if stylize.is_logged(s, 300)]
    assert logged == [1, 2, 3, 4, 5, 10, 20] + list(range(40, 301, 20))
    assert stylize.is_logged(7, 7)  # the last step is always logged


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
    first = stylize.initial_image(content, tiny_config)
    np.testing.assert_array_equal(first, stylize.initial_image(content, tiny_config))
    assert not np.array_equal(first, stylize.initial_image(
        content, dataclasses.replace(tiny_config, seed=4)))
    noise = (first - 0.4 * (content - np.asarray(tiny_config.mean_pixel))) / 0.6
    assert noise.min() >= -20 and noise.max() <= 20 and noise.std() > 10


def test_absurd_size_is_refused_with_an_estimate():
    layers = vgg.trunk(vgg.random_layers(19, width_divisor=1), ["relu5_1"])
    with pytest.raises(UsageError, match=r"^100000x100000 needs about [\d.]+ GiB of memory, and "
                                         r"[\d.]+ GiB is available; use a smaller"):
        stylize.check_memory(layers, 100_000, 100_000)
    stylize.check_memory(layers, 250, 333)  # the default size fits


def test_memory_estimate_grows_with_pixels():
    layers = vgg.trunk(vgg.random_layers(19), ["relu5_1"])
    small, large = (stylize.memory_estimate(layers, s, s) for s in (256, 512))
    assert 3.5 < (large - stylize.memory_estimate(layers, 1, 1)) / \
        (small - stylize.memory_estimate(layers, 1, 1)) < 4.5
