"""Command line for parameter-server training: ``tf1cnn-cluster train|eval [options]``.

``train`` with no cluster flags starts the tutorial's local cluster (1 ps, 3 workers on
loopback ports) and prints one line per 500 global steps and a closing summary. With
``--ps-hosts --worker-hosts --job-name --task-index``, or with a ``TF_CONFIG`` environment
variable, it runs one task of a multi-host cluster instead. Rerunning resumes from the last
checkpoint. ``eval`` restores the latest checkpoint and plots the fit to a PNG (or a window with
``--show``). Bad input gets one ``error:`` line and exit status 2, before TensorFlow loads.

Exit status of ``train``: 0 when every worker finished; 1 when one stopped early (the summary
says which); 138 when a task lost the cluster (retry: Kubeflow's ExitCode policy does); 130
after SIGINT (Ctrl-C) and 143 after SIGTERM, with a checkpoint saved. Both signals are handled
whatever the process inherited, also when a script started it in the background.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tf1cnn.common import exits, files, options
from tf1cnn.common.errors import UsageError
from tf1cnn.common.options import DefaultsFormatter, UsageParser

from . import cluster as clusters
from . import rundir, signals
from .config import TrainConfig

TASK_FLAGS = ("ps_hosts", "worker_hosts", "job_name", "task_index")


def build_parser() -> argparse.ArgumentParser:
    parser = UsageParser(prog="tf1cnn-cluster", allow_abbrev=False,
                         description="Parameter-server training of the 2019 tutorial's "
                                     "y = x^2 regression on TF1's gRPC runtime, then an eval "
                                     "plot.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=UsageParser)
    train = commands.add_parser(
        "train", formatter_class=DefaultsFormatter, allow_abbrev=False,
        help="train on a local cluster, or run one task of a multi-host cluster",
        description="With no cluster flags: start 1 ps and 3 workers on loopback and train. "
                    "With --ps-hosts --worker-hosts --job-name --task-index (or TF_CONFIG): "
                    "run that one task. Rerun to resume from the last checkpoint.")
    options.add_fields(train, TrainConfig)
    train.add_argument("--ports", type=int, nargs="+", metavar="PORT",
                       help="local cluster ports, ps first then workers; if omitted, free ones")
    train.add_argument("--ps-hosts", metavar="HOST:PORT,...",
                       help="one task of a multi-host cluster: the ps addresses")
    train.add_argument("--worker-hosts", metavar="HOST:PORT,...",
                       help="the worker addresses; worker 0 is the chief")
    train.add_argument("--job-name", choices=clusters.JOBS, help="this task's job")
    train.add_argument("--task-index", type=int, help="this task's index within its job")
    evaluate = commands.add_parser(
        "eval", formatter_class=DefaultsFormatter, allow_abbrev=False,
        help="restore the latest checkpoint and plot the fit",
        description="Restore the latest checkpoint in a fresh graph, predict on the training "
                    "x, and plot the data and the fit.")
    evaluate.add_argument("--checkpoint-dir", default=TrainConfig.checkpoint_dir,
                          help=options.help_of(TrainConfig, "checkpoint_dir"))
    evaluate.add_argument("--output", help="the PNG to write; if omitted, fit.png in the "
                                           "checkpoint directory")
    evaluate.add_argument("--show", action="store_true",
                          help="open the plot in a window instead of writing a PNG")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return options.guarded(lambda: run(build_parser().parse_args(argv)))


def run(args: argparse.Namespace) -> int:
    """Run the parsed command."""
    if args.command == "eval":
        return run_eval(args.checkpoint_dir, args.output, args.show)
    return run_train(options.config_from(args, TrainConfig), args.ports,
                     {k: getattr(args, k) for k in TASK_FLAGS})


def resolve_task(flags: dict, environ=os.environ):
    """(cluster, task) for one task of a multi-host cluster, or (None, None) for a local run."""
    if any(flags[name] is not None for name in TASK_FLAGS):
        missing = [name for name in TASK_FLAGS if flags[name] is None]
        if missing:
            raise UsageError("one task of a multi-host cluster needs all of --ps-hosts "
                             "--worker-hosts --job-name --task-index; missing: "
                             + " ".join("--" + m.replace("_", "-") for m in missing))
        return clusters.from_flags(*(flags[name] for name in TASK_FLAGS))
    if environ.get("TF_CONFIG"):
        return clusters.from_tf_config(environ["TF_CONFIG"])
    return None, None


def run_train(config: TrainConfig, ports, flags: dict) -> int:
    config.check()
    cluster, task = resolve_task(flags)
    if task is not None and ports:
        raise UsageError("--ports is for the local cluster; a multi-host task takes its "
                         "address from --ps-hosts/--worker-hosts or TF_CONFIG")
    if cluster is None:
        cluster = clusters.local_cluster(config.workers, config.ps, ports)
        for address in cluster["ps"] + cluster["worker"]:
            clusters.check_port_free(address)
    else:
        remote = clusters.non_loopback(cluster)
        if remote and not config.allow_remote:
            raise UsageError(f"the cluster has non-loopback addresses ({', '.join(remote)}); "
                             f"TF's gRPC servers accept any graph from anyone who reaches "
                             f"them, so pass --allow-remote once they are on a private network "
                             f"or behind a firewall (see the README)")
        if remote:
            print(f"warning: this task's gRPC server listens on every interface of this "
                  f"machine with no authentication; keep {', '.join(remote)} on a private "
                  f"network or behind a firewall", file=sys.stderr, flush=True)
        clusters.check_port_free(cluster[task.job][task.index])
    if task is None or task.is_chief:
        rundir.prepare(config.checkpoint_dir, config.run_settings())
    shown = dataclasses.asdict(config)
    if task is not None:  # the cluster's size comes from its addresses, not --workers/--ps
        del shown["workers"], shown["ps"]
        shown.update(cluster=cluster, job=task.job, task_index=task.index)
    print("config: " + json.dumps(shown), flush=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if task is None:
        return _train_local(config, cluster)
    return _run_task(cluster, task, config)


def _train_local(config: TrainConfig, cluster: dict) -> int:
    from . import launcher
    from .results import report

    summary = launcher.launch(config, cluster)
    report(summary)
    if summary.interrupted:
        print(f"interrupted by {summary.signal}: rerun the same command to resume from the last "
              f"checkpoint", file=sys.stderr, flush=True)
        return signals.CODES[summary.signal]
    return exits.STOPPED if summary.stopped else 0


def _run_task(cluster: dict, task: clusters.Task, config: TrainConfig) -> int:
    stop = signals.StopSignals()  # SIGINT: 130, SIGTERM: 143, for the ps and the workers alike
    from . import task as tasks

    def log(line: str) -> None:  # each line as it comes, also into a pipe
        print(line, flush=True)

    if task.job == "ps":
        # Stopped, it exits at once: the variables it held are gone, and its workers exit
        # exits.LOST within --timeout.
        tasks.exit_when_lost(task, lambda: tasks.serve_ps(cluster, task.index, config.timeout,
                                                          log, stop), log)
        return stop.exit_code
    result = tasks.exit_when_lost(
        task, lambda: tasks.train_worker(cluster, task.index, config, log, stop), log)
    print(f"summary: {task} local_steps={result.local_steps} "
          f"global_steps={result.first_step}..{result.last_step} "
          f"last_loss={result.last_loss:.6g} seconds={result.seconds:.2f}"
          + ("" if result.final_loss is None else f" final_loss={result.final_loss:.6g}")
          + (f" interrupted by {stop.name}" if result.interrupted else ""), flush=True)
    return stop.exit_code if result.interrupted else 0


def run_eval(checkpoint_dir: str, output: str | None, show: bool) -> int:
    rundir.read_settings(checkpoint_dir)  # a folder that holds no run fails here, first
    output = output or str(Path(checkpoint_dir) / "fit.png")
    if not show:
        files.check_output_file(output)
    from matplotlib.figure import Figure

    from tf1cnn.common.figures import save_figure

    from . import evaluate

    result = evaluate.fit(checkpoint_dir)
    print(f"eval: checkpoint={result.checkpoint} global_step={result.global_step} "
          f"mse={result.mse:.6g} mse_to_x2={result.mse_to_truth:.6g}", flush=True)
    if show:
        from matplotlib import pyplot

        evaluate.draw(pyplot.figure(), result)
        pyplot.show()
        return 0
    save_figure(evaluate.draw(Figure(), result), output, 100,
                {"Software": "tf1cnn-cluster eval", "Source": result.checkpoint})
    print(f"saved: {output}", flush=True)
    return 0

