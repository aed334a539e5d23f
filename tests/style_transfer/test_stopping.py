"""The stop rules: each reason's words, the order of two reasons at once, which level gets which
rule, and that the losses are asked for only when a target needs them."""
from __future__ import annotations

import pytest

from tf1cnn.style_transfer.config import StyleConfig
from tf1cnn.style_transfer.optimise.stopping import StopRules, content_style, relative_change


def no_losses():
    raise AssertionError("the losses were fetched without a target")


def test_converged_measures_the_change_over_the_last_steps():
    one, two = StopRules(tolerance=0.01), StopRules(tolerance=0.01, tolerance_steps=2)
    assert one.converged([100.0, 99.5]) == "relative loss change 0.005 <= tolerance 0.01"
    assert one.converged([100.0, 90.0, 89.5])  # one slow step
    assert not two.converged([100.0, 90.0, 89.5])  # but 10.5 % over two
    assert two.converged([100.0, 99.8, 99.5]).endswith("0.005 over 2 steps <= tolerance 0.01")
    assert not one.converged([100.0])  # no step to compare with yet
    assert not StopRules(tolerance=0.0).converged([100.0, 100.0])  # 0: never


def test_the_relative_change_is_symmetric_and_absolute_below_one():
    assert relative_change(100.0, 90.0) == relative_change(90.0, 100.0) == 0.1
    assert relative_change(0.5, 0.25) == 0.25  # the denominator is at least 1


def test_budget_used_once_the_evaluations_reach_it():
    rules = StopRules(budget=10)
    assert rules.budget_used(9) == "" and StopRules().budget_used(0) == ""
    assert rules.budget_used(11) == "evaluation budget 10 used (11)"
    assert StopRules().budget_used(10**6) == ""  # 0: no budget


def test_a_target_weighs_content_and_style_as_the_total_does():
    config = StyleConfig(content_weight=0.5, style_weight=3.0)
    values = {"content": 4.0, "style": 2.0, "tv": 9.0}
    assert content_style(values, config) == 8.0
    rules = StopRules.of_level([config], 0, target=8.0)
    assert content_style(values, rules) == 8.0
    assert rules.target_reached(values) == "content+style loss 8 <= target 8"
    assert StopRules.of_level([config], 0, target=7.9).target_reached(values) == ""
    assert StopRules.of_level([config], 0).target_reached(values) == ""


@pytest.mark.parametrize("budget_first, expected", [(False, "relative"), (True, "evaluation")])
def test_two_reasons_at_once_keep_each_optimisers_order(budget_first, expected):
    rules = StopRules(tolerance=0.01, budget=5)
    found = rules.reason([100.0, 100.0], 5, no_losses, budget_first)
    assert found.startswith(expected)


def test_the_losses_are_fetched_only_for_a_target_and_only_when_nothing_else_stopped():
    rules = StopRules(tolerance=0.01, budget=5, target=1.0, content_weight=1.0, style_weight=1.0)
    asked = []

    def losses():
        asked.append(True)
        return {"content": 0.25, "style": 0.5}
    assert rules.reason([100.0, 50.0], 3, losses).startswith("content+style loss 0.75")
    assert len(asked) == 1
    assert rules.reason([100.0, 100.0], 3, losses).startswith("relative")  # not asked again
    assert rules.reason([100.0, 50.0], 5, losses).startswith("evaluation")
    assert len(asked) == 1
    assert StopRules(tolerance=0.01).reason([100.0, 50.0], 3, no_losses) == ""


def test_each_level_gets_its_own_rules_and_a_target_counts_at_the_full_size_only():
    config = StyleConfig(scales=3, tolerance=0.001, coarse_tolerance=0.01, tolerance_steps=2,
                         coarse_evaluations=40)
    levels = config.levels()
    coarse = [StopRules.of_level(levels, k, target=5.0) for k in range(2)]
    full = StopRules.of_level(levels, 2, target=5.0)
    assert {(r.tolerance, r.tolerance_steps, r.budget, r.target) for r in coarse} == \
        {(0.01, 2, 40, None)}
    assert (full.tolerance, full.budget, full.target) == (0.001, 0, 5.0)
    assert (full.content_weight, full.style_weight) == (config.content_weight,
                                                         config.style_weight)


@pytest.mark.parametrize("rules, early", [
    (StopRules(), False), (StopRules(tolerance=0.1), True), (StopRules(budget=3), True),
    (StopRules(target=0.0), True)])
def test_a_level_may_end_early_exactly_when_a_rule_can_stop_it(rules, early):
    assert rules.may_end_early == early


def test_a_step_measures_its_losses_when_a_rule_reads_them():
    assert not StopRules(budget=10).needs_losses(9)
    assert StopRules(budget=10).needs_losses(10)  # the budget's stop is recorded
    assert StopRules(tolerance=0.1).needs_losses(1) and StopRules(target=1.0).needs_losses(1)
    assert not StopRules().needs_losses(10**6)


def test_the_optimisers_own_end_names_it():
    assert StopRules.own_end("L-BFGS-B", "ABNORMAL: done") == "L-BFGS-B: ABNORMAL: done"
