"""Seconds per video frame, and the optical flow's share of them, as the command line runs.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/video_speed.py [--vgg PATH] [--frames 6]
        [--size 250x333] [--iterations 20] [--json benchmarks/video_speed.json]

Runs ``tf1cnn-style --video`` in a subprocess on the synthetic clip (``sample_clip``, written as
PNG frames) with ``--optimizer lbfgs``, ``--iterations`` for every frame, on the full-size
random-weight VGG19 of ``machine.random_vgg19`` unless ``--vgg`` names another file (the speed
is the network's FLOPs, not its weights). It reads ``frames.csv``: per frame its wall time,
from the flow to the written PNG, and the flow's part (both directions and the mask). The
first frame has no flow and starts the graph's fetches, so the later frames' medians are the
figures; "others" is the cores other processes kept busy meanwhile (``machine.Meter``).
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    machine.clip_options(parser)
    parser.add_argument("--json", default="benchmarks/video_speed.json")
    args = parser.parse_args(argv)
    height, width = map(int, args.size.split("x"))
    vgg = args.vgg or machine.random_vgg19()
    machine.warm_weights_cache(vgg)
    with tempfile.TemporaryDirectory() as scratch:
        folder = os.path.join(scratch, "clip")
        machine.write_sample_clip(folder, args.frames, height, width)
        out = os.path.join(scratch, "out")
        meter = machine.Meter()
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "scripts",
                              "style_transfer.py")
        subprocess.run([sys.executable, script, "--video", folder,
                        "--vgg", vgg, "--height", str(height), "--width", str(width),
                        "--optimizer", "lbfgs", "--iterations", str(args.iterations),
                        "--seed", "0", "--output-dir", out], check=True,
                       stdout=subprocess.DEVNULL)
        others = meter.other_cores()
        with open(os.path.join(out, "frames.csv")) as handle:
            rows = list(csv.DictReader(handle))
    later = rows[1:]
    seconds = [float(r["seconds"]) for r in later]
    flows = [float(r["flow_seconds"]) for r in later]
    result = {"cpu": machine.cpu_name(), "network": os.path.basename(vgg), "size": args.size,
              "frames": args.frames, "iterations": args.iterations,
              "first_frame_seconds": float(rows[0]["seconds"]),
              "median_seconds_per_frame": float(np.median(seconds)),
              "median_flow_seconds": float(np.median(flows)),
              "flow_share": sum(flows) / sum(seconds),
              "median_evaluations": float(np.median([float(r["evaluations"]) for r in later])),
              "others": others, "rows": rows}
    with open(args.json, "w") as handle:
        json.dump(result, handle, indent=1)
    print(f"{result['network']} {args.size}, {args.iterations} L-BFGS iterations a frame: "
          f"first frame {result['first_frame_seconds']:.1f} s; later frames median "
          f"{result['median_seconds_per_frame']:.1f} s, of which the flow "
          f"{result['median_flow_seconds'] * 1000:.0f} ms (share {result['flow_share']:.4f}); "
          f"others {others:.2f} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
