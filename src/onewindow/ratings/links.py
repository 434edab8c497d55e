"""Rating links (评价链接): a short signed token for the case or ticket a link lets its holder rate.

Pure. The SMS sent when a case is done, the QR code on a ticket slip, a receipt or a notice PDF carry
``/r/{token}``; the token names the subject and is signed with the server's secret, so it cannot be guessed
or turned into a link for another case. Holding the link is what entitles one to rate (一事一评: the rating
itself is still refused when the subject is not finished or already rated).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum


class Subject(StrEnum):
    """What a link rates."""

    TICKET = "t"
    CASE = "c"


@dataclass(frozen=True)
class LinkTarget:
    """The subject a valid token names."""

    subject: Subject
    subject_id: int


def _sign(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:9]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(secret: str, subject: Subject, subject_id: int) -> str:
    """``c42-AbCdEfGhIjKl``: the subject, its id and a 72-bit signature (URL-safe, short enough for an SMS)."""
    body = f"{subject.value}{subject_id}"
    return f"{body}-{_sign(secret, body)}"


def read_token(secret: str, token: str) -> LinkTarget | None:
    """The subject a token names, or None when it is malformed or its signature does not match."""
    body, sep, signature = (token or "").partition("-")
    if not sep or len(body) < 2 or body[0] not in {s.value for s in Subject} or not body[1:].isdigit():
        return None
    if len(body) > 20 or not hmac.compare_digest(_sign(secret, body), signature):
        return None
    return LinkTarget(Subject(body[0]), int(body[1:]))


def evaluator_key(secret: str, window_id: int) -> str:
    """The key a window's evaluator (评价器) screen is opened with: only the device set up for that window (its
    address is shown on the clerk's workbench) sees the visits finished there and rates them."""
    return _sign(secret, f"evaluator-w{window_id}")


def evaluator_key_valid(secret: str, window_id: int, key: str) -> bool:
    """True when ``key`` opens the evaluator of that window."""
    return bool(key) and hmac.compare_digest(evaluator_key(secret, window_id), key)


def evaluator_path(secret: str, window_id: int) -> str:
    """The evaluator's address (path and key) for a window."""
    return f"/windows/{window_id}/evaluator?key={evaluator_key(secret, window_id)}"


def rating_url(base_url: str, secret: str, subject: Subject, subject_id: int) -> str:
    """The absolute link a citizen opens to rate (``{base_url}/r/{token}``)."""
    return f"{base_url.rstrip('/')}/r/{make_token(secret, subject, subject_id)}"
