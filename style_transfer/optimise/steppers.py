"""The optimisers as steppers: each takes a level's steps and reports them, the same way.

A stepper's :meth:`steps` yields a :class:`Taken` per step, with the step's number and the
level's evaluations so far; its losses and image are fetched only when the loop asks
(:mod:`~style_transfer.optimise.loop`: at logged and stopping steps, or for a stop rule), since
at 8K an image is 400 MB. A stepper that ends by itself before the last step yields one more
:class:`Taken`, not a new step, whose ``ended`` says why.

The steppers know nothing of TensorFlow. They talk to a level through a narrow protocol,
:class:`AdamLevel` or :class:`LBFGSLevel`, which the engine implements on its graph
(``levels.LevelSteps``) and the tests on a numpy quadratic:

* Adam: one ``step`` applies the gradient; the losses it reports, fetched in the same
  ``session.run`` when the loop asks (``measure``), are those of the image entering the step.
* L-BFGS: :class:`~style_transfer.optimise.lbfgs.LBFGS` asks for the losses and gradient at
  trial points within the level's bounds, and each accepted iterate becomes the level's image
  (``accept``), so that checkpoints and resume work as with Adam, except that L-BFGS's
  curvature history restarts on resume. As a rule the line search's last trial was the
  iterate, and its losses are reused rather than evaluated again.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np

from . import lbfgs

Losses = dict  # "total" (weighted) and each term unweighted
Measure = Callable[[int, int], bool]  # (step, evaluations after it) -> fetch its losses


class Taken:
    """One step a stepper took: ``step``, the level's ``evaluations`` after it, and ``loss``,
    its total loss when the stepper has it at no cost (None otherwise). :meth:`losses` and
    :meth:`image` fetch the rest on demand. With ``ended`` (the optimiser's own words), it is
    no new step but where the stepper ended by itself."""

    def __init__(self, step: int, evaluations: int, loss: float | None,
                 losses: Losses | Callable[[], Losses] | None,
                 image: Callable[[], np.ndarray], ended: str | None = None):
        self.step, self.evaluations, self.loss, self.ended = step, evaluations, loss, ended
        self._losses, self._image = losses, image

    def losses(self) -> Losses:
        """The losses at the image after this step (Adam's: entering it), fetched once."""
        if callable(self._losses):
            self._losses = self._losses()
        return self._losses

    def image(self) -> np.ndarray:
        """The image after this step, float RGB with the mean added back (fetched anew)."""
        return self._image()


class Stepper(Protocol):
    """What the loop asks of an optimiser."""
    name: str  # as its own end's reason names it
    budget_first: bool  # see ``StopRules.reason``

    def steps(self, start: int, iterations: int, measure: Measure) -> Iterator[Taken]:
        """The steps after ``start``, to ``iterations`` at most."""


class AdamLevel(Protocol):
    def step(self, fetch_losses: bool) -> Losses | None:
        """One Adam step; the losses of the image entering it when ``fetch_losses`` (a level
        that has them anyway may return them always), else None."""

    def picture(self) -> np.ndarray:
        """The level's image now, float RGB with the mean added back."""


class LBFGSLevel(Protocol):
    def start(self) -> np.ndarray:
        """The level's image now, as the point L-BFGS starts from."""

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Flat lower and upper bounds of the point's values."""

    def evaluations(self) -> int:
        """The level's evaluations so far (before this session's)."""

    def evaluate(self, x: np.ndarray | None = None) -> tuple[Losses, np.ndarray]:
        """The losses and gradient at point ``x``, or at the level's image when None."""

    def accept(self, x: np.ndarray, step: int, evaluations: int) -> np.ndarray:
        """Make ``x`` the level's image at ``step``; returns the image as the level holds it,
        which ``evaluate`` and ``picture`` take."""

    def picture(self, image: np.ndarray | None = None) -> np.ndarray:
        """``image`` (from ``accept``; None: the level's own) as float RGB, mean added back."""


class AdamStepper:
    """Adam's steps; its steps use one evaluation each."""
    name = "Adam"
    # Adam knows before a step that the step uses up the budget; that reason came first.
    budget_first = True

    def __init__(self, level: AdamLevel):
        self.level = level

    def steps(self, start: int, iterations: int, measure: Measure) -> Iterator[Taken]:
        """Steps ``start`` + 1 to ``iterations``; ``measure(step, evaluations)`` says whether a
        step fetches its losses."""
        for step in range(start + 1, iterations + 1):
            values = self.level.step(measure(step, step))
            yield Taken(step, step, None if values is None else values["total"], values,
                        self.level.picture)


class LBFGSStepper:
    """L-BFGS-B's iterates, keeping ``corrections`` curvature pairs."""
    name = "L-BFGS-B"
    budget_first = False

    def __init__(self, level: LBFGSLevel, corrections: int):
        self.level, self.corrections = level, corrections

    def steps(self, start: int, iterations: int, measure: Measure | None = None
              ) -> Iterator[Taken]:
        """Steps ``start`` + 1 to ``iterations`` at most. ``measure`` is not needed: each
        iterate has its total loss, and its other losses are kept from the line search."""
        if start >= iterations:
            return
        level = self.level
        counted = level.evaluations()
        last = {}  # the latest evaluation: x and its losses

        def objective(x: np.ndarray):
            values, gradient = level.evaluate(x)
            last.update(x=x.copy(), values=values)
            return values["total"], gradient

        def losses(x: np.ndarray, image: np.ndarray) -> Losses:
            return last["values"] if np.array_equal(last["x"], x) else level.evaluate(image)[0]

        problem = lbfgs.LBFGS(objective, level.start(), *level.bounds(),
                              corrections=self.corrections, max_iterations=iterations - start)
        step = start
        iterates = iter(problem)
        try:
            for iterate in iterates:
                step += 1
                evaluations = counted + iterate.evaluations
                image = level.accept(iterate.x, step, evaluations)
                yield Taken(step, evaluations, iterate.loss,
                            lambda x=iterate.x, image=image: losses(x, image),
                            lambda image=image: level.picture(image))
        finally:
            iterates.close()
        if step < iterations:  # it stopped on its own, e.g. after a failed line search
            yield Taken(step, counted + problem.evaluations, None,
                        lambda: level.evaluate()[0], level.picture, ended=problem.message)
