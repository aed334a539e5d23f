"""Run the whole cluster on this machine: one process per task, on loopback ports.

``launch`` checks the ports, starts the ps and the workers with multiprocessing (spawn, so
every child gets the ports chosen here), prints what they print, and waits. It returns a
``Summary`` once every process has exited: the ps leaves by itself when every worker has
finished, and gets SIGTERM (its cue to stop) when a worker died instead. If the chief dies, the
other tasks are stopped too, since no checkpoint would record their work; a rerun resumes from
the last checkpoint. Ctrl-C reaches every task: the workers stop after their current step, the
chief saves a checkpoint, and the ps, which ignores it, follows them.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time

from .cluster import check_port_free
from .config import TrainConfig
from .results import Summary

STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL for a task that must be stopped


def _ps_main(cluster, index, timeout):
    # The launcher stops the ps itself; Ctrl-C must not take the variables from the workers
    # while they save their last checkpoint.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .task import serve_ps
    serve_ps(cluster, index, timeout, log=_log)


def _worker_main(cluster, index, config, results):
    from .task import Task, exit_when_lost, stop_on_interrupt, train_worker
    stop = stop_on_interrupt()
    results.put(exit_when_lost(Task("worker", index),
                               lambda: train_worker(cluster, index, config, _log, stop), _log))


def _log(line: str) -> None:
    print(line, flush=True)


def launch(config: TrainConfig, cluster: dict) -> Summary:
    """Train on a local cluster (from ``cluster.local_cluster``); return once every task's
    process has exited."""
    for address in cluster["ps"] + cluster["worker"]:
        check_port_free(address)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    tasks = {("ps", i): context.Process(target=_ps_main, args=(cluster, i, config.timeout),
                                        name=f"ps-{i}", daemon=True)
             for i in range(len(cluster["ps"]))}
    tasks.update({("worker", i): context.Process(target=_worker_main,
                                                 args=(cluster, i, config, results),
                                                 name=f"worker-{i}", daemon=True)
                  for i in range(len(cluster["worker"]))})
    started = time.monotonic()
    for process in tasks.values():
        process.start()
    _log(f"launcher pid={os.getpid()} cluster={cluster}")
    stopped, collected = [], {}
    try:
        train_seconds = _wait_for_workers(tasks, results, collected, stopped, started)
        interrupted = False
    except KeyboardInterrupt:
        # The workers leave their loop at the signal, and the chief saves a checkpoint.
        interrupted, train_seconds = True, time.monotonic() - started
        for key, process in tasks.items():
            if key[0] == "worker" and process.is_alive():
                os.kill(process.pid, signal.SIGINT)
    _stop_all(tasks, stopped, results, collected,
              time.monotonic() + config.timeout if interrupted else float("inf"))
    codes = {key: process.exitcode for key, process in tasks.items()}
    return Summary(cluster, collected, codes, stopped, train_seconds,
                   time.monotonic() - started, interrupted)


def _drain(results, collected) -> None:
    while True:
        try:
            result = results.get_nowait()
        except queue.Empty:
            return
        collected[result.task] = result


def _wait_for_workers(tasks, results, collected, stopped, started) -> float:
    workers = {key: p for key, p in tasks.items() if key[0] == "worker"}
    chief = workers[("worker", 0)]
    while any(p.is_alive() for p in workers.values()):
        _drain(results, collected)
        if chief.exitcode not in (None, 0):
            _log(f"launcher: the chief (worker 0) exited with code {chief.exitcode}; stopping "
                 f"the other tasks. Rerun to resume from the last checkpoint.")
            for key, process in workers.items():
                if process.is_alive():
                    _terminate(process)
                    stopped.append(key)
            break
        time.sleep(0.05)
    return time.monotonic() - started


def _stop_all(tasks, stopped, results, collected, deadline=float("inf")) -> None:
    """Wait for the workers to exit (until deadline), then for the ps. A ps left waiting for
    a worker that died gets SIGTERM, its cue to stop; anything still alive STOP_GRACE seconds
    later is killed."""
    workers = [p for key, p in tasks.items() if key[0] == "worker"]
    while any(p.is_alive() for p in workers) and time.monotonic() < deadline:
        _drain(results, collected)  # a child cannot exit while its result sits in the pipe
        time.sleep(0.05)
    _drain(results, collected)
    everyone_done = len(collected) == len(workers)
    for key, process in tasks.items():
        process.join(STOP_GRACE if everyone_done and key[0] == "ps" else 0)
        if process.is_alive():
            _terminate(process)
            stopped.append(key)
    _drain(results, collected)


def _terminate(process) -> None:
    process.terminate()
    process.join(STOP_GRACE)
    if process.is_alive():
        process.kill()
        process.join()
