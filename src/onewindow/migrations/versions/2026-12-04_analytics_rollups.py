"""analytics rollups: daily facts (fine and per department), hourly, wait histogram, open-work gauges; day indexes on the records

Revision ID: 0015
Revises: 0017
Create Date: 2026-12-04 22:57:30.648376
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('analytics_fact',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('clerk_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('tickets', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('waited', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('wait_seconds', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('served', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('service_seconds', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('cases_accepted', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('cases_finished', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('finished_on_time', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('finished_visits_1', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('finished_visits_2', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('finished_visits_3', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('ratings', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('ratings_good', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('ratings_negative', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('ratings_default', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('negative_rectified', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints_closed', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints_on_time', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints_replied', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints_rated', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints_satisfied', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('day', 'hall_id', 'department_id', 'item_id', 'window_id', 'clerk_id', 'channel', name=op.f('pk_analytics_fact'))
    )
    with op.batch_alter_table('analytics_fact', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_fact_department_day', ['department_id', 'day'], unique=False)
        batch_op.create_index('ix_analytics_fact_hall_day', ['hall_id', 'day'], unique=False)

    op.create_table('analytics_fact_dept',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('tickets', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('waited', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('wait_seconds', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('served', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('service_seconds', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('cases_accepted', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('cases_finished', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('finished_on_time', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('finished_visits_1', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('finished_visits_2', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('finished_visits_3', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('ratings', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('ratings_good', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('ratings_negative', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('ratings_default', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('negative_rectified', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints_closed', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints_on_time', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints_replied', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints_rated', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('complaints_satisfied', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('day', 'hall_id', 'department_id', 'channel', name=op.f('pk_analytics_fact_dept'))
    )
    with op.batch_alter_table('analytics_fact_dept', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_fact_dept_department_day', ['department_id', 'day'], unique=False)
        batch_op.create_index('ix_analytics_fact_dept_hall_day', ['hall_id', 'day'], unique=False)

    op.create_table('analytics_hourly',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hour', sa.SmallInteger(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('tickets', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('waited', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('wait_seconds', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('cases_accepted', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('day', 'hour', 'hall_id', 'department_id', name=op.f('pk_analytics_hourly'))
    )
    with op.batch_alter_table('analytics_hourly', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_hourly_department_day', ['department_id', 'day'], unique=False)

    op.create_table('analytics_open',
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('count', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'hall_id', 'department_id', 'due_on', name=op.f('pk_analytics_open'))
    )
    with op.batch_alter_table('analytics_open', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_open_department', ['kind', 'department_id', 'due_on'], unique=False)

    op.create_table('analytics_wait',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.SmallInteger(), nullable=False),
    sa.Column('tickets', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('day', 'hall_id', 'department_id', 'bucket', name=op.f('pk_analytics_wait'))
    )
    with op.batch_alter_table('analytics_wait', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_wait_department_day', ['department_id', 'day'], unique=False)

    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.create_index('ix_case_record_accepted_on', ['accepted_on'], unique=False)

    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_closed_on', ['closed_on'], unique=False)

    with op.batch_alter_table('queue_ticket', schema=None) as batch_op:
        batch_op.create_index('ix_queue_ticket_day', ['day'], unique=False)

    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.create_index('ix_rating_rated_on', ['rated_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_rated_on')

    with op.batch_alter_table('queue_ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_ticket_day')

    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_closed_on')

    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_index('ix_case_record_accepted_on')

    with op.batch_alter_table('analytics_wait', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_wait_department_day')

    op.drop_table('analytics_wait')
    with op.batch_alter_table('analytics_open', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_open_department')

    op.drop_table('analytics_open')
    with op.batch_alter_table('analytics_hourly', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_hourly_department_day')

    op.drop_table('analytics_hourly')
    with op.batch_alter_table('analytics_fact_dept', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_fact_dept_hall_day')
        batch_op.drop_index('ix_analytics_fact_dept_department_day')

    op.drop_table('analytics_fact_dept')
    with op.batch_alter_table('analytics_fact', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_fact_hall_day')
        batch_op.drop_index('ix_analytics_fact_department_day')

    op.drop_table('analytics_fact')
