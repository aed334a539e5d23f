"""Frames per second of the feed-forward style network on the sample clip, beside ``--video``.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/style_net_clip.py [--vgg PATH] [--frames 6]
        [--size 250x333] [--iterations 20] [--widths 1 0.5]
        [--json benchmarks/style_net_clip.json]

In one run, on the synthetic clip (``sample_clip``, written as PNG frames): ``tf1cnn-style
--video`` as ``video_speed.py`` runs it (L-BFGS, ``--iterations`` a frame, on the full-size
random-weight VGG19 unless ``--vgg`` names another file), then ``tf1cnn-style --network DIR
--video`` for a fresh network of each of ``--widths`` (speed does not depend on the weights;
the checkpoint is written here, with the ``run.json`` the trainer would write). Each reads its
``frames.csv``: a frame's wall time (for ``--network``: the forward pass, and the optical flow
that its warping error needs). The first frame sets up the graph's kernels, so the later
frames' medians are the figures. "others": the cores other processes kept busy meanwhile.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence

import machine
import numpy as np

SCRIPT = os.path.join(machine.ROOT, "scripts", "style_transfer.py")


def fresh_network(folder: str, width: float) -> None:
    """A checkpoint of an untrained network of ``width`` in ``folder``, as training leaves."""
    from tf1cnn.common import runtime

    tf = runtime.import_tensorflow()
    from tf1cnn.style_transfer.network import transform

    v1 = tf.compat.v1
    with tf.Graph().as_default() as graph:
        transform.stylise(v1.placeholder(tf.float32, [1, None, None, 3]), width)
        step = v1.train.get_or_create_global_step()
        with runtime.new_session(graph) as session:
            session.run(v1.global_variables_initializer())
            v1.train.Saver().save(session, os.path.join(folder, "model.ckpt"), global_step=step)
    with open(os.path.join(folder, "run.json"), "w") as handle:
        json.dump({"model": "style-net", "width": width}, handle)


def frames(command: list[str], out: str) -> tuple[list[dict], float]:
    """Run ``command`` (writing to ``out``); its frames.csv rows and the others' cores."""
    meter = machine.Meter()
    subprocess.run([sys.executable, SCRIPT, *command, "--output-dir", out], check=True,
                   stdout=subprocess.DEVNULL)
    others = meter.other_cores()
    with open(os.path.join(out, "frames.csv")) as handle:
        return list(csv.DictReader(handle)), others


def summary(name: str, rows: list[dict], others: float, forward: bool) -> dict:
    later = rows[1:]
    seconds = float(np.median([float(r["seconds"]) for r in later]))
    found = {"run": name, "first_frame_seconds": float(rows[0]["seconds"]),
             "median_seconds_per_frame": seconds, "frames_per_second": 1 / seconds,
             "others": others}
    if forward:  # a frame's wall time less its optical flow's
        found["median_forward_seconds"] = float(np.median(
            [float(r["seconds"]) - float(r["flow_seconds"]) for r in later]))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    machine.clip_options(parser)
    parser.add_argument("--widths", type=float, nargs="+", default=[1.0, 0.5])
    parser.add_argument("--json", default=os.path.join(machine.ROOT, "benchmarks",
                                                       "style_net_clip.json"))
    args = parser.parse_args(argv)
    height, width = map(int, args.size.split("x"))
    vgg = args.vgg or machine.random_vgg19()
    machine.warm_weights_cache(vgg)
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        clip = os.path.join(scratch, "clip")
        machine.write_sample_clip(clip, args.frames, height, width)
        rows, others = frames(["--video", clip, "--vgg", vgg, "--height", str(height),
                               "--width", str(width), "--optimizer", "lbfgs", "--iterations",
                               str(args.iterations), "--seed", "0"],
                              os.path.join(scratch, "video"))
        runs.append(summary(f"--video, L-BFGS {args.iterations} iterations a frame", rows,
                            others, False))
        for net_width in args.widths:
            network = os.path.join(scratch, f"net_{net_width:g}")
            os.makedirs(network)
            fresh_network(network, net_width)
            rows, others = frames(["--network", network, "--video", clip],
                                  os.path.join(scratch, f"out_{net_width:g}"))
            runs.append(summary(f"--network, width {net_width:g}", rows, others, True))
    result = {"cpu": machine.cpu_name(), "commit": machine.head_commit(),
              "network": os.path.basename(vgg), "size": args.size, "frames": args.frames,
              "runs": runs}
    with open(args.json, "w") as handle:
        json.dump(result, handle, indent=1)
    for run in runs:
        print(f"{run['run']}: {run['median_seconds_per_frame']:.3f} s a frame "
              f"({run['frames_per_second']:.2f} frames/s), others {run['others']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
