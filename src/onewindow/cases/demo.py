"""Demo cases (办件) in every state, written through the service, so that a newcomer sees a living center.

Every case is dated relative to the load clock: a case meant to be yellow or red today was accepted a
number of *working* days earlier (on the calendar in the database), so the states and warnings hold on
any day the demo is loaded. No certificate is issued to the demo holders (their certificate lists are
part of the certificate demo), so the approvals shown are of items without a result certificate, and the
newborn bundle's certificate-issuing sub-cases are left open. Loading again does nothing once a case exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.agents import service as agents_service
from onewindow.agents.service import AuthorizationIn
from onewindow.calendar import service as calendar_service
from onewindow.calendar.workdays import WorkCalendar
from onewindow.cases import deadlines as dl
from onewindow.cases import service
from onewindow.cases.models import Case
from onewindow.cases.service import ApplicantIn, ApplicationIn, CaseRules, DeliveryIn
from onewindow.cases.states import CaseState
from onewindow.cases.sweep import sweep_deadlines
from onewindow.certificates.demo import FENGYUAN, LAOJIE, LI_NA, WANG_FANG, ZHANG_WEI
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, Clock, FixedClock, today
from onewindow.staff.models import User

RULES = CaseRules()
STAFF = ("clerk", "clerk_town", "clerk_village", "approver_scjg", "approver_gaj", "approver_ybj", "approver_rsj",
         "agent", "zhangwei", "wangfang")

ZHANG = ApplicantIn(kind="person", name="张伟", id_number=ZHANG_WEI, phone="13903735678")
WANG = ApplicantIn(kind="person", name="王芳", id_number=WANG_FANG, phone="13703736789")
LINA = ApplicantIn(kind="person", name="李娜", id_number=LI_NA, phone="13603731122")
FENG = ApplicantIn(kind="enterprise", name="获嘉县丰源商贸有限公司", id_number=FENGYUAN, phone="03734501234")
NOODLES = ApplicantIn(kind="enterprise", name="获嘉县老街面馆", id_number=LAOJIE, phone="13503739876")
PREMISES = "经营场所使用证明（租赁协议等）"  # deferrable (容缺) in 个体工商户设立登记
RESIDENCE_PROOF = "居住证明（房屋产权证明或租赁合同）"  # replaced by a promise (告知承诺) in 居住证申领


class _Demo:
    """The load clock, the calendar and the demo users; small verbs over the service."""

    def __init__(self, session: Session, clock: Clock, users: Mapping[str, User]) -> None:
        self.session = session
        self.clock = clock
        self.users = users
        self.today = today(clock)
        self.calendar: WorkCalendar = calendar_service.build_calendar(session)
        self._entries: dict[str, list[service.ChecklistEntry]] = {}

    def ago(self, working_days: int, hour: int = 10) -> Clock:
        """A clock ``working_days`` working days before today (0: the load clock itself)."""
        if working_days == 0:
            return self.clock
        day = self.today
        left = working_days
        while left:
            day -= dt.timedelta(days=1)
            if self.calendar.is_workday(day):
                left -= 1
        return FixedClock(dt.datetime.combine(day, dt.time(hour, 0), tzinfo=CHINA_TZ))

    def yellow_from(self, promised_days: int) -> Clock:
        """The latest acceptance day that leaves a ``promised_days`` limit yellow today, on any day of the week."""
        for back in range(1, 60):
            clock = self.ago(back)
            answer = dl.schedule(self.calendar, limits=dl.Limits(promised_days, promised_days),
                                 state=CaseState.ACCEPTED, today=self.today, accepted_on=today(clock))
            if answer.warning is dl.DeadlineWarning.YELLOW:
                return clock
        return self.ago(promised_days - 1)  # unreachable on any real calendar

    def entries(self, code: str) -> list[service.ChecklistEntry]:
        """The checklist of an item (looked up once: the demo stays fast)."""
        if code not in self._entries:
            target = service.resolve_target(self.session, item_code=code, bundle_code=None)
            self._entries[code] = service.checklist(target)
        return self._entries[code]

    def marks(self, code: str, overrides: Mapping[str, str] | None = None, *, library: bool = True) -> dict[str, str]:
        """Every required material on paper (certificate materials left to the library when ``library``)."""
        entries = self.entries(code)
        out = {e.key: "paper" for e in entries if e.required and not (library and e.certificate_type_id)}
        keys = {e.name: e.key for e in entries}
        for name, status in (overrides or {}).items():
            out[keys[name]] = status
        return out

    def key(self, code: str, name: str) -> str:
        """The checklist key of a material by its name."""
        return next(e.key for e in self.entries(code) if e.name == name)

    def window(self, applicant: ApplicantIn, code: str, marks: Mapping[str, str], *, clock: Clock,
               clerk: str = "clerk", commitment: bool = False, refuse_reason: str = "",
               refuse_basis: str = "", proxy: bool = False) -> Case:
        """Intake at a window (refused when a reason is given; ``proxy``: 代收代办 at a town or village point)."""
        data = ApplicationIn(applicant=applicant, item_code=code, materials=dict(marks), commitment=commitment,
                             refuse=bool(refuse_reason), refuse_reason=refuse_reason, refuse_basis=refuse_basis,
                             proxy=proxy)
        return service.apply(self.session, clock=clock, user=self.users[clerk], data=data, rules_=RULES,
                             online=False).case

    def online(self, user: str, applicant: ApplicantIn, code: str, *, clock: Clock) -> Case:
        """网上申报 by an applicant (or an agent)."""
        data = ApplicationIn(applicant=applicant, item_code=code)
        return service.apply(self.session, clock=clock, user=self.users[user], data=data, rules_=RULES,
                             online=True).case

    def review(self, case: Case, approver: str, *, clock: Clock, opinions: int | None = None) -> None:
        """Opinions on the next steps (all but the decision step when ``opinions`` is None)."""
        done = 0
        while service.opinion_steps(case) and (opinions is None or done < opinions):
            service.record_opinion(self.session, clock=clock, user=self.users[approver], case_id=case.id,
                                   expected_version=case.version, opinion="材料齐全，符合法定条件")
            done += 1

    def decide(self, case: Case, approver: str, *, clock: Clock, approve: bool = True, reason: str = "",
               basis: str = "") -> None:
        """Review to the decision step and decide."""
        self.review(case, approver, clock=clock)
        service.decide(self.session, clock=clock, user=self.users[approver], case_id=case.id,
                       expected_version=case.version, approve=approve, reason=reason, basis=basis)

    def deliver(self, case: Case, data: DeliveryIn, *, clock: Clock) -> None:
        """Hand the result out."""
        service.deliver(self.session, clock=clock, user=self.users["clerk"], case_id=case.id,
                        expected_version=case.version, data=data)


def load_demo_cases(session: Session, clock: Clock, actor: Actor) -> int:
    """Write the demo cases (one or more in every state, a bundle, yellow and red ones); returns cases made."""
    del actor  # every write is made by a demo user, as in real life; the signature matches the other loaders
    if session.scalars(select(Case.id).limit(1)).first() is not None:
        return 0
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(STAFF)))}
    if len(users) != len(STAFF):
        return 0
    d = _Demo(session, clock, users)
    now = d.clock

    # 网上申报, waiting for the pre-check; and an authorised agent applying for 李娜
    d.online("zhangwei", ZHANG, "410724-GAJ-GG-002", clock=now)
    agents_service.authorize_agent(session, clock=now, user=users["clerk"], data=AuthorizationIn(
        agent_username="agent", applicant=LINA, scope=["410724-RSJ-GG-004", "410724-GAJ-GG-002"],
        valid_from=d.today, valid_until=d.today + dt.timedelta(days=180), document="授权委托书（窗口留存）"))
    d.online("agent", LINA, "410724-RSJ-GG-004", clock=now)

    # 补正 (one complete list) and 不予受理
    d.window(WANG, "410724-SCJG-XK-001", d.marks("410724-SCJG-XK-001", {PREMISES: "missing"}),
             clock=d.ago(1))
    d.window(LINA, "410724-NYJ-XK-001", {}, clock=d.ago(2), clerk="clerk_village",  # 宅基地: a village item
             refuse_reason="申请人非本村集体经济组织成员，不符合宅基地申请条件",
             refuse_basis="《中华人民共和国土地管理法》第六十二条")

    # accepted: 容缺 at a town center (a county item received for the 医保局: 代收代办), 告知承诺
    d.window(ZHANG, "410724-YBJ-JF-001", d.marks("410724-YBJ-JF-001", {"本人银行账户信息": "deferred"}),
             clock=d.ago(3), clerk="clerk_town", proxy=True)
    d.window(WANG, "410724-GAJ-GG-003", d.marks("410724-GAJ-GG-003", {RESIDENCE_PROOF: "promised"}), clock=now,
             commitment=True)

    # in review: one yellow today (a 3-day promise with one working day left), one red (promise passed)
    food = d.window(FENG, "410724-SCJG-XK-007", d.marks("410724-SCJG-XK-007", library=False), clock=d.yellow_from(3))
    d.review(food, "approver_scjg", clock=now, opinions=1)
    chronic = d.window(ZHANG, "410724-YBJ-QR-001", d.marks("410724-YBJ-QR-001"), clock=d.ago(12))
    d.review(chronic, "approver_ybj", clock=d.ago(10), opinions=1)

    # 特别程序 (on-site inspection) with an extension waiting for the head of department
    drugs = d.window(FENG, "410724-SCJG-XK-008", d.marks("410724-SCJG-XK-008", library=False), clock=d.ago(4))
    d.review(drugs, "approver_scjg", clock=d.ago(3), opinions=1)
    service.suspend(session, clock=d.ago(2), user=users["approver_scjg"], case_id=drugs.id,
                    expected_version=drugs.version, kind="inspection", reason="现场检查营业场所和仓库")
    service.request_extension(session, clock=d.ago(1), user=users["approver_scjg"], case_id=drugs.id, days=5,
                              reason="现场检查发现仓库温湿度监测设备待整改，需延长审查期限")

    # decided: 秒批, approved by the department, denied
    d.window(ZHANG, "410724-YBJ-GG-001", {}, clock=now)
    pension = d.window(WANG, "410724-RSJ-JF-001", d.marks("410724-RSJ-JF-001", library=False), clock=d.ago(3))
    d.decide(pension, "approver_rsj", clock=d.ago(1), reason="符合领取条件，核定基本养老金")
    jobless = d.window(LINA, "410724-RSJ-JF-003", d.marks("410724-RSJ-JF-003", library=False), clock=d.ago(4))
    d.decide(jobless, "approver_rsj", clock=d.ago(2), approve=False, reason="失业前累计缴纳失业保险费不满一年",
             basis="《失业保险条例》第十四条")

    # delivered: at the window (即办件, same visit), by mail, electronically (网上申报 + 电子送达)
    proof = d.window(ZHANG, "410724-GAJ-GG-001", d.marks("410724-GAJ-GG-001"), clock=now)
    service.decide(session, clock=now, user=users["clerk"], case_id=proof.id, expected_version=proof.version,
                   approve=True, reason="户籍信息核验一致，当场出具")
    d.deliver(proof, DeliveryIn(method="pickup", picked_up_by="张伟"), clock=now)
    transfer = d.window(WANG, "410724-YBJ-GG-002", d.marks("410724-YBJ-GG-002"), clock=d.ago(6))
    d.decide(transfer, "approver_ybj", clock=d.ago(2), reason="转移接续手续已办结")
    d.deliver(transfer, DeliveryIn(method="mail", address="获嘉县城关镇人民路 18 号", recipient="王芳", courier="EMS",
                                   tracking_number="1180246813579"), clock=d.ago(1))
    record = d.online("wangfang", WANG, "410724-GAJ-GG-002", clock=d.ago(3))
    service.precheck(session, clock=d.ago(3, hour=14), user=users["clerk"], case_id=record.id,
                     expected_version=record.version, rules_=RULES,
                     materials={d.key("410724-GAJ-GG-002", "犯罪记录查询申请表"): "electronic"})
    d.decide(record, "approver_gaj", clock=d.ago(2), reason="经查询无犯罪记录，出具证明")
    d.deliver(record, DeliveryIn(method="electronic"), clock=d.ago(2))

    # archived after pickup; withdrawn online by the applicant
    closing = d.window(NOODLES, "410724-SCJG-XK-003", d.marks("410724-SCJG-XK-003", library=False), clock=d.ago(9))
    d.decide(closing, "approver_scjg", clock=d.ago(8), reason="准予注销登记")
    d.deliver(closing, DeliveryIn(method="pickup", picked_up_by="李娜"), clock=d.ago(7))
    service.archive(session, clock=d.ago(5), user=users["clerk"], case_id=closing.id,
                    expected_version=closing.version)
    trip = d.online("zhangwei", ZHANG, "410724-GAJ-XK-002", clock=d.ago(2))
    service.withdraw(session, clock=d.ago(1), user=users["zhangwei"], case_id=trip.id, expected_version=trip.version,
                     reason="行程取消，主动撤回")

    # terminated: a false 告知承诺 found in 事后核查; a 容缺 date missed (terminated by the sweep below)
    permit = d.window(LINA, "410724-GAJ-GG-003",
                      d.marks("410724-GAJ-GG-003", {RESIDENCE_PROOF: "promised"}, library=False),
                      clock=d.ago(5), commitment=True)
    service.verify_commitment(session, clock=d.ago(2), user=users["approver_gaj"], case_id=permit.id,
                              expected_version=permit.version, truthful=False,
                              note="核查发现承诺的租住房屋已于上月退租，承诺内容不实")
    d.window(LINA, "410724-SCJG-XK-001",
             d.marks("410724-SCJG-XK-001", {PREMISES: "deferred"}, library=False),
             clock=d.ago(4))

    _newborn(d)
    sweep_deadlines(session, clock=now)  # yellow and red, alerts, the missed 容缺 date
    return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def _newborn(d: _Demo) -> None:
    """新生儿出生一件事 for 王芳 (father 张伟) accepted yesterday: sub-cases approved, in review and open."""
    session = d.session
    target = service.resolve_target(session, item_code=None, bundle_code="YJS-NEWBORN")
    # paper ID cards: no 秒批 here, so no certificate is issued to the demo holders
    marks = {e.key: "paper" for e in service.checklist(target) if e.required}
    data = ApplicationIn(applicant=WANG, bundle_code="YJS-NEWBORN", materials=marks, extra_holders=[ZHANG_WEI],
                         form_data={"baby_name": "张小禾"})
    parent = service.apply(session, clock=d.ago(1), user=d.users["clerk"], data=data, rules_=RULES,
                           online=False).case
    subs = {s.item.code if s.item else "": s for s in service.sub_cases(session, parent.id)}
    hukou = subs["410724-GAJ-QR-003"]
    service.decide(session, clock=d.ago(1, hour=15), user=d.users["approver_gaj"], case_id=hukou.id,
                   expected_version=hukou.version, approve=True, reason="出生登记已办结")
    insurance = subs["410724-YBJ-GG-001"]
    service.decide(session, clock=d.ago(1, hour=15), user=d.users["approver_ybj"], case_id=insurance.id,
                   expected_version=insurance.version, approve=True, reason="已参保登记")
    d.review(subs["410724-YBJ-JF-002"], "approver_ybj", clock=d.clock, opinions=1)
