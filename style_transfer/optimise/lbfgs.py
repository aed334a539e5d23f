"""SciPy's L-BFGS-B as an iterator: one accepted iterate at a time, to a caller that may leave.

``scipy.optimize.minimize`` owns its loop and only calls back. Underneath, L-BFGS-B is a
reverse-communication routine: each call of ``setulb`` either asks for the objective at a point
or reports an accepted iterate, and returns. :class:`LBFGS` drives that routine itself, so an
iteration is a plain generator step: the caller's ``for`` loop decides what happens between
iterations (checkpoints, pictures, stopping), and leaving it, by ``break``, an exception or
Ctrl-C, simply ends the generator; no thread is involved (but see the fallback below).

    problem = LBFGS(lambda x: (x @ x, 2 * x), x0=np.ones(4), lower=-1.0, upper=1.0)
    for iterate in problem:              # Iterate(x, loss, evaluations)
        if iterate.loss < 1e-8:
            break
    problem.message                      # why L-BFGS-B stopped, when it stopped on its own

Driving ``setulb`` directly also skips ``minimize``'s set-up, which turns the bounds into a
Python list of (low, high) pairs and classifies them in a Python loop: measured here, 0.7 s for
the 250x333 image's 249,750 values, 2.3 s for 512x512, and so minutes and gigabytes at 4K, at
every level and every resume. Here the bounds are classified with numpy.

``setulb`` is SciPy's private interface (``scipy.optimize._lbfgsb``, SciPy 1.15 and later, where
it became C; the stop messages are SciPy's own tables in ``_lbfgsb_py``). A SciPy release may
move it, so the first use in a process checks it by solving a small bounded quadratic whose
answer is known. When it cannot be imported or gets that wrong, :class:`LBFGS` logs one warning
and runs the same algorithm through the public ``minimize`` instead, behind the same iterator:
``minimize`` runs on a helper thread that hands each evaluation request and each accepted
iterate over to the caller's thread and waits, so the objective still runs on the caller's
thread and leaving the loop unwinds and joins the helper. Both ways take the same steps;
``tests/style_transfer/test_lbfgs.py`` checks each against ``minimize`` itself.

``corrections`` is L-BFGS-B's ``m``: the curvature pairs kept (memory: 2 m vectors of float64
per value). Nothing here knows about TensorFlow; the tests run it on quadratics.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator

import numpy as np
import scipy.optimize

log = logging.getLogger(__name__)

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]
MAX_LINE_SEARCH = 20  # SciPy's default maxls
FG, NEW_X = 3, 1  # setulb's task codes (task[0]): evaluate at x; an iterate was accepted
DRIVER = "scipy.optimize._lbfgsb"  # the private module that holds setulb
MESSAGES = "scipy.optimize._lbfgsb_py"  # the private module with its stop messages


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
        setulb = fast_driver()
        yield from self._minimize() if setulb is None else self._drive(setulb)

    def _evaluate(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = self.objective(x)
        self.evaluations += 1
        return float(value), np.asarray(grad, np.float64).ravel()

    def _done(self, iterations: int) -> bool:
        """Whether the caller's limits end the run after an accepted iterate."""
        return iterations >= self.max_iterations or self.evaluations > self.max_evaluations

    def _drive(self, setulb) -> Iterator[Iterate]:
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
            setulb(m, x, lower, upper, kinds, loss, gradient, 0.0, 0.0, work, int_work,
                   task, saved_flags, saved_ints, saved_floats, MAX_LINE_SEARCH, line_task)
            if task[0] == FG:
                loss, gradient = self._evaluate(x)
            elif task[0] == NEW_X:
                iterations += 1
                yield Iterate(x.copy(), loss, self.evaluations)
                if self._done(iterations):
                    return
            else:  # ended by itself
                self.message = stop_message(int(task[0]), int(task[1]))
                return

    def _minimize(self) -> Iterator[Iterate]:
        """The same iterates through the public ``minimize``, on a helper thread that asks this
        generator for each evaluation and waits for a go-ahead after each accepted iterate."""
        helper = _MinimizeThread(self)
        helper.start()
        iterations = 0
        try:
            while True:
                kind, payload = helper.requests.get()
                if kind == "evaluate":
                    helper.answers.put(self._evaluate(payload))
                elif kind == "accepted":
                    iterations += 1
                    yield Iterate(payload.x.copy(), float(payload.fun), self.evaluations)
                    if self._done(iterations):
                        return
                    helper.answers.put(None)
                elif kind == "stopped":
                    self.message = payload
                    return
                else:  # "failed": minimize itself raised
                    raise payload
        finally:
            helper.stop()


class _Leave(Exception):
    """Raised inside ``minimize``'s calls to unwind it once the consumer has left."""


class _MinimizeThread(threading.Thread):
    """Runs ``minimize`` for :meth:`LBFGS._minimize`; only one of the two threads runs at a
    time, since each side waits for the other's answer."""

    def __init__(self, problem: LBFGS):
        super().__init__(name="L-BFGS-B through minimize", daemon=True)
        self.problem = problem
        self.requests: queue.Queue = queue.Queue()  # to the consumer: (kind, payload)
        self.answers: queue.Queue = queue.Queue()  # to this thread: a value, or _Leave

    def ask(self, kind: str, payload):
        self.requests.put((kind, payload))
        answer = self.answers.get()
        if answer is _Leave:
            raise _Leave
        return answer

    def run(self):
        problem = self.problem
        start = np.clip(problem.x0, problem.lower, problem.upper)

        def accepted(intermediate_result):  # minimize passes the result to this name
            self.ask("accepted", intermediate_result)

        try:
            # No limits or tolerances of minimize's own, as on the fast path: the consumer
            # stops. maxiter and maxfun only need to stay out of its way.
            result = scipy.optimize.minimize(
                lambda x: self.ask("evaluate", x), start, jac=True, method="L-BFGS-B",
                bounds=scipy.optimize.Bounds(problem.lower, problem.upper), callback=accepted,
                options={"maxcor": problem.corrections, "ftol": 0.0, "gtol": 0.0,
                         "maxls": MAX_LINE_SEARCH, "maxiter": problem.max_iterations + 1,
                         "maxfun": 2 ** 62})
            self.requests.put(("stopped", result.message))
        except _Leave:
            pass
        except BaseException as error:  # noqa: BLE001 - raised again on the consumer's thread
            self.requests.put(("failed", error))

    def stop(self):
        """End the thread: a waiting ``ask`` raises _Leave, so ``minimize`` unwinds."""
        if self.is_alive():
            self.answers.put(_Leave)
            self.join()


def stop_message(status: int, task: int) -> str:
    """L-BFGS-B's reason for stopping, worded as ``minimize`` words it when SciPy's private
    message tables are there, else the bare task codes."""
    try:
        tables = importlib.import_module(MESSAGES)
        return f"{tables.status_messages[status]}: {tables.task_messages[task]}"
    except (ImportError, AttributeError, LookupError):
        return f"L-BFGS-B task {status}, {task}"


@functools.cache
def fast_driver():
    """SciPy's private ``setulb`` once it has solved a test problem, else None (after one
    warning). Once per process: a wrong signature or meaning shows as a failed solve, which
    reading the C signature would not catch."""
    try:
        setulb = importlib.import_module(DRIVER).setulb
    except (ImportError, AttributeError) as error:
        reason = f"{DRIVER}.setulb cannot be imported ({type(error).__name__})"
    else:
        reason = _check(setulb)
        if reason is None:
            return setulb
    log.warning("L-BFGS runs through scipy.optimize.minimize, slower to set up, because "
                "SciPy's fast L-BFGS-B driver is unavailable: %s", reason)
    return None


def _check(setulb) -> str | None:
    """Why ``setulb`` fails to minimise a bounded quadratic, or None when it succeeds. Its
    minimum lies on two bounds and at one free point, so the bounds' kinds are tested too."""
    centre, answer = np.array([2.0, -3.0, 0.25]), np.array([1.0, -1.0, 0.25])
    evaluations = 0

    def objective(x):
        nonlocal evaluations
        evaluations += 1
        if evaluations > 100:  # a driver that keeps asking would never end the check
            raise RuntimeError("no answer within 100 evaluations")
        offset = x - centre
        return float(offset @ offset), 2 * offset

    try:
        iterates = list(LBFGS(objective, np.zeros(3), -1.0, [1.0, 1.0, np.inf],
                              max_iterations=20)._drive(setulb))
    except Exception as error:  # noqa: BLE001 - a private call fails in ways no one can list
        first_line = (str(error).splitlines() or [""])[0]
        return f"its setulb failed a test problem ({type(error).__name__}: {first_line})"
    if not iterates or not np.allclose(iterates[-1].x, answer, rtol=0, atol=1e-9):
        return "its setulb got a test problem wrong"
    return None
