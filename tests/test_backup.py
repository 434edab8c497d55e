"""``onewindow backup DIR`` / ``onewindow restore DIR``: a restore into a fresh database equals the original."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select
from typer.testing import CliRunner

from onewindow import backup, db
from onewindow.cli_support import app
from onewindow.config import get_settings
from onewindow.core.clock import FixedClock
from onewindow.core.errors import ValidationFailed
from onewindow.ops_cli import backup_command  # noqa: F401  (registers ``backup`` / ``restore`` on ``app``)
from tests.conftest import START, DatabaseFactory


def _store(root: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = root / digest[:2] / digest[2:4] / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, tbl in meta.tables.items():
            out[name] = sorted((tuple(row) for row in conn.execute(select(tbl))), key=repr)
    return out


def test_restore_into_a_fresh_database_has_every_row_and_upload(
        engine: Engine, databases: DatabaseFactory, tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    hashes = [_store(uploads, b"%PDF-1.4 one"), _store(uploads, "第二份材料".encode())]
    (uploads / "ab").mkdir(exist_ok=True)
    (uploads / "ab" / ".tmp-crashed").write_bytes(b"half")  # a crashed upload is not part of the backup
    target_dir = tmp_path / "backup"

    taken = backup.backup(engine, uploads, target_dir, clock=FixedClock(START))
    assert taken.uploads == 2 and sum(taken.tables.values()) > 100
    manifest = json.loads((target_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema"] == db.head_revision(engine) and manifest["created_at"].startswith("2026-11-23")

    fresh = db.make_engine(databases.new_url("restored"))
    restored_uploads = tmp_path / "restored-uploads"
    try:
        report = backup.restore(fresh, restored_uploads, target_dir)
        assert report.tables == taken.tables and report.uploads == 2
        assert _dump(fresh) == _dump(engine)
        assert sorted(backup.upload_files(restored_uploads)) == sorted(
            f"{h[:2]}/{h[2:4]}/{h}" for h in hashes)
        assert backup.upload_files(restored_uploads) == {
            k: v for k, v in backup.upload_files(uploads).items()}
        # a second restore over the now populated database is refused, nothing written
        with pytest.raises(ValidationFailed) as refused:
            backup.restore(fresh, restored_uploads, target_dir)
        assert refused.value.problems[0].code == "not_empty"
    finally:
        fresh.dispose()


def test_backup_refuses_a_non_empty_directory_and_restore_a_non_backup(engine: Engine, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x.txt").write_text("x")
    with pytest.raises(ValidationFailed) as not_empty:
        backup.backup(engine, tmp_path / "none", busy, clock=FixedClock(START))
    assert not_empty.value.problems[0].code == "not_empty"
    with pytest.raises(ValidationFailed) as not_backup:
        backup.restore(engine, tmp_path / "none", busy)
    assert not_backup.value.problems[0].code == "not_a_backup"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, databases: DatabaseFactory, tmp_path: Path) -> Iterator[CliRunner]:
    monkeypatch.setenv("ONEWINDOW_UPLOAD_DIR", str(tmp_path / "uploads"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_cli_backup_then_restore_and_one_line_errors(
        cli_env: CliRunner, databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    source_url = databases.new_url("cli-source")
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", source_url)
    get_settings.cache_clear()
    _store(tmp_path / "uploads", b"material")
    taken = cli_env.invoke(app, ["backup", str(tmp_path / "b")])
    assert taken.exit_code == 0, taken.output
    assert json.loads(taken.stdout)["uploads"] == 1

    again = cli_env.invoke(app, ["backup", str(tmp_path / "b")])
    assert again.exit_code == 1 and "备份目录必须是新目录或空目录" in again.stderr
    into_live = cli_env.invoke(app, ["restore", str(tmp_path / "b")])
    assert into_live.exit_code == 1 and "目标数据库不是空的" in into_live.stderr
    assert len(into_live.stderr.strip().splitlines()) == 1
    missing = cli_env.invoke(app, ["restore", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "备份目录不存在" in missing.stderr

    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", databases.new_url("cli-target"))
    monkeypatch.setenv("ONEWINDOW_UPLOAD_DIR", str(tmp_path / "uploads2"))
    get_settings.cache_clear()
    restored = cli_env.invoke(app, ["restore", str(tmp_path / "b")])
    assert restored.exit_code == 0, restored.output
    assert json.loads(restored.stdout)["schema"] == json.loads(taken.stdout)["schema"]
    assert len(backup.upload_files(tmp_path / "uploads2")) == 1
