"""三级 network: 流转 of a case's paper file between its receiving point and the handling department; SMS opt-out

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-04 23:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onewindow.db

revision: str = '0020'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('leg', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('sent_by', sa.Integer(), nullable=False),
    sa.Column('sent_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('received_by', sa.Integer(), nullable=True),
    sa.Column('received_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_transfer_case_id_case_record'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_case_transfer_department_id_department')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_case_transfer_hall_id_hall')),
    sa.ForeignKeyConstraint(['received_by'], ['staff_user.id'], name=op.f('fk_case_transfer_received_by_staff_user')),
    sa.ForeignKeyConstraint(['sent_by'], ['staff_user.id'], name=op.f('fk_case_transfer_sent_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_transfer')),
    sa.UniqueConstraint('case_id', 'leg', name=op.f('uq_case_transfer_case_id_leg'))
    )
    with op.batch_alter_table('case_transfer', schema=None) as batch_op:
        batch_op.create_index('ix_case_transfer_department_state', ['department_id', 'state'], unique=False)
        batch_op.create_index('ix_case_transfer_hall_state', ['hall_id', 'state'], unique=False)

    op.create_table('notification_opt_out',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('opted_out_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_notification_opt_out_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_opt_out')),
    sa.UniqueConstraint('phone', name=op.f('uq_notification_opt_out_phone'))
    )


def downgrade() -> None:
    op.drop_table('notification_opt_out')
    with op.batch_alter_table('case_transfer', schema=None) as batch_op:
        batch_op.drop_index('ix_case_transfer_hall_state')
        batch_op.drop_index('ix_case_transfer_department_state')

    op.drop_table('case_transfer')
