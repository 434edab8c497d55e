"""procedure rules: item_version.procedure (typed steps and limits), case_record.procedure, case_step.kind

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:20:00.000000

The data part types what exists: every item version gets the procedure its steps and limits imply
(``catalog.procedure.procedure_of``, 容缺 days at the settings default), every case step the kind of
its name (``classify_step``; the first step of a case is its acceptance). Names no rule knows are
typed ``review`` (a step before the decision takes an opinion whatever it is called) and logged.
Cases keep ``procedure`` NULL: their limits are already on the case row.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from onewindow.catalog.procedure import StepKind, UnknownStepName, classify_step, procedure_of

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

_item_version = sa.table(
    'item_version', sa.column('id', sa.Integer()), sa.column('steps', sa.JSON()),
    sa.column('legal_limit_days', sa.Integer()), sa.column('promised_limit_days', sa.Integer()),
    sa.column('limit_unit', sa.String()), sa.column('procedure', sa.JSON()),
)
_case_step = sa.table(
    'case_step', sa.column('id', sa.Integer()), sa.column('name', sa.String()), sa.column('position', sa.Integer()),
    sa.column('kind', sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table('item_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('procedure', sa.JSON(), nullable=True))
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('procedure', sa.JSON(), nullable=True))
    with op.batch_alter_table('case_step', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), nullable=True))

    conn = op.get_bind()
    unknown: set[str] = set()
    rows = conn.execute(sa.select(_item_version.c.id, _item_version.c.steps, _item_version.c.legal_limit_days,
                                  _item_version.c.promised_limit_days, _item_version.c.limit_unit)).all()
    for vid, steps, legal, promised, unit in rows:
        names = [str(n) for n in (steps or [])]
        for name in names:
            try:
                classify_step(name)
            except UnknownStepName:
                unknown.add(name)
        proc = procedure_of(legal_days=legal, promised_days=min(promised, legal), unit=unit, steps=names)
        conn.execute(_item_version.update().where(_item_version.c.id == vid).values(procedure=proc.to_json()))
    conn.execute(_case_step.update().where(_case_step.c.position == 1).values(kind=StepKind.ACCEPT.value))
    for (name,) in conn.execute(sa.select(_case_step.c.name).where(_case_step.c.position != 1).distinct()).all():
        try:
            kind = classify_step(name)
        except UnknownStepName:
            unknown.add(name)
            kind = StepKind.REVIEW
        conn.execute(_case_step.update().where(_case_step.c.name == name, _case_step.c.position != 1)
                     .values(kind=kind.value))
    if unknown:
        log.warning("step names typed as review (no rule knows them): %s", "、".join(sorted(unknown)))


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place: recreating item_version would trip the foreign
    # keys that point at it (item.current_version_id, material, case_record) once it has rows.
    with op.batch_alter_table('case_step', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('case_record', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('procedure')
    with op.batch_alter_table('item_version', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('procedure')
