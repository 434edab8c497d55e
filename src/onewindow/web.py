"""Page rendering: Jinja2 environment, full page vs HTMX fragment, CSRF token for forms."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.datastructures import FormData

from onewindow.core import access
from onewindow.core.access import ROLE_LABELS
from onewindow.core.clock import CHINA_TZ
from onewindow.core.errors import Problem
from onewindow.core.personal import Typed, shown
from onewindow.deps import CSRF_COOKIE, Auth

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

AUDIENCE_LABELS = {"person": "个人", "enterprise": "企业", "both": "个人和企业"}
LEVEL_LABELS = {"county": "县级", "town": "乡镇", "village": "村（社区）"}
UNIT_LABELS = {"working_day": "个工作日", "natural_day": "个自然日"}
DEPTH_LABELS = {1: "一级（信息公开）", 2: "二级（在线预审）", 3: "三级（网上受理）", 4: "四级（全程网办）"}


@pass_context
def _finalize(context: Context, value: Any) -> Any:
    # every {{ … }} of every template passes here: personal numbers leave masked unless the access policy
    # lets this page's viewer see them (onewindow.core.personal)
    return shown(value, context.get("viewer"))


def make_templates() -> Jinja2Templates:
    """The Jinja2 environment with the project's filters and globals."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.finalize = _finalize
    env.filters["typed"] = lambda v: Typed(v) if v else ""  # the viewer's own input, echoed into their form
    env.filters["public"] = lambda v: Typed(v) if v else ""  # a published office or window number
    env.globals.update(
        AUDIENCE_LABELS=AUDIENCE_LABELS, LEVEL_LABELS=LEVEL_LABELS, UNIT_LABELS=UNIT_LABELS,
        DEPTH_LABELS=DEPTH_LABELS, ROLE_LABELS={r.value: label for r, label in ROLE_LABELS.items()},
        menu=access.menu, menu_groups=access.menu_groups, can=access.can, Action=access.Action,
    )
    return templates


def csrf_token_for(request: Request, auth: Auth | None) -> str:
    """The token forms must echo: the session's, or a pre-login cookie token (set by ``render``)."""
    if auth is not None and auth.web_session is not None:
        return auth.web_session.csrf_token
    existing = request.cookies.get(CSRF_COOKIE)
    if existing:
        return existing
    token: str | None = getattr(request.state, "new_csrf", None)
    if token is None:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           auth: Auth | None = None, status_code: int = 200, fragment: str | None = None) -> HTMLResponse:
    """Render a full page, or only ``fragment`` when the request comes from HTMX."""
    templates: Jinja2Templates = request.app.state.templates
    name = fragment if fragment and request.headers.get("hx-request") == "true" else template
    ctx = {"auth": auth, "user": auth.user if auth else None, "viewer": auth.viewer if auth else None,
           "csrf_token": csrf_token_for(request, auth)}
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    new_csrf = getattr(request.state, "new_csrf", None)
    if new_csrf:
        settings = request.app.state.settings
        response.set_cookie(CSRF_COOKIE, new_csrf, httponly=True, samesite="lax", secure=settings.cookie_secure)
    return response


async def read_form(request: Request) -> FormData:
    """The posted form (Starlette parses it once and caches it; the CSRF check may have read it already)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


def form_text(form: FormData, key: str) -> str:
    """A form field as stripped text ('' when missing or a file)."""
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def fmt_time(at: dt.datetime) -> str:
    """A stored instant as China time, to the minute."""
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


@dataclass
class FieldErrors:
    """Problems grouped for the template: by form field, by material row, and the rest."""

    problems: list[Problem] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[int, dict[str, list[str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, problems: Iterable[Problem]) -> FieldErrors:
        """Group problems whose field is ``name``, ``levels[0]`` or ``materials[2].copies``."""
        out = cls()
        for p in problems:
            out.problems.append(p)
            row = re.match(r"^materials\[(\d+)\]\.(\w+)", p.field)
            if row:
                out.rows.setdefault(int(row[1]), {}).setdefault(row[2], []).append(p.message)
            else:
                out.fields.setdefault(p.field.split("[", 1)[0].split(".", 1)[0], []).append(p.message)
        return out

    def __bool__(self) -> bool:
        return bool(self.problems)
