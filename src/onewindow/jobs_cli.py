"""``onewindow jobs list|run-once``: the background jobs, run by hand or from cron / a systemd timer."""

from __future__ import annotations

from typing import Annotated

import typer

from onewindow.cli_support import app, echo_json, open_database, user_errors

jobs_app = typer.Typer(help="定时任务", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def jobs_list(as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False) -> None:
    """List the registered jobs with their interval."""
    from onewindow.jobs import JOBS

    if as_json:
        echo_json([{"name": j.name, "target": j.target, "every_seconds": j.every_seconds,
                    "description": j.description} for j in JOBS])
        return
    for job in JOBS:
        typer.echo(f"{job.name}\t每 {job.every_seconds} 秒\t{job.description}")


@jobs_app.command("run-once")
@user_errors
def jobs_run_once(
    job: Annotated[str | None, typer.Option("--job", help="只运行这个任务（默认全部）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """Run every job (or one) once now, each in its own transaction, and print what it counted."""
    from onewindow.core.clock import SystemClock
    from onewindow.jobs import JOBS, find_job, run_all_once

    selected = (find_job(job),) if job is not None else JOBS
    _engine, factory = open_database(quiet=as_json)
    results = run_all_once(factory, SystemClock(), selected)
    if as_json:
        echo_json(results)
        return
    for name, counts in results.items():
        summary = "，".join(f"{key} {value}" for key, value in counts.items()) or "无变化"
        typer.echo(f"{name}：{summary}")
