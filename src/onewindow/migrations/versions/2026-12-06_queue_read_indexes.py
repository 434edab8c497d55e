"""queue: covering indexes for the public reads (a category's line, a hall's calls of the day)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 00:30:00.000000

Additive for tickets: ``ix_queue_ticket_line`` (hall, day, category, state, queued_at, issued_at) answers the
count of a ticket's people ahead and the hall state's waiting count and oldest ticket per category from the index
alone. Events: ``ix_queue_ticket_event_hall_state_at`` (hall, to_state, at) replaces (hall, at): the day's calls are
read newest first without stepping over every issue event of the day.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_queue_ticket_line', 'queue_ticket',
                    ['hall_id', 'day', 'category_id', 'state', 'queued_at', 'issued_at'], unique=False)
    op.create_index('ix_queue_ticket_event_hall_state_at', 'queue_ticket_event', ['hall_id', 'to_state', 'at'],
                    unique=False)
    op.drop_index('ix_queue_ticket_event_hall_at', table_name='queue_ticket_event')


def downgrade() -> None:
    op.create_index('ix_queue_ticket_event_hall_at', 'queue_ticket_event', ['hall_id', 'at'], unique=False)
    op.drop_index('ix_queue_ticket_event_hall_state_at', table_name='queue_ticket_event')
    op.drop_index('ix_queue_ticket_line', table_name='queue_ticket')
