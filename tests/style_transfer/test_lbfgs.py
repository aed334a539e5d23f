"""L-BFGS as an iterator, on quadratics: no TensorFlow involved.

The behaviour tests run twice (``both_ways``): through SciPy's private ``setulb`` and through the
public ``minimize`` that replaces it when the private driver is missing or fails its check.
"""
from __future__ import annotations

import itertools
import logging
import sys
import threading
import types

import numpy as np
import pytest
import scipy.optimize

from tf1cnn.style_transfer.optimise import lbfgs
from tf1cnn.style_transfer.optimise.lbfgs import LBFGS

NOTICE = "L-BFGS runs through scipy.optimize.minimize"
both_ways = pytest.mark.usefixtures("driver")


def helper_threads():
    return [t for t in threading.enumerate() if isinstance(t, lbfgs._MinimizeThread)]


def notices(caplog):
    return [r.getMessage() for r in caplog.records if NOTICE in r.getMessage()]


@pytest.fixture
def without_driver(monkeypatch):
    """The private driver cannot be imported, and the once-per-process check runs again."""
    monkeypatch.setitem(sys.modules, lbfgs.DRIVER, None)
    lbfgs.fast_driver.cache_clear()
    yield
    lbfgs.fast_driver.cache_clear()  # the next test checks the real driver again


@pytest.fixture(params=["setulb", "minimize"])
def driver(request):
    """Which way the test's L-BFGS runs; the fallback must leave no thread behind."""
    if request.param == "minimize":
        request.getfixturevalue("without_driver")
        assert lbfgs.fast_driver() is None
    else:
        assert lbfgs.fast_driver() is not None
    yield request.param
    assert not helper_threads()


def quadratic(scales, centre):
    """f(x) = sum(scales * (x - centre)^2), minimum 0 at ``centre``."""
    def objective(x):
        return float(np.sum(scales * (x - centre) ** 2)), 2 * scales * (x - centre)
    return objective


@both_ways
def test_reaches_the_minimum_and_the_loss_never_rises():
    rng = np.random.default_rng(0)
    scales, centre = rng.uniform(1, 100, 50), rng.uniform(-1, 1, 50)
    problem = LBFGS(quadratic(scales, centre), np.zeros(50), -10.0, 10.0, max_iterations=200)
    iterates = list(problem)
    assert iterates[-1].loss < 1e-10
    np.testing.assert_allclose(iterates[-1].x, centre, atol=1e-5)
    assert all(b.loss <= a.loss for a, b in itertools.pairwise(iterates))
    assert [i.evaluations for i in iterates] == sorted(i.evaluations for i in iterates)
    assert problem.evaluations >= len(iterates) and problem.message


@both_ways
def test_bounds_hold_and_the_minimum_lands_on_them():
    centre = np.array([5.0, -5.0, 0.5])
    iterates = list(LBFGS(quadratic(np.ones(3), centre), np.zeros(3), -1.0, 1.0))
    for iterate in iterates:
        assert iterate.x.min() >= -1.0 and iterate.x.max() <= 1.0
    np.testing.assert_allclose(iterates[-1].x, [1.0, -1.0, 0.5], atol=1e-6)


def ill_conditioned(size, seed):
    """f(x) = (x - c)^T A (x - c) for a rotated A with eigenvalues from 1 to 10^4."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.standard_normal((size, size)))
    matrix = rotation @ np.diag(np.logspace(0, 4, size)) @ rotation.T
    centre = rng.uniform(-1, 1, size)

    def objective(x):
        offset = x - centre
        return float(offset @ matrix @ offset), 2 * matrix @ offset
    return objective


@both_ways
def test_max_iterations_counts_accepted_iterates():
    iterates = list(LBFGS(ill_conditioned(100, 1), np.zeros(100), -5, 5, max_iterations=7))
    assert len(iterates) == 7


@both_ways
def test_more_corrections_need_fewer_evaluations_on_an_ill_conditioned_problem():
    def evaluations(corrections):
        problem = LBFGS(ill_conditioned(200, 2), np.zeros(200), -5, 5,
                        corrections=corrections, max_iterations=2000)
        for iterate in problem:
            if iterate.loss < 1e-8:
                return iterate.evaluations
        raise AssertionError("did not converge")

    assert evaluations(30) < evaluations(3)


@both_ways
def test_leaving_early_means_no_more_evaluations():
    calls = []
    inner = quadratic(np.ones(10), np.ones(10))

    def objective(x):
        calls.append(threading.current_thread())
        return inner(x)

    iterates = iter(LBFGS(objective, np.zeros(10), -5, 5))
    next(iterates)
    next(iterates)
    counted = len(calls)
    iterates.close()
    assert counted >= 2 and len(calls) == counted
    assert set(calls) == {threading.current_thread()}  # the objective runs on the caller's


@both_ways
def test_an_error_in_the_objective_reaches_the_caller():
    def objective(x):
        raise RuntimeError("the session went away")

    with pytest.raises(RuntimeError, match="the session went away"):
        list(LBFGS(objective, np.zeros(3), -1, 1))


@both_ways
def test_the_iterates_are_scipys_own():
    """The fast driver calls SciPy's private setulb; minimize() is the public way to the same
    routine, so the two must take the very same steps (a changed private interface fails
    here). The fallback runs minimize() itself, so it too matches bit for bit."""
    objective = ill_conditioned(60, 3)
    start = np.full(60, 0.9)
    lower, upper = np.full(60, -0.5), np.r_[np.full(30, 0.5), np.full(30, np.inf)]
    theirs = []

    def accepted(intermediate_result):  # SciPy passes the result to a parameter of this name
        theirs.append((intermediate_result.x.copy(), intermediate_result.fun))

    scipy.optimize.minimize(
        objective, start, jac=True, method="L-BFGS-B",
        bounds=scipy.optimize.Bounds(lower, upper), callback=accepted,
        options={"maxcor": 7, "maxiter": 40, "ftol": 0.0, "gtol": 0.0})
    ours = list(LBFGS(objective, start, lower, upper, corrections=7, max_iterations=40))
    assert len(ours) == len(theirs) == 40
    for mine, (x, loss) in zip(ours, theirs):
        np.testing.assert_array_equal(mine.x, x)
        assert mine.loss == loss


@both_ways
def test_an_open_side_is_unbounded_and_crossed_bounds_are_refused():
    centre = np.array([-5.0, 5.0])
    iterates = list(LBFGS(quadratic(np.ones(2), centre), np.zeros(2), [-np.inf, -1.0],
                          [1.0, np.inf], max_iterations=50))
    np.testing.assert_allclose(iterates[-1].x, centre, atol=1e-6)
    with pytest.raises(ValueError, match="lower bound is above"):
        LBFGS(quadratic(np.ones(2), centre), np.zeros(2), 1.0, -1.0)


def test_both_ways_stop_on_their_own_with_the_same_message(driver):
    """minimize() skips an evaluation at the point it evaluated last, which L-BFGS-B asks for
    again at the noise floor; the fast driver evaluates it again, so it may count more."""
    objective = ill_conditioned(20, 5)
    problem = LBFGS(objective, np.zeros(20), -5, 5, max_iterations=5000)
    iterates = list(problem)
    result = scipy.optimize.minimize(
        objective, np.zeros(20), jac=True, method="L-BFGS-B",
        bounds=scipy.optimize.Bounds(np.full(20, -5.0), np.full(20, 5.0)),
        options={"maxcor": 10, "maxiter": 5000, "ftol": 0.0, "gtol": 0.0})
    assert len(iterates) == result.nit < 5000
    assert problem.message == result.message
    if driver == "minimize":
        assert problem.evaluations == result.nfev
    else:
        assert problem.evaluations >= result.nfev


def test_the_fallback_is_announced_once_per_process(without_driver, caplog):
    with caplog.at_level(logging.WARNING, logger=lbfgs.__name__):
        for _ in range(2):
            list(LBFGS(quadratic(np.ones(3), np.ones(3)), np.zeros(3), -5, 5))
    (notice,) = notices(caplog)
    assert "cannot be imported" in notice and "\n" not in notice


def test_leaving_the_fallback_early_ends_its_thread_at_once(without_driver):
    iterates = iter(LBFGS(ill_conditioned(30, 4), np.zeros(30), -5, 5))
    next(iterates)
    assert len(helper_threads()) == 1
    iterates.close()
    assert not helper_threads()


def test_an_abandoned_fallback_ends_its_thread_when_collected(without_driver):
    iterates = iter(LBFGS(ill_conditioned(30, 4), np.zeros(30), -5, 5))
    next(iterates)
    del iterates  # a generator's finaliser closes it
    assert not helper_threads()


def setulb_raising(*args):
    raise TypeError("setulb() takes 18 arguments (17 given)")


def setulb_doing_nothing(*args):
    """Leaves the task at 0, so the run ends at once without an iterate."""


def setulb_asking_forever(m, x, lower, upper, kinds, f, g, factr, pgtol, wa, iwa, task, *rest):
    task[0] = lbfgs.FG


@pytest.mark.parametrize("setulb, reason", [
    (setulb_raising, "failed a test problem (TypeError: setulb() takes 18 arguments"),
    (setulb_doing_nothing, "got a test problem wrong"),
    (setulb_asking_forever, "no answer within 100 evaluations"),
])
def test_a_driver_that_fails_its_check_is_replaced(monkeypatch, caplog, setulb, reason):
    monkeypatch.setitem(sys.modules, lbfgs.DRIVER, types.SimpleNamespace(setulb=setulb))
    lbfgs.fast_driver.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger=lbfgs.__name__):
            iterates = list(LBFGS(quadratic(np.ones(3), np.full(3, 2.0)), np.zeros(3), -1, 1))
    finally:
        lbfgs.fast_driver.cache_clear()
    np.testing.assert_allclose(iterates[-1].x, np.ones(3), atol=1e-9)
    (notice,) = notices(caplog)
    assert reason in notice


def test_without_scipys_message_tables_the_message_is_the_task_codes(monkeypatch):
    monkeypatch.setitem(sys.modules, lbfgs.MESSAGES, None)
    problem = LBFGS(quadratic(np.ones(2), np.zeros(2)), np.ones(2), -1, 1, max_iterations=50)
    list(problem)
    assert problem.message.startswith("L-BFGS-B task 4, ")  # 4: converged
