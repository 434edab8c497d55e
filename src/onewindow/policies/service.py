"""Policies service: the policy library, register fields, the entity register, matching, grants.

Writes flush and audit; the edge (API, page, CLI) commits (ADR 1). The matcher over the register is
built once and cached on the app (:class:`MatcherCache`), rebuilt when policies or fields change and
patched in place (``Matcher.rematch``) when one entity is updated. The CLI imports this module only
inside its commands, so NumPy (the matcher) does not slow ``onewindow --help``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onewindow.catalog.importer import ImportReport
from onewindow.catalog.models import Department
from onewindow.catalog.schemas import CatalogIn, EntityFieldIn, PolicyIn
from onewindow.core import access, audit
from onewindow.core.access import Action, Record, Viewer
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.errors import NotFound, Problem, ValidationFailed
from onewindow.core.ids import validate_credit_code, validate_id_number
from onewindow.policies import conditions as cond
from onewindow.policies.conditions import TYPE_LABELS, FieldDef, FieldType, field_defs, parse_conditions
from onewindow.policies.grants_states import GrantState, check_transition
from onewindow.policies.matcher import (
    Explanation,
    Matcher,
    MatchResult,
    Register,
    Rule,
    coerce_entity,
    coerce_value,
    evaluate_tree,
    missing_counts,
    rules_from_json,
)
from onewindow.policies.models import Entity, EntityField, Grant, Policy


def field_definitions(session: Session, catalog: CatalogIn | None = None) -> dict[str, list[dict[str, str]]]:
    """Register fields by kind: the database's, overlaid with those of a file being imported."""
    out: dict[str, dict[str, dict[str, str]]] = {"enterprise": {}, "person": {}}
    for f in session.scalars(select(EntityField)):
        out.setdefault(f.kind, {})[f.name] = {"name": f.name, "type": f.type, "label": f.label}
    if catalog is not None and catalog.entity_fields is not None:
        for kind in ("enterprise", "person"):
            for fi in getattr(catalog.entity_fields, kind):
                out[kind][fi.name] = fi.model_dump()
    return {k: list(v.values()) for k, v in out.items()}


def condition_problems(conditions: list[dict[str, Any]], fields: list[dict[str, str]], prefix: str) -> list[Problem]:
    """Problems of a policy's conditions against the register fields (delegates to the pure validator)."""

    return list(cond.validate_conditions(conditions, cond.field_defs(fields), path=prefix))


def policy_file_problems(session: Session, catalog: CatalogIn) -> list[Problem]:
    """Problems of the policy sections of a catalog file: departments and conditions."""
    problems: list[Problem] = []
    fields = field_definitions(session, catalog)
    departments = {d.code for d in catalog.departments} | set(session.scalars(select(Department.code)))
    for i, policy in enumerate(catalog.policies):
        if policy.department not in departments:
            problems.append(Problem(f"policies[{i}].department", "unknown_department",
                                    f"未知部门编码：{policy.department}"))
        if policy.valid_from and policy.valid_to and policy.valid_to < policy.valid_from:
            problems.append(Problem(f"policies[{i}].valid_to", "bad_validity", "有效期结束日期早于开始日期"))
        problems += condition_problems(policy.conditions, fields[policy.audience], f"policies[{i}].conditions")
    return problems


def save_entity_field(session: Session, *, clock: Clock, actor: Actor, kind: str, data: EntityFieldIn) -> bool:
    """Create or update a register field definition."""
    row = session.scalar(select(EntityField).where(EntityField.kind == kind, EntityField.name == data.name))
    if row is not None and row.type == data.type and row.label == data.label:
        return False
    before = {"type": row.type, "label": row.label} if row else None
    if row is None:
        session.add(EntityField(kind=kind, name=data.name, type=data.type, label=data.label))
    else:
        row.type, row.label = data.type, data.label
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="policies.field_saved", entity_type="entity_field",
                 entity_id=f"{kind}.{data.name}", before=before, after=data.model_dump())
    return True


def save_policy(session: Session, *, clock: Clock, actor: Actor, data: PolicyIn) -> bool:
    """Create or update a policy (conditions already validated by the caller)."""
    dept_id = session.scalar(select(Department.id).where(Department.code == data.department))
    values: dict[str, Any] = {
        "name": data.name, "department_id": dept_id, "audience": data.audience, "benefit": data.benefit,
        "amount_yuan": data.amount_yuan, "conditions": data.conditions, "valid_from": data.valid_from,
        "valid_to": data.valid_to, "basis": data.basis,
    }
    row = session.scalar(select(Policy).where(Policy.code == data.code))
    if row is not None:
        diff = {k: v for k, v in values.items() if getattr(row, k) != v}
        if not diff:
            return False
        before = {k: getattr(row, k) for k in diff}
        for k, v in diff.items():
            setattr(row, k, v)
        row.updated_at = clock.now()
    else:
        diff, before = values, None
        session.add(Policy(code=data.code, status="active", updated_at=clock.now(), **values))
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="policies.policy_saved", entity_type="policy",
                 entity_id=data.code, before=before, after=diff)
    return True


def import_policy_sections(session: Session, *, clock: Clock, actor: Actor, catalog: CatalogIn,
                           report: ImportReport) -> None:
    """Write the entity_fields and policies sections of a validated catalog file."""
    if catalog.entity_fields is not None:
        for kind in ("enterprise", "person"):
            for f in getattr(catalog.entity_fields, kind):
                report.bump("entity_fields", save_entity_field(session, clock=clock, actor=actor, kind=kind, data=f))
    for policy in catalog.policies:
        report.bump("policies", save_policy(session, clock=clock, actor=actor, data=policy))


def list_policies(session: Session) -> list[Policy]:
    """All policies by code."""
    return list(session.scalars(select(Policy).order_by(Policy.code)))


def get_policy(session: Session, code: str) -> Policy:
    """A policy by code, or 404."""
    row = session.scalar(select(Policy).where(Policy.code == code))
    if row is None:
        raise NotFound("政策", code, field="code")
    return row


def save_policy_checked(session: Session, *, clock: Clock, actor: Actor, data: PolicyIn,
                        creating: bool | None = None) -> tuple[Policy, bool]:
    """Validate a policy (department, validity, conditions against the register fields), save it; changed?"""
    problems: list[Problem] = []
    exists = session.scalar(select(Policy.id).where(Policy.code == data.code)) is not None
    if creating is True and exists:
        problems.append(Problem("code", "duplicate_code", f"政策编码已存在：{data.code}"))
    if creating is False and not exists:
        raise NotFound("政策", data.code, field="code")
    if session.scalar(select(Department.id).where(Department.code == data.department)) is None:
        problems.append(Problem("department", "unknown_department", f"未知部门编码：{data.department}"))
    if data.valid_from and data.valid_to and data.valid_to < data.valid_from:
        problems.append(Problem("valid_to", "bad_validity", "有效期结束日期早于开始日期"))
    problems += condition_problems(data.conditions, field_definitions(session)[data.audience], "conditions")
    if problems:
        raise ValidationFailed(problems)
    changed = save_policy(session, clock=clock, actor=actor, data=data)
    return get_policy(session, data.code), changed


# ----- the entity register ------------------------------------------------------------------------

KINDS = ("enterprise", "person")
KIND_LABELS = {"enterprise": "企业", "person": "个人"}
IDENTIFIER_LABELS = {"enterprise": "统一社会信用代码", "person": "公民身份号码"}
IDENTIFIER_COLUMNS = ("identifier", "credit_code", "id_number", "统一社会信用代码", "公民身份号码", "身份证号")
NAME_COLUMNS = ("name", "名称", "企业名称", "姓名")
_TRUE = {"是", "true", "1", "yes", "y", "t", "真"}
_FALSE = {"否", "false", "0", "no", "n", "f", "假"}
_TAG_SPLIT = re.compile(r"[;；、|,，]")


def check_kind(kind: str) -> str:
    """The kind if it is enterprise or person; 422 otherwise."""
    if kind not in KINDS:
        raise ValidationFailed([Problem("kind", "unknown_kind", f"未知的主体类型：{kind}，可用：enterprise / person")])
    return kind


def fields_of(session: Session, kind: str) -> dict[str, FieldDef]:
    """The register's typed fields of one kind."""

    return field_defs(field_definitions(session)[check_kind(kind)])


def check_identifier(kind: str, value: str, path: str, problems: list[Problem]) -> str:
    """A credit code (enterprise) or ID number (person) normalised; a problem appended if invalid."""
    try:
        if kind == "enterprise":
            return validate_credit_code(value, field=path)
        return validate_id_number(value, field=path)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
        return value


def parse_value(fdef: FieldDef, value: Any, path: str, problems: list[Problem]) -> Any:
    """A cell from a file or a JSON body typed by its field (text such as “是” or “1;2” accepted)."""

    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        try:
            match fdef.type:
                case FieldType.INT:
                    number = float(text)
                    if not number.is_integer():
                        raise ValueError(text)
                    return int(number)
                case FieldType.FLOAT:
                    return float(text)
                case FieldType.BOOL:
                    if text.lower() in _TRUE:
                        return True
                    if text.lower() in _FALSE:
                        return False
                    raise ValueError(text)
                case FieldType.TAGS:
                    return list(dict.fromkeys(t.strip() for t in _TAG_SPLIT.split(text) if t.strip()))
                case _:
                    return text
        except ValueError:
            problems.append(Problem(path, "wrong_type", f"“{fdef.label}”的值“{text}”不是{_type_label(fdef)}"))
            return None
    if fdef.type == "str" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if hasattr(value, "tolist"):  # NumPy / Arrow arrays of tags
        value = value.tolist()
    return coerce_value(fdef, value, path, problems)


def _type_label(fdef: FieldDef) -> str:

    return TYPE_LABELS[fdef.type]


@dataclass(frozen=True)
class EntityRow:
    """One validated register row."""

    identifier: str
    name: str
    data: dict[str, Any]


def check_entity_rows(session: Session, kind: str, header: Sequence[str], rows: Sequence[Sequence[Any]],
                      *, first_line: int = 2) -> list[EntityRow]:
    """Validate every row of a register file (checksums, types, columns, duplicates); all problems at once."""
    fields = fields_of(session, kind)
    by_label = {f.label: f.name for f in fields.values()}
    problems: list[Problem] = []
    id_col = name_col = None
    columns: dict[int, str] = {}
    unknown = []
    for i, raw in enumerate(header):
        col = str(raw or "").strip()
        if col in IDENTIFIER_COLUMNS and id_col is None:
            id_col = i
        elif col in NAME_COLUMNS and name_col is None:
            name_col = i
        elif col in fields or col in by_label:
            columns[i] = col if col in fields else by_label[col]
        elif col:
            unknown.append(col)
    if unknown:
        problems.append(Problem("表头", "unknown_column",
                                f"未知列：{'、'.join(unknown)}（可用字段：{'、'.join(fields)}）"))
    if id_col is None:
        problems.append(Problem("表头", "missing_identifier",
                                f"缺少{IDENTIFIER_LABELS[kind]}列（列名 identifier 或 {IDENTIFIER_LABELS[kind]}）"))
    if name_col is None:
        problems.append(Problem("表头", "missing_name", "缺少名称列（列名 name、名称或姓名）"))
    if problems or id_col is None or name_col is None:
        raise ValidationFailed(problems)
    out: list[EntityRow] = []
    seen: dict[str, int] = {}
    for n, cells in enumerate(rows, start=first_line):
        where = f"第{n}行"

        def cell(i: int, cells: Sequence[Any] = cells) -> Any:
            return cells[i] if i < len(cells) else None

        raw_id = str(cell(id_col) or "").strip()
        identifier = check_identifier(kind, raw_id, f"{where}.{IDENTIFIER_LABELS[kind]}", problems)
        if identifier in seen:
            problems.append(Problem(f"{where}.{IDENTIFIER_LABELS[kind]}", "duplicate_identifier",
                                    f"与第{seen[identifier]}行重复：{identifier}"))
        elif raw_id:
            seen[identifier] = n
        name = str(cell(name_col) or "").strip()
        if not name:
            problems.append(Problem(f"{where}.名称", "missing_name", "名称不能为空"))
        elif len(name) > 200:
            problems.append(Problem(f"{where}.名称", "name_too_long", "名称不能超过 200 个字符"))
        data: dict[str, Any] = dict.fromkeys(fields)
        for i, fname in columns.items():
            data[fname] = parse_value(fields[fname], cell(i), f"{where}.{fname}", problems)
        out.append(EntityRow(identifier, name, data))
    if problems:
        raise ValidationFailed(problems)
    return out


def check_entity_data(fields: Mapping[str, FieldDef], data: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON body's field values typed (every field present, null where unknown); 422 with paths."""
    problems: list[Problem] = []
    unknown = sorted(k for k in data if k not in fields)
    if unknown:
        problems.append(Problem("data", "unknown_field", f"未知字段：{'、'.join(unknown)}"))
    out = {name: parse_value(fdef, data.get(name), f"data.{name}", problems) for name, fdef in fields.items()}
    if problems:
        raise ValidationFailed(problems)
    return out


def get_entity(session: Session, kind: str, identifier: str) -> Entity:
    """An entity by kind and identifier, or 404."""
    row = session.scalar(select(Entity).where(Entity.kind == check_kind(kind),
                                              Entity.identifier == identifier.strip().upper()))
    if row is None:
        raise NotFound(f"{KIND_LABELS[kind]}主体", identifier, field="identifier")
    return row


@dataclass
class ImportResult:
    """What an entity import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def import_entities(session: Session, *, clock: Clock, actor: Actor, kind: str, header: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> ImportResult:
    """Validate every row first, then create or update the entities; nothing is written if any row is bad."""
    checked = check_entity_rows(session, kind, header, rows)
    existing = {e.identifier: e for e in session.scalars(
        select(Entity).where(Entity.kind == kind, Entity.identifier.in_([r.identifier for r in checked])))}
    result = ImportResult()
    now = clock.now()
    for r in checked:
        row = existing.get(r.identifier)
        if row is None:
            session.add(Entity(kind=kind, identifier=r.identifier, name=r.name, data=r.data, updated_at=now))
            result.created += 1
        elif row.name != r.name or row.data != r.data:
            row.name, row.data, row.updated_at = r.name, r.data, now
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="policies.entities_imported", entity_type="entity",
                 entity_id=kind, after={"created": result.created, "updated": result.updated,
                                        "unchanged": result.unchanged})
    return result


# ----- the matcher over the register, cached ------------------------------------------------------

@dataclass
class KindMatch:
    """The compiled matcher of one kind, its current result, and register row → entity id."""

    matcher: Matcher
    result: MatchResult
    entity_ids: list[int]


@dataclass
class MatcherCache:
    """Matchers built from the database register, per kind; rebuilt when policies, fields or the day change."""

    stamp: tuple[Any, ...] | None = None
    kinds: dict[str, KindMatch] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


def _policy_rows(session: Session) -> list[dict[str, Any]]:
    return [{"code": p.code, "name": p.name, "audience": p.audience, "conditions": p.conditions,
             "valid_from": p.valid_from, "valid_to": p.valid_to, "status": p.status}
            for p in session.scalars(select(Policy).order_by(Policy.code))]


def _stamp(session: Session, on: dt.date) -> tuple[Any, ...]:
    policies = json.dumps(_policy_rows(session), sort_keys=True, default=str, ensure_ascii=False)
    fields = json.dumps(field_definitions(session), sort_keys=True, ensure_ascii=False)
    # entities are never deleted: the newest id and update time (both indexed) say whether any changed
    # one aggregate per query: SQLite answers a lone max() from the index, two together by a full scan
    entities = (session.scalar(select(func.max(Entity.id))), session.scalar(select(func.max(Entity.updated_at))))
    digest = hashlib.sha256((policies + fields).encode()).hexdigest()
    return (on, digest, *entities)


def rules_in_db(session: Session) -> list[Rule]:
    """Every policy in the database as a matcher rule."""

    fields = {k: field_defs(v) for k, v in field_definitions(session).items()}
    return rules_from_json(_policy_rows(session), fields)


def build_matchers(session: Session, on: dt.date) -> dict[str, KindMatch]:
    """Load the register, compile every active rule and match everything (vectorised)."""

    rules = rules_in_db(session)
    out: dict[str, KindMatch] = {}
    for kind in KINDS:
        fields = fields_of(session, kind)
        rows = session.execute(select(Entity.id, Entity.identifier, Entity.data).where(Entity.kind == kind)
                               .order_by(Entity.id)).all()
        records = [{k: v for k, v in (data or {}).items() if k in fields} for _, _, data in rows]
        register = Register.from_records(kind, fields, records, ids=[ident for _, ident, _ in rows])
        matcher = Matcher(register, rules, on)
        out[kind] = KindMatch(matcher, matcher.match_all(), [eid for eid, _, _ in rows])
    return out


def matchers_for(session: Session, cache: MatcherCache, *, clock: Clock) -> dict[str, KindMatch]:
    """The cached matchers, rebuilt first when anything they depend on changed."""
    on = today(clock)
    stamp = _stamp(session, on)
    with cache.lock:
        if cache.stamp != stamp or not cache.kinds:
            cache.kinds = build_matchers(session, on)
            cache.stamp = stamp
        return cache.kinds


def match_counts(session: Session, cache: MatcherCache, *, clock: Clock) -> dict[str, int]:
    """Matched entities per active policy code."""
    out: dict[str, int] = {}
    for km in matchers_for(session, cache, clock=clock).values():
        out.update(km.result.counts())
    return out


@dataclass(frozen=True)
class Preview:
    """How many entities a draft policy would match now, and how many it misses by one condition."""

    matches: int
    near_misses: int
    register_size: int


def preview(session: Session, cache: MatcherCache, *, clock: Clock, audience: str,
            conditions: Any) -> Preview:
    """Count the entities a draft condition set matches (validated first; 422 with paths)."""

    fields = fields_of(session, audience)
    node = parse_conditions(conditions, fields, "conditions")
    register = matchers_for(session, cache, clock=clock)[audience].matcher.register
    counts = missing_counts(node, register)
    return Preview(int(evaluate_tree(node, register).sum()), int((counts == 1).sum()), len(register))


# ----- one entity: upsert, rematch, explanations --------------------------------------------------

@dataclass
class EntityUpdate:
    """What saving one entity did: matches gained and lost, offers made and withdrawn, time taken."""

    entity: Entity
    created: bool
    changed: bool
    matched: list[str]
    added: list[str]
    removed: list[str]
    offered: list[str]
    expired: list[str]
    rematch_ms: float


def upsert_entity(session: Session, *, clock: Clock, actor: Actor, cache: MatcherCache, kind: str,
                  identifier: str, name: str, data: Mapping[str, Any], make_offers: bool = True) -> EntityUpdate:
    """Create or update one entity (a data-sharing update), re-match only it, and adjust its offers."""
    problems: list[Problem] = []
    identifier = check_identifier(check_kind(kind), identifier, "identifier", problems)
    name = name.strip()
    if not name:
        problems.append(Problem("name", "missing_name", "名称不能为空"))
    fields = fields_of(session, kind)
    try:
        typed = check_entity_data(fields, data)
    except ValidationFailed as exc:
        problems += exc.problems
    if problems:
        raise ValidationFailed(problems)
    kinds = matchers_for(session, cache, clock=clock)
    km = kinds[kind]
    row = session.scalar(select(Entity).where(Entity.kind == kind, Entity.identifier == identifier))
    created = row is None
    before = None if row is None else {"name": row.name, "data": row.data}
    if row is None:
        row = Entity(kind=kind, identifier=identifier, name=name, data=typed, updated_at=clock.now())
        session.add(row)
    elif row.name == name and row.data == typed:
        return EntityUpdate(row, False, False, km.matcher.match_record(typed), [], [], [], [], 0.0)
    else:
        row.name, row.data, row.updated_at = name, typed, clock.now()
    session.flush()
    with cache.lock:
        start = time.perf_counter()
        if created:
            matched = km.matcher.match_record(typed)
            added, removed = matched, []
        else:
            change = km.matcher.rematch(km.result, identifier, typed)
            matched, added, removed = change.matched, change.added, change.removed
        rematch_ms = (time.perf_counter() - start) * 1000
        # a new row is not in the columnar register: it is rebuilt on the next full use
        cache.stamp = None if created else _stamp(session, today(clock))
    audit.record(session, clock=clock, actor=actor, action="policies.entity_saved", entity_type="entity",
                 entity_id=f"{kind}:{identifier}", before=before, after={"name": name, "data": typed})
    offered: list[str] = []
    expired: list[str] = []
    if make_offers:
        offered = [p.code for p in _offer_policies(session, clock=clock, actor=actor, entity=row, codes=added,
                                                    matcher=km.matcher, record=typed)]
        expired = _withdraw_offers(session, clock=clock, actor=actor, entity=row, codes=removed)
    return EntityUpdate(row, created, True, matched, added, removed, offered, expired, rematch_ms)


def entity_record(session: Session, entity: Entity) -> dict[str, Any]:
    """An entity's stored values, typed, limited to the fields defined now."""

    fields = fields_of(session, entity.kind)
    return coerce_entity(fields, {k: v for k, v in (entity.data or {}).items() if k in fields})


@dataclass
class EntityPolicies:
    """An entity's "policies for me": matches and near misses explained, and its grants."""

    entity: Entity
    matched: list[Explanation]
    near_misses: list[Explanation]
    grants: list[Grant]


def policies_for(session: Session, cache: MatcherCache, *, clock: Clock, kind: str,
                 identifier: str) -> EntityPolicies:
    """Explanations of every policy the entity matches or misses by one condition, with its grants."""
    entity = get_entity(session, kind, identifier)
    matcher = matchers_for(session, cache, clock=clock)[kind].matcher
    explanations = matcher.explain_all(entity_record(session, entity), max_missing=1)
    grants = list(session.scalars(select(Grant).where(Grant.entity_id == entity.id)
                                  .order_by(Grant.offered_at.desc(), Grant.id.desc())))
    return EntityPolicies(entity, [e for e in explanations if e.matched],
                          [e for e in explanations if not e.matched], grants)


# ----- offers and grants --------------------------------------------------------------------------

def period_of(on: dt.date) -> str:
    """The grant period of a date (policies pay once a calendar year)."""
    return str(on.year)


def _explanation_text(explanation: Explanation) -> str:
    return "\n".join([explanation.summary(), *(c.line() for c in explanation.checks)])


def _insert_offers(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Insert pending grants, skipping any (entity, policy, period) a concurrent writer took; (id, entity_id)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    out: list[tuple[int, int]] = []
    for start in range(0, len(rows), 500):
        stmt = (insert(Grant).values(rows[start:start + 500])
                .on_conflict_do_nothing(index_elements=["entity_id", "policy_id", "period"])
                .returning(Grant.id, Grant.entity_id))
        out += [(gid, eid) for gid, eid in session.execute(stmt)]
    return out


def _offer_row(clock: Clock, entity_id: int, policy: Policy, period: str, explanation: Explanation) -> dict[str, Any]:
    now = clock.now()
    return {"entity_id": entity_id, "policy_id": policy.id, "period": period, "status": GrantState.PENDING.value,
            "amount_yuan": policy.amount_yuan, "explanation": _explanation_text(explanation), "note": "",
            "offered_at": now, "updated_at": now}


def _offer_policies(session: Session, *, clock: Clock, actor: Actor, entity: Entity, codes: Iterable[str],
                    matcher: Matcher, record: Mapping[str, Any]) -> list[Policy]:
    codes = list(codes)
    if not codes:
        return []
    period = period_of(today(clock))
    policies = {p.code: p for p in session.scalars(select(Policy).where(Policy.code.in_(codes)))}
    taken = set(session.scalars(select(Grant.policy_id).where(Grant.entity_id == entity.id,
                                                              Grant.period == period)))
    made = []
    for code in codes:
        policy = policies[code]
        if policy.id in taken:
            continue
        inserted = _insert_offers(session, [_offer_row(clock, entity.id, policy, period,
                                                       matcher.explain(record, code))])
        if not inserted:
            continue
        audit.record(session, clock=clock, actor=actor, action="policies.grant_offered", entity_type="grant",
                     entity_id=inserted[0][0], after={"entity": entity.identifier, "policy": code, "period": period})
        made.append(policy)
    return made


def _withdraw_offers(session: Session, *, clock: Clock, actor: Actor, entity: Entity,
                     codes: Iterable[str]) -> list[str]:
    codes = list(codes)
    if not codes:
        return []
    grants = session.scalars(select(Grant).join(Policy).where(
        Grant.entity_id == entity.id, Policy.code.in_(codes), Grant.period == period_of(today(clock)),
        Grant.status.in_([GrantState.PENDING, GrantState.CONFIRMED])))
    out = []
    for grant in grants:
        _move(session, clock=clock, actor=actor, grant=grant, target=GrantState.EXPIRED,
              note="主体数据更新后不再符合政策条件")
        out.append(grant.policy.code)
    return out


def offer_matches(session: Session, *, clock: Clock, actor: Actor, cache: MatcherCache,
                  policy_code: str | None = None) -> int:
    """Create a pending offer for every current match without one this period; returns how many (idempotent)."""
    period = period_of(today(clock))
    kinds = matchers_for(session, cache, clock=clock)
    policies = {p.code: p for p in session.scalars(select(Policy))}
    taken = {(e, p) for e, p in session.execute(select(Grant.entity_id, Grant.policy_id).where(Grant.period == period))}
    made = 0
    for km in kinds.values():
        for code in km.result.codes:
            if policy_code is not None and code != policy_code:
                continue
            policy = policies[code]
            rows = []
            for row in km.result.rows_of(code):
                entity_id = km.entity_ids[int(row)]
                if (entity_id, policy.id) in taken:
                    continue
                record = km.matcher.register.record(int(row))
                rows.append(_offer_row(clock, entity_id, policy, period, km.matcher.explain(record, code)))
                taken.add((entity_id, policy.id))
            new_ids = sorted(eid for _, eid in _insert_offers(session, rows))
            if new_ids:
                audit.record(session, clock=clock, actor=actor, action="policies.offers_made",
                             entity_type="policy", entity_id=code,
                             after={"period": period, "offered": len(new_ids), "entity_ids": new_ids})
                made += len(new_ids)
    return made


def get_grant(session: Session, grant_id: int) -> Grant:
    """A grant by id, or 404."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound("兑付记录", str(grant_id), field="grant_id")
    return grant


def _move(session: Session, *, clock: Clock, actor: Actor, grant: Grant, target: GrantState,
          note: str | None = None, **extra: Any) -> Grant:
    before = grant.status
    check_transition(grant.status, target)
    now = clock.now()
    grant.status = target
    stamps = {GrantState.CONFIRMED: "confirmed", GrantState.APPROVED: "approved", GrantState.PAID: "paid",
              GrantState.NOTIFIED: "notified", GrantState.DECLINED: "closed", GrantState.EXPIRED: "closed"}
    setattr(grant, f"{stamps[target]}_at", now)
    setattr(grant, f"{stamps[target]}_by", actor.label)
    if note is not None:
        grant.note = note
    for key, value in extra.items():
        setattr(grant, key, value)
    grant.updated_at = now
    session.flush()
    audit.record(session, clock=clock, actor=actor, action=f"policies.grant_{target.value}", entity_type="grant",
                 entity_id=grant.id, before={"status": before},
                 after={"status": target.value, **({"note": note} if note else {}), **extra})
    return grant


def confirm_grant(session: Session, *, clock: Clock, actor: Actor, grant_id: int) -> Grant:
    """The entity confirms its intent (one click, or by a clerk at a window)."""
    return _move(session, clock=clock, actor=actor, grant=get_grant(session, grant_id), target=GrantState.CONFIRMED)


def decline_grant(session: Session, *, clock: Clock, actor: Actor, grant_id: int, reason: str = "") -> Grant:
    """The entity declines the offer, or the department refuses it before approval (kept, not deleted)."""
    return _move(session, clock=clock, actor=actor, grant=get_grant(session, grant_id), target=GrantState.DECLINED,
                 note=reason.strip() or "主体放弃")


def grants_of_holders(session: Session, identifiers: Sequence[str], *, limit: int = 20) -> list[Grant]:
    """The grants offered to these entities (ID numbers or credit codes), newest first (one query)."""
    if not identifiers:
        return []
    return list(session.scalars(select(Grant).join(Entity, Entity.id == Grant.entity_id)
                                .where(Entity.identifier.in_(list(identifiers)))
                                .order_by(Grant.offered_at.desc(), Grant.id.desc()).limit(limit)))


def answer_own_grant(session: Session, *, clock: Clock, viewer: Viewer, actor: Actor, grant_id: int,
                     confirm: bool, reason: str = "", represented: Collection[str] = ()) -> tuple[Grant, bool]:
    """The beneficiary's one click: confirm (or decline) their own offer online.

    ``represented`` are the credit codes of the enterprises the viewer represents (the edge asks the certificate
    library: a usable 营业执照 naming them as 法定代表人, 经营者 or 负责人 by name and ID number); an offer to one of
    those enterprises counts the viewer's account among its owners. Someone else's grant, or one that does not
    exist, is 404 alike (nothing tells the two apart); an illegal move is 409 (the state machine); the same answer
    again (a double click) changes nothing and returns ``(grant, False)``. The row is locked first, so two clicks
    at once make one move and one audit entry.
    """
    # OF grant: PostgreSQL refuses FOR UPDATE on the nullable side of the eager joins
    grant = session.scalars(select(Grant).where(Grant.id == grant_id).with_for_update(of=Grant)
                            .execution_options(populate_existing=True)).first()
    for_enterprise = (grant is not None and grant.entity.kind == "enterprise"
                      and grant.entity.identifier in set(represented))
    owners = Record(owner_ids=frozenset({grant.entity.identifier}) if grant is not None else frozenset(),
                    owner_user_ids=frozenset({viewer.user_id}) if for_enterprise else frozenset())
    if grant is None or not access.can(viewer, Action.GRANT_CONFIRM_OWN, owners):
        raise NotFound("兑付记录", str(grant_id), field="grant_id")
    target = GrantState.CONFIRMED if confirm else GrantState.DECLINED
    if grant.status == target:
        return grant, False
    note = None if confirm else (reason.strip()[:500] or ("企业代表人网上放弃" if for_enterprise else "本人网上放弃"))
    return _move(session, clock=clock, actor=actor, grant=grant, target=target, note=note), True


def approve_grant(session: Session, *, clock: Clock, actor: Actor, grant_id: int) -> Grant:
    """The policy's department approves a confirmed grant."""
    return _move(session, clock=clock, actor=actor, grant=get_grant(session, grant_id), target=GrantState.APPROVED)


def pay_grant(session: Session, *, clock: Clock, actor: Actor, grant_id: int, paid_date: dt.date | None = None,
              amount_yuan: Decimal | None = None) -> Grant:
    """Record the payment: date (today by default) and amount (the policy's by default)."""
    grant = get_grant(session, grant_id)
    problems = []
    amount = amount_yuan if amount_yuan is not None else grant.amount_yuan
    if amount is None or amount < 0:
        problems.append(Problem("amount_yuan", "bad_amount", "请填写兑付金额（不小于 0 的数）"))
    paid_on = paid_date or today(clock)
    if paid_on > today(clock):
        problems.append(Problem("paid_date", "future_date", "兑付日期不能晚于今天"))
    if problems:
        check_transition(grant.status, GrantState.PAID)  # an illegal move is a 409 before any 422
        raise ValidationFailed(problems)
    return _move(session, clock=clock, actor=actor, grant=grant, target=GrantState.PAID, paid_date=paid_on,
                 amount_yuan=amount)


def notify_grant(session: Session, *, clock: Clock, actor: Actor, grant_id: int) -> Grant:
    """Record that the entity was told of the payment."""
    return _move(session, clock=clock, actor=actor, grant=get_grant(session, grant_id), target=GrantState.NOTIFIED)


def expire_offers(session: Session, *, clock: Clock, actor: Actor, older_than_days: int = 90) -> int:
    """Expire pending offers not confirmed within the given number of days; returns how many."""
    cutoff = clock.now() - dt.timedelta(days=older_than_days)
    grants = list(session.scalars(select(Grant).where(Grant.status == GrantState.PENDING,
                                                      Grant.offered_at < cutoff)))
    for grant in grants:
        _move(session, clock=clock, actor=actor, grant=grant, target=GrantState.EXPIRED,
              note=f"超过 {older_than_days} 天未确认")
    return len(grants)


def list_grants(session: Session, *, department_id: int | None = None, policy_code: str | None = None,
                status: str | None = None, limit: int = 100, offset: int = 0) -> tuple[list[Grant], int]:
    """Grants, newest first, filtered by department, policy and status; with the total."""
    query = select(Grant).join(Policy, Grant.policy_id == Policy.id)
    if department_id is not None:
        query = query.where(Policy.department_id == department_id)
    if policy_code:
        query = query.where(Policy.code == policy_code)
    if status:
        query = query.where(Grant.status == GrantState(status))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Grant.offered_at.desc(), Grant.id.desc()).limit(limit).offset(offset))
    return list(rows), int(total)


@dataclass
class PolicyTotals:
    """A policy's grants by status, and the amount paid."""

    policy: Policy
    counts: dict[str, int]
    paid_yuan: Decimal

    @property
    def total(self) -> int:
        """Every grant of the policy."""
        return sum(self.counts.values())


def totals_by_policy(session: Session, *, department_id: int | None = None) -> list[PolicyTotals]:
    """Grant counts by status and the amount paid, per policy (department-scoped when given)."""
    query = select(Policy).order_by(Policy.code)
    if department_id is not None:
        query = query.where(Policy.department_id == department_id)
    policies = list(session.scalars(query))
    out = {p.id: PolicyTotals(p, {}, Decimal(0)) for p in policies}
    paid_states = [GrantState.PAID, GrantState.NOTIFIED]
    rows = session.execute(
        select(Grant.policy_id, Grant.status, func.count(), func.sum(Grant.amount_yuan))
        .where(Grant.policy_id.in_(out)).group_by(Grant.policy_id, Grant.status))
    for policy_id, status, count, amount in rows:
        totals = out[policy_id]
        totals.counts[status] = int(count)
        if status in paid_states and amount is not None:
            totals.paid_yuan += Decimal(amount)
    return list(out.values())
