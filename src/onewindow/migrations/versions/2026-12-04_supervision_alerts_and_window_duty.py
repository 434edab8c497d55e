"""电子监察 alerts (one inbox: the case deadline sweep's case_alert rows move in) and the window schedule

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-04 21:54:27.695693
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onewindow.db

revision: str = '0010'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('supervision_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('subject_type', sa.String(length=24), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('episode', sa.String(length=40), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('raised_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.Integer(), nullable=True),
    sa.Column('acknowledge_note', sa.Text(), nullable=False),
    sa.Column('supervised_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('supervised_by', sa.Integer(), nullable=True),
    sa.Column('supervise_note', sa.Text(), nullable=False),
    sa.Column('supervise_due', sa.Date(), nullable=True),
    sa.Column('closed_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['staff_user.id'], name=op.f('fk_supervision_alert_acknowledged_by_staff_user')),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_supervision_alert_department_id_department')),
    sa.ForeignKeyConstraint(['supervised_by'], ['staff_user.id'], name=op.f('fk_supervision_alert_supervised_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_alert')),
    sa.UniqueConstraint('rule', 'subject_type', 'subject_id', 'episode', name=op.f('uq_supervision_alert_rule_subject_type_subject_id_episode'))
    )
    with op.batch_alter_table('supervision_alert', schema=None) as batch_op:
        batch_op.create_index('ix_supervision_alert_department_state', ['department_id', 'state'], unique=False)
        batch_op.create_index('ix_supervision_alert_raised_at', ['raised_at'], unique=False)
        batch_op.create_index('ix_supervision_alert_state_rule', ['state', 'rule'], unique=False)

    op.create_table('supervision_window_duty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_supervision_window_duty_user_id_staff_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['window_id'], ['queue_window.id'], name=op.f('fk_supervision_window_duty_window_id_queue_window'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_window_duty')),
    sa.UniqueConstraint('window_id', name=op.f('uq_supervision_window_duty_window_id'))
    )
    with op.batch_alter_table('supervision_window_duty', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_window_duty_user_id'), ['user_id'], unique=False)

    _case_alerts_up()
    with op.batch_alter_table('case_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_alert_case_id'))
        batch_op.drop_index(batch_op.f('ix_case_alert_department_id'))
        batch_op.drop_index(batch_op.f('ix_case_alert_open'))

    op.drop_table('case_alert')


_RULES = {"yellow": "case_yellow", "red": "case_red", "deferral_overdue": "deferral_due"}
_KINDS = {rule: kind for kind, rule in _RULES.items()}
_OLD = sa.table('case_alert', sa.column('id', sa.Integer()), sa.column('case_id', sa.Integer()),
                sa.column('department_id', sa.Integer()), sa.column('kind', sa.String()), sa.column('due', sa.Date()),
                sa.column('message', sa.Text()), sa.column('created_at', onewindow.db.AwareDateTime()),
                sa.column('resolved_at', onewindow.db.AwareDateTime()))
_NEW = sa.table('supervision_alert', *(sa.column(n) for n in (
    'rule', 'subject_type', 'subject_id', 'episode', 'level', 'department_id', 'title', 'link', 'state',
    'version', 'acknowledge_note', 'supervise_note', 'close_reason')), sa.column('evidence', sa.JSON()),
    sa.column('raised_at', onewindow.db.AwareDateTime()), sa.column('closed_at', onewindow.db.AwareDateTime()))


def _case_alerts_up() -> None:
    """The deadline sweep's alerts become supervision alerts of the case rules (closed when they were resolved)."""
    bind = op.get_bind()
    rows = []
    for r in bind.execute(sa.select(_OLD)).mappings():
        rows.append({"rule": _RULES.get(r["kind"], r["kind"][:32]), "subject_type": "case", "subject_id": r["case_id"],
                     "episode": r["due"].isoformat(), "level": "yellow" if r["kind"] == "yellow" else "red",
                     "department_id": r["department_id"], "title": r["message"][:200], "link": f"/cases/{r['case_id']}",
                     "state": "closed" if r["resolved_at"] else "open", "version": 1, "acknowledge_note": "",
                     "supervise_note": "", "close_reason": "原因已消除，系统自动关闭" if r["resolved_at"] else "",
                     "evidence": {"due": r["due"].isoformat(), "from": "case_alert"}, "raised_at": r["created_at"],
                     "closed_at": r["resolved_at"]})
    if rows:
        bind.execute(_NEW.insert(), rows)


def _case_alerts_down() -> None:
    """Back to case_alert: the case rules' alerts (one per case, kind and due date)."""
    bind = op.get_bind()
    new = sa.table('supervision_alert', sa.column('rule'), sa.column('subject_type'), sa.column('subject_id'),
                   sa.column('episode'), sa.column('department_id'), sa.column('title'),
                   sa.column('raised_at', onewindow.db.AwareDateTime()),
                   sa.column('closed_at', onewindow.db.AwareDateTime()))
    rows, seen = [], set()
    for r in bind.execute(sa.select(new).where(new.c.subject_type == 'case', new.c.rule.in_(list(_KINDS)),
                                               new.c.department_id.is_not(None))).mappings():
        key = (r["subject_id"], _KINDS[r["rule"]], r["episode"])
        if key in seen:
            continue
        seen.add(key)
        rows.append({"case_id": r["subject_id"], "department_id": r["department_id"], "kind": key[1],
                     "due": dt.date.fromisoformat(r["episode"]), "message": r["title"],
                     "created_at": r["raised_at"], "resolved_at": r["closed_at"]})
    if rows:
        bind.execute(_OLD.insert(), rows)


def downgrade() -> None:
    op.create_table('case_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', onewindow.db.AwareDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', onewindow.db.AwareDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_alert_case_id_case_record'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_case_alert_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_alert')),
    sa.UniqueConstraint('case_id', 'kind', 'due', name=op.f('uq_case_alert_case_id_kind_due'))
    )
    with op.batch_alter_table('case_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_alert_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_alert_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_case_alert_open', ['resolved_at', 'kind'], unique=False)
    _case_alerts_down()

    with op.batch_alter_table('supervision_window_duty', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_window_duty_user_id'))

    op.drop_table('supervision_window_duty')
    with op.batch_alter_table('supervision_alert', schema=None) as batch_op:
        batch_op.drop_index('ix_supervision_alert_state_rule')
        batch_op.drop_index('ix_supervision_alert_raised_at')
        batch_op.drop_index('ix_supervision_alert_department_state')

    op.drop_table('supervision_alert')
