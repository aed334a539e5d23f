"""Video: does the temporally consistent run hold still where the independent one flickers, at
the same style and content, and how much sooner does its warm start get there?

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/video_quality.py [--vgg /tmp/vgg16_hed.mat]
        [--frames 24] [--size 250x333] [--iterations 50] [--temporal-weight 10 ...]
        [--freed-style-weight 1 ...] [--frame-target 0 ...] [--static]
        [--json benchmarks/video_quality.json] [--pictures docs/images/video_frames.jpg]
        [--plot docs/images/video_warping_error.png]

The clip is ``sample_clip.make`` from the bundled photograph (a window panning and zooming,
a sprite moving against it), so the true flow and occlusions are known. Two kinds of run, each
the library's ``ClipRun`` with a ``Progress`` record at every step, L-BFGS for
``--iterations`` on every frame, ``--init noise --seed 0``:

* **independent**: ``--frame-init init``, every frame from the same noise, no temporal term;
* **consistent** (one per ``--temporal-weight``, ``--freed-style-weight`` and
  ``--frame-target``): each later frame from the previous result warped by the estimated flow,
  with the temporal term and the freed pixels' style term; with a target, it stops once its
  content+style loss is at most that many times the first frame's.

Per frame it records the wall time and the flow's share of it, the final losses, the
content+style part of the loss (both weighted, as in the total) at every step, and the
warping error of the written frames measured with the clip's TRUE flow and visibility:
mean |out_t - warp(out_t-1)| over the pixels visible in both frames. The checks (issue 11):

* stability: a consistent run's mean warping error is at most 1/3 of the independent one's;
* kept: its mean style loss and its mean content loss are each within 25% of the
  independent run's;
* warm start: each later frame's content+style loss reaches its independent frame's final
  one within 1/3 of the iterations.

With ``--static`` the clip holds still (every frame the first), so the warping error is the
mean |out_t - out_t-1|, and the independent run, from the same noise on the same picture, is
the same every frame.

The network is real features, VGG16/HED (``hed_to_matconvnet.py``), not VGG19: the losses
mean something there, which they do not on random weights. "others" is the cores other
processes kept busy during the run (``machine.Meter``); above ~0.1 the times were disturbed.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import os
import sys
import tempfile
from collections.abc import Sequence

import machine
import numpy as np

from tf1cnn.common import images, samples
from tf1cnn.style_transfer.config import FRAME_TARGET, StyleConfig
from tf1cnn.style_transfer.network import weights
from tf1cnn.style_transfer.optimise import engine, stopping
from tf1cnn.style_transfer.optimise.records import Progress
from tf1cnn.style_transfer.tools import sample_clip
from tf1cnn.style_transfer.video import flow
from tf1cnn.style_transfer.video import frames as video
from tf1cnn.style_transfer.video.clips import open_clip

WARM_SHARE = 1 / 3  # a warm start reaches the independent loss in this share of the steps
STABILITY = 1 / 3  # the consistent run's warping error, at most this share of the other's
KEPT = 0.25  # the style and content losses stay within this share of the independent ones


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
    parser.add_argument("--frame-target", type=float, nargs="+",
                        default=[FRAME_TARGET])
    parser.add_argument("--static", action="store_true", help="a clip that holds still")
    parser.add_argument("--json", default="benchmarks/video_quality.json")
    parser.add_argument("--pictures", default="docs/images/video_frames.jpg")
    parser.add_argument("--plot", default="docs/images/video_warping_error.png")
    return parser.parse_args(argv)


def run(layers, config: StyleConfig, clip: sample_clip.SyntheticClip, style: np.ndarray
        ) -> dict:
    """One run of the clip (``config.video``, its frames written from ``clip``) into
    ``config.output_dir``: per frame its numbers, and the written frames."""
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
    for t in range(1, len(written)):
        frames[t]["true_warping_error"] = flow.warping_error(
            written[t].astype(np.float32), written[t - 1].astype(np.float32),
            clip.backward[t], clip.visible[t].astype(np.float32))
    return {"frames": frames, "seconds": meter.seconds(), "others": meter.other_cores(),
            "written": written}


def summary(name: str, result: dict, independent: dict, iterations: int) -> dict:
    frames = result["frames"]
    later = frames[1:]
    found = {
        "run": name,
        "mean_warping_error": float(np.mean([f["true_warping_error"] for f in later])),
        "mean_style": float(np.mean([f["losses"]["style"] for f in frames])),
        "mean_content": float(np.mean([f["losses"]["content"] for f in frames])),
        "seconds_per_frame": float(np.mean([f["seconds"] for f in frames])),
        "flow_share": sum(f["flow_seconds"] for f in frames) / sum(f["seconds"] for f in frames),
        "others": result["others"],
    }
    if independent is not None and independent is not result:
        base = summary("independent", independent, None, iterations)
        for name, mean in (("warping", "mean_warping_error"), ("style", "mean_style"),
                           ("content", "mean_content")):  # a static clip's base error is 0
            found[f"{name}_ratio"] = found[mean] / base[mean] if base[mean] else math.nan
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
    return found


def table(rows: Sequence[dict]) -> str:
    lines = ["| run | warping error | ÷ indep. | style | ÷ | content | ÷ | steps to indep. loss "
             "(median, max) | s/frame | flow share | others | checks |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        reached = row.get("steps_to_independent_loss")
        steps = f"{np.median(reached):g}, {max(reached):g}" if reached else "–"
        checks = " ".join(f"{name} {'yes' if row[name] else 'NO'}"
                          for name in ("stable", "kept", "warm") if name in row) or "–"
        lines.append(
            f"| {row['run']} | {row['mean_warping_error']:.2f} | "
            f"{row.get('warping_ratio', 1):.3f} | {row['mean_style']:.4g} | "
            f"{row.get('style_ratio', 1):.3f} | {row['mean_content']:.4g} | "
            f"{row.get('content_ratio', 1):.3f} | {steps} | {row['seconds_per_frame']:.1f} | "
            f"{row['flow_share']:.3f} | {row['others']:.2f} | {checks} |")
    return "\n".join(lines)


def pictures(clip: sample_clip.SyntheticClip, results: dict, path: str) -> None:
    """Rows: the clip, then each run; columns: four frames spread over the clip."""
    count = len(clip.frames)
    picks = sorted({0, count // 3, 2 * count // 3, count - 1})
    rows = [[clip.frames[k] for k in picks]] + \
        [[result["written"][k].astype(np.float32) for k in picks] for result in results.values()]
    gap = 4
    height, width = clip.frames.shape[1:3]
    sheet = np.full((len(rows) * (height + gap) - gap, len(picks) * (width + gap) - gap, 3),
                    255.0, np.float32)
    for r, row in enumerate(rows):
        for c, frame in enumerate(row):
            sheet[r * (height + gap):r * (height + gap) + height,
                  c * (width + gap):c * (width + gap) + width] = frame
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    import imageio.v3 as iio
    iio.imwrite(path, images.to_uint8(sheet), extension=".jpg", quality=90)
    print(f"rows: clip, {', '.join(results)}; frames {[k + 1 for k in picks]} -> {path}")


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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    height, width = map(int, args.size.split("x"))
    settings = StyleConfig()
    layers = weights.load(args.vgg, (settings.content_layer, *settings.style_layers)).layers
    photo = images.read_rgb(samples.sample(samples.SAMPLE_CONTENT))
    style = images.read_rgb(samples.sample(samples.SAMPLE_STYLE))
    clip = sample_clip.make(photo, frames=args.frames, height=height, width=width,
                            static=args.static)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = os.path.join(scratch, "clip")
        sample_clip.write_folder(clip, folder)
        base = StyleConfig(video=folder, height=height, width=width, optimizer="lbfgs",
                           iterations=args.iterations, init="noise", seed=0,
                           checkpoint_every=10 ** 6)
        variants = {"independent": dataclasses.replace(base, frame_init="init")}
        for weight, freed, target in itertools.product(
                args.temporal_weight, args.freed_style_weight, args.frame_target):
            name = f"consistent w={weight:g}" + (
                f" freed={freed:g}" if freed != StyleConfig.freed_style_weight else "") + (
                f" target={target:g}" if target else "")
            variants[name] = dataclasses.replace(base, temporal_weight=weight,
                                                 freed_style_weight=freed, frame_target=target)
        for name, config in variants.items():
            print(f"{name}:", flush=True)
            out = os.path.join(scratch, name.replace(" ", "_"))
            results[name] = run(layers, dataclasses.replace(config, output_dir=out), clip,
                                style)
    rows = [summary(name, result, results["independent"], args.iterations)
            for name, result in results.items()]
    print(table(rows))
    stored = {"cpu": machine.cpu_name(), "network": os.path.basename(args.vgg),
              "size": args.size, "frames": args.frames, "iterations": args.iterations,
              "static": args.static,
              "summary": rows,
              "runs": {name: {k: v for k, v in result.items() if k != "written"}
                       for name, result in results.items()}}
    with open(args.json, "w") as handle:
        json.dump(stored, handle, indent=1, default=float)
    pictures(clip, results, args.pictures)
    plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
