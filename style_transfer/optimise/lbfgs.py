"""SciPy's L-BFGS-B as an iterator: one accepted iterate at a time, to a caller that may leave.

``scipy.optimize.minimize`` owns its loop and only calls back. Underneath, L-BFGS-B is a
reverse-communication routine: each call of ``setulb`` either asks for the objective at a point
or reports an accepted iterate, and returns. :class:`LBFGS` drives that routine itself, so an
iteration is a plain generator step: the caller's ``for`` loop decides what happens between
iterations (checkpoints, pictures, stopping), and leaving it, by ``break``, an exception or
Ctrl-C, simply ends the generator; no thread is involved.

    problem = LBFGS(lambda x: (x @ x, 2 * x), x0=np.ones(4), lower=-1.0, upper=1.0)
    for iterate in problem:              # Iterate(x, loss, evaluations)
        if iterate.loss < 1e-8:
            break
    problem.message                      # why L-BFGS-B stopped, when it stopped on its own

Driving ``setulb`` directly also skips ``minimize``'s set-up, which turns the bounds into a
Python list of (low, high) pairs and classifies them in a Python loop: measured here, 0.7 s for
the 250x333 image's 249,750 values, 2.3 s for 512x512, and so minutes and gigabytes at 4K, at
every level and every resume. Here the bounds are classified with numpy. ``setulb`` is SciPy's
private interface (``scipy.optimize._lbfgsb``, SciPy 1.15 and later, where it became C; the
stop messages are SciPy's own tables);
``tests/style_transfer/test_lbfgs.py`` checks that this driver takes exactly the iterates of
``scipy.optimize.minimize(method="L-BFGS-B")``, so a change there shows as a failing test.

``corrections`` is L-BFGS-B's ``m``: the curvature pairs kept (memory: 2 m vectors of float64
per value). Nothing here knows about TensorFlow; the tests run it on quadratics.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import numpy as np
from scipy.optimize import _lbfgsb
from scipy.optimize._lbfgsb_py import status_messages, task_messages

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]
MAX_LINE_SEARCH = 20  # SciPy's default maxls
FG, NEW_X = 3, 1  # setulb's task codes (task[0]): evaluate at x; an iterate was accepted


@dataclasses.dataclass(frozen=True)
class Iterate:
    x: np.ndarray  # the accepted point, float64, a copy
    loss: float  # the objective there
    evaluations: int  # objective evaluations so far, this iterate's included


class LBFGS:
    """Minimise ``objective(x) -> (value, gradient)`` from ``x0`` within [lower, upper]
    (scalars or arrays of x0's size; -inf and inf leave a side open). ``x`` is the routine's
    own array, changed in place later: an objective that keeps it must copy it."""

    def __init__(self, objective: Objective, x0: np.ndarray, lower, upper,
                 corrections: int = 10, max_iterations: int = 1000,
                 max_evaluations: int | None = None):
        self.objective = objective
        self.x0 = np.asarray(x0, np.float64).ravel()
        self.lower = np.broadcast_to(np.asarray(lower, np.float64), self.x0.shape)
        self.upper = np.broadcast_to(np.asarray(upper, np.float64), self.x0.shape)
        if (self.lower > self.upper).any():
            raise ValueError("a lower bound is above its upper bound")
        self.corrections = corrections
        self.max_iterations = max_iterations
        self.max_evaluations = max_evaluations or 50 * max_iterations
        self.evaluations = 0
        self.message = ""  # L-BFGS-B's reason, once it has stopped on its own

    def __iter__(self) -> Iterator[Iterate]:
        n, m = self.x0.size, self.corrections
        has_lower, has_upper = np.isfinite(self.lower), np.isfinite(self.upper)
        # L-BFGS-B's bound kinds: 0 none, 1 lower only, 2 both, 3 upper only.
        kinds = np.where(has_lower, np.where(has_upper, 2, 1), np.where(has_upper, 3, 0))
        kinds = kinds.astype(np.int32)
        lower = np.where(has_lower, self.lower, 0.0)
        upper = np.where(has_upper, self.upper, 0.0)
        x = np.clip(self.x0, self.lower, self.upper)  # the start must be within the bounds
        loss, gradient = 0.0, np.zeros(n)
        work = np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m)
        int_work = np.zeros(3 * n, np.int32)
        task, line_task = np.zeros(2, np.int32), np.zeros(2, np.int32)
        saved_flags, saved_ints = np.zeros(4, np.int32), np.zeros(44, np.int32)
        saved_floats = np.zeros(29)
        iterations = 0
        while True:
            # Tolerances 0: never stop by themselves; the caller decides when it is enough.
            _lbfgsb.setulb(m, x, lower, upper, kinds, loss, gradient, 0.0, 0.0, work, int_work,
                           task, saved_flags, saved_ints, saved_floats, MAX_LINE_SEARCH,
                           line_task)
            if task[0] == FG:
                value, grad = self.objective(x)
                self.evaluations += 1
                loss = float(value)
                gradient = np.asarray(grad, np.float64).ravel()
            elif task[0] == NEW_X:
                iterations += 1
                yield Iterate(x.copy(), loss, self.evaluations)
                if iterations >= self.max_iterations or \
                        self.evaluations > self.max_evaluations:
                    return
            else:  # ended by itself; worded as minimize() words it
                self.message = f"{status_messages[int(task[0])]}: {task_messages[int(task[1])]}"
                return
