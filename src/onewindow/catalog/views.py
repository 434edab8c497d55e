"""Public catalog pages: home with search and browsing, item guides, bundles, departments, the notice PDF.

Handlers parse, call the catalog service, and render; the wording of limits and materials comes
from :mod:`onewindow.catalog.documents` so the pages and the PDF agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from onewindow.appointments import service as appointments_service
from onewindow.catalog import documents, indicators, procedure, service
from onewindow.catalog.documents import BundleMaterial, Limits, MaterialRow
from onewindow.catalog.models import Bundle, Department, Item, ItemVersion
from onewindow.catalog.rules import produced_in_bundle
from onewindow.catalog.schemas import BundleOut, ItemDetail
from onewindow.core.clock import CHINA_TZ, Clock
from onewindow.core.errors import NotFound
from onewindow.deps import Auth, ClockDep, DbSession, OptionalAuth, SettingsDep
from onewindow.guide import service as guide_service
from onewindow.queue import service as queue_service
from onewindow.web import AUDIENCE_LABELS, LEVEL_LABELS, render

router = APIRouter(include_in_schema=False)

GUIDE_LIMIT = 30
PAGE_SIZE = 20
MAX_QUERY = 100
AUDIENCES = ("person", "enterprise")
LEVELS = ("county", "town", "village")


# ----- view models ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemCard:
    """An item in a result list."""

    code: str
    name: str
    department_name: str
    limits: Limits
    visits: str
    online_depth: int
    audience: str


def _card(item: Item, v: ItemVersion) -> ItemCard:
    s = service.item_summary(item, v)
    return ItemCard(code=s.code, name=s.name, department_name=s.department_name, limits=documents.limits_of(s),
                    visits=documents.visits_badge(s.max_visits), online_depth=s.online_depth,
                    audience=documents.audience_text(s.audience))


@dataclass(frozen=True)
class GuideBundle:
    """A 一件事 that 智能导办 ranked for the question, with the words that matched."""

    code: str
    name: str
    summary: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SearchResult:
    """One page of matching items and how to reach the neighbouring pages."""

    q: str
    audience: str | None
    level: str | None
    cards: list[ItemCard]
    total: int
    page: int
    pages: int
    bundles: list[GuideBundle] = field(default_factory=list)
    did_you_mean: list[str] = field(default_factory=list)
    answer_code: str | None = None  # 智能导办's first answer, for "did this answer help?"

    @property
    def active(self) -> bool:
        """True when the visitor asked for something (a query or a filter)."""
        return bool(self.q or self.audience or self.level)

    def url(self, page: int) -> str:
        """The home URL of another page of the same search."""
        params = {k: v for k, v in (("q", self.q), ("audience", self.audience), ("level", self.level)) if v}
        if page > 1:
            params["page"] = str(page)
        return "/?" + urlencode(params) if params else "/"


def search_items(session: Session, *, q: str, audience: str | None, level: str | None, page: int,
                 guide_cache: guide_service.IndexCache | None = None, clock: Clock | None = None) -> SearchResult:
    """The home page search: a question goes to 智能导办 (ranked items and bundles); filters alone list items."""
    if q and guide_cache is not None and clock is not None:
        return _guide_search(session, q=q, audience=audience, level=level, page=page, cache=guide_cache, clock=clock)
    filters = service.ItemFilters(text=q or None, audience=audience, level=level)
    rows, total = service.list_items(session, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return SearchResult(q=q, audience=audience, level=level, cards=[_card(i, v) for i, v in rows], total=total,
                        page=page, pages=pages)


def _guide_search(session: Session, *, q: str, audience: str | None, level: str | None, page: int,
                  cache: guide_service.IndexCache, clock: Clock) -> SearchResult:
    answer = guide_service.search(session, cache=cache, clock=clock, query=q, limit=GUIDE_LIMIT)
    hits = list(answer.hits) if answer.good else []  # a poor answer shows “did you mean” instead
    codes = [h.code for h in hits if h.kind == "item"]
    rows = service.items_by_codes(session, codes)
    # Codes and exact name fragments that the question-answering search does not rank still count.
    seen = set(codes)
    plain, _ = service.list_items(session, service.ItemFilters(text=q), limit=GUIDE_LIMIT)
    rows += [(i, v) for i, v in plain if i.code not in seen]
    matching = [(i, v) for i, v in rows
                if (audience is None or v.audience in (audience, "both")) and (level is None or level in v.levels)]
    total = len(matching)
    start = (page - 1) * PAGE_SIZE
    bundles = [GuideBundle(h.code, h.name, h.summary, h.reasons) for h in hits if h.kind == "bundle"]
    return SearchResult(q=q, audience=audience, level=level,
                        cards=[_card(i, v) for i, v in matching[start:start + PAGE_SIZE]], total=total, page=page,
                        pages=max(1, -(-total // PAGE_SIZE)), bundles=bundles if page == 1 else [],
                        did_you_mean=list(answer.did_you_mean), answer_code=hits[0].code if hits else None)


@dataclass(frozen=True)
class Facet:
    """A browse link with its item count."""

    label: str
    url: str
    count: int
    hint: str = ""


def _facet_count(session: Session, filters: service.ItemFilters) -> int:
    return service.list_items(session, filters, limit=0)[1]


def browse_facets(session: Session) -> dict[str, list[Facet]]:
    """Departments, life events, audiences and levels with counts, for the home page."""
    # busiest departments first: that is where most visitors are headed
    departments = sorted((Facet(d.name, f"/departments/{d.code}", n, d.short_name)
                          for d, n in service.list_departments(session) if n), key=lambda f: -f.count)
    bundles = [Facet(b.name, f"/bundles/{b.code}", len(b.members), b.lead_department.short_name)
               for b in service.list_bundles(session) if b.status == "active"]
    audiences = [Facet(AUDIENCE_LABELS[a] + "办事", "/?" + urlencode({"audience": a}),
                       _facet_count(session, service.ItemFilters(audience=a))) for a in AUDIENCES]
    levels = [Facet(LEVEL_LABELS[lvl] + "可办", "/?" + urlencode({"level": lvl}),
                    _facet_count(session, service.ItemFilters(level=lvl))) for lvl in LEVELS]
    return {"departments": departments, "bundles": bundles, "audiences": audiences, "levels": levels}


@dataclass(frozen=True)
class ItemPage:
    """Everything the guide page of an item shows."""

    item: ItemDetail
    limits: Limits
    visits: str
    depth: str
    audience: str
    levels: str
    hall_category: str
    materials: list[MaterialRow]
    bundles: list[tuple[str, str]]
    deferral_text: str = ""  # the 容缺 sentence of the item's procedure (catalog.procedure.deferral_wording)

    @property
    def updated_date(self) -> dt.date:
        """The day this version was published, in China time."""
        return self.item.updated_at.astimezone(CHINA_TZ).date()

    @property
    def any_exempt(self) -> bool:
        """Some material is 免提交."""
        return any(m.exempt for m in self.materials)

    @property
    def any_deferrable(self) -> bool:
        """Some material is 可容缺."""
        return any(m.deferrable for m in self.materials)


def item_page(session: Session, code: str, *, deferral_working_days: int | None = None) -> tuple[ItemPage, ItemVersion]:
    """The guide of an item in service (404 for unknown or retired items); 容缺 days from the setting."""
    item, v = service.get_item_version(session, code)
    if item.status != "active":
        raise NotFound("事项", code, "code")
    bundles_by_item = service.bundles_of_items(session, [item.id])
    detail = service.item_details(session, [(item, v)], bundles_by_item=bundles_by_item)[0]
    bundles = [(b.code, b.name) for b in bundles_by_item[item.id]]
    page = ItemPage(item=detail, limits=documents.limits_of(detail), visits=documents.visits_text(detail.max_visits),
                    depth=documents.depth_text(detail.online_depth), audience=documents.audience_text(detail.audience),
                    levels=documents.levels_text(detail.levels),
                    hall_category=f"{v.hall_category.code} {v.hall_category.name}",
                    materials=documents.material_rows(detail.materials), bundles=bundles,
                    deferral_text=procedure.deferral_wording(
                        service.procedure_for(session, v.id, deferral_working_days=deferral_working_days)))
    return page, v


@dataclass(frozen=True)
class BundleMember:
    """A member item of a bundle."""

    code: str
    name: str
    department_name: str
    limits: Limits


@dataclass(frozen=True)
class BundlePage:
    """Everything the bundle page shows."""

    bundle: BundleOut
    members: list[BundleMember]
    materials: list[BundleMaterial]
    raw_material_count: int
    passed_on: list[tuple[str, str]] = field(default_factory=list)  # (certificate, issuing item): never asked

    @property
    def any_exempt(self) -> bool:
        """Some merged material is 免提交."""
        return any(m.exempt for m in self.materials)

    @property
    def any_deferrable(self) -> bool:
        """Some merged material is 可容缺."""
        return any(m.deferrable for m in self.materials)


def bundle_page(session: Session, code: str) -> BundlePage:
    """A bundle with its members and one deduplicated material list (404 unless active)."""
    bundle: Bundle = service.bundle_by_code(session, code)
    if bundle.status != "active":
        raise NotFound("一件事", code, "code")
    versions = service.current_versions(session, [m.item_id for m in bundle.members])
    out = service.bundle_view(session, bundle, versions)
    details = service.item_details(session, [(m.item, versions[m.item_id]) for m in bundle.members
                                             if m.item_id in versions])
    members = [BundleMember(d.code, d.name, d.department_name, documents.limits_of(d)) for d in details]
    produced = produced_in_bundle((d.result_certificate_type, d.name) for d in details)
    names = {d.result_certificate_type: d.result_certificate_type_name or d.result_certificate_type for d in details
             if d.result_certificate_type}
    return BundlePage(bundle=out, members=members, materials=documents.merge_materials(details),
                      raw_material_count=sum(len(d.materials) for d in details),
                      passed_on=[(names[k], issuer) for k, issuer in produced.items()])


@dataclass(frozen=True)
class GuideAction:
    """A way from a guide page to doing it: apply online, book, take a ticket at a hall."""

    label: str
    href: str
    style: str = ""


def guide_actions(session: Session, version: ItemVersion, *, in_hall: bool = True) -> list[GuideAction]:
    """What the item allows, and nothing it does not: 在线申报 from 三级 up, 预约 and 取号 where a hall serves it."""
    code = version.item.code
    actions: list[GuideAction] = []
    if version.online_depth >= indicators.ONLINE_DEPTH:
        actions.append(GuideAction("在线申报", f"/apply/{quote(code)}", "primary"))
    if not in_hall:  # 进驻负面清单: the hall does not take it
        return actions
    category, levels = version.hall_category.code, version.levels
    if appointments_service.bookable_halls(session, category=category, levels=levels):
        actions.append(GuideAction("预约办理", "/book?" + urlencode({"item": code}), "primary"))
    for hall in queue_service.halls_serving(session, category):
        if hall.level in levels:
            actions.append(GuideAction(f"{hall.name}取号", f"/halls/{quote(hall.code)}/kiosk?"
                                       + urlencode({"q": version.name})))
    return actions


# ----- pages ---------------------------------------------------------------------------------


def _not_found(request: Request, auth: Auth | None, exc: NotFound) -> Response:
    # Pages answer in HTML whatever the Accept header says (curl, link checkers, HTMX).
    # The field name (``code``) means nothing to a visitor: show the message alone.
    problems = [("", p.message) for p in exc.problems]
    return render(request, "error.html", {"status": 404, "problems": problems}, auth=auth, status_code=404)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession, auth: OptionalAuth,
         q: Annotated[str, Query()] = "", audience: Annotated[str, Query()] = "",
         level: Annotated[str, Query()] = "", page: Annotated[int, Query(ge=1, le=1000)] = 1) -> Response:
    """Home: search box, live results, and browsing by department, life event, audience and level."""
    result = search_items(session, q=q.strip()[:MAX_QUERY], audience=audience if audience in AUDIENCES else None,
                          level=level if level in LEVELS else None, page=page,
                          guide_cache=request.app.state.guide_cache, clock=request.app.state.clock)
    ctx: dict[str, object] = {"result": result, "AUDIENCES": AUDIENCES, "LEVELS": LEVELS}
    if request.headers.get("hx-request") != "true":
        ctx["facets"] = browse_facets(session)
    response = render(request, "catalog/home.html", ctx, auth=auth, fragment="catalog/_results.html")
    response.headers["Vary"] = "HX-Request"  # same URL, two bodies: caches must keep them apart
    return response


@router.get("/items/{code}", response_class=HTMLResponse)
def item_guide(code: str, request: Request, session: DbSession, auth: OptionalAuth,
               settings: SettingsDep) -> Response:
    """The guide (办事指南) of one item."""
    try:
        page, version = item_page(session, code, deferral_working_days=settings.case_deferral_working_days)
    except NotFound as exc:
        return _not_found(request, auth, exc)
    actions = guide_actions(session, version, in_hall=not page.item.negative_list_reason)
    return render(request, "catalog/item.html", {"page": page, "item": page.item, "actions": actions}, auth=auth)


@router.get("/items/{code}/notice.pdf")
def item_notice(code: str, request: Request, session: DbSession, auth: OptionalAuth, clock: ClockDep,
                settings: SettingsDep) -> Response:
    """The 一次性告知书 of one item as a PDF."""
    try:
        page, _ = item_page(session, code, deferral_working_days=settings.case_deferral_working_days)
    except NotFound as exc:
        return _not_found(request, auth, exc)
    guide_url = f"{settings.base_url.rstrip('/')}/items/{quote(page.item.code)}"
    pdf = documents.notice_pdf(page.item, guide_url=guide_url, hall_category=page.hall_category,
                               created_at=clock.now(), font_paths=settings.cjk_font_paths,
                               deferral_text=page.deferral_text)
    ascii_name = f"notice-{page.item.code}.pdf"
    utf8_name = quote(f"一次性告知书-{page.item.name}-{page.item.code}.pdf")
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{utf8_name}",
        "Cache-Control": "no-cache",
    })


@router.get("/bundles/{code}", response_class=HTMLResponse)
def bundle_detail(code: str, request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """A 一件事 page: members and the merged material list."""
    try:
        page = bundle_page(session, code)
    except NotFound as exc:
        return _not_found(request, auth, exc)
    actions = [GuideAction("在线申报", f"/apply/bundle/{quote(page.bundle.code)}", "primary")]
    for member in page.members:  # one window takes the whole bundle: book it under its first bookable member
        _item, version = service.get_item_version(session, member.code)
        if appointments_service.bookable_halls(session, category=version.hall_category.code, levels=version.levels):
            actions.append(GuideAction("预约办理", "/book?" + urlencode({"item": member.code})))
            break
    return render(request, "catalog/bundle.html", {"page": page, "bundle": page.bundle, "actions": actions},
                  auth=auth)


@router.get("/departments/{code}", response_class=HTMLResponse)
def department_detail(code: str, request: Request, session: DbSession, auth: OptionalAuth) -> Response:
    """A department's items in service and the bundles it leads."""
    try:
        dept: Department = service.department_by_code(session, code)
    except NotFound as exc:
        return _not_found(request, auth, exc)
    rows, total = service.list_items(session, service.ItemFilters(department=code), limit=500)
    led = [b for b in service.list_bundles(session) if b.status == "active" and b.lead_department_id == dept.id]
    return render(request, "catalog/department.html",
                  {"dept": dept, "cards": [_card(i, v) for i, v in rows], "total": total, "bundles": led},
                  auth=auth)
