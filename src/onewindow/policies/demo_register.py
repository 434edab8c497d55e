"""The demo county's register: 30 enterprises and 50 persons (valid checksums, seeded) and a few grants.

Field values come from :mod:`onewindow.policies.synthetic` (county-level distributions); codes,
ID numbers and names are derived deterministically, so loading twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.ids import credit_code_check_char, id_check_char
from onewindow.policies import service, synthetic
from onewindow.policies.grants_states import GrantState
from onewindow.policies.models import Grant

ENTERPRISES = 30
PERSONS = 50
REGION = "410724"  # 获嘉县
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WORDS = ("宏达", "鑫源", "恒泰", "嘉禾", "同盛", "瑞丰", "金穗", "华康", "永兴", "新程")
_SUFFIX = {"制造业": "机械制造", "批发和零售业": "商贸", "住宿和餐饮业": "餐饮管理", "建筑业": "建筑工程",
           "农、林、牧、渔业": "农业开发", "信息传输、软件和信息技术服务业": "信息技术"}
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
_GIVEN = ("建国", "秀英", "桂兰", "志强", "丽娟", "海燕", "国庆", "红梅", "文博", "子涵", "浩然", "雨桐", "德华")


def credit_code(i: int) -> str:
    """The i-th demo 统一社会信用代码 (企业法人, 获嘉县)."""
    n, body = 100_000 + i * 7919, ""
    for _ in range(9):
        n, r = divmod(n, 31)
        body = _ALPHABET[r] + body
    first17 = f"91{REGION}{body}"
    return first17 + credit_code_check_char(first17)


def id_number(i: int, age: int | None, on: dt.date) -> str:
    """The i-th demo 公民身份号码 for a person of ``age`` (a birthday early in the year)."""
    year = on.year - (age if age is not None else 40) - 1
    first17 = f"{REGION}{year:04d}{1 + i % 12:02d}{1 + i % 28:02d}{(100 + i) % 1000:03d}"
    return first17 + id_check_char(first17)


def _rows(kind: str, n: int, session: Session, on: dt.date) -> tuple[list[str], list[list[Any]]]:
    fields = service.fields_of(session, kind)
    register = synthetic.register(kind, n, fields, seed=2026)
    names = list(fields)
    rows = []
    for i, rec in enumerate(register.records(range(n))):
        if kind == "enterprise":
            suffix = _SUFFIX.get(rec.get("industry") or "", "实业")
            town = (rec.get("township") or "").removesuffix("镇").removesuffix("乡")
            name = f"获嘉县{town}{_WORDS[(i * 3) % len(_WORDS)]}{suffix}有限公司"
            identifier = credit_code(i)
        else:
            name = _SURNAMES[i % len(_SURNAMES)] + _GIVEN[(i * 7) % len(_GIVEN)]
            identifier = id_number(i, rec.get("age"), on)
        rows.append([identifier, name, *(rec[f] for f in names)])
    return ["identifier", "name", *names], rows


def load_demo_register(session: Session, *, clock: Clock, actor: Actor) -> int:
    """Import the demo register, offer every match, and move a few grants along; returns offers made."""
    on = today(clock)
    for kind, n in (("enterprise", ENTERPRISES), ("person", PERSONS)):
        header, rows = _rows(kind, n, session, on)
        service.import_entities(session, clock=clock, actor=actor, kind=kind, header=header, rows=rows)
    made = service.offer_matches(session, clock=clock, actor=actor, cache=service.MatcherCache())
    if made == 0:  # loaded before: the grants already moved
        return 0
    first_of_policy: dict[int, Grant] = {}
    for grant in session.scalars(select(Grant).order_by(Grant.id)):
        first_of_policy.setdefault(grant.policy_id, grant)
    # one offer of each policy moved along, so every state and most departments' lists show something
    walk = {
        0: [GrantState.CONFIRMED, GrantState.APPROVED, GrantState.PAID, GrantState.NOTIFIED],
        1: [GrantState.CONFIRMED, GrantState.APPROVED, GrantState.PAID],
        2: [GrantState.CONFIRMED, GrantState.APPROVED],
        3: [GrantState.CONFIRMED],
        4: [GrantState.DECLINED],
    }
    for k, grant in enumerate(first_of_policy.values()):
        for target in walk.get(k % 6, []):
            verb = {GrantState.CONFIRMED: service.confirm_grant, GrantState.APPROVED: service.approve_grant,
                    GrantState.PAID: service.pay_grant, GrantState.NOTIFIED: service.notify_grant}.get(target)
            if verb is not None:
                verb(session, clock=clock, actor=actor, grant_id=grant.id)
            else:
                service.decline_grant(session, clock=clock, actor=actor, grant_id=grant.id, reason="企业表示暂不申领")
    return made


def citizen_data(*, age: int, children_under_3: int = 0, is_veteran: bool = False) -> dict[str, Any]:
    """A demo citizen's register row: a local 就业 resident with the given age, children and service record."""
    return {"age": age, "hukou_local": True, "disability_level": 0, "is_veteran": is_veteran,
            "employment_status": "就业", "household_income_per_capita": 3200.0, "children_under_3": children_under_3,
            "is_low_income": False, "pension_insured": True, "has_business_license": False, "identity_tags": []}


def enterprise_data(*, employees: int, industry: str, township: str) -> dict[str, Any]:
    """A demo enterprise's register row: a small, paid-up 小微企业 with no research or high-tech status, so it
    matches the 小微企业 offers (稳岗返还, 小型微利企业所得税, “六税两费”)."""
    return {"employees": employees, "industry": industry, "registered_years": 2, "annual_revenue_wan": 800.0,
            "total_assets_wan": 600.0, "taxable_income_wan": 60.0, "is_high_tech": False, "is_small_micro": True,
            "rd_expense_wan": 0.0, "newly_hired_graduates": 0, "tax_credit_level": "B", "township": township,
            "social_insurance_arrears": False, "layoff_rate": 0.0, "qualifications": []}


def _load_named(session: Session, *, clock: Clock, actor: Actor, kind: str,
                rows: list[tuple[str, str, dict[str, Any]]]) -> int:
    cache = service.MatcherCache()
    made = 0
    for identifier, name, data in rows:
        update = service.upsert_entity(session, clock=clock, actor=actor, cache=cache, kind=kind,
                                       identifier=identifier, name=name, data=data)
        made += len(update.offered)
    return made


def load_demo_citizens(session: Session, *, clock: Clock, actor: Actor,
                       people: list[tuple[str, str, dict[str, Any]]]) -> int:
    """Put the demo citizens' accounts in the register (ID number, name, data) and offer what they match; they
    confirm or decline their offers themselves on “我的”. Returns the offers made (none when loaded before)."""
    return _load_named(session, clock=clock, actor=actor, kind="person", rows=people)


def load_demo_enterprises(session: Session, *, clock: Clock, actor: Actor,
                          enterprises: list[tuple[str, str, dict[str, Any]]]) -> int:
    """Put named demo enterprises in the register (credit code, name, data) and offer what they match; the person
    their 营业执照 names as 法定代表人 answers the offers on “我的” (为企业). Returns the offers made."""
    return _load_named(session, clock=clock, actor=actor, kind="enterprise", rows=enterprises)
