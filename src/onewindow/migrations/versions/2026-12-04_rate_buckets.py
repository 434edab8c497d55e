"""ops: rate_bucket, request budgets shared by every server process (anonymous ticket taking)

Revision ID: 0017
Revises: 0020
Create Date: 2026-12-04 23:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onewindow.db

revision: str = '0017'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rate_bucket',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('window_start', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_bucket'))
    )


def downgrade() -> None:
    op.drop_table('rate_bucket')
