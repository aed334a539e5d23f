"""The config: blend weights, coarse-to-fine levels, the bounds and the settings that define a
run, all derived from the fields' metadata."""
from __future__ import annotations

import dataclasses

import pytest

from tf1cnn.common import options
from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer import config as style_config
from tf1cnn.style_transfer.config import StyleConfig, complete_settings


def test_no_blend_weights_weigh_every_style_equally():
    config = StyleConfig(style=("a.png", "b.png", "c.png"))
    assert config.blend_weights() == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert StyleConfig().blend_weights() == (1.0,)  # the bundled style


def test_blend_weights_are_normalised():
    config = StyleConfig(style=("a.png", "b.png"), style_blend_weights=(3.0, 1.0))
    assert config.blend_weights() == pytest.approx((0.75, 0.25))
    assert StyleConfig(style=("a.png", "b.png"), style_blend_weights=(0.0, 2.0)) \
        .blend_weights() == pytest.approx((0.0, 1.0))


@pytest.mark.parametrize("weights, message", [
    ((1.0,), r"--style-blend-weights has 1 values for 2 style images"),
    ((1.0, -1.0), r"must be non-negative and not all zero, got 1.0 -1.0"),
    ((0.0, 0.0), r"must be non-negative and not all zero, got 0.0 0.0"),
])
def test_bad_blend_weights_are_refused(weights, message):
    with pytest.raises(UsageError, match=message):
        StyleConfig(style=("a.png", "b.png"), style_blend_weights=weights).check()


def test_levels_halve_the_size_coarsest_first_and_end_with_the_config():
    config = StyleConfig(height=250, width=333, scales=3, coarse_iterations=40)
    levels = config.levels()
    assert [(c.height, c.width, c.iterations) for c in levels] == [
        (62, 83, 40), (125, 166, 40), (250, 333, 300)]
    assert levels[-1] is config
    assert StyleConfig().levels() == [StyleConfig()]


def test_coarse_levels_stop_at_the_coarse_tolerance_and_the_full_size_at_its_own():
    config = StyleConfig(scales=3, tolerance=1e-3, coarse_tolerance=0.01, coarse_evaluations=7)
    assert [c.tolerance for c in config.levels()] == [0.01, 0.01, 1e-3]
    assert {c.coarse_evaluations for c in config.levels()} == {7}


def test_too_many_scales_are_refused():
    with pytest.raises(UsageError, match=r"--scales 7 makes the coarsest level 4 pixels"):
        StyleConfig(height=250, width=333, scales=7).check()
    StyleConfig(height=250, width=333, scales=6).check()


def test_settings_hold_the_optimiser_and_not_the_colour_choice():
    base = StyleConfig().run_settings()
    assert base["optimizer"] == "adam" and base["init"] == "noise"
    assert StyleConfig(optimizer="lbfgs").run_settings() != base
    assert StyleConfig(preserve_colors=True).run_settings() == base
    assert "init" not in StyleConfig(init="start.png").run_settings()  # its hash goes in


def test_a_videos_later_frames_budget_and_target_can_change_within_one_run():
    base = StyleConfig(video="clip").run_settings()
    assert StyleConfig(video="clip", frame_iterations=9, frame_target=1.0, last_frame=5,
                       fps=30.0).run_settings() == base
    assert StyleConfig(video="clip", temporal_weight=5.0).run_settings() != base


@pytest.mark.parametrize("field, value, message", [
    ("optimizer", "sgd", r"--optimizer must be one of adam, lbfgs, got 'sgd'"),
    ("tolerance", -1.0, r"--tolerance must not be negative"),
    ("coarse_tolerance", -0.1, r"--coarse-tolerance must not be negative"),
    ("coarse_evaluations", -1, r"--coarse-evaluations must not be negative"),
    ("tv_weight", -1.0, r"--tv-weight must not be negative"),
    ("frame_target", -1.0, r"--frame-target must not be negative"),
    ("style_scale", 0.0, r"--style-scale must be positive"),
    ("coarse_iterations", 0, r"--coarse-iterations must be at least 1"),
    ("content_dir", "folder", r"give --content or --content-dir, not both"),
])
def test_bad_values_are_refused(field, value, message):
    with pytest.raises(UsageError, match=message):
        dataclasses.replace(StyleConfig(content="c.png"), **{field: value}).check()


# A value each bound refuses, and the nearest it accepts.
EDGES = {style_config.AT_LEAST_1: (0, 1), style_config.POSITIVE: (0.0, 1e-9),
         style_config.NOT_NEGATIVE: (-1e-9, 0.0), style_config.FRACTION: (1.5, 1.0)}


@pytest.mark.parametrize("field", [f for f in dataclasses.fields(StyleConfig)
                                   if "bound" in f.metadata], ids=lambda f: f.name)
def test_each_bound_refuses_past_its_edge_with_its_message(field):
    bound = field.metadata["bound"]
    refused, accepted = EDGES[bound]
    option_name = "--" + field.name.replace("_", "-")
    with pytest.raises(UsageError) as caught:
        dataclasses.replace(StyleConfig(), **{field.name: refused}).check()
    assert str(caught.value) == f"{option_name} {bound}, got {refused}"
    try:  # at the edge, another rule may still refuse (a 1-pixel image), but not this one
        dataclasses.replace(StyleConfig(), **{field.name: accepted}).check()
    except UsageError as error:
        assert not str(error).startswith(option_name + " ")


def test_the_settings_that_define_a_run_are_those_saved_before_they_were_derived():
    """config.json's settings keep their keys: paths, budgets and output-only options stay out,
    and a still image's run leaves out the video's."""
    still = ["style_blend_weights", "style_scale", "height", "width", "optimizer",
             "learning_rate", "lbfgs_corrections", "tolerance", "tolerance_steps", "scales",
             "coarse_iterations", "coarse_tolerance", "coarse_evaluations", "content_weight",
             "style_weight", "tv_weight", "content_layer", "style_layers",
             "style_layer_weights", "init", "noise_ratio", "noise_range", "mean_pixel",
             "pooling", "precision", "seed", "colour_control", "colour_match", "region_style",
             "mask_tolerance", "mask_blend"]
    video = ["first_frame", "temporal_weight", "freed_style_weight", "freed_frames",
             "freed_edge_frames", "freed_start", "frame_init"]
    assert list(StyleConfig().run_settings()) == still
    assert list(StyleConfig(video="clip").run_settings()) == still + video
    assert "init" not in StyleConfig(video="clip", init="start.png").run_settings()


def test_settings_saved_before_a_field_existed_resume_with_what_those_runs_did():
    old_keys = ("coarse_tolerance", "coarse_evaluations", "tolerance_steps", "precision")
    still = StyleConfig(tolerance=0.3, coarse_tolerance=0.3).run_settings()
    saved = {k: v for k, v in still.items() if k not in old_keys}
    assert complete_settings(saved) == still  # tolerance then stopped every level
    clip = StyleConfig(video="clip", freed_style_weight=0.0).run_settings()
    saved = {k: v for k, v in clip.items() if k not in (*old_keys, "freed_style_weight")}
    assert complete_settings(saved) == clip  # and no freed pixels' style
    assert complete_settings(StyleConfig().run_settings()) == StyleConfig().run_settings()
    assert complete_settings(dict(clip, tolerance_steps=3))["tolerance_steps"] == 3


def test_the_precision_is_part_of_the_run_and_older_runs_were_float32():
    single, half = StyleConfig(), StyleConfig(precision="bfloat16")
    assert single.run_settings()["precision"] == "float32"
    assert half.run_settings() == dict(single.run_settings(), precision="bfloat16")
    saved = {k: v for k, v in half.run_settings().items() if k != "precision"}
    assert complete_settings(saved) == single.run_settings()  # not the bfloat16 run
    for precision in ("float32", "bfloat16", "auto"):
        StyleConfig(precision=precision).check()
    with pytest.raises(UsageError, match="--precision must be one of float32, bfloat16, auto, "
                                         "got 'float16'"):
        StyleConfig(precision="float16").check()
    text = options.help_of(StyleConfig, "precision")
    assert "slower than float32 on processors without AMX" in text


def test_a_new_clip_takes_the_recommended_frame_target_and_a_resumed_one_keeps_its_own():
    omitted = options.ConfigParser(StyleConfig).parse_config(["--video", "clip"])
    assert omitted.frame_target is None
    assert omitted.settled(None).frame_target == style_config.FRAME_TARGET == 0.85
    assert omitted.settled({"frame_target": 0.0}).frame_target == 0.0
    assert omitted.settled({"frame_target": 1.0}).frame_target == 1.0
    assert omitted.settled({}).frame_target == 0.0  # saved before --frame-target existed
    given = options.ConfigParser(StyleConfig).parse_config(["--video", "clip",
                                                            "--frame-target", "0"])
    assert given.frame_target == 0.0
    assert given.settled(None) == given == given.settled({"frame_target": 0.85})
    omitted.check()
    text = options.help_of(StyleConfig, "frame_target")
    assert "If omitted, 0.85 for a new clip (the measurements' recommendation" in text
