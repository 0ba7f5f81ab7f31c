"""Scenarios: routing stories on a virtual clock, with expectations (``rulekit test``)."""

from rulekit.scenario.runner import Result, TimelineItem, run_scenario
from rulekit.scenario.spec import ScenarioError, load_scenario

__all__ = ["Result", "ScenarioError", "TimelineItem", "load_scenario", "run_scenario"]
