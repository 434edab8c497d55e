"""The audit chain's head row exists from the start

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 01:40:00.000000

The head row (``audit_head``, id 1) was inserted by the first audit append; two first appends at the same moment
(two workers on a fresh PostgreSQL database) both found it missing and the second failed on the duplicate key.
It is now inserted here, at the genesis hash, when it is not there yet (a chain that has entries has it).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.execute(f"INSERT INTO audit_head (id, last_hash) SELECT 1, '{GENESIS_HASH}' "  # noqa: S608 (a constant)
               "WHERE NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1)")


def downgrade() -> None:
    # an empty chain's head row goes (a chain with entries keeps it: its tip is not the genesis hash)
    op.execute(f"DELETE FROM audit_head WHERE id = 1 AND last_hash = '{GENESIS_HASH}'")  # noqa: S608
