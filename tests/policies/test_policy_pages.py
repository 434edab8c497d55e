"""The 免申即享 pages render for the right roles and their forms work (CSRF, 422 re-render, actions)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.conftest import Browser

from onewindow.policies.models import Entity, Grant, Policy

Login = Callable[[str], Browser]


def _grant(session: Session, policy: str, status: str) -> Grant:
    grant = session.scalars(select(Grant).join(Policy).where(Policy.code == policy, Grant.status == status)
                            .order_by(Grant.id)).first()
    assert grant is not None
    return grant


def test_every_page_renders_for_the_admin(login: Login, session: Session) -> None:
    admin = login("admin")
    person = session.scalars(select(Entity).where(Entity.kind == "person").order_by(Entity.id)).first()
    assert person is not None
    for url, text in [("/admin/policies", "免申即享政策"), ("/admin/policies/ZC-QY-01", 'id="match-count"'),
                      ("/admin/grants", "兑付清单"), ("/admin/grants?status=paid", "已兑付"),
                      ("/entities", "主体查询"), (f"/entities/{person.id}", "符合的政策")]:
        r = admin.client.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        assert text in r.text, url
    r = admin.post("/entities", {"kind": "person", "identifier": person.identifier})
    assert r.status_code == 200 and "符合的政策" in r.text and person.name in r.text


def test_the_entity_lookup_keeps_the_identifier_out_of_the_url(login: Login, session: Session) -> None:
    """The lookup is a POST that renders the entity page; later addresses carry the entity's numeric id only."""
    person = session.scalars(select(Entity).where(Entity.kind == "person").order_by(Entity.id)).first()
    assert person is not None
    clerk = login("clerk")
    # the old forms: the query is ignored (an empty form, nothing looked up), the path is gone
    r = clerk.client.get(f"/entities?kind=person&identifier={person.identifier}", follow_redirects=False)
    assert r.status_code == 200 and "符合的政策" not in r.text and person.identifier not in r.text
    assert 'method="post" action="/entities"' in r.text
    assert clerk.client.get(f"/entities/person/{person.identifier}").status_code == 404
    assert clerk.post(f"/entities/person/{person.identifier}/grants/1/confirm").status_code in {404, 405}
    # the new form: the page at once, lower case and spaces forgiven; its forms name the entity by id
    r = clerk.post("/entities", {"kind": "person", "identifier": f" {person.identifier.lower()} "})
    assert r.status_code == 200 and "符合的政策" in r.text
    assert not re.search(r'(href|action)="[^"]*' + re.escape(person.identifier), r.text)
    assert clerk.client.get(f"/entities/{person.id}").status_code == 200
    assert clerk.client.get("/entities/999999999").status_code == 404
    assert clerk.client.get("/entities/99999999999").status_code == 422
    # mistakes re-render the form
    r = clerk.post("/entities", {"kind": "person", "identifier": "110101190001010000"})
    assert r.status_code == 404 and "主体查询" in r.text and "不存在" in r.text
    r = clerk.post("/entities", {"kind": "person", "identifier": ""})
    assert r.status_code == 422 and "请填写" in r.text
    r = clerk.post("/entities", {"kind": "person", "identifier": "1" * 31})
    assert r.status_code == 422 and "不能超过 30 个字符" in r.text
    r = clerk.post("/entities", {"kind": "robot", "identifier": person.identifier})
    assert r.status_code == 422 and "未知的主体类型" in r.text
    # CSRF and roles as for every form
    assert clerk.post("/entities", {"kind": "person", "identifier": person.identifier}, csrf=False).status_code == 403
    assert login("experiencer").post("/entities", {"kind": "person", "identifier": person.identifier}
                                     ).status_code == 403


def test_anonymous_is_sent_to_login_and_wrong_roles_get_403(client: TestClient, login: Login) -> None:
    r = client.get("/admin/policies", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]
    assert login("experiencer").client.get("/admin/grants").status_code == 403
    assert login("clerk").client.get("/admin/policies").status_code == 403


def test_policy_editor_previews_live_and_rejects_bad_conditions(login: Login, session: Session) -> None:
    admin = login("admin")
    r = admin.post("/admin/policies/ZC-QY-01/preview", {"conditions": "[{"})
    assert "不是有效的 JSON" in r.text and "<html" not in r.text  # a fragment
    r = admin.post("/admin/policies/ZC-QY-01/preview",
                   {"conditions": '[{"field": "employees", "op": ">=", "value": 0}]'})
    assert 'id="match-count"' in r.text
    form = {"name": "一次性吸纳就业补贴", "benefit": "b", "amount_yuan": "1500", "valid_from": "", "valid_to": "",
            "basis": "", "conditions": '[{"field": "nope", "op": ">", "value": 1}]'}
    r = admin.post("/admin/policies/ZC-QY-01", form)
    assert r.status_code == 422 and "未知字段：nope" in r.text and "nope" in r.text
    assert session.scalars(select(Policy).where(Policy.code == "ZC-QY-01")).one().conditions[0]["field"] != "nope"
    good = '[{"field": "employees", "op": ">=", "value": 1}]'
    r = admin.post("/admin/policies/ZC-QY-01", {**form, "conditions": good})
    assert r.status_code == 303 and r.headers["location"].endswith("done=saved")
    assert login("supervisor").post("/admin/policies/ZC-QY-01", form).status_code == 403
    assert "只读" in login("supervisor").client.get("/admin/policies/ZC-QY-01").text


def test_department_offer_list_and_its_actions(login: Login, session: Session) -> None:
    grant = _grant(session, "ZC-GR-04", "pending")
    clerk = login("clerk")
    url = f"/entities/{grant.entity.id}"
    page = clerk.client.get(url)
    assert f"{url}/grants/{grant.id}/confirm" in page.text
    r = clerk.post(f"{url}/grants/{grant.id}/confirm")
    assert r.status_code == 303 and r.headers["location"] == f"{url}?done=confirmed"
    session.refresh(grant)
    assert grant.status == "confirmed"
    wjw = login("approver_wjw")
    listing = wjw.client.get("/admin/grants?status=confirmed")
    assert f"/admin/grants/{grant.id}/approve" in listing.text
    assert f'href="/entities/{grant.entity.id}"' in listing.text  # by numeric id, never the identifier
    assert not re.search(r'href="/entities/[^"]*' + re.escape(grant.entity.identifier), listing.text)
    assert "小型微利企业所得税优惠" not in wjw.client.get("/admin/grants").text  # another department's policy
    assert login("approver_gaj").post(f"/admin/grants/{grant.id}/approve").status_code == 403
    r = wjw.post(f"/admin/grants/{grant.id}/approve", {"back": "/admin/grants?status=confirmed"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/grants?status=confirmed&done=approved"
    session.refresh(grant)
    assert grant.status == "approved"
    assert wjw.post(f"/admin/grants/{grant.id}/approve").status_code == 409
