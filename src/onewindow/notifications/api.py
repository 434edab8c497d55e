"""``GET /api/v1/outbox``: the recent outbox messages (消息发送记录), for the center's admins and supervision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from onewindow.core.access import Action
from onewindow.deps import CurrentAuth, DbSession
from onewindow.notifications import service
from onewindow.notifications.schemas import OutboxMessageOut

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get("/outbox", response_model=list[OutboxMessageOut], summary="消息发送记录")
def outbox(auth: CurrentAuth, session: DbSession,
           status: Annotated[str | None, Query(pattern="^(pending|sent|failed|suppressed)$")] = None,
           topic: Annotated[str | None, Query(max_length=40)] = None,
           limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[OutboxMessageOut]:
    """The newest messages first, with status, attempts and the last error (phones masked)."""
    auth.require(Action.OUTBOX_VIEW)
    return [OutboxMessageOut.of(m) for m in service.recent_messages(session, limit=limit, status=status,
                                                                   topic=topic)]
