"""API shapes of the cases (办件) domain: request bodies and the views the API answers with.

Personal data never leaves whole: every ID number (公民身份号码 / 统一社会信用代码) and mobile phone
number in a response is masked (``core.ids``), including those inside free-form ``form_data`` and
timeline data; the public tracking view masks the name too. Status labels come from the pure
modules (``states.STATE_LABELS``, ``rules.MATERIAL_STATUS_LABELS``), never from here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from onewindow.agents.service import AgentAuthorization
from onewindow.cases.deadlines import Remaining, Schedule
from onewindow.cases.models import Case, CaseDelivery, CaseEvent, CaseExtension, CaseUpload
from onewindow.cases.rules import MaterialStatus
from onewindow.cases.service import ChecklistEntry, PublicStatus, opinion_steps, ready_for_decision
from onewindow.cases.states import CaseState
from onewindow.cases.uploads import SHA256_RE
from onewindow.core.ids import is_valid_credit_code, is_valid_id_number, mask_id_number, mask_phone

FORM_DATA_MAX_CHARS = 10_000
MATERIALS_MAX = 100
ID_MAX = 2_147_483_647  # database integer keys: a larger number is a mistake, not a lookup
Version = Field(ge=1, le=2_000_000_000, description="办件当前版本号（乐观锁：与服务器不一致时返回 409 stale_version）")


def mask_deep(value: Any) -> Any:
    """Mask every ID number and mobile phone number inside a JSON-like value."""
    if isinstance(value, str):
        if SHA256_RE.fullmatch(value):  # a file hash may hold eleven digits in a row; it is not a phone
            return value
        compact = value.strip().upper()
        if is_valid_id_number(compact) or is_valid_credit_code(compact):
            return mask_id_number(compact)
        return mask_phone(value)
    if isinstance(value, dict):
        return {k: mask_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_deep(v) for v in value]
    return value


def has_nul(value: Any) -> bool:
    """True when a NUL character hides anywhere in a JSON-like value (PostgreSQL text refuses it)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


# ----- requests -----------------------------------------------------------------------------------------


class Body(BaseModel):
    """A request body: no field may carry a NUL character (a 422 on that field, not a database error)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if has_nul(value):
            raise ValueError("不能包含空字符")
        return value


class ApplicantBody(Body):
    """申请人：自然人（公民身份号码）或法人（统一社会信用代码）。"""

    kind: Literal["person", "enterprise"] = Field(description="申请人类型：person 自然人 / enterprise 法人")
    name: str = Field(min_length=1, max_length=200, description="申请人姓名或单位名称")
    id_number: str = Field(min_length=1, max_length=30, description="公民身份号码或统一社会信用代码")
    phone: str = Field("", max_length=20, description="联系电话")


class CaseCreateIn(Body):
    """申报或窗口受理登记：一个事项或一件事（二选一）。"""

    item_code: str | None = Field(None, max_length=60, description="事项编码")
    bundle_code: str | None = Field(None, max_length=60, description="一件事编码")
    applicant: ApplicantBody = Field(description="申请人")
    materials: dict[str, str] = Field(
        default_factory=dict, max_length=MATERIALS_MAX,
        description="材料键 → 提交方式（paper 纸质 / electronic 电子 / library 证照库 / deferred 容缺 / "
                    "promised 告知承诺 / missing 未提交）；未列出的材料由证照库提供或视为未提交")
    extra_holders: list[str] = Field(default_factory=list, max_length=10,
                                     description="可一并调用其电子证照的其他持证人证件号码（如新生儿父母）")
    commitment: bool = Field(False, description="申请人签署告知承诺书")
    form_data: dict[str, Any] = Field(default_factory=dict, description="申请表单内容")
    hall_code: str | None = Field(None, max_length=40, description="受理大厅编码（窗口受理；默认为本人所在大厅）")
    ticket_id: int | None = Field(None, ge=1, le=ID_MAX, description="本次来访的排队号票 ID（窗口受理）")
    proxy: bool = Field(False, description="代收代办：乡镇便民服务中心或村便民服务站代县级部门收件（窗口受理）；"
                                           "事项的可办层级不含本大厅层级时必须选择，否则不予受理")
    refuse: bool = Field(False, description="窗口当场不予受理")
    refuse_reason: str = Field("", max_length=500, description="不予受理理由")
    refuse_basis: str = Field("", max_length=500, description="不予受理的法律依据")
    delivery_method: str = Field("pickup", max_length=12,
                                 description="办理结果送达方式（最多跑一次，窗口受理时选择）：pickup 窗口领取 / "
                                             "mail 邮寄 / electronic 电子送达；须为事项提供的方式")
    delivery_address: str = Field("", max_length=400, description="邮寄地址（选择邮寄时必填，不超过 200 字）")
    delivery_recipient: str = Field("", max_length=128, description="收件人（默认申请人）")
    supply_online: bool = Field(False, description="容缺材料由申请人在网上补交（不再到窗口）")

    @field_validator("materials")
    @classmethod
    def _short_keys(cls, value: dict[str, str]) -> dict[str, str]:
        if any(len(k) > 220 or len(v) > 20 for k, v in value.items()):
            raise ValueError("材料键或提交方式过长")
        return value

    @field_validator("extra_holders")
    @classmethod
    def _short_holders(cls, value: list[str]) -> list[str]:
        if any(len(h) > 30 for h in value):
            raise ValueError("证件号码长度不能超过 30")
        return value

    @field_validator("form_data")
    @classmethod
    def _small_form(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, ensure_ascii=False, default=str)) > FORM_DATA_MAX_CHARS:
            raise ValueError(f"表单内容不能超过 {FORM_DATA_MAX_CHARS} 个字符")
        return value


class VersionIn(Body):
    """Only the version the caller last saw."""

    version: int = Version


class PrecheckIn(VersionIn):
    """预审网上申报：核对材料后受理、要求补正或不予受理。"""

    materials: dict[str, str] = Field(default_factory=dict, max_length=MATERIALS_MAX,
                                      description="材料键 → 核对后的提交方式")
    refuse: bool = Field(False, description="不予受理")
    reason: str = Field("", max_length=500, description="不予受理理由")
    basis: str = Field("", max_length=500, description="不予受理的法律依据")


class ResubmitIn(VersionIn):
    """补正后重新提交（申请人）或窗口收取补正材料（窗口人员）。"""

    materials: dict[str, str] = Field(default_factory=dict, max_length=MATERIALS_MAX,
                                      description="材料键 → 提交方式（窗口收取时填写）")


class OpinionIn(VersionIn):
    """审查意见：完成下一个审查环节。"""

    opinion: str = Field(min_length=1, max_length=500, description="审查意见")
    agree: bool = Field(True, description="是否同意")


class DecisionIn(VersionIn):
    """准予或不予许可的决定。"""

    approve: bool = Field(description="true 准予 / false 不予许可")
    reason: str = Field("", max_length=500, description="决定理由（不予许可必填）")
    basis: str = Field("", max_length=500, description="法律依据（不予许可必填）")


class SuspendIn(VersionIn):
    """进入特别程序，暂停计时。"""

    kind: str = Field(max_length=20, description="hearing 听证 / expert 专家评审 / inspection 现场核查 / other 其他")
    reason: str = Field(min_length=1, max_length=500, description="暂停计时的原因")


class ExtensionIn(VersionIn):
    """申请延长法定办理时限。"""

    days: int = Field(ge=1, le=30, description="延期工作日数（1–30）")
    reason: str = Field(min_length=1, max_length=500, description="延期理由")


class ExtensionDecisionIn(Body):
    """首席代表审批延期申请。"""

    approve: bool = Field(description="true 批准 / false 不批准")
    version: int | None = Field(None, ge=1, le=2_000_000_000, description="办件当前版本号（可选，乐观锁）")


class WithdrawIn(VersionIn):
    """申请人撤回申请。"""

    reason: str = Field("", max_length=500, description="撤回原因")


class VerificationIn(VersionIn):
    """告知承诺事后核查结果。"""

    truthful: bool = Field(description="承诺是否属实；不属实则终止办件")
    note: str = Field(min_length=1, max_length=500, description="核查情况")


class DeferredIn(VersionIn):
    """补交容缺材料。"""

    keys: list[str] = Field(min_length=1, max_length=MATERIALS_MAX, description="补交的材料键")
    status: Literal["paper", "electronic"] = Field("paper", description="补交方式：paper 纸质 / electronic 电子")


class DeliveryBody(VersionIn):
    """送达办理结果。"""

    method: Literal["pickup", "mail", "electronic"] = Field(
        description="pickup 窗口领取 / mail 邮寄 / electronic 电子送达")
    picked_up_by: str = Field("", max_length=64, description="领取人（窗口领取必填）")
    address: str = Field("", max_length=200, description="邮寄地址")
    recipient: str = Field("", max_length=64, description="收件人")
    courier: str = Field("", max_length=40, description="快递公司")
    tracking_number: str = Field("", max_length=40, description="快递单号")
    ticket_id: int | None = Field(None, ge=1, le=ID_MAX, description="领取时的排队号票 ID")


class MailReceivedIn(Body):
    """邮寄送达的签收日期。"""

    delivered_on: dt.date = Field(description="签收日期")
    version: int | None = Field(None, ge=1, le=2_000_000_000, description="办件当前版本号（可选，乐观锁）")


class AuthorizationCreateIn(Body):
    """登记帮办代办授权委托。"""

    agent_username: str = Field(min_length=1, max_length=64, description="帮办代办员用户名")
    applicant: ApplicantBody = Field(description="委托人（申请人）")
    scope: list[str] = Field(default_factory=list, max_length=50,
                             description="授权的事项或一件事编码；为空表示全部事项")
    valid_from: dt.date = Field(description="授权开始日期")
    valid_until: dt.date = Field(description="授权截止日期（不超过一年）")
    document: str = Field("", max_length=200, description="授权委托书编号或说明")


# ----- responses ----------------------------------------------------------------------------------------


class DepartmentRef(BaseModel):
    """部门。"""

    id: int
    code: str = Field(description="部门编码")
    name: str = Field(description="部门名称")


class RemainingOut(BaseModel):
    """剩余时限（与办件页、待办件列表一致，由 deadlines.schedule 计算）。"""

    status: str = Field(description="not_started 未开始计时 / running 办理中 / due_today 今天到期 / overdue 已超期 / "
                                    "paused 暂停计时 / on_time 按期办结 / late 超期办结 / ended 已结束（未作决定）")
    text: str = Field(description="剩余时限文字，如“剩 3 个工作日”“按期办结”")
    days: int | None = Field(description="文字所说的工作日数")

    @classmethod
    def of(cls, r: Remaining) -> RemainingOut:
        """From the schedule's answer."""
        return cls(status=r.status.value, text=r.text, days=r.days)


class CaseSummaryOut(BaseModel):
    """办件列表中的一行。"""

    id: int
    number: str = Field(description="办件编号")
    kind: str = Field(description="single 单事项 / bundle 一件事主件 / sub 一件事分件")
    title: str = Field(description="事项或一件事名称")
    item_code: str | None = Field(description="事项编码")
    bundle_code: str | None = Field(description="一件事编码")
    channel: str = Field(description="window 窗口 / online 网上申报")
    state: CaseState = Field(description="状态")
    state_label: str = Field(description="状态名称")
    version: int = Field(description="版本号（乐观锁）")
    department: DepartmentRef = Field(description="办理部门（一件事为牵头部门）")
    applicant_kind: str = Field(description="person 自然人 / enterprise 法人")
    applicant_name: str = Field(description="申请人")
    applicant_id: str = Field(description="申请人证件号码（脱敏）")
    applicant_phone: str = Field(description="联系电话（脱敏）")
    warning: str = Field(description="时限预警：none / yellow 黄灯 / red 红灯")
    remaining: RemainingOut | None = Field(default=None, description="剩余时限（与办件页一致）")
    submitted_at: dt.datetime | None = Field(description="申报时间")
    accepted_on: dt.date | None = Field(description="受理日期")
    promised_due: dt.date | None = Field(description="承诺办结日期")
    legal_due: dt.date | None = Field(description="法定办结日期")
    decided_on: dt.date | None = Field(description="办结日期")
    parent_id: int | None = Field(description="一件事主件 ID（分件）")

    @classmethod
    def of(cls, c: Case, answer: Schedule | None = None) -> CaseSummaryOut:
        """From a row (and its schedule on today, when given: the remaining time and the warning)."""
        state = CaseState(c.state)
        return cls(id=c.id, number=c.number, kind=c.kind, title=c.title, item_code=c.item.code if c.item else None,
                   bundle_code=c.bundle.code if c.bundle else None, channel=c.channel, state=state,
                   state_label=state.label, version=c.version,
                   department=DepartmentRef(id=c.department.id, code=c.department.code, name=c.department.name),
                   applicant_kind=c.applicant_kind, applicant_name=c.applicant_name,
                   applicant_id=mask_id_number(c.applicant_id), applicant_phone=mask_phone(c.applicant_phone),
                   warning=answer.warning.value if answer is not None else c.warning,
                   remaining=RemainingOut.of(answer.remaining) if answer is not None else None,
                   submitted_at=c.submitted_at, accepted_on=c.accepted_on,
                   promised_due=c.promised_due, legal_due=c.legal_due, decided_on=c.decided_on,
                   parent_id=c.parent_id)


class MaterialOut(BaseModel):
    """办件材料清单的一行。"""

    key: str = Field(description="材料键（一件事中去重用）")
    name: str = Field(description="材料名称")
    required: bool = Field(description="是否必需")
    deferrable: bool = Field(description="是否可容缺")
    status: str = Field(description="提交方式")
    status_label: str = Field(description="提交方式名称")
    certificate_id: int | None = Field(description="免提交时调用的电子证照 ID")
    upload_id: int | None = Field(description="网上上传的附件 ID")
    supplied_at: dt.datetime | None = Field(description="提交时间")
    note: str = Field(description="说明")


class StepOut(BaseModel):
    """审查环节。"""

    position: int
    name: str = Field(description="环节名称")
    status: str = Field(description="pending 待办 / done 已完成")
    outcome: str | None = Field(description="agree 同意 / disagree 不同意 / default 缺席默认")
    opinion: str = Field(description="意见")
    done_by_name: str = Field(description="办理人")
    done_at: dt.datetime | None = Field(description="办理时间")


class DeadlinesOut(BaseModel):
    """办理时限。"""

    limit_unit: str = Field(description="working_day 工作日 / natural_day 自然日")
    legal_days: int = Field(description="法定时限")
    promised_days: int = Field(description="承诺时限")
    extension_days: int = Field(description="已批准延期天数")
    legal_due: dt.date | None = Field(description="法定办结日期")
    promised_due: dt.date | None = Field(description="承诺办结日期")
    provisional: bool = Field(description="日期跨越尚未公布的节假日安排，暂按常规推算")
    warning: str = Field(description="时限预警：none / yellow 黄灯 / red 红灯")
    deferral_due: dt.date | None = Field(description="容缺材料补交截止日期")


class DecisionOut(BaseModel):
    """办理决定。"""

    decision: str = Field(description="approved 准予 / denied 不予许可")
    reason: str = Field(description="理由")
    basis: str = Field(description="法律依据")
    by_rule: str | None = Field(description="自动决定的规则（秒批 / 缺席默认）")
    decided_at: dt.datetime | None = Field(description="决定时间")
    result_certificate_id: int | None = Field(description="签发的电子证照 ID")


class DeliveryOut(BaseModel):
    """送达情况。"""

    method: str = Field(description="pickup 窗口领取 / mail 邮寄 / electronic 电子送达")
    picked_up_by: str = Field(description="领取人")
    address: str = Field(description="邮寄地址")
    recipient: str = Field(description="收件人")
    courier: str = Field(description="快递公司")
    tracking_number: str = Field(description="快递单号")
    delivered_on: dt.date | None = Field(description="送达（签收）日期")

    @classmethod
    def of(cls, d: CaseDelivery) -> DeliveryOut:
        """From a row."""
        return cls(method=d.method, picked_up_by=d.picked_up_by, address=mask_phone(d.address),
                   recipient=d.recipient, courier=d.courier, tracking_number=d.tracking_number,
                   delivered_on=d.delivered_on)


class UploadOut(BaseModel):
    """网上申报附件。"""

    id: int
    material_key: str = Field(description="材料键")
    filename: str = Field(description="文件名")
    content_type: str = Field(description="文件类型（按内容识别）")
    size: int = Field(description="字节数")
    sha256: str = Field(description="SHA-256 摘要")
    uploaded_at: dt.datetime = Field(description="上传时间")
    download_url: str = Field(description="下载地址")

    @classmethod
    def of(cls, u: CaseUpload) -> UploadOut:
        """From a row."""
        return cls(id=u.id, material_key=u.material_key, filename=u.filename, content_type=u.content_type,
                   size=u.size, sha256=u.sha256, uploaded_at=u.uploaded_at,
                   download_url=f"/api/v1/cases/{u.case_id}/uploads/{u.id}")


class ExtensionOut(BaseModel):
    """延期申请。"""

    id: int
    case_id: int
    days: int = Field(description="延期工作日数")
    reason: str = Field(description="延期理由")
    status: str = Field(description="requested 待审批 / approved 已批准 / rejected 未批准")
    requested_at: dt.datetime = Field(description="申请时间")
    decided_at: dt.datetime | None = Field(description="审批时间")

    @classmethod
    def of(cls, e: CaseExtension) -> ExtensionOut:
        """From a row."""
        return cls(id=e.id, case_id=e.case_id, days=e.days, reason=e.reason, status=e.status,
                   requested_at=e.requested_at, decided_at=e.decided_at)


class EventOut(BaseModel):
    """办件时间线中的一条记录。"""

    at: dt.datetime = Field(description="时间")
    kind: str = Field(description="事件类型")
    from_state: str | None = Field(description="原状态")
    to_state: str | None = Field(description="新状态")
    actor_name: str = Field(description="操作人")
    note: str = Field(description="说明")
    data: dict[str, Any] = Field(description="附加数据（已脱敏）")

    @classmethod
    def of(cls, e: CaseEvent) -> EventOut:
        """From a row."""
        return cls(at=e.at, kind=e.kind, from_state=e.from_state, to_state=e.to_state, actor_name=e.actor_name,
                   note=mask_deep(e.note), data=mask_deep(dict(e.data or {})))


class CaseDetailOut(CaseSummaryOut):
    """办件详情：材料、环节、时限、决定、分件、送达、跑动次数和时间线。"""

    proxy: bool = Field(description="代收代办（受理大厅不属办理部门所在区域）")
    receiving_hall: str | None = Field(description="受理大厅编码；网上申报为空")
    form_data: dict[str, Any] = Field(description="申请表单（证件号码、手机号已脱敏）")
    commitment: bool = Field(description="告知承诺件")
    verified_at: dt.datetime | None = Field(description="事后核查时间")
    deferred: bool = Field(description="容缺材料待补交")
    supply_online: bool = Field(description="容缺材料由申请人网上补交（受理时选择）")
    result_delivery: str = Field(description="受理时选择的结果送达方式：pickup / mail / electronic")
    delivery_address: str = Field(description="受理时填写的邮寄地址")
    visit_line: str = Field(description="本件已跑动 N 次，承诺最多跑 M 次")
    materials: list[MaterialOut] = Field(description="材料清单")
    missing_materials: list[str] = Field(description="尚缺的必需材料（补正时的一次性告知清单）")
    steps: list[StepOut] = Field(description="审查环节")
    next_opinion_step: str | None = Field(description="下一个待填写审查意见的环节（无则为空）")
    ready_for_decision: bool = Field(description="审查环节已完成，可以作出决定")
    deadlines: DeadlinesOut = Field(description="办理时限")
    decision: DecisionOut | None = Field(description="办理决定")
    closed_reason: str = Field(description="不予受理、撤回或终止的原因")
    closed_basis: str = Field(description="不予受理或终止的依据")
    parent_number: str | None = Field(description="一件事主件编号（分件）")
    sub_cases: list[CaseSummaryOut] = Field(description="一件事的分件")
    delivery: DeliveryOut | None = Field(description="送达情况")
    uploads: list[UploadOut] = Field(description="网上申报附件")
    extensions: list[ExtensionOut] = Field(description="延期申请")
    visits: int = Field(description="跑动次数")
    one_visit: bool | None = Field(description="一次办结（办结前为空）")
    timeline: list[EventOut] = Field(description="时间线")
    allowed_actions: list[str] = Field(description="当前用户现在可对本件执行的操作（由访问策略和办件状态决定）")

    @classmethod
    def build(cls, *, case: Case, allowed_actions: Sequence[str], parent_number: str | None, subs: Sequence[Case],
              delivery: CaseDelivery | None,
              uploads: Sequence[CaseUpload], extensions: Sequence[CaseExtension], visits: int,
              one_visit: bool | None, events: Sequence[CaseEvent], visit_line: str = "",
              schedules: Mapping[int, Schedule] | None = None) -> CaseDetailOut:
        """From the case and what the service read around it (``schedules``: of the case and its sub-cases)."""
        c = case
        answers = schedules or {}
        base = CaseSummaryOut.of(c, answers.get(c.id)).model_dump()
        decision = (DecisionOut(decision=c.decision, reason=c.decision_reason, basis=c.decision_basis,
                                by_rule=c.decided_by_rule, decided_at=c.decided_at,
                                result_certificate_id=c.result_certificate_id) if c.decision else None)
        return cls(
            **base, proxy=c.proxy, receiving_hall=c.receiving_hall.code if c.receiving_hall else None,
            form_data=mask_deep(dict(c.form_data or {})), commitment=c.commitment, verified_at=c.verified_at,
            deferred=c.deferred, supply_online=c.supply_online, result_delivery=c.result_delivery,
            delivery_address=c.delivery_address, visit_line=visit_line,
            materials=[MaterialOut(key=m.key, name=m.name, required=m.required, deferrable=m.deferrable,
                                   status=m.status, status_label=MaterialStatus(m.status).label,
                                   certificate_id=m.certificate_id, upload_id=m.upload_id, supplied_at=m.supplied_at,
                                   note=m.note) for m in c.materials],
            missing_materials=[m.name for m in c.materials
                               if m.required and m.status == MaterialStatus.MISSING.value],
            steps=[StepOut(position=s.position, name=s.name, status=s.status, outcome=s.outcome, opinion=s.opinion,
                           done_by_name=s.done_by_name, done_at=s.done_at) for s in c.steps],
            next_opinion_step=next((s.name for s in opinion_steps(c)), None),
            ready_for_decision=ready_for_decision(c),
            deadlines=DeadlinesOut(limit_unit=c.limit_unit, legal_days=c.legal_days, promised_days=c.promised_days,
                                   extension_days=c.extension_days, legal_due=c.legal_due,
                                   promised_due=c.promised_due, provisional=c.due_provisional,
                                   warning=base["warning"],
                                   deferral_due=c.deferral_due),
            decision=decision, closed_reason=c.closed_reason, closed_basis=c.closed_basis,
            parent_number=parent_number, sub_cases=[CaseSummaryOut.of(s, answers.get(s.id)) for s in subs],
            delivery=DeliveryOut.of(delivery) if delivery is not None else None,
            uploads=[UploadOut.of(u) for u in uploads], extensions=[ExtensionOut.of(e) for e in extensions],
            visits=visits, one_visit=one_visit, timeline=[EventOut.of(e) for e in events],
            allowed_actions=list(allowed_actions))


class ChecklistLineOut(BaseModel):
    """受理工作台的材料清单行：证照库今天能否为该持证人提供。"""

    key: str = Field(description="材料键（申报时 materials 的键）")
    name: str = Field(description="材料名称")
    required: bool = Field(description="是否必需")
    deferrable: bool = Field(description="是否可容缺")
    certificate_type: str | None = Field(description="对应的电子证照类型名称")
    note: str = Field(description="说明")
    items: list[str] = Field(description="需要该材料的事项（一件事中）")
    library: bool = Field(description="证照库可提供（免提交）")
    certificate_number: str | None = Field(description="可调用的电子证照编号")

    @classmethod
    def of(cls, e: ChecklistEntry, certificate_number: str | None) -> ChecklistLineOut:
        """From a checklist entry and the certificate the library would use."""
        return cls(key=e.key, name=e.name, required=e.required, deferrable=e.deferrable,
                   certificate_type=e.certificate_type_name, note=e.note, items=list(e.items),
                   library=certificate_number is not None, certificate_number=certificate_number)


class ChecklistOut(BaseModel):
    """一个事项或一件事的合并材料清单。"""

    title: str = Field(description="事项或一件事名称")
    department: str = Field(description="办理（牵头）部门")
    materials: list[ChecklistLineOut] = Field(description="去重后的材料清单")


class AuthorizationOut(BaseModel):
    """帮办代办授权。"""

    id: int
    agent_user_id: int = Field(description="帮办代办员用户 ID")
    applicant_kind: str = Field(description="委托人类型")
    applicant_name: str = Field(description="委托人")
    applicant_id: str = Field(description="委托人证件号码（脱敏）")
    scope: list[str] = Field(description="授权的事项或一件事编码；为空表示全部")
    valid_from: dt.date = Field(description="开始日期")
    valid_until: dt.date = Field(description="截止日期")
    document: str = Field(description="授权委托书")
    revoked_at: dt.datetime | None = Field(description="撤销时间")
    created_at: dt.datetime = Field(description="登记时间")

    @classmethod
    def of(cls, a: AgentAuthorization) -> AuthorizationOut:
        """From a row."""
        return cls(id=a.id, agent_user_id=a.agent_user_id, applicant_kind=a.applicant_kind,
                   applicant_name=a.applicant_name, applicant_id=mask_id_number(a.applicant_id), scope=list(a.scope),
                   valid_from=a.valid_from, valid_until=a.valid_until, document=a.document, revoked_at=a.revoked_at,
                   created_at=a.created_at)


class PublicStepOut(BaseModel):
    """公开查询中的办理环节。"""

    name: str = Field(description="环节名称")
    status: str = Field(description="已完成 / 待办理")


class PublicStatusOut(BaseModel):
    """办件进度公开查询结果（不含个人信息，申请人姓名脱敏）。"""

    number: str = Field(description="办件编号")
    title: str = Field(description="事项名称")
    state: CaseState = Field(description="状态")
    state_label: str = Field(description="状态名称")
    department: str = Field(description="办理部门")
    applicant: str = Field(description="申请人（脱敏）")
    accepted_on: dt.date | None = Field(description="受理日期")
    promised_due: dt.date | None = Field(description="承诺办结日期")
    decided_on: dt.date | None = Field(description="办结日期")
    remaining: str = Field(default="", description="剩余时限（与办件页一致，如“剩 3 个工作日”“按期办结”）")
    steps: list[PublicStepOut] = Field(description="办理环节")

    @classmethod
    def of(cls, p: PublicStatus) -> PublicStatusOut:
        """From the service's public view."""
        return cls(number=p.number, title=p.title, state=p.state, state_label=p.state.label,
                   department=p.department, applicant=p.applicant, accepted_on=p.accepted_on,
                   promised_due=p.promised_due, decided_on=p.decided_on, remaining=p.remaining,
                   steps=[PublicStepOut(name=n, status=s) for n, s in p.steps])
