"""Run the whole cluster on this machine: one process per task, on loopback ports.

``launch`` checks the ports, starts the ps and the workers with multiprocessing (spawn, so
every child gets the ports chosen here), prints what they print, and waits. It returns a
``Summary`` once every process has exited: the ps leaves by itself when every worker has
finished, and gets SIGUSR1 (its cue to stop) when a worker died instead. If the chief dies, the
other tasks are stopped too, since no checkpoint would record their work; a rerun resumes from
the last checkpoint.

SIGINT (Ctrl-C) and SIGTERM stop the run, whatever dispositions the launcher inherited (see
``signals``): it passes the signal on to every worker, the workers stop after their current
step, the chief saves a checkpoint, and the ps follows them once every worker has said it is
done. ``Summary.signal`` names the signal, and the command exits 130 or 143. The ps ignores
SIGINT and SIGTERM, since the chief's last checkpoint needs the variables it holds: a Ctrl-C at
a terminal reaches every task at once (they share its process group), and systemd sends
SIGTERM to the whole group. The workers then get the signal twice, which changes nothing.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time

from tf1cnn.common import runtime

from .cluster import check_port_free
from .config import TrainConfig
from .results import Summary
from .signals import StopSignals
from .style_config import StyleNetConfig

STOP_GRACE = 5.0  # seconds between the stop signal and SIGKILL for a task that must be stopped
PS_CUE = signal.SIGUSR1  # the launcher's word to a local ps: leave now


def _ps_main(cluster, index, timeout):
    # The launcher stops the ps itself, with SIGUSR1, or the ps sees that the launcher is gone;
    # the signals that stop a run must not take the variables from the workers while they save
    # their last checkpoint. Released by the launcher, it exits 0.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stop = StopSignals((PS_CUE,))
    threading.Thread(target=_cue_when_orphaned, args=(os.getppid(),), daemon=True).start()
    runtime.import_tensorflow()  # quietly, before the task module loads it
    from .task import Task, exit_when_lost, serve_ps
    exit_when_lost(Task("ps", index), lambda: serve_ps(cluster, index, timeout, _log, stop),
                   _log)


def _cue_when_orphaned(launcher: int) -> None:
    """Give this process the ps's cue once its launcher has died (SIGKILL leaves no time)."""
    while os.getppid() == launcher:
        time.sleep(0.5)
    os.kill(os.getpid(), PS_CUE)


def _worker_main(cluster, index, config, results, net, threads):
    stop = StopSignals()  # before TensorFlow loads, which takes seconds
    runtime.import_tensorflow()  # quietly, before the task module loads it
    from .task import Task, exit_when_lost, train_worker
    results.put(exit_when_lost(
        Task("worker", index),
        lambda: train_worker(cluster, index, config, _log, stop, net, threads), _log))


def _log(line: str) -> None:
    print(line, flush=True)


def launch(config: TrainConfig, cluster: dict, net: StyleNetConfig | None = None,
           threads: int = 1) -> Summary:
    """Train on a local cluster (from ``cluster.local_cluster``); return once every task's
    process has exited. ``net``: the style network's settings (None: the toy model);
    ``threads``: each worker's threads per op."""
    config = config.settled()
    for address in cluster["ps"] + cluster["worker"]:
        check_port_free(address)
    stop = StopSignals()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    tasks = {("ps", i): context.Process(target=_ps_main, args=(cluster, i, config.timeout),
                                        name=f"ps-{i}", daemon=True)
             for i in range(len(cluster["ps"]))}
    tasks.update({("worker", i): context.Process(target=_worker_main,
                                                 args=(cluster, i, config, results, net,
                                                       threads),
                                                 name=f"worker-{i}", daemon=True)
                  for i in range(len(cluster["worker"]))})
    started = time.monotonic()
    for process in tasks.values():
        process.start()
    _log(f"launcher pid={os.getpid()} cluster={cluster}")
    stopped, collected = [], {}
    train_seconds = _wait_for_workers(tasks, results, collected, stopped, started, stop)
    if stop.is_set():
        # The workers leave their loop at the signal, and the chief saves a checkpoint.
        for key, process in tasks.items():
            if key[0] == "worker" and process.is_alive():
                os.kill(process.pid, stop.received)
    # A worker acts on the signal between steps, so one that is still starting acts on it once
    # its startup is over (its watchdog allows 2 timeouts); it saves within one more.
    _stop_all(tasks, stopped, results, collected,
              time.monotonic() + 3 * config.timeout if stop.is_set() else float("inf"))
    codes = {key: process.exitcode for key, process in tasks.items()}
    return Summary(cluster, collected, codes, stopped, train_seconds,
                   time.monotonic() - started, stop.name)


def _drain(results, collected) -> None:
    while True:
        try:
            result = results.get_nowait()
        except queue.Empty:
            return
        collected[result.task] = result


def _wait_for_workers(tasks, results, collected, stopped, started, stop) -> float:
    """Until every worker has exited or a signal came; returns the seconds since start."""
    workers = {key: p for key, p in tasks.items() if key[0] == "worker"}
    chief = workers[("worker", 0)]
    while any(p.is_alive() for p in workers.values()) and not stop.is_set():
        _drain(results, collected)
        if chief.exitcode not in (None, 0):
            _log(f"launcher: the chief (worker 0) exited with code {chief.exitcode}; stopping "
                 f"the other tasks. Rerun to resume from the last checkpoint.")
            for key, process in workers.items():
                if process.is_alive():
                    _terminate(process)
                    stopped.append(key)
            break
        stop.wait(0.05)
    return time.monotonic() - started


def _stop_all(tasks, stopped, results, collected, deadline=float("inf")) -> None:
    """Wait for the workers to exit (until deadline), then for the ps. A worker still alive at
    the deadline gets SIGTERM, and a ps left waiting for a worker that died gets PS_CUE;
    anything still alive STOP_GRACE seconds later is killed."""
    workers = [p for key, p in tasks.items() if key[0] == "worker"]
    while any(p.is_alive() for p in workers) and time.monotonic() < deadline:
        _drain(results, collected)  # a child cannot exit while its result sits in the pipe
        time.sleep(0.05)
    _drain(results, collected)
    everyone_done = len(collected) == len(workers)
    for key, process in tasks.items():
        process.join(STOP_GRACE if everyone_done and key[0] == "ps" else 0)
        if process.is_alive():
            _terminate(process, PS_CUE if key[0] == "ps" else signal.SIGTERM)
            stopped.append(key)
    _drain(results, collected)


def _terminate(process, cue=signal.SIGTERM) -> None:
    os.kill(process.pid, cue)
    process.join(STOP_GRACE)
    if process.is_alive():
        process.kill()
        process.join()
