"""Shared pieces of the CLI: the root app, sub-apps, the database opener and the error printer."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from onewindow.config import Settings, get_settings
from onewindow.core.audit import Actor
from onewindow.core.errors import DomainError, Problem

app = typer.Typer(help="OneWindow 一窗通办 命令行", no_args_is_help=True, pretty_exceptions_enable=False,
                  add_completion=False)
db_app = typer.Typer(help="数据库", no_args_is_help=True)
bench_app = typer.Typer(help="基准测试（输出 JSON）", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")

P = ParamSpec("P")
R = TypeVar("R")

CLI_ACTOR = Actor(None, "cli")


def fail(problems: list[Problem] | str) -> NoReturn:
    """Print one line per problem on stderr and exit 1."""
    if isinstance(problems, str):
        typer.echo(f"错误：{problems}", err=True)
    else:
        for p in problems:
            typer.echo(f"错误：{p.line()}", err=True)
    raise typer.Exit(1)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors and missing files into one-line messages with exit status 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            fail(exc.problems)
        except FileNotFoundError as exc:
            fail(f"文件不存在：{exc.filename}")
        except IsADirectoryError as exc:
            fail(f"不是文件：{exc.filename}")

    return wrapper


def open_database(settings: Settings | None = None, *, quiet: bool = False) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory for the configured database, upgraded to the newest schema first."""
    from onewindow import db

    settings = settings or get_settings()
    engine = db.engine_for(settings)
    try:
        applied = db.upgrade(engine)
    except Exception as exc:  # a broken URL or unreachable server is a user problem here
        fail(f"无法打开数据库 {settings.database_url}：{exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    if applied and not quiet:
        typer.echo("数据库已升级到最新版本", err=True)
    return engine, db.make_session_factory(engine)


@contextmanager
def database_session(settings: Settings | None = None) -> Iterator[Session]:
    """One transaction on the upgraded database: committed when the block succeeds."""
    from onewindow import db

    _engine, factory = open_database(settings)
    with db.transaction(factory) as session:
        yield session


def echo_json(payload: Any) -> None:
    """Print JSON to stdout (UTF-8, not escaped)."""
    import json

    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
