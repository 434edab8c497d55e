"""A database error that only means "someone else got there first" is a 409 the client may retry; others stay 500."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from onewindow.core.http import install_error_handlers


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"pg error {sqlstate}")
        self.sqlstate = sqlstate


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/deadlock")
    def deadlock() -> None:
        raise OperationalError("UPDATE case_record …", {}, _PgError("40P01"))

    @app.get("/api/locked")
    def locked() -> None:
        raise OperationalError("UPDATE case_record …", {}, Exception("database is locked"))

    @app.get("/api/broken")
    def broken() -> None:
        raise OperationalError("SELECT …", {}, _PgError("08006"))  # connection failure: a real fault

    @app.get("/page")
    def page() -> None:
        raise OperationalError("UPDATE …", {}, _PgError("40001"))

    return app


def test_deadlock_serialization_and_busy_database_answer_409_with_a_chinese_reason() -> None:
    client = TestClient(_app(), raise_server_exceptions=False)
    for url in ("/api/deadlock", "/api/locked"):
        r = client.get(url)
        assert r.status_code == 409
        assert r.json()["errors"][0]["code"] == "concurrent_update"
        assert "请刷新后重试" in r.json()["errors"][0]["message"]
    page = client.get("/page", headers={"accept": "text/html"})
    assert page.status_code == 409 and "请刷新后重试" in page.text


def test_other_database_errors_stay_server_errors() -> None:
    client = TestClient(_app(), raise_server_exceptions=False)
    assert client.get("/api/broken").status_code == 500
