"""The audit log is append-only and hash-chained; `onewindow audit verify` detects tampering."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from onewindow import db
from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock

ACTOR = Actor(7, "tester")


def _drop_append_only_guard(session: Session) -> None:
    # What a privileged intruder would do first; the chain must still give them away.
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER audit_entry_no_update"))
        session.execute(text("DROP TRIGGER audit_entry_no_delete"))
    else:
        session.execute(text("DROP TRIGGER audit_entry_no_change ON audit_entry"))


def test_chain_of_fresh_entries_verifies(session: Session, clock: FixedClock) -> None:
    for i in range(3):
        audit.record(session, clock=clock, actor=ACTOR, action="test.step", entity_type="thing", entity_id=i,
                     before={"n": i}, after={"n": i + 1, "名称": "测试"})
    result = audit.verify(session)
    assert result.ok, result
    assert result.checked >= 3


def test_update_and_delete_are_refused_by_the_database(session: Session, clock: FixedClock) -> None:
    entry = audit.record(session, clock=clock, actor=ACTOR, action="test.step", entity_type="thing", entity_id=1)
    session.flush()
    for statement in ("UPDATE audit_entry SET actor = 'x' WHERE id = :id", "DELETE FROM audit_entry WHERE id = :id"):
        with pytest.raises(DBAPIError), session.begin_nested():
            session.execute(text(statement), {"id": entry.id})


def test_verify_detects_an_edited_row(session: Session, clock: FixedClock) -> None:
    entry = audit.record(session, clock=clock, actor=ACTOR, action="catalog.item_versioned", entity_type="item",
                         entity_id="X", after={"promised_limit_days": 5})
    audit.record(session, clock=clock, actor=ACTOR, action="test.later", entity_type="thing", entity_id=2)
    session.flush()
    _drop_append_only_guard(session)
    session.execute(text("UPDATE audit_entry SET after = :after WHERE id = :id"),
                    {"after": '{"promised_limit_days": 1}', "id": entry.id})
    session.expire_all()
    result = audit.verify(session)
    assert not result.ok
    assert result.broken_id == entry.id
    assert "篡改" in result.reason


def test_verify_detects_a_deleted_row(session: Session, clock: FixedClock) -> None:
    first = audit.record(session, clock=clock, actor=ACTOR, action="a", entity_type="t", entity_id=1)
    audit.record(session, clock=clock, actor=ACTOR, action="b", entity_type="t", entity_id=2)
    session.flush()
    _drop_append_only_guard(session)
    session.execute(text("DELETE FROM audit_entry WHERE id = :id"), {"id": first.id})
    session.expire_all()
    assert not audit.verify(session).ok


def test_cli_verify_exits_nonzero_on_tampering(databases: object) -> None:
    url = databases.new_url("audit-cli")  # type: ignore[attr-defined]
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": url}
    cli = [sys.executable, "-c", "from onewindow.cli import main; main()"]
    subprocess.run([*cli, "demo", "load"], env=env, check=True, capture_output=True)
    ok = subprocess.run([*cli, "audit", "verify"], env=env, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "完好" in ok.stdout
    engine = db.make_engine(url)
    with db.make_session_factory(engine)() as s, s.begin():
        _drop_append_only_guard(s)
        s.execute(text("UPDATE audit_entry SET actor = 'intruder' WHERE id = 5"))
    engine.dispose()
    bad = subprocess.run([*cli, "audit", "verify"], env=env, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "第 5 条" in bad.stderr
    assert "Traceback" not in bad.stderr


def _head(session: Session) -> str:
    return str(session.scalar(text("SELECT last_hash FROM audit_head WHERE id = 1")))


def _last_hash(session: Session) -> str:
    return str(session.scalar(text("SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1")))


def test_a_savepoint_rolled_back_takes_its_entries_and_the_tip_back(session: Session, clock: FixedClock) -> None:
    audit.record(session, clock=clock, actor=ACTOR, action="kept.first", entity_type="t", entity_id=1)
    with pytest.raises(RuntimeError), session.begin_nested():
        audit.record(session, clock=clock, actor=ACTOR, action="gone", entity_type="t", entity_id=2)
        raise RuntimeError("the unit of work fails")
    kept = audit.record(session, clock=clock, actor=ACTOR, action="kept.second", entity_type="t", entity_id=3)
    assert session.scalar(text("SELECT count(*) FROM audit_entry WHERE action = 'gone'")) == 0
    result = audit.verify(session)
    assert result.ok, result
    assert _head(session) == kept.hash == _last_hash(session)


def test_a_savepoint_begun_before_the_first_append_leaves_the_tip_unread(session: Session,
                                                                         clock: FixedClock) -> None:
    start = _head(session)
    with pytest.raises(RuntimeError), session.begin_nested():
        audit.record(session, clock=clock, actor=ACTOR, action="gone", entity_type="t", entity_id=1)
        raise RuntimeError("the unit of work fails")
    assert _head(session) == start
    with session.begin_nested():
        kept = audit.record(session, clock=clock, actor=ACTOR, action="kept", entity_type="t", entity_id=2)
    assert audit.verify(session).ok
    assert _head(session) == kept.hash


def test_the_head_row_moves_once_at_commit(databases: object, clock: FixedClock) -> None:
    engine = db.make_engine(databases.new_url("audit-head"))  # type: ignore[attr-defined]
    db.upgrade(engine)
    factory = db.make_session_factory(engine)
    with factory() as s, s.begin():
        audit.record(s, clock=clock, actor=ACTOR, action="a", entity_type="t", entity_id=1)
    statements: list[str] = []
    with factory() as s:
        with s.begin():
            audit.record(s, clock=clock, actor=ACTOR, action="b", entity_type="t", entity_id=2)

            def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
                statements.append(statement)

            event.listen(engine, "before_cursor_execute", note)
            for n in range(3, 6):
                last = audit.record(s, clock=clock, actor=ACTOR, action="c", entity_type="t", entity_id=n)
        event.remove(engine, "before_cursor_execute", note)
        assert sum(1 for sql in statements if sql.lstrip().upper().startswith("UPDATE AUDIT_HEAD")) == 1
    with factory() as s:
        assert _head(s) == last.hash == _last_hash(s)
        assert audit.verify(s).ok
    engine.dispose()
