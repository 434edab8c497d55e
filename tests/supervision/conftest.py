"""Shared helpers of the 电子监察 tests: settings with small thresholds, one rule's sweep, the alerts of a subject."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.config import Settings
from onewindow.core.clock import Clock
from onewindow.supervision import service
from onewindow.supervision.models import SupervisionAlert
from onewindow.supervision.rules import registered

SETTINGS = Settings(database_url="sqlite:///unused.db", secret_key="test-secret-key-for-supervision",
                    upload_dir=Path("unused-uploads"), supervision_ticket_wait_min=30, supervision_queue_length=2,
                    supervision_window_idle_min=20, supervision_absence_grace_min=15)


def run(session: Session, clock: Clock, *codes: str) -> dict[str, int]:
    """One sweep of the named rules (all when none is named)."""
    rules = [r for r in registered() if not codes or r.code in codes]
    return service.sweep(session, clock=clock, settings=SETTINGS, rules=rules)


def alerts_of(session: Session, rule: str, subject_type: str, subject_id: int) -> list[SupervisionAlert]:
    """Every alert of a rule on a subject, oldest first."""
    return list(session.scalars(select(SupervisionAlert).where(
        SupervisionAlert.rule == rule, SupervisionAlert.subject_type == subject_type,
        SupervisionAlert.subject_id == subject_id).order_by(SupervisionAlert.id)))


def states(session: Session, rule: str, subject_type: str, subject_id: int) -> list[str]:
    """The states of those alerts."""
    return [a.state for a in alerts_of(session, rule, subject_type, subject_id)]


def make_alert(session: Session, clock: Clock, *, department_code: str, title: str = "测试预警",
               rule: str = "case_red", subject_id: int = 990_001) -> SupervisionAlert:
    """An open alert of a department, written directly (the rules have their own tests)."""
    from onewindow.catalog.models import Department

    department_id = session.scalars(select(Department.id).where(Department.code == department_code)).one()
    alert = SupervisionAlert(rule=rule, subject_type="case", subject_id=subject_id, episode="2026-11-20",
                             level="red", department_id=department_id, title=title,
                             evidence={"case_number": "TEST-0001", "promised_due": "2026-11-20"}, link="",
                             state="open", version=1, raised_at=clock.now(), acknowledge_note="",
                             supervise_note="", close_reason="")
    session.add(alert)
    session.flush()
    return alert
