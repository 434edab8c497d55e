"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text

from onewindow import db, jobs, wiring
from onewindow.analytics import views as analytics_views
from onewindow.analytics.reader import ServiceReader
from onewindow.appointments import api as appointments_api
from onewindow.appointments import views as appointments_views
from onewindow.calendar import admin_views as calendar_admin_views
from onewindow.cases import api as cases_api
from onewindow.cases import public_views as cases_public_views
from onewindow.cases import views as cases_views
from onewindow.catalog import admin_views as catalog_admin_views
from onewindow.catalog import api as catalog_api
from onewindow.catalog import views as catalog_views
from onewindow.certificates import api as certificates_api
from onewindow.certificates import views as certificates_views
from onewindow.complaints import api as complaints_api
from onewindow.complaints import supervisor_views as complaints_supervisor_views
from onewindow.complaints import views as complaints_views
from onewindow.config import Settings, get_settings
from onewindow.core import audit, edge, livebus
from onewindow.core.clock import Clock, SystemClock
from onewindow.core.http import ERROR_RESPONSES, MaskedJSONResponse, edge_rejection, install_error_handlers
from onewindow.core.ratelimit import FailureLimiter
from onewindow.guide import api as guide_api
from onewindow.guide import views as guide_views
from onewindow.guide.service import IndexCache
from onewindow.myarea import views as myarea_views
from onewindow.network import views as network_views
from onewindow.notifications import api as notifications_api
from onewindow.notifications import public_views as notifications_public_views
from onewindow.notifications import views as notifications_views
from onewindow.planning import views as planning_views
from onewindow.policies import api as policies_api
from onewindow.policies import views as policies_views
from onewindow.queue import api as queue_api
from onewindow.queue import service as queue_service
from onewindow.queue import views as queue_views
from onewindow.ratings import api as ratings_api
from onewindow.ratings import exchange_api as ratings_exchange_api
from onewindow.ratings import views as ratings_views
from onewindow.rectification import api as rectification_api
from onewindow.rectification import views as rectification_views
from onewindow.staff import account_views as staff_account_views
from onewindow.staff import api as staff_api
from onewindow.staff import performance_api as staff_performance_api
from onewindow.staff import performance_views as staff_performance_views
from onewindow.staff import views as staff_views
from onewindow.supervision import api as supervision_api
from onewindow.supervision import callback_api as supervision_callback_api
from onewindow.supervision import callback_views as supervision_callback_views
from onewindow.supervision import experiencer_api as supervision_experiencer_api
from onewindow.supervision import experiencer_views as supervision_experiencer_views
from onewindow.supervision import views as supervision_views
from onewindow.web import STATIC_DIR, make_templates


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               engine: Engine | None = None, migrate: bool = True) -> FastAPI:
    """Build the app on a database; the schema is upgraded first unless ``migrate`` is False."""
    settings = settings or get_settings()
    engine = engine or db.engine_for(settings)
    if migrate:
        db.upgrade(engine)
    app = FastAPI(
        title="OneWindow 一窗通办 API",
        version="0.1.0",
        description="县级政务服务中心一体化平台：事项库、办事指南、办件、排队叫号、好差评等。",
        openapi_url="/openapi.json",
        docs_url=None,  # served below from the vendored Swagger UI, not from a CDN
        redoc_url=None,
        dependencies=[Depends(edge.guard_params)],  # integer ranges and multipart text, on every route
        lifespan=_lifespan,  # live events across workers (PostgreSQL) and background jobs
        default_response_class=MaskedJSONResponse,  # personal numbers masked in every API answer
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = db.make_session_factory(engine)
    app.state.writer_slots = db.writer_slots(engine)  # SQLite writers wait on the loop beyond a few threads
    # tickets: one commit a batch; on PostgreSQL each batch locks the audit head first
    app.state.group_commit = db.GroupCommit(lambda: app.state.session_factory, opening=audit.locked_head)
    app.state.clock = clock or SystemClock()
    app.state.hall_state_cache = {}  # hall code -> (monotonic time, answer): queue.api.hall_state
    app.state.queue_cache = queue_service.QueueCache(settings.queue_cache_seconds)
    app.state.analytics_reader = ServiceReader(app.state.clock)  # the dashboards read the rollups through it
    app.state.templates = make_templates()
    app.state.guide_cache = IndexCache(semantic=settings.guide_semantic, threads=settings.guide_semantic_threads)
    app.state.lookup_limiter = FailureLimiter(limit=settings.public_lookup_failures, window=600)
    wiring.install(settings)
    install_error_handlers(app)
    app.add_middleware(edge.EdgeGuard, reject=edge_rejection)  # hostile input refused before any route
    app.add_middleware(edge.SecurityHeaders)  # outermost: also on the edge's own 422s
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/healthz", tags=["system"], summary="健康检查")
    def healthz() -> JSONResponse:
        """Liveness, database reachability and how live events travel (``process``; on PostgreSQL
        ``listening``, ``reconnecting`` or ``idle`` before the first live page)."""
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            revision = db.current_revision(engine)
        except Exception as exc:  # report, do not crash, when the database is down
            return JSONResponse({"status": "error", "database": exc.__class__.__name__}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "schema": revision,
                             "live_events": livebus.for_engine(engine).state()})

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        """Swagger UI from /static/vendor (scripts/vendor-assets.sh copies it from npm's swagger-ui-dist)."""
        return HTMLResponse(SWAGGER_PAGE)

    _include_routers(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves: its database's live-event bus (LISTEN/NOTIFY on PostgreSQL), then the jobs."""
    async with livebus.serving(app.state.engine), jobs.lifespan(app):
        yield


SWAGGER_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>OneWindow 一窗通办 API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script></body></html>
"""


def _include_routers(app: FastAPI) -> None:
    # The queue API first: the busiest routes (kiosks, hall displays, ticket status pages), matched before the
    # framework tries the hundreds of others; all its paths begin /api/v1/queue/, which no other router serves.
    app.include_router(queue_api.router, prefix="/api/v1", responses=ERROR_RESPONSES)
    # then: fixed paths
    for module_n in (notifications_api, notifications_views, notifications_public_views, ratings_exchange_api):
        app.include_router(module_n.router, responses=ERROR_RESPONSES)
    # /complaints/figures, /complaints/import …: fixed paths before any /complaints/{id}
    app.include_router(complaints_supervisor_views.router)
    app.include_router(complaints_supervisor_views.api_router, prefix="/api/v1", responses=ERROR_RESPONSES)
    for module in (staff_api, catalog_api, guide_api, policies_api, appointments_api, certificates_api,
                   cases_api, rectification_api, ratings_api, staff_performance_api, supervision_api,
                   complaints_api):
        app.include_router(module.router, prefix="/api/v1", responses=ERROR_RESPONSES)
    for module_v in (staff_views, staff_account_views, catalog_views, catalog_admin_views, calendar_admin_views,
                     policies_views, certificates_views, guide_views):
        app.include_router(module_v.router)
    app.include_router(queue_views.router)
    app.include_router(appointments_views.router)  # /book, /bookings/{token}
    app.include_router(cases_views.router)
    app.include_router(cases_public_views.router)
    app.include_router(myarea_views.router)  # /my, /my/grants/{id}/confirm|decline
    app.include_router(rectification_views.router)
    app.include_router(ratings_views.router)
    app.include_router(staff_performance_views.router)
    app.include_router(planning_views.router)
    app.include_router(network_views.router)
    app.include_router(analytics_views.router)
    for module_s in (supervision_callback_api, supervision_experiencer_api):  # 回访 and 体验员
        app.include_router(module_s.router, prefix="/api/v1", responses=ERROR_RESPONSES)
    for module_sv in (supervision_callback_views, supervision_experiencer_views):
        app.include_router(module_sv.router)
    app.include_router(supervision_views.router)
    app.include_router(complaints_views.router)


def app_factory() -> Any:
    """Uvicorn factory entry (``uvicorn onewindow.main:app_factory --factory``)."""
    return settled(create_app())


def settled(app: FastAPI) -> FastAPI:
    """The app, with what it built (routes, mappers, templates: half a million objects that live as long as the
    serving process) taken out of the garbage collector's care (``gc.freeze``). Otherwise every full collection
    walks them all again: a pause of about 150 ms in the middle of requests. For a serving process only (a test
    session builds many apps and must be able to free them)."""
    gc.collect()
    gc.freeze()
    return app
