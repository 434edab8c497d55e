"""Accounts hardening: sign-in throttling and lockout, idle expiry of web sessions, password change time

Revision ID: 0016
Revises: 0009
Create Date: 2026-12-04 23:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onewindow.db

revision: str = '0016'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('staff_login_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_login_throttle')),
    sa.UniqueConstraint('key', name=op.f('uq_staff_login_throttle_key'))
    )
    # plain ALTER TABLE … ADD COLUMN (no batch copy: other tables refer to staff_user)
    op.add_column('staff_session', sa.Column('last_seen_at', onewindow.db.AwareDateTime(timezone=True),
                                             nullable=True))
    op.add_column('staff_user', sa.Column('password_changed_at', onewindow.db.AwareDateTime(timezone=True),
                                          nullable=True))
    op.create_index(op.f('ix_api_token_created_at'), 'api_token', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_api_token_created_at'), table_name='api_token')
    op.drop_column('staff_user', 'password_changed_at')
    op.drop_column('staff_session', 'last_seen_at')
    op.drop_table('staff_login_throttle')
