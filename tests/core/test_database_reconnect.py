"""PostgreSQL going away under the app: requests in flight get a clean 503, nothing is half-written, the next
request reconnects (the pool pings before use). Tested by terminating the backends, not restarting the server."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from tests.conftest import BACKEND, DatabaseFactory

from onewindow import db
from onewindow.catalog.models import Hall, HallCategory, Region
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


def test_the_hot_paths_skip_the_ping_and_run_again_on_a_new_connection(databases: DatabaseFactory,
                                                                       tmp_path: Path) -> None:
    """A ticket's batch and a ticket's status read check their pooled connection out without pinging it first
    (``db.unpinged``): when it turns out lost (PostgreSQL restarted), the batch, before anything of it was written,
    and the read run again on a new connection; the caller sees nothing of it. Other requests ping first."""
    from onewindow.core import audit
    from onewindow.main import create_app

    engine = databases.new_engine("hot-paths")
    with Session(engine) as s, s.begin():
        region = Region(code="410724", name="获嘉县", level="county")
        s.add_all([region, Hall(code="HJ-HOT", name="重连测试大厅", level="county", region=region),
                   HallCategory(code="A", name="综合业务")])
    settings = Settings(database_url="postgresql://unused/x", secret_key=secrets.token_urlsafe(16),
                        jobs_enabled=False, upload_dir=tmp_path, guide_semantic=False)
    app = create_app(settings, engine=engine, migrate=False)
    pings: list[int] = []
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: pings.append(1) or real_ping(dbapi_connection)  # type: ignore[method-assign]

    def lose_every_connection() -> None:  # from outside the app's pool, so that none of its connections lives
        outside = create_engine(engine.url, poolclass=NullPool)
        with outside.connect() as conn:
            lost = conn.scalar(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        outside.dispose()
        assert lost

    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.post("/api/v1/queue/halls/HJ-HOT/tickets", json={"category": "A"})
        assert first.status_code == 201, first.text
        pings.clear()
        assert client.get(first.json()["status_url"]).status_code == 200
        assert client.post("/api/v1/queue/halls/HJ-HOT/tickets", json={"category": "A"}).status_code == 201
        assert pings == []  # neither the read nor the batch pinged
        assert client.get("/healthz").status_code == 200
        assert pings  # any other request does
        lose_every_connection()
        again = client.post("/api/v1/queue/halls/HJ-HOT/tickets", json={"category": "A"})
        assert again.status_code == 201, again.text
        assert again.json()["number"] == "A003" and again.json()["ahead"] == 2
        lose_every_connection()
        status = client.get(again.json()["status_url"])
        assert status.status_code == 200 and status.json()["ahead"] == 2
    with Session(engine) as s:
        assert s.scalar(text("SELECT count(*) FROM queue_ticket")) == 3  # each written once
        assert audit.verify(s).ok
