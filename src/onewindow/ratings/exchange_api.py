"""``GET /api/v1/ratings/export``: the 好差评 ledger in the provincial exchange fields, as JSON, CSV or Excel.

For the center's admins and supervision (``RATING_EXPORT``); ID numbers and phones are masked in every format.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from onewindow.core.access import Action
from onewindow.core.errors import Problem, ValidationFailed
from onewindow.core.http import MaskedJSONResponse
from onewindow.deps import CurrentAuth, DbSession
from onewindow.ratings import exchange

router = APIRouter(prefix="/api/v1", tags=["ratings"])

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/ratings/export", summary="导出评价台账（省级好差评交换字段）")
def export_ratings(auth: CurrentAuth, session: DbSession,
                   format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
                   date_from: dt.date | None = None, date_to: dt.date | None = None) -> Response:
    """The ratings given between ``date_from`` and ``date_to`` (inclusive) in the exchange fields."""
    auth.require(Action.RATING_EXPORT)
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValidationFailed([Problem("date_from", "invalid_range", "开始日期不能晚于结束日期")])
    records = exchange.exchange_records(session, date_from=date_from, date_to=date_to)
    if format == "json":
        return MaskedJSONResponse(exchange.to_json(records))
    body = exchange.to_csv(records) if format == "csv" else exchange.to_xlsx(records)
    span = f"{date_from or 'all'}_{date_to or 'all'}"
    return Response(body, media_type=MEDIA_TYPES[format],
                    headers={"Content-Disposition": f'attachment; filename="ratings_{span}.{format}"'})
