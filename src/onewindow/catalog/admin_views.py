"""Catalog admin pages (/admin): dashboard, items with their versions, bundles, departments, halls.

Thin edges (DESIGN rule 2): parse the form, authorise, call ``catalog.service``, render. Forms keep
the user's raw input (``ItemForm`` and friends) so a validation error (422) or a stale save (409)
re-renders exactly what was typed, with the Chinese reason next to each field. Every write goes
through a service function that audits it; the request's unit of work commits it.

Who may do what (``core.access``): admin everything; dept_head the items of their own
department (403 on any other); supervisor reads everything and writes nothing; every other role
gets 403, anonymous page requests are sent to /login.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from onewindow.calendar import service as calendar_service
from onewindow.calendar.workdays import YearSource
from onewindow.catalog import service
from onewindow.catalog.models import Department, ItemVersion
from onewindow.catalog.schemas import (
    ITEM_TYPES,
    SCOPES,
    BundleIn,
    DepartmentIn,
    HallIn,
    ItemIn,
    MaterialForm,
    MaterialKind,
    MaterialSource,
)
from onewindow.core import access
from onewindow.core.access import Action, Record
from onewindow.core.clock import Clock
from onewindow.core.errors import Conflict, NotFound, Problem, ValidationFailed
from onewindow.core.validation import pydantic_problems
from onewindow.deps import Auth, ClockDep, CurrentAuth, DbSession
from onewindow.queue import opening
from onewindow.web import FieldErrors, FormDep, fmt_time, form_text, render

router = APIRouter(prefix="/admin", include_in_schema=False)

PAGE_SIZE = 30


def _can(auth: Auth, action: Action, department_id: int | None = None) -> bool:
    return auth.can(action, Record(department=department_id) if department_id is not None else None)


def _own_department(auth: Auth) -> Department | None:
    """The department the access policy limits the admin pages to (首席代表); None for center-wide roles."""
    if access.department_scoped(auth.viewer, Action.CATALOG_VIEW_ADMIN) is not None:
        return auth.user.department
    return None


def percent(value: float | None) -> str:
    """A share as shown on the dashboard: ``0.125`` → ``12.5%``, None → ``—``."""
    return "—" if value is None else f"{value * 100:.1f}%"


FIELD_LABELS: dict[str, str] = {
    "code": "实施编码", "name": "名称", "type": "事项类型", "department": "实施部门", "hall_category": "大厅分类",
    "audience": "服务对象", "levels": "可办层级", "legal_limit_days": "法定办结时限",
    "promised_limit_days": "承诺办结时限", "limit_unit": "时限单位", "instant": "即办件", "max_visits": "到现场次数",
    "online_depth": "网办深度", "scope": "通办范围", "fee": "收费", "basis": "设定依据", "conditions": "申请条件",
    "steps": "办理流程", "materials": "申请材料", "keywords": "关键词", "location": "办理地点", "phone": "咨询电话",
    "result_certificate_type": "办理结果（电子证照）",
    "version": "版本", "short_name": "简称", "level": "层级", "region": "行政区划", "address": "地址",
    "opening_hours": "办公时间", "lead_department": "牵头部门", "items": "包含事项",
    "promised_limit_days_bundle": "承诺时限", "description": "说明", "default_consent": "缺席默认",
    "csrf_token": "安全令牌",
}

MATERIAL_LABELS: dict[str, str] = {
    "name": "材料名称", "required": "必要", "form": "形式", "copies": "份数", "deferrable": "容缺后补",
    "certificate_type": "电子证照", "note": "备注", "kind": "类型", "source": "来源",
}


def problem_label(p: Problem) -> str:
    """A Chinese name for the field of a problem (``materials[2].copies`` → 申请材料第3行 份数)."""
    row = re.match(r"^materials\[(\d+)\]\.(\w+)", p.field)
    if row:
        return f"申请材料第 {int(row[1]) + 1} 行 {MATERIAL_LABELS.get(row[2], row[2])}"
    base = p.field.split("[", 1)[0].split(".", 1)[0]
    return FIELD_LABELS.get(base, p.field)


# ----- dashboard -------------------------------------------------------------------------------


YEAR_SOURCE_LABELS = {YearSource.NOTICE: "已导入正式通知", YearSource.OFFICIAL: "官方日历",
                      YearSource.PROVISIONAL: "临时日历（待导入正式通知）"}


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Response:
    """Record counts, the catalog indicators and links to every admin page."""
    auth.require(Action.CATALOG_VIEW_ADMIN)
    ind = service.catalog_indicators(session)
    indicators = [
        ("即办件占比", percent(ind.instant_share), "即办件 / 在用事项"),
        ("零跑动事项占比", percent(ind.zero_visit_share), "到现场 0 次的事项 / 在用事项"),
        ("网上可办率", percent(ind.online_share), "网办深度三级及以上 / 在用事项"),
        ("全程网办率", percent(ind.full_online_share), "网办深度四级 / 在用事项"),
        ("承诺时限提速率", percent(ind.limit_reduction), "1 − Σ承诺时限 / Σ法定时限（有法定时限的事项）"),
    ]
    calendar = calendar_service.build_calendar(session)
    this_year = clock.now().year
    years = [(y, YEAR_SOURCE_LABELS[calendar.year_source(y)], calendar.year_source(y) is YearSource.PROVISIONAL)
             for y in (this_year, this_year + 1)]
    return render(request, "admin/dashboard.html", {
        "counts": service.catalog_counts(session), "indicators": indicators, "indicator_items": ind.items,
        "years": years, "can_edit_calendar": _can(auth, Action.CALENDAR_EDIT),
    }, auth=auth)


# ----- items: list -----------------------------------------------------------------------------


@router.get("/items", response_class=HTMLResponse)
def items_page(request: Request, auth: CurrentAuth, session: DbSession,
               department: Annotated[str, Query(max_length=20)] = "",
               category: Annotated[str, Query(max_length=4)] = "",
               q: Annotated[str, Query(max_length=100)] = "",
               include_retired: bool = False,
               page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> Response:
    """Items filtered by department, hall category and text, paged; a 首席代表 sees only their department."""
    auth.require(Action.CATALOG_VIEW_ADMIN)
    own = _own_department(auth)
    if department:
        auth.require(Action.CATALOG_VIEW_ADMIN, department_id=service.department_by_code(session, department).id)
    elif own is not None:
        department = own.code
    filters = service.ItemFilters(department=department or None, category=category or None, text=q or None,
                                  include_retired=include_retired)
    rows, total = service.list_items(session, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    query = {"department": department, "category": category, "q": q}
    if include_retired:
        query["include_retired"] = "true"

    def page_url(n: int) -> str:
        return "/admin/items?" + urlencode({**{k: v for k, v in query.items() if v}, "page": n})

    departments = [d for d, _ in service.list_departments(session) if own is None or d.id == own.id]
    return render(request, "admin/items.html", {
        "rows": rows, "total": total, "page": page, "pages": pages,
        "prev_url": page_url(page - 1) if page > 1 else None,
        "next_url": page_url(page + 1) if page < pages else None,
        "filters": query, "include_retired": include_retired, "departments": departments,
        "categories": service.list_hall_categories(session),
        "can_create": _can(auth, Action.ITEM_EDIT),
    }, auth=auth)


# ----- items: the form ---------------------------------------------------------------------------


ITEM_TEXT_FIELDS = ("code", "name", "type", "department", "hall_category", "audience", "legal_limit_days",
                    "promised_limit_days", "limit_unit", "max_visits", "online_depth", "scope", "fee", "basis",
                    "conditions", "location", "phone", "result_certificate_type")
ITEM_INT_FIELDS = ("legal_limit_days", "promised_limit_days", "max_visits", "online_depth")
MATERIAL_TEXT_FIELDS = ("name", "form", "copies", "certificate_type", "note", "kind", "source")
MATERIAL_FLAGS = ("required", "deferrable")
_MATERIAL_KEY = re.compile(r"^materials-(\d+)-(\w+)$")
_ROW_OP = re.compile(r"^(remove|up|down)-(\d+)$")
_KEYWORD_SPLIT = re.compile(r"[,，、;；\s]+")


def blank_material() -> dict[str, Any]:
    """A new, empty row of the materials table."""
    return {"name": "", "required": True, "form": "原件", "copies": "1", "deferrable": False,
            "certificate_type": "", "note": "", "kind": "", "source": ""}


@dataclass
class ItemForm:
    """The item form as the user filled it in: raw strings, kept as typed so an error loses nothing."""

    fields: dict[str, str]
    levels: list[str]
    instant: bool
    steps: str
    keywords: str
    materials: list[dict[str, Any]]
    change_note: str = ""
    base_version: int | None = None
    latest_version: int | None = None

    @classmethod
    def blank(cls, department: str = "") -> ItemForm:
        """Defaults of a new item."""
        fields = dict.fromkeys(ITEM_TEXT_FIELDS, "")
        fields.update(type="行政许可", department=department, audience="person", limit_unit="working_day",
                      scope="本级", fee="不收费", max_visits="1", online_depth="3")
        return cls(fields=fields, levels=["county"], instant=False, steps="", keywords="",
                   materials=[blank_material()])

    @classmethod
    def from_item(cls, data: ItemIn, base_version: int) -> ItemForm:
        """The form of a stored version."""
        dumped = data.model_dump()
        fields = {k: "" if dumped[k] is None else str(dumped[k]) for k in ITEM_TEXT_FIELDS}
        materials = [{**{k: "" if m[k] is None else str(m[k]) for k in MATERIAL_TEXT_FIELDS},
                      **{k: bool(m[k]) for k in MATERIAL_FLAGS}} for m in dumped["materials"]]
        return cls(fields=fields, levels=list(data.levels), instant=data.instant, steps="\n".join(data.steps),
                   keywords="、".join(data.keywords), materials=materials, base_version=base_version)

    @classmethod
    def from_form(cls, form: FormData, code: str | None = None) -> ItemForm:
        """Read a posted form; on edit the code comes from the address, not the form."""
        fields = {k: form_text(form, k) for k in ITEM_TEXT_FIELDS}
        if code is not None:
            fields["code"] = code
        rows: dict[int, dict[str, Any]] = {}
        for key in form:
            match = _MATERIAL_KEY.match(key)
            if match:
                rows.setdefault(int(match[1]), {})
        materials = []
        for i in sorted(rows):
            row: dict[str, Any] = {k: form_text(form, f"materials-{i}-{k}") for k in MATERIAL_TEXT_FIELDS}
            row.update({k: f"materials-{i}-{k}" in form for k in MATERIAL_FLAGS})
            materials.append(row)

        def as_int(key: str) -> int | None:
            raw = form_text(form, key)
            return int(raw) if raw.isdigit() else None

        return cls(fields=fields, levels=[str(v) for v in form.getlist("levels") if isinstance(v, str)],
                   instant="instant" in form, steps=form_text(form, "steps"), keywords=form_text(form, "keywords"),
                   materials=materials, change_note=form_text(form, "change_note"),
                   base_version=as_int("base_version"), latest_version=as_int("latest_version"))

    def apply_row_op(self, op: str) -> bool:
        """Add, remove or move a material row; False when ``op`` is not a row operation."""
        if op == "add_material":
            self.materials.append(blank_material())
            return True
        match = _ROW_OP.match(op)
        if not match:
            return False
        i = int(match[2])
        if not 0 <= i < len(self.materials):
            return True
        if match[1] == "remove":
            del self.materials[i]
        elif match[1] == "up" and i > 0:
            self.materials[i - 1], self.materials[i] = self.materials[i], self.materials[i - 1]
        elif match[1] == "down" and i < len(self.materials) - 1:
            self.materials[i + 1], self.materials[i] = self.materials[i], self.materials[i + 1]
        return True

    def drop_blank_rows(self) -> None:
        """Forget material rows left entirely empty (an added row the user did not fill)."""
        self.materials = [m for m in self.materials
                          if m["name"] or m["note"] or m["certificate_type"]]

    def to_input(self) -> tuple[ItemIn | None, list[Problem]]:
        """Validate through ``ItemIn``; an empty number is reported as missing, not as "not a number"."""
        raw: dict[str, Any] = {k: v for k, v in self.fields.items() if not (k in ITEM_INT_FIELDS and v == "")}
        raw.update(levels=self.levels, instant=self.instant,
                   steps=[s.strip() for s in self.steps.splitlines() if s.strip()],
                   keywords=[k for k in _KEYWORD_SPLIT.split(self.keywords) if k],
                   materials=[{**{k: (m[k] or None) for k in ("certificate_type", "note", "kind", "source")},
                               "name": m["name"], "form": m["form"], "required": m["required"],
                               "deferrable": m["deferrable"], **({"copies": m["copies"]} if m["copies"] else {})}
                              for m in self.materials])
        try:
            return ItemIn.model_validate(raw), []
        except ValidationError as exc:
            return None, pydantic_problems(exc.errors())


def _department_id(session: Session, code: str) -> int | None:
    try:
        return service.department_by_code(session, code).id
    except NotFound:
        return None  # the save reports the unknown code next to the field


def _item_form_context(session: Session, auth: Auth, form: ItemForm, *, creating: bool,
                       errors: FieldErrors | None = None, item_status: str = "active",
                       versions: list[ItemVersion] | None = None, conflict: str | None = None,
                       notice: str | None = None) -> dict[str, Any]:
    own = _own_department(auth)
    departments = [d for d, _ in service.list_departments(session) if own is None or d.id == own.id]
    code = form.fields["code"]
    return {
        "form": form, "errors": errors or FieldErrors(), "creating": creating, "conflict": conflict,
        "notice": notice, "item_status": item_status, "versions": versions or [],
        "action": "/admin/items/new" if creating else f"/admin/items/{code}",
        "departments": departments, "categories": service.list_hall_categories(session),
        "certificate_types": service.list_certificate_types(session),
        "item_types": ITEM_TYPES, "scopes": SCOPES, "audiences": ("person", "enterprise", "both"),
        "levels": ("county", "town", "village"), "units": ("working_day", "natural_day"),
        "depths": (1, 2, 3, 4), "visit_choices": (0, 1, 2),
        "material_forms": get_args(MaterialForm), "material_kinds": get_args(MaterialKind),
        "material_sources": get_args(MaterialSource), "problem_label": problem_label,
        "can_retire": _can(auth, Action.ITEM_RETIRE), "fmt_time": fmt_time,
    }


def _render_item_form(request: Request, session: Session, auth: Auth, form: ItemForm, *, creating: bool,
                      status_code: int = 200, fragment: bool = False, **extra: Any) -> Response:
    versions: list[ItemVersion] = []
    status = "active"
    if not creating:
        item = service.get_item_row(session, form.fields["code"])
        versions, status = service.item_versions(session, item), item.status
    ctx = _item_form_context(session, auth, form, creating=creating, versions=versions, item_status=status,
                             **extra)
    return render(request, "admin/item_form.html", ctx, auth=auth, status_code=status_code,
                  fragment="admin/_materials.html" if fragment else None)


_NOTICES = {
    "created": "事项已创建（第 1 版）。", "unchanged": "内容没有变化，未生成新版本。",
    "retired": "事项已停用：不再受理新的申请，历史版本保留。", "restored": "事项已恢复在用。",
}


def _notice(done: str, version: int | None) -> str | None:
    if done == "saved" and version:
        return f"已保存为第 {version} 版。"
    return _NOTICES.get(done)


@router.get("/items/new", response_class=HTMLResponse)
def new_item_page(request: Request, auth: CurrentAuth, session: DbSession) -> Response:
    """A blank item form (admin, or 首席代表 for their own department)."""
    auth.require(Action.ITEM_EDIT)
    own = _own_department(auth)
    form = ItemForm.blank(department=own.code if own else "")
    return _render_item_form(request, session, auth, form, creating=True)


@router.post("/items/new", response_class=HTMLResponse)
def create_item(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep, posted: FormDep
                ) -> Response:
    """Create an item, or apply a material-row operation and show the form again."""
    auth.require(Action.ITEM_EDIT)
    form = ItemForm.from_form(posted)
    op = form_text(posted, "op") or "save"
    if form.apply_row_op(op):
        return _render_item_form(request, session, auth, form, creating=True,
                                 fragment=request.headers.get("hx-request") == "true")
    form.drop_blank_rows()
    auth.require(Action.ITEM_EDIT, department_id=_department_id(session, form.fields["department"]))
    data, problems = form.to_input()
    if data is not None:
        try:
            service.get_item_row(session, data.code)
            problems = [Problem("code", "duplicate_code", f"事项编码已存在：{data.code}")]
        except NotFound:
            pass
    if data is None or problems:
        return _render_item_form(request, session, auth, form, creating=True, status_code=422,
                                 errors=FieldErrors.of(problems))
    try:
        service.save_item(session, clock=clock, actor=auth.actor, data=data,
                          change_note=form.change_note or "新建")
    except ValidationFailed as exc:
        session.rollback()
        return _render_item_form(request, session, auth, form, creating=True, status_code=422,
                                 errors=FieldErrors.of(exc.problems))
    return RedirectResponse(f"/admin/items/{data.code}?done=created", status_code=303)


@router.get("/items/{code}", response_class=HTMLResponse)
def item_page(request: Request, code: str, auth: CurrentAuth, session: DbSession,
              done: Annotated[str, Query(max_length=20)] = "",
              version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    """The edit form of an item (read-only view for those who may only look)."""
    auth.require(Action.CATALOG_VIEW_ADMIN)
    _, current = service.get_item_version(session, code)
    auth.require(Action.CATALOG_VIEW_ADMIN, department_id=current.department_id)
    if not _can(auth, Action.ITEM_EDIT, current.department_id):
        return _render_item_view(request, session, auth, code, current, notice=_notice(done, version))
    form = ItemForm.from_item(service.version_to_input(current, code), current.version)
    return _render_item_form(request, session, auth, form, creating=False, notice=_notice(done, version))


def _render_item_view(request: Request, session: Session, auth: Auth, code: str, shown: ItemVersion,
                      notice: str | None = None) -> Response:
    item, current = service.get_item_version(session, code)
    return render(request, "admin/item_view.html", {
        "item": item, "v": shown, "current": current, "versions": service.item_versions(session, item),
        "notice": notice, "can_edit": _can(auth, Action.ITEM_EDIT, current.department_id), "fmt_time": fmt_time,
    }, auth=auth)


@router.get("/items/{code}/versions/{version}", response_class=HTMLResponse)
def item_version_page(request: Request, code: str, version: int, auth: CurrentAuth, session: DbSession
                      ) -> Response:
    """One version of an item, read-only."""
    auth.require(Action.CATALOG_VIEW_ADMIN)
    _, current = service.get_item_version(session, code)
    auth.require(Action.CATALOG_VIEW_ADMIN, department_id=current.department_id)
    _, shown = service.get_item_version(session, code, version)
    return _render_item_view(request, session, auth, code, shown)


@router.post("/items/{code}", response_class=HTMLResponse)
def save_item(request: Request, code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep,
              posted: FormDep) -> Response:
    """Save the edited item as a new version; a stale base version answers 409 with the input kept."""
    auth.require(Action.ITEM_EDIT)
    _, current = service.get_item_version(session, code)
    auth.require(Action.ITEM_EDIT, department_id=current.department_id)
    form = ItemForm.from_form(posted, code=code)
    op = form_text(posted, "op") or "save"
    if form.apply_row_op(op):
        return _render_item_form(request, session, auth, form, creating=False,
                                 fragment=request.headers.get("hx-request") == "true")
    form.drop_blank_rows()
    auth.require(Action.ITEM_EDIT, department_id=_department_id(session, form.fields["department"]))
    # "保存并覆盖": the user saw the conflict and chose to build on the latest version.
    expected = form.latest_version if op == "overwrite" and form.latest_version else form.base_version
    data, problems = form.to_input()
    if data is not None:  # the form has no procedure fields: an item's 办理规则 override survives the edit
        data = service.keep_procedure(data, current)
    if expected is None:  # without it a save could silently undo someone else's version
        problems.append(Problem("version", "version_required", "缺少所基于的版本号，请刷新页面后重新编辑"))
    if data is None or problems:
        return _render_item_form(request, session, auth, form, creating=False, status_code=422,
                                 errors=FieldErrors.of(problems))
    try:
        result = service.save_item(session, clock=clock, actor=auth.actor, data=data,
                                   change_note=form.change_note or "修改", expected_version=expected)
    except ValidationFailed as exc:
        session.rollback()
        return _render_item_form(request, session, auth, form, creating=False, status_code=422,
                                 errors=FieldErrors.of(exc.problems))
    except Conflict as exc:
        session.rollback()
        _, latest = service.get_item_version(session, code)
        form.latest_version = latest.version
        message = (f"保存失败：在您编辑期间，{latest.created_by} 于 {fmt_time(latest.created_at)} "
                   f"保存了第 {latest.version} 版（您的修改基于第 {form.base_version} 版）。"
                   "您填写的内容仍保留在下方，尚未保存。请先查看最新版本，再决定是否用您的内容覆盖。")
        return _render_item_form(request, session, auth, form, creating=False, status_code=409,
                                 conflict=message, errors=FieldErrors.of([Problem("version", exc.code, exc.message)]))
    done = "saved" if result.changed else "unchanged"
    return RedirectResponse(f"/admin/items/{code}?done={done}&version={result.version.version}", status_code=303)


def _set_status(auth: Auth, session: Session, clock: Clock, code: str, status: Literal["active", "retired"]
                ) -> Response:
    auth.require(Action.ITEM_RETIRE)
    service.set_item_status(session, clock=clock, actor=auth.actor, code=code, status=status)
    done = "retired" if status == "retired" else "restored"
    return RedirectResponse(f"/admin/items/{code}?done={done}", status_code=303)


@router.post("/items/{code}/retire")
def retire_item(code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Response:
    """Take an item out of service (admin only)."""
    return _set_status(auth, session, clock, code, "retired")


@router.post("/items/{code}/restore")
def restore_item(code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> Response:
    """Put a retired item back in service (admin only)."""
    return _set_status(auth, session, clock, code, "active")


# ----- bundles -----------------------------------------------------------------------------------


@dataclass
class BundleForm:
    """The bundle form as typed."""

    code: str = ""
    name: str = ""
    lead_department: str = ""
    items: list[str] = field(default_factory=list)
    promised_limit_days: str = ""
    description: str = ""
    default_consent: bool = False

    @classmethod
    def from_form(cls, form: FormData, code: str | None = None) -> BundleForm:
        """Read a posted bundle form (member order is the order of the ticked boxes)."""
        items = [v.strip() for v in form.getlist("items") if isinstance(v, str) and v.strip()]
        return cls(code=code if code is not None else form_text(form, "code"), name=form_text(form, "name"),
                   lead_department=form_text(form, "lead_department"), items=list(dict.fromkeys(items)),
                   promised_limit_days=form_text(form, "promised_limit_days"),
                   description=form_text(form, "description"), default_consent="default_consent" in form)

    def to_input(self) -> tuple[BundleIn | None, list[Problem]]:
        """Validate through ``BundleIn``."""
        raw: dict[str, Any] = {"code": self.code, "name": self.name, "lead_department": self.lead_department,
                               "items": self.items, "description": self.description,
                               "default_consent": self.default_consent}
        if self.promised_limit_days:
            raw["promised_limit_days"] = self.promised_limit_days
        try:
            return BundleIn.model_validate(raw), []
        except ValidationError as exc:
            return None, pydantic_problems(exc.errors())


def _bundle_choices(session: Session, chosen: list[str]) -> list[tuple[str, str, str, bool]]:
    """(code, name, department, ticked) for the member picker: chosen items first, in their order."""
    rows, _ = service.list_items(session, service.ItemFilters(include_retired=True), limit=5000)
    by_code = {item.code: (item.code, v.name, v.department.short_name, item.status) for item, v in rows}
    out = [(c, by_code[c][1], by_code[c][2], True) for c in chosen if c in by_code]
    out += [(c, n, d, False) for c, n, d, status in by_code.values() if c not in chosen and status == "active"]
    return out


def _render_bundle_form(request: Request, session: Session, auth: Auth, form: BundleForm, *, creating: bool,
                        status_code: int = 200, errors: FieldErrors | None = None, notice: str | None = None
                        ) -> Response:
    return render(request, "admin/bundle_form.html", {
        "form": form, "creating": creating, "errors": errors or FieldErrors(), "notice": notice,
        "readonly": not _can(auth, Action.BUNDLE_EDIT), "problem_label": problem_label,
        "departments": [d for d, _ in service.list_departments(session)],
        "choices": _bundle_choices(session, form.items),
        "action": "/admin/bundles/new" if creating else f"/admin/bundles/{form.code}",
    }, auth=auth, status_code=status_code)


@router.get("/bundles", response_class=HTMLResponse)
def bundles_page(request: Request, auth: CurrentAuth, session: DbSession) -> Response:
    """Every bundle (一件事)."""
    auth.require(Action.CATALOG_VIEW_ADMIN)
    return render(request, "admin/bundles.html", {
        "bundles": service.list_bundles(session), "can_edit": _can(auth, Action.BUNDLE_EDIT),
    }, auth=auth)


@router.get("/bundles/new", response_class=HTMLResponse)
def new_bundle_page(request: Request, auth: CurrentAuth, session: DbSession) -> Response:
    """A blank bundle form (admin)."""
    auth.require(Action.BUNDLE_EDIT)
    return _render_bundle_form(request, session, auth, BundleForm(), creating=True)


@router.get("/bundles/{code}", response_class=HTMLResponse)
def bundle_page(request: Request, code: str, auth: CurrentAuth, session: DbSession,
                done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """A bundle's form (read-only unless admin)."""
    auth.require(Action.CATALOG_VIEW_ADMIN)
    b = service.bundle_by_code(session, code)
    form = BundleForm(code=b.code, name=b.name, lead_department=b.lead_department.code,
                      items=[m.item.code for m in b.members], promised_limit_days=str(b.promised_limit_days),
                      description=b.description, default_consent=b.default_consent)
    notice = {"saved": "一件事已保存。", "unchanged": "内容没有变化。"}.get(done)
    return _render_bundle_form(request, session, auth, form, creating=False, notice=notice)


def _save_bundle(request: Request, session: Session, clock: Clock, auth: Auth, form: BundleForm, *,
                 creating: bool) -> Response:
    data, problems = form.to_input()
    if data is not None and creating:
        try:
            service.bundle_by_code(session, data.code)
            problems = [Problem("code", "duplicate_code", f"一件事编码已存在：{data.code}")]
        except NotFound:
            pass
    if data is None or problems:
        return _render_bundle_form(request, session, auth, form, creating=creating, status_code=422,
                                   errors=FieldErrors.of(problems))
    try:
        changed = service.save_bundle(session, clock=clock, actor=auth.actor, data=data)
    except ValidationFailed as exc:
        session.rollback()
        return _render_bundle_form(request, session, auth, form, creating=creating, status_code=422,
                                   errors=FieldErrors.of(exc.problems))
    return RedirectResponse(f"/admin/bundles/{data.code}?done={'saved' if changed else 'unchanged'}",
                            status_code=303)


@router.post("/bundles/new", response_class=HTMLResponse)
def create_bundle(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep, posted: FormDep
                  ) -> Response:
    """Create a bundle."""
    auth.require(Action.BUNDLE_EDIT)
    return _save_bundle(request, session, clock, auth, BundleForm.from_form(posted), creating=True)


@router.post("/bundles/{code}", response_class=HTMLResponse)
def update_bundle(request: Request, code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                  posted: FormDep) -> Response:
    """Save a bundle's name, lead department, members, limit, description and 缺席默认."""
    auth.require(Action.BUNDLE_EDIT)
    service.bundle_by_code(session, code)
    return _save_bundle(request, session, clock, auth, BundleForm.from_form(posted, code=code), creating=False)


# ----- departments and halls ---------------------------------------------------------------------


def _validate(model: type[DepartmentIn] | type[HallIn], raw: Mapping[str, Any]
              ) -> tuple[DepartmentIn | HallIn | None, list[Problem]]:
    try:
        return model.model_validate(dict(raw)), []
    except ValidationError as exc:
        return None, pydantic_problems(exc.errors())


DEPARTMENT_FIELDS = ("code", "name", "short_name")
HALL_FIELDS = ("code", "name", "level", "region", "address", "phone", "opening_hours")


def _render_org_form(request: Request, session: Session, auth: Auth, kind: Literal["department", "hall"],
                     values: dict[str, str], *, creating: bool, status_code: int = 200,
                     errors: FieldErrors | None = None, notice: str | None = None) -> Response:
    base = "/admin/departments" if kind == "department" else "/admin/halls"
    return render(request, f"admin/{kind}_form.html", {
        "values": values, "creating": creating, "errors": errors or FieldErrors(), "notice": notice,
        "readonly": not _can(auth, Action.ORG_EDIT), "problem_label": problem_label,
        "regions": service.list_regions(session) if kind == "hall" else [],
        "levels": ("county", "town", "village"),
        "action": f"{base}/new" if creating else f"{base}/{values['code']}",
    }, auth=auth, status_code=status_code)


def _save_org(request: Request, session: Session, clock: Clock, auth: Auth, kind: Literal["department", "hall"],
              values: dict[str, str], *, creating: bool) -> Response:
    data, problems = _validate(DepartmentIn if kind == "department" else HallIn, values)
    if isinstance(data, HallIn) and (why := opening.hours_problem(data.opening_hours)):
        problems = [*problems, Problem("opening_hours", "no_opening_period", why)]
    if data is not None and creating:
        try:
            if kind == "department":
                service.department_by_code(session, data.code)
            else:
                service.hall_by_code(session, data.code)
            problems = [Problem("code", "duplicate_code", f"编码已存在：{data.code}")]
        except NotFound:
            pass
    if data is None or problems:
        return _render_org_form(request, session, auth, kind, values, creating=creating, status_code=422,
                                errors=FieldErrors.of(problems))
    try:
        if isinstance(data, DepartmentIn):
            changed = service.save_department(session, clock=clock, actor=auth.actor, data=data)
        else:
            changed = service.save_hall(session, clock=clock, actor=auth.actor, data=data)
    except ValidationFailed as exc:
        session.rollback()
        return _render_org_form(request, session, auth, kind, values, creating=creating, status_code=422,
                                errors=FieldErrors.of(exc.problems))
    base = "/admin/departments" if kind == "department" else "/admin/halls"
    return RedirectResponse(f"{base}/{data.code}?done={'saved' if changed else 'unchanged'}", status_code=303)


_ORG_NOTICES = {"saved": "已保存。", "unchanged": "内容没有变化。"}


@router.get("/departments", response_class=HTMLResponse)
def departments_page(request: Request, auth: CurrentAuth, session: DbSession) -> Response:
    """Departments with their number of items in service."""
    auth.require(Action.CATALOG_VIEW_ADMIN)
    return render(request, "admin/departments.html", {
        "departments": service.list_departments(session), "can_edit": _can(auth, Action.ORG_EDIT),
    }, auth=auth)


@router.get("/departments/new", response_class=HTMLResponse)
def new_department_page(request: Request, auth: CurrentAuth, session: DbSession) -> Response:
    """A blank department form (admin)."""
    auth.require(Action.ORG_EDIT)
    return _render_org_form(request, session, auth, "department", dict.fromkeys(DEPARTMENT_FIELDS, ""),
                            creating=True)


@router.post("/departments/new", response_class=HTMLResponse)
def create_department(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                      posted: FormDep) -> Response:
    """Create a department."""
    auth.require(Action.ORG_EDIT)
    values = {k: form_text(posted, k) for k in DEPARTMENT_FIELDS}
    return _save_org(request, session, clock, auth, "department", values, creating=True)


@router.get("/departments/{code}", response_class=HTMLResponse)
def department_page(request: Request, code: str, auth: CurrentAuth, session: DbSession,
                    done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """A department's form (read-only unless admin)."""
    auth.require(Action.CATALOG_VIEW_ADMIN)
    d = service.department_by_code(session, code)
    values = {"code": d.code, "name": d.name, "short_name": d.short_name}
    return _render_org_form(request, session, auth, "department", values, creating=False,
                            notice=_ORG_NOTICES.get(done))


@router.post("/departments/{code}", response_class=HTMLResponse)
def update_department(request: Request, code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                      posted: FormDep) -> Response:
    """Save a department's names."""
    auth.require(Action.ORG_EDIT)
    service.department_by_code(session, code)
    values = {k: form_text(posted, k) for k in DEPARTMENT_FIELDS} | {"code": code}
    return _save_org(request, session, clock, auth, "department", values, creating=False)


@router.get("/halls", response_class=HTMLResponse)
def halls_page(request: Request, auth: CurrentAuth, session: DbSession) -> Response:
    """Every hall: county center, town centers, village points."""
    auth.require(Action.CATALOG_VIEW_ADMIN)
    return render(request, "admin/halls.html", {
        "halls": service.list_halls(session), "can_edit": _can(auth, Action.ORG_EDIT),
    }, auth=auth)


@router.get("/halls/new", response_class=HTMLResponse)
def new_hall_page(request: Request, auth: CurrentAuth, session: DbSession) -> Response:
    """A blank hall form (admin)."""
    auth.require(Action.ORG_EDIT)
    values = dict.fromkeys(HALL_FIELDS, "") | {"level": "town"}
    return _render_org_form(request, session, auth, "hall", values, creating=True)


@router.post("/halls/new", response_class=HTMLResponse)
def create_hall(request: Request, auth: CurrentAuth, session: DbSession, clock: ClockDep, posted: FormDep
                ) -> Response:
    """Create a hall."""
    auth.require(Action.ORG_EDIT)
    values = {k: form_text(posted, k) for k in HALL_FIELDS}
    return _save_org(request, session, clock, auth, "hall", values, creating=True)


@router.get("/halls/{code}", response_class=HTMLResponse)
def hall_page(request: Request, code: str, auth: CurrentAuth, session: DbSession,
              done: Annotated[str, Query(max_length=20)] = "") -> Response:
    """A hall's form (read-only unless admin)."""
    auth.require(Action.CATALOG_VIEW_ADMIN)
    h = service.hall_by_code(session, code)
    values = {"code": h.code, "name": h.name, "level": h.level, "region": h.region.code, "address": h.address,
              "phone": h.phone, "opening_hours": h.opening_hours}
    return _render_org_form(request, session, auth, "hall", values, creating=False, notice=_ORG_NOTICES.get(done))


@router.post("/halls/{code}", response_class=HTMLResponse)
def update_hall(request: Request, code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                posted: FormDep) -> Response:
    """Save a hall."""
    auth.require(Action.ORG_EDIT)
    service.hall_by_code(session, code)
    values = {k: form_text(posted, k) for k in HALL_FIELDS} | {"code": code}
    return _save_org(request, session, clock, auth, "hall", values, creating=False)
