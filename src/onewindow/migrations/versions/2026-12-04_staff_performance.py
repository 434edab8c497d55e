"""staff window shifts (考勤) and monthly performance scores (绩效考核)

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-04 21:53:33.745981
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onewindow.db

revision: str = '0012'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('staff_performance_month',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('computed_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('clerks', sa.Integer(), nullable=False),
    sa.Column('ranked', sa.Integer(), nullable=False),
    sa.Column('reported_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_performance_month')),
    sa.UniqueConstraint('month', name=op.f('uq_staff_performance_month_month'))
    )
    op.create_table('staff_performance_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('subject_kind', sa.String(length=12), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('subject_name', sa.String(length=100), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('ranked', sa.Boolean(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('award', sa.String(length=12), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('computed_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_staff_performance_score_department_id_department')),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_staff_performance_score_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_performance_score')),
    sa.UniqueConstraint('month', 'subject_kind', 'subject_id', name=op.f('uq_staff_performance_score_month_subject_kind_subject_id'))
    )
    with op.batch_alter_table('staff_performance_score', schema=None) as batch_op:
        batch_op.create_index('ix_staff_performance_score_department_month', ['department_id', 'month'], unique=False)
        batch_op.create_index('ix_staff_performance_score_month_kind_rank', ['month', 'subject_kind', 'rank'], unique=False)
        batch_op.create_index('ix_staff_performance_score_user_month', ['user_id', 'month'], unique=False)
    op.create_table('staff_shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('started_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_staff_shift_hall_id_hall')),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_staff_shift_user_id_staff_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['window_id'], ['queue_window.id'], name=op.f('fk_staff_shift_window_id_queue_window'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_shift'))
    )
    with op.batch_alter_table('staff_shift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_shift_hall_id'), ['hall_id'], unique=False)
        batch_op.create_index('ix_staff_shift_started', ['started_at'], unique=False)
        batch_op.create_index('ix_staff_shift_user_started', ['user_id', 'started_at'], unique=False)
        batch_op.create_index('ix_staff_shift_window_started', ['window_id', 'started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_shift', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_shift_window_started')
        batch_op.drop_index('ix_staff_shift_user_started')
        batch_op.drop_index('ix_staff_shift_started')
        batch_op.drop_index(batch_op.f('ix_staff_shift_hall_id'))
    op.drop_table('staff_shift')
    with op.batch_alter_table('staff_performance_score', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_performance_score_user_month')
        batch_op.drop_index('ix_staff_performance_score_month_kind_rank')
        batch_op.drop_index('ix_staff_performance_score_department_month')
    op.drop_table('staff_performance_score')
    op.drop_table('staff_performance_month')
