"""Speed and peak memory of the Gatys optimisation step, against a large matmul on the same CPU.

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/style_speed.py [--vgg PATH] [--sizes 250x333 512x512]
        [--steps 20] [--repeats 3] [--warmup 5] [--no-head] [--width-divisor 1]

Without ``--vgg`` it builds once, cached under ``--cache``, a VGG19 MatConvNet file of the real
shapes with random weights (``machine.random_vgg19``: same FLOPs; ~575 MB with the fc6-fc8
head, unless ``--no-head``; ``--width-divisor 8`` makes a thin one for a smoke test).
Each size runs in its own worker subprocess, so that the peak memory (VmHWM,
``memory.peak_resident``; "load MB" is the peak after reading the weights, from the style tool's
weights cache, built before the first worker as a user's first run builds it) is that of one
size: it builds an ``Engine`` with the default ``StyleConfig`` on uniform-noise images, starts
the run's ``records()`` up to its ``LevelStart`` (targets and start image loaded), runs
``--warmup`` steps, then times ``--repeats`` blocks of ``--steps`` bare
``session.run(run.adam_step)`` calls (no loss fetches, images, summaries or checkpoints) and
reports the median ms/iteration. "est. MB" is ``memory.memory_estimate``. GFLOP/s =
``vgg.flops`` of the trunk to relu5_1 (convolutions, forward + backward to the image; Gram
matmuls not counted) / time. A 4096^3 fp32 matmul in a TF1 Session (median of several runs) runs
in its own subprocess before and after each size; the ratio uses the mean of the two. "others" =
cores other processes kept busy meanwhile (``machine.Meter``): above ~0.1 the figures are
disturbed.

Both workers use the engine's own ``runtime.session_config()``. Like the CLI it sets
``TF_ENABLE_ONEDNN_OPTS=1`` unless the environment has it; ``=0`` gives TensorFlow's default
on CPUs without AVX-512 (Eigen kernels, whose 4096^3 matmul reaches about half of oneDNN's
there). Prints a table, then one JSON line, and writes the same figures to ``--json``
(``benchmarks/style_speed.json``, from which ``render_docs.py`` makes the table in docs/speed.md;
``--label`` names the code measured, for a run of an older commit from a worktree).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Sequence

import machine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

OUTPUTS = ("relu4_2", "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vgg", help="MatConvNet VGG19 .mat; default: a cached random one")
    parser.add_argument("--cache", default=machine.CACHE)
    parser.add_argument("--no-head", dest="head", action="store_false",
                        help="leave the fc6-fc8 head out of the random file")
    parser.add_argument("--width-divisor", type=int, default=1,
                        help="divide the random file's channel counts (smoke tests)")
    parser.add_argument("--sizes", nargs="+", default=["250x333", "512x512"], help="HxW")
    parser.add_argument("--steps", type=int, default=20, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=3, help="timed blocks")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--matmul-n", type=int, default=4096)
    parser.add_argument("--matmul-runs", type=int, default=5)
    parser.add_argument("--json", default=os.path.join(ROOT, "benchmarks", "style_speed.json"),
                        help="where to write the figures")
    parser.add_argument("--label", default="engine", help="the code measured, for the table")
    parser.add_argument("--worker", choices=("style", "matmul"), help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def setup_tf() -> tuple[Any, dict[str, Any]]:
    """In a worker: the engine's session ConfigProto and a description of the settings."""
    import tensorflow as tf

    from tf1cnn.common import runtime
    config = runtime.session_config()
    try:  # TF's own answer: off by default on CPUs without AVX-512, such as AMD EPYC
        from tensorflow.python.util import _pywrap_util_port
        onednn = "on" if _pywrap_util_port.IsMklEnabled() else "off"
    except (ImportError, AttributeError):
        onednn = "unknown"
    return config, {"tf": tf.__version__, "cpus": os.cpu_count(),
                    "intra": config.intra_op_parallelism_threads,
                    "inter": config.inter_op_parallelism_threads, "onednn": onednn,
                    "onednn_env": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset")}


def style_worker(args: argparse.Namespace) -> dict[str, Any]:
    _, info = setup_tf()
    import numpy as np

    from tf1cnn.style_transfer.config import StyleConfig
    from tf1cnn.style_transfer.control import inputs
    from tf1cnn.style_transfer.network import vgg, weights
    from tf1cnn.style_transfer.objective import memory
    from tf1cnn.style_transfer.optimise import engine
    from tf1cnn.style_transfer.shell.rundir import RunDir

    height, width = (int(v) for v in args.size.split("x"))
    config = StyleConfig(height=height, width=width, seed=0)
    layers = weights.load(args.vgg, OUTPUTS).layers  # from the cache, as the CLI reads it
    load_peak = memory.peak_resident()
    rng = np.random.default_rng(0)
    content, style = (rng.uniform(0, 255, (height, width, 3)).astype(np.float32) for _ in "cs")
    blocks = []
    with tempfile.TemporaryDirectory() as tmp, engine.Engine(layers, config) as style_engine:
        run = style_engine.run(inputs.prepare(config, content, [style]), [RunDir(tmp)])
        with contextlib.closing(run.records()) as records:
            next(records)  # the LevelStart: the targets and the start image are loaded
            step = run.adam_step  # raises if that was not an Adam level starting
            for _ in range(args.warmup):
                run.session.run(step)
            for _ in range(args.repeats):
                began = time.perf_counter()
                for _ in range(args.steps):
                    run.session.run(step)
                blocks.append((time.perf_counter() - began) / args.steps)
    seconds = statistics.median(blocks)
    flops = vgg.flops(layers, height, width)
    return dict(info, size=args.size, ms=1000 * seconds, ms_blocks=[1000 * b for b in blocks],
                gflop=flops / 1e9, gflops=flops / seconds / 1e9, load_peak_mb=load_peak / 2**20,
                peak_mb=memory.peak_resident() / 2**20,
                estimate_mb=memory.memory_estimate(layers, height, width) / 2**20)


def matmul_worker(args: argparse.Namespace) -> dict[str, Any]:
    config, info = setup_tf()
    import tensorflow as tf
    n = args.matmul_n
    graph = tf.Graph()
    with graph.as_default():  # variables, so that grappler cannot fold the product away
        a = tf.compat.v1.get_variable("a", [n, n], initializer=tf.random_normal_initializer())
        b = tf.compat.v1.get_variable("b", [n, n], initializer=tf.random_normal_initializer())
        product = tf.matmul(a, b).op  # run as a target: nothing is copied out
        init = tf.compat.v1.global_variables_initializer()
    times = []
    with tf.compat.v1.Session(graph=graph, config=config) as sess:
        sess.run(init)
        for index in range(args.matmul_runs + 2):  # two warm-up runs
            start = time.perf_counter()
            sess.run(product)
            if index >= 2:
                times.append(time.perf_counter() - start)
    return dict(info, n=n, ms=1000 * statistics.median(times),
                gflops=2.0 * n**3 / statistics.median(times) / 1e9)


def spawn(args: argparse.Namespace, *extra: str) -> dict[str, Any]:
    result = machine.spawn([sys.executable, os.path.abspath(__file__), "--matmul-n",
                            str(args.matmul_n), "--matmul-runs", str(args.matmul_runs), *extra])
    if "failed" in result:
        raise SystemExit(f"worker failed with status {result['failed']}: "
                         + " ".join(result["command"]))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.worker:
        worker = style_worker if args.worker == "style" else matmul_worker
        print(json.dumps(worker(args)), flush=True)
        return 0
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as the CLI does; the workers inherit
    vgg_path = args.vgg or machine.random_vgg19(args.cache, args.head, args.width_divisor)
    machine.warm_weights_cache(vgg_path)
    matmuls = [spawn(args, "--worker", "matmul")]
    results = []
    for size in args.sizes:
        result = spawn(args, "--worker", "style", "--size", size, "--vgg", vgg_path,
                       "--steps", str(args.steps), "--repeats", str(args.repeats),
                       "--warmup", str(args.warmup))
        matmuls.append(spawn(args, "--worker", "matmul"))
        result["matmul_gflops"] = (matmuls[-2]["gflops"] + matmuls[-1]["gflops"]) / 2
        result["ratio"] = result["gflops"] / result["matmul_gflops"]
        print(f"{size}: {result['ms']:.0f} ms/iter, ratio {result['ratio']:.3f}",
              file=sys.stderr, flush=True)
        results.append(result)
    first = matmuls[0]
    print(f"TensorFlow {first['tf']}, {first['cpus']} CPUs, session intra_op={first['intra']} "
          f"inter_op={first['inter']} (0 = TF default), oneDNN {first['onednn']} "
          f"(TF_ENABLE_ONEDNN_OPTS={first['onednn_env']})")
    print(f"matmul {args.matmul_n}^3 GFLOP/s (other processes' cores), in run order: "
          + ", ".join(f"{m['gflops']:.1f} ({m['other_cores']:.2f})" for m in matmuls))
    header = ("size", "ms/iter", "GFLOP", "GFLOP/s", "mm GFLOP/s", "ratio", "peak MB",
              "load MB", "est. MB", "peak/est", "others")
    print("".join(f"{h:>11}" for h in header))
    for r in results:
        row = (r["size"], f"{r['ms']:.0f}", f"{r['gflop']:.1f}", f"{r['gflops']:.1f}",
               f"{r['matmul_gflops']:.1f}", f"{r['ratio']:.3f}", f"{r['peak_mb']:.0f}",
               f"{r['load_peak_mb']:.0f}", f"{r['estimate_mb']:.0f}",
               f"{r['peak_mb'] / r['estimate_mb']:.2f}", f"{r['other_cores']:.2f}")
        print("".join(f"{c:>11}" for c in row))
    stored = {"commit": machine.head_commit(), "cpu": machine.cpu_name(), "code": args.label,
              "vgg": vgg_path, "steps": args.steps, "repeats": args.repeats,
              "matmul": matmuls, "sizes": results}
    print(json.dumps(stored))
    with open(args.json, "w") as handle:
        json.dump(stored, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
