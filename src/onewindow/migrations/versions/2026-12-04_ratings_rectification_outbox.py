"""ratings (好差评), rectification work orders (整改) and the notification outbox

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:06:41.957306
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onewindow.db

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=300), nullable=False),
    sa.Column('recipient_user_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['recipient_user_id'], ['staff_user.id'], name=op.f('fk_outbox_message_recipient_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_status_next', ['status', 'next_attempt_at'], unique=False)

    op.create_table('rectification_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('raiser_name', sa.String(length=100), nullable=False),
    sa.Column('raiser_phone', sa.String(length=20), nullable=False),
    sa.Column('raiser_user_id', sa.Integer(), nullable=True),
    sa.Column('identified', sa.Boolean(), nullable=False),
    sa.Column('opened_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('deadline_days', sa.Integer(), nullable=False),
    sa.Column('extension_days', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('verification', sa.Text(), nullable=False),
    sa.Column('verified_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('appeal_reason', sa.Text(), nullable=False),
    sa.Column('appeal_evidence', sa.Text(), nullable=False),
    sa.Column('appeal_decision', sa.String(length=10), nullable=True),
    sa.Column('appeal_decided_by', sa.Integer(), nullable=True),
    sa.Column('appeal_decided_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('rectified_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('callback_verdict', sa.String(length=12), nullable=True),
    sa.Column('callback_note', sa.Text(), nullable=False),
    sa.Column('callback_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('closed_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appeal_decided_by'], ['staff_user.id'], name=op.f('fk_rectification_order_appeal_decided_by_staff_user')),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_rectification_order_created_by_staff_user')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_rectification_order_department_id_department')),
    sa.ForeignKeyConstraint(['raiser_user_id'], ['staff_user.id'], name=op.f('fk_rectification_order_raiser_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_order')),
    sa.UniqueConstraint('number', name=op.f('uq_rectification_order_number')),
    sa.UniqueConstraint('source_kind', 'source_id', name=op.f('uq_rectification_order_source_kind_source_id'))
    )
    with op.batch_alter_table('rectification_order', schema=None) as batch_op:
        batch_op.create_index('ix_rectification_order_department_state', ['department_id', 'state'], unique=False)
        batch_op.create_index('ix_rectification_order_opened_on', ['opened_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_rectification_order_overdue'), ['overdue'], unique=False)
        batch_op.create_index('ix_rectification_order_state_due', ['state', 'due_on'], unique=False)

    op.create_table('rectification_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['staff_user.id'], name=op.f('fk_rectification_event_actor_id_staff_user')),
    sa.ForeignKeyConstraint(['order_id'], ['rectification_order.id'], name=op.f('fk_rectification_event_order_id_rectification_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_event'))
    )
    with op.batch_alter_table('rectification_event', schema=None) as batch_op:
        batch_op.create_index('ix_rectification_event_order_id_id', ['order_id', 'id'], unique=False)

    op.create_table('rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=8), nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('negative', sa.Boolean(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('identified', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('rater_user_id', sa.Integer(), nullable=True),
    sa.Column('rater_name', sa.String(length=100), nullable=False),
    sa.Column('rater_id_number', sa.String(length=18), nullable=False),
    sa.Column('rater_phone', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('hall_id', sa.Integer(), nullable=True),
    sa.Column('window_id', sa.Integer(), nullable=True),
    sa.Column('clerk_id', sa.Integer(), nullable=True),
    sa.Column('served_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('rated_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('rated_on', sa.Date(), nullable=False),
    sa.Column('voided_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.Text(), nullable=False),
    sa.Column('pushed_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_rating_case_id_case_record')),
    sa.ForeignKeyConstraint(['clerk_id'], ['staff_user.id'], name=op.f('fk_rating_clerk_id_staff_user')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_rating_department_id_department')),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], name=op.f('fk_rating_hall_id_hall')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_rating_item_id_item')),
    sa.ForeignKeyConstraint(['rater_user_id'], ['staff_user.id'], name=op.f('fk_rating_rater_user_id_staff_user')),
    sa.ForeignKeyConstraint(['ticket_id'], ['queue_ticket.id'], name=op.f('fk_rating_ticket_id_queue_ticket')),
    sa.ForeignKeyConstraint(['window_id'], ['queue_window.id'], name=op.f('fk_rating_window_id_queue_window')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating')),
    sa.UniqueConstraint('case_id', name=op.f('uq_rating_case_id')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_rating_ticket_id'))
    )
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.create_index('ix_rating_clerk_rated_on', ['clerk_id', 'rated_on'], unique=False)
        batch_op.create_index('ix_rating_department_rated_on', ['department_id', 'rated_on'], unique=False)
        batch_op.create_index('ix_rating_hall_rated_on', ['hall_id', 'rated_on'], unique=False)
        batch_op.create_index('ix_rating_item_rated_on', ['item_id', 'rated_on'], unique=False)
        batch_op.create_index('ix_rating_negative_rated_on', ['negative', 'rated_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_negative_rated_on')
        batch_op.drop_index('ix_rating_item_rated_on')
        batch_op.drop_index('ix_rating_hall_rated_on')
        batch_op.drop_index('ix_rating_department_rated_on')
        batch_op.drop_index('ix_rating_clerk_rated_on')

    op.drop_table('rating')
    with op.batch_alter_table('rectification_event', schema=None) as batch_op:
        batch_op.drop_index('ix_rectification_event_order_id_id')

    op.drop_table('rectification_event')
    with op.batch_alter_table('rectification_order', schema=None) as batch_op:
        batch_op.drop_index('ix_rectification_order_state_due')
        batch_op.drop_index(batch_op.f('ix_rectification_order_overdue'))
        batch_op.drop_index('ix_rectification_order_opened_on')
        batch_op.drop_index('ix_rectification_order_department_state')

    op.drop_table('rectification_order')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_status_next')

    op.drop_table('outbox_message')
