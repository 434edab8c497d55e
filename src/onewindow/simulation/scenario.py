"""Hall scenario files: load, validate, and derive the window layout every policy runs on.

Shape (``src/onewindow/data/hall-scenario.json``)::

    {"name": ..., "open": "09:00", "close": "17:00",
     "arrival_weights_by_hour": {"09": 1.2, ...},   # relative; normalised to the daily tickets
     "windows": 24, "generalist_service_factor": 1.05,
     "categories": [{"code": "A", "name": ..., "daily_tickets": 300, "service_minutes_mean": 6,
                     "service_cv": 0.8, "dedicated_windows": 5}, ...],
     "days": 30, "seed": 20231009}

Optional keys: ``class_mix`` (share per ticket class, by code or Chinese label; default all 普通),
``appointment_punctuality_sd_min`` (spread of 预约 arrivals around their slot, default 10) and
``flexible_windows`` (潮汐窗口 count for the tidal policy; a quarter of the windows when absent).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onewindow.core.errors import DomainError, Problem, ValidationFailed
from onewindow.queue.routing import WindowKind, WindowView
from onewindow.queue.states import TicketClass, parse_ticket_class

DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "data" / "hall-scenario.json"


@dataclass(frozen=True, slots=True)
class Category:
    """One hall category (业务类别) of the scenario."""

    code: str
    name: str
    daily_tickets: float
    service_minutes_mean: float
    service_cv: float
    dedicated_windows: int


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated hall scenario; times in minutes since midnight."""

    name: str
    open_min: float
    close_min: float
    hour_weights: tuple[tuple[float, float, float], ...]  # (start, end, weight) clipped to opening hours
    windows: int
    generalist_service_factor: float
    categories: tuple[Category, ...]
    days: int
    seed: int
    class_mix: tuple[tuple[TicketClass, float], ...] = ((TicketClass.NORMAL, 1.0),)
    appointment_punctuality_sd_min: float = 10.0
    flexible_windows: int | None = None

    @property
    def open_minutes(self) -> float:
        """Length of the opening hours in minutes."""
        return self.close_min - self.open_min

    @property
    def daily_tickets(self) -> float:
        """Expected tickets per day over all categories."""
        return sum(c.daily_tickets for c in self.categories)

    def home_layout(self) -> list[str]:
        """Home category of each of the ``windows`` hall windows, in proportion to the dedicated windows."""
        total = sum(c.dedicated_windows for c in self.categories)
        quotas = [self.windows * c.dedicated_windows / total for c in self.categories]
        counts = [math.floor(q) for q in quotas]
        by_remainder = sorted(range(len(quotas)), key=lambda i: (counts[i] - quotas[i], i))
        for i in by_remainder[: self.windows - sum(counts)]:
            counts[i] += 1
        return [c.code for c, n in zip(self.categories, counts, strict=True) for _ in range(n)]

    def dedicated_hall(self) -> list[WindowView]:
        """The dedicated hall: each category's ``dedicated_windows``, serving only that category."""
        return [WindowView(key=f"{c.code}{i + 1}", skills=(c.code,), home=(c.code,))
                for c in self.categories for i in range(c.dedicated_windows)]

    def shared_hall(self, *, tidal: bool = False) -> list[WindowView]:
        """The ``windows`` cross-trained windows of the pooled, smart and tidal runs.

        Each keeps a home category (its department, in proportion to the dedicated layout, served at
        specialist speed) and may serve every category (home first). With ``tidal`` the windows a
        category can best spare beyond its average load are marked flexible (潮汐窗口).
        """
        homes = self.home_layout()
        codes = [c.code for c in self.categories]
        flexible = self._flexible_flags(homes) if tidal else [False] * len(homes)
        return [WindowView(key=f"{i + 1}", skills=(home, *[c for c in codes if c != home]), home=(home,),
                           kind=WindowKind.DEPARTMENT, flexible=flex)
                for i, (home, flex) in enumerate(zip(homes, flexible, strict=True))]

    def _flexible_flags(self, homes: list[str]) -> list[bool]:
        # ``flexible_windows`` (default a quarter of the hall) are taken one by one from the category
        # with the most spare windows over its average load, never its last window.
        count = self.flexible_windows if self.flexible_windows is not None else round(len(homes) / 4)
        spare = {c.code: homes.count(c.code) - c.daily_tickets * c.service_minutes_mean / self.open_minutes
                 for c in self.categories}
        fixed = {c.code: homes.count(c.code) for c in self.categories}
        flags = [False] * len(homes)
        for _ in range(count):
            candidates = [code for code, n in fixed.items() if n > 1]
            if not candidates:
                break
            code = max(candidates, key=lambda k: (spare[k], k))
            flags[max(i for i, h in enumerate(homes) if h == code and not flags[i])] = True
            fixed[code] -= 1
            spare[code] -= 1
        return flags


def _ok(*values: float) -> bool:
    return not any(math.isnan(v) for v in values)


def load_scenario(path: Path | str | None = None) -> Scenario:
    """Read and validate a scenario file (the shipped reference hall by default)."""
    path = Path(path) if path is not None else DEFAULT_SCENARIO
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"场景文件不是有效的 JSON：第{exc.lineno}行第{exc.colno}列，{exc.msg}"
        raise ValidationFailed([Problem("scenario", "bad_json", message)]) from exc
    return parse_scenario(raw)


def parse_scenario(raw: Any) -> Scenario:
    """Validate a scenario already parsed from JSON; every problem is reported, in Chinese."""
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        raise ValidationFailed([Problem("scenario", "not_object", "场景文件的顶层必须是 JSON 对象")])

    def number(obj: dict[str, Any], key: str, field: str, *, minimum: float, integer: bool = False,
               strict: bool = False, default: float | None = None) -> float:
        value = obj.get(key, default)
        if value is None:
            problems.append(Problem(field, "required", "缺少必填项"))
            return math.nan
        if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
            problems.append(Problem(field, "not_number", f"应为{'整数' if integer else '数字'}，实际为 {value!r}"))
            return math.nan
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            bound = "大于" if strict else "不小于"
            problems.append(Problem(field, "out_of_range", f"应{bound} {minimum}，实际为 {value}"))
            return math.nan
        return float(value)

    def clock(key: str) -> float:
        value = raw.get(key)
        if not isinstance(value, str):
            problems.append(Problem(key, "required", "缺少时间，格式为 HH:MM"))
            return math.nan
        try:
            hours, minutes = (int(part) for part in value.split(":"))
        except ValueError:
            hours, minutes = -1, -1
        if not (0 <= hours <= 24 and 0 <= minutes < 60 and hours * 60 + minutes <= 24 * 60):
            problems.append(Problem(key, "bad_time", f"时间格式应为 HH:MM，实际为 {value!r}"))
            return math.nan
        return float(hours * 60 + minutes)

    name = raw.get("name", "")
    if not isinstance(name, str):
        problems.append(Problem("name", "not_string", "名称应为字符串"))
        name = ""
    open_min, close_min = clock("open"), clock("close")
    if _ok(open_min, close_min) and close_min <= open_min:
        problems.append(Problem("close", "before_open", "关门时间必须晚于开门时间"))

    hour_weights: list[tuple[float, float, float]] = []
    weights = raw.get("arrival_weights_by_hour")
    if not isinstance(weights, dict) or not weights:
        problems.append(Problem("arrival_weights_by_hour", "required", "缺少各小时到达权重，如 {\"09\": 1.2}"))
    else:
        for key in weights:
            field = f"arrival_weights_by_hour.{key}"
            try:
                hour = int(key)
            except ValueError:
                problems.append(Problem(field, "bad_hour", f"小时应为 00–23，实际为 {key!r}"))
                continue
            weight = number(weights, key, field, minimum=0)
            if not 0 <= hour <= 23:
                problems.append(Problem(field, "bad_hour", f"小时应为 00–23，实际为 {key!r}"))
                continue
            if not _ok(open_min, close_min, weight):
                continue
            start, end = max(open_min, hour * 60.0), min(close_min, hour * 60.0 + 60)
            if end <= start:
                problems.append(Problem(field, "outside_hours", "该小时不在开放时间内"))
                continue
            hour_weights.append((start, end, weight))
        if hour_weights and sum(w for _, _, w in hour_weights) <= 0:
            problems.append(Problem("arrival_weights_by_hour", "all_zero", "到达权重之和必须大于 0"))

    windows = number(raw, "windows", "windows", minimum=1, integer=True)
    factor = number(raw, "generalist_service_factor", "generalist_service_factor", minimum=1, default=1.0)
    days = number(raw, "days", "days", minimum=1, integer=True, default=1)
    seed = number(raw, "seed", "seed", minimum=0, integer=True, default=0)
    sd = number(raw, "appointment_punctuality_sd_min", "appointment_punctuality_sd_min", minimum=0, default=10.0)
    flexible = raw.get("flexible_windows")
    flexible_windows: int | None = None
    if flexible is not None:
        value = number(raw, "flexible_windows", "flexible_windows", minimum=0, integer=True)
        flexible_windows = int(value) if _ok(value) else None

    categories: list[Category] = []
    raw_categories = raw.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        problems.append(Problem("categories", "required", "至少需要一个业务类别"))
    else:
        seen: set[str] = set()
        for i, item in enumerate(raw_categories):
            prefix = f"categories[{i}]"
            if not isinstance(item, dict):
                problems.append(Problem(prefix, "not_object", "业务类别应为 JSON 对象"))
                continue
            code = item.get("code")
            if not isinstance(code, str) or not code.strip():
                problems.append(Problem(f"{prefix}.code", "required", "缺少类别代码"))
                continue
            if code in seen:
                problems.append(Problem(f"{prefix}.code", "duplicate", f"类别代码重复：{code}"))
            seen.add(code)
            cat_name = item.get("name", code)
            tickets = number(item, "daily_tickets", f"{prefix}.daily_tickets", minimum=0)
            mean = number(item, "service_minutes_mean", f"{prefix}.service_minutes_mean", minimum=0, strict=True)
            cv = number(item, "service_cv", f"{prefix}.service_cv", minimum=0)
            dedicated = number(item, "dedicated_windows", f"{prefix}.dedicated_windows", minimum=0, integer=True)
            if dedicated == 0 and tickets > 0:
                problems.append(Problem(f"{prefix}.dedicated_windows", "no_window",
                                        "有办件量的类别至少需要一个专窗"))
            categories.append(Category(code, str(cat_name), tickets, mean, cv,
                                       int(dedicated) if _ok(dedicated) else 0))
        if categories and sum(c.daily_tickets for c in categories if _ok(c.daily_tickets)) <= 0:
            problems.append(Problem("categories", "no_tickets", "各类别日均取号量之和必须大于 0"))

    class_mix: list[tuple[TicketClass, float]] = [(TicketClass.NORMAL, 1.0)]
    raw_mix = raw.get("class_mix")
    if raw_mix is not None:
        if not isinstance(raw_mix, dict) or not raw_mix:
            problems.append(Problem("class_mix", "not_object", "票种比例应为对象，如 {\"普通\": 0.9, \"预约\": 0.1}"))
        else:
            class_mix = []
            for key, _value in raw_mix.items():
                try:
                    cls = parse_ticket_class(key)
                except DomainError as exc:
                    problems.append(Problem(f"class_mix.{key}", exc.code, exc.message))
                    continue
                share = number(raw_mix, key, f"class_mix.{key}", minimum=0)
                if _ok(share):
                    class_mix.append((cls, share))
            total = sum(s for _, s in class_mix)
            if class_mix and total <= 0:
                problems.append(Problem("class_mix", "all_zero", "票种比例之和必须大于 0"))
            elif class_mix:
                class_mix = [(c, s / total) for c, s in class_mix]

    if flexible_windows is not None and _ok(windows) and flexible_windows >= windows:
        problems.append(Problem("flexible_windows", "out_of_range", "潮汐窗口数必须少于窗口总数"))
    if problems:
        raise ValidationFailed(problems)
    return Scenario(name=name, open_min=open_min, close_min=close_min, hour_weights=tuple(sorted(hour_weights)),
                    windows=int(windows), generalist_service_factor=factor, categories=tuple(categories),
                    days=int(days), seed=int(seed), class_mix=tuple(class_mix),
                    appointment_punctuality_sd_min=sd, flexible_windows=flexible_windows)
