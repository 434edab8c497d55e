"""Waiting in the browser tests under the pages' Content-Security-Policy.

Playwright's ``page.wait_for_function`` builds its predicate with ``eval`` inside the page, which the policy
(``script-src 'self'``, no ``'unsafe-eval'``) refuses, as it should. ``page.evaluate`` goes through the DevTools
protocol instead, so polling it from Python waits for the same condition without weakening the policy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion in a fresh thread.

    Playwright's sync API leaves an event loop running in the test thread once a browser test has
    run in the same worker, and ``asyncio.run`` refuses to start inside a running loop.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def wait_for_expression(page: Any, expression: str, timeout_ms: int = 10_000) -> None:
    """Poll a JavaScript expression until it is truthy; fail after ``timeout_ms``."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"浏览器中的条件在 {timeout_ms} ms 内未成立：{expression}")
        page.wait_for_timeout(50)
