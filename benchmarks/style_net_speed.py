"""Speed of the feed-forward style network: its training on the cluster and its forward pass.

    taskset -c 0,1 python benchmarks/style_net_speed.py [matmul] [train] [ps] [apply]
        [--cores 0 1] [--repeats 3] [--json benchmarks/style_net_speed.json]
        matmul: [--size 2048] [--matmul-steps 10]
        train:  [--crop 256 --batch 4 --width 1] [--warmup 3] [--steps 20] [--log-every 5]
                [--threads 2] [--netns] [--vgg PATH | --width-divisor 1]
        ps:     [--predict-workers 8 32] [--predict-ps 1 2 4]
        apply:  [--sizes 250x333 512x512 1920x1080] [--widths 1 0.5] [--apply-steps 5]
                [--fast-sizes 250x333 512x512]

With no part named, all four run in this order. Each part replaces its own section of the JSON
(with the CPU, commit, cores and load it ran under) and keeps the others'. Every measured run
is a fresh process pinned with ``taskset`` to ``--cores`` (default: the first two this process
may use), one at a time; the runs of a part alternate over ``--repeats`` rounds; medians.
"others" is the cores other processes kept busy meanwhile (``machine.Meter``): above ~0.1 a
figure was disturbed.

* **matmul**: a float32 ``--size``² matmul in TensorFlow, one intra-op thread against two:
  GFLOP/s each and their ratio, what the second core really gives.
* **train**: pictures per second of training (``--crop --batch --width``: the style-net
  defaults) with the loss on the full-size random VGG19 (``machine.random_vgg19``):

  - ``plain``: ``style_net.build`` with no cluster, plus Adam, in a plain Session on
    ``--threads`` threads over all the cores; ``plain, 1 thread``: the same pinned to the first
    core, the compute a pinned worker does (the ps part needs it);
  - ``1 worker``, ``2 workers``: ``tf1cnn-cluster train --model style-net``, one process per
    task through the multi-host flags on loopback, worker k pinned to ``--cores[k]`` and the ps
    to all of them; the rate is the global steps between the progress lines (timestamped as
    they arrive) after ``--warmup`` steps of each worker (``throughput``), times the batch.
    The chief saves summaries every ``--log-every`` steps, as it would; checkpoints are off
    (``--checkpoint-secs`` 1e9);
  - with ``--netns``, both again with every task on a host of its own, network namespaces
    joined by a bridge (``tests/distributed/netns.py``; root only, else skipped with why);
  - ``transfer``: one step's traffic alone, in a process holding a ps and a worker server on
    loopback: the worker reads every variable of the network and sends a gradient of each
    back, which Adam applies on the ps.

  Two workers against one is the issue's goal (at least 1.7).
* **ps**: the round trip to the ps and a prediction for more workers and ps tasks, arithmetic
  on the train section (the model: ``predict``).
* **apply**: seconds a picture of the network's forward pass at each of ``--sizes`` and
  ``--widths`` (a fresh network saved and restored: speed does not depend on the weights),
  the median of ``--apply-steps`` passes after a first one; the TensorFlow import and the
  restore are reported apart. Beside it ``tf1cnn-style --fast`` on the same VGG19 file at
  ``--fast-sizes``, timed by its own ``losses.csv`` (the optimisation alone, without its start
  and VGG load, which its wall time adds). The goal: the forward pass at most 1/100 of
  ``--fast``'s time at 512x512. With random VGG weights ``--fast`` may stop after another
  number of steps than on the real VGG19; its evaluations are recorded.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import Any

import machine
import numpy as np

ROOT = machine.ROOT
OUTPUT = os.path.join(ROOT, "benchmarks", "style_net_speed.json")
CLUSTER_SCRIPT = os.path.join(ROOT, "scripts", "ps_cluster.py")
STYLE_SCRIPT = os.path.join(ROOT, "scripts", "style_transfer.py")
PARTS = ("matmul", "train", "ps", "apply")
PROGRESS = re.compile(r"job=worker task=(\d+) pid=\d+ global_step=(\d+)/\d+ "
                      r"local_steps=(\d+) .*\btime=([\d.]+)s")
PORT = 2222  # each namespace host's own address, so one port serves them all
MATMUL_WARMUP = 3
LEARNING_RATE = 0.001  # TrainConfig's; the speed does not depend on it


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("parts", nargs="*", metavar="PART",
                        help=f"what to measure, of {', '.join(PARTS)}; if none, all")
    parser.add_argument("--cores", type=int, nargs="+",
                        help="cores to pin to, worker k on the k-th; if omitted, the first two "
                             "this process may use")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of each part's runs")
    parser.add_argument("--json", default=OUTPUT, help="the file whose sections to replace")
    parser.add_argument("--size", type=int, default=2048, help="matmul: side of the matrices")
    parser.add_argument("--matmul-steps", type=int, default=10, help="matmul: timed products")
    parser.add_argument("--crop", type=int, default=256, help="train: side of the crops")
    parser.add_argument("--batch", type=int, default=4, help="train: pictures a step")
    parser.add_argument("--width", type=float, default=1.0, help="train: network width")
    parser.add_argument("--warmup", type=int, default=3, help="train: untimed steps a worker")
    parser.add_argument("--steps", type=int, default=20, help="train: timed steps a worker")
    parser.add_argument("--log-every", type=int, default=5,
                        help="train: the cluster's progress lines and the chief's summaries")
    parser.add_argument("--threads", type=int, default=2, help="train: the plain run's")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="train: the cluster tasks' --timeout")
    parser.add_argument("--netns", action="store_true",
                        help="train: also run the cluster across network namespaces")
    parser.add_argument("--vgg", help="the loss network for train and --fast; if omitted, the "
                                      "cached random VGG19 of machine.py")
    parser.add_argument("--width-divisor", type=int, default=1,
                        help="divide that VGG19's channels (smoke tests)")
    parser.add_argument("--predict-workers", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--predict-ps", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--sizes", nargs="+", default=["250x333", "512x512", "1920x1080"],
                        help="apply: HxW")
    parser.add_argument("--widths", type=float, nargs="+", default=[1.0, 0.5])
    parser.add_argument("--apply-steps", type=int, default=5, help="apply: timed passes")
    parser.add_argument("--fast-sizes", nargs="+", default=["250x333", "512x512"],
                        help="apply: sizes of the --fast runs (HxW)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        parser.error(f"no part {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    args.parts = list(dict.fromkeys(args.parts)) or list(PARTS)
    args.cores = args.cores or sorted(os.sched_getaffinity(0))[:2]
    if len(args.cores) < 2 and "train" in args.parts and not args.worker:
        parser.error(f"--cores needs two cores, one a worker (the same twice shares one); "
                     f"this process may use {sorted(os.sched_getaffinity(0))}")
    return args


# Workers: fresh processes that print one JSON line last ------------------------------------

def matmul_worker(args: argparse.Namespace) -> dict[str, Any]:
    """GFLOP/s of a float32 matmul on ``--threads`` intra-op threads."""
    from tf1cnn.common import runtime

    tf = runtime.import_tensorflow()
    v1, n = tf.compat.v1, args.size
    with tf.Graph().as_default() as graph:
        product = tf.matmul(*(v1.Variable(v1.random_normal([n, n])) for _ in range(2)))
        config = runtime.session_config(intra_op_parallelism_threads=args.threads)
        with runtime.new_session(graph, config=config) as session:
            session.run(v1.global_variables_initializer())
            times = []
            for _ in range(MATMUL_WARMUP + args.matmul_steps):
                began = time.perf_counter()
                session.run(product.op)
                times.append(time.perf_counter() - began)
    seconds = statistics.median(times[MATMUL_WARMUP:])
    return {"threads": args.threads, "ms": seconds * 1000, "gflops": 2 * n ** 3 / seconds / 1e9}


def plain_worker(args: argparse.Namespace) -> dict[str, Any]:
    """Seconds a training step in a plain Session: the cluster's graph without the cluster."""
    from tf1cnn.common import images, runtime, samples

    tf = runtime.import_tensorflow()
    from tf1cnn.distributed import pictures, style_net
    from tf1cnn.distributed.style_config import StyleNetConfig
    from tf1cnn.style_transfer.network import transform, weights

    v1 = tf.compat.v1
    net = StyleNetConfig(vgg=args.vgg, crop=args.crop, batch=args.batch, width=args.width)
    layers = weights.load(net.vgg, net.layers, progress=False).layers
    style = images.read_rgb(samples.sample(samples.SAMPLE_STYLE), "style")
    crops = pictures.Crops(pictures.training_sources(None), net.crop)
    config = v1.ConfigProto(intra_op_parallelism_threads=args.threads,
                            inter_op_parallelism_threads=1)  # as a worker's
    with tf.Graph().as_default() as graph:
        built = style_net.build(net, layers, style, pictures.held_out(1, net.crop)[0], "", None)
        train = v1.train.AdamOptimizer(LEARNING_RATE).minimize(
            built.losses.total, global_step=v1.train.get_or_create_global_step())
        with runtime.new_session(graph, config=config) as session:
            session.run(v1.global_variables_initializer())
            session.run(v1.local_variables_initializer(), built.local_feed)
            times = []
            for _ in range(args.warmup + args.steps):
                began = time.perf_counter()
                session.run([train, *built.losses], {built.pictures: crops.batch(net.batch)})
                times.append(time.perf_counter() - began)
    timed = times[args.warmup:]
    return {"threads": args.threads, "step_s": statistics.median(timed),
            "pictures_per_s": net.batch * len(timed) / sum(timed),
            "steps_s": [round(t, 3) for t in timed],
            "parameters": transform.parameter_count(args.width)}


def transfer_worker(args: argparse.Namespace) -> dict[str, Any]:
    """Seconds of one step's traffic alone: every variable of the network read by a worker
    from a ps on loopback, and a gradient of each sent back and applied there by Adam."""
    from tf1cnn.common import runtime

    tf = runtime.import_tensorflow()
    from tf1cnn.distributed.cluster import free_ports
    from tf1cnn.style_transfer.network import transform

    v1 = tf.compat.v1
    spec = v1.train.ClusterSpec({job: [f"127.0.0.1:{port}"]
                                 for job, port in zip(("ps", "worker"), free_ports(2))})
    config = v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    servers = [v1.train.Server(spec, job_name=job, task_index=0, config=config)
               for job in ("ps", "worker")]
    with tf.Graph().as_default() as graph:
        with v1.device(v1.train.replica_device_setter(worker_device="/job:worker/task:0",
                                                      cluster=spec)):
            transform.stylise(v1.placeholder(tf.float32, [1, 8, 8, 3]), args.width)
            variables = v1.trainable_variables()
            with v1.device("/job:worker/task:0"):  # the values cross to the worker and back
                gradients = [variable.read_value() * 1e-3 for variable in variables]
            step = v1.train.AdamOptimizer(LEARNING_RATE).apply_gradients(
                zip(gradients, variables))
        with runtime.new_session(graph, servers[1].target, config) as session:
            session.run(v1.global_variables_initializer())
            times = []
            for _ in range(args.warmup + max(args.steps, 20)):
                began = time.perf_counter()
                session.run(step)
                times.append(time.perf_counter() - began)
    return {"round_trip_s": statistics.median(times[args.warmup:]),
            "parameters": transform.parameter_count(args.width)}


def apply_worker(args: argparse.Namespace) -> dict[str, Any]:
    """Seconds of the forward pass at each size, and what importing and restoring cost."""
    began = time.perf_counter()
    from tf1cnn.common import runtime

    tf = runtime.import_tensorflow()
    from tf1cnn.style_transfer.network import transform

    v1 = tf.compat.v1
    imported = time.perf_counter() - began
    rng = np.random.default_rng(0)
    config = runtime.session_config(intra_op_parallelism_threads=len(os.sched_getaffinity(0)))
    with tf.Graph().as_default() as graph, tempfile.TemporaryDirectory() as folder:
        picture = v1.placeholder(tf.float32, [1, None, None, 3])
        styled = transform.stylise(picture, args.width)
        saver = v1.train.Saver()
        with runtime.new_session(graph, config=config) as session:
            session.run(v1.global_variables_initializer())
            saved = saver.save(session, os.path.join(folder, "model.ckpt"))
        began = time.perf_counter()
        session = runtime.new_session(graph, config=config)
        saver.restore(session, saved)
        restored = time.perf_counter() - began
        sizes = []
        for size in args.sizes:
            height, width = split_size(size)
            pixels = rng.uniform(0, 255, (1, height, width, 3)).astype("float32")
            times = []
            for _ in range(1 + args.apply_steps):
                began = time.perf_counter()
                session.run(styled, {picture: pixels})
                times.append(time.perf_counter() - began)
            sizes.append({"size": size, "first_s": times[0],
                          "seconds": statistics.median(times[1:])})
        session.close()
    return {"width": args.width, "import_s": imported, "restore_s": restored, "sizes": sizes}


WORKERS = {"matmul": matmul_worker, "plain": plain_worker, "transfer": transfer_worker,
           "apply": apply_worker}


def pinned(cores: Sequence[int]) -> list[str]:
    return ["taskset", "-c", ",".join(str(core) for core in sorted(set(cores)))]


def spawn(cores: Sequence[int], kind: str, *options: str) -> dict[str, Any]:
    """A worker of ``kind`` in a fresh process pinned to ``cores``; its result, or exit."""
    result = machine.spawn([*pinned(cores), sys.executable, os.path.abspath(__file__),
                            "--worker", kind, *options])
    if "failed" in result:
        sys.exit(f"error: {' '.join(result['command'])} exited with {result['failed']}")
    return result


# The cluster: one process per task -----------------------------------------------------------

class Started:
    """A command in a process group of its own, its output lines kept with their arrival."""

    def __init__(self, command: Sequence[str]):
        self.command = list(command)
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def finish(self, limit: float) -> int:
        code = self.process.wait(limit)
        self._reader.join(10)
        return code

    def stop(self) -> None:
        """Kill the group this command leads, if it still runs."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def cluster_run(args: argparse.Namespace, workers: int, network=None) -> dict[str, Any]:
    """One ps and ``workers`` workers, each a process of ``tf1cnn-cluster train``'s multi-host
    flags, on loopback or on ``network``'s hosts; the throughput of its progress lines."""
    from tf1cnn.distributed.cluster import free_ports

    names = ["ps", *(f"worker{k}" for k in range(workers))]
    addresses = ([f"{network.address(name)}:{PORT}" for name in names] if network else
                 [f"127.0.0.1:{port}" for port in free_ports(len(names))])
    per_worker = args.warmup + args.steps
    last = -(-workers * per_worker // args.log_every) * args.log_every  # a logged step
    started: list[Started] = []
    with tempfile.TemporaryDirectory() as folder:
        common = [sys.executable, CLUSTER_SCRIPT, "train", "--model", "style-net",
                  "--checkpoint-dir", folder, "--vgg", args.vgg, "--crop", str(args.crop),
                  "--batch", str(args.batch), "--width", str(args.width), "--last-step",
                  str(last), "--log-every", str(args.log_every), "--checkpoint-secs", "1e9",
                  "--timeout", str(args.timeout), "--ps-hosts", addresses[0],
                  "--worker-hosts", ",".join(addresses[1:])] + (
            ["--allow-remote"] if network else [])
        meter = machine.Meter()
        try:
            for k, name in enumerate(names):
                job, index = ("ps", 0) if k == 0 else ("worker", k - 1)
                cores = args.cores if k == 0 else [args.cores[k - 1]]
                started.append(Started([*(network.prefix(name) if network else ()),
                                        *pinned(cores), *common, "--job-name", job,
                                        "--task-index", str(index)]))
            limit = 4 * args.timeout + 60 * per_worker  # beyond it something is wrong
            codes = [task.finish(limit) for task in reversed(started)]
        except subprocess.TimeoutExpired:
            codes = ["still running"]
        finally:
            for task in started:
                task.stop()
    if any(code != 0 for code in codes):
        shown = "\n".join(line for task in started for _, line in task.lines[-15:])
        sys.exit(f"error: a cluster task failed ({codes}):\n{shown}")
    events = sorted((at, *(float(v) if k == 3 else int(v) for k, v in
                           enumerate(match.groups())))
                    for task in started[1:] for at, line in task.lines
                    for match in [PROGRESS.search(line)] if match)
    return dict(throughput(events, workers, args.warmup, args.batch),
                other_cores=meter.other_cores())


def throughput(events: list[tuple], workers: int, warmup: int, batch: int) -> dict[str, Any]:
    """Pictures/s, from the progress lines as (arrival, task, global step, local steps, the
    worker's own seconds), over the lines from the first one by which the others together have
    made ``warmup`` steps a worker (its global step less its own local steps) and all of them
    ``warmup`` a worker; a worker's mean seconds a step (if all keep one pace), and each one's
    own from its lines in that window, where it has two. Not "once every worker has logged":
    two workers taking turns may log every other step, all by the same one."""
    window = []
    for event in events:
        if window or (event[2] - event[3] >= (workers - 1) * warmup
                      and event[2] >= workers * warmup):
            window.append(event)
    if len(window) < 2:
        sys.exit(f"error: too few progress lines after the warm-up ({len(window)}); "
                 f"raise --steps or lower --log-every")
    first, last = window[0], window[-1]
    step_s = {}
    for task in range(workers):
        own = [event for event in window if event[1] == task]
        if len(own) >= 2 and own[-1][3] > own[0][3]:
            step_s[task] = (own[-1][4] - own[0][4]) / (own[-1][3] - own[0][3])
    steps, seconds = last[2] - first[2], last[0] - first[0]
    return {"pictures_per_s": steps / seconds * batch, "global_steps": steps,
            "seconds": seconds, "step_s": workers * seconds / steps, "worker_step_s": step_s}


def load_netns():
    """tests/distributed/netns.py, by path, as its conftest loads it (no package there)."""
    path = os.path.join(ROOT, "tests", "distributed", "netns.py")
    spec = importlib.util.spec_from_file_location("style_net_speed_netns", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The parts ------------------------------------------------------------------------------------

def part_matmul(args: argparse.Namespace) -> dict[str, Any]:
    found: dict[str, list[float]] = {"1": [], "2": []}
    for repeat in range(args.repeats):
        for threads in ("1", "2") if repeat % 2 == 0 else ("2", "1"):
            result = spawn(args.cores, "matmul", "--threads", threads, "--size",
                           str(args.size), "--matmul-steps", str(args.matmul_steps))
            found[threads].append(result["gflops"])
            print(f"matmul {args.size}², {threads} thread(s): {result['gflops']:.1f} GFLOP/s "
                  f"(others {result['other_cores']:.2f})", flush=True)
    medians = {threads: statistics.median(values) for threads, values in found.items()}
    return {"size": args.size, "steps": args.matmul_steps, "gflops": found,
            "medians": medians, "ratio": medians["2"] / medians["1"]}


def part_train(args: argparse.Namespace) -> dict[str, Any]:
    machine.warm_weights_cache(args.vgg)
    shape = ["--vgg", args.vgg, "--crop", str(args.crop), "--batch", str(args.batch),
             "--width", str(args.width), "--warmup", str(args.warmup), "--steps",
             str(args.steps)]
    runs = {"plain": lambda: spawn(args.cores, "plain", *shape, "--threads", str(args.threads)),
            "plain, 1 thread": lambda: spawn(args.cores[:1], "plain", *shape, "--threads", "1"),
            "1 worker": lambda: cluster_run(args, 1),
            "2 workers": lambda: cluster_run(args, 2),
            "transfer": lambda: spawn(args.cores, "transfer", *shape)}
    network, skipped = None, None
    if args.netns:
        netns = load_netns()
        try:
            network = netns.Network.make("ps", "worker0", "worker1")
        except netns.Unavailable as exc:
            skipped = str(exc)
            print(f"--netns skipped: {skipped}", flush=True)
    if network is not None:
        runs["1 worker, namespaces"] = lambda: cluster_run(args, 1, network)
        runs["2 workers, namespaces"] = lambda: cluster_run(args, 2, network)
    found: dict[str, list[dict]] = {name: [] for name in runs}
    try:
        for repeat in range(args.repeats):
            names = list(runs)
            for name in names[repeat % len(names):] + names[:repeat % len(names)]:
                result = runs[name]()
                found[name].append(result)
                rate = (f"{result['pictures_per_s']:.3g} pictures/s" if "pictures_per_s" in
                        result else f"{result['round_trip_s'] * 1000:.1f} ms a round trip")
                print(f"repeat {repeat + 1}: {name}: {rate} (others "
                      f"{result['other_cores']:.2f})", flush=True)
    finally:
        if network is not None:
            for error in network.remove():
                print(f"warning: {error}", file=sys.stderr)
    medians = []
    for name, results in found.items():
        if name == "transfer":
            continue
        medians.append({"run": name,
                        "pictures_per_s": statistics.median(r["pictures_per_s"]
                                                            for r in results),
                        "step_s": statistics.median(r["step_s"] for r in results),
                        "other_cores": statistics.median(r["other_cores"] for r in results)})
    ones = {m["run"].partition(", ")[2]: m["pictures_per_s"] for m in medians
            if m["run"].startswith("1 worker")}
    for row in medians:  # against the one worker of the same network, loopback for plain
        where = row["run"].partition(", ")[2] if "worker" in row["run"] else ""
        row["vs_1_worker"] = row["pictures_per_s"] / ones[where]
    two = next(m["vs_1_worker"] for m in medians if m["run"] == "2 workers")
    print(f"two workers ÷ one: {two:.2f} (the goal: at least 1.7)", flush=True)
    return {"crop": args.crop, "batch": args.batch, "width": args.width,
            "vgg": os.path.basename(args.vgg), "warmup": args.warmup, "steps": args.steps,
            "log_every": args.log_every, "threads": args.threads,
            "parameters": found["plain"][0]["parameters"],
            "transfer_s": statistics.median(r["round_trip_s"] for r in found["transfer"]),
            "netns_skipped": skipped, "medians": medians, "two_over_one": two, "runs": found}


def predict(train: dict, workers: Sequence[int], ps_tasks: Sequence[int]) -> dict[str, Any]:
    """Pictures/s for ``workers`` workers and ``ps_tasks`` ps tasks, by this model.

    A step moves 2 * 4 * P bytes between a worker and the ps tasks: the P float32 values of
    the network read, as many gradients written (Adam's two slots stay on the ps). With t_c a
    step's compute on one core (``plain, 1 thread``) and T that traffic's cost, each of N
    workers, a core each, steps every t_c + T seconds; K ps tasks, each serving its 1/K of
    every step's bytes at the measured rate 8 P / T, take at most K / T steps a second. So

        pictures/s = batch * min(N / (t_c + T), K / T)

    and the bound is the workers' or the ps tasks', whichever is smaller. T is taken two ways:
    ``overhead``, t_b - t_c with t_b the step of one pinned worker on the cluster (all that the
    cluster adds: the traffic, Adam on the ps, the feed through the worker's own server, the
    chief's summaries; an upper bound of the traffic), and ``transfer``, the traffic timed
    alone. Updates are asynchronous (no worker waits for another) and no link but the ps's
    saturates. A T at or below zero is below this measurement's resolution: no ps bound.
    """
    rows = {m["run"]: m for m in train["medians"]}
    compute, one = rows["plain, 1 thread"]["step_s"], rows["1 worker"]["step_s"]
    sent = 2 * 4 * train["parameters"]
    sources = {"overhead": one - compute, "transfer": train["transfer_s"]}

    def rate(n: int, k: int, cost: float) -> dict[str, Any]:
        by_workers = n / (compute + max(cost, 0.0))
        by_ps = k / cost if cost > 0 else float("inf")
        return {"pictures_per_s": train["batch"] * min(by_workers, by_ps),
                "bound": "workers" if by_workers <= by_ps else "ps"}

    return {"parameters": train["parameters"], "bytes_per_step": sent, "batch": train["batch"],
            "compute_s": compute, "one_worker_s": one,
            "sources": {name: {"round_trip_s": cost,
                               "mb_per_s": sent / cost / 1e6 if cost > 0 else None}
                        for name, cost in sources.items()},
            "predictions": [{"workers": n, "ps": k, **{name: rate(n, k, cost)
                                                       for name, cost in sources.items()}}
                            for n in workers for k in ps_tasks],
            "check": {"workers": 2, "ps": 1,
                      "measured": rows["2 workers"]["pictures_per_s"],
                      **{name: rate(2, 1, cost)["pictures_per_s"]
                         for name, cost in sources.items()}}}


def part_ps(args: argparse.Namespace, stored: dict) -> dict[str, Any]:
    if "train" not in stored:
        sys.exit(f"error: {args.json} has no train section yet: run the train part first")
    result = predict(stored["train"], args.predict_workers, args.predict_ps)
    for name, source in result["sources"].items():
        print(f"{name}: {source['round_trip_s'] * 1000:.1f} ms a step for "
              f"{result['bytes_per_step'] / 1e6:.1f} MB", flush=True)
    for row in result["predictions"]:
        print(f"{row['workers']} workers, {row['ps']} ps: " + ", ".join(
            f"{name} {row[name]['pictures_per_s']:.3g} pictures/s ({row[name]['bound']})"
            for name in result["sources"]), flush=True)
    return dict(result, commit=stored["train"]["commit"])


def fast_run(args: argparse.Namespace, size: str) -> dict[str, Any]:
    """``tf1cnn-style --fast`` at ``size``: its own seconds, its wall time and evaluations."""
    height, width = split_size(size)
    with tempfile.TemporaryDirectory() as folder:
        done = machine.timed([*pinned(args.cores), sys.executable, STYLE_SCRIPT, "--fast",
                              "--vgg", args.vgg, "--height", str(height), "--width", str(width),
                              "--output-dir", folder],
                             env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
        if done.returncode:
            sys.exit(f"error: --fast at {size} exited with {done.returncode}:\n{done.stderr}")
        with open(os.path.join(folder, "losses.csv")) as handle:
            last = list(csv.DictReader(handle))[-1]
    seconds = float(last["seconds"])
    return {"size": size, "seconds": seconds, "wall_s": done.seconds,
            "startup_s": done.seconds - seconds, "evaluations": int(float(last["evaluations"])),
            "other_cores": done.other_cores}


def part_apply(args: argparse.Namespace) -> dict[str, Any]:
    machine.warm_weights_cache(args.vgg)
    forward: dict[float, list[dict]] = {width: [] for width in args.widths}
    fast: dict[str, list[dict]] = {size: [] for size in args.fast_sizes}
    for repeat in range(args.repeats):
        for width in args.widths:
            meter = machine.Meter()
            result = spawn(args.cores, "apply", "--width", str(width), "--sizes", *args.sizes,
                           "--apply-steps", str(args.apply_steps))
            forward[width].append(dict(result, process_s=meter.seconds()))
            print(f"repeat {repeat + 1}: width {width:g}: " + ", ".join(
                f"{s['size']} {s['seconds']:.3f} s" for s in result["sizes"])
                + f" (others {result['other_cores']:.2f})", flush=True)
        for size in args.fast_sizes:
            fast[size].append(fast_run(args, size))
            print(f"repeat {repeat + 1}: --fast {size}: {fast[size][-1]['seconds']:.1f} s "
                  f"(others {fast[size][-1]['other_cores']:.2f})", flush=True)
    fast_rows = [{"size": size, **{key: statistics.median(r[key] for r in runs) for key in
                                   ("seconds", "wall_s", "startup_s", "evaluations",
                                    "other_cores")}} for size, runs in fast.items()]
    fast_seconds = {row["size"]: row["seconds"] for row in fast_rows}
    rows, start = [], []
    for width, runs in forward.items():
        start.append({"width": width, **{key: statistics.median(r[key] for r in runs)
                                         for key in ("import_s", "restore_s", "process_s",
                                                     "other_cores")}})
        for k, size in enumerate(args.sizes):
            seconds = statistics.median(r["sizes"][k]["seconds"] for r in runs)
            rows.append({"width": width, "size": size, "seconds": seconds,
                         "first_s": statistics.median(r["sizes"][k]["first_s"] for r in runs),
                         "vs_fast": seconds / fast_seconds[size] if size in fast_seconds
                         else None})
    return {"apply_steps": args.apply_steps, "vgg": os.path.basename(args.vgg),
            "forward": rows, "startup": start, "fast": fast_rows, "runs": forward}


def split_size(size: str) -> tuple[int, int]:
    height, width = (int(v) for v in size.lower().split("x"))
    return height, width


def write(path: str, stored: dict) -> None:
    with open(path + ".part", "w") as out:
        json.dump(stored, out, indent=1)
        out.write("\n")
    os.replace(path + ".part", path)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args)))
        return 0
    if {"train", "apply"} & set(args.parts) and args.vgg is None:
        args.vgg = machine.random_vgg19(width_divisor=args.width_divisor)
    stored = {}
    if os.path.exists(args.json):
        with open(args.json) as handle:
            stored = json.load(handle)
    print(f"{machine.cpu_name()}; cores {args.cores}; load {os.getloadavg()[0]:.1f}",
          flush=True)
    parts = {"matmul": part_matmul, "train": part_train, "apply": part_apply,
             "ps": lambda a: part_ps(a, stored)}
    for name in args.parts:
        load, meter = os.getloadavg()[0], machine.Meter()
        section = {"cpu": machine.cpu_name(), "commit": machine.head_commit(),
                   "cores": args.cores, "repeats": args.repeats}
        section.update(parts[name](args))
        section.update(load_before=load, load_after=os.getloadavg()[0],
                       other_cores=meter.other_cores())
        stored[name] = section
        stored.update(cpu=section["cpu"], commit=section["commit"])
        write(args.json, stored)
        print(f"{name}: written to {args.json}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
