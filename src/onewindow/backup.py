"""Backups and restores: the database (SQLite online backup, or pg_dump / pg_restore) plus the uploads folder.

A backup is a directory holding ``database.sqlite3`` or ``database.dump`` (pg_dump's custom format), an
``uploads/`` copy of the content-addressed upload store and ``manifest.json`` (schema revision, row count
per table, every upload's size and SHA-256). A restore goes into an EMPTY database only and checks the
row counts and every upload against the manifest afterwards, so a restore drill proves the backup.

SQLite's online backup API copies a consistent snapshot of a live database, WAL included (a plain file
copy of a live database loses what is still in the WAL).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, inspect, select, table

from onewindow import db
from onewindow.core.clock import Clock
from onewindow.core.errors import Problem, ValidationFailed

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
UPLOADS = "uploads"


@dataclass
class BackupReport:
    """What a backup or restore handled."""

    directory: Path
    backend: str
    schema: str | None
    tables: dict[str, int] = field(default_factory=dict)
    uploads: int = 0
    upload_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {"directory": str(self.directory), "backend": self.backend, "schema": self.schema,
                "tables": len(self.tables), "rows": sum(self.tables.values()), "uploads": self.uploads,
                "upload_bytes": self.upload_bytes}


def _problem(field_name: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed([Problem(field_name, code, message)])


def _backend(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise _problem("database_url", "unsupported_database", f"不支持备份此类数据库：{name}")
    return name


def _libpq_url(engine: Engine) -> str:
    # pg_dump / pg_restore speak libpq URLs: no SQLAlchemy driver suffix, and no password (see _run)
    return engine.url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _sqlite_path(engine: Engine) -> Path:
    path = engine.url.database
    if not path or path == ":memory:":
        raise _problem("database_url", "unsupported_database", "内存数据库无法备份或恢复")
    return Path(path)


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table (Alembic's own table included), by table name."""
    names = sorted(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {name: int(conn.scalar(select(func.count()).select_from(table(name))) or 0) for name in names}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def upload_files(root: Path) -> dict[str, dict[str, Any]]:
    """Every regular file under the upload store (temporary files left by a crash excluded): size and hash."""
    files: dict[str, dict[str, Any]] = {}
    if not root.is_dir():
        return files
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith(".tmp-"):
            files[path.relative_to(root).as_posix()] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    return files


def _run(args: list[str], engine: Engine) -> None:
    env = dict(os.environ)
    if engine.url.password:  # in the environment, not on the command line other users can read
        env["PGPASSWORD"] = str(engine.url.password)
    # fixed tool names, arguments from the settings and the operator's own DIR: no shell involved
    result = subprocess.run(args, capture_output=True, text=True, check=False, env=env)  # noqa: S603
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["（无输出）"])[-1]
        raise _problem("database_url", "tool_failed", f"{args[0]} 运行失败：{first}")


def backup(engine: Engine, upload_dir: Path, directory: Path, *, clock: Clock) -> BackupReport:
    """Write a backup of the database and the uploads into ``directory`` (new, or an empty directory)."""
    backend = _backend(engine)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise _problem("DIR", "not_empty", f"备份目录必须是新目录或空目录：{directory}")
    directory.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        source = sqlite3.connect(_sqlite_path(engine))
        target = sqlite3.connect(directory / SQLITE_FILE)
        try:
            with target:
                source.backup(target)  # a consistent snapshot, pages still in the WAL included
        finally:
            target.close()
            source.close()
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
              f"--file={directory / PG_FILE}", _libpq_url(engine)], engine)
    # the counts are read after the snapshot: a busy server may have added rows since, never removed them
    report = BackupReport(directory, backend, db.current_revision(engine), table_counts(engine))
    files = upload_files(upload_dir)
    if files:
        shutil.copytree(upload_dir, directory / UPLOADS, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".tmp-*"))
    report.uploads = len(files)
    report.upload_bytes = sum(int(f["bytes"]) for f in files.values())
    manifest = {"format": 1, "created_at": clock.now().isoformat(), "backend": backend,
                "schema": report.schema, "tables": report.tables, "uploads": files}
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return report


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.is_file():
        raise _problem("DIR", "not_a_backup", f"不是备份目录（缺少 {MANIFEST}）：{directory}")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise _problem("DIR", "not_a_backup", f"备份清单无法读取：{exc}") from exc
    return manifest


def restore(engine: Engine, upload_dir: Path, directory: Path) -> BackupReport:
    """Restore a backup into an empty database and the upload store, then check both against the manifest."""
    backend = _backend(engine)
    manifest = _read_manifest(directory)
    if manifest.get("backend") != backend:
        raise _problem("DIR", "wrong_backend",
                       f"备份来自 {manifest.get('backend')} 数据库，不能恢复到 {backend} 数据库")
    if not db.is_empty(engine):
        raise _problem("database_url", "not_empty", "目标数据库不是空的：恢复只写入新建的空数据库")
    if backend == "sqlite":
        dump = directory / SQLITE_FILE
        if not dump.is_file():
            raise _problem("DIR", "not_a_backup", f"备份中缺少 {SQLITE_FILE}")
        engine.dispose()
        source = sqlite3.connect(dump)
        target = sqlite3.connect(_sqlite_path(engine))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        dump = directory / PG_FILE
        if not dump.is_file():
            raise _problem("DIR", "not_a_backup", f"备份中缺少 {PG_FILE}")
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={_libpq_url(engine)}", str(dump)], engine)
    source_uploads = directory / UPLOADS
    if source_uploads.is_dir():
        upload_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source_uploads, upload_dir, dirs_exist_ok=True)
    report = BackupReport(directory, backend, db.current_revision(engine), table_counts(engine))
    _check(manifest, report, upload_dir)
    return report


def _check(manifest: dict[str, Any], report: BackupReport, upload_dir: Path) -> None:
    problems: list[Problem] = []
    expected_tables: dict[str, int] = manifest.get("tables", {})
    for name, rows in expected_tables.items():
        got = report.tables.get(name)
        # the manifest's counts were read just after the snapshot: the snapshot holds at most as many rows
        if got is None or got > rows:
            problems.append(Problem(name, "table_mismatch", f"表 {name} 恢复后有 {got} 行，备份清单为 {rows} 行"))
    present = upload_files(upload_dir)
    expected_files: dict[str, dict[str, Any]] = manifest.get("uploads", {})
    for rel, info in expected_files.items():
        if present.get(rel, {}).get("sha256") != info.get("sha256"):
            problems.append(Problem(rel, "upload_mismatch", f"上传文件 {rel} 缺失或内容不符"))
    report.uploads = len(expected_files)
    report.upload_bytes = sum(int(f.get("bytes", 0)) for f in expected_files.values())
    if problems:
        raise ValidationFailed(problems)
