"""Demo 有诉即办: a handful of work orders in every stage, so the window, the inbox and the dispatch board show.

Filed on the days before the demo's now through the service (so numbers, limits, events and audit entries are
real): a 12345 咨询 waiting for 派单, a window 投诉 waiting for 市场监管 to sign, an anonymous online 求助 being
handled by 卫健委, a 咨询 answered on the spot waiting for the callback, and a 建议 closed after a satisfied 回访.
Contact numbers are office landlines, so no SMS is queued. Loading again does nothing once an order filed by
hand exists (the escalated 差评 the wiring files do not count).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Department
from onewindow.complaints import service
from onewindow.complaints.models import Complaint
from onewindow.complaints.service import ComplaintIn
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, FixedClock
from onewindow.staff.models import User

HOTLINE = Actor(None, "12345")


def _user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).first()


def _department(session: Session, code: str) -> Department | None:
    return session.scalars(select(Department).where(Department.code == code)).first()


def load_demo_complaints(session: Session, clock: Clock) -> int:
    """File the demo orders (once); how many were filed."""
    if session.scalar(select(func.count()).select_from(Complaint).where(Complaint.source_kind.is_(None))):
        return 0
    clerk, admin, supervisor = _user(session, "clerk"), _user(session, "admin"), _user(session, "supervisor")
    head_scjg, head_wjw = _user(session, "head_scjg"), _user(session, "head_wjw")
    scjg, wjw, zwfw = _department(session, "SCJG"), _department(session, "WJW"), _department(session, "ZWFW")
    head_zwfw = _user(session, "head_zwfw")
    if None in (clerk, admin, supervisor, head_scjg, head_wjw, head_zwfw, scjg, wjw, zwfw):
        return 0
    assert clerk and admin and supervisor and head_scjg and head_wjw and head_zwfw and scjg and wjw and zwfw  # noqa: S101
    now = clock.now()

    def at(days: float) -> FixedClock:
        return FixedClock(now - dt.timedelta(days=days))

    service.file_complaint(session, clock=at(0.1), channel="hotline", actor=HOTLINE, data=ComplaintIn(
        category="consult", subject="新生儿落户需要哪些材料",
        content="12345 转来：市民咨询新生儿落户和医保参保一起办理的材料。",
        complainant_name="周先生", complainant_phone="0373-4456001"))

    c = service.file_complaint(session, clock=at(1), channel="window", user=clerk, data=ComplaintIn(
        category="complain", subject="营业执照变更被要求重复提交材料",
        content="群众反映两次到市场监管窗口办理营业执照变更，每次告知的材料不一致。",
        complainant_name="吴女士", complainant_phone="0373-4456002"))
    service.dispatch(session, clock=at(0.9), user=admin, complaint_id=c.id, expected_version=c.version,
                     lead_department_id=scjg.id)

    c = service.file_complaint(session, clock=at(3), channel="online", data=ComplaintIn(
        category="help", subject="老人不会使用医保电子凭证",
        content="家中老人看病时无法出示医保电子凭证，希望有人指导。",
        anonymous=True))
    c = service.dispatch(session, clock=at(2.9), user=admin, complaint_id=c.id, expected_version=c.version,
                         lead_department_id=wjw.id)
    service.sign(session, clock=at(2.8), user=head_wjw, complaint_id=c.id, expected_version=c.version)

    service.file_complaint(session, clock=at(2), channel="window", user=clerk, data=ComplaintIn(
        category="consult", subject="社保卡补办要带什么", content="群众到窗口咨询社保卡补办。",
        complainant_name="郑先生", complainant_phone="0373-4456003"), answer="携带本人身份证原件即可当场补办。")

    c = service.file_complaint(session, clock=at(6), channel="window", user=clerk, data=ComplaintIn(
        category="suggest", subject="建议大厅增设母婴室", content="带孩子办事不便，建议在一楼增设母婴室。",
        complainant_name="冯女士", complainant_phone="0373-4456004"))
    c = service.dispatch(session, clock=at(5.9), user=admin, complaint_id=c.id, expected_version=c.version,
                         lead_department_id=zwfw.id)
    c = service.sign(session, clock=at(5.8), user=head_zwfw, complaint_id=c.id, expected_version=c.version)
    c = service.reply(session, clock=at(4), user=head_zwfw, complaint_id=c.id, expected_version=c.version,
                      text="已在一楼东侧设置母婴室，感谢您的建议。")
    service.record_callback(session, clock=at(3.5), user=supervisor, complaint_id=c.id, expected_version=c.version,
                            verdict="satisfied", note="回访：满意")
    return 5
