"""L-BFGS as an iterator, on quadratics: no TensorFlow involved."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.optimize

from tf1cnn.style_transfer.optimise.lbfgs import LBFGS


def quadratic(scales, centre):
    """f(x) = sum(scales * (x - centre)^2), minimum 0 at ``centre``."""
    def objective(x):
        return float(np.sum(scales * (x - centre) ** 2)), 2 * scales * (x - centre)
    return objective


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


def test_max_iterations_counts_accepted_iterates():
    iterates = list(LBFGS(ill_conditioned(100, 1), np.zeros(100), -5, 5, max_iterations=7))
    assert len(iterates) == 7


def test_more_corrections_need_fewer_evaluations_on_an_ill_conditioned_problem():
    def evaluations(corrections):
        problem = LBFGS(ill_conditioned(200, 2), np.zeros(200), -5, 5,
                        corrections=corrections, max_iterations=2000)
        for iterate in problem:
            if iterate.loss < 1e-8:
                return iterate.evaluations
        raise AssertionError("did not converge")

    assert evaluations(30) < evaluations(3)


def test_leaving_early_means_no_more_evaluations():
    calls = []
    inner = quadratic(np.ones(10), np.ones(10))

    def objective(x):
        calls.append(1)
        return inner(x)

    iterates = iter(LBFGS(objective, np.zeros(10), -5, 5))
    next(iterates)
    next(iterates)
    counted = len(calls)
    iterates.close()
    assert counted >= 2 and len(calls) == counted


def test_an_error_in_the_objective_reaches_the_caller():
    def objective(x):
        raise RuntimeError("the session went away")

    with pytest.raises(RuntimeError, match="the session went away"):
        list(LBFGS(objective, np.zeros(3), -1, 1))


def test_the_iterates_are_scipys_own():
    """The driver calls SciPy's private setulb; minimize() is the public way to the same
    routine, so the two must take the very same steps (a changed private interface fails
    here)."""
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


def test_an_open_side_is_unbounded_and_crossed_bounds_are_refused():
    centre = np.array([-5.0, 5.0])
    iterates = list(LBFGS(quadratic(np.ones(2), centre), np.zeros(2), [-np.inf, -1.0],
                          [1.0, np.inf], max_iterations=50))
    np.testing.assert_allclose(iterates[-1].x, centre, atol=1e-6)
    with pytest.raises(ValueError, match="lower bound is above"):
        LBFGS(quadratic(np.ones(2), centre), np.zeros(2), 1.0, -1.0)
