"""Accounts hardening: sign-in throttling and lockout (per account and per address, in the database, audited),
the password policy, changing and resetting passwords, deactivating accounts, listing and revoking API tokens,
idle expiry of web sessions, and the audit of every read of whole personal data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.conftest import DEMO_PASSWORD, Browser
from tests.factories import approver_for, make_case, staff

from onewindow.core import security
from onewindow.core.audit import AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.staff.models import ApiToken, LoginThrottle, WebSession

NEW_PASSWORD = "Window#Hall2027"
TOKEN = "/api/v1/auth/token"


@pytest.fixture
def tight(app: FastAPI) -> FastAPI:
    """Small limits so that a few failures (each an argon2 verification) reach them."""
    app.state.settings = app.state.settings.model_copy(update={
        "login_account_failures": 3, "login_address_failures": 5, "login_window_minutes": 15,
        "login_lockout_minutes": 15})
    return app


def _audit_count(session: Session, action: str, entity_id: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    return session.scalar(query) or 0


def _token(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> int:
    return client.post(TOKEN, json={"username": username, "password": password}).status_code


# ----- throttling and lockout ---------------------------------------------------------------------------------


def test_an_account_locks_after_repeated_failures_and_unlocks_after_the_lockout(
        tight: FastAPI, client: TestClient, session: Session, clock: FixedClock) -> None:
    assert [_token(client, "clerk", "Wrong#pass1") for _ in range(3)] == [401, 401, 401]
    r = client.post(TOKEN, json={"username": "clerk", "password": DEMO_PASSWORD})
    assert r.status_code == 429
    assert "登录失败次数过多" in r.json()["errors"][0]["message"]
    assert r.json()["errors"][0]["code"] == "login_locked"
    assert _audit_count(session, "staff.login_failed", "clerk") == 3
    assert _audit_count(session, "staff.login_locked", "user:clerk") == 1
    assert _audit_count(session, "staff.login_refused", "clerk") == 1
    # another account from the same address is not locked (2 more failures would lock the address)
    assert _token(client, "supervisor") == 200
    clock.advance(dt.timedelta(minutes=15))
    assert _token(client, "clerk") == 200
    # a success clears the account's count
    assert session.scalar(select(LoginThrottle).where(LoginThrottle.key == "user:clerk")) is None


def test_failures_outside_the_window_do_not_add_up(tight: FastAPI, client: TestClient, clock: FixedClock) -> None:
    assert [_token(client, "agent", "Wrong#pass1") for _ in range(2)] == [401, 401]
    clock.advance(dt.timedelta(minutes=16))
    assert [_token(client, "agent", "Wrong#pass1") for _ in range(2)] == [401, 401]
    assert _token(client, "agent") == 200


def test_an_address_that_guesses_many_accounts_is_locked(tight: FastAPI, client: TestClient,
                                                         session: Session) -> None:
    # unknown and known names alike: the same message, the address counted each time
    codes = [_token(client, name, "Wrong#pass1") for name in ("nobody1", "nobody2", "clerk", "admin", "nobody3")]
    assert codes == [401] * 5
    assert _token(client, "supervisor") == 429  # right password, but from the locked address
    assert _audit_count(session, "staff.login_locked", "addr:testclient") == 1


def test_the_login_page_shows_the_lockout_in_chinese(tight: FastAPI, app: FastAPI) -> None:
    import re
    with TestClient(app, headers={"Accept": "text/html"}) as c:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert csrf
        for _ in range(3):
            assert c.post("/login", data={"csrf_token": csrf[1], "username": "head_wjw",
                                          "password": "Wrong#pass1"}).status_code == 401
        r = c.post("/login", data={"csrf_token": csrf[1], "username": "head_wjw", "password": DEMO_PASSWORD})
        assert r.status_code == 429
        assert "登录失败次数过多，已暂时锁定" in r.text


def test_an_admin_reset_lifts_the_lockout(tight: FastAPI, client: TestClient,
                                          token_for: Callable[[str], dict[str, str]]) -> None:
    admin = token_for("admin")
    for _ in range(3):
        _token(client, "approver_gaj", "Wrong#pass1")
    assert _token(client, "approver_gaj") == 429
    r = client.post("/api/v1/staff/approver_gaj/password", json={"password": NEW_PASSWORD}, headers=admin)
    assert r.status_code == 200, r.text
    assert _token(client, "approver_gaj", NEW_PASSWORD) == 200


# ----- password policy -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("password", "reason"), [
    ("Ab#1", "至少8位"),
    ("alllowercase", "至少三类"),
    ("ALLUPPER123", "至少三类"),
    ("Clerk#2026x", "不能包含用户名"),
    ("P@ssw0rd", "过于常见"),
    ("x" * 129 + "A1#", "最多128位"),
])
def test_the_password_policy_says_why(password: str, reason: str) -> None:
    reasons = security.password_problems(password, username="clerk")
    assert any(reason in r for r in reasons), reasons


def test_good_passwords_pass_the_policy() -> None:
    assert security.password_problems(NEW_PASSWORD, username="clerk") == []
    assert security.password_problems(DEMO_PASSWORD, username="admin") == []


def test_creating_an_account_applies_the_policy(client: TestClient,
                                                token_for: Callable[[str], dict[str, str]]) -> None:
    r = client.post("/api/v1/staff", headers=token_for("admin"), json={
        "username": "newclerk", "password": "newclerk123", "display_name": "新人", "role": "clerk",
        "department": "ZWFW"})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"password"}
    assert any("用户名" in e["message"] for e in r.json()["errors"])


# ----- own password --------------------------------------------------------------------------------------------


def test_changing_my_password(client: TestClient, token_for: Callable[[str], dict[str, str]],
                              session: Session) -> None:
    me = token_for("approver_wjw")
    url = "/api/v1/me/password"
    r = client.post(url, json={"current_password": "Wrong#pass1", "new_password": NEW_PASSWORD}, headers=me)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "current_password"
    r = client.post(url, json={"current_password": DEMO_PASSWORD, "new_password": "short"}, headers=me)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"new_password"}
    r = client.post(url, json={"current_password": DEMO_PASSWORD, "new_password": DEMO_PASSWORD}, headers=me)
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "same_password"
    assert client.post(url, json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
                       headers=me).status_code == 204
    assert _token(client, "approver_wjw") == 401
    assert _token(client, "approver_wjw", NEW_PASSWORD) == 200
    assert _audit_count(session, "staff.password_changed") == 1
    assert client.post(url, json={"current_password": "x", "new_password": "y"}).status_code == 401


def test_changing_my_password_on_the_account_page_ends_my_other_sessions(
        login: Callable[[str], Browser], session: Session) -> None:
    other = login("head_gaj")
    me = login("head_gaj")
    page = me.client.get("/account")
    assert page.status_code == 200
    assert "修改密码" in page.text
    r = me.post("/account/password", {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
                                      "new_password_again": "Different#2027"})
    assert r.status_code == 422
    assert "两次输入的新密码不一致" in r.text
    r = me.post("/account/password", {"current_password": DEMO_PASSWORD, "new_password": "weak",
                                      "new_password_again": "weak"})
    assert r.status_code == 422
    assert "密码至少8位" in r.text
    r = me.post("/account/password", {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
                                      "new_password_again": NEW_PASSWORD})
    assert r.status_code == 303
    assert me.client.get("/account").status_code == 200
    assert other.client.get("/account", follow_redirects=False).status_code == 303  # to /login
    user = staff(session, "head_gaj")
    assert session.scalar(select(func.count()).select_from(WebSession).where(WebSession.user_id == user.id)) == 1


def test_the_account_page_needs_its_csrf_token(login: Callable[[str], Browser]) -> None:
    me = login("clerk")
    r = me.post("/account/password", {"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD,
                                      "new_password_again": NEW_PASSWORD}, csrf=False)
    assert r.status_code == 403


# ----- deactivation and admin reset ------------------------------------------------------------------------------


def test_deactivating_stops_sessions_and_tokens_at_once(client: TestClient, login: Callable[[str], Browser],
                                                        token_for: Callable[[str], dict[str, str]],
                                                        session: Session) -> None:
    admin = token_for("admin")
    victim_token = token_for("clerk_town")
    browser = login("clerk_town")
    assert client.get("/api/v1/me", headers=victim_token).status_code == 200
    r = client.post("/api/v1/staff/clerk_town/deactivate", headers=admin)
    assert r.status_code == 200
    assert r.json()["is_active"] is False
    assert client.get("/api/v1/me", headers=victim_token).status_code == 401
    assert browser.client.get("/account", follow_redirects=False).status_code == 303
    assert _token(client, "clerk_town") == 401
    user = staff(session, "clerk_town")
    assert session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))) == 0
    assert client.post("/api/v1/staff/clerk_town/deactivate", headers=admin).status_code == 409
    assert client.post("/api/v1/staff/clerk_town/reactivate", headers=admin).status_code == 200
    assert client.get("/api/v1/me", headers=victim_token).status_code == 401  # old tokens stay revoked
    assert _token(client, "clerk_town") == 200
    assert _audit_count(session, "staff.user_deactivated", str(user.id)) == 1
    assert _audit_count(session, "staff.user_reactivated", str(user.id)) == 1


def test_account_management_is_the_administrators(client: TestClient,
                                                  token_for: Callable[[str], dict[str, str]]) -> None:
    admin = token_for("admin")
    assert client.post("/api/v1/staff/admin/deactivate", headers=admin).status_code == 409  # not oneself
    assert client.post("/api/v1/staff/nobody/deactivate", headers=admin).status_code == 404
    r = client.post("/api/v1/staff/clerk/password", json={"password": "weak"}, headers=admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "password"
    for who in ("supervisor", "clerk", "head_scjg"):
        headers = token_for(who)
        assert client.post("/api/v1/staff/agent/deactivate", headers=headers).status_code == 403
        assert client.post("/api/v1/staff/agent/password", json={"password": NEW_PASSWORD},
                           headers=headers).status_code == 403
    assert client.post("/api/v1/staff/agent/deactivate").status_code == 401


def test_the_users_page_deactivates_and_resets(login: Callable[[str], Browser], client: TestClient) -> None:
    admin = login("admin")
    page = admin.client.get("/admin/users")
    assert page.status_code == 200
    assert "approver_rsj" in page.text
    assert admin.post("/admin/users/approver_rsj/deactivate").status_code == 303
    assert "停用" in admin.client.get("/admin/users?done=deactivated").text
    r = admin.post("/admin/users/approver_rsj/password", {"password": "approver_rsj1A"})
    assert r.status_code == 422
    assert "不能包含用户名" in r.text
    assert admin.post("/admin/users/approver_rsj/password", {"password": NEW_PASSWORD}).status_code == 303
    assert admin.post("/admin/users/approver_rsj/reactivate").status_code == 303
    assert _token(client, "approver_rsj", NEW_PASSWORD) == 200
    assert admin.post("/admin/users/approver_rsj/explode").status_code == 404
    assert login("clerk").client.get("/admin/users").status_code == 403


# ----- API tokens ------------------------------------------------------------------------------------------------


def test_listing_and_revoking_tokens(client: TestClient, token_for: Callable[[str], dict[str, str]],
                                     session: Session) -> None:
    mine = token_for("approver_scjg")
    theirs = token_for("approver_ybj")
    admin = token_for("admin")
    listed = client.get("/api/v1/tokens", headers=mine).json()
    assert {t["username"] for t in listed} == {"approver_scjg"}
    assert all("token_hash" not in t and len(t["prefix"]) <= 12 for t in listed)
    assert client.get("/api/v1/tokens?all=true", headers=mine).status_code == 403
    everyone = client.get("/api/v1/tokens?all=true", headers=admin).json()
    assert {"approver_scjg", "approver_ybj", "admin"} <= {t["username"] for t in everyone}
    their_id = next(t["id"] for t in everyone if t["username"] == "approver_ybj")
    assert client.delete(f"/api/v1/tokens/{their_id}", headers=mine).status_code == 404  # not mine
    assert client.delete("/api/v1/tokens/2147483647", headers=mine).status_code == 404
    second = client.post(TOKEN, json={"username": "approver_scjg", "password": DEMO_PASSWORD,
                                      "name": "script"}).json()["access_token"]
    second_id = next(t["id"] for t in client.get("/api/v1/tokens", headers=mine).json() if t["name"] == "script")
    r = client.delete(f"/api/v1/tokens/{second_id}", headers=mine)
    assert r.status_code == 200
    assert r.json()["state"] == "已撤销"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    assert client.get("/api/v1/me", headers=mine).status_code == 200
    assert client.delete(f"/api/v1/tokens/{second_id}", headers=mine).status_code == 409
    assert client.delete(f"/api/v1/tokens/{their_id}", headers=admin).status_code == 200
    assert client.get("/api/v1/me", headers=theirs).status_code == 401
    assert _audit_count(session, "staff.token_revoked") == 2


def test_token_pages(login: Callable[[str], Browser], token_for: Callable[[str], dict[str, str]],
                     client: TestClient) -> None:
    headers = token_for("head_clh")
    me = login("head_clh")
    page = me.client.get("/account")
    assert "撤销" in page.text
    token_id = client.get("/api/v1/tokens", headers=headers).json()[0]["id"]
    assert me.post(f"/account/tokens/{token_id}/revoke").status_code == 303
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    admin = login("admin")
    assert "head_clh" in admin.client.get("/admin/tokens").text
    other = token_for("head_zwfw")
    other_id = client.get("/api/v1/tokens", headers=other).json()[0]["id"]
    assert me.post(f"/admin/tokens/{other_id}/revoke").status_code == 403
    assert admin.post(f"/admin/tokens/{other_id}/revoke").status_code == 303
    assert me.client.get("/admin/tokens").status_code == 403


def test_a_token_records_when_it_was_last_used(client: TestClient, token_for: Callable[[str], dict[str, str]],
                                               clock: FixedClock) -> None:
    headers = token_for("wangfang")
    clock.advance(dt.timedelta(minutes=5))
    client.get("/api/v1/me", headers=headers)
    row = client.get("/api/v1/tokens", headers=headers).json()[0]
    assert row["last_used_at"] is not None
    assert dt.datetime.fromisoformat(row["last_used_at"]) == clock.now()


# ----- idle expiry -------------------------------------------------------------------------------------------------


def test_an_idle_web_session_ends(login: Callable[[str], Browser], clock: FixedClock, app: FastAPI) -> None:
    app.state.settings = app.state.settings.model_copy(update={"session_idle_minutes": 30})
    me = login("supervisor")
    for _ in range(3):  # active use keeps it alive past the idle limit
        clock.advance(dt.timedelta(minutes=20))
        assert me.client.get("/account").status_code == 200
    clock.advance(dt.timedelta(minutes=31))
    r = me.client.get("/account", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login")


# ----- reads of personal data ------------------------------------------------------------------------------------


def test_reads_of_whole_personal_data_are_audited(client: TestClient, token_for: Callable[[str], dict[str, str]],
                                                  session: Session) -> None:
    clerk = token_for("clerk")
    before = _audit_count(session, "personal.read")
    r = client.post("/api/v1/certificates/lookup", json={"holder_id": "41072419900315001X"}, headers=clerk)
    assert r.status_code == 200
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "personal.read")
                            .order_by(AuditEntry.id.desc())).first()
    assert entry is not None
    assert entry.actor == "clerk"
    assert entry.after is not None and entry.after["what"] == "certificate_lookup"
    assert "41072419900315001X" not in entry.entity_id  # the audit keeps it masked
    r = client.post("/api/v1/entities/lookup", json={"kind": "person", "identifier": "41072419900315001X"},
                    headers=clerk)
    if r.status_code == 200:
        assert _audit_count(session, "personal.read") == before + 2
    else:  # no such entity in the register: nothing was read
        assert _audit_count(session, "personal.read") == before + 1


def test_a_case_page_with_whole_numbers_is_an_audited_read(login: Callable[[str], Browser], session: Session,
                                                           clock: FixedClock) -> None:
    case = make_case(session, clock)
    approver = approver_for(session, case)
    clerk = login("clerk")  # sees the numbers masked: no read of personal data
    assert clerk.client.get(f"/cases/{case.id}").status_code == 200
    assert _audit_count(session, "personal.read", str(case.id)) == 0
    assert login(approver.username).client.get(f"/cases/{case.id}").status_code == 200
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "personal.read",
                                                     AuditEntry.entity_id == str(case.id))).one()
    assert entry.actor == approver.username
    assert entry.after == {"what": "case_page", "case": case.number}
