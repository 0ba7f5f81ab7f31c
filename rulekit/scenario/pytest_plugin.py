"""A pytest plugin: ``*.scenario.yaml`` files are collected as test items.

Enabled automatically when rulekit is installed (entry point ``pytest11``); each scenario is
one test, named by its ``scenario:`` name (node id ``path/x.scenario.yaml::<scenario name>``),
whose failure shows the failed expectations with their trace excerpts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rulekit.scenario.junit import scenario_name
from rulekit.scenario.runner import Result, run_scenario

SUFFIX = ".scenario.yaml"


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name.endswith(SUFFIX):
        collector: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
        return collector
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> list[pytest.Item]:
        item: ScenarioItem = ScenarioItem.from_parent(self, name=scenario_name(self.path))
        return [item]


class ScenarioFailed(Exception):
    def __init__(self, result: Result) -> None:
        super().__init__(result.name)
        self.result = result


class ScenarioItem(pytest.Item):
    def runtest(self) -> None:
        result = run_scenario(self.path)
        if not result.ok:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            from rulekit.cli.test import render

            return "\n".join(render(excinfo.value.result, verbose=False))
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.name}"
