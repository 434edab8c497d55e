"""Staff users, their web sessions and API tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from onewindow.catalog.models import Department, Hall
from onewindow.db import AwareDateTime, Base


class User(Base):
    """A person who signs in: staff of the center or a department."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("hall.id"), index=True)
    id_number: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    last_login_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    department: Mapped[Department | None] = relationship(lazy="joined")
    hall: Mapped[Hall | None] = relationship(lazy="joined")


class WebSession(Base):
    """A signed-in browser; the cookie carries a random token whose hash is stored here."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(AwareDateTime(), index=True)

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(Base):
    """A bearer token for the API; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(AwareDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(AwareDateTime())

    user: Mapped[User] = relationship(lazy="joined")
