"""电子监察 API (/api/v1/supervision): the alert inbox with filters and counts, one alert with its evidence and
``allowed_actions``, acknowledge and 督办 carrying the ``version`` the caller saw, the rules with their
thresholds, and the window schedule (在岗安排).

Thin edges: parse, call ``supervision.service`` (which authorises, locks, checks the version and the state move),
shape the answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from onewindow.core.clock import today
from onewindow.deps import ClockDep, CurrentAuth, DbSession, SettingsDep
from onewindow.supervision import service
from onewindow.supervision.models import SupervisionAlert
from onewindow.supervision.rules import AlertState, Level, registered, rule_label

router = APIRouter(tags=["supervision"])

ID_MAX = 2_147_483_647
AlertId = Annotated[int, Path(ge=1, le=ID_MAX, description="预警 ID")]
TEXT = 2000
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "状态不允许（illegal_alert_transition）或版本已过期（stale_version）"}}


class Body(BaseModel):
    """A request body: unknown fields refused, no NUL character in any text (422 on that field)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("不能包含空字符")
        return value


class AcknowledgeIn(Body):
    """签收：说明情况和处理措施。"""

    version: int = Field(ge=1, le=ID_MAX, description="调用方看到的预警版本号")
    note: str = Field("", max_length=TEXT)


class SuperviseIn(Body):
    """督办：意见和期限。"""

    version: int = Field(ge=1, le=ID_MAX, description="调用方看到的预警版本号")
    note: str = Field("", max_length=TEXT)
    due: dt.date | None = Field(None, description="督办期限")


class DutyIn(Body):
    """排定在窗口的工作人员；null 为不排人。"""

    clerk_id: int | None = Field(None, ge=1, le=ID_MAX)


class AlertOut(BaseModel):
    """电子监察预警。"""

    id: int
    rule: str
    rule_label: str
    subject_type: str
    subject_id: int
    level: str
    department_id: int | None
    department: str | None
    title: str
    evidence: dict[str, Any]
    link: str
    state: str
    state_label: str
    version: int
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledge_note: str
    supervised_at: dt.datetime | None
    supervise_note: str
    supervise_due: dt.date | None
    supervision_overdue: bool
    closed_at: dt.datetime | None
    close_reason: str

    @classmethod
    def of(cls, a: SupervisionAlert, on: dt.date) -> AlertOut:
        """From the model."""
        return cls(id=a.id, rule=a.rule, rule_label=rule_label(a.rule), subject_type=a.subject_type,
                   subject_id=a.subject_id, level=a.level, department_id=a.department_id,
                   department=a.department.name if a.department else None, title=a.title,
                   evidence=dict(a.evidence or {}), link=a.link, state=a.state,
                   state_label=AlertState(a.state).label, version=a.version, raised_at=a.raised_at,
                   acknowledged_at=a.acknowledged_at, acknowledge_note=a.acknowledge_note,
                   supervised_at=a.supervised_at, supervise_note=a.supervise_note, supervise_due=a.supervise_due,
                   supervision_overdue=service.overdue_supervision(a, on), closed_at=a.closed_at,
                   close_reason=a.close_reason)


class AlertDetailOut(AlertOut):
    """预警详情和调用方当前可执行的操作。"""

    allowed_actions: list[str]


class InboxOut(BaseModel):
    """预警列表和计数（各状态；未关闭预警按规则、级别）。"""

    items: list[AlertOut]
    counts: dict[str, dict[str, int]]


class RuleOut(BaseModel):
    """一条监察规则及其阈值设置。"""

    code: str
    label: str
    description: str
    thresholds: dict[str, Any]


@router.get("/supervision/alerts", response_model=InboxOut,
            summary="电子监察预警（首席代表本部门，电子监察和中心管理员全部）")
def list_alerts(
        auth: CurrentAuth, session: DbSession, clock: ClockDep,
        state: Annotated[str, Query(max_length=12, description="状态；live 为未关闭")] = "live",
        rule: Annotated[str, Query(max_length=32, description="规则")] = "",
        level: Annotated[Level | None, Query(description="级别")] = None,
        department_id: Annotated[int | None, Query(ge=1, le=ID_MAX, description="责任部门 ID")] = None,
        limit: Annotated[int, Query(ge=1, le=200, description="每页条数")] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000, description="跳过条数")] = 0,
) -> InboxOut:
    """Newest first, within the viewer's reach (403 for roles that may not see alerts)."""
    filters = service.Filters(state=state, rule=rule, level=level.value if level else "", department_id=department_id)
    items = service.list_alerts(session, viewer=auth.user, filters=filters, limit=limit, offset=offset)
    on = today(clock)
    return InboxOut(items=[AlertOut.of(a, on) for a in items],
                    counts=service.counts(session, viewer=auth.user, filters=filters))


def _detail(auth: CurrentAuth, alert: SupervisionAlert, on: dt.date) -> AlertDetailOut:
    return AlertDetailOut(**AlertOut.of(alert, on).model_dump(), allowed_actions=service.allowed(auth.user, alert))


@router.get("/supervision/alerts/{alert_id}", response_model=AlertDetailOut, summary="预警详情")
def get_alert(alert_id: AlertId, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> AlertDetailOut:
    """The alert, its evidence and the actions the caller may take now."""
    return _detail(auth, service.get_alert(session, viewer=auth.user, alert_id=alert_id), today(clock))


@router.post("/supervision/alerts/{alert_id}/acknowledge", response_model=AlertDetailOut,
             summary="签收预警（责任部门首席代表）", responses=CONFLICT)
def acknowledge(alert_id: AlertId, body: AcknowledgeIn, auth: CurrentAuth, session: DbSession,
                clock: ClockDep) -> AlertDetailOut:
    """签收 with the department's explanation."""
    alert = service.acknowledge(session, clock=clock, user=auth.user, alert_id=alert_id,
                                expected_version=body.version, note=body.note)
    return _detail(auth, alert, today(clock))


@router.post("/supervision/alerts/{alert_id}/supervise", response_model=AlertDetailOut,
             summary="督办预警（电子监察）", responses=CONFLICT)
def supervise(alert_id: AlertId, body: SuperviseIn, auth: CurrentAuth, session: DbSession,
              clock: ClockDep) -> AlertDetailOut:
    """督办 with an opinion and a deadline; the department's heads are notified."""
    alert = service.supervise(session, clock=clock, user=auth.user, alert_id=alert_id, expected_version=body.version,
                              note=body.note, due=body.due)
    return _detail(auth, alert, today(clock))


@router.get("/supervision/rules", response_model=list[RuleOut], summary="监察规则及阈值")
def list_rules(auth: CurrentAuth, settings: SettingsDep) -> list[RuleOut]:
    """Every registered rule with the current values of its threshold settings."""
    service.require_view_rules(auth.user)
    return [RuleOut(code=r.code, label=r.label, description=r.description,
                    thresholds={name: getattr(settings, name, None) for name in r.settings}) for r in registered()]


@router.put("/supervision/windows/{window_id}/duty", summary="排定窗口在岗人员（中心管理员）")
def set_duty(window_id: Annotated[int, Path(ge=1, le=ID_MAX)], body: DutyIn, auth: CurrentAuth, session: DbSession,
             clock: ClockDep) -> dict[str, int | None]:
    """The clerk the presence rule expects at the window during opening hours (null: nobody)."""
    duty = service.set_duty(session, clock=clock, user=auth.user, window_id=window_id, clerk_id=body.clerk_id)
    return {"window_id": window_id, "clerk_id": duty.user_id if duty else None}
