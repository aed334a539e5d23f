"""Throughput of the parameter-server cluster against one process training the same model.

    python benchmarks/cluster_speed.py [--steps 3000] [--repeats 3] [--workers 1 2 3]

In one run, interleaved ``--repeats`` times, it measures:

* baseline: the tutorial's model and data trained by gradient descent in this process, with a
  plain in-process Session (no server), timed over ``--steps`` steps after 100 warm-up steps;
* baseline+grpc: the same, but through a one-task gRPC server in this process (the session
  machinery a worker uses, without a network hop);
* N workers: the local cluster (1 ps + N workers, async, as ``tf1cnn-cluster train``) run to
  ``--steps`` global steps from scratch: the aggregate global steps per second of training, and
  the time from launch until every process has exited.

Prints the load average before and after (this machine has 2 cores, and the cluster itself
runs N + 1 processes on them), a table of medians with each throughput as a ratio to the
baseline's, and one JSON line of every figure, also written to ``--json``
(``benchmarks/cluster_speed.json``, from which ``render_docs.py`` makes the table in
docs/cluster.md).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import machine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000, help="global steps per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--json", default=os.path.join(ROOT, "benchmarks", "cluster_speed.json"),
                        help="where to write the figures")
    return parser.parse_args(argv)


def single_process(steps: int, through_server: bool) -> float:
    """Global steps per second of plain GD on the same model and data, in this process."""
    import tensorflow as tf

    from tf1cnn.distributed import model
    from tf1cnn.distributed.config import TrainConfig
    from tf1cnn.distributed.data import make_data

    v1 = tf.compat.v1
    config = TrainConfig()
    x, y = make_data(config.points, config.noise, config.seed)
    session_config = v1.ConfigProto(intra_op_parallelism_threads=1,
                                    inter_op_parallelism_threads=1)
    target = ""
    if through_server:
        server = v1.train.Server.create_local_server(config=session_config)
        target = server.target
    with tf.Graph().as_default():
        inputs = v1.placeholder(tf.float32, [None, 1])
        labels = v1.placeholder(tf.float32, [None, 1])
        loss = model.mse(labels, model.predict(inputs, config.hidden))
        global_step = v1.train.get_or_create_global_step()
        train = v1.train.GradientDescentOptimizer(config.learning_rate).minimize(
            loss, global_step=global_step)
        feed = {inputs: x, labels: y}
        with v1.Session(target, config=session_config) as session:
            session.run(v1.global_variables_initializer())
            for _ in range(100):
                session.run([train, loss], feed)
            start = time.perf_counter()
            for _ in range(steps):
                session.run([train, loss], feed)
            return steps / (time.perf_counter() - start)


def cluster(steps: int, workers: int) -> tuple[float, float]:
    """(aggregate global steps/s while training, seconds from launch until all exited)."""
    from tf1cnn.distributed import cluster as clusters
    from tf1cnn.distributed import launcher
    from tf1cnn.distributed.config import TrainConfig

    with tempfile.TemporaryDirectory() as folder:
        config = TrainConfig(checkpoint_dir=folder, last_step=steps, workers=workers,
                             log_every=10 ** 9, checkpoint_every=10 ** 9)
        summary = launcher.launch(config, clusters.local_cluster(workers, 1))
    if len(summary.results) != workers:
        sys.exit(f"a worker failed: {summary}")
    return summary.steps_per_second, summary.total_seconds


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    load_before = os.getloadavg()
    import tensorflow as tf

    print(f"TF {tf.__version__}, {os.cpu_count()} CPUs, {args.steps} global steps per "
          f"measurement, {args.repeats} repeats")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in load_before)}", flush=True)
    rates: dict[str, list[float]] = {}
    exits: dict[str, list[float]] = {}
    for repeat in range(args.repeats):
        rates.setdefault("baseline", []).append(single_process(args.steps, False))
        rates.setdefault("baseline+grpc", []).append(single_process(args.steps, True))
        for n in args.workers:
            rate, seconds = cluster(args.steps, n)
            rates.setdefault(f"{n} workers", []).append(rate)
            exits.setdefault(f"{n} workers", []).append(seconds)
        print(f"repeat {repeat + 1}: " + " ".join(f"{k}={v[-1]:.0f}/s" for k, v in
                                                  rates.items()), flush=True)
    base = statistics.median(rates["baseline"])
    medians = [{"run": name, "steps_per_s": statistics.median(values),
                "launch_to_exit_s": statistics.median(exits[name]) if name in exits else None}
               for name, values in rates.items()]
    print(f"\n{'run':<15}{'global steps/s':>16}{'vs baseline':>13}{'launch to exit':>16}")
    for row in medians:
        seconds = row["launch_to_exit_s"]
        exit_s = f"{seconds:.1f} s" if seconds is not None else "-"
        print(f"{row['run']:<15}{row['steps_per_s']:>16.0f}{row['steps_per_s'] / base:>13.3f}"
              f"{exit_s:>16}")
    load_after = os.getloadavg()
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in load_after)}")
    stored = {"commit": machine.head_commit(), "steps": args.steps, "repeats": args.repeats,
              "load_before": load_before, "load_after": load_after, "medians": medians,
              "steps_per_s": rates, "launch_to_exit_s": exits}
    print(json.dumps(stored))
    with open(args.json, "w") as handle:
        json.dump(stored, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
