"""电子证照 service: lookup for 免提交, issue, revoke, public verification and register import.

Writes flush and audit inside the caller's transaction; the edge (request or CLI) commits.
A certificate is *usable* on a day when it is valid (not revoked), already issued and not expired
(``expires_date`` is the last day of validity; None means 长期有效).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onewindow.catalog.models import CertificateType, Material
from onewindow.certificates import rules
from onewindow.certificates.models import Certificate
from onewindow.core import audit
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.ids import (
    is_valid_credit_code,
    is_valid_id_number,
    mask_id_number,
    validate_credit_code,
    validate_id_number,
)
from onewindow.core.security import same

VALID = "valid"
REVOKED = "revoked"
SOURCES = ("import", "issued", "demo")
STATUS_LABELS = {"valid": "有效", "expired": "已过期", "revoked": "已注销"}
HOLDER_LABELS = {"person": "个人", "enterprise": "企业", "both": "个人或企业"}
# No 0/O, 1/I/L: the code is read off paper and typed in by hand.
CHECK_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CHECK_LENGTH = 8
_CHECK_CODE = re.compile(r"^[0-9A-Z]{4,12}$")
_NUMBER = re.compile(r"^[0-9A-Za-z\-_/()（）〔〕\[\]第号字]{1,60}$")
NUMBER_ATTEMPTS = 5
NOT_FOUND_MESSAGE = "未找到与该证照编号和校验码相符的证照，请核对后重试"


def _clean(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip() if value is not None else ""


def normalise_holder_id(value: str) -> str:
    """A holder ID as stored: NFKC, no spaces or dashes, upper case."""
    return re.sub(r"[\s\-]+", "", unicodedata.normalize("NFKC", value)).upper()


def holder_kind(holder_id: str) -> str | None:
    """``person`` for a valid 公民身份号码, ``enterprise`` for a valid 统一社会信用代码, else None."""
    if is_valid_id_number(holder_id):
        return "person"
    if is_valid_credit_code(holder_id):
        return "enterprise"
    return None


def holder_fits(type_holder: str, holder_id: str) -> bool:
    """True when a holder ID is the kind of identifier the certificate type is held by."""
    kind = holder_kind(holder_id)
    return kind is not None and type_holder in ("both", kind)


def validate_holder_id(type_holder: str, value: str, *, field: str = "holder_id") -> str:
    """The normalised holder ID for a type held by ``person``, ``enterprise`` or ``both``."""
    if type_holder == "person":
        return validate_id_number(value, field=field)
    if type_holder == "enterprise":
        return validate_credit_code(value, field=field)
    number = normalise_holder_id(value)
    if holder_kind(number) is None:
        raise ValidationFailed([Problem(field, "holder_id_invalid",
                                        "持证主体代码应为有效的公民身份号码或统一社会信用代码")])
    return number


def state_on(cert: Certificate, on: dt.date) -> str:
    """``valid``, ``expired`` or ``revoked`` on that day."""
    if cert.status == REVOKED:
        return "revoked"
    if cert.expires_date is not None and cert.expires_date < on:
        return "expired"
    return "valid"


def new_check_code() -> str:
    """A short random check code for public verification."""
    return "".join(secrets.choice(CHECK_ALPHABET) for _ in range(CHECK_LENGTH))


def certificate_type_by_code(session: Session, code: str) -> CertificateType:
    """The certificate type with that code, or 404."""
    row = session.scalar(select(CertificateType).where(CertificateType.code == code))
    if row is None:
        raise NotFound("证照类型", code, field="type")
    return row


def get_certificate(session: Session, certificate_id: int) -> Certificate:
    """The certificate with that id, or 404."""
    row = session.get(Certificate, certificate_id)
    if row is None:
        raise NotFound("证照", str(certificate_id))
    return row


def _usable(on: dt.date) -> Any:
    return (Certificate.status == VALID) & (Certificate.issued_date <= on) & or_(
        Certificate.expires_date.is_(None), Certificate.expires_date >= on)


# ----- lookup (免提交) ----------------------------------------------------------------------------

def certificates_of(session: Session, *, holder_id: str) -> list[Certificate]:
    """Every certificate of one holder, whatever its state, by type and number."""
    number = normalise_holder_id(holder_id)
    return list(session.scalars(select(Certificate).join(Certificate.type)
                                .where(Certificate.holder_id == number)
                                .order_by(CertificateType.code, Certificate.number)))


def usable_certificates(session: Session, *, holder_id: str, on: dt.date) -> list[Certificate]:
    """The holder's certificates that are valid, not revoked and not expired on that day."""
    number = normalise_holder_id(holder_id)
    return list(session.scalars(select(Certificate).join(Certificate.type)
                                .where(Certificate.holder_id == number, _usable(on))
                                .order_by(CertificateType.code, Certificate.number)))


# ----- representation (为企业申请) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Representation:
    """A person named by an enterprise's usable 营业执照 as its 法定代表人 (经营者, 负责人)."""

    credit_code: str
    enterprise_name: str
    role: str
    licence_number: str


def _licences(session: Session, on: dt.date) -> Any:
    return (select(Certificate).join(Certificate.type)
            .where(CertificateType.code == rules.LICENCE_TYPE, _usable(on))
            .order_by(Certificate.issued_date.desc(), Certificate.id.desc()))


def check_representation(session: Session, *, credit_code: str, person_name: str, person_id: str,
                         on: dt.date) -> Representation:
    """The enterprise's usable licence that names this person as its representative, or 403 with the reason.

    ``no_licence``: the library has no usable 营业执照 of that credit code (nothing to check against);
    ``not_representative``: it has one, and it names someone else.
    """
    code = normalise_holder_id(credit_code)
    licences = list(session.scalars(_licences(session, on).where(Certificate.holder_id == code)))
    if not licences:
        raise PermissionDenied("电子证照库中没有该统一社会信用代码的有效营业执照，无法在线核验您与该企业的关系；"
                               "请携带营业执照和授权委托书到窗口办理", code="no_licence")
    for lic in licences:
        role = rules.representative_title(lic.data or {}, name=person_name, id_number=person_id)
        if role is not None:
            return Representation(code, lic.holder_name, role, lic.number)
    raise PermissionDenied(f"电子营业执照记载的法定代表人（负责人）不是您本人，不能以“{licences[0].holder_name}”的名义"
                           "申报；受企业委托办理的，请由企业授权帮办代办员或到窗口办理", code="not_representative")


def represented_enterprises(session: Session, *, person_name: str, person_id: str,
                            on: dt.date) -> list[Representation]:
    """The enterprises whose usable licence names this person as their representative (one row each)."""
    number = normalise_holder_id(person_id)
    if not number:
        return []
    keys = [Certificate.data[rules.id_key(r)].as_string() == number for r in rules.REPRESENTATIVE_TITLES]
    found: dict[str, Representation] = {}
    for lic in session.scalars(_licences(session, on).where(or_(*keys))):
        role = rules.representative_title(lic.data or {}, name=person_name, id_number=number)
        if role is not None and lic.holder_id not in found:
            found[lic.holder_id] = Representation(lic.holder_id, lic.holder_name, role, lic.number)
    return sorted(found.values(), key=lambda r: r.enterprise_name)


def _preference(cert: Certificate) -> tuple[dt.date, dt.date, int]:
    # the longest-valid certificate first (长期 counts as the far future), then the newest
    return (cert.expires_date or dt.date.max, cert.issued_date, cert.id)


def exempt_materials(session: Session, *, holder_ids: Iterable[str], materials: Iterable[Material],
                     on: dt.date) -> dict[int, Certificate]:
    """Material id → the usable certificate of one of the holders that supplies it (免提交).

    A material is covered when it names a certificate type and one of the holders owns a usable
    certificate of that type; person-held types match 公民身份号码, enterprise-held types 统一社会信用代码.
    """
    holders = {normalise_holder_id(h) for h in holder_ids if h}
    wanted = [m for m in materials if m.certificate_type_id is not None]
    if not holders or not wanted:
        return {}
    type_ids = {m.certificate_type_id for m in wanted}
    found: dict[int, list[Certificate]] = {}
    for cert in session.scalars(select(Certificate).where(Certificate.holder_id.in_(holders),
                                                          Certificate.type_id.in_(type_ids), _usable(on))):
        if holder_fits(cert.type.holder, cert.holder_id):
            found.setdefault(cert.type_id, []).append(cert)
    result: dict[int, Certificate] = {}
    for m in wanted:
        candidates = found.get(m.certificate_type_id or 0)
        if candidates:
            result[m.id] = max(candidates, key=_preference)
    return result


# ----- issue and revoke ---------------------------------------------------------------------------

def _snapshot(cert: Certificate) -> dict[str, Any]:
    # audit rows follow rule 8: the holder ID is masked
    return {"type": cert.type.code if cert.type else cert.type_id, "number": cert.number,
            "holder_id": mask_id_number(cert.holder_id), "issuer": cert.issuer,
            "issued_date": cert.issued_date, "expires_date": cert.expires_date, "status": cert.status,
            "source": cert.source}


def next_number(session: Session, ctype: CertificateType, year: int) -> str:
    """The next number of a type in a year: ``{type code}-{year}-{6-digit sequence}``."""
    prefix = f"{ctype.code}-{year}-"
    same_year = Certificate.number.startswith(prefix, autoescape=True)
    last = session.scalar(select(func.max(Certificate.number)).where(Certificate.type_id == ctype.id, same_year))
    sequence = int(last[len(prefix):]) + 1 if last and last[len(prefix):].isdigit() else 1
    return f"{prefix}{sequence:06d}"


def issue_certificate(session: Session, *, clock: Clock, actor: Actor, type_code: str, holder_id: str,
                      holder_name: str, issuer: str | None = None, issued_date: dt.date | None = None,
                      expires_date: dt.date | None = None, data: Mapping[str, Any] | None = None) -> Certificate:
    """Issue a new certificate (e.g. on approval of a licence): numbered per type and year, with a check code."""
    ctype = certificate_type_by_code(session, type_code)
    problems: list[Problem] = []
    try:
        holder = validate_holder_id(ctype.holder, holder_id)
    except ValidationFailed as exc:
        problems.extend(exc.problems)
        holder = ""
    name = _clean(holder_name)
    if not name:
        problems.append(Problem("holder_name", "holder_name_required", "请填写持证主体名称"))
    issued = issued_date or today(clock)
    if expires_date is not None and expires_date < issued:
        problems.append(Problem("expires_date", "expires_before_issued", "有效期截止日期不能早于发证日期"))
    if problems:
        raise ValidationFailed(problems)
    for attempt in range(NUMBER_ATTEMPTS):
        cert = Certificate(type_id=ctype.id, type=ctype, number=next_number(session, ctype, issued.year),
                           holder_id=holder, holder_name=name, issuer=_clean(issuer) or ctype.issuer,
                           issued_date=issued, expires_date=expires_date, status=VALID, revoked_reason="",
                           data=dict(data or {}), check_code=new_check_code(), source="issued", created_at=clock.now())
        try:
            # a savepoint per attempt: a concurrent approval may take the same number first (unique per type)
            with session.begin_nested():
                session.add(cert)
                session.flush()
            break
        except IntegrityError:
            if attempt == NUMBER_ATTEMPTS - 1:
                raise Conflict("证照编号分配冲突，请重试", code="number_conflict") from None
    audit.record(session, clock=clock, actor=actor, action="certificates.issued", entity_type="certificate",
                 entity_id=cert.id, after=_snapshot(cert))
    return cert


def revoke_certificate(session: Session, *, clock: Clock, actor: Actor, certificate_id: int,
                       reason: str) -> Certificate:
    """Revoke (注销) a certificate; it is no longer used for 免提交 and verifies as 已注销."""
    cert = get_certificate(session, certificate_id)
    text = _clean(reason)
    if not text:
        raise ValidationFailed([Problem("reason", "reason_required", "请填写注销原因")])
    if cert.status == REVOKED:
        raise Conflict("该证照已注销", code="already_revoked")
    before = _snapshot(cert)
    cert.status, cert.revoked_at, cert.revoked_reason = REVOKED, clock.now(), text[:500]
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="certificates.revoked", entity_type="certificate",
                 entity_id=cert.id, before=before, after={**_snapshot(cert), "reason": cert.revoked_reason})
    return cert


# ----- public verification ------------------------------------------------------------------------

def mask_name(name: str) -> str:
    """``张三丰`` → ``张**``: the family name kept, the rest hidden."""
    return name[:1] + "*" * (len(name) - 1) if name else ""


@dataclass(frozen=True)
class PublicView:
    """What the public verification page and API show of a certificate (rule 8: person data masked)."""

    type_code: str
    type_name: str
    number: str
    holder_name: str
    holder_id: str
    issuer: str
    issued_date: dt.date
    expires_date: dt.date | None
    state: str  # valid | expired | revoked
    status_label: str


def public_view(cert: Certificate, on: dt.date) -> PublicView:
    """The public view of a certificate on a day.

    A person's name and ID number are masked; an enterprise's name and 统一社会信用代码 are public
    register data (企业信用信息公示) and shown whole.
    """
    state = state_on(cert, on)
    person = holder_kind(cert.holder_id) == "person"
    return PublicView(type_code=cert.type.code, type_name=cert.type.name, number=cert.number,
                      holder_name=mask_name(cert.holder_name) if person else cert.holder_name,
                      holder_id=mask_id_number(cert.holder_id) if person else cert.holder_id,
                      issuer=cert.issuer, issued_date=cert.issued_date, expires_date=cert.expires_date,
                      state=state, status_label=STATUS_LABELS[state])


def verify(session: Session, *, number: str, check_code: str, on: dt.date) -> PublicView | None:
    """The public view of the certificate with that number and check code; None when either is wrong."""
    wanted = _clean(number)
    code = _clean(check_code).upper()
    if not wanted or not code or len(wanted) > 60 or len(code) > 12:
        return None
    match: Certificate | None = None
    for cert in session.scalars(select(Certificate).where(Certificate.number == wanted)):
        # compare every candidate in constant time: the answer must not reveal which part was wrong
        if same(cert.check_code, code) and match is None:
            match = cert
    return public_view(match, on) if match is not None else None


# ----- import of a department's register ----------------------------------------------------------

FIELDS = ("type", "number", "holder_id", "holder_name", "issuer", "issued_date", "expires_date", "status",
          "check_code", "data")
REQUIRED = ("type", "number", "holder_id", "holder_name", "issued_date")
LONG_TERM = {"", "长期", "长期有效", "永久", "无"}
STATUS_WORDS = {"": VALID, "valid": VALID, "有效": VALID, "正常": VALID,
                "revoked": REVOKED, "注销": REVOKED, "已注销": REVOKED, "吊销": REVOKED, "已吊销": REVOKED}


@dataclass
class ImportResult:
    """Counts of an import."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class CheckedRow:
    """One register row after validation."""

    row: int
    type: CertificateType
    number: str
    holder_id: str
    holder_name: str
    issuer: str
    issued_date: dt.date
    expires_date: dt.date | None
    status: str
    check_code: str | None
    data: dict[str, Any]


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _clean(value).replace("/", "-").replace(".", "-")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text) or re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
    if m is None:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def check_certificate_rows(session: Session, rows: Sequence[Mapping[str, Any]], *,
                           first_row: int = 1) -> list[CheckedRow]:
    """Validate every row (type, holder ID checksum, dates, status, duplicates); ValidationFailed lists all problems.

    ``first_row`` is how the file numbers its first data row (2 for a CSV with a header line).
    """
    types = {t.code: t for t in session.scalars(select(CertificateType))}
    problems: list[Problem] = []
    checked: list[CheckedRow] = []
    seen: dict[tuple[str, str], int] = {}
    if not rows:
        raise ValidationFailed([Problem("rows", "empty_file", "文件中没有证照记录")])
    for i, raw in enumerate(rows):
        n = first_row + i
        before = len(problems)

        def bad(column: str, code: str, message: str, n: int = n) -> None:
            problems.append(Problem(f"rows[{n}].{column}", code, f"第 {n} 行：{message}"))

        if not isinstance(raw, Mapping):
            bad("row", "row_not_object", "应为一条记录（对象）")
            continue
        for key in REQUIRED:
            if not _clean(raw.get(key)):
                bad(key, f"{key}_required", f"缺少必填项 {key}")
        type_code = _clean(raw.get("type")).upper()
        ctype = types.get(type_code)
        if type_code and ctype is None:
            bad("type", "unknown_certificate_type", f"未知证照类型：{type_code}")
        number = _clean(raw.get("number"))
        if number and not _NUMBER.match(number):
            bad("number", "number_format", "证照编号只能含字母、数字和 - _ / ( ) 等符号，最长 60 位")
        holder = ""
        if ctype is not None and _clean(raw.get("holder_id")):
            try:
                holder = validate_holder_id(ctype.holder, _clean(raw.get("holder_id")), field="holder_id")
            except ValidationFailed as exc:
                who = {"person": "公民身份号码", "enterprise": "统一社会信用代码"}.get(ctype.holder, "持证主体代码")
                bad("holder_id", exc.code, f"{ctype.name}的持证主体应为{who}：{exc.message}")
        issued = _parse_date(raw.get("issued_date")) if _clean(raw.get("issued_date")) else None
        if _clean(raw.get("issued_date")) and issued is None:
            bad("issued_date", "date_format", f"发证日期“{_clean(raw.get('issued_date'))}”不是有效日期（YYYY-MM-DD）")
        expires_text = _clean(raw.get("expires_date"))
        expires = None if expires_text in LONG_TERM else _parse_date(raw.get("expires_date"))
        if expires_text not in LONG_TERM and expires is None:
            bad("expires_date", "date_format",
                f"有效期截止日期“{expires_text}”不是有效日期（YYYY-MM-DD，长期有效留空）")
        if issued is not None and expires is not None and expires < issued:
            bad("expires_date", "expires_before_issued", "有效期截止日期早于发证日期")
        status_text = _clean(raw.get("status")).lower()
        status = STATUS_WORDS.get(status_text)
        if status is None:
            bad("status", "status_unknown", f"状态“{status_text}”无效（有效 / 已注销）")
        check_code = _clean(raw.get("check_code")).upper() or None
        if check_code is not None and not _CHECK_CODE.match(check_code):
            bad("check_code", "check_code_format", "校验码应为 4–12 位字母或数字")
        data = raw.get("data") or {}
        if not isinstance(data, Mapping):
            bad("data", "data_not_object", "data 应为对象")
            data = {}
        ident = (type_code, number)
        if ctype is not None and number:
            if ident in seen:
                bad("number", "duplicate_in_file", f"证照编号 {number} 与第 {seen[ident]} 行重复")
            else:
                seen[ident] = n
        if len(problems) > before or ctype is None or issued is None or status is None:
            continue
        checked.append(CheckedRow(row=n, type=ctype, number=number, holder_id=holder,
                                  holder_name=_clean(raw.get("holder_name"))[:200],
                                  issuer=_clean(raw.get("issuer"))[:100] or ctype.issuer, issued_date=issued,
                                  expires_date=expires, status=status, check_code=check_code, data=dict(data)))
    problems.extend(_conflicts_with_library(session, checked))
    if problems:
        raise ValidationFailed(problems)
    return checked


def _existing(session: Session, checked: Sequence[CheckedRow]) -> dict[tuple[int, str], Certificate]:
    numbers = {r.number for r in checked}
    found: dict[tuple[int, str], Certificate] = {}
    batch = sorted(numbers)
    for start in range(0, len(batch), 500):
        for cert in session.scalars(select(Certificate).where(Certificate.number.in_(batch[start:start + 500]))):
            found[(cert.type_id, cert.number)] = cert
    return found


def _conflicts_with_library(session: Session, checked: Sequence[CheckedRow]) -> list[Problem]:
    problems: list[Problem] = []
    existing = _existing(session, checked)
    for r in checked:
        cert = existing.get((r.type.id, r.number))
        if cert is None:
            continue
        if cert.holder_id != r.holder_id:
            problems.append(Problem(f"rows[{r.row}].holder_id", "holder_changed",
                                    f"第 {r.row} 行：证照编号 {r.number} 已登记在其他持证主体名下，不能改换持证主体"))
        if cert.status == REVOKED and r.status == VALID:
            problems.append(Problem(f"rows[{r.row}].status", "revoked_certificate",
                                    f"第 {r.row} 行：证照 {r.number} 已注销，不能通过导入恢复为有效"))
    return problems


def import_certificates(session: Session, *, clock: Clock, actor: Actor, rows: Sequence[Mapping[str, Any]],
                        first_row: int = 1, source: str = "import") -> ImportResult:
    """Validate every row first, then create or update the certificates; nothing is written if any row is bad."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    checked = check_certificate_rows(session, rows, first_row=first_row)
    existing = _existing(session, checked)
    result = ImportResult()
    now = clock.now()
    for r in checked:
        cert = existing.get((r.type.id, r.number))
        if cert is None:
            cert = Certificate(type_id=r.type.id, type=r.type, number=r.number, holder_id=r.holder_id,
                               holder_name=r.holder_name, issuer=r.issuer, issued_date=r.issued_date,
                               expires_date=r.expires_date, status=r.status, revoked_reason="", data=r.data,
                               check_code=r.check_code or new_check_code(), source=source, created_at=now)
            if r.status == REVOKED:
                cert.revoked_at, cert.revoked_reason = now, "导入时已注销"
            session.add(cert)
            existing[(r.type.id, r.number)] = cert
            result.created += 1
            continue
        values = {"holder_name": r.holder_name, "issuer": r.issuer, "issued_date": r.issued_date,
                  "expires_date": r.expires_date, "data": r.data}
        if r.check_code is not None:
            values["check_code"] = r.check_code
        changed = {k: v for k, v in values.items() if getattr(cert, k) != v}
        if r.status == REVOKED and cert.status != REVOKED:
            changed.update(status=REVOKED, revoked_at=now, revoked_reason="导入时已注销")
        if not changed:
            result.unchanged += 1
            continue
        for k, v in changed.items():
            setattr(cert, k, v)
        result.updated += 1
    session.flush()
    audit.record(session, clock=clock, actor=actor, action="certificates.imported", entity_type="certificate",
                 entity_id=source, after={"created": result.created, "updated": result.updated,
                                          "unchanged": result.unchanged})
    return result
