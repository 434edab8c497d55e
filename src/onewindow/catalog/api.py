"""Catalog API (/api/v1): items, bundles, departments, regions, halls; admin writes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import func, select

from onewindow.catalog import service
from onewindow.catalog.models import Bundle, Department, Hall, Item, ItemVersion, Region
from onewindow.catalog.schemas import (
    BundleIn,
    BundleOut,
    DepartmentOut,
    HallOut,
    ItemDetail,
    ItemIn,
    ItemSummary,
    OpeningPeriodOut,
    Page,
    RegionOut,
)
from onewindow.core.access import Action
from onewindow.core.errors import Conflict, NotAuthenticated, Problem, ValidationFailed
from onewindow.deps import ClockDep, CurrentAuth, DbSession, OptionalAuth, SettingsDep
from onewindow.queue import opening

router = APIRouter(tags=["catalog"])


@router.get("/items", response_model=Page[ItemSummary], summary="事项列表（可筛选）")
def list_items(
    session: DbSession,
    auth: OptionalAuth,
    department: Annotated[str | None, Query(description="部门编码，如 SCJG")] = None,
    category: Annotated[str | None, Query(description="大厅分类字母 A..H")] = None,
    audience: Annotated[Literal["person", "enterprise"] | None, Query(description="服务对象")] = None,
    level: Annotated[Literal["county", "town", "village"] | None, Query(description="可办层级")] = None,
    type: Annotated[str | None, Query(description="事项类型，如 行政许可")] = None,
    instant: Annotated[bool | None, Query(description="是否即办件")] = None,
    online_depth: Annotated[int | None, Query(ge=1, le=4, description="网办深度")] = None,
    min_online_depth: Annotated[int | None, Query(ge=1, le=4, description="最低网办深度")] = None,
    q: Annotated[str | None, Query(max_length=100, description="名称、编码或关键词")] = None,
    include_retired: Annotated[bool, Query(description="包含已停用事项（需管理权限）")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ItemSummary]:
    """Items in service (current versions), filtered and paged."""
    if include_retired:
        if auth is None:
            raise NotAuthenticated()
        auth.require(Action.CATALOG_VIEW_ADMIN)
    filters = service.ItemFilters(department=department, category=category, audience=audience, level=level,
                                  type=type, instant=instant, online_depth=online_depth,
                                  min_online_depth=min_online_depth, text=q, include_retired=include_retired)
    rows, total = service.list_items(session, filters, limit=limit, offset=offset)
    return Page[ItemSummary](items=[service.item_summary(i, v) for i, v in rows], total=total, limit=limit,
                             offset=offset)


@router.get("/items/{code}", response_model=ItemDetail, summary="事项详情（办事指南）")
def get_item(code: str, session: DbSession,
             version: Annotated[int | None, Query(ge=1, description="历史版本号")] = None) -> ItemDetail:
    """One item with all its standard elements; a past version on request."""
    item, v = service.get_item_version(session, code, version)
    return service.item_detail(session, item, v)


@router.get("/items/{code}/versions", summary="事项版本历史")
def item_versions(code: str, session: DbSession) -> list[dict[str, object]]:
    """The versions of an item, newest first."""
    item = service.get_item_row(session, code)
    return [{"version": v.version, "created_at": v.created_at, "created_by": v.created_by,
             "change_note": v.change_note, "content_hash": v.content_hash}
            for v in service.item_versions(session, item)]


@router.post("/items", response_model=ItemDetail, status_code=201, summary="新建事项（管理员、首席代表）")
def create_item(body: ItemIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> ItemDetail:
    """Create a new item (its code must be new)."""
    dept = service.department_by_code(session, body.department) if body.department else None
    auth.require(Action.ITEM_EDIT, department_id=dept.id if dept else None)
    if session.scalar(select(Item.id).where(Item.code == body.code)) is not None:
        raise Conflict(f"事项编码已存在：{body.code}", code="duplicate_code", field="code")
    result = service.save_item(session, clock=clock, actor=auth.actor, data=body, change_note="新建")
    return service.item_detail(session, result.item, result.version)


@router.put("/items/{code}", response_model=ItemDetail, summary="修改事项（生成新版本）")
def update_item(code: str, body: ItemIn, auth: CurrentAuth, session: DbSession, clock: ClockDep,
                response: Response,
                if_version: Annotated[int | None, Query(ge=1, description="基于的版本号（乐观锁）")] = None,
                note: Annotated[str, Query(max_length=200, description="修改说明")] = "") -> ItemDetail:
    """Save a changed item as a new version; cases keep the version they were accepted under."""
    if body.code != code:
        raise ValidationFailed([Problem("code", "code_mismatch", "请求体中的编码与地址中的编码不一致")])
    _item, current = service.get_item_version(session, code)
    auth.require(Action.ITEM_EDIT, department_id=current.department_id)
    new_dept = service.department_by_code(session, body.department)
    auth.require(Action.ITEM_EDIT, department_id=new_dept.id)
    result = service.save_item(session, clock=clock, actor=auth.actor, data=body, change_note=note or "修改",
                               expected_version=if_version)
    response.headers["X-Item-Changed"] = "true" if result.changed else "false"
    return service.item_detail(session, result.item, result.version)


@router.post("/items/{code}/retire", response_model=ItemSummary, summary="停用事项（管理员）")
def retire_item(code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> ItemSummary:
    """Take an item out of service; its history stays."""
    auth.require(Action.ITEM_RETIRE)
    item = service.set_item_status(session, clock=clock, actor=auth.actor, code=code, status="retired")
    _, v = service.get_item_version(session, item.code)
    return service.item_summary(item, v)


@router.post("/items/{code}/restore", response_model=ItemSummary, summary="恢复事项（管理员）")
def restore_item(code: str, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> ItemSummary:
    """Put a retired item back in service."""
    auth.require(Action.ITEM_RETIRE)
    item = service.set_item_status(session, clock=clock, actor=auth.actor, code=code, status="active")
    _, v = service.get_item_version(session, item.code)
    return service.item_summary(item, v)


@router.get("/bundles", response_model=list[BundleOut], summary="一件事列表")
def list_bundles(session: DbSession) -> list[BundleOut]:
    """Active bundles with their items."""
    bundles = session.scalars(select(Bundle).where(Bundle.status == "active").order_by(Bundle.code)).all()
    versions = service.current_versions(session, [m.item_id for b in bundles for m in b.members])
    return [service.bundle_view(session, b, versions) for b in bundles]


@router.get("/bundles/{code}", response_model=BundleOut, summary="一件事详情")
def get_bundle(code: str, session: DbSession) -> BundleOut:
    """One bundle."""
    return service.bundle_view(session, service.bundle_by_code(session, code))


@router.put("/bundles/{code}", response_model=BundleOut, summary="新建或修改一件事（管理员）")
def put_bundle(code: str, body: BundleIn, auth: CurrentAuth, session: DbSession, clock: ClockDep) -> BundleOut:
    """Create or update a bundle."""
    auth.require(Action.BUNDLE_EDIT)
    if body.code != code:
        raise ValidationFailed([Problem("code", "code_mismatch", "请求体中的编码与地址中的编码不一致")])
    service.save_bundle(session, clock=clock, actor=auth.actor, data=body)
    return service.bundle_view(session, service.bundle_by_code(session, code))


@router.get("/departments", response_model=list[DepartmentOut], summary="部门列表")
def list_departments(session: DbSession) -> list[DepartmentOut]:
    """Departments with the number of items in service."""
    counts = dict(session.execute(
        select(ItemVersion.department_id, func.count()).join(Item, Item.current_version_id == ItemVersion.id)
        .where(Item.status == "active").group_by(ItemVersion.department_id)).all())
    return [DepartmentOut(code=d.code, name=d.name, short_name=d.short_name, item_count=counts.get(d.id, 0))
            for d in session.scalars(select(Department).order_by(Department.code))]


@router.get("/regions", response_model=list[RegionOut], summary="行政区划（县—镇—村）")
def list_regions(session: DbSession) -> list[RegionOut]:
    """The region tree."""
    regions = session.scalars(select(Region).order_by(Region.code)).all()
    nodes = {r.id: RegionOut(code=r.code, name=r.name, level=r.level) for r in regions}
    roots: list[RegionOut] = []
    for r in regions:
        if r.parent_id is not None and r.parent_id in nodes:
            nodes[r.parent_id].children.append(nodes[r.id])
        else:
            roots.append(nodes[r.id])
    return roots


@router.get("/halls", response_model=list[HallOut], summary="大厅（县中心、镇中心、村站）")
def list_halls(session: DbSession, settings: SettingsDep,
               level: Annotated[Literal["county", "town", "village"] | None, Query()] = None) -> list[HallOut]:
    """Service halls with their opening periods (the ones the kiosk and booking keep to)."""
    stmt = select(Hall).order_by(Hall.code)
    if level:
        stmt = stmt.where(Hall.level == level)
    default = settings.attendance_default_hours
    return [HallOut(code=h.code, name=h.name, level=h.level, region=h.region.code, region_name=h.region.name,
                    address=h.address, phone=h.phone, opening_hours=h.opening_hours,
                    opening_periods=[OpeningPeriodOut(start=s, end=e)
                                     for s, e in opening.periods(h.opening_hours, default=default)])
            for h in session.scalars(stmt)]
