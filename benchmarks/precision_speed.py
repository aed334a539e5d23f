"""Per-step time of the style objective with a bfloat16 trunk, as a ratio to float32.

    TF_CPP_MIN_LOG_LEVEL=2 taskset -c 0,1 python benchmarks/precision_speed.py
        [--sizes 250x333 512x512 1000x1000] [--steps 3] [--repeats 5] [--warmup 2]
        [--width-divisor 1] [--output benchmarks/precision_speed.json]

The network is the full-size random VGG19 trunk to relu5_1 (``vgg.random_layers(19)``, the
trunk that ``machine.random_vgg19`` writes to its file, built here without the 575 MB round
trip). For each size one graph holds both precisions (``vgg_graph.VGG(..., precision)``), each with
the default config's objective (content on relu4_2, Gram style on relu1_1..relu5_1, total
variation) built from ``losses`` directly, standalone of the engine:

* **Adam**: ``session.run`` of an Adam update of the image Variable;
* **L-BFGS**: one evaluation, the loss and its gradient fetched for an image fed from numpy
  (what each of SciPy's function calls costs; the optimiser's own arithmetic is not timed).

After ``--warmup`` untimed steps of each, ``--repeats`` rounds alternate float32 and bfloat16
blocks of ``--steps`` steps back to back (which goes first alternates too), so that a change
in the machine's load hits both; the result is the median ms a step over the rounds, and the
ratio float32 / bfloat16 (above 1: bfloat16 is faster). The Session is the engine's
(``runtime.session_config``, Grappler off) with ``intra_op_parallelism_threads`` set to the
cores this process may run on, which it prints. "others" is the cores other processes kept busy
(``machine.Meter``): above ~0.1 the figures are disturbed. Prints a table, writes the JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

import machine
import numpy as np

CONTENT = "relu4_2"
STYLE = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
PRECISIONS = ("float32", "bfloat16")
OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "precision_speed.json")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["250x333", "512x512", "1000x1000"],
                        help="HxW")
    parser.add_argument("--steps", type=int, default=3, help="steps per timed block")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of both precisions")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--width-divisor", type=int, default=1,
                        help="divide the channel counts (smoke tests)")
    parser.add_argument("--output", default=OUTPUT)
    return parser.parse_args(argv)


def objective(network, image, scope: str, target, grams):
    """The default config's total loss of ``image`` through ``network``, for these targets."""
    from tf1cnn.style_transfer.objective import losses

    found = network(image, scope)
    return losses.total_loss(
        losses.content_loss(found[CONTENT], target),
        losses.style_loss([found[name] for name in STYLE], grams,
                          [1.0 / len(STYLE)] * len(STYLE)),
        losses.total_variation_loss(image), 1.0, 1e4, 1e-2)


def build(tf, layers, height: int, width: int, threads: int):
    """A Session; per precision, its Adam step and L-BFGS fetches; the placeholder the L-BFGS
    fetches are fed; and the start image."""
    from tf1cnn.common import runtime
    from tf1cnn.style_transfer.network import vgg_graph
    from tf1cnn.style_transfer.objective import losses

    rng = np.random.default_rng(0)
    content, style = (rng.uniform(-100, 100, (1, height, width, 3)).astype(np.float32)
                      for _ in range(2))
    graph = tf.Graph()
    config = runtime.session_config(intra_op_parallelism_threads=threads)
    config.graph_options.rewrite_options.disable_meta_optimizer = True  # as the engine
    session = runtime.new_session(graph, config=config)
    steps = {}
    with graph.as_default():
        picture = tf.compat.v1.placeholder(tf.float32, [1, None, None, 3])
        image = tf.compat.v1.Variable(content * 0.5, name="image")
        fed = tf.compat.v1.placeholder(tf.float32, [1, height, width, 3])
        for precision in PRECISIONS:
            network = vgg_graph.VGG(layers, "avg", precision)
            ends = network(picture, f"targets_{precision}")
            target = session.run(ends[CONTENT], {picture: content})
            grams = session.run([losses.gram_matrix(ends[name]) for name in STYLE],
                                {picture: style})

            adam = tf.compat.v1.train.AdamOptimizer(2.0, name=f"adam_{precision}").minimize(
                objective(network, image, f"adam_{precision}", target, grams),
                var_list=[image])
            loss = objective(network, fed, f"lbfgs_{precision}", target, grams)
            steps[precision] = (adam, [loss, tf.gradients(loss, fed)[0]])
        session.run(tf.compat.v1.global_variables_initializer())
    return session, steps, fed, content


def measure(tf, layers, height: int, width: int, args, threads: int) -> dict[str, Any]:
    """Median ms a step per optimiser and precision, float32 and bfloat16 alternated."""
    session, steps, fed, start = build(tf, layers, height, width, threads)
    point = start.astype(np.float64)  # L-BFGS hands TensorFlow float64 iterates

    def block(optimizer: str, precision: str, count: int) -> float:
        adam, evaluation = steps[precision]
        began = time.perf_counter()
        for _ in range(count):
            if optimizer == "adam":
                session.run(adam)
            else:
                session.run(evaluation, {fed: point.astype(np.float32)})
        return (time.perf_counter() - began) / max(1, count) * 1000

    result: dict[str, Any] = {"size": f"{height}x{width}"}
    meter = machine.Meter()
    for optimizer in ("adam", "lbfgs"):
        for precision in PRECISIONS:
            block(optimizer, precision, args.warmup)
        times: dict[str, list[float]] = {precision: [] for precision in PRECISIONS}
        for round_ in range(args.repeats):
            order = PRECISIONS if round_ % 2 == 0 else PRECISIONS[::-1]
            for precision in order:
                times[precision].append(block(optimizer, precision, args.steps))
        medians = {precision: statistics.median(values) for precision, values in times.items()}
        result[optimizer] = {"ms": {p: round(v, 1) for p, v in medians.items()},
                             "ms_all": {p: [round(v, 1) for v in values]
                                        for p, values in times.items()},
                             "ratio": round(medians["float32"] / medians["bfloat16"], 3)}
        print(f"{height}x{width} {optimizer:5s}: float32 {medians['float32']:8.1f} ms, "
              f"bfloat16 {medians['bfloat16']:8.1f} ms, ratio {result[optimizer]['ratio']:.2f}",
              flush=True)
    result["other_cores"] = round(meter.other_cores(), 2)
    session.close()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    from tf1cnn.common import runtime

    tf = runtime.import_tensorflow()  # before anything imports TensorFlow, to start it quietly
    from tf1cnn.style_transfer.network import vgg
    threads = len(os.sched_getaffinity(0))
    layers = vgg.trunk(vgg.random_layers(19, args.width_divisor), (CONTENT, *STYLE))
    onednn = runtime.onednn_enabled()
    print(f"{machine.cpu_name()}; {threads} intra-op threads, 1 inter-op; oneDNN "
          f"{'on' if onednn else 'off'}; bfloat16 instructions: "
          f"{runtime.bfloat16_supported()}; load {os.getloadavg()[0]:.1f}", flush=True)
    load, sizes = os.getloadavg()[0], []
    for size in args.sizes:
        height, width = (int(v) for v in size.lower().split("x"))
        sizes.append(measure(tf, layers, height, width, args, threads))
    record = {"cpu": machine.cpu_name(), "threads": threads, "onednn": onednn,
              "width_divisor": args.width_divisor, "steps": args.steps,
              "repeats": args.repeats, "warmup": args.warmup, "load_before": load,
              "load_after": os.getloadavg()[0], "sizes": sizes}
    with open(args.output + ".part", "w") as out:
        json.dump(record, out, indent=1)
        out.write("\n")
    os.replace(args.output + ".part", args.output)
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
