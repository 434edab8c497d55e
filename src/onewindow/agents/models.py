"""Agent authorisations (帮办代办授权): an applicant authorises an agent for some items (or all) for a period.

The table keeps its name from when it lived in the cases domain; a case records the authorisation it was
applied under (``case_record.authorization_id``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from onewindow.db import AwareDateTime, Base


class AgentAuthorization(Base):
    """帮办代办: an applicant authorises an agent for some items (or all) for a period."""

    __tablename__ = "agent_authorization"
    __table_args__ = (Index("ix_agent_authorization_applicant", "applicant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    applicant_kind: Mapped[str] = mapped_column(String(12))
    applicant_id: Mapped[str] = mapped_column(String(18))
    applicant_name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[list[str]] = mapped_column(JSON)  # item or bundle codes; empty: every item
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    document: Mapped[str] = mapped_column(String(200), default="")  # 授权委托书 reference
    revoked_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
