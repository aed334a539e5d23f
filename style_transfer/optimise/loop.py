"""The optimisation loop of one level, the same for every optimiser.

:func:`optimise` takes the steps a stepper (:mod:`~style_transfer.optimise.steppers`) yields
and, for each, in this order:

1. applies the level's stop rules (:class:`~style_transfer.optimise.stopping.StopRules`) to the
   loss history, the evaluations and, for a target, the step's losses;
2. writes a checkpoint when one is due (every ``checkpoint_every`` steps and at the level's
   last step) or when the level stops, with the note that makes a rerun end it there too;
3. at a step the schedule logs, or where the level stops, fetches the losses and the image,
   writes the TensorBoard summaries and yields a
   :class:`~style_transfer.optimise.records.Progress`.

Losses are fetched only where something reads them: Adam fetches them in its step's own
``session.run`` when the schedule or a rule needs them (``StopRules.needs_losses``), and the
image is fetched only for a record, since at 8K it is 400 MB and not held from one step to the
next. When a stepper ends by itself before the last step, as L-BFGS-B may, the level stops
there with the optimiser's reason, unless that step was recorded already (or none was taken):
then a warning says why and the level simply ends. Leaving the generator ends the stepper.
"""
from __future__ import annotations

import collections
import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .records import LevelStart, Progress, Schedule
from .steppers import Stepper, Taken
from .stopping import StopRules

if TYPE_CHECKING:  # the loop itself needs no TensorFlow: its tests run without it
    from .summaries import SummaryWriter

log = logging.getLogger(__name__)
Checkpoint = Callable[[str], None]  # writes a checkpoint; a non-empty reason writes the note


def optimise(stepper: Stepper, head: LevelStart, start: int, rules: StopRules, *,
             schedule: Schedule, checkpoint_every: int, checkpoint: Checkpoint,
             writer: SummaryWriter) -> Iterator[Progress]:
    """The records of the level ``head`` announced, optimised by ``stepper`` from step
    ``start`` to ``head.iterations`` or until ``rules`` stop it."""
    iterations = head.iterations
    since, timed, handed = time.perf_counter(), 0, start
    history = collections.deque(maxlen=rules.tolerance_steps + 1)

    def measure(step: int, evaluations: int) -> bool:
        return schedule(step, iterations) or rules.needs_losses(evaluations)

    def record(taken: Taken, checkpointed: bool, stopped: str) -> Progress:
        values, image = taken.losses(), taken.image()
        writer.write(taken.step, values, image)
        return Progress(head.level, head.levels, head.height, head.width, taken.step,
                        iterations, taken.evaluations, values, time.perf_counter() - since,
                        timed, checkpointed, stopped, image, rules)

    steps = stepper.steps(start, iterations, measure)
    try:
        for taken in steps:
            if taken.ended is not None:
                if taken.step == start or handed == taken.step:
                    log.warning("%s stopped at step %d: %s", stepper.name, taken.step,
                                taken.ended)
                    return
                stopped = rules.own_end(stepper.name, taken.ended)
                checkpoint(stopped)
                yield record(taken, True, stopped)
                return
            timed += 1
            if taken.loss is not None:
                history.append(taken.loss)
            stopped = rules.reason(history, taken.evaluations, taken.losses,
                                   stepper.budget_first)
            checkpointed = taken.step % checkpoint_every == 0 or taken.step == iterations \
                or bool(stopped)
            if checkpointed:
                checkpoint(stopped)
            if schedule(taken.step, iterations) or stopped:
                yield record(taken, checkpointed, stopped)
                since, timed, handed = time.perf_counter(), 0, taken.step
            if stopped:
                return
    finally:
        steps.close()
