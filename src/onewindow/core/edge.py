"""The edge every request passes: hostile input refused with a 422, security headers on every answer.

Two layers, so that no handler can forget them:

* ``EdgeGuard`` (ASGI middleware) reads the path, the query string and JSON / url-encoded bodies
  before any route runs: no NUL or other control character in any text (tab and line breaks are
  allowed in bodies), valid UTF-8, JSON nested at most ``MAX_JSON_DEPTH`` deep, integers in JSON
  within 64 bits, no NaN / Infinity, bodies no larger than ``MAX_BODY_BYTES``.
* ``guard_params`` (an app-wide dependency) knows the route: every integer path or query parameter
  must fit a 32-bit column (ids, offsets, pages), and text fields of multipart forms get the same
  control-character rule.

A database error of class 22 ("data exception": a value out of range, a character the encoding
cannot hold) that still slips through is answered 422 by ``core.http`` rather than 500.
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi import Request
from fastapi.routing import APIRoute

from onewindow.core.errors import Problem, ValidationFailed

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_JSON_DEPTH = 32
MAX_BODY_BYTES = 2 * 1024 * 1024  # JSON and url-encoded forms; uploads (multipart) have their own limits
MAX_TEXT_CHARS = 100_000  # one string inside a JSON body or a form

# C0 controls except tab, LF, CR; DEL; C1 controls. Line breaks are legitimate in bodies, never in a URL.
_CONTROL_IN_BODY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_IN_URL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

MSG_CONTROL = "包含不允许的控制字符（如空字符）"
MSG_UTF8 = "文本包含无效字符（须为有效的 UTF-8）"
MSG_DEPTH = f"嵌套层级过深（最多 {MAX_JSON_DEPTH} 层）"
MSG_TOO_LARGE = f"请求内容过大（最多 {MAX_BODY_BYTES // 1024 // 1024} MB）"
MSG_TEXT_TOO_LONG = f"文本过长（最多 {MAX_TEXT_CHARS} 个字符）"
MSG_INT64 = "数值超出允许范围"
MSG_INT32 = f"数值超出允许范围（{INT32_MIN} 至 {INT32_MAX}）"
MSG_NUMBER = "必须是有限的数字"
MSG_JSON = "JSON 格式错误"


def text_problem(field: str, value: str, *, in_url: bool = False) -> Problem | None:
    """The problem with one piece of text, or None: control characters, or too long."""
    pattern = _CONTROL_IN_URL if in_url else _CONTROL_IN_BODY
    if pattern.search(value):
        return Problem(field, "control_character", MSG_CONTROL)
    if len(value) > MAX_TEXT_CHARS:
        return Problem(field, "text_too_long", MSG_TEXT_TOO_LONG)
    return None


def pairs_problems(pairs: list[tuple[str, str]], *, in_url: bool) -> list[Problem]:
    """Problems in decoded name/value pairs (a query string or a url-encoded form)."""
    problems: list[Problem] = []
    for name, value in pairs:
        problem = text_problem(name, name, in_url=True) or text_problem(name, value, in_url=in_url)
        if problem:
            problems.append(problem)
    return problems


def decode_pairs(raw: bytes | str, field: str) -> tuple[list[tuple[str, str]], list[Problem]]:
    """``a=1&b=2`` decoded strictly as UTF-8; a problem instead when it is not."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"), []
    except UnicodeDecodeError:
        return [], [Problem(field, "string_unicode", MSG_UTF8)]


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def json_problems(document: Any) -> list[Problem]:
    """Problems in a parsed JSON document: depth, text, integer range, non-finite numbers (iterative)."""
    problems: list[Problem] = []
    stack: list[tuple[str, Any, int]] = [("", document, 1)]
    while stack and len(problems) < 20:
        path, value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                problems.append(Problem(path, "too_deep", MSG_DEPTH))
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in items:
                if isinstance(key, str):
                    problem = text_problem(_join(path, key), key)
                    if problem:
                        problems.append(problem)
                        continue
                stack.append((_join(path, key), child, depth + 1))
        elif isinstance(value, str):
            problem = text_problem(path, value)
            if problem:
                problems.append(problem)
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                problems.append(Problem(path, "out_of_range", MSG_INT64))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(Problem(path, "not_finite", MSG_NUMBER))
    return problems


def parse_json(body: bytes) -> tuple[Any, list[Problem]]:
    """The parsed body, or the problems that stop it: invalid JSON, absurd nesting, bad characters."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None, [Problem("", "string_unicode", MSG_UTF8)]
    # Bracket depth is bounded before parsing, so a 100 000-deep document never reaches the recursion limit.
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return None, [Problem("", "too_deep", MSG_DEPTH)]
        elif ch in "]}":
            depth -= 1
    try:
        return json.loads(text), []
    except (ValueError, RecursionError):  # also integers longer than Python converts
        return None, [Problem("", "json_invalid", MSG_JSON)]


def url_problems(scope: Scope) -> list[Problem]:
    """Problems in the request's path and query string."""
    problems: list[Problem] = []
    raw_path = scope.get("raw_path")
    if raw_path:
        try:
            unquote_to_bytes(raw_path.split(b"?", 1)[0]).decode("utf-8")
        except UnicodeDecodeError:
            problems.append(Problem("path", "string_unicode", MSG_UTF8))
    if not problems and _CONTROL_IN_URL.search(scope.get("path", "")):
        problems.append(Problem("path", "control_character", MSG_CONTROL))
    query: bytes = scope.get("query_string", b"")
    if query:
        decoded, bad = decode_pairs(query, "query")
        problems += bad or pairs_problems(decoded, in_url=True)
    return problems


class EdgeGuard:
    """ASGI middleware: refuses hostile URLs and bodies with a 422 before any route sees them."""

    def __init__(self, app: ASGIApp, *, reject: Callable[[Scope, list[Problem], int], Awaitable[Any]]) -> None:
        self.app = app
        self.reject = reject  # builds the error response (JSON or an HTML page) for the scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check, then pass the request on with its body replayed."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problems = url_problems(scope)
        if problems:
            await self._answer(scope, receive, send, problems, 422)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        ctype = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        kind = "json" if ctype == b"application/json" or ctype.endswith(b"+json") else (
            "form" if ctype == b"application/x-www-form-urlencoded" else "")
        if not kind or scope.get("method") in {"GET", "HEAD", "OPTIONS", "DELETE"}:
            await self.app(scope, receive, send)
            return
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            await self._answer(scope, receive, send, [Problem("", "body_too_large", MSG_TOO_LARGE)], 413)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                await self._answer(scope, receive, send, [Problem("", "body_too_large", MSG_TOO_LARGE)], 413)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if kind == "json":
            document, problems = parse_json(body) if body.strip() else (None, [])
            problems = problems or json_problems(document)
        else:
            pairs, problems = decode_pairs(body, "form")
            problems = problems or pairs_problems(pairs, in_url=False)
        if problems:
            await self._answer(scope, receive, send, problems, 422)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, problems: list[Problem], status: int) -> None:
        response = await self.reject(scope, problems, status)
        await response(scope, receive, send)


# ----- route-aware checks: integer ranges on path and query parameters ------------------------------


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_int(typing.get_args(annotation)[0])
    if origin in {typing.Union, types.UnionType}:
        return any(_is_int(a) for a in typing.get_args(annotation) if a is not type(None))
    if origin in {list, tuple, set, frozenset}:
        return any(_is_int(a) for a in typing.get_args(annotation))
    return False


_CACHE_ATTRIBUTE = "_onewindow_int_params"  # kept on the route itself: ids of routes of dropped apps get reused


def int_params(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """Names of the integer (path, query) parameters of a route and of all its dependencies (cached)."""
    cached: tuple[frozenset[str], frozenset[str]] | None = getattr(route, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    path: set[str] = set()
    query: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        for fields, names in ((dependant.path_params, path), (dependant.query_params, query)):
            for f in fields:
                if _is_int(f.field_info.annotation):
                    names.add(f.alias)
        stack.extend(dependant.dependencies)
    result = (frozenset(path), frozenset(query))
    setattr(route, _CACHE_ATTRIBUTE, result)
    return result


def _int_problem(name: str, raw: str) -> Problem | None:
    text = raw.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        return None  # not an integer at all: the route's own validation says so
    if len(text) > 20 or not INT32_MIN <= int(text) <= INT32_MAX:
        return Problem(name, "out_of_range", MSG_INT32)
    return None


async def guard_params(request: Request) -> None:
    """App-wide dependency: integer parameters within 32 bits; text fields of multipart forms checked."""
    problems: list[Problem] = []
    route = request.scope.get("route")
    if isinstance(route, APIRoute):
        path_ints, query_ints = int_params(route)
        for name in path_ints:
            raw = request.path_params.get(name)
            problem = _int_problem(name, str(raw)) if raw is not None else None
            if problem:
                problems.append(problem)
        for name in query_ints:
            for raw in request.query_params.getlist(name):
                problem = _int_problem(name, raw)
                if problem:
                    problems.append(problem)
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        form = await request.form()
        for name, value in form.multi_items():
            if isinstance(value, str):
                problem = text_problem(name, value)
                if problem:
                    problems.append(problem)
            elif value.filename:
                problem = text_problem(name, value.filename, in_url=True)
                if problem:
                    problems.append(problem)
    if problems:
        raise ValidationFailed(problems)


# ----- security headers on every answer ---------------------------------------------------------------

# Scripts and styles only from this server (htmx, app.js, Swagger UI are vendored under /static);
# style attributes stay allowed (a few templates and Swagger UI use them). No page may be framed:
# no page is meant to be shown inside another site (the hall display is opened full-screen).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
FRAMEABLE_PREFIXES: tuple[str, ...] = ()  # paths meant to be framed by this site's own pages ('self')
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)


def security_headers(path: str, existing: set[bytes]) -> list[tuple[bytes, bytes]]:
    """The headers added to an answer for ``path`` (those the handler set itself are kept)."""
    framed = path.startswith(FRAMEABLE_PREFIXES) if FRAMEABLE_PREFIXES else False
    csp = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'") if framed \
        else CONTENT_SECURITY_POLICY
    added = [*SECURITY_HEADERS, (b"content-security-policy", csp.encode()),
             (b"x-frame-options", b"SAMEORIGIN" if framed else b"DENY")]
    # Pages and API answers may carry personal data: never stored by a browser or a proxy. Static files may.
    if not path.startswith("/static/"):
        added.append((b"cache-control", b"no-store"))
    return [(k, v) for k, v in added if k not in existing]


class SecurityHeaders:
    """ASGI middleware: CSP, frame-ancestors, nosniff, Referrer-Policy and no-store on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                existing = {k.lower() for k, _ in headers}
                message["headers"] = headers + security_headers(path, existing)
            await send(message)

        await self.app(scope, receive, send_with_headers)
