"""Sign-in by password (argon2), bearer tokens for the API, cookie sessions with CSRF for pages."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import DEMO_PASSWORD

from onewindow.staff.models import User

PASSWORD = DEMO_PASSWORD


def _login_form_token(client: TestClient) -> str:
    r = client.get("/login")
    assert r.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert match
    return match.group(1)


def test_passwords_are_stored_as_argon2_hashes(session: Session) -> None:
    user = session.scalar(select(User).where(User.username == "admin"))
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_token_with_wrong_password_is_401_in_chinese(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", json={"username": "admin", "password": "wrong-password"})
    assert r.status_code == 401
    assert r.json()["errors"][0]["message"] == "用户名或密码错误"
    r = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "wrong-password"})
    assert r.json()["errors"][0]["message"] == "用户名或密码错误"


def test_bearer_token_identifies_user_and_masks_phone(client: TestClient,
                                                      token_for: Callable[[str], dict[str, str]]) -> None:
    r = client.get("/api/v1/me", headers=token_for("clerk"))
    assert r.status_code == 200
    assert r.json()["username"] == "clerk"
    assert r.json()["phone"] == "138****1234"


def test_invalid_bearer_token_is_401(client: TestClient) -> None:
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer ow_not-a-token"})
    assert r.status_code == 401


def test_login_form_sets_session_cookie(client: TestClient) -> None:
    token = _login_form_token(client)
    r = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token,
                                    "next": "/api/v1/me"}, follow_redirects=False)
    assert r.status_code == 303
    assert "ow_session" in r.cookies or "ow_session" in client.cookies
    me = client.get("/api/v1/me")
    assert me.json()["username"] == "admin"


def test_login_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert "ow_session" not in client.cookies


def test_cookie_session_write_needs_csrf_header(client: TestClient) -> None:
    token = _login_form_token(client)
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token},
                follow_redirects=False)
    code = "410724-SCJG-XK-001"
    r = client.post(f"/api/v1/items/{code}/retire")
    assert r.status_code == 403
    assert r.json()["errors"][0]["code"] == "csrf_failed"
    assert client.get(f"/api/v1/items/{code}").json()["status"] == "active"


def test_wrong_password_on_login_page_shows_message(client: TestClient) -> None:
    token = _login_form_token(client)
    r = client.post("/login", data={"username": "admin", "password": "nope-nope", "csrf_token": token})
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/", "/\tx"])
def test_open_redirect_after_login_is_refused(client: TestClient, target: str) -> None:
    token = _login_form_token(client)
    r = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token,
                                    "next": target}, follow_redirects=False)
    assert r.headers["location"] == "/admin"


@pytest.mark.parametrize(("username", "landing"), [("approver_wjw", "/cases/inbox"), ("clerk", "/cases/intake"),
                                                   ("zhangwei", "/my"), ("experiencer", "/experience")])
def test_each_role_lands_on_its_own_page(client: TestClient, username: str, landing: str) -> None:
    token = _login_form_token(client)
    r = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == landing


def test_logout_ends_the_session(client: TestClient) -> None:
    token = _login_form_token(client)
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token},
                follow_redirects=False)
    page = client.get("/login?next=/api/v1/me", follow_redirects=False)
    assert page.status_code == 303  # already signed in
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    csrf = client.get("/api/v1/me")  # session still valid
    assert csrf.status_code == 200
    # read the session's CSRF token from a page that renders it
    html = client.get("/").text
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    r = client.post("/logout", data={"csrf_token": match.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("password", ["short", ""])
def test_create_user_rejects_short_password(client: TestClient, token_for: Callable[[str], dict[str, str]],
                                            password: str) -> None:
    r = client.post("/api/v1/staff", headers=token_for("admin"),
                    json={"username": "newclerk", "password": password, "display_name": "新人", "role": "clerk",
                          "department": "SCJG"})
    assert r.status_code == 422
    assert any(e["field"] == "password" for e in r.json()["errors"])
