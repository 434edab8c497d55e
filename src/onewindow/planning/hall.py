"""A planning hall file: a simulator scenario (``simulation.scenario``) plus optional weekday factors.

The reference hall (``data/hall-scenario.json``) is a plain scenario: one weekday's demand, open Monday
to Friday. A hall file may add ``"weekday_factors": {"mon": 1.3, ..., "fri": 0.85}`` (open days only;
a missing day is closed) to scale each day's tickets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from onewindow.core.errors import Problem, ValidationFailed
from onewindow.planning.plan import DayDemand, parse_weekday_factors, scenario_demand
from onewindow.simulation.scenario import Scenario, parse_scenario


@dataclass(frozen=True, slots=True)
class PlanningHall:
    """A validated hall and the expected demand of each open weekday."""

    scenario: Scenario
    weekday_factors: dict[int, float]

    def demands(self) -> dict[int, DayDemand]:
        """Expected tickets per open weekday (0 = Monday)."""
        return {wd: scenario_demand(self.scenario, f) for wd, f in self.weekday_factors.items()}


def load_hall(path: Path | str) -> PlanningHall:
    """Read and validate a hall file; every problem is reported in Chinese."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"场景文件不是有效的 JSON：第{exc.lineno}行第{exc.colno}列，{exc.msg}"
        raise ValidationFailed([Problem("scenario", "bad_json", message)]) from exc
    return PlanningHall(scenario=parse_scenario(raw), weekday_factors=parse_weekday_factors(raw))
