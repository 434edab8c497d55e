"""analytics: a covering index on the wait histogram, bucket first (the period's p90 without a sort)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 21:40:00.000000

Additive: the rollups are unchanged; a history built before it gains the index on upgrade.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_analytics_wait_bucket_day', 'analytics_wait',
                    ['bucket', 'day', 'hall_id', 'department_id', 'tickets'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_analytics_wait_bucket_day', table_name='analytics_wait')
