"""The pre-check and case pages open the files the applicant uploaded, under the case's access check."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.cases.test_api import HUKOU_PROOF, PURPOSE, Headers, apply
from tests.cases.test_api_uploads import PDF
from tests.conftest import Browser


def test_staff_open_an_uploaded_file_from_the_case_page(client: TestClient, token_for: Headers,
                                                        login: Callable[[str], Browser]) -> None:
    zhang = token_for("zhangwei")
    case = apply(client, zhang, item=HUKOU_PROOF)
    r = client.post(f"/api/v1/cases/{case['id']}/uploads", headers=zhang, data={"material_key": PURPOSE},
                    files={"file": ("证明用途说明.pdf", PDF, "application/pdf")})
    assert r.status_code == 201, r.text
    (up,) = r.json()["uploads"]
    url = f"/cases/{case['id']}/uploads/{up['id']}"
    clerk = login("clerk")
    page = clerk.client.get(f"/cases/{case['id']}")
    assert page.status_code == 200 and f'href="{url}"' in page.text and "证明用途说明.pdf" in page.text
    got = clerk.client.get(url)
    assert got.status_code == 200 and got.content == PDF and got.headers["x-content-type-options"] == "nosniff"
    assert clerk.client.get(f"/cases/{case['id']}/uploads/99999999").status_code == 404
    assert login("approver_scjg").client.get(url).status_code == 403  # another department's case
    assert login("wangfang").client.get(url).status_code == 403  # another citizen
