"""The demo county: the reference catalog, halls and demo staff accounts (for `make run` and tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases.demo import load_demo_cases
from onewindow.certificates.demo import FENGYUAN, FENGYUAN_NAME, WANG_FANG, ZHANG_WEI, load_demo_certificates
from onewindow.complaints.demo import load_demo_complaints
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock
from onewindow.county_file import ImportReport, import_catalog
from onewindow.performance_month import load_demo_performance
from onewindow.policies.demo_register import (
    citizen_data,
    enterprise_data,
    load_demo_citizens,
    load_demo_enterprises,
    load_demo_register,
)
from onewindow.queue.demo import load_queue_demo
from onewindow.ratings.demo import load_demo_ratings
from onewindow.rectification.demo import load_demo_rectification
from onewindow.staff import service as staff_service
from onewindow.staff.models import User
from onewindow.supervision.callbacks import load_demo_callbacks
from onewindow.supervision.demo import load_demo_alerts
from onewindow.supervision.experiencers import register_demo as register_demo_experiencer
from onewindow.wiring import install as install_listeners

DEMO_PASSWORD = "Demo@2026"  # noqa: S105  (documented demo log-in, printed by `make run`)
DEMO_ACTOR = Actor(None, "demo-loader")


def shipped_json(name: str) -> dict[str, Any]:
    """A JSON file shipped in ``onewindow/data``."""
    data: dict[str, Any] = json.loads(resources.files("onewindow.data").joinpath(name).read_text("utf-8"))
    return data


def reference_catalog() -> dict[str, Any]:
    """The reference county catalog (获嘉县)."""
    return shipped_json("catalog-reference.json")


@dataclass
class DemoReport:
    """What loading the demo did."""

    catalog: ImportReport
    extras: ImportReport
    users_created: list[tuple[str, str, str]] = field(default_factory=list)  # username, role, display name


def load_demo(session: Session, *, clock: Clock, password: str = DEMO_PASSWORD) -> DemoReport:
    """Load the reference catalog, the demo halls and the demo staff; safe to run again."""
    catalog = import_catalog(session, clock=clock, actor=DEMO_ACTOR, data=reference_catalog())
    extras_data = shipped_json("demo-county.json")
    staff = extras_data.pop("staff")
    extras = import_catalog(session, clock=clock, actor=DEMO_ACTOR, data=extras_data)
    report = DemoReport(catalog=catalog, extras=extras)
    existing = set(session.scalars(select(User.username)))
    for row in staff:
        if row["username"] in existing:
            continue
        staff_service.create_user(session, clock=clock, actor=DEMO_ACTOR, username=row["username"], password=password,
                                  display_name=row["display_name"], role=row["role"],
                                  department_code=row.get("department"), hall_code=row.get("hall"),
                                  phone=row.get("phone"), id_number=row.get("id_number"))
        report.users_created.append((row["username"], row["role"], row["display_name"]))
    install_listeners()  # the demo's 差评 open work orders and its finished cases text their rating links
    load_demo_register(session, clock=clock, actor=DEMO_ACTOR)
    # zhangwei and wangfang find 免申即享 offers waiting on “我的” (育儿补贴; and for 张伟 the veterans' 慰问金)
    load_demo_citizens(session, clock=clock, actor=DEMO_ACTOR, people=[
        (ZHANG_WEI, "张伟", citizen_data(age=36, children_under_3=1, is_veteran=True)),
        (WANG_FANG, "王芳", citizen_data(age=34, children_under_3=1))])
    # and 张伟 answers those of 获嘉县丰源商贸有限公司 too, whose 营业执照 names him as 法定代表人
    load_demo_enterprises(session, clock=clock, actor=DEMO_ACTOR, enterprises=[
        (FENGYUAN, FENGYUAN_NAME, enterprise_data(employees=12, industry="批发和零售业", township="城关镇"))])
    load_queue_demo(session, clock, DEMO_ACTOR)
    load_demo_certificates(session, clock=clock, actor=DEMO_ACTOR)
    load_demo_cases(session, clock, DEMO_ACTOR)
    load_demo_ratings(session, clock)
    load_demo_rectification(session, clock)  # the 差评 work orders in every stage of the loop
    load_demo_performance(session, clock)  # the month so far ranked (绩效考核)
    register_demo_experiencer(session, clock=clock)  # the demo account `experiencer` files 体验报告
    load_demo_callbacks(session, clock=clock)  # 回访 tasks drawn from the last week's finished cases
    load_demo_alerts(session, clock, DEMO_ACTOR)  # 电子监察: the window schedule, then one sweep
    load_demo_complaints(session, clock)  # 有诉即办 work orders in every stage
    return report


def demo_accounts() -> list[dict[str, str]]:
    """The demo staff list (username, role, display name, department)."""
    staff: list[dict[str, str]] = shipped_json("demo-county.json")["staff"]
    return staff
