"""Factories of people, enterprises and cases for the tests (hand-written traits in the style of factory_boy).

Everything is built through the real services — certificates are issued, accounts created and cases moved
through ``onewindow.cases.service`` — so a factory-made case is one the application could have made itself.
Identity numbers are fresh and valid on every call (a process-wide counter in the sequence digits), so two
people made in one test never collide with each other or with the demo county.

    person = make_person(session, clock)                       # ID card in the library, applicant account
    firm = make_enterprise(session, clock)                      # valid 统一社会信用代码, 营业执照 in the library
    case = make_case(session, clock, state="approved")          # a fresh person's 医疗费用手工报销, decided
    case = make_case(session, clock, item_code=FOOD, applicant=firm, state="delivered", channel="online")
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases import service, sweep
from onewindow.cases.models import Case
from onewindow.certificates import service as certificates
from onewindow.certificates.demo import FENGYUAN, LI_NA, ZHANG_WEI
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, Clock, FixedClock
from onewindow.core.ids import CREDIT_ALPHABET, credit_code_check_char, id_check_char
from onewindow.staff import service as staff_service
from onewindow.staff.models import User
from tests.conftest import DEMO_PASSWORD

__all__ = ["DEMO_PASSWORD"]  # re-exported: the one password of every demo and factory-made account

# ----- constants shared by the tests ---------------------------------------------------------------------

RULES = service.CaseRules(deferral_working_days=10, auto_approve=True)
LOADER = Actor(None, "test")

SOLE_TRADER = "410724-SCJG-XK-001"  # 个体工商户设立登记: issues a 营业执照, 场所证明 deferrable
COMPANY = "410724-SCJG-XK-004"  # 公司设立登记: issues a 营业执照, 住所使用证明 deferrable
FOOD = "410724-SCJG-XK-007"  # 食品经营许可: five steps, issues a 食品经营许可证, 管理制度 deferrable
PREPACKED = "410724-SCJG-BA-001"  # 仅销售预包装食品备案: instant (即办), a clerk decides
CLAIM = "410724-YBJ-JF-001"  # 医疗费用手工报销: for persons, 本人银行账户信息 deferrable
SSC_CARD = "410724-RSJ-GG-001"  # 社会保障卡申领: instant, only the ID card required (秒批 from the library)

# The demo county's applicants (their certificates are in the demo library).
ZHANG = service.ApplicantIn(kind="person", name="张伟", id_number=ZHANG_WEI, phone="13903735678")
LINA = service.ApplicantIn(kind="person", name="李娜", id_number=LI_NA)  # her ID card has expired
FENG = service.ApplicantIn(kind="enterprise", name="获嘉县丰源商贸有限公司", id_number=FENGYUAN)

STATES = ("submitted", "correction_requested", "refused", "accepted", "in_review", "suspended", "approved",
          "denied", "delivered", "archived", "withdrawn", "overdue")


def person_id(first17: str) -> str:
    """A valid 公民身份号码 from its first 17 digits."""
    return first17 + id_check_char(first17)


def credit_code(first17: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters."""
    return first17 + credit_code_check_char(first17)


def at(year: int, month: int, day: int, hour: int = 10) -> FixedClock:
    """A clock frozen on a day, China time."""
    return FixedClock(dt.datetime(year, month, day, hour, 0, tzinfo=CHINA_TZ))


# ----- fresh numbers -------------------------------------------------------------------------------------

_serial = itertools.count(1)
_BORN_FROM = dt.date(1970, 1, 1)


def new_id_number(*, region: str = "410724") -> str:
    """A fresh valid 公民身份号码 (获嘉县 by default): sequence digits 9xx, the birth day moves every 100 calls,
    so no number repeats in a run and none is a demo person's (their sequence digits are 00x)."""
    n = next(_serial)
    born = _BORN_FROM + dt.timedelta(days=n // 100)
    return person_id(f"{region}{born:%Y%m%d}9{n % 100:02d}")


def new_credit_code() -> str:
    """A fresh valid 统一社会信用代码 of a 获嘉县 company (91 410724, then a serial in the GB 32100 alphabet)."""
    n = next(_serial)
    digits = ""
    for _ in range(7):
        n, rest = divmod(n, len(CREDIT_ALPHABET))
        digits = CREDIT_ALPHABET[rest] + digits
    return credit_code(f"91410724MT{digits}")


# ----- users ---------------------------------------------------------------------------------------------


def staff(session: Session, username: str) -> User:
    """A demo user by username (fails the test when the demo has no such user)."""
    found = session.scalars(select(User).where(User.username == username)).first()
    assert found is not None, f"no demo user {username!r}"
    return found


def users(session: Session) -> dict[str, User]:
    """Every user of the database by username."""
    return {u.username: u for u in session.scalars(select(User))}


def api_token(client: Any, username: str, *, base: str = "") -> dict[str, str]:
    """Sign a demo user in through ``POST /api/v1/auth/token`` (a TestClient or an httpx client, ``base`` for a
    live server); returns the Authorization header."""
    r = client.post(f"{base}/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def browser_login(page: Any, base: str, username: str, target: str) -> None:
    """Sign a demo user in through the /login form in a Playwright page and land on ``target``."""
    page.goto(f"{base}/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}{target}")


def workbench_act(page: Any, action: str, *, selector: str = "") -> None:
    """Click one workbench action and wait until HTMX has swapped in the new panel.

    The answer arriving is not enough: the swap follows it, and a test that reads the panel in between sees
    the old buttons (a click on one then waits for a button that is gone). The panel is replaced whole
    (``outerHTML``, always a 200 for HTMX), so the old one leaving the page is the sign.
    """
    old = page.locator("#workbench-panel").element_handle()
    with page.expect_response(f"**/workbench/{action}"):
        page.click(selector or f"button[data-action={action}]")
    old.wait_for_element_state("hidden")


def browser_review_and_approve(page: Any, *, opinion: str, reason: str) -> None:
    """On an open case page, give ``opinion`` at every review step in order, then approve with ``reason``.

    Each round waits for the page to offer the next form (an opinion or the decision) before looking at which
    it is, and each opinion waits until its step shows done: the page reloads between steps.
    """
    from playwright.sync_api import expect

    while True:
        page.locator("#action-opinion, #action-decide").first.wait_for()
        if not page.locator("#action-opinion").count():
            break
        step = page.locator("#action-opinion [data-next-step]").inner_text().strip()
        page.fill("#action-opinion textarea[name=opinion]", opinion)
        page.click("#action-opinion button[data-action=opinion]")
        expect(page.locator(f"#steps li[data-step='{step}']")).to_have_attribute("data-step-status", "done")
    page.fill("#action-decide textarea[name=reason]", reason)
    page.click("#action-decide button[data-action=approve]")
    page.wait_for_url(re.compile(r"/cases/\d+\?done=approved$"))


def approver_for(session: Session, case: Case, *, role: str = "approver") -> User:
    """A demo approver (or ``role``) of the department that handles ``case``."""
    found = session.scalars(select(User).where(User.role == role, User.department_id == case.department_id)
                            .order_by(User.id)).first()
    assert found is not None, f"no {role} in department {case.department_id}"
    return found


# ----- people and enterprises ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A made person: the number, the name, the account (if any) and the applicant as a case names them."""

    id_number: str
    name: str
    user: User | None
    applicant: service.ApplicantIn


@dataclass(frozen=True)
class Enterprise:
    """A made enterprise: the 统一社会信用代码, the name and the applicant as a case names it."""

    credit_code: str
    name: str
    applicant: service.ApplicantIn


def make_person(session: Session, clock: Clock, *, name: str | None = None, with_id_card: bool = True,
                account: bool = True, role: str = "applicant", hukou: bool = False,
                phone: str = "13803731234", id_number: str | None = None) -> Person:
    """A fresh person with a valid 公民身份号码; ``with_id_card`` puts a valid 居民身份证 into the certificate
    library, ``hukou`` a 户口簿, ``account`` creates a user (``role``, password :data:`DEMO_PASSWORD`)."""
    number = id_number or new_id_number()
    name = name or f"测试{number[-4:]}"
    issued = dt.date(2019, 5, 1)
    if with_id_card:
        certificates.issue_certificate(session, clock=clock, actor=LOADER, type_code="ID_CARD", holder_id=number,
                                       holder_name=name, issued_date=issued, expires_date=dt.date(2039, 5, 1))
    if hukou:
        certificates.issue_certificate(session, clock=clock, actor=LOADER, type_code="HUKOU_BOOK", holder_id=number,
                                       holder_name=name, issued_date=issued)
    user = None
    if account:
        user = staff_service.create_user(session, clock=clock, actor=LOADER, username=f"p{number}",
                                         password=DEMO_PASSWORD, display_name=name, role=role, id_number=number)
    return Person(number, name, user, service.ApplicantIn(kind="person", name=name, id_number=number, phone=phone))


def make_enterprise(session: Session, clock: Clock, *, name: str | None = None,
                    with_licence: bool = True) -> Enterprise:
    """A fresh enterprise with a valid 统一社会信用代码; ``with_licence`` puts its 营业执照 into the library."""
    code = new_credit_code()
    name = name or f"获嘉县测试{code[-6:-1]}商贸有限公司"
    if with_licence:
        certificates.issue_certificate(session, clock=clock, actor=LOADER, type_code="BIZ_LICENSE", holder_id=code,
                                       holder_name=name, issued_date=dt.date(2020, 3, 1))
    return Enterprise(code, name, service.ApplicantIn(kind="enterprise", name=name, id_number=code))


# ----- materials -----------------------------------------------------------------------------------------


def material_keys(session: Session, item_code: str) -> dict[str, str]:
    """Material name → checklist key of an item's current version."""
    target = service.resolve_target(session, item_code=item_code, bundle_code=None)
    return {e.name: e.key for e in service.checklist(target)}


def handed_in(session: Session, item_code: str, overrides: Mapping[str, str] | None = None, *,
              status: str = "paper", library: bool = True) -> dict[str, str]:
    """The materials a clerk marks at the window: every required material ``status``; ``library`` leaves
    certificate materials to the library lookup; ``overrides`` maps a material name to its status."""
    target = service.resolve_target(session, item_code=item_code, bundle_code=None)
    marks = {e.key: status for e in service.checklist(target)
             if e.required and not (library and e.certificate_type_id is not None)}
    keys = {e.name: e.key for e in service.checklist(target)}
    for name, value in (overrides or {}).items():
        marks[keys[name]] = value
    return marks


def deferrable_material(session: Session, item_code: str) -> str:
    """The name of the first required deferrable (容缺) material of an item (fails when it has none)."""
    target = service.resolve_target(session, item_code=item_code, bundle_code=None)
    names = [e.name for e in service.checklist(target) if e.required and e.deferrable]
    assert names, f"{item_code} has no deferrable material"
    return names[0]


# ----- cases ---------------------------------------------------------------------------------------------


def review_to_decision(session: Session, approver: User, case: Case, clock: Clock, *,
                       opinion: str = "材料齐全，符合条件", agree: bool = True) -> None:
    """Record an opinion (agreeing unless ``agree`` is False) on every step before the decision."""
    while service.opinion_steps(case):
        service.record_opinion(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                               opinion=opinion, agree=agree)


def approve(session: Session, approver: User, case: Case, clock: Clock) -> Case:
    """Review every step and approve."""
    review_to_decision(session, approver, case, clock)
    return service.decide(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                          approve=True, reason="符合条件，准予许可")


def window(session: Session, clerk: User, applicant: service.ApplicantIn, item_code: str,
           marks: Mapping[str, str], *, clock: Clock, **extra: object) -> Case:
    """Intake of one item at the window by a clerk."""
    data = service.ApplicationIn(applicant=applicant, item_code=item_code, materials=marks,  # type: ignore[arg-type]
                                 **extra)
    return service.apply(session, clock=clock, user=clerk, rules_=RULES, online=False, data=data).case


def make_case(session: Session, clock: Clock, *, item_code: str | None = None, state: str = "accepted",
              deferred: bool = False, commitment: bool = False, channel: str = "window",
              applicant: Person | Enterprise | service.ApplicantIn | None = None, clerk: str = "clerk") -> Case:
    """A case of ``item_code`` driven through the service into ``state``.

    ``item_code`` defaults to :data:`CLAIM` for a person and :data:`FOOD` for an enterprise; ``applicant``
    defaults to a fresh person with an account (or pass a demo one such as :data:`ZHANG`). ``deferred``
    accepts with the first deferrable material deferred (容缺), ``commitment`` with it promised (告知承诺).
    Every other required material is handed in on paper. ``channel="online"`` applies from the person's
    account and has the clerk pre-check it. ``overdue`` is an accepted case whose due dates have passed on
    ``clock`` (accepted 70 days earlier, then the deadline sweep ran: warning ``red``).
    """
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}; one of {STATES}")
    if deferred and commitment:
        raise ValueError("a material is either deferred or promised")
    if deferred and state in ("delivered", "archived"):
        raise ValueError("a licence is held back while deferred materials are outstanding")
    if channel not in ("window", "online"):
        raise ValueError(f"unknown channel {channel!r}")
    who = applicant if applicant is not None else make_person(session, clock)
    named = who if isinstance(who, service.ApplicantIn) else who.applicant
    code = item_code or (CLAIM if named.kind == "person" else FOOD)
    intake_clock: Clock = clock
    if state == "overdue":
        intake_clock = FixedClock(clock.now() - dt.timedelta(days=70))
    window_clerk = staff(session, clerk)

    marks = handed_in(session, code, library=False)
    if deferred or commitment:
        key = material_keys(session, code)[deferrable_material(session, code)]
        marks[key] = "deferred" if deferred else "promised"
    if state == "correction_requested":
        target = service.resolve_target(session, item_code=code, bundle_code=None)
        first = next(e for e in service.checklist(target) if e.required and e.certificate_type_id is None)
        marks[first.key] = "missing"

    if channel == "online":
        if not isinstance(who, Person) or who.user is None:
            raise ValueError("an online case needs a person with an account")
        case = service.apply(session, clock=intake_clock, user=who.user, rules_=RULES, online=True,
                             data=service.ApplicationIn(applicant=who.applicant, item_code=code,
                                                        commitment=commitment)).case
        if state == "submitted":
            return case
        if state == "refused":
            return service.precheck(session, clock=intake_clock, user=window_clerk, case_id=case.id,
                                    expected_version=case.version, materials={}, rules_=RULES, refuse=True,
                                    reason="不属于本事项受理范围", basis="《行政许可法》第三十二条")
        service.precheck(session, clock=intake_clock, user=window_clerk, case_id=case.id,
                         expected_version=case.version, materials=marks, rules_=RULES)
    else:
        if state == "submitted":
            raise ValueError("a window case is decided at intake; use channel='online' for 'submitted'")
        refusal = {"refuse": True, "refuse_reason": "不属于本事项受理范围",
                   "refuse_basis": "《行政许可法》第三十二条"} if state == "refused" else {}
        case = window(session, window_clerk, named, code, marks, clock=intake_clock,
                      commitment=commitment, **refusal)
    if state in ("refused", "correction_requested", "accepted"):
        return case
    if state == "overdue":
        sweep.sweep_deadlines(session, clock=clock)
        return case
    if state == "withdrawn":
        return service.withdraw(session, clock=clock, user=window_clerk, case_id=case.id,
                                expected_version=case.version, reason="申请人撤回申请")

    approver = approver_for(session, case)
    if state in ("in_review", "suspended"):
        service.record_opinion(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                               opinion="材料齐全")
        if state == "suspended":
            service.suspend(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                            kind="inspection", reason="现场核查")
        return case
    if state == "denied":
        review_to_decision(session, approver, case, clock)
        return service.decide(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                              approve=False, reason="不符合条件", basis="《行政许可法》第三十八条")
    approve(session, approver, case, clock)
    if state == "approved":
        return case
    service.deliver(session, clock=clock, user=window_clerk, case_id=case.id, expected_version=case.version,
                    data=service.DeliveryIn(method="pickup", picked_up_by=named.name))
    if state == "delivered":
        return case
    return service.archive(session, clock=clock, user=window_clerk, case_id=case.id, expected_version=case.version)
