"""The outbox page (/admin/outbox): recent messages with their status, attempts and last error.

Thin edge over ``notifications.service``; the center's admins and supervision (``OUTBOX_VIEW``) look, others get
403. Recipients are printed as stored: the page's edge masks every phone number in it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from onewindow.core.access import Action
from onewindow.deps import CurrentAuth, DbSession
from onewindow.notifications import service
from onewindow.notifications.service import CHANNEL_LABELS, STATUS_LABELS, Channel, Status
from onewindow.web import fmt_time, render

router = APIRouter(prefix="/admin/outbox", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def outbox_page(request: Request, auth: CurrentAuth, session: DbSession,
                status: Annotated[str, Query(pattern="^(|pending|sent|failed|suppressed)$")] = "") -> Response:
    """The newest 200 messages (optionally of one status) and how many there are in each status."""
    auth.require(Action.OUTBOX_VIEW)
    messages = service.recent_messages(session, limit=200, status=status or None)
    return render(request, "admin/outbox.html", {
        "messages": messages, "counts": service.status_counts(session), "status": status,
        "status_labels": {s.value: label for s, label in STATUS_LABELS.items()},
        "channel_labels": {c.value: label for c, label in CHANNEL_LABELS.items()},
        "badges": {Status.PENDING.value: "badge-amber", Status.SENT.value: "badge-green",
                   Status.FAILED.value: "badge-red"},
        "fmt_time": fmt_time, "sms": Channel.SMS.value,
    }, auth=auth)
