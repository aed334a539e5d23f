"""Video style transfer end to end on tiny random-weight VGGs and synthetic clips: the temporal
term in the engine, the frame loop's records, resume (between and within frames, after Ctrl-C
and SIGINT), a static clip's stability, and bad input."""
from __future__ import annotations

import csv
import dataclasses
import json
import math
import re
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cv2")
pytest.importorskip("imageio_ffmpeg")
  # noqa: E402
from tf1cnn.common import images, samples  # noqa: E402
from tf1cnn.style_transfer.config import StyleConfig  # noqa: E402
from tf1cnn.style_transfer.control import inputs  # noqa: E402
from tf1cnn.style_transfer.network import vgg  # noqa: E402
from tf1cnn.style_transfer.objective import memory  # noqa: E402
from tf1cnn.style_transfer.optimise import engine, levels  # noqa: E402
from tf1cnn.style_transfer.optimise.records import LevelStart, Progress  # noqa: E402
from tf1cnn.style_transfer.shell import cli, job, video_job  # noqa: E402
from tf1cnn.style_transfer.shell.rundir import RunDir  # noqa: E402
from tf1cnn.style_transfer.tools import sample_clip  # noqa: E402
from tf1cnn.style_transfer.video import clips, flow  # noqa: E402
from tf1cnn.style_transfer.video import frames as video

REPO = Path(__file__).resolve().parents[2]
HEIGHT, WIDTH = 48, 64


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def photo():
    return images.read_rgb(samples.sample(samples.SAMPLE_CONTENT))


@pytest.fixture
def clip_folder(tmp_path, photo) -> Path:
    """Three frames of the panning clip with its sprite, as PNG files."""
    folder = tmp_path / "clip"
    sample_clip.write_folder(sample_clip.make(photo, frames=3, height=HEIGHT, width=WIDTH),
                             folder)
    return folder


def video_config(tmp_path, tiny_vgg, source, **changes) -> StyleConfig:
    settings = dict(video=str(source), vgg=tiny_vgg, height=HEIGHT, width=WIDTH,
                    output_dir=str(tmp_path / "out"), seed=3, iterations=6, frame_iterations=4,
                    checkpoint_every=2, frame_target=0.0)
    return StyleConfig(**{**settings, **changes})


def run_clip(config: StyleConfig, tiny_layers, style, say=None) -> tuple[int, list[str]]:
    """The CLI's video path, in process, with ``say`` seeing every line."""
    lines = []
    clip = clips.open_clip(config.video, config.first_frame, config.last_frame, config.fps)
    with engine.Engine(tiny_layers, config, terms=video.terms) as style_engine:
        def tell(line):
            lines.append(line)
            if say:
                say(line)
        identity = dict(job.identity(config, "weights"), video_sha256=clip.sha256())
        code = video_job.stylise_clip(style_engine, config, clip, [style], None, identity, tell)
    return code, lines


def progress(records) -> list[Progress]:
    return [r for r in records if isinstance(r, Progress)]


def frames(out: Path) -> list[np.ndarray]:
    return [images.read_rgb(p) for p in sorted((out / "frames").glob("frame_*.png"))]


def test_a_first_frame_is_the_still_image_run(tmp_path, tiny_layers, pictures):
    """The temporal term of a video engine is zero on a first frame: its run equals an image
    run of the same content."""
    content, style = pictures
    config = StyleConfig(height=24, width=32, iterations=5, seed=3, checkpoint_every=5)
    found = []
    for changes in ({}, {"video": "clip.mp4", "temporal_weight": 100.0}):
        changed = dataclasses.replace(config, **changes)
        terms, load = (video.terms, partial(video.load_terms, None)) if changes else (None, None)
        with engine.Engine(tiny_layers, changed, terms=terms) as style_engine:
            folder = RunDir(str(tmp_path / str(len(found))))
            records = list(style_engine.run(inputs.prepare(changed, content, [style]), [folder],
                                            load=load).records())
        found.append(records)
    assert [r.losses["total"] for r in found[0] if isinstance(r, Progress)] == \
        pytest.approx([r.losses["total"] for r in found[1] if isinstance(r, Progress)],
                      rel=1e-5)
    assert all(r.losses["temporal"] == 0 for r in found[1] if isinstance(r, Progress))
    np.testing.assert_allclose(found[0][-1].image, found[1][-1].image, atol=1e-3)


def test_a_later_frame_runs_the_full_size_from_its_start_towards_the_warped_target(
        tmp_path, tiny_layers, pictures):
    content, style = pictures
    config = StyleConfig(height=24, width=32, iterations=9, seed=3, scales=2, video="clip",
                         temporal_weight=1e4, optimizer="lbfgs", init="content")
    target = np.clip(content + np.linspace(-30, 30, 32)[None, :, None], 0, 255)
    mask = np.zeros((24, 32), np.float32)
    mask[:, :16] = 1.0  # only the left half is held
    with engine.Engine(tiny_layers, config, terms=video.terms) as style_engine:
        folders = [RunDir(str(tmp_path / "coarse")), RunDir(str(tmp_path / "full"))]
        run = style_engine.run(inputs.prepare(config, content, [style], target), folders,
                               load=partial(video.load_terms, (target, mask, np.stack(
                                   [np.zeros_like(mask), 1 - mask], axis=-1))),
                               full_size_only=True, iterations=4)
        steps = run.records()
        records = [next(steps)]
        np.testing.assert_allclose(run.current_image(), target, atol=1e-3)  # its start
        records += list(steps)
    starts = [r for r in records if isinstance(r, LevelStart)]
    assert [(s.level, s.iterations) for s in starts] == [(1, 4)]  # the full size only
    result = records[-1].image
    held = np.abs(result - target)[:, :16].mean()
    free = np.abs(result - target)[:, 16:].mean()
    assert held < 0.5 < free  # a weight of 1e4 keeps the masked pixels on their target


def test_an_engine_with_terms_of_its_own_runs_only_with_their_load(tmp_path, tiny_layers,
                                                                   pictures):
    content, style = pictures
    config = StyleConfig(height=24, width=32, iterations=1, video="clip")
    prepared = inputs.prepare(config, content, [style])
    folders = [RunDir(str(tmp_path))]
    with engine.Engine(tiny_layers, config, terms=video.terms) as style_engine:
        with pytest.raises(ValueError, match="needs their load"):
            style_engine.run(prepared, folders)
    with engine.Engine(tiny_layers, config) as style_engine:
        with pytest.raises(ValueError, match="only such an engine takes one"):
            style_engine.run(prepared, folders, load=partial(video.load_terms, None))


def test_a_warm_start_is_the_carried_result_where_held_and_the_content_where_freed():
    carried = np.full((2, 3, 3), 200.0, np.float32)
    content = np.full((2, 3, 3), 50.0, np.float32)
    mask = np.array([[1, 0, 0.5], [1, 1, 0]], np.float32)
    start = video.warm_start(carried, mask, content)
    assert start.dtype == np.float32 and start.shape == (2, 3, 3)
    np.testing.assert_array_equal(start[..., 1], [[200, 50, 125], [200, 200, 50]])


def test_a_pixels_age_counts_the_frames_since_it_was_freed_along_the_flow():
    """The window pans one pixel a frame (pixel p comes from p + 1): the right-hand column is
    new each frame, and its age then travels left one column a frame, up to ``frames``."""
    mask = np.ones((2, 6), np.float32)
    mask[:, -1] = 0
    backward = np.zeros((2, 6, 2), np.float32)
    backward[..., 0] = 1.0
    age = None
    for _ in range(3):
        age = video.ages(age, mask, backward, 4)
    np.testing.assert_array_equal(age[0], [4, 4, 4, 2, 1, 0])
    np.testing.assert_array_equal(video.held(mask, age, 4)[1], [1, 1, 1, 0.5, 0.25, 0])


def test_the_edges_new_picture_is_a_region_of_its_own_that_fades_with_its_age():
    """The window pans one pixel a frame: the right-hand column enters each frame and is freed
    by the mask, as is a blob the sprite uncovers. Region 0 is the edge's columns, weighted by
    1 - age / frames; region 1 the other freed pixels, 1 - the temporal weights, and nothing
    where region 0 weighs."""
    backward = np.zeros((3, 6, 2), np.float32)
    backward[..., 0] = 1.0
    entering = flow.entering(backward)
    np.testing.assert_array_equal(entering, np.tile([0, 0, 0, 0, 0, 1], (3, 1)).astype(bool))
    mask = (~entering).astype(np.float32)
    mask[0, 1] = 0  # uncovered behind a sprite
    edge_age, age = None, None
    for _ in range(3):
        edge_age = video.ages(edge_age, (~entering).astype(np.float32), backward, 4)
        age = video.ages(age, mask, backward, 2)
    weights = video.held(mask, age, 2)
    regions = video.freed_regions(weights, edge_age, 4)
    assert regions.shape == (3, 6, 2) and regions.dtype == np.float32
    np.testing.assert_array_equal(regions[2, :, 0], [0, 0, 0, 0.5, 0.75, 1])
    expected = np.where(regions[..., 0] > 0, 0, 1 - weights)
    np.testing.assert_array_equal(regions[..., 1], expected)
    assert regions[0, 1, 1] == 1 and regions[1, 1, 1] == 0  # freed now, and held


def test_ages_started_that_many_frames_back_equal_those_from_the_clips_first_frame():
    """What a resumed clip relies on: random masks and flows, ages from the first frame of 9
    against ages started afresh ``frames`` frames before the last."""
    frames, count = 3, 9
    rng = np.random.default_rng(0)
    masks = (rng.random((count, 12, 16)) > 0.2).astype(np.float32)
    flows = rng.normal(0, 2, (count, 12, 16, 2)).astype(np.float32)
    straight = None
    for mask, backward in zip(masks, flows):
        straight = video.ages(straight, mask, backward, frames)
    resumed = None
    for mask, backward in zip(masks[-frames:], flows[-frames:]):
        resumed = video.ages(resumed, mask, backward, frames)
    np.testing.assert_array_equal(resumed, straight)
    assert 0 < (straight < frames).mean() < 1
    once_too_few = None
    for mask, backward in zip(masks[1 - frames:], flows[1 - frames:]):
        once_too_few = video.ages(once_too_few, mask, backward, frames)
    assert (once_too_few != straight).any()


@pytest.mark.parametrize("freed, begin", [(1.0, "content"), (0.0, "content"), (1.0, "noise")])
def test_a_later_frame_starts_from_its_content_where_the_mask_frees_it(
        tmp_path, tiny_vgg, tiny_layers, clip_folder, pictures, freed, begin):
    """With the freed pixels' style term; without it, from the carried result everywhere;
    with ``freed_start`` noise, from the noise blend drawn with the seed plus the frame's
    number (frame 2 here)."""
    config = video_config(tmp_path, tiny_vgg, clip_folder, optimizer="lbfgs", iterations=2,
                          frame_iterations=2, freed_style_weight=freed, freed_start=begin)
    clip = clips.open_clip(config.video)
    with engine.Engine(tiny_layers, config, terms=video.terms) as style_engine:
        runner = video.ClipRun(style_engine, config, clip, [pictures[1]])
        written, start = [], None
        for record in runner.records(clip.first, None, False):
            if isinstance(record, video.FrameEnd):
                written.append(record.image)
            elif isinstance(record, LevelStart) and len(written) == 1:
                start = runner._run.current_image()
            if len(written) == 2:
                break
    before, after = [images.fit(picture, HEIGHT, WIDTH)
                     for _, picture in list(clip.frames(clip.first))[:2]]
    backward, forward = flow.pair(before, after)
    mask = flow.consistency(backward, forward)
    carried = flow.carry(written[0].astype(np.float32), backward)
    assert 0 < (mask == 0).sum() < mask.size / 4  # the pan frees an edge
    fresh = after
    if begin == "noise":
        fresh = levels.initial_image(after, dataclasses.replace(config, seed=config.seed + 2)) \
            + np.asarray(config.mean_pixel, np.float32)
        assert np.abs(fresh - after).mean() > 10  # not the content
    expected = video.warm_start(carried, mask, fresh) if freed else carried
    np.testing.assert_allclose(start, expected, atol=0.01)


def test_the_freed_style_is_the_style_loss_of_the_pixels_the_mask_frees(tmp_path, tiny_layers,
                                                                         pictures):
    """With every pixel freed it is the whole frame's style loss (its per-pixel target and
    normalisation), in either region (the edge's new picture, the rest); with none freed or on
    a first frame it is zero; two regions' loss is the sum of each alone; the total weighs it
    by freed_style_weight x style_weight; at weight 0 there is no such term. Without
    freed_edge_frames there is one region."""
    content, style = pictures
    config = StyleConfig(height=24, width=32, iterations=1, seed=3, video="clip",
                         freed_style_weight=0.5, tv_weight=0.0)
    warped = np.clip(content + 20, 0, 255)

    def start(config, mask, edge=None):
        """The first step's losses with the temporal weights ``mask``, the rest of the freed
        pixels ``1 - mask`` and the edge's ``edge`` (none)."""
        with engine.Engine(tiny_layers, config, terms=video.terms) as style_engine:
            freed = None if mask is None else np.stack(
                [np.zeros_like(mask) if edge is None else edge, 1 - mask], axis=-1)
            if freed is not None and not config.freed_edge_frames:
                freed = freed[..., 1:]
            temporal = None if mask is None else (warped, mask, freed)
            run = style_engine.run(inputs.prepare(config, content, [style], warped),
                                   [RunDir(str(tmp_path / "f"))],
                                   load=partial(video.load_terms, temporal),
                                   full_size_only=temporal is not None)
            return progress(run.records(lambda step, n: True))[0].losses
    everything = start(config, np.zeros((24, 32), np.float32))
    assert everything["freed_style"] == pytest.approx(everything["style"], rel=1e-4)
    assert everything["total"] == pytest.approx(
        config.content_weight * everything["content"] + config.style_weight * (
            everything["style"] + 0.5 * everything["freed_style"]), rel=1e-5)
    assert start(config, np.ones((24, 32), np.float32))["freed_style"] == 0
    half = np.ones((24, 32), np.float32)
    half[:, 16:] = 0
    assert 0 < start(config, half)["freed_style"] != pytest.approx(everything["style"])
    assert start(config, None)["freed_style"] == 0  # a first frame
    assert "freed_style" not in start(dataclasses.replace(config, freed_style_weight=0.0),
                                      half)
    held = np.ones((24, 32), np.float32)
    assert start(config, held, np.ones((24, 32), np.float32))["freed_style"] == \
        pytest.approx(everything["style"], rel=1e-4)  # all of it in the edge's region
    edge = 1 - half  # the edge's new picture: the right half
    left = np.ones((24, 32), np.float32)
    left[:, :16] = 0  # the rest of the freed pixels: the left half
    assert start(config, left, edge)["freed_style"] == pytest.approx(
        start(config, left)["freed_style"] + start(config, held, edge)["freed_style"],
        rel=1e-5)
    one = dataclasses.replace(config, freed_edge_frames=0)
    assert start(one, half)["freed_style"] == pytest.approx(start(config, half)["freed_style"],
                                                            rel=1e-6)


def test_a_clip_writes_frames_metrics_and_an_mp4_and_a_rerun_does_nothing(
        tmp_path, tiny_vgg, tiny_layers, clip_folder, pictures):
    config = video_config(tmp_path, tiny_vgg, clip_folder, optimizer="lbfgs")
    code, lines = run_clip(config, tiny_layers, pictures[1])
    assert code == 0
    out = tmp_path / "out"
    assert [p.name for p in sorted((out / "frames").iterdir())] == \
        ["frame_00001.png", "frame_00002.png", "frame_00003.png"]
    assert not list((out / "checkpoints").iterdir())  # removed once each frame was written
    with open(out / "frames.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["frame"]) for r in rows] == [1, 2, 3]
    assert [int(r["steps"]) for r in rows] == [6, 4, 4]  # --iterations, --frame-iterations
    assert rows[0]["warping_error"] == "nan" and float(rows[1]["warping_error"]) >= 0
    assert 0.5 < float(rows[2]["consistent"]) <= 1
    assert float(rows[1]["temporal"]) > 0 and float(rows[1]["flow_seconds"]) > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["frames"] == 3
    assert metrics["mean_warping_error"] == pytest.approx(
        np.mean([float(r["warping_error"]) for r in rows[1:]]))
    assert 0 < metrics["flow_share"] < 1
    read = clips.open_clip(str(out / "video.mp4"))
    assert (read.count, read.fps, read.height, read.width) == (3, 24.0, HEIGHT, WIDTH)
    assert any(line.startswith("frame=2/3 step=4/4") and "temporal=" in line
               and "eta_clip=" in line for line in lines)
    assert any(line.startswith("summary: frames=3 mean_warping_error=") for line in lines)
    before = snapshot(out / "frames")
    code, lines = run_clip(config, tiny_layers, pictures[1])
    assert code == 0 and "all 3 frames are written already" in "\n".join(lines)
    assert snapshot(out / "frames") == before
    assert not any(line.startswith("frame=") for line in lines)


def test_an_interrupted_clip_resumes_within_the_frame_and_ends_as_a_straight_run(
        tmp_path, tiny_vgg, tiny_layers, clip_folder, pictures):
    """Adam keeps its state in the checkpoint, so a run stopped in frame 2 at step 3 and
    resumed ends with the same frames as one never stopped."""
    straight = video_config(tmp_path / "a", tiny_vgg, clip_folder)
    assert run_clip(straight, tiny_layers, pictures[1])[0] == 0

    def stop(line):
        if line.startswith("frame=2/3 step=3/"):
            raise KeyboardInterrupt

    split = video_config(tmp_path / "b", tiny_vgg, clip_folder, checkpoint_every=100)
    code, _ = run_clip(split, tiny_layers, pictures[1], say=stop)
    assert code == 130
    out = tmp_path / "b" / "out"
    assert [p.name for p in (out / "frames").iterdir()] == ["frame_00001.png"]
    assert (out / "checkpoints" / "frame_00002" / "checkpoint").exists()
    code, lines = run_clip(split, tiny_layers, pictures[1])
    assert code == 0
    assert "resuming at frame 2 (1 of 3 written; settings match the saved run)" in lines
    assert any(line.startswith("frame 2: resuming at step 3") for line in lines)
    assert [line.split()[1] for line in lines if line.startswith("frame=2/")] == ["step=4/4"]
    for a, b in zip(frames(tmp_path / "a" / "out"), frames(out), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_clip_with_freed_frames_resumed_late_ends_as_a_straight_run(
        tmp_path, tiny_vgg, tiny_layers, photo, pictures):
    """Stopped within frame 5 of 5 with ``freed_frames`` 2 and ``freed_edge_frames`` 4 (and the
    freed pixels started from noise, drawn per frame), the resume takes the ages from frames 1
    to 4 again (the larger count's), and every frame equals a run never stopped; the ramp and
    the edge's region each change the frames (neither is a no-op on this clip)."""
    clip = tmp_path / "clip5"
    sample_clip.write_folder(sample_clip.make(photo, frames=5, height=HEIGHT, width=WIDTH),
                             clip)
    straight = video_config(tmp_path / "a", tiny_vgg, clip, freed_frames=2, freed_start="noise",
                            freed_edge_frames=4)
    assert run_clip(straight, tiny_layers, pictures[1])[0] == 0

    def stop(line):
        if line.startswith("frame=5/5 step=2/"):
            raise KeyboardInterrupt

    split = video_config(tmp_path / "b", tiny_vgg, clip, freed_frames=2, freed_start="noise",
                         freed_edge_frames=4, checkpoint_every=100)
    assert run_clip(split, tiny_layers, pictures[1], say=stop)[0] == 130
    code, lines = run_clip(split, tiny_layers, pictures[1])
    assert code == 0 and any(line.startswith("frame 5: resuming at step 2") for line in lines)
    for a, b in zip(frames(tmp_path / "a" / "out"), frames(tmp_path / "b" / "out"),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    for name, change in (("c", {"freed_frames": 0}), ("d", {"freed_edge_frames": 0})):
        other = dataclasses.replace(straight, output_dir=str(tmp_path / name / "out"), **change)
        assert run_clip(other, tiny_layers, pictures[1])[0] == 0
        assert not np.array_equal(frames(tmp_path / "a" / "out")[-1],
                                  frames(tmp_path / name / "out")[-1])


@pytest.mark.parametrize("changes", [
    # The tiny random network's style loss is about 1e5 (real VGG features give 1e2 to 1e3
    # here), so with all its steps a frame needs a temporal weight to match.
    {"temporal_weight": 1e4},
    # Or, at the default weight, the later frames stop at the first frame's loss.
    {"frame_target": 1.0}], ids=["heavy temporal weight", "frame target"])
def test_a_static_clip_gives_frames_within_one_grey_level(tmp_path, tiny_vgg, tiny_layers,
                                                        photo, pictures, changes):
    folder = tmp_path / "static"
    sample_clip.write_folder(sample_clip.make(photo, frames=3, height=HEIGHT, width=WIDTH,
                                              static=True), folder)
    config = video_config(tmp_path, tiny_vgg, folder, optimizer="lbfgs", iterations=20,
                          frame_iterations=10, **changes)
    assert run_clip(config, tiny_layers, pictures[1])[0] == 0
    found = frames(tmp_path / "out")
    for before, after in zip(found, found[1:]):
        assert np.abs(after - before).mean() <= 1.0


def test_independent_frames_start_from_the_init_with_no_temporal_term(
        tmp_path, tiny_vgg, tiny_layers, clip_folder, pictures):
    config = video_config(tmp_path, tiny_vgg, clip_folder, frame_init="init", init="noise")
    code, lines = run_clip(config, tiny_layers, pictures[1])
    assert code == 0
    assert "frame 2 (2/3): from --init noise; flow" in " ".join(lines)
    with open(tmp_path / "out" / "frames.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert all(float(r["temporal"]) == 0 for r in rows)
    assert not math.isnan(float(rows[2]["warping_error"]))


def cli_args(tmp_path, tiny_vgg, source, *extra) -> list[str]:
    return ["--video", str(source), "--vgg", tiny_vgg, "--height", str(HEIGHT), "--width",
            str(WIDTH), "--output-dir", str(tmp_path / "out"), "--seed", "1", "--iterations",
            "3", "--frame-iterations", "2", *extra]


def test_a_changed_setting_archives_the_clip_and_an_extended_range_continues(
        tmp_path, tiny_vgg, clip_folder, capsys):
    args = cli_args(tmp_path, tiny_vgg, clip_folder, "--last-frame", "2")
    assert cli.main(args) == 0
    out = tmp_path / "out"
    before = snapshot(out / "frames")
    assert cli.main(cli_args(tmp_path, tiny_vgg, clip_folder)) == 0  # to the clip's end
    stdout = capsys.readouterr().out
    assert "resuming at frame 3 (2 of 3 written; settings match the saved run)" in stdout
    assert {k: v for k, v in snapshot(out / "frames").items() if k.name != "frame_00003.png"} \
        == before
    assert cli.main([*args, "--temporal-weight", "5"]) == 0
    stdout = capsys.readouterr().out
    assert re.search(r"starting fresh at frame 1 \(0 of 2 written; settings changed: "
                     r"temporal_weight 2\.0 -> 5\.0; earlier run moved to", stdout)
    (archived,) = (out / "archive").iterdir()
    assert len(list((archived / "frames").iterdir())) == 3


def test_a_bare_clip_takes_the_recommended_frame_target_and_a_rerun_keeps_the_clips_own(
        tmp_path, tiny_vgg, clip_folder, capsys):
    from tf1cnn.style_transfer.config import FRAME_TARGET

    assert cli.main(cli_args(tmp_path, tiny_vgg, clip_folder, "--last-frame", "2")) == 0
    saved_file = tmp_path / "out" / "config.json"
    saved = json.loads(saved_file.read_text())
    assert saved["config"]["frame_target"] == FRAME_TARGET
    stdout = capsys.readouterr().out
    assert "stops at content+style" in stdout
    assert f'"frame_target": {FRAME_TARGET}' in stdout  # the config line shows it too
    # A clip made before the default changed recorded 0; extended by a bare rerun, it keeps 0.
    saved["config"]["frame_target"] = 0.0
    saved_file.write_text(json.dumps(saved))
    assert cli.main(cli_args(tmp_path, tiny_vgg, clip_folder)) == 0
    stdout = capsys.readouterr().out
    assert "resuming at frame 3 (2 of 3 written; settings match the saved run)" in stdout
    assert "stops at content+style" not in stdout and '"frame_target": 0.0' in stdout
    assert json.loads(saved_file.read_text())["config"]["frame_target"] == 0.0


def test_a_clip_saved_before_the_freed_style_existed_resumes_without_it(tmp_path, tiny_vgg,
                                                                         clip_folder, capsys):
    """Nor the ramp (--freed-frames), the freed pixels' start (--freed-start) and the edge's
    region (--freed-edge-frames)."""
    args = cli_args(tmp_path, tiny_vgg, clip_folder, "--freed-style-weight", "0",
                    "--freed-frames", "0", "--freed-edge-frames", "0")
    assert cli.main([*args, "--last-frame", "2"]) == 0
    saved_file = tmp_path / "out" / "config.json"
    saved = json.loads(saved_file.read_text())
    for name in ("freed_style_weight", "freed_frames", "freed_start", "freed_edge_frames"):
        del saved["settings"][name]  # as the versions before them wrote it
    saved_file.write_text(json.dumps(saved))
    capsys.readouterr()
    assert cli.main(args) == 0
    assert "resuming at frame 3 (2 of 3 written; settings match the saved run)" in \
        capsys.readouterr().out
    assert cli.main(cli_args(tmp_path, tiny_vgg, clip_folder)) == 0
    changed = next(line for line in capsys.readouterr().out.splitlines()
                   if "settings changed" in line)
    assert "freed_style_weight 0.0 -> 1.0" in changed and "freed_frames 0 -> 3" in changed
    assert f"freed_edge_frames 0 -> {StyleConfig.freed_edge_frames}" in changed


def test_a_frame_target_stops_later_frames_at_the_first_frames_loss_also_after_a_resume(
        tmp_path, tiny_vgg, clip_folder, capsys):
    args = cli_args(tmp_path, tiny_vgg, clip_folder, "--optimizer", "lbfgs", "--iterations",
                    "8", "--frame-iterations", "60", "--frame-target", "1")
    assert cli.main([*args, "--last-frame", "2"]) == 0
    first_session = capsys.readouterr().out
    assert cli.main(args) == 0  # frame 3: the target comes from frames.csv
    second_session = capsys.readouterr().out
    assert "resuming at frame 3" in second_session
    with open(tmp_path / "out" / "frames.csv") as handle:
        rows = list(csv.DictReader(handle))
    config = StyleConfig()
    found = [config.content_weight * float(r["content"]) + config.style_weight * float(r["style"])
             for r in rows]
    lines = [re.search(rf"frame {n} \({n}/\d\): from the previous result, warped; flow "
                       rf"[0-9.]+s; stops at content\+style (\S+)", out)
             for n, out in ((2, first_session), (3, second_session))]
    assert [float(line.group(1)) for line in lines] == pytest.approx([found[0]] * 2, rel=1e-5)
    assert re.search(r"frame=2/2 step=\d+/60 .* eta_max=.* eta_clip_max=", first_session)
    assert int(rows[0]["steps"]) == 8
    for row, loss in zip(rows[1:], found[1:]):
        assert int(row["steps"]) < 60 and loss <= found[0] * (1 + 1e-6)


def test_a_first_frame_stopped_after_its_last_step_keeps_its_losses_and_the_target(
        tmp_path, tiny_vgg, tiny_layers, clip_folder, pictures):
    """Stopped at the first frame's last step, before the frame was written: the rerun
    resumes it at its end (no step left to record) and still writes its losses and sets the
    later frames' target from them, as the straight run does."""
    def stop(line):
        if line.startswith("frame=1/3 step=8/8"):
            raise KeyboardInterrupt

    found = {}
    for name, say in (("straight", None), ("split", stop)):
        config = video_config(tmp_path / name, tiny_vgg, clip_folder, optimizer="lbfgs",
                              iterations=8, frame_iterations=30, frame_target=1.0)
        code, lines = run_clip(config, tiny_layers, pictures[1], say=say)
        if say:
            assert code == 130 and not list((tmp_path / name / "out" / "frames").iterdir())
            code, lines = run_clip(config, tiny_layers, pictures[1])
            assert "frame 1: resuming at step 8 (checkpoint)" in lines
        assert code == 0
        with open(tmp_path / name / "out" / "frames.csv") as handle:
            rows = list(csv.DictReader(handle))
        target = [re.search(r"stops at content\+style (\S+)", line) for line in lines
                  if line.startswith("frame 2 (2/3)")]
        found[name] = ({k: float(rows[0][k]) for k in ("total", "content", "style")},
                       int(rows[0]["evaluations"]), float(target[0].group(1)))
    (losses, evaluations, target), (split_losses, split_evaluations, split_target) = \
        found["straight"], found["split"]
    assert split_losses == pytest.approx(losses, rel=1e-5)
    assert split_evaluations == evaluations and split_target == pytest.approx(target, rel=1e-5)


def write_video(path: Path, count: int, size=(HEIGHT, WIDTH)) -> None:
    frames_ = [np.full((*size, 3), 10 * k, np.uint8) for k in range(count)]
    clips.write_mp4(str(path), frames_, 12.0)


BAD_VIDEO = {
    "missing file": (lambda tmp: tmp / "nope.mp4", [], r"nope\.mp4"),
    "not a video": (lambda tmp: tmp / "notes.txt", [], r"notes\.txt"),
    "range outside the clip": (lambda tmp: tmp / "clip.mp4", ["--last-frame", "9"],
                               r"clip\.mp4.* 4 frames"),
    "first after last": (lambda tmp: tmp / "clip.mp4", ["--first-frame", "3", "--last-frame",
                                                         "2"], r"--last-frame 2 comes before"),
    "unreadable frame": (lambda tmp: tmp / "broken", [], r"frame_00002\.png"),
    "frames of two sizes": (lambda tmp: tmp / "sizes", [], r"frame_00002\.png"),
    "empty folder": (lambda tmp: tmp / "empty", [], r"empty"),
    "video and content": (lambda tmp: tmp / "clip.mp4", ["--content", "x.png"],
                          r"give --video or --content"),
}


@pytest.mark.parametrize("case", sorted(BAD_VIDEO))
def test_bad_video_input_is_one_line_and_exit_2_and_loses_nothing(case, tmp_path, tiny_vgg,
                                                                   clip_folder, capsys):
    assert cli.main(cli_args(tmp_path, tiny_vgg, clip_folder, "--last-frame", "1")) == 0
    out = tmp_path / "out"
    (tmp_path / "notes.txt").write_text("not a video")
    write_video(tmp_path / "clip.mp4", 4)
    for name, damage in (("broken", "truncate"), ("sizes", "resize")):
        folder = tmp_path / name
        folder.mkdir()
        for k in (1, 2, 3):
            (folder / f"frame_0000{k}.png").write_bytes(
                (clip_folder / f"frame_0000{k}.png").read_bytes())
        second = folder / "frame_00002.png"
        if damage == "truncate":
            second.write_bytes(second.read_bytes()[:100])
        else:
            images.write_png(second, np.zeros((HEIGHT + 2, WIDTH, 3), np.uint8))
    (tmp_path / "empty").mkdir()
    source, extra, pattern = BAD_VIDEO[case]
    before = snapshot(out)
    capsys.readouterr()
    code = cli.main(cli_args(tmp_path, tiny_vgg, source(tmp_path), *extra))
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert re.search(pattern, err), err
    assert snapshot(out) == before


def test_without_the_video_extra_the_error_says_what_to_install(tmp_path, tiny_vgg,
                                                                clip_folder, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 now raises ImportError
    code = cli.main(cli_args(tmp_path, tiny_vgg, clip_folder))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "video needs cv2" in err and "pip install '.[video]'" in err
    assert not (tmp_path / "out").exists()


def test_a_frame_too_large_for_one_pass_is_refused_before_the_run(tmp_path, tiny_vgg,
                                                                  tiny_layers, clip_folder,
                                                                  capsys):
    """A video's temporal term is not evaluated in tiles: a budget that would need them is
    a usage error, with nothing written."""
    config = StyleConfig(height=400, width=400, video="clip")
    budget = memory.level_bytes(vgg.trunk(tiny_layers, ["relu4_2", "relu5_1"]), config, 64)
    code = cli.main(cli_args(tmp_path, tiny_vgg, clip_folder, "--height", "400", "--width",
                             "400", "--max-memory", str(budget)))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "a video's frames are optimised in one pass, and 400x400 does not fit" in err
    assert not (tmp_path / "out" / "config.json").exists()


def test_sigint_in_a_background_clip_saves_the_frame_and_a_rerun_resumes_it(
        tmp_path, tiny_vgg, clip_folder, read_until):
    """Started with SIGINT ignored, as a script's background job; stopped in frame 2."""
    args = [sys.executable, str(REPO / "scripts" / "style_transfer.py"),
            *cli_args(tmp_path, tiny_vgg, clip_folder, "--frame-target", "0",
                      "--frame-iterations", "100000", "--checkpoint-every", "100000")]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert read_until(process, "frame=2/3 step=5/"), "the run never reached frame 2, step 5"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130, err
    step = int(re.search(r"interrupted at frame 2, step (\d+)", err).group(1))
    assert step >= 5
    resumed = subprocess.run([*args[:-4], "--frame-iterations", str(step + 1)],
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"frame 2: resuming at step {step}" in resumed.stdout
    assert len(list((tmp_path / "out" / "frames").iterdir())) == 3


def test_a_clip_runs_in_bfloat16_and_auto_keeps_the_clips_own(tmp_path, tiny_vgg, clip_folder,
                                                               capsys, monkeypatch):
    from tf1cnn.common import runtime

    args = cli_args(tmp_path, tiny_vgg, clip_folder, "--last-frame", "2")
    assert cli.main([*args, "--precision", "bfloat16"]) == 0
    saved_file = tmp_path / "out" / "config.json"
    saved = json.loads(saved_file.read_text())
    assert saved["config"]["precision"] == saved["settings"]["precision"] == "bfloat16"
    assert len(frames(tmp_path / "out")) == 2
    capsys.readouterr()
    monkeypatch.setattr(runtime, "bfloat16_supported", lambda *args, **kwargs: False)
    assert cli.main(cli_args(tmp_path, tiny_vgg, clip_folder, "--precision", "auto")) == 0
    assert "resuming at frame 3 (2 of 3 written; settings match the saved run)" in \
        capsys.readouterr().out
    assert json.loads(saved_file.read_text())["settings"]["precision"] == "bfloat16"
