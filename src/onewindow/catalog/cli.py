"""Command-line commands of the catalog domain (registered on the root app in cli_support)."""

from __future__ import annotations

from onewindow.cli_support import app  # noqa: F401
