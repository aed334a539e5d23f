"""The steppers and the optimisation loop on a numpy quadratic, without TensorFlow: what each
optimiser asks of a level, when losses are fetched, and how the loop stops, checkpoints and
records."""
from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest

from tf1cnn.style_transfer.optimise import loop
from tf1cnn.style_transfer.optimise.records import LevelStart
from tf1cnn.style_transfer.optimise.steppers import AdamStepper, LBFGSStepper
from tf1cnn.style_transfer.optimise.stopping import StopRules


class Quadratic:
    """sum(w (x - c)^2) / 2, reported as a style run's losses."""

    def __init__(self, n: int = 6, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.w, self.c = rng.uniform(1.0, 4.0, n), rng.uniform(-2.0, 2.0, n)

    def losses(self, x: np.ndarray) -> dict:
        total = float(0.5 * np.sum(self.w * (x - self.c) ** 2))
        return {"total": total, "content": total, "style": 0.0}

    def gradient(self, x: np.ndarray) -> np.ndarray:
        return self.w * (x - self.c)


class AdamLevel:
    """The AdamLevel protocol: Adam's update in numpy; the losses are of x entering a step."""

    def __init__(self, problem: Quadratic, rate: float = 0.1):
        self.problem, self.rate = problem, rate
        self.x = np.zeros_like(problem.c)
        self.m, self.v, self.t = np.zeros_like(self.x), np.zeros_like(self.x), 0

    def step(self, fetch_losses: bool) -> dict | None:
        values = self.problem.losses(self.x) if fetch_losses else None
        gradient = self.problem.gradient(self.x)
        self.t += 1
        self.m = 0.9 * self.m + 0.1 * gradient
        self.v = 0.999 * self.v + 0.001 * gradient ** 2
        m, v = self.m / (1 - 0.9 ** self.t), self.v / (1 - 0.999 ** self.t)
        self.x = self.x - self.rate * m / (np.sqrt(v) + 1e-8)
        return values

    def picture(self) -> np.ndarray:
        return self.x.copy()


class LBFGSLevel:
    """The LBFGSLevel protocol, counting the evaluations it is asked for."""

    def __init__(self, problem: Quadratic, low, high, counted: int = 0):
        self.problem, self.low, self.high, self.counted = problem, low, high, counted
        self.x = np.zeros_like(problem.c)
        self.evaluated, self.accepted = 0, []

    def start(self) -> np.ndarray:
        return self.x.copy()

    def bounds(self):
        return np.broadcast_to(self.low, self.x.shape), np.broadcast_to(self.high, self.x.shape)

    def evaluations(self) -> int:
        return self.counted

    def evaluate(self, x=None):
        self.evaluated += 1
        x = self.x if x is None else x
        return self.problem.losses(x), self.problem.gradient(x)

    def accept(self, x, step, evaluations):
        self.x = np.array(x, np.float32)
        self.accepted.append((step, evaluations))
        return self.x

    def picture(self, image=None) -> np.ndarray:
        return (self.x if image is None else image).astype(np.float64)


class Writer:
    def __init__(self):
        self.written = []

    def write(self, step, values, image):
        self.written.append(step)


def test_adam_fetches_the_losses_only_at_the_steps_measure_picks():
    problem = Quadratic()
    level = AdamLevel(problem)
    asked = []

    def measure(step, evaluations):
        asked.append((step, evaluations))
        return step % 5 == 0
    taken = list(AdamStepper(level).steps(0, 200, measure))
    assert [t.step for t in taken] == list(range(1, 201)) == [s for s, _ in asked]
    assert all(t.evaluations == t.step for t in taken)  # one evaluation a step
    assert [t.step for t in taken if t.loss is not None] == list(range(5, 201, 5))
    losses = [t.loss for t in taken if t.loss is not None]
    assert losses[-1] < 1e-3 * losses[0]
    np.testing.assert_allclose(level.x, problem.c, atol=0.05)
    assert taken[-1].losses()["total"] == taken[-1].loss


def test_adam_goes_on_from_a_resumed_step():
    taken = list(AdamStepper(AdamLevel(Quadratic())).steps(3, 6, lambda step, n: True))
    assert [t.step for t in taken] == [4, 5, 6]
    assert list(AdamStepper(AdamLevel(Quadratic())).steps(6, 6, lambda step, n: True)) == []


def test_lbfgs_reaches_the_bounded_minimum_and_reuses_its_last_evaluation():
    problem = Quadratic()
    low, high = -1.0, 1.5  # some of c lies outside: those values end on a bound
    level = LBFGSLevel(problem, low, high, counted=7)
    steps = []
    for found in LBFGSStepper(level, corrections=5).steps(2, 40):
        if found.ended is not None:  # its own end (here, converged) evaluates where it stands
            break
        evaluated = level.evaluated
        losses = found.losses()  # the line search's last trial was the iterate
        assert level.evaluated == evaluated
        # The iterate is float64; the level holds it in float32, as the engine does.
        assert losses == pytest.approx(problem.losses(level.x), rel=1e-6)
        assert found.loss == losses["total"]
        steps.append(found)
    assert [t.step for t in steps] == list(range(3, 3 + len(steps)))
    assert [(t.step, t.evaluations) for t in steps] == level.accepted
    assert steps[0].evaluations > 7 and all(
        a.evaluations < b.evaluations for a, b in itertools.pairwise(steps))
    np.testing.assert_allclose(level.x, np.clip(problem.c, low, high), atol=1e-4)


def test_lbfgs_says_why_it_ended_by_itself_before_the_last_step():
    problem = Quadratic()
    level = LBFGSLevel(problem, -0.1, 0.1)  # c is outside the box: the minimum is a corner
    *steps, end = LBFGSStepper(level, corrections=5).steps(0, 50)
    assert end.ended and end.step == steps[-1].step < 50
    assert end.evaluations >= steps[-1].evaluations
    assert end.losses() == problem.losses(level.x)
    assert list(LBFGSStepper(level, 5).steps(50, 50)) == []


def run_loop(stepper, rules, iterations, schedule, every=10, start=0):
    """(the records, the checkpoints' (step, reason), the steps written as summaries)."""
    saved, writer = [], Writer()
    head = LevelStart(0, 1, 2, 3, iterations, None)
    last = {}

    def checkpoint(stopped):
        saved.append((last.get("step"), stopped))

    class Watched:  # the stepper, noting the step each checkpoint belongs to
        name, budget_first = stepper.name, stepper.budget_first

        def steps(self, start, iterations, measure):
            for taken in stepper.steps(start, iterations, measure):
                last["step"] = taken.step
                yield taken
    records = list(loop.optimise(Watched(), head, start, rules, schedule=schedule,
                                 checkpoint_every=every, checkpoint=checkpoint, writer=writer))
    return records, saved, writer.written


def test_the_loop_records_logged_steps_and_checkpoints_when_due():
    records, saved, written = run_loop(AdamStepper(AdamLevel(Quadratic())), StopRules(), 25,
                                       lambda step, n: step % 4 == 0 or step == n)
    assert [r.step for r in records] == [4, 8, 12, 16, 20, 24, 25] == written
    assert saved == [(10, ""), (20, ""), (25, "")]
    assert [r.checkpointed for r in records] == [False] * 4 + [True, False, True]
    assert [r.steps_timed for r in records] == [4, 4, 4, 4, 4, 4, 1]
    assert all(r.stops == StopRules() and not r.stopped for r in records)


@pytest.mark.parametrize("make", [lambda problem: AdamStepper(AdamLevel(problem)),
                                  lambda problem: LBFGSStepper(LBFGSLevel(problem, -5, 5), 5)],
                         ids=["adam", "lbfgs"])
def test_the_loop_stops_at_a_rule_with_a_checkpoint_and_a_record(make):
    rules = StopRules(tolerance=1e-3, tolerance_steps=2)
    records, saved, _ = run_loop(make(Quadratic()), rules, 500, lambda step, n: step == 1)
    last = records[-1]
    assert last.stopped.startswith("relative loss change") and last.step < 500
    assert last.checkpointed and saved[-1] == (last.step, last.stopped)
    assert [r.step for r in records[:-1]] == [1] and last.stops is rules


def test_lbfgs_ending_by_itself_is_a_stop_unless_that_step_was_recorded(caplog):
    def stepper():
        return LBFGSStepper(LBFGSLevel(Quadratic(), -0.1, 0.1), corrections=5)
    records, saved, _ = run_loop(stepper(), StopRules(), 50, lambda step, n: False)
    (record,) = records
    assert record.stopped.startswith("L-BFGS-B: ") and record.checkpointed
    assert saved == [(record.step, record.stopped)] and record.step < 50
    with caplog.at_level(logging.WARNING, logger=loop.__name__):
        records, saved, _ = run_loop(stepper(), StopRules(), 50, lambda step, n: True)
    assert not any(r.stopped for r in records) and saved == []
    (warning,) = caplog.records
    assert warning.getMessage().startswith(f"L-BFGS-B stopped at step {records[-1].step}: ")
