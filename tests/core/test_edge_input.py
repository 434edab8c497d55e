"""Hostile input is refused at the edge with a 422 naming the field in Chinese; every answer carries the
security headers. Pure checks first (no database), then a few requests through the whole app."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from onewindow.core import edge


def test_text_with_nul_or_control_characters_is_refused_but_line_breaks_in_bodies_are_fine() -> None:
    assert edge.text_problem("q", "a\x00b") is not None
    assert edge.text_problem("q", "a\x1bb") is not None
    assert edge.text_problem("q", "a\x85b") is not None  # C1 control
    assert edge.text_problem("note", "第一行\r\n\t第二行") is None
    assert edge.text_problem("q", "a\nb", in_url=True) is not None
    assert edge.text_problem("q", "社保 卡") is None


def test_json_deeper_than_the_limit_is_refused_before_parsing() -> None:
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000  # would overflow the recursion limit if parsed
    _, problems = edge.parse_json(deep.encode())
    assert [p.code for p in problems] == ["too_deep"]
    ok = '{"a":' * 31 + "1" + "}" * 31
    document, problems = edge.parse_json(ok.encode())
    assert problems == [] and document is not None
    assert edge.json_problems(document) == []


def test_brackets_inside_json_strings_do_not_count_as_depth() -> None:
    _, problems = edge.parse_json(json.dumps({"note": "[" * 100 + '\\"{'}).encode())
    assert problems == []


def test_json_problems_name_the_field_of_bad_text_big_integers_and_non_finite_numbers() -> None:
    document = {"form_data": {"items": [1, {"name": "x\x00"}]}, "version": 2**63, "score": float("nan"),
                "ok": True, "small": -(2**63)}
    found = {p.field: p.code for p in edge.json_problems(document)}
    assert found == {"form_data.items[1].name": "control_character", "version": "out_of_range",
                     "score": "not_finite"}
    assert all(p.message for p in edge.json_problems(document))


def test_invalid_utf8_and_huge_integer_literals_are_a_422_not_a_crash() -> None:
    assert [p.code for p in edge.parse_json(b'{"a": "\xff"}')[1]] == ["string_unicode"]
    assert [p.code for p in edge.parse_json(b'{"a": ' + b"9" * 5000 + b"}")[1]] == ["json_invalid"]


@pytest.mark.parametrize("url, field", [
    ("/api/v1/items?q=%00", "q"),
    ("/?q=a%00b", "q"),
    ("/api/v1/items?offset=9223372036854775808", "offset"),
    ("/api/v1/items?q=%FF", "query"),
    ("/api/v1/items/%00", "path"),
])
def test_hostile_urls_answer_422_with_the_field(client: TestClient, url: str, field: str) -> None:
    r = client.get(url, headers={"accept": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field


def test_path_ids_beyond_the_column_range_answer_422(client: TestClient,
                                                      token_for: object) -> None:
    r = client.post("/api/v1/queue/windows/2147483648/sign-in")
    assert r.status_code == 422
    assert r.json()["errors"][0] == {"field": "window_id", "code": "out_of_range",
                                     "message": edge.MSG_INT32}


def test_form_data_nested_300_deep_answers_422_not_a_traceback(client: TestClient) -> None:
    body = '{"item_code": "x", "form_data":' + '{"a":' * 300 + "1" + "}" * 300 + "}"
    r = client.post("/api/v1/cases", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "too_deep"


def test_a_login_name_with_a_nul_byte_is_refused_in_forms_and_json(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", json={"username": "admin\x00", "password": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "username"
    r = client.post("/login", data={"username": "admin\x00", "password": "x", "csrf_token": "x"})
    assert r.status_code == 422
    assert "控制字符" in r.text  # the error page, in Chinese


def test_a_multipart_text_field_with_a_nul_byte_is_refused(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", files={"username": (None, "a\x00"), "password": (None, "x")})
    assert r.status_code == 422


def test_an_oversized_json_body_is_refused(client: TestClient) -> None:
    r = client.post("/api/v1/cases", content=b'{"a": "' + b"x" * (edge.MAX_BODY_BYTES + 1) + b'"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["errors"][0]["code"] == "body_too_large"


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for url in ["/", "/api/v1/items", "/login", "/api/v1/items?q=%00", "/no-such-page"]:
        r = client.get(url)
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], url
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"
        assert r.headers["x-frame-options"] == "DENY"
        assert "no-store" in r.headers["cache-control"]
    static = client.get("/static/app.js")
    assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")


def test_swagger_ui_is_served_from_this_server(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "cdn" not in page.lower() and "<script>" not in page
    for src in ["/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css",
                "/static/swagger-init.js"]:
        assert src in page
        assert client.get(src).status_code == 200, src


def test_api_operations_document_their_typed_error_answers(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "ErrorOut" in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            for status in ("401", "403", "422"):
                assert status in operation["responses"], (method, path, status)
