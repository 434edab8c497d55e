"""The evaluator is bound to its window's device: the clerk's workbench shows the keyed address, and the key of
one window opens no other."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy.orm import Session

from onewindow.queue import service as queue_service
from onewindow.ratings.links import evaluator_key, evaluator_key_valid, evaluator_path
from tests.conftest import HTML, Browser
from tests.factories import staff


def test_a_key_opens_only_its_own_window() -> None:
    secret = "k" * 32
    assert evaluator_key_valid(secret, 3, evaluator_key(secret, 3))
    assert not evaluator_key_valid(secret, 4, evaluator_key(secret, 3))
    assert not evaluator_key_valid(secret, 3, "")
    assert not evaluator_key_valid("other" * 8, 3, evaluator_key(secret, 3))
    assert evaluator_path(secret, 3) == f"/windows/3/evaluator?key={evaluator_key(secret, 3)}"


def test_the_workbench_shows_the_keyed_evaluator_address_of_the_clerks_window(
        app: FastAPI, session: Session, login: Callable[[str], Browser]) -> None:
    clerk = staff(session, "clerk")
    window = queue_service.window_of_clerk(session, clerk.id)
    assert window is not None, "the demo clerk sits at a window"
    page = login("clerk").client.get("/workbench", headers=HTML)
    assert page.status_code == 200
    assert f'href="{evaluator_path(app.state.settings.secret_key, window.id)}"' in page.text.replace("&amp;", "&")
