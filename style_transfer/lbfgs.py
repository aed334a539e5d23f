"""SciPy's L-BFGS-B as an iterator: one accepted iterate at a time, to a caller that may leave.

``scipy.optimize.minimize`` owns its loop and only calls back. :class:`LBFGS` turns that inside
out: SciPy runs in a helper thread, and each accepted iteration is handed to the caller's
``for`` loop, with the helper paused until the caller asks for the next one. So only one thread
at a time runs the objective (a TensorFlow Session, say), and the caller decides what happens
between iterations (checkpoints, pictures, stopping). Leaving the loop early, by ``break``, an
exception or Ctrl-C, stops the helper at its next call into Python and joins it.

    problem = LBFGS(lambda x: (x @ x, 2 * x), x0=np.ones(4), lower=-1.0, upper=1.0)
    for iterate in problem:              # Iterate(x, loss, evaluations)
        if iterate.loss < 1e-8:
            break
    problem.message                      # why SciPy stopped, when it stopped on its own

``corrections`` is L-BFGS-B's ``m``: the curvature pairs kept (memory: 2 m vectors of float64
per value). Nothing here knows about TensorFlow; the tests run it on a quadratic.
"""
from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable, Iterator

import numpy as np
import scipy.optimize

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclasses.dataclass(frozen=True)
class Iterate:
    x: np.ndarray  # the accepted point, float64, a copy
    loss: float  # the objective there
    evaluations: int  # objective evaluations so far, this iterate's included


class _Leave(Exception):
    """Unwinds SciPy's loop when the caller has gone."""


class LBFGS:
    """Minimise ``objective(x) -> (value, gradient)`` from ``x0`` within [lower, upper]."""

    def __init__(self, objective: Objective, x0: np.ndarray, lower, upper,
                 corrections: int = 10, max_iterations: int = 1000,
                 max_evaluations: int | None = None):
        self.objective = objective
        self.x0 = np.asarray(x0, np.float64).ravel()
        self.bounds = scipy.optimize.Bounds(
            np.broadcast_to(np.asarray(lower, np.float64), self.x0.shape),
            np.broadcast_to(np.asarray(upper, np.float64), self.x0.shape))
        self.options = {"maxcor": corrections, "maxiter": max_iterations,
                        "maxfun": max_evaluations or 50 * max_iterations,
                        "ftol": 0.0, "gtol": 0.0}  # the caller decides when it is enough
        self.evaluations = 0
        self.message = ""  # SciPy's reason, once it has stopped on its own

    def __iter__(self) -> Iterator[Iterate]:
        handed: queue.Queue = queue.Queue()
        resume = threading.Semaphore(0)
        leave = threading.Event()

        def objective(x):
            if leave.is_set():
                raise _Leave
            value, gradient = self.objective(x)
            self.evaluations += 1
            return float(value), np.asarray(gradient, np.float64).ravel()

        def accepted(intermediate_result) -> None:
            handed.put(("iterate", Iterate(intermediate_result.x.copy(),
                                           float(intermediate_result.fun), self.evaluations)))
            resume.acquire()
            if leave.is_set():
                raise _Leave

        def work() -> None:
            try:
                result = scipy.optimize.minimize(objective, self.x0, jac=True,
                                                 method="L-BFGS-B", bounds=self.bounds,
                                                 callback=accepted, options=self.options)
                handed.put(("done", str(result.message)))
            except _Leave:
                handed.put(("done", ""))
            except BaseException as exc:  # raised again in the caller's thread
                handed.put(("error", exc))

        thread = threading.Thread(target=work, name="lbfgs", daemon=True)
        thread.start()
        try:
            while True:
                kind, value = handed.get()
                if kind == "done":
                    self.message = value
                    return
                if kind == "error":
                    raise value
                yield value
                resume.release()
        finally:
            leave.set()
            resume.release()
            thread.join()
