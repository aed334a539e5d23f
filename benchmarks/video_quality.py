"""Video: does the temporally consistent run hold still where the independent one flickers, at
the same style and content, and how much sooner does its warm start get there?

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/video_quality.py [--vgg /tmp/vgg16_hed.mat]
        [--frames 24] [--size 250x333] [--iterations 50] [--temporal-weight 10 ...]
        [--freed-style-weight 1 ...] [--freed-frames 0 ...] [--frame-target 0 ...] [--static]
        [--entered-frames 4] [--keep DIR]
        [--json benchmarks/video_quality.json] [--pictures docs/images/video_frames.jpg]
        [--plot docs/images/video_warping_error.png]
        [--edge-picture docs/images/video_edge.jpg]
        [--fresh-plot docs/images/video_fresh_style.png]

The clip is ``sample_clip.make`` from the bundled photograph (a window panning and zooming,
a sprite moving against it), so the true flow and occlusions are known. Two kinds of run, each
the library's ``ClipRun`` with a ``Progress`` record at every step, L-BFGS for
``--iterations`` on every frame, ``--init noise --seed 0``:

* **independent**: ``--frame-init init``, every frame from the same noise, no temporal term;
* **consistent** (one per ``--temporal-weight``, ``--freed-style-weight``, ``--freed-frames``
  and ``--frame-target``): each later frame from the previous result warped by the estimated
  flow, with the temporal term and the freed pixels' style term; with a target, it stops once
  its content+style loss is at most that many times the first frame's.

Per frame it records the wall time and the flow's share of it, the final losses, the
content+style part of the loss (both weighted, as in the total) at every step, and, measured
on the written frames with the clip's TRUE flow and visibility:

* the warping error: mean |out_t - warp(out_t-1)| over the pixels visible in both frames, in
  grey levels;
* Lai et al.'s (2018) warping error: the same mean of (out_t - warp(out_t-1))^2 over the
  visible pixels and the 3 channels, with values in [0, 1];
* the freed region's style loss: the style loss, as the video engine's freed pixels' term
  takes it (``FreedStyleTerm``), of the pixels that entered the frame within the last
  ``--entered-frames`` frames (new picture at the right edge, background the sprite uncovers),
  found by following each pixel back along the true flow to where it was last invisible.

The checks (issue 11; ``fresh``: issue 23):

* stability: a consistent run's mean warping error is at most 1/3 of the independent one's;
* kept: its mean style loss and its mean content loss are each within 25% of the
  independent run's;
* warm start: each later frame's content+style loss reaches its independent frame's final
  one within 1/3 of the iterations;
* fresh: its freed region's mean style loss is at most 1.3x the independent frames' on the
  same regions (the grey wedge at the right edge is new picture held before it is stylised).

With ``--static`` the clip holds still (every frame the first), so the warping error is the
mean |out_t - out_t-1|, and the independent run, from the same noise on the same picture, is
the same every frame; nothing enters, so there is no freed region to measure.

``--keep DIR`` stores each run's written frames (``frames.npz``, uint8) and record
(``run.json``) in ``DIR/NAME``, with what defines it: the config (without its paths), the
network's, the clip's and the style's SHA-256. A later invocation with the same DIR reuses a
run whose stored definition equals the one it would run ("reused NAME"), and measures it again;
it says so when the video code (``video/frames.py``, ``video/flow.py``) changed since.

The network is real features, VGG16/HED (``hed_to_matconvnet.py``), not VGG19: the losses
mean something there, which they do not on random weights. "others" is the cores other
processes kept busy during the run (``machine.Meter``); above ~0.1 the times were disturbed.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import math
import os
import sys
import tempfile
from collections.abc import Sequence

import machine
import numpy as np

from tf1cnn.common import files, images, runtime, samples
from tf1cnn.common.errors import UsageError
from tf1cnn.style_transfer.config import FRAME_TARGET, FREED_STARTS, StyleConfig
from tf1cnn.style_transfer.network import vgg, vgg_graph, weights
from tf1cnn.style_transfer.objective import losses, memory
from tf1cnn.style_transfer.objective.evaluator import FreedStyleTerm
from tf1cnn.style_transfer.optimise import engine, stopping
from tf1cnn.style_transfer.optimise.records import Progress
from tf1cnn.style_transfer.optimise.run import TermLoad
from tf1cnn.style_transfer.tools import sample_clip
from tf1cnn.style_transfer.video import flow
from tf1cnn.style_transfer.video import frames as video
from tf1cnn.style_transfer.video.clips import open_clip

WARM_SHARE = 1 / 3  # a warm start reaches the independent loss in this share of the steps
STABILITY = 1 / 3  # the consistent run's warping error, at most this share of the other's
KEPT = 0.25  # the style and content losses stay within this share of the independent ones
FRESH = 1.3  # the freed region's style loss, at most this many times the independent one's
# The freed region: pixels that entered within this many frames, half the sample clip. New
# picture enters at the right edge ~2 px a frame (the pan less the zoom), so this is a ~24 px
# strip, and the sprite's trail. The grey wedge of docs/video.md is made of pixels that entered
# 5 to 20 frames before: with 4 frames (the newest ~8 px) every run, the wedge's included,
# measured within 1.3x of the independent frames.
ENTERED_FRAMES = 12
EDGE_COLUMNS = 96  # the edge picture's strip at the right of each frame, shown 2x
VIDEO_CODE = (video.__file__, flow.__file__)  # the video code that made a kept run
# The settings that only frames started from the previous result use.
WARM_ONLY = ("temporal_weight", "freed_style_weight", "freed_frames", "freed_edge_frames",
             "freed_start", "frame_target")
# The freed region's figures, each a style loss on a region of a later frame: the pixels that
# entered within --entered-frames (issue 23's figure), and its two parts, new picture that
# entered at the frame's edge and background that the sprite uncovered.
REGIONS = {"fresh_style": "entered", "edge_style": "entered at the edge",
           "uncovered_style": "uncovered"}


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vgg", default="/tmp/vgg16_hed.mat")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", default="250x333")
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--temporal-weight", type=float, nargs="+",
                        default=[StyleConfig.temporal_weight])
    parser.add_argument("--freed-style-weight", type=float, nargs="+",
                        default=[StyleConfig.freed_style_weight])
    parser.add_argument("--freed-frames", type=int, nargs="+",
                        default=[StyleConfig.freed_frames])
    parser.add_argument("--freed-edge-frames", type=int, nargs="+",
                        default=[StyleConfig.freed_edge_frames])
    parser.add_argument("--freed-start", nargs="+", choices=FREED_STARTS,
                        default=[StyleConfig.freed_start])
    parser.add_argument("--frame-target", type=float, nargs="+",
                        default=[FRAME_TARGET])
    parser.add_argument("--static", action="store_true", help="a clip that holds still")
    parser.add_argument("--entered-frames", type=int, default=ENTERED_FRAMES,
                        help="the freed region: pixels that entered within this many frames")
    parser.add_argument("--keep", metavar="DIR",
                        help="store each run here, and reuse a stored run of the same settings")
    parser.add_argument("--json", default="benchmarks/video_quality.json")
    parser.add_argument("--pictures", default="docs/images/video_frames.jpg")
    parser.add_argument("--plot", default="docs/images/video_warping_error.png")
    parser.add_argument("--edge-picture", default="docs/images/video_edge.jpg")
    parser.add_argument("--fresh-plot", default="docs/images/video_fresh_style.png")
    return parser.parse_args(argv)


def variants(args: argparse.Namespace, base: StyleConfig) -> dict[str, StyleConfig]:
    """The runs by name: the independent one, then each consistent one of the options'
    product; a name lists ``w``, the ramp, the edge's frames and the freed pixels' start, and
    the values of the other options that differ from their defaults. (Names written before
    those existed left out a ramp of 0, no edge region and a start from the content:
    doc_tables.py reads them so.)"""
    found = {"independent": dataclasses.replace(base, frame_init="init")}
    for weight, freed, ramp, edge, begin, target in itertools.product(
            args.temporal_weight, args.freed_style_weight, args.freed_frames,
            args.freed_edge_frames, args.freed_start, args.frame_target):
        name = f"consistent w={weight:g}" + (
            f" freed={freed:g}" if freed != StyleConfig.freed_style_weight else "") + \
            f" freed_frames={ramp} edge={edge} freed_start={begin}" + (
            f" target={target:g}" if target else "")
        found[name] = dataclasses.replace(base, temporal_weight=weight, freed_style_weight=freed,
                                          freed_frames=ramp, freed_edge_frames=edge,
                                          freed_start=begin, frame_target=target)
    return found


def run(layers, config: StyleConfig, style: np.ndarray) -> dict:
    """One run of the clip (``config.video``) into ``config.output_dir``: per frame its
    numbers, and the written frames."""
    source = open_clip(config.video)
    meter = machine.Meter()
    frames, written, curve = [], [], []
    with engine.Engine(layers, config, terms=video.terms) as style_engine:
        runner = video.ClipRun(style_engine, config, source, [style])
        for record in runner.records(source.first, None, False, lambda step, total: True):
            if isinstance(record, video.FrameStart):
                curve = []
            elif isinstance(record, Progress) and record.level == record.levels - 1:
                curve.append(stopping.content_style(record.losses, config))
            elif isinstance(record, video.FrameEnd):
                written.append(record.image)
                frames.append({"frame": record.number, "seconds": record.seconds,
                               "flow_seconds": record.flow_seconds, "steps": record.steps,
                               "evaluations": record.evaluations, "losses": record.losses,
                               "estimated_warping_error": record.warping_error,
                               "consistent": record.consistent, "curve": curve})
                print(f"  frame {record.number}: {record.seconds:.1f}s flow "
                      f"{record.flow_seconds:.3f}s content+style {curve[-1]:.6g}", flush=True)
    return {"frames": frames, "seconds": meter.seconds(), "others": meter.other_cores(),
            "written": written}


# The truth-based measures ------------------------------------------------------------------

def entered_ages(backward: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """int64 [T, H, W]: how many frames ago each pixel of each frame entered the clip's view.
    0 where ``visible[t]`` is False (not seen in frame t-1), else one more than the age of
    the pixel it was in frame t-1, at p + ``backward[t]``(p) rounded to the nearest pixel.
    Frame 0's pixels were there before the clip began: their age stays above any count
    asked for (int32's largest)."""
    count, height, width = visible.shape
    oldest = np.iinfo(np.int32).max
    ages = np.full(visible.shape, oldest, np.int64)
    rows, cols = np.mgrid[0:height, 0:width]
    for t in range(1, count):
        y = np.clip(np.rint(rows + backward[t, ..., 1]).astype(np.intp), 0, height - 1)
        x = np.clip(np.rint(cols + backward[t, ..., 0]).astype(np.intp), 0, width - 1)
        ages[t] = np.where(visible[t], np.minimum(ages[t - 1][y, x] + 1, oldest), 0)
    return ages


def region_masks(clip: sample_clip.SyntheticClip, frames: int) -> dict[str, np.ndarray]:
    """bool [T, H, W] for each figure of ``REGIONS``: the pixels that entered within
    ``frames`` frames (``entered_ages``); those that entered at the frame's edge (the same
    count, where the true flow leads outside the frame before, ``flow.entering``); and the
    rest of them, background that the sprite uncovered."""
    entered = entered_ages(clip.backward, clip.visible) < frames
    at_edge = entered_ages(clip.backward, np.stack(
        [~flow.entering(backward) for backward in clip.backward])) < frames
    return {"fresh_style": entered, "edge_style": at_edge, "uncovered_style": entered & ~at_edge}


def lai_warping_error(current: np.ndarray, previous: np.ndarray, backward: np.ndarray,
                      visible: np.ndarray) -> float:
    """Lai et al. (2018): the mean of (current - warp(previous))^2 over the ``visible``
    pixels and the channels, pictures in [0, 255] taken as [0, 1], ``flow.warp``'s bilinear
    warp along ``backward``; NaN when nothing is visible."""
    shown = np.asarray(visible, bool)
    if not shown.any():
        return math.nan
    moved = flow.warp(np.asarray(previous, np.float32), backward)
    squared = np.square((np.asarray(current, np.float64) - moved) / 255.0).mean(axis=2)
    return float(squared[shown].mean())


class RegionStyle:
    """The style loss of a region of a frame as the video engine's freed pixels' term takes
    it: the library's ``FreedStyleTerm`` loaded by ``frames.freed_targets`` with the region's
    weights and the style's per-pixel Gram matrices (``Engine.style_grams``' rescaling). One
    graph for the benchmark; frames are fed through a placeholder. Call it with a float RGB
    frame and a region [H, W] in [0, 1]; ``close`` it after."""

    def __init__(self, layers, config: StyleConfig, style: np.ndarray):
        tf = runtime.import_tensorflow()
        v1 = tf.compat.v1
        self.mean = np.asarray(config.mean_pixel, np.float32)
        names = config.style_layers
        graph = tf.Graph()
        with graph.as_default():
            network = vgg_graph.VGG(layers, config.pooling, config.precision)
            picture = v1.placeholder(tf.float32, [1, None, None, 3], "style_input")
            points = network(picture, scope="style")
            grams = [losses.gram_matrix(points[name]) for name in names]
            self._frame = v1.placeholder(tf.float32, [1, config.height, config.width, 3],
                                         "frame_input")
            sizes = vgg.shapes(network.layers, config.height, config.width)
            self.term = FreedStyleTerm(names, [sizes[name] for name in names],
                                       config.style_layer_weights, 1.0)
            self._loss = self.term.loss(network(self._frame, scope="frame"), self._frame)
            initialize = v1.local_variables_initializer()
            graph.finalize()
        self.session = runtime.new_session(graph)
        self.session.run(initialize)
        size = memory.scaled(config.height, config.width, config.style_scale)
        found = self.session.run(grams, {picture: [images.fit(style, *size) - self.mean]})
        style_sizes = vgg.shapes(network.layers, *size)
        scaled = [gram * np.float32(np.prod(sizes[name][:2]) / np.prod(style_sizes[name][:2]))
                  for gram, name in zip(found, names)]
        self.context = TermLoad(session=self.session, config=config, terms=[self.term],
                                content=None, grams=[scaled], layers=list(network.layers),
                                pixels=None)  # all that ``freed_targets`` reads

    def __call__(self, frame: np.ndarray, region: np.ndarray) -> float:
        self.term.load(self.session, *video.freed_targets(
            self.context, np.asarray(region, np.float32)))
        return float(self.session.run(self._loss, {self._frame: [frame - self.mean]}))

    def close(self) -> None:
        self.session.close()


def measure(result: dict, clip: sample_clip.SyntheticClip,
            regions: dict[str, Sequence[np.ndarray]], region_style: RegionStyle) -> None:
    """Add the truth-based measures to each later frame of ``result``: the warping error
    (``true_warping_error``), Lai et al.'s (``lai_warping_error``) and for each figure of
    ``REGIONS`` the style loss of its region in frame t, ``regions[figure][t]``."""
    written = result["written"]
    for t in range(1, len(written)):
        current, previous = written[t].astype(np.float32), written[t - 1].astype(np.float32)
        frame = result["frames"][t]
        frame["true_warping_error"] = flow.warping_error(
            current, previous, clip.backward[t], clip.visible[t].astype(np.float32))
        frame["lai_warping_error"] = lai_warping_error(current, previous, clip.backward[t],
                                                       clip.visible[t])
        for figure, found in regions.items():
            frame[figure] = region_style(current, found[t])


# Kept runs ----------------------------------------------------------------------------------

def digest(*arrays: np.ndarray) -> str:
    found = hashlib.sha256()
    for array in arrays:
        found.update(np.ascontiguousarray(array).tobytes())
    return found.hexdigest()


def run_key(config: StyleConfig, network: str, clip: str, style: str) -> dict:
    """What defines a run, as JSON reads it back: the config without its paths, and the
    SHA-256 of the network, of the clip's frames and of the style picture."""
    settings = dataclasses.asdict(config)
    for path in ("output_dir", "video"):
        settings.pop(path)
    return json.loads(json.dumps({"config": settings, "network": network, "clip": clip,
                                  "style": style}))


def video_code() -> str:
    found = hashlib.sha256()
    for path in VIDEO_CODE:
        with open(path, "rb") as handle:
            found.update(handle.read())
    return found.hexdigest()


def defining(key: dict) -> dict:
    """A run's key as kept runs are compared by it: the config's fields that a stored run
    predates given their ``old`` values (what it did), and for independent frames without
    ``WARM_ONLY``, which they never use."""
    config = dict(key["config"])
    for field in dataclasses.fields(StyleConfig):
        if field.name not in config and "old" in field.metadata:
            old = field.metadata["old"]
            config[field.name] = old(config) if callable(old) else old
    if config["frame_init"] != "warped":
        for name in WARM_ONLY:
            config.pop(name, None)
    return {**key, "config": config}


def kept_run(folder: str, key: dict) -> tuple[dict, bool] | None:
    """The run stored in ``folder`` (``keep_run``) if its key defines the same run as ``key``
    (``defining``), and whether today's video code made it (``video_code``); None when there
    is none or it was another run."""
    try:
        with open(os.path.join(folder, "run.json")) as handle:
            stored = json.load(handle)
        if defining(stored["key"]) != defining(key):
            return None
        with np.load(os.path.join(folder, "frames.npz")) as archive:
            written = list(archive["written"])
    except (OSError, ValueError, KeyError):
        return None
    return {**stored["record"], "written": written}, stored.get("video_code") == video_code()


def keep_run(folder: str, key: dict, result: dict) -> None:
    """Store ``result`` (its written frames in ``frames.npz``, the rest in ``run.json`` with
    ``key``) in ``folder``; ``run.json`` last, so that a half-stored run is never reused."""
    os.makedirs(folder, exist_ok=True)
    with files.atomic_write(os.path.join(folder, "frames.npz"), binary=True) as handle:
        np.savez_compressed(handle, written=np.stack(result["written"]))
    record = {k: v for k, v in result.items() if k != "written"}
    files.write_text(os.path.join(folder, "run.json"), json.dumps(
        {"key": key, "video_code": video_code(), "record": record}, indent=1, default=float))


# Summary and table --------------------------------------------------------------------------

def _share(value: float, base: float) -> float:
    return value / base if base else math.nan  # a static clip's base error is 0


def summary(name: str, result: dict, independent: dict, iterations: int) -> dict:
    frames = result["frames"]
    later = frames[1:]
    found = {
        "run": name,
        "mean_warping_error": float(np.mean([f["true_warping_error"] for f in later])),
        "mean_lai_warping_error": float(np.mean([f["lai_warping_error"] for f in later])),
        **{f"mean_{figure}": float(np.mean([f[figure] for f in later])) for figure in REGIONS
           if figure in later[0]},
        "mean_style": float(np.mean([f["losses"]["style"] for f in frames])),
        "mean_content": float(np.mean([f["losses"]["content"] for f in frames])),
        "seconds_per_frame": float(np.mean([f["seconds"] for f in frames])),
        "flow_share": sum(f["flow_seconds"] for f in frames) / sum(f["seconds"] for f in frames),
        "others": result["others"],
    }
    if independent is not None and independent is not result:
        base = summary("independent", independent, None, iterations)
        for figure, mean in (("warping", "mean_warping_error"), ("style", "mean_style"),
                             ("content", "mean_content"),
                             ("lai_warping", "mean_lai_warping_error")):
            found[f"{figure}_ratio"] = _share(found[mean], base[mean])
        for figure in REGIONS:
            if f"mean_{figure}" not in found:
                continue
            found[f"{figure}_ratio"] = _share(found[f"mean_{figure}"], base[f"mean_{figure}"])
            ratios = [_share(own[figure], other[figure])
                      for own, other in zip(later, independent["frames"][1:])]
            found[f"{figure}_ratios"] = ratios
            found[f"{figure}_max_ratio"] = max((r for r in ratios if not math.isnan(r)),
                                               default=math.nan)
        reached = []
        for own, other in zip(later, independent["frames"][1:]):
            target = other["curve"][-1]
            reached.append(next((k + 1 for k, value in enumerate(own["curve"])
                                 if value <= target), math.inf))
        found["steps_to_independent_loss"] = reached
        found["stable"] = found["warping_ratio"] <= STABILITY
        found["kept"] = abs(found["style_ratio"] - 1) <= KEPT and \
            abs(found["content_ratio"] - 1) <= KEPT
        found["warm"] = max(reached) <= iterations * WARM_SHARE
        found["fresh"] = found["fresh_style_ratio"] <= FRESH
    return found


def table(rows: Sequence[dict]) -> str:
    header = ("| run | warping error | ÷ indep. | Lai error x1e3 | ÷ | style | ÷ | content | ÷ | "
              + " | ".join(f"{name} ÷ (mean, max)" for name in REGIONS.values()) +
              " | steps to indep. loss (median, max) | s/frame | flow share | others | "
              "checks |")
    lines = [header, "|---" * (13 + len(REGIONS)) + "|"]
    for row in rows:
        reached = row.get("steps_to_independent_loss")
        steps = f"{np.median(reached):g}, {max(reached):g}" if reached else "–"
        fresh = " | ".join(
            f"{row[f'{figure}_ratio']:.3f}, {row[f'{figure}_max_ratio']:.3f}"
            if f"{figure}_ratio" in row else "–" for figure in REGIONS)
        checks = " ".join(f"{name} {'yes' if row[name] else 'NO'}"
                          for name in ("stable", "kept", "warm", "fresh") if name in row) or "–"
        lines.append(
            f"| {row['run']} | {row['mean_warping_error']:.2f} | "
            f"{row.get('warping_ratio', 1):.3f} | {row['mean_lai_warping_error'] * 1e3:.3f} | "
            f"{row.get('lai_warping_ratio', 1):.3f} | {row['mean_style']:.4g} | "
            f"{row.get('style_ratio', 1):.3f} | {row['mean_content']:.4g} | "
            f"{row.get('content_ratio', 1):.3f} | {fresh} | {steps} | "
            f"{row['seconds_per_frame']:.1f} | {row['flow_share']:.3f} | {row['others']:.2f} | "
            f"{checks} |")
    return "\n".join(lines)


# Pictures and plots -------------------------------------------------------------------------

def write_sheet(rows: Sequence[Sequence[np.ndarray]], path: str) -> None:
    """The pictures of ``rows`` (each the same size) in a grid, 4 white pixels apart, as a
    JPEG."""
    gap = 4
    height, width = rows[0][0].shape[:2]
    columns = len(rows[0])
    sheet = np.full((len(rows) * (height + gap) - gap, columns * (width + gap) - gap, 3),
                    255.0, np.float32)
    for r, row in enumerate(rows):
        for c, picture in enumerate(row):
            sheet[r * (height + gap):r * (height + gap) + height,
                  c * (width + gap):c * (width + gap) + width] = picture
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    import imageio.v3 as iio
    iio.imwrite(path, images.to_uint8(sheet), extension=".jpg", quality=90)


def clip_rows(clip: sample_clip.SyntheticClip, results: dict, picks: Sequence[int]) -> list:
    """Rows of frames ``picks`` (0-based): the clip's, then each run's."""
    return [[clip.frames[k] for k in picks]] + \
        [[result["written"][k].astype(np.float32) for k in picks] for result in results.values()]


def pictures(clip: sample_clip.SyntheticClip, results: dict, path: str) -> None:
    """Rows: the clip, then each run; columns: four frames spread over the clip."""
    count = len(clip.frames)
    picks = sorted({0, count // 3, 2 * count // 3, count - 1})
    write_sheet(clip_rows(clip, results, picks), path)
    print(f"rows: clip, {', '.join(results)}; frames {[k + 1 for k in picks]} -> {path}")


def edge_picture(clip: sample_clip.SyntheticClip, results: dict, path: str) -> None:
    """Rows: the clip, then each run; columns: the right-hand ``EDGE_COLUMNS`` of frames at a
    third, two thirds and the end of the clip (8, 16, 24 of 24), enlarged 2x by nearest
    neighbour: where new picture enters, the wedge."""
    count = len(clip.frames)
    picks = sorted({max(round(count * k / 3) - 1, 0) for k in (1, 2, 3)})
    rows = [[np.repeat(np.repeat(frame[:, -EDGE_COLUMNS:], 2, axis=0), 2, axis=1)
             for frame in row] for row in clip_rows(clip, results, picks)]
    write_sheet(rows, path)
    print(f"rows: clip, {', '.join(results)}; the right {EDGE_COLUMNS} columns of frames "
          f"{[k + 1 for k in picks]}, 2x -> {path}")


def plot(results: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(7, 3.5))
    for name, result in results.items():
        frames = result["frames"][1:]
        axes.plot([f["frame"] for f in frames], [f["true_warping_error"] for f in frames],
                  marker="o", markersize=3, label=name)
    axes.set_xlabel("frame")
    axes.set_ylabel("warping error (grey levels)")
    axes.set_title("mean |out_t - warp(out_t-1)| with the true flow, visible pixels")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def fresh_plot(rows: Sequence[dict], results: dict, entered: int, path: str) -> None:
    """Per later frame, each consistent run's freed region's style loss over the independent
    frame's on the same region, with the goal's line."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(7, 3.5))
    for row in rows:
        if "fresh_style_ratios" in row:
            numbers = [f["frame"] for f in results[row["run"]]["frames"][1:]]
            axes.plot(numbers, row["fresh_style_ratios"], marker="o", markersize=3,
                      label=row["run"])
    axes.axhline(FRESH, color="grey", linestyle="--", linewidth=1, label=f"goal: {FRESH:g}x")
    axes.axhline(1, color="black", linewidth=0.5)
    axes.set_xlabel("frame")
    axes.set_ylabel("÷ independent frame")
    axes.set_title(f"style loss of the pixels that entered within {entered} frames")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


# The script -------------------------------------------------------------------------------

def settings(args: argparse.Namespace) -> dict[str, StyleConfig]:
    """The runs' configs by name; UsageError for an option no run could use."""
    try:
        height, width = map(int, args.size.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size takes HxW, got {args.size!r}") from None
    if args.entered_frames < 1:
        raise UsageError(f"--entered-frames must be at least 1, got {args.entered_frames}")
    base = StyleConfig(height=height, width=width, optimizer="lbfgs", iterations=args.iterations,
                       init="noise", seed=0, checkpoint_every=10 ** 6)
    found = variants(args, base)
    for config in found.values():
        config.check()
    if args.keep:
        files.check_writable(args.keep, "--keep folder")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    try:
        configs = settings(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    base = configs["independent"]
    network = weights.load(args.vgg, (base.content_layer, *base.style_layers))
    photo = images.read_rgb(samples.sample(samples.SAMPLE_CONTENT))
    style = images.read_rgb(samples.sample(samples.SAMPLE_STYLE))
    clip = sample_clip.make(photo, frames=args.frames, height=base.height, width=base.width,
                            static=args.static)
    clip_sha, style_sha = digest(images.to_uint8(clip.frames)), digest(style)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = os.path.join(scratch, "clip")
        sample_clip.write_folder(clip, folder)
        for name, config in configs.items():
            print(f"{name}:", flush=True)
            stem = name.replace(" ", "_")
            key = run_key(config, network.sha256, clip_sha, style_sha)
            kept = os.path.join(args.keep, stem) if args.keep else None
            found = kept_run(kept, key) if kept else None
            if found is not None:
                results[name], same_code = found
                print(f"reused {name}" + ("" if same_code else f" (stored by other code "
                                          f"than today's {', '.join(VIDEO_CODE)})"), flush=True)
                continue
            config = dataclasses.replace(config, video=folder,
                                         output_dir=os.path.join(scratch, stem))
            results[name] = run(network.layers, config, style)
            if kept:
                keep_run(kept, key, results[name])
    regions = {figure: [None] + [found.astype(np.float32) for found in region[1:]]
               for figure, region in region_masks(clip, args.entered_frames).items()}
    region_style = RegionStyle(network.layers, base, style)
    try:
        for result in results.values():
            measure(result, clip, regions, region_style)
    finally:
        region_style.close()
    rows = [summary(name, result, results["independent"], args.iterations)
            for name, result in results.items()]
    print(table(rows))
    stored = {"cpu": machine.cpu_name(), "commit": machine.head_commit(),
              "network": os.path.basename(args.vgg),
              "size": args.size, "frames": args.frames, "iterations": args.iterations,
              "static": args.static, "entered_frames": args.entered_frames,
              "entered_pixels": {figure: [int(region.sum()) for region in found[1:]]
                                 for figure, found in regions.items()},
              "summary": rows,
              "runs": {name: {k: v for k, v in result.items() if k != "written"}
                       for name, result in results.items()}}
    with open(args.json, "w") as handle:
        json.dump(stored, handle, indent=1, default=float)
    pictures(clip, results, args.pictures)
    edge_picture(clip, results, args.edge_picture)
    plot(results, args.plot)
    fresh_plot(rows, results, args.entered_frames, args.fresh_plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
