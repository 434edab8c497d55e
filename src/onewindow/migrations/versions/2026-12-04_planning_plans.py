"""planning: saved window plans (排班计划), one per hall and week

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 22:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onewindow.db

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('planning_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('policy', sa.String(length=20), nullable=False),
    sa.Column('target_mean_min', sa.Float(), nullable=False),
    sa.Column('target_p90_min', sa.Float(), nullable=True),
    sa.Column('hall_input', sa.JSON(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_planning_plan_hall_id_hall')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['staff_user.id'], name=op.f('fk_planning_plan_updated_by_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_plan')),
    sa.UniqueConstraint('hall_id', 'week_start', name='uq_planning_plan_hall_week')
    )


def downgrade() -> None:
    op.drop_table('planning_plan')
