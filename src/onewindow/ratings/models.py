"""Ratings (好差评): one per served ticket visit (一次一评), one per finished case (一事一评).

The unique constraints on ``ticket_id`` and ``case_id`` make a second rating of the same visit or case
impossible, also when many raters submit at once. A rating is tied to everything its figures are cut by
(item, department, hall, window, clerk) as they were when it was given.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.db import AwareDateTime, Base


class Rating(Base):
    """One rating: level, dimension scores, 差评 reasons and text, channel, rater."""

    __tablename__ = "rating"
    __table_args__ = (
        Index("ix_rating_department_rated_on", "department_id", "rated_on"),
        Index("ix_rating_hall_rated_on", "hall_id", "rated_on"),
        Index("ix_rating_clerk_rated_on", "clerk_id", "rated_on"),
        Index("ix_rating_item_rated_on", "item_id", "rated_on"),
        Index("ix_rating_negative_rated_on", "negative", "rated_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(8))  # ticket (一次一评) | case (一事一评)
    ticket_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                                  ForeignKey("queue_ticket.id"), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), unique=True)
    level: Mapped[str] = mapped_column(String(20))  # very_satisfied … very_unsatisfied
    negative: Mapped[bool] = mapped_column(Boolean)  # 差评: 不满意 or 非常不满意
    scores: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # dimension → level
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)  # chosen 差评 reasons
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(12))  # evaluator | qr | online | sms | kiosk | default
    identified: Mapped[bool] = mapped_column(Boolean, default=False)  # 实名
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)  # 默认好评 after N days, shown apart
    rater_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    rater_name: Mapped[str] = mapped_column(String(100), default="")
    rater_id_number: Mapped[str] = mapped_column(String(18), default="")  # stored whole, shown masked
    rater_phone: Mapped[str] = mapped_column(String(20), default="")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("queue_window.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    served_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())  # when the service ended
    rated_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    rated_on: Mapped[dt.date] = mapped_column(Date)
    voided_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())  # an upheld appeal (无效差评)
    void_reason: Mapped[str] = mapped_column(Text, default="")
    pushed_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())  # sent to the provincial system
