"""one visit (最多跑一次): the delivery chosen at intake and online supply of 容缺 materials on case_record

Revision ID: 0023
Revises: 0015
Create Date: 2026-12-05 01:40:00.000000

Existing cases keep window pickup and no online supply (what they were offered).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # added in place (a recreated case_record would trip the foreign keys pointing at it once it has rows)
    with op.batch_alter_table('case_record', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('result_delivery', sa.String(length=12), nullable=False,
                                      server_default='pickup'))
        batch_op.add_column(sa.Column('delivery_address', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('delivery_recipient', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('supply_online', sa.Boolean(), nullable=False, server_default=sa.text('false')))


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place: recreating case_record would trip the foreign keys that point
    # at it once it has rows.
    with op.batch_alter_table('case_record', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('supply_online')
        batch_op.drop_column('delivery_recipient')
        batch_op.drop_column('delivery_address')
        batch_op.drop_column('result_delivery')
