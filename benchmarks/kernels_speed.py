"""Speed of the RGB filter bank on a 4096x4096 image: one stacked conv2d against the alternatives.

    python benchmarks/kernels_speed.py [--size 4096] [--strides 1 3] [--repeats 5]

The bank is the demo's RGB default: all five kernels in the per-channel (diagonal) form, stacked
into one [3, 3, 3, 15] filter. For each stride (SAME padding) it times, in one process and one
run, each as the median of ``--repeats`` calls after one warm-up call:

* stacked: the one conv2d, run as a Session target, its input an already initialised Variable
  (no feed, no fetch: the convolution and its output allocation only);
* stacked+fetch: the same, fetching the [1, h, w, 15] result into numpy;
* stacked+feed+fetch: the demo's way, the image fed through a placeholder and the maps fetched;
* per-kernel: five conv2d ops, one per [3, 3, 3, 3] filter, run as targets in one Session call;
* depthwise: ``tf.nn.depthwise_conv2d`` with a [3, 3, 3, 5] filter (the same 15 maps, in
  channel-major order, without the diagonal filter's zero multiplications);
* scipy: ``reference.conv2d`` in float32, one ``scipy.ndimage.correlate`` per non-zero filter
  slice (15), at full resolution, keeping the strided samples as TensorFlow does (its result
  is checked against the stacked call's, to 1e-4);
* copy: ``np.copyto`` between two preallocated float32 buffers of B = input bytes + output bytes
  of the stacked call (it reads B and writes B bytes, on one thread): a floor for a call that
  must read its input and write its output once.

TensorFlow runs with TF_ENABLE_ONEDNN_OPTS=1 (set here before the import, as the CLI does) and
the demo's Session settings (``runtime.session_config``). Prints the load average before and
after, and per stride "others": the cores that other processes kept busy meanwhile (machine
busy time from /proc/stat minus this process's CPU time, over the wall time: ``machine.Meter``;
above ~0.1 the figures are disturbed). Then a table, and one JSON line of all figures, also
written to ``--json`` (``benchmarks/kernels_speed.json``, from which ``render_docs.py`` makes the
table in docs/kernels.md).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Callable, Sequence

import machine

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = ("stacked", "stacked+fetch", "stacked+feed+fetch", "per-kernel", "depthwise", "scipy",
            "copy")

TARGETS = {"scipy / stacked": 20.0, "stacked / copy": 4.0}  # at least 20x; at most 4x


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--size", type=int, default=4096, help="height and width of the image")
    parser.add_argument("--strides", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per variant")
    parser.add_argument("--scipy-repeats", type=int, default=3,
                        help="timed calls of the (slow) scipy reference")
    parser.add_argument("--json", default=os.path.join(ROOT, "benchmarks", "kernels_speed.json"),
                        help="where to write the figures")
    return parser.parse_args(argv)


def median_ms(call: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def measure(size: int, stride: int, repeats: int, scipy_repeats: int) -> dict[str, float]:
    import numpy as np
    import tensorflow as tf

    from tf1cnn.common import runtime
    from tf1cnn.kernels import bank, convolve, reference

    rng = np.random.default_rng(0)
    image = rng.random((size, size, 3), dtype=np.float32)
    per_kernel = [bank.per_channel(name) for name in bank.NAMES]
    stacked_filter = bank.stack(per_kernel)
    depthwise_filter = np.stack([bank.BANK[n] for n in bank.NAMES], axis=2)[:, :, None, :]
    depthwise_filter = np.repeat(depthwise_filter, 3, axis=2)  # [3, 3, 3 channels, 5 kernels]
    out_side = -(-size // stride)
    in_bytes = image.nbytes
    out_bytes = out_side * out_side * stacked_filter.shape[3] * 4
    ms: dict[str, float] = {}

    with tf.Graph().as_default():
        fed = tf.compat.v1.placeholder(tf.float32, [1, size, size, 3])
        held = tf.compat.v1.Variable(fed, name="image")
        stacked = convolve.conv(held, tf.constant(stacked_filter), stride, "SAME")
        stacked_fed = convolve.conv(fed, tf.constant(stacked_filter), stride, "SAME")
        singles = [convolve.conv(held, tf.constant(f), stride, "SAME") for f in per_kernel]
        depthwise = tf.nn.depthwise_conv2d(held, tf.constant(depthwise_filter),
                                           [1, stride, stride, 1], "SAME")
        with tf.compat.v1.Session(config=runtime.session_config()) as session:
            session.run(held.initializer, {fed: image[None]})
            check = session.run(stacked)[0]
            ms["stacked"] = median_ms(lambda: session.run(stacked.op), repeats)
            ms["stacked+fetch"] = median_ms(lambda: session.run(stacked), repeats)
            ms["stacked+feed+fetch"] = median_ms(
                lambda: session.run(stacked_fed, {fed: image[None]}), repeats)
            ms["per-kernel"] = median_ms(lambda: session.run([s.op for s in singles]), repeats)
            ms["depthwise"] = median_ms(lambda: session.run(depthwise.op), repeats)

    last = {}  # keeps only the latest answer: at stride 1 each is 1 GB

    def scipy_call():
        last["answer"] = None
        last["answer"] = reference.conv2d(image, stacked_filter, stride, dtype=np.float32)

    ms["scipy"] = median_ms(scipy_call, scipy_repeats, warmup=0)
    np.testing.assert_allclose(check, last.pop("answer"), atol=1e-4)  # the whole output agrees
    del check
    source = np.ones((in_bytes + out_bytes) // 4, np.float32)
    target = np.zeros_like(source)
    ms["copy"] = median_ms(lambda: np.copyto(target, source), repeats)
    ms["copy_bytes"] = in_bytes + out_bytes
    return ms


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    load_before = os.getloadavg()
    import tensorflow as tf

    print(f"TF {tf.__version__}, {os.cpu_count()} CPUs, TF_ENABLE_ONEDNN_OPTS="
          f"{os.environ['TF_ENABLE_ONEDNN_OPTS']}, image {args.size}x{args.size}x3 float32, "
          f"5 per-channel kernels -> 15 maps, SAME padding")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in load_before)}", flush=True)
    results = {}
    for stride in args.strides:
        meter = machine.Meter()
        ms = measure(args.size, stride, args.repeats, args.scipy_repeats)
        ms["others"] = meter.other_cores()
        results[stride] = ms
        print(f"\nstride {stride}: copy floor moves {ms['copy_bytes'] / 2**20:.0f} MiB "
              f"(input + output of the stacked call); others {ms['others']:.2f} cores")
        print(f"{'variant':<20}{'ms':>10}{'x copy':>9}{'scipy / it':>12}")
        for name in VARIANTS:
            print(f"{name:<20}{ms[name]:>10.1f}{ms[name] / ms['copy']:>9.2f}"
                  f"{ms['scipy'] / ms[name]:>12.1f}")
        for target, bound in TARGETS.items():
            top, bottom = target.split(" / ")
            ratio = ms[top] / ms[bottom]
            met = ratio >= bound if top == "scipy" else ratio <= bound
            print(f"target {target} {'>=' if top == 'scipy' else '<='} {bound:g}: "
                  f"{ratio:.2f} ({'met' if met else 'MISSED'})", flush=True)
    load_after = os.getloadavg()
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in load_after)}")
    stored = {"commit": machine.head_commit(), "size": args.size, "load_before": load_before,
              "load_after": load_after, "ms": results,
              "strides": {str(stride): {"others": ms["others"], "copy_bytes": ms["copy_bytes"],
                                        "rows": rows(ms)} for stride, ms in results.items()}}
    print(json.dumps(stored))
    with open(args.json, "w") as handle:
        json.dump(stored, handle, indent=1)
    return 0


def rows(ms: dict[str, float]) -> list[dict]:
    """One stride's table: each variant's median ms, as a multiple of the copy floor, and the
    scipy reference's time as a multiple of it."""
    return [{"variant": name, "ms": ms[name], "x_copy": ms[name] / ms["copy"],
             "scipy_over": ms["scipy"] / ms[name]} for name in VARIANTS]


if __name__ == "__main__":
    raise SystemExit(main())
