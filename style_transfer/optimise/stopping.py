"""Why a level stops before its last step: one frozen object holds the rules.

A level ends early for one of four reasons, each with the words a run prints and a resumed
run reads back from the checkpoint's note (``checkpoints.ENDED``):

* its loss changed by ``tolerance`` or less, relatively, over ``tolerance_steps`` steps
  ("relative loss change 0.004 over 2 steps <= tolerance 0.01");
* it used its evaluation ``budget`` ("evaluation budget 40 used (43)"), the coarse levels'
  ``coarse_evaluations``;
* its content+style loss, weighted as in the total, reached ``target`` ("content+style loss
  1.2e+06 <= target 1.21e+06"), a video's later frames (:mod:`~style_transfer.video.frames`);
* the optimiser ended by itself, as L-BFGS-B does after a failed line search (``own_end``).

:meth:`StopRules.of_level` builds a level's rules from the config: below the full size its
tolerance is ``coarse_tolerance`` (``StyleConfig.levels`` sets it) and its budget
``coarse_evaluations``; a target applies at the full size only. The same object tells the
optimisation loop which steps must measure their losses (``needs_losses``) and a progress line
whether its ETA is only a bound (``may_end_early``). Nothing here knows about TensorFlow.

    rules = StopRules.of_level(config.levels(), 0)
    rules.reason([100.0, 99.9], evaluations=12, losses=lambda: {...})   # "" to go on
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from ..config import StyleConfig

Losses = Mapping[str, float]


def relative_change(before: float, after: float) -> float:
    """|before - after| / max(|before|, |after|, 1): SciPy's L-BFGS-B stopping measure."""
    return abs(before - after) / max(abs(before), abs(after), 1.0)


def content_style(values: Losses, weights) -> float:
    """The content and style part of the total loss, each weighted as in the total (by
    ``weights.content_weight`` and ``weights.style_weight``, a config or ``StopRules``): what a
    picture's quality is judged by, without a video's temporal and freed pixels' terms."""
    return weights.content_weight * values["content"] + weights.style_weight * values["style"]


@dataclasses.dataclass(frozen=True)
class StopRules:
    tolerance: float = 0.0  # the relative loss change that ends a level; 0: none
    tolerance_steps: int = 1  # the steps that change is measured over
    budget: int = 0  # the loss-and-gradient evaluations a level may use; 0: no budget
    target: float | None = None  # the content+style loss that ends a level; None: none
    content_weight: float = 0.0  # the weights of content+style, as in the total loss
    style_weight: float = 0.0

    @classmethod
    def of_level(cls, levels: Sequence[StyleConfig], index: int,
                 target: float | None = None) -> StopRules:
        """The rules of ``levels[index]``; ``target`` counts at the full size only."""
        config = levels[index]
        coarse = index < len(levels) - 1
        return cls(config.tolerance, config.tolerance_steps,
                   config.coarse_evaluations if coarse else 0, None if coarse else target,
                   config.content_weight, config.style_weight)

    @property
    def may_end_early(self) -> bool:
        """Whether a rule may end the level before its last step (an ETA is then a bound).
        The optimiser's own end is not counted: it is rare and no rule foresees it."""
        return self.tolerance > 0 or self.budget > 0 or self.target is not None

    def needs_losses(self, evaluations: int) -> bool:
        """Whether a step that brings the level to ``evaluations`` must measure its losses for
        these rules: with a tolerance or a target, or when the budget is used there."""
        return self.tolerance > 0 or self.target is not None or bool(self.budget_used(evaluations))

    def reason(self, history: Sequence[float], evaluations: int,
               losses: Callable[[], Losses], budget_first: bool = False) -> str:
        """Why the level stops after a step: ``history`` holds its total losses this session,
        one per step, the newest last; ``evaluations`` counts the level's evaluations;
        ``losses()`` gives the step's losses, and is called only when a target needs them.
        Empty to go on. With two reasons at once, the tolerance's is given, or the budget's
        when ``budget_first`` (the order each optimiser has always reported)."""
        first, second = self.converged(history), self.budget_used(evaluations)
        found = (second or first) if budget_first else (first or second)
        if found or self.target is None:
            return found
        return self.target_reached(losses())

    def converged(self, history: Sequence[float]) -> str:
        """The tolerance's reason: over the last ``tolerance_steps`` steps of ``history`` the
        loss changed by ``tolerance`` > 0 or less. Empty if not (always before
        ``tolerance_steps`` + 1 losses)."""
        steps = self.tolerance_steps
        if self.tolerance <= 0 or len(history) <= steps:
            return ""
        change = relative_change(history[-1 - steps], history[-1])
        over = "" if steps == 1 else f" over {steps} steps"
        return f"relative loss change {change:.3g}{over} <= tolerance {self.tolerance:g}" \
            if change <= self.tolerance else ""

    def budget_used(self, evaluations: int) -> str:
        """The budget's reason once ``evaluations`` reach a ``budget`` > 0; empty if not."""
        return f"evaluation budget {self.budget} used ({evaluations})" \
            if 0 < self.budget <= evaluations else ""

    def target_reached(self, values: Losses) -> str:
        """The target's reason when the content+style of ``values`` is at most ``target``;
        empty if not, or with no target."""
        if self.target is None:
            return ""
        found = content_style(values, self)
        return f"content+style loss {found:.6g} <= target {self.target:.6g}" \
            if found <= self.target else ""

    @staticmethod
    def own_end(optimiser: str, message: str) -> str:
        """The reason when ``optimiser`` ended by itself, saying why (``message``)."""
        return f"{optimiser}: {message}"
