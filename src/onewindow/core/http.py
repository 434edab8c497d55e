"""HTTP edge of the error model: every user mistake answers with field, stable code and Chinese reason."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from onewindow.core.errors import DomainError, Problem
from onewindow.core.personal import mask_payload
from onewindow.core.validation import pydantic_problems
from onewindow.db import ABORTED_SQLSTATES, sqlstate


class MaskedJSONResponse(JSONResponse):
    """The API's response class: every personal number in the payload leaves masked (``core.personal``)."""

    def render(self, content: Any) -> bytes:
        """JSON of ``content`` with ID and mobile numbers masked wherever they appear."""
        return super().render(mask_payload(content))


class ProblemOut(BaseModel):
    """One thing wrong: the field (empty for the request as a whole), a stable code, a Chinese reason."""

    field: str
    code: str
    message: str


class ErrorOut(BaseModel):
    """The body of every 4xx answer of the API."""

    errors: list[ProblemOut]


# The shared ``responses=`` of every API router: each operation documents its typed error answers.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "未登录或令牌无效"},
    403: {"model": ErrorOut, "description": "无权执行此操作"},
    404: {"model": ErrorOut, "description": "记录不存在"},
    409: {"model": ErrorOut, "description": "与当前状态冲突（如版本已变化）"},
    413: {"model": ErrorOut, "description": "请求内容过大"},
    422: {"model": ErrorOut, "description": "输入有误：字段与中文原因"},
    429: {"model": ErrorOut, "description": "请求过于频繁"},
}

# A value the database cannot hold (class 22: out of range, a character the encoding refuses) that slipped
# past the edge checks (core/edge.py): the user's mistake, not a server fault.
OUT_OF_RANGE = Problem("", "invalid_value", "输入的数值超出允许范围或包含无效字符")


def error_body(problems: list[Problem]) -> dict[str, Any]:
    """The JSON error envelope: ``{"errors": [{"field", "code", "message"}]}``."""
    return {"errors": [p.as_dict() for p in problems]}


def _wants_html(request: Request) -> bool:
    # Pages answer in HTML unless the client asks for JSON only; the API always answers JSON.
    accept = request.headers.get("accept", "")
    return not request.url.path.startswith(("/api/", "/healthz", "/openapi.json")) and not (
        "application/json" in accept and "text/html" not in accept)


# PostgreSQL: deadlock_detected, serialization_failure, lock_not_available; SQLite: a writer that waited too long
RETRYABLE_SQLSTATES = ABORTED_SQLSTATES | {"55P03"}
CONCURRENT = Problem("", "concurrent_update", "有其他人同时在处理此记录，本次操作未生效，请刷新后重试")


# PostgreSQL: connection exceptions (class 08), admin / crash shutdown and "cannot connect now" (a restart)
LOST_SQLSTATE_PREFIXES = ("08", "57P01", "57P02", "57P03")
UNAVAILABLE = Problem("", "database_unavailable", "数据库暂时不可用，本次操作未生效，请稍后重试")


def is_lost_connection(exc: DBAPIError) -> bool:
    """True when the database connection went away (a restart, a terminated backend): nothing was committed."""
    if exc.connection_invalidated:
        return True
    state = sqlstate(exc)
    return state is not None and state.startswith(LOST_SQLSTATE_PREFIXES)


def is_retryable(exc: DBAPIError) -> bool:
    """True for a database error that only means "someone else got there first": the client may retry."""
    if sqlstate(exc) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig).lower()


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that shape every error response."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if _wants_html(request):
            if exc.status == 401:
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            return _html_error(request, exc.status, exc.problems)
        return MaskedJSONResponse(error_body(exc.problems), status_code=exc.status)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        if is_lost_connection(exc):
            # the transaction died with its connection (nothing half-written); the pool reconnects (pre-ping)
            headers = {"Retry-After": "2"}
            if _wants_html(request):
                response = _html_error(request, 503, [UNAVAILABLE])
                response.headers.update(headers)
                return response
            return MaskedJSONResponse(error_body([UNAVAILABLE]), status_code=503, headers=headers)
        if isinstance(exc, DataError):
            if _wants_html(request):
                return _html_error(request, 422, [OUT_OF_RANGE])
            return MaskedJSONResponse(error_body([OUT_OF_RANGE]), status_code=422)
        if not is_retryable(exc):
            raise exc  # a real fault: the server error page and the log, not a message to the user
        if _wants_html(request):
            return _html_error(request, 409, [CONCURRENT])
        return MaskedJSONResponse(error_body([CONCURRENT]), status_code=409)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = pydantic_problems(exc.errors())
        if _wants_html(request):
            return _html_error(request, 422, problems)
        return MaskedJSONResponse(error_body(problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "页面或资源不存在", 405: "不支持的请求方法", 401: "请先登录", 403: "无权访问"}
        problem = Problem("", {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error"),
                          messages.get(exc.status_code, str(exc.detail)))
        if _wants_html(request):
            return _html_error(request, exc.status_code, [problem])
        return MaskedJSONResponse(error_body([problem]), status_code=exc.status_code, headers=exc.headers)


async def edge_rejection(scope: Any, problems: list[Problem], status: int) -> Response:
    """The answer of ``core.edge.EdgeGuard`` to hostile input: the JSON envelope, or the error page."""
    request = Request(scope)
    if _wants_html(request):
        return _html_error(request, status, problems)
    return MaskedJSONResponse(error_body(problems), status_code=status)


def _html_error(request: Request, status: int, problems: list[Problem]) -> Response:
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        text = "；".join(p.message for p in problems)
        return HTMLResponse(f"<h1>{status}</h1><p>{text}</p>", status_code=status)
    context = {"status": status, "problems": [(field_label(p.field), p.message) for p in problems],
               # the signed-in user (resolved before the error) keeps their name and menu on the error page
               "user": getattr(request.state, "signed_in", None), "viewer": getattr(request.state, "viewer", None)}
    response: Response = templates.TemplateResponse(request, "error.html", context, status_code=status)
    return response


# What a person reads for a field named in an error; internal names (token, code, page …) are never shown.
FIELD_LABELS: dict[str, str] = {
    "token": "号票", "code": "编码", "page": "页码", "offset": "页码", "limit": "每页条数", "q": "搜索内容",
    "number": "编号", "case_number": "办件编号", "id_last4": "证件号码后四位", "id_number": "身份证号码",
    "phone": "手机号码", "name": "名称", "status": "状态", "state": "状态", "date": "日期", "day": "日期",
    "hall": "大厅", "department": "部门", "category": "业务类别", "item_code": "事项", "bundle_code": "一件事",
    "username": "用户名", "password": "密码", "csrf_token": "页面校验", "check_code": "校验码",
    "certificate_number": "证照编号", "version": "版本", "reason": "理由", "basis": "依据", "days": "天数",
}


def field_label(field: str) -> str:
    """The Chinese name of a field for an error page ('' for one a person has no name for)."""
    head = field.split("[", 1)[0].split(".", 1)[0]
    return FIELD_LABELS.get(head, "编号" if head.endswith("_id") else "")
