"""The ``onewindow`` command line: one Typer app, one sub-app per domain.

Errors a user can cause print one line per problem on stderr and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import sys

import typer

from onewindow import jobs_cli as _jobs_cli  # noqa: F401
from onewindow import ops_cli as _ops_cli  # noqa: F401
from onewindow import site_cli as _site_cli  # noqa: F401

# Each domain contributes its commands by importing its cli module, which registers on ``app``
# (or on one of the shared sub-apps in ``cli_support``).
from onewindow.analytics import cli as _analytics_cli  # noqa: F401
from onewindow.calendar import cli as _calendar_cli  # noqa: F401
from onewindow.cases import cli as _cases_cli  # noqa: F401
from onewindow.catalog import cli as _catalog_cli  # noqa: F401
from onewindow.certificates import cli as _certificates_cli  # noqa: F401
from onewindow.cli_support import app
from onewindow.complaints import cli as _complaints_cli  # noqa: F401
from onewindow.core import cli as _core_cli  # noqa: F401
from onewindow.guide import cli as _guide_cli  # noqa: F401
from onewindow.planning import cli as _planning_cli  # noqa: F401
from onewindow.policies import cli as _policies_cli  # noqa: F401
from onewindow.simulation import cli as _simulation_cli  # noqa: F401
from onewindow.staff import cli as _staff_cli  # noqa: F401
from onewindow.supervision import cli as _supervision_cli  # noqa: F401
from onewindow.wiring import install as _install_listeners

# The CLI is a composition root like the app: cross-domain listeners (case due dates follow calendar
# changes) are installed before any command runs.
_install_listeners()


def main() -> None:
    """Entry point of the ``onewindow`` script."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("已中断", err=True)
        sys.exit(130)
