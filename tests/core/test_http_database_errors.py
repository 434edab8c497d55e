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
        raise OperationalError("SELECT …", {}, _PgError("42P01"))  # undefined table: a real fault

    @app.get("/api/lost")
    def lost() -> None:
        raise OperationalError("SELECT …", {}, _PgError("08006"))  # connection failure: retry later

    @app.get("/api/terminated")
    def terminated() -> None:
        raise OperationalError("SELECT …", {}, _PgError("57P01"))  # pg_terminate_backend / a restart

    @app.get("/lost-page")
    def lost_page() -> None:
        raise OperationalError("SELECT …", {}, Exception("server closed the connection"), connection_invalidated=True)

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


def test_a_lost_database_connection_is_a_clean_503_with_retry_after() -> None:
    client = TestClient(_app(), raise_server_exceptions=False)
    for url in ("/api/lost", "/api/terminated"):
        r = client.get(url)
        assert r.status_code == 503 and r.headers["retry-after"] == "2"
        assert r.json()["errors"][0]["code"] == "database_unavailable"
        assert "请稍后重试" in r.json()["errors"][0]["message"]
    page = client.get("/lost-page", headers={"accept": "text/html"})
    assert page.status_code == 503 and "数据库暂时不可用" in page.text and page.headers["retry-after"] == "2"
