"""complaints (有诉即办 / 12345): work orders, department assignments and their timeline

Revision ID: 0009
Revises: 0010
Create Date: 2026-12-04 21:51:44.417255
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onewindow.db

revision: str = '0009'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('tracking_code', sa.String(length=12), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('external_number', sa.String(length=40), nullable=True),
    sa.Column('source_kind', sa.String(length=16), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=12), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=True),
    sa.Column('hall_id', sa.Integer(), nullable=True),
    sa.Column('complainant_name', sa.String(length=100), nullable=False),
    sa.Column('complainant_phone', sa.String(length=20), nullable=False),
    sa.Column('complainant_id_number', sa.String(length=18), nullable=True),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('complainant_user_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('lead_department_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=False),
    sa.Column('limit_days', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('due_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.Column('replied_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('replied_by', sa.Integer(), nullable=True),
    sa.Column('callback_verdict', sa.String(length=12), nullable=True),
    sa.Column('callback_note', sa.Text(), nullable=False),
    sa.Column('callback_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('return_count', sa.Integer(), nullable=False),
    sa.Column('urge_count', sa.Integer(), nullable=False),
    sa.Column('last_urged_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('supervised_due_on', sa.Date(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('solved', sa.Boolean(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['complainant_user_id'], ['staff_user.id'], name=op.f('fk_complaint_complainant_user_id_staff_user')),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_complaint_created_by_staff_user')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_complaint_hall_id_hall')),
    sa.ForeignKeyConstraint(['lead_department_id'], ['department.id'], name=op.f('fk_complaint_lead_department_id_department')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['complaint.id'], name=op.f('fk_complaint_merged_into_id_complaint')),
    sa.ForeignKeyConstraint(['replied_by'], ['staff_user.id'], name=op.f('fk_complaint_replied_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint')),
    sa.UniqueConstraint('external_number', name=op.f('uq_complaint_external_number')),
    sa.UniqueConstraint('number', name=op.f('uq_complaint_number')),
    sa.UniqueConstraint('source_kind', 'source_id', name=op.f('uq_complaint_source_kind_source_id')),
    sa.UniqueConstraint('tracking_code', name=op.f('uq_complaint_tracking_code')),
    postgresql_with={'fillfactor': 50},
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_accepted_on', ['accepted_on'], unique=False)
        batch_op.create_index('ix_complaint_complainant_phone', ['complainant_phone'], unique=False)
        batch_op.create_index('ix_complaint_lead_department_state', ['lead_department_id', 'state'], unique=False)
        batch_op.create_index('ix_complaint_state_due_at', ['state', 'due_at'], unique=False)

    op.create_table('complaint_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('assigned_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('assigned_by', sa.Integer(), nullable=True),
    sa.Column('sign_due_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('signed_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('signed_by', sa.Integer(), nullable=True),
    sa.Column('returned_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by'], ['staff_user.id'], name=op.f('fk_complaint_assignment_assigned_by_staff_user')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_assignment_complaint_id_complaint'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_complaint_assignment_department_id_department')),
    sa.ForeignKeyConstraint(['signed_by'], ['staff_user.id'], name=op.f('fk_complaint_assignment_signed_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_assignment'))
    )
    with op.batch_alter_table('complaint_assignment', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_assignment_complaint_id', ['complaint_id'], unique=False)
        batch_op.create_index('ix_complaint_assignment_department_active', ['department_id', 'active'], unique=False)

    op.create_table('complaint_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('state_from', sa.String(length=16), nullable=True),
    sa.Column('state_to', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['staff_user.id'], name=op.f('fk_complaint_event_actor_id_staff_user')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_event_complaint_id_complaint'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_event'))
    )
    with op.batch_alter_table('complaint_event', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_event_complaint_id_id', ['complaint_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('complaint_event', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_event_complaint_id_id')

    op.drop_table('complaint_event')
    with op.batch_alter_table('complaint_assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_assignment_department_active')
        batch_op.drop_index('ix_complaint_assignment_complaint_id')

    op.drop_table('complaint_assignment')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_state_due_at')
        batch_op.drop_index('ix_complaint_lead_department_state')
        batch_op.drop_index('ix_complaint_complainant_phone')
        batch_op.drop_index('ix_complaint_accepted_on')

    op.drop_table('complaint')
