"""Shared fixtures of the policy tests: the reference catalog, its register fields, a signed-in browser."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.policies.conditions import FieldDef, field_defs
from onewindow.policies.synthetic import reference_catalog

DEMO_PASSWORD = "Demo@2026"


@pytest.fixture(scope="session")
def catalog() -> dict[str, Any]:
    return reference_catalog()


@pytest.fixture(scope="session")
def fields_by_kind(catalog: dict[str, Any]) -> dict[str, dict[str, FieldDef]]:
    return {kind: field_defs(rows) for kind, rows in catalog["entity_fields"].items()}


@dataclass
class Browser:
    """A client signed in through the /login form, with its session's CSRF token."""

    client: TestClient
    csrf: str

    def post(self, url: str, data: dict[str, str] | None = None) -> httpx.Response:
        """Post a form as a browser does, with the token."""
        body = urlencode({**(data or {}), "csrf_token": self.csrf}).encode()
        return self.client.post(url, content=body, follow_redirects=False,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})


@pytest.fixture
def login(app: FastAPI, session: Session) -> Iterator[Callable[[str], Browser]]:
    """Sign a demo user in through the login form."""
    from onewindow.staff.models import User, WebSession

    clients: list[TestClient] = []

    def _login(username: str) -> Browser:
        c = TestClient(app, headers={"Accept": "text/html"})
        clients.append(c)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert token
        r = c.post("/login", data={"csrf_token": token[1], "username": username, "password": DEMO_PASSWORD,
                                   "next": "/admin"}, follow_redirects=False)
        assert r.status_code == 303, r.text
        web_session = session.scalars(select(WebSession).join(User).where(User.username == username)
                                      .order_by(WebSession.id.desc())).first()
        assert web_session is not None
        return Browser(c, web_session.csrf_token)

    yield _login
    for c in clients:
        c.close()
