"""Shared helpers of the simulation tests (pure: no database)."""

from __future__ import annotations

from pathlib import Path

SCENARIOS = Path(__file__).parent / "scenarios"
