"""What a training run reports: each worker's result and the cluster's closing summary.

Plain data, free of TensorFlow, so the launcher can receive results from its workers without
loading TensorFlow itself.
"""
from __future__ import annotations

import dataclasses
import sys


@dataclasses.dataclass
class WorkerResult:
    task: int
    local_steps: int
    first_step: int  # the global step after this worker's first update
    last_step: int  # the global step after its last update
    last_loss: float
    final_loss: float | None  # the loss of the shared parameters at the end (chief only)
    seconds: float
    interrupted: bool


@dataclasses.dataclass
class Summary:
    cluster: dict
    results: dict  # worker index -> WorkerResult, for the workers that finished
    exit_codes: dict  # (job, index) -> exit code; negative: killed by that signal
    stopped_by_launcher: list  # (job, index) of tasks the launcher had to stop
    train_seconds: float  # from launch until the last worker exited
    total_seconds: float  # from launch until every process had exited
    signal: str = ""  # "SIGINT" or "SIGTERM" when one stopped the run

    @property
    def interrupted(self) -> bool:
        return bool(self.signal)

    @property
    def stopped(self) -> list:
        """Workers that ended without finishing training."""
        return [i for i in range(len(self.cluster["worker"])) if i not in self.results]

    @property
    def global_steps(self) -> int:
        if not self.results:
            return 0
        first = min(r.first_step for r in self.results.values())
        return max(r.last_step for r in self.results.values()) - first + 1

    @property
    def steps_per_second(self) -> float:
        seconds = max((r.seconds for r in self.results.values()), default=0.0)
        return self.global_steps / seconds if seconds else 0.0


def report(summary: Summary, out=sys.stdout) -> None:
    """The closing summary: per worker steps, the final loss, wall time and global steps/s."""
    for index in range(len(summary.cluster["worker"])):
        result = summary.results.get(index)
        code = summary.exit_codes.get(("worker", index))
        if result is None:
            why = (f"killed by signal {-code}" if code is not None and code < 0
                   else f"exit code {code}")
            print(f"summary: job=worker task={index} stopped early ({why})", file=out)
        else:
            print(f"summary: job=worker task={index} local_steps={result.local_steps} "
                  f"global_steps={result.first_step}..{result.last_step} "
                  f"last_loss={result.last_loss:.6g} seconds={result.seconds:.2f}"
                  + (" interrupted" if result.interrupted else ""), file=out)
    for job, index in summary.stopped_by_launcher:
        print(f"summary: job={job} task={index} stopped by the launcher", file=out)
    chief = summary.results.get(0)
    final = f"{chief.final_loss:.6g}" if chief and chief.final_loss is not None else "unknown"
    print(f"summary: workers_finished={len(summary.results)}/{len(summary.cluster['worker'])} "
          f"global_steps={summary.global_steps} final_loss={final} "
          f"train_seconds={summary.train_seconds:.2f} "
          f"global_steps_per_s={summary.steps_per_second:.1f} "
          f"launch_to_exit_seconds={summary.total_seconds:.2f}", file=out, flush=True)
