"""PostgreSQL going away under the app: requests in flight get a clean 503, nothing is half-written, the next
request reconnects (the pool pings before use). Tested by terminating the backends, not restarting the server."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.conftest import BACKEND, DatabaseFactory

from onewindow import db
from onewindow.config import Settings

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="connection loss is a PostgreSQL behaviour")


def test_terminated_backends_answer_503_then_the_app_reconnects(databases: DatabaseFactory, tmp_path: Path) -> None:
    from onewindow.main import create_app

    engine = databases.new_engine("reconnect")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (x integer)"))
    settings = Settings(database_url="postgresql://unused/x", secret_key=secrets.token_urlsafe(16),
                        jobs_enabled=False, upload_dir=tmp_path, guide_semantic=False)
    app = create_app(settings, engine=engine, migrate=False)
    factory = db.make_session_factory(engine)

    @app.post("/api/v1/probe")
    def probe() -> dict[str, int]:
        with db.transaction(factory) as session:
            session.execute(text("INSERT INTO probe (x) VALUES (1)"))
            pid = session.scalar(text("SELECT pg_backend_pid()"))
            with engine.connect() as other:  # the server goes away while this write is in flight
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            session.execute(text("INSERT INTO probe (x) VALUES (2)"))
        return {"ok": 1}

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        # every pooled connection dies (a restart): the next request still works, pre-ping reconnects
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        assert client.get("/healthz").status_code == 200
        r = client.post("/api/v1/probe")
        assert r.status_code == 503, r.text
        assert r.json()["errors"][0]["code"] == "database_unavailable" and r.headers["retry-after"] == "2"
        assert client.get("/healthz").status_code == 200
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM probe")) == 0  # nothing half-written
