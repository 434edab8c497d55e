"""回访 API (/api/v1/supervision/callbacks): the task list, one task, recording an outcome, 应访尽访 per department.

Thin edges: parse, call ``supervision.callbacks`` (which authorises, locks the task, checks the version and
validates every dimension), shape the answer. Phone numbers leave masked (``MaskedJSONResponse``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from onewindow.core.clock import today
from onewindow.deps import ClockDep, CurrentAuth, DbSession, SettingsDep
from onewindow.supervision import callbacks as service
from onewindow.supervision.callback_models import CallbackTask
from onewindow.supervision.callback_rules import Outcome

router = APIRouter(tags=["supervision"])

ID_MAX = 2_147_483_647
TaskId = Annotated[int, Path(ge=1, le=ID_MAX, description="回访任务 ID")]


class TaskOut(BaseModel):
    """一条回访任务。"""

    id: int
    case_id: int
    case_number: str
    item: str
    department_id: int
    department: str
    applicant_name: str
    applicant_phone: str
    day: dt.date
    due_on: dt.date
    outcome: Outcome
    outcome_label: str
    attempts: int
    scores: dict[str, str]
    remarks: str
    questions: list[dict[str, str]]
    order_id: int | None
    version: int


def _out(t: CallbackTask) -> TaskOut:
    c = t.case
    return TaskOut(id=t.id, case_id=c.id, case_number=c.number, item=c.title, department_id=t.department_id,
                   department=t.department.name, applicant_name=c.applicant_name, applicant_phone=c.applicant_phone,
                   day=t.day, due_on=t.due_on, outcome=Outcome(t.outcome), outcome_label=Outcome(t.outcome).label,
                   attempts=t.attempts, scores=t.scores, remarks=t.remarks, questions=t.questions,
                   order_id=t.order_id, version=t.version)


class OutcomeIn(BaseModel):
    """回访结果：联系上时各维度满意程度（非常满意 … 非常不满意）必填。"""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=ID_MAX)
    reached: bool
    scores: dict[str, str] = Field(default_factory=dict, max_length=10)
    remarks: str = Field("", max_length=1000)


class RateOut(BaseModel):
    """一个部门的应访尽访。"""

    department_id: int
    department: str
    drawn: int
    called: int
    reached: int
    satisfied: int
    unsatisfied: int
    rectified: int
    callback_rate: float | None
    reach_rate: float | None
    satisfaction_rate: float | None


@router.get("/supervision/callbacks", response_model=list[TaskOut], summary="回访任务列表")
def list_tasks(auth: CurrentAuth, session: DbSession, outcome: Outcome | None = None,
               day_from: dt.date | None = None, day_to: dt.date | None = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Any:
    """The tasks within reach (a department head: their department), filtered by outcome and finishing day."""
    return [_out(t) for t in service.list_tasks(session, viewer=auth.user, outcome=outcome, day_from=day_from,
                                                day_to=day_to, limit=limit, offset=offset)]


@router.get("/supervision/callbacks/rates", response_model=list[RateOut], summary="各部门回访率（应访尽访）")
def rates(auth: CurrentAuth, session: DbSession, clock: ClockDep, day_from: dt.date | None = None,
          day_to: dt.date | None = None) -> Any:
    """应访尽访 per department over the cases finished in the period (default: the last 30 days)."""
    end = day_to or today(clock)
    start = day_from or end - dt.timedelta(days=30)
    return [RateOut(department_id=r.department_id, department=r.department_name, drawn=r.drawn, called=r.called,
                    reached=r.reached, satisfied=r.satisfied, unsatisfied=r.unsatisfied, rectified=r.rectified,
                    callback_rate=r.callback_rate, reach_rate=r.reach_rate, satisfaction_rate=r.satisfaction_rate)
            for r in service.rates(session, viewer=auth.user, day_from=start, day_to=end)]


@router.get("/supervision/callbacks/{task_id}", response_model=TaskOut, summary="回访任务详情")
def get_task(task_id: TaskId, auth: CurrentAuth, session: DbSession) -> Any:
    """One task with its questions and outcome."""
    return _out(service.get_task(session, viewer=auth.user, task_id=task_id))


@router.post("/supervision/callbacks/{task_id}/outcome", response_model=TaskOut, summary="记录回访结果",
             responses={409: {"description": "已记录（callback_already_recorded）或版本已过期（stale_version）"}})
def record(task_id: TaskId, body: OutcomeIn, auth: CurrentAuth, session: DbSession, clock: ClockDep,
           settings: SettingsDep) -> Any:
    """Record a call; an unsatisfied overall level opens a rectification work order (source ``callback``)."""
    task = service.record_outcome(session, clock=clock, user=auth.user, task_id=task_id,
                                  expected_version=body.version, reached=body.reached, scores=body.scores,
                                  remarks=body.remarks, rules=service.rules_from(settings))
    return _out(task)
