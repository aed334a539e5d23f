"""Command line for parameter-server training: ``tf1cnn-cluster train|eval [options]``.

``train`` with no cluster flags starts the tutorial's local cluster (1 ps, 3 workers on
loopback ports) and prints one line per 500 global steps and a closing summary. ``--model
style-net`` trains a feed-forward style network on the same cluster instead (2 workers by
default, each with its share of the cores), with the options of its own group. With
``--ps-hosts --worker-hosts --job-name --task-index``, or with a ``TF_CONFIG`` environment
variable, it runs one task of a multi-host cluster instead. Rerunning resumes from the last
checkpoint. ``eval`` restores the latest checkpoint and plots the fit to a PNG (or a window with
``--show``); on a style network's folder it scores held-out pictures instead (``style_eval``).
Bad input gets one ``error:`` line and exit status 2, before TensorFlow loads.

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
from .style_config import StyleNetConfig

TASK_FLAGS = ("ps_hosts", "worker_hosts", "job_name", "task_index")
STYLE_EVAL_OPTIONS = ("style", "vgg", "held_out_size")


def build_parser() -> argparse.ArgumentParser:
    parser = UsageParser(prog="tf1cnn-cluster", allow_abbrev=False,
                         description="Parameter-server training on TF1's gRPC runtime: the "
                                     "2019 tutorial's y = x^2 regression, or a feed-forward "
                                     "style network; then an eval plot.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=UsageParser)
    train = commands.add_parser(
        "train", formatter_class=DefaultsFormatter, allow_abbrev=False,
        help="train on a local cluster, or run one task of a multi-host cluster",
        description="With no cluster flags: start 1 ps and 3 workers on loopback and train. "
                    "With --ps-hosts --worker-hosts --job-name --task-index (or TF_CONFIG): "
                    "run that one task. Rerun to resume from the last checkpoint.")
    options.add_fields(train, TrainConfig)
    options.add_fields(train.add_argument_group("--model style-net"), StyleNetConfig)
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
        help="restore the checkpoints and plot the fit, or a style network's held-out loss",
        description="The toy model: restore the latest checkpoint in a fresh graph, predict on "
                    "the training x, and plot the data and the fit. A style network (its "
                    "run.json says so): restore each kept checkpoint, compute the style tool's "
                    "objective on 8 fixed held-out crops, and write a contact sheet, a loss "
                    "figure and held_out.json.")
    evaluate.add_argument("--checkpoint-dir", default=TrainConfig.checkpoint_dir,
                          help=options.help_of(TrainConfig, "checkpoint_dir"))
    evaluate.add_argument("--output", help="the PNG to write; if omitted, fit.png in the "
                                           "checkpoint directory. A style network: the contact "
                                           "sheet (default held_out.png there), with NAME_loss"
                                           ".png and held_out.json beside it")
    evaluate.add_argument("--show", action="store_true",
                          help="toy model: open the plot in a window instead of writing a PNG")
    group = evaluate.add_argument_group("a style network's run")
    group.add_argument("--style", metavar="PATH",
                       help="the style picture it was trained with; if omitted, the bundled "
                            "pattern")
    group.add_argument("--vgg", metavar="PATH",
                       help="the VGG file it was trained with, as train's --vgg; if omitted, "
                            "MatConvNet's VGG19")
    group.add_argument("--held-out-size", type=int, default=None, metavar="PIXELS",
                       help="side of the held-out crops; if omitted, 256")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return options.guarded(lambda: run(build_parser().parse_args(argv)))


def run(args: argparse.Namespace) -> int:
    """Run the parsed command."""
    if args.command == "eval":
        return run_eval(args.checkpoint_dir, args.output, args.show,
                        {name: getattr(args, name) for name in STYLE_EVAL_OPTIONS})
    config = options.config_from(args, TrainConfig).settled()
    net = options.config_from(args, StyleNetConfig)
    if config.model == "toy":
        given = [f"--{f.name.replace('_', '-')}" for f in dataclasses.fields(StyleNetConfig)
                 if getattr(net, f.name) != f.default]
        if given:
            raise UsageError(f"{' '.join(given)} {'is' if len(given) == 1 else 'are'} for "
                             f"--model style-net")
        net = None
    elif config.toy_options_given():
        raise UsageError(f"{' '.join(config.toy_options_given())} only apply to --model toy")
    return run_train(config, ports=args.ports,
                     flags={k: getattr(args, k) for k in TASK_FLAGS}, net=net)


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


def run_train(config: TrainConfig, ports, flags: dict,
              net: StyleNetConfig | None = None) -> int:
    config = config.settled()
    config.check()
    settings = config.run_settings()
    if net is not None:
        settings.update(_style_net_settings(net))
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
        rundir.prepare(config.checkpoint_dir, settings)
    shown = dataclasses.asdict(config)
    if net is not None:
        shown.update(dataclasses.asdict(net))
    if task is not None:  # the cluster's size comes from its addresses, not --workers/--ps
        del shown["workers"], shown["ps"]
        shown.update(cluster=cluster, job=task.job, task_index=task.index)
    print("config: " + json.dumps(shown), flush=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cores = len(os.sched_getaffinity(0))
    if task is None:  # the workers share this machine's cores
        return _train_local(config, cluster, net,
                            1 if net is None else max(1, cores // len(cluster["worker"])))
    return _run_task(cluster, task, config, net, 1 if net is None else cores)


def _style_net_settings(net: StyleNetConfig) -> dict:
    """Check the style network's inputs before any work, load its VGG once (a download, the
    first time), and return what its checkpoints depend on."""
    net.check()
    from tf1cnn.common import images, runtime, samples

    from . import pictures

    style = net.style or samples.sample(samples.SAMPLE_STYLE)
    images.read_shape(style, "style")
    if net.images is not None:
        pictures.read_folder(net.images)
    runtime.import_tensorflow()  # quietly, before the weights' modules load it
    from tf1cnn.style_transfer.network import download, weights

    network = weights.load(net.vgg, net.layers)
    return {**net.settings(), "style_sha256": download.file_sha256(style),
            "vgg_sha256": network.sha256}


def _train_local(config: TrainConfig, cluster: dict, net: StyleNetConfig | None,
                 threads: int) -> int:
    from . import launcher
    from .results import report

    summary = launcher.launch(config, cluster, net, threads)
    report(summary)
    if summary.interrupted:
        print(f"interrupted by {summary.signal}: rerun the same command to resume from the last "
              f"checkpoint", file=sys.stderr, flush=True)
        return signals.CODES[summary.signal]
    return exits.STOPPED if summary.stopped else 0


def _run_task(cluster: dict, task: clusters.Task, config: TrainConfig,
              net: StyleNetConfig | None, threads: int) -> int:
    stop = signals.StopSignals()  # SIGINT: 130, SIGTERM: 143, for the ps and the workers alike
    from tf1cnn.common import runtime

    runtime.import_tensorflow()  # quietly, before the task module loads it
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
        task, lambda: tasks.train_worker(cluster, task.index, config, log, stop, net, threads),
        log)
    print(f"summary: {task} local_steps={result.local_steps} "
          f"global_steps={result.first_step}..{result.last_step} "
          f"last_loss={result.last_loss:.6g} seconds={result.seconds:.2f}"
          + ("" if result.final_loss is None else f" final_loss={result.final_loss:.6g}")
          + (f" interrupted by {stop.name}" if result.interrupted else ""), flush=True)
    return stop.exit_code if result.interrupted else 0


def run_eval(checkpoint_dir: str, output: str | None, show: bool,
             style_options: dict | None = None) -> int:
    settings = rundir.read_settings(checkpoint_dir)  # a folder that holds no run fails first
    given = {name: value for name, value in (style_options or {}).items() if value is not None}
    if settings.get("model") == "style-net":
        if show:
            raise UsageError("--show is for the toy model's eval; a style network's eval writes "
                             "its figures (--output)")
        from . import style_eval

        return style_eval.run_eval(checkpoint_dir, settings, given.get("style"),
                                   given.get("vgg"), output,
                                   given.get("held_out_size", style_eval.HELD_OUT_SIZE))
    if given:
        raise UsageError(f"{' '.join('--' + name.replace('_', '-') for name in given)} "
                         f"{'is' if len(given) == 1 else 'are'} for a style network's run; "
                         f"{checkpoint_dir} holds the toy model's")
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

