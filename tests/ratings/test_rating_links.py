"""Rating links name one subject and cannot be forged or bent to another."""

from __future__ import annotations

import pytest

from onewindow.ratings.links import LinkTarget, Subject, make_token, rating_url, read_token

SECRET = "s" * 32


def test_a_token_names_its_subject() -> None:
    token = make_token(SECRET, Subject.CASE, 42)
    assert read_token(SECRET, token) == LinkTarget(Subject.CASE, 42)
    url = rating_url("http://h:9000/", SECRET, Subject.TICKET, 7)
    assert url == f"http://h:9000/r/{make_token(SECRET, Subject.TICKET, 7)}"


@pytest.mark.parametrize("bad", ["", "c42", "c42-", "x42-abc", "c-abc", "cabc-abc", "c42-" + "A" * 12])
def test_malformed_or_forged_tokens_name_nothing(bad: str) -> None:
    assert read_token(SECRET, bad) is None


def test_a_token_cannot_be_moved_to_another_case_or_secret() -> None:
    token = make_token(SECRET, Subject.CASE, 42)
    signature = token.split("-", 1)[1]
    assert read_token(SECRET, f"c43-{signature}") is None
    assert read_token(SECRET, f"t42-{signature}") is None
    assert read_token("other" * 8, token) is None
