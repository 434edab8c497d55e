"""Cases service: the published interface of the cases domain (办件).

Other domains, the edges (API, pages, PDF notices, the sweep, demo and bench) and tests call ``service.X``;
the work is done in one module per flow: :mod:`~onewindow.cases.intake` (applications, 受理, pre-check,
补正, uploads), :mod:`~onewindow.cases.bundles` (一件事 sub-cases, 缺席默认), :mod:`~onewindow.cases.review`
(opinions, decisions, 特别程序, 延期, 事后核查), :mod:`~onewindow.cases.closure` (withdrawal, termination,
容缺 materials), :mod:`~onewindow.cases.delivery` (送达, archive, visits), :mod:`~onewindow.cases.schedule`
(due dates) and :mod:`~onewindow.cases.queries` (read models), all changing a case through
:mod:`~onewindow.cases.transitions`. Agent authorisations are their own domain, :mod:`onewindow.agents`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from onewindow.cases.bundles import default_consent
from onewindow.cases.closure import deferred_uploads_open, supply_deferred, terminate, withdraw
from onewindow.cases.delivery import (
    DELIVERY_METHODS,
    DeliveryIn,
    archive,
    confirm_mail_delivered,
    deliver,
    one_visit,
    promised_visits,
    record_visit,
    visit_count,
    visit_line,
)
from onewindow.cases.intake import (
    ApplicationIn,
    ChecklistEntry,
    Created,
    Target,
    apply,
    attach_upload,
    checklist,
    delivery_modes,
    library_lookup,
    precheck,
    represented_enterprises,
    require_representation,
    resolve_target,
    resubmit,
)
from onewindow.cases.procedure import procedure_of_case
from onewindow.cases.queries import (
    LIST_OPTIONS,
    OPEN_STATES,
    PublicStatus,
    case_by_number,
    cases_of_applicant,
    get_case,
    inbox,
    my_cases,
    precheck_queue,
    search_cases,
    sub_cases,
    timeline,
)
from onewindow.cases.queries import track as _track
from onewindow.cases.review import (
    SUSPENSION_LABELS,
    decide,
    decide_extension,
    opinion_steps,
    ready_for_decision,
    record_opinion,
    request_extension,
    resume,
    suspend,
    verify_commitment,
)
from onewindow.cases.rules import CaseRules
from onewindow.cases.schedule import recompute_deadlines, schedules, work_calendar
from onewindow.cases.scope import may, record_of, require_view, viewer
from onewindow.core.applicants import ApplicantIn

__all__ = [
    "DELIVERY_METHODS",
    "LIST_OPTIONS",
    "OPEN_STATES",
    "SUSPENSION_LABELS",
    "ApplicantIn",
    "ApplicationIn",
    "CaseRules",
    "ChecklistEntry",
    "Created",
    "DeliveryIn",
    "PublicStatus",
    "Target",
    "apply",
    "archive",
    "attach_upload",
    "case_by_number",
    "cases_of_applicant",
    "checklist",
    "confirm_mail_delivered",
    "decide",
    "decide_extension",
    "default_consent",
    "deferred_uploads_open",
    "deliver",
    "delivery_modes",
    "get_case",
    "inbox",
    "library_lookup",
    "may",
    "my_cases",
    "one_visit",
    "opinion_steps",
    "precheck",
    "precheck_queue",
    "procedure_of_case",
    "promised_visits",
    "ready_for_decision",
    "recompute_deadlines",
    "record_of",
    "record_opinion",
    "record_visit",
    "represented_enterprises",
    "request_extension",
    "require_representation",
    "require_view",
    "resolve_target",
    "resubmit",
    "resume",
    "schedules",
    "search_cases",
    "sub_cases",
    "supply_deferred",
    "suspend",
    "terminate",
    "timeline",
    "track",
    "verify_commitment",
    "viewer",
    "visit_count",
    "visit_line",
    "withdraw",
    "work_calendar",
]


def track(session: Session, *, number: str, id_last4: str, on: dt.date | None = None) -> PublicStatus:
    """Public tracking by case number + the last 4 characters of the applicant's ID; with ``on``, the
    remaining time on that day as every other page says it (``deadlines.schedule``)."""
    status = _track(session, number=number, id_last4=id_last4)
    if on is None:
        return status
    case = case_by_number(session, status.number)
    if case.accepted_on is None:
        return status
    answer = schedules(session, [case], calendar=work_calendar(session), on=on)[case.id]
    return dataclasses.replace(status, remaining=answer.remaining.text)
