"""The access policy: who may see which record, take which action on it, and see which personal number whole.

Pure (no database, no HTTP). It is the only place in the code base that looks at a user's role: services
enforce it (``require``), API detail responses list its answer (``allowed_actions``), menus and pages render
from it (``menu``; by group, ``menu_groups``), and the personal-data mask at the edge of every response asks
``sees_whole``. A test fails when a role is compared anywhere else, and ``docs/access.md`` is generated from
the tables below.

Each action grants each role a reach (``Scope``):

- ``ALL``: every record of the center (无差别受理: any window serves anyone; supervision reads everything);
- ``DEPARTMENT``: records handled by the viewer's own department;
- ``INVOLVED``: records the viewer's department handles or takes part in (the sub-cases of a bundle);
- ``OWN``: the viewer's own records, or those of the applicants who authorised them (帮办代办).

A record is described by the few facts the rules need (``Record``); a question asked without a record
("may this role ever search cases?") answers for the role, and list queries then narrow by ``list_scope``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from onewindow.core.errors import PermissionDenied


class Role(StrEnum):
    """The roles of DESIGN.md ("Who uses it")."""

    APPLICANT = "applicant"
    CLERK = "clerk"
    APPROVER = "approver"
    AGENT = "agent"
    DEPT_HEAD = "dept_head"
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    EXPERIENCER = "experiencer"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.APPLICANT: "申请人",
    Role.CLERK: "窗口人员",
    Role.APPROVER: "后台审批人员",
    Role.AGENT: "帮办代办员",
    Role.DEPT_HEAD: "首席代表",
    Role.ADMIN: "中心管理员",
    Role.SUPERVISOR: "电子监察",
    Role.EXPERIENCER: "体验员",
}


class Scope(StrEnum):
    """How far a role's grant of an action reaches."""

    ALL = "all"
    DEPARTMENT = "department"
    INVOLVED = "involved"
    OWN = "own"

    @property
    def label(self) -> str:
        """Chinese name used in docs/access.md."""
        return SCOPE_LABELS[self]


SCOPE_LABELS: dict[Scope, str] = {Scope.ALL: "全部", Scope.DEPARTMENT: "本部门", Scope.INVOLVED: "本部门参与",
                                  Scope.OWN: "本人"}


class Action(StrEnum):
    """Everything a user may try to do, by domain."""

    CATALOG_VIEW_ADMIN = "catalog.view_admin"
    ITEM_EDIT = "catalog.item_edit"
    ITEM_RETIRE = "catalog.item_retire"
    BUNDLE_EDIT = "catalog.bundle_edit"
    ORG_EDIT = "catalog.org_edit"
    CALENDAR_EDIT = "calendar.edit"
    AUDIT_READ = "audit.read"
    STAFF_MANAGE = "staff.manage"
    ACCOUNT_SELF = "staff.account_self"
    TOKEN_MANAGE = "staff.token_manage"  # noqa: S105  (an action name, not a secret)
    GUIDE_EDIT = "guide.edit"
    GUIDE_ANALYTICS = "guide.analytics"
    QUEUE_OPERATE = "queue.operate"
    QUEUE_METRICS = "queue.metrics"
    QUEUE_SETTINGS = "queue.settings"
    POLICY_VIEW = "policies.view"
    POLICY_EDIT = "policies.edit"
    ENTITY_VIEW = "policies.entity_view"
    ENTITY_WRITE = "policies.entity_write"
    GRANT_OFFER = "policies.grant_offer"
    GRANT_CONFIRM_AT_WINDOW = "policies.grant_confirm"
    GRANT_CONFIRM_OWN = "policies.grant_confirm_own"
    GRANT_VIEW = "policies.grant_view"
    GRANT_APPROVE = "policies.grant_approve"
    CERTIFICATE_LOOKUP = "certificates.lookup"
    CERTIFICATE_REVOKE = "certificates.revoke"
    CASE_VIEW = "cases.view"
    CASE_SEARCH = "cases.search"
    CASE_INTAKE = "cases.intake"
    CASE_APPLY = "cases.apply"
    CASE_UPLOAD = "cases.upload"
    CASE_WITHDRAW = "cases.withdraw"
    CASE_REVIEW = "cases.review"
    CASE_DECIDE = "cases.decide"
    CASE_DECIDE_INSTANT = "cases.decide_instant"
    CASE_EXTENSION_DECIDE = "cases.extension_decide"
    CASE_DELIVER = "cases.deliver"
    CASE_SUPERVISE = "cases.supervise"
    AGENT_AUTHORIZE = "agents.authorize"
    AGENT_VIEW = "agents.view"
    RATING_GIVE = "ratings.give"
    RATING_VIEW = "ratings.view"
    RATING_FIGURES = "ratings.figures"
    RATING_EXPORT = "ratings.export"
    # 有诉即办 / 12345 (complaints): the hotline import, figures, 未诉先办 and the ledgers
    COMPLAINT_IMPORT = "complaints.import"
    COMPLAINT_FIGURES = "complaints.figures"
    RECTIFICATION_VIEW = "rectification.view"
    RECTIFICATION_WORK = "rectification.work"
    RECTIFICATION_CALLBACK = "rectification.callback"
    RECTIFICATION_DECIDE = "rectification.decide"
    OUTBOX_VIEW = "notifications.outbox"
    MY_AREA = "my.view"
    # 有诉即办 / 12345 (complaints): work orders
    COMPLAINT_VIEW = "complaints.view"
    COMPLAINT_FILE = "complaints.file"
    COMPLAINT_DISPATCH = "complaints.dispatch"
    COMPLAINT_SIGN = "complaints.sign"
    COMPLAINT_RETURN = "complaints.return"
    COMPLAINT_REPLY = "complaints.reply"
    COMPLAINT_CALLBACK = "complaints.callback"
    COMPLAINT_MERGE = "complaints.merge"
    COMPLAINT_SUPERVISE = "complaints.supervise"
    # 电子监察 alerts (supervision)
    ALERT_VIEW = "supervision.alert_view"
    ALERT_ACKNOWLEDGE = "supervision.alert_acknowledge"
    ALERT_SUPERVISE = "supervision.alert_supervise"
    ALERT_SCHEDULE = "supervision.window_schedule"
    # 回访 callbacks and 体验员 reports (supervision)
    CALLBACK_VIEW = "supervision.callback_view"
    CALLBACK_RECORD = "supervision.callback_record"
    EXPERIENCER_MANAGE = "supervision.experiencer_manage"
    EXPERIENCE_FILE = "supervision.experience_file"
    EXPERIENCE_VIEW = "supervision.experience_view"
    EXPERIENCE_JUDGE = "supervision.experience_judge"
    # staff performance (绩效考核与考勤)
    PERFORMANCE_VIEW = "staff.performance_view"
    PERFORMANCE_EXPORT = "staff.performance_export"
    PERFORMANCE_COMPUTE = "staff.performance_compute"
    DASHBOARD_VIEW = "analytics.dashboard_view"
    PLAN_VIEW = "planning.view"
    PLAN_EDIT = "planning.edit"
    NETWORK_POINT = "network.point"
    NETWORK_DEPARTMENT = "network.department"
    # statistics and dashboards (analytics)
    DASHBOARD_EXPORT = "analytics.export"


ACTION_LABELS: dict[Action, str] = {
    Action.CATALOG_VIEW_ADMIN: "查看管理后台（事项、一件事、部门、大厅）",
    Action.ITEM_EDIT: "编辑事项",
    Action.ITEM_RETIRE: "停用事项",
    Action.BUNDLE_EDIT: "编辑一件事",
    Action.ORG_EDIT: "编辑部门与大厅",
    Action.CALENDAR_EDIT: "维护节假日",
    Action.AUDIT_READ: "查阅审计日志",
    Action.STAFF_MANAGE: "管理账号（新建、停用、重置密码）",
    Action.ACCOUNT_SELF: "修改本人密码、查看和撤销本人的访问令牌",
    Action.TOKEN_MANAGE: "查看和撤销所有人的访问令牌",
    Action.GUIDE_EDIT: "维护导办同义词",
    Action.GUIDE_ANALYTICS: "查看导办未解答问题",
    Action.QUEUE_OPERATE: "窗口叫号",
    Action.QUEUE_METRICS: "查看排队指标",
    Action.QUEUE_SETTINGS: "设置大厅与窗口",
    Action.POLICY_VIEW: "查看免申即享政策",
    Action.POLICY_EDIT: "编辑免申即享政策",
    Action.ENTITY_VIEW: "查询企业和个人的可享政策",
    Action.ENTITY_WRITE: "维护企业和个人数据",
    Action.GRANT_OFFER: "推送政策兑现",
    Action.GRANT_CONFIRM_AT_WINDOW: "窗口代确认兑现意向",
    Action.GRANT_CONFIRM_OWN: "查看并一键确认或放弃本人的免申即享兑现",
    Action.GRANT_VIEW: "查看政策兑现",
    Action.GRANT_APPROVE: "审核政策兑现",
    Action.CERTIFICATE_LOOKUP: "查询电子证照",
    Action.CERTIFICATE_REVOKE: "注销电子证照",
    Action.CASE_VIEW: "查看办件",
    Action.CASE_SEARCH: "办件查询",
    Action.CASE_INTAKE: "窗口受理（受理、预审、补正、容缺补交、登记到访）",
    Action.CASE_APPLY: "网上申报",
    Action.CASE_UPLOAD: "上传申请材料、补正后重新提交",
    Action.CASE_WITHDRAW: "撤回申请",
    Action.CASE_REVIEW: "审查（意见、特别程序、申请延期、事后核查）",
    Action.CASE_DECIDE: "作出许可决定",
    Action.CASE_DECIDE_INSTANT: "窗口即办决定（即办件，须具备该类别资格）",
    Action.CASE_EXTENSION_DECIDE: "审批延期",
    Action.CASE_DELIVER: "送达与归档",
    Action.CASE_SUPERVISE: "办件督查（预警、超期）",
    Action.AGENT_AUTHORIZE: "登记或撤销帮办代办授权",
    Action.AGENT_VIEW: "查看帮办代办授权",
    Action.RATING_GIVE: "评价本人的办件（登录后）",
    Action.RATING_VIEW: "查看评价记录",
    Action.RATING_FIGURES: "查看好差评统计",
    Action.RATING_EXPORT: "导出评价台账、推送省级好差评系统",
    Action.COMPLAINT_IMPORT: "导入12345热线工单",
    Action.COMPLAINT_FIGURES: "查看诉求统计与未诉先办分析、导出问题工作台账",
    Action.RECTIFICATION_VIEW: "查看整改工单",
    Action.RECTIFICATION_WORK: "办理整改工单（核实、申诉、整改、申请延期）",
    Action.RECTIFICATION_CALLBACK: "整改回访（记录评价人意见）",
    Action.RECTIFICATION_DECIDE: "裁决申诉、无法整改、延期和升级督办",
    Action.OUTBOX_VIEW: "查看消息发送记录",
    Action.MY_AREA: "“我的”：本人的排队、预约、办件、评价、诉求和政策兑现",
    Action.COMPLAINT_VIEW: "查看诉求工单（有诉即办、12345）",
    Action.COMPLAINT_FILE: "有诉即办窗口登记诉求（咨询可当场答复）",
    Action.COMPLAINT_DISPATCH: "诉求派单、改派、裁定退单争议",
    Action.COMPLAINT_SIGN: "签收诉求工单",
    Action.COMPLAINT_RETURN: "退回派错的诉求工单（退单）",
    Action.COMPLAINT_REPLY: "答复诉求人",
    Action.COMPLAINT_CALLBACK: "诉求回访（满意、基本满意、不满意重办）",
    Action.COMPLAINT_MERGE: "合并重复诉求",
    Action.COMPLAINT_SUPERVISE: "诉求督办",
    Action.ALERT_VIEW: "查看电子监察预警",
    Action.ALERT_ACKNOWLEDGE: "签收电子监察预警（说明情况）",
    Action.ALERT_SUPERVISE: "督办电子监察预警（限期办理）",
    Action.ALERT_SCHEDULE: "安排窗口在岗人员（在岗监察）",
    Action.CALLBACK_VIEW: "查看回访任务、回访台账和回访率",
    Action.CALLBACK_RECORD: "记录回访结果",
    Action.EXPERIENCER_MANAGE: "登记和管理政务服务体验员",
    Action.EXPERIENCE_FILE: "提交体验报告",
    Action.EXPERIENCE_VIEW: "查看体验报告及其办理结果",
    Action.EXPERIENCE_JUDGE: "研判体验报告并交办整改",
    Action.PERFORMANCE_VIEW: "查看月度绩效与考勤（窗口人员看本人的得分明细）",
    Action.PERFORMANCE_EXPORT: "导出部门月度考勤与绩效报表（接收本部门月报）",
    Action.PERFORMANCE_COMPUTE: "重新计算月度绩效排名",
    Action.DASHBOARD_VIEW: "查看统计分析与数据看板（部门负责人看本部门，可下钻到办件）",
    Action.PLAN_VIEW: "查看排班与潮汐窗口计划",
    Action.PLAN_EDIT: "编制和调整排班计划",
    Action.NETWORK_POINT: "代收点流转（寄出申请材料、签收回传的办理结果）",
    Action.NETWORK_DEPARTMENT: "办理部门流转（签收代收点寄来的申请材料、回传办理结果）",
    Action.DASHBOARD_EXPORT: "导出统计表（Excel、CSV）和月度分析报告",
}

ALL, DEP, INV, OWN = Scope.ALL, Scope.DEPARTMENT, Scope.INVOLVED, Scope.OWN
R = Role

# The policy: for each action, the roles that may take it and how far their grant reaches.
POLICY: dict[Action, dict[Role, Scope]] = {
    Action.CATALOG_VIEW_ADMIN: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP},
    Action.ITEM_EDIT: {R.ADMIN: ALL, R.DEPT_HEAD: DEP},
    Action.ITEM_RETIRE: {R.ADMIN: ALL},
    Action.BUNDLE_EDIT: {R.ADMIN: ALL},
    Action.ORG_EDIT: {R.ADMIN: ALL},
    Action.CALENDAR_EDIT: {R.ADMIN: ALL},
    Action.AUDIT_READ: {R.ADMIN: ALL, R.SUPERVISOR: ALL},
    Action.STAFF_MANAGE: {R.ADMIN: ALL},
    Action.ACCOUNT_SELF: {r: OWN for r in Role},
    Action.TOKEN_MANAGE: {R.ADMIN: ALL},
    Action.GUIDE_EDIT: {R.ADMIN: ALL},
    Action.GUIDE_ANALYTICS: {R.ADMIN: ALL, R.SUPERVISOR: ALL},
    # window work (签到, 叫号, 办结): staff who sit at windows; the window itself checks qualifications
    Action.QUEUE_OPERATE: {R.CLERK: ALL, R.AGENT: ALL, R.DEPT_HEAD: ALL, R.ADMIN: ALL},
    Action.QUEUE_METRICS: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: ALL},
    Action.QUEUE_SETTINGS: {R.ADMIN: ALL},
    Action.POLICY_VIEW: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP, R.APPROVER: DEP},
    Action.POLICY_EDIT: {R.ADMIN: ALL},
    # the clerk opens an applicant's "policies for me" page at the window; the center's roles read it
    Action.ENTITY_VIEW: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.CLERK: ALL, R.APPROVER: ALL, R.DEPT_HEAD: ALL},
    Action.ENTITY_WRITE: {R.ADMIN: ALL},
    Action.GRANT_OFFER: {R.ADMIN: ALL},
    Action.GRANT_CONFIRM_AT_WINDOW: {R.CLERK: ALL, R.ADMIN: ALL},
    # the citizen confirms (or declines) their own offers online, one click (a person: by their ID number)
    Action.GRANT_CONFIRM_OWN: {R.APPLICANT: OWN},
    # a grant belongs to the department whose policy it pays out
    Action.GRANT_VIEW: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP, R.APPROVER: DEP},
    Action.GRANT_APPROVE: {R.APPROVER: DEP, R.DEPT_HEAD: DEP},
    # 电子证照: staff at intake and in approval look a holder's certificates up; only the center revokes
    Action.CERTIFICATE_LOOKUP: {R.CLERK: ALL, R.APPROVER: ALL, R.ADMIN: ALL},
    Action.CERTIFICATE_REVOKE: {R.ADMIN: ALL},
    # a case: any window of the center serves anyone (无差别受理), so window staff see every case; the
    # departments see what they handle or take part in; applicants and their agents their own
    Action.CASE_VIEW: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.CLERK: ALL, R.APPROVER: INV, R.DEPT_HEAD: INV,
                       R.APPLICANT: OWN, R.AGENT: OWN},
    Action.CASE_SEARCH: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.CLERK: ALL, R.APPROVER: INV, R.DEPT_HEAD: INV},
    Action.CASE_INTAKE: {R.CLERK: ALL, R.ADMIN: ALL},
    Action.CASE_APPLY: {R.APPLICANT: OWN, R.AGENT: OWN},
    Action.CASE_UPLOAD: {R.APPLICANT: OWN, R.AGENT: OWN, R.CLERK: ALL, R.ADMIN: ALL},
    Action.CASE_WITHDRAW: {R.APPLICANT: OWN, R.AGENT: OWN, R.CLERK: ALL, R.ADMIN: ALL},
    # review and decision: the handling department only, never another department's case
    Action.CASE_REVIEW: {R.APPROVER: DEP, R.DEPT_HEAD: DEP},
    Action.CASE_DECIDE: {R.APPROVER: DEP, R.DEPT_HEAD: DEP},
    # 即办件: decided at the window in the same visit (the service checks the clerk's category qualification)
    Action.CASE_DECIDE_INSTANT: {R.CLERK: ALL, R.ADMIN: ALL},
    Action.CASE_EXTENSION_DECIDE: {R.DEPT_HEAD: DEP},
    Action.CASE_DELIVER: {R.CLERK: ALL, R.ADMIN: ALL, R.APPROVER: DEP, R.DEPT_HEAD: DEP},
    Action.CASE_SUPERVISE: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP},
    Action.AGENT_AUTHORIZE: {R.CLERK: ALL, R.ADMIN: ALL, R.APPLICANT: OWN},
    Action.AGENT_VIEW: {R.CLERK: ALL, R.ADMIN: ALL, R.SUPERVISOR: ALL, R.APPLICANT: OWN, R.AGENT: OWN},
    # 好差评: the rater rates their own case (a ticket or a QR/SMS link is rated by who holds it, no account);
    # a clerk sees the ratings of their own service, a department its own, the center all
    Action.RATING_GIVE: {R.APPLICANT: OWN, R.AGENT: OWN},
    Action.RATING_VIEW: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP, R.CLERK: OWN},
    Action.RATING_FIGURES: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP},
    Action.RATING_EXPORT: {R.ADMIN: ALL, R.SUPERVISOR: ALL},
    # 12345 orders come in through the center (the dispatcher, who then dispatches them); the figures, the
    # 未诉先办 analysis and the 问题工作台账 are the center's and 电子监察's, a department's head sees its own
    Action.COMPLAINT_IMPORT: {R.ADMIN: ALL},
    Action.COMPLAINT_FIGURES: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP},
    # 整改: the responsible department works its orders; the center calls the raiser back and decides
    # appeals, 无法整改, extensions and escalations (independent of the department judged)
    Action.RECTIFICATION_VIEW: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP},
    Action.RECTIFICATION_WORK: {R.DEPT_HEAD: DEP},
    Action.RECTIFICATION_CALLBACK: {R.SUPERVISOR: ALL, R.ADMIN: ALL},
    Action.RECTIFICATION_DECIDE: {R.SUPERVISOR: ALL},
    Action.OUTBOX_VIEW: {R.ADMIN: ALL, R.SUPERVISOR: ALL},
    # “我的”: a citizen follows what is theirs (tickets, bookings, cases, ratings, complaints, offers) on one page
    Action.MY_AREA: {R.APPLICANT: OWN},
    # 有诉即办: the window files (a 咨询 may be answered on the spot); the center (administrator) dispatches,
    # re-dispatches, decides disputes and merges duplicates; the departments assigned (主办 and 协办) sign, the
    # lead may return a wrong assignment and replies; the center calls the citizen back, independent of the
    # department judged; 电子监察 supervises (督办); citizens follow their orders by tracking code
    Action.COMPLAINT_VIEW: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.CLERK: ALL, R.DEPT_HEAD: INV, R.APPROVER: INV},
    Action.COMPLAINT_FILE: {R.CLERK: ALL, R.ADMIN: ALL},
    Action.COMPLAINT_DISPATCH: {R.ADMIN: ALL},
    Action.COMPLAINT_SIGN: {R.DEPT_HEAD: INV, R.APPROVER: INV},
    Action.COMPLAINT_RETURN: {R.DEPT_HEAD: INV, R.APPROVER: INV},
    Action.COMPLAINT_REPLY: {R.DEPT_HEAD: DEP, R.APPROVER: DEP},
    Action.COMPLAINT_CALLBACK: {R.ADMIN: ALL, R.SUPERVISOR: ALL},
    Action.COMPLAINT_MERGE: {R.ADMIN: ALL},
    Action.COMPLAINT_SUPERVISE: {R.SUPERVISOR: ALL, R.ADMIN: ALL},
    # 电子监察: the supervisor reads every alert and puts it under supervision (督办) with a deadline; the
    # department answering for it (its head, who receives it) acknowledges it; the center schedules the windows
    Action.ALERT_VIEW: {R.SUPERVISOR: ALL, R.ADMIN: ALL, R.DEPT_HEAD: DEP},
    Action.ALERT_ACKNOWLEDGE: {R.DEPT_HEAD: DEP},
    Action.ALERT_SUPERVISE: {R.SUPERVISOR: ALL},
    Action.ALERT_SCHEDULE: {R.ADMIN: ALL},
    # 回访: the center calls a sample of finished cases back (independent of the department judged); a department
    # head reads its own department's tasks and rates. 体验员: the center registers experiencers and judges their
    # reports (研判); an experiencer files and follows their own; the department assigned reads what it was given
    Action.CALLBACK_VIEW: {R.SUPERVISOR: ALL, R.ADMIN: ALL, R.DEPT_HEAD: DEP},
    Action.CALLBACK_RECORD: {R.SUPERVISOR: ALL, R.ADMIN: ALL},
    Action.EXPERIENCER_MANAGE: {R.SUPERVISOR: ALL, R.ADMIN: ALL},
    Action.EXPERIENCE_FILE: {R.EXPERIENCER: OWN},
    Action.EXPERIENCE_VIEW: {R.EXPERIENCER: OWN, R.SUPERVISOR: ALL, R.ADMIN: ALL, R.DEPT_HEAD: DEP},
    Action.EXPERIENCE_JUDGE: {R.SUPERVISOR: ALL},
    # 绩效考核: the center ranks everyone; a department head reads (and is sent) their department's report; a
    # clerk reads their own score explained
    Action.PERFORMANCE_VIEW: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP, R.CLERK: OWN},
    Action.PERFORMANCE_EXPORT: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP},
    Action.PERFORMANCE_COMPUTE: {R.ADMIN: ALL, R.SUPERVISOR: ALL},
    Action.DASHBOARD_VIEW: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP},
    # 排班: the center plans the hall's windows; a 首席代表 sees the whole hall's plan (their clerks sit in it)
    Action.PLAN_VIEW: {R.ADMIN: ALL, R.DEPT_HEAD: ALL},
    Action.PLAN_EDIT: {R.ADMIN: ALL},
    # 三级 network 流转: the receiving point's window staff send a case's paper file and sign for its result (any
    # point's window serves anyone, like intake); the handling department signs for the file and sends the result
    Action.NETWORK_POINT: {R.CLERK: ALL, R.ADMIN: ALL},
    Action.NETWORK_DEPARTMENT: {R.APPROVER: DEP, R.DEPT_HEAD: DEP, R.ADMIN: ALL},
    # 统计分析 downloads (Excel, CSV, the monthly report): the dashboard's own reach, a 首席代表 their department's.
    # The open-data page (政务公开) is public and needs no action.
    Action.DASHBOARD_EXPORT: {R.ADMIN: ALL, R.SUPERVISOR: ALL, R.DEPT_HEAD: DEP},
}


class Field(StrEnum):
    """Personal numbers that are stored whole and shown masked unless the viewer needs them whole."""

    ID_NUMBER = "id_number"
    PHONE = "phone"

    @property
    def label(self) -> str:
        """Chinese name used in docs/access.md."""
        return {Field.ID_NUMBER: "身份证号码", Field.PHONE: "手机号码"}[self]


# Who sees a personal number whole (everyone else sees 410724********1234 / 138****5678): the person
# themselves and their agent, and the department that handles the record. Lists, the center's oversight
# roles and everything public see it masked.
REVEAL: dict[Field, dict[Role, Scope]] = {
    Field.ID_NUMBER: {R.APPLICANT: OWN, R.AGENT: OWN, R.APPROVER: DEP, R.DEPT_HEAD: DEP},
    Field.PHONE: {R.APPLICANT: OWN, R.AGENT: OWN, R.APPROVER: DEP, R.DEPT_HEAD: DEP},
}

del ALL, DEP, INV, OWN, R


@dataclass(frozen=True)
class Viewer:
    """Who is asking: what the rules need to know of a signed-in user."""

    user_id: int
    role: Role
    department_id: int | None = None
    id_number: str | None = None


@dataclass(frozen=True)
class Record:
    """What the rules need to know of a record (a case, a grant, an item, a ticket ...).

    ``department`` handles it; ``departments`` also take part (a bundle's sub-cases); ``owner_user_ids`` and
    ``owner_ids`` (ID numbers / credit codes) are the people it belongs to, ``agent_user_ids`` those acting
    for them under a current authorisation.
    """

    department: int | None = None
    departments: frozenset[int] = frozenset()
    owner_user_ids: frozenset[int] = frozenset()
    owner_ids: frozenset[str] = frozenset()
    agent_user_ids: frozenset[int] = frozenset()

    @property
    def involved(self) -> frozenset[int]:
        """Every department that handles or takes part in the record."""
        return self.departments | ({self.department} if self.department is not None else frozenset())


def _reaches(viewer: Viewer, scope: Scope, record: Record) -> bool:
    match scope:
        case Scope.ALL:
            return True
        case Scope.DEPARTMENT:
            return viewer.department_id is not None and viewer.department_id == record.department
        case Scope.INVOLVED:
            return viewer.department_id is not None and viewer.department_id in record.involved
        case Scope.OWN:
            return (viewer.user_id in record.owner_user_ids or viewer.user_id in record.agent_user_ids
                    or (viewer.role is Role.APPLICANT and bool(viewer.id_number)
                        and viewer.id_number in record.owner_ids))


def can(viewer: Viewer, action: Action, record: Record | None = None) -> bool:
    """True when the viewer may take the action (on that record, when one is given)."""
    scope = POLICY[action].get(viewer.role)
    if scope is None:
        return False
    return record is None or _reaches(viewer, scope, record)


def require(viewer: Viewer, action: Action, record: Record | None = None) -> None:
    """Raise 403 (with the reason in Chinese) unless ``can``."""
    scope = POLICY[action].get(viewer.role)
    if scope is None:
        raise PermissionDenied(f"角色“{viewer.role.label}”无权{ACTION_LABELS[action]}")
    if record is not None and not _reaches(viewer, scope, record):
        if scope is Scope.OWN:
            raise PermissionDenied("只能办理本人（或已授权委托人）的事项", code="not_own")
        raise PermissionDenied("只能办理本部门的事项", code="other_department")


# Who may stand in for a step's performer: a 首席代表 (department head) covers an approver's step; nothing
# else covers (a step for a department head is theirs alone, a clerk's step is window work).
COVERS: dict[Role, frozenset[Role]] = {Role.DEPT_HEAD: frozenset({Role.APPROVER})}


def may_perform(viewer: Viewer, performer: Role, action: Action, record: Record) -> bool:
    """True when the viewer may take the action on the record and complete a step whose performer is
    ``performer``: their role is the performer's, or covers it."""
    return can(viewer, action, record) and (viewer.role is performer
                                            or performer in COVERS.get(viewer.role, frozenset()))


def require_perform(viewer: Viewer, performer: Role, action: Action, record: Record) -> None:
    """Raise 403 (with the reason in Chinese) unless ``may_perform``."""
    require(viewer, action, record)
    if not may_perform(viewer, performer, action, record):
        raise PermissionDenied(f"该环节应由{performer.label}办理", code="not_performer")


def allowed_actions(viewer: Viewer, record: Record, candidates: Iterable[Action]) -> list[Action]:
    """The candidate actions (those the record's state allows now) that the viewer may take on it."""
    return [a for a in candidates if can(viewer, a, record)]


def list_scope(viewer: Viewer, action: Action) -> Scope | None:
    """How a list query must be narrowed for the viewer (None: the viewer may not list at all)."""
    return POLICY[action].get(viewer.role)


def sees_whole(viewer: Viewer | None, what: Field, record: Record | None) -> bool:
    """True when the viewer may see the personal number of that record unmasked."""
    if viewer is None or record is None:
        return False
    scope = REVEAL[what].get(viewer.role)
    return scope is not None and _reaches(viewer, scope, record)


# ----- facts about roles that other modules need, asked here rather than compared there -----------------------

def needs_department(role: Role) -> bool:
    """Accounts of these roles must belong to a department (their grants reach it)."""
    return role in {Role.CLERK, Role.APPROVER, Role.DEPT_HEAD}


def is_person_account(role: Role) -> bool:
    """An applicant's account stands for one citizen and carries their 公民身份号码."""
    return role is Role.APPLICANT


def bound_by_qualifications(role: Role) -> bool:
    """Window work of this role is limited to the hall categories the person is qualified for (一岗多能);
    the center's administrator stands in at any window."""
    return role is Role.CLERK


def acts_for_others(role: Role) -> bool:
    """An agent (帮办代办) acts for the applicants who authorised them, never in their own name."""
    return role is Role.AGENT


def receives_department_report(role: Role) -> bool:
    """Accounts of this role are sent their own department's monthly attendance and performance report."""
    return POLICY[Action.PERFORMANCE_EXPORT].get(role) is Scope.DEPARTMENT


def department_scoped(viewer: Viewer, action: Action) -> int | None:
    """The department a list for this action is narrowed to (None: not narrowed by department)."""
    scope = POLICY[action].get(viewer.role)
    return viewer.department_id if scope in (Scope.DEPARTMENT, Scope.INVOLVED) else None


def parse_role(value: str) -> Role | None:
    """The role named by ``value`` (an account's stored role), or None for an unknown name."""
    try:
        return Role(value)
    except ValueError:
        return None


def roles_with(action: Action) -> frozenset[Role]:
    """The roles granted the action anywhere (to pick demo or benchmark actors, never to authorise)."""
    return frozenset(POLICY[action])


def actions_of(role: Role) -> frozenset[Action]:
    """Every action the role may take somewhere."""
    return frozenset(a for a, grants in POLICY.items() if role in grants)


# ----- menus -------------------------------------------------------------------------------------------------


class MenuGroup(StrEnum):
    """A heading of the staff menu; its entries open below it (a group of one is shown as a plain link)."""

    MINE = "mine"
    HALL = "hall"
    CASES = "cases"
    COMPLAINTS = "complaints"
    OVERSIGHT = "oversight"
    FIGURES = "figures"
    SYSTEM = "system"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return MENU_GROUP_LABELS[self]


MENU_GROUP_LABELS: dict[MenuGroup, str] = {
    MenuGroup.MINE: "我的",
    MenuGroup.HALL: "大厅",
    MenuGroup.CASES: "办件",
    MenuGroup.COMPLAINTS: "诉求",
    MenuGroup.OVERSIGHT: "监督",
    MenuGroup.FIGURES: "统计",
    MenuGroup.SYSTEM: "系统",
}


@dataclass(frozen=True)
class MenuEntry:
    """A link of the staff menu, the action that shows it and the group it is listed under."""

    label: str
    href: str
    action: Action
    section: str = ""
    prefix_match: bool = False
    group: MenuGroup = field(kw_only=True)

    def current(self, path: str) -> bool:
        """Whether the page at ``path`` is this entry's (its link, or below it for a prefix entry)."""
        return path == self.href or (self.prefix_match and path.startswith(self.href))


@dataclass(frozen=True)
class MenuSection:
    """One group of the viewer's menu: the heading and the entries of it the viewer may open."""

    group: MenuGroup
    entries: tuple[MenuEntry, ...]

    @property
    def label(self) -> str:
        """The group's Chinese heading."""
        return self.group.label

    def current(self, path: str) -> bool:
        """Whether the page at ``path`` belongs to one of the group's entries."""
        return any(e.current(path) for e in self.entries)


_G = MenuGroup
# In group order, each group's entries together (a test checks it): the flat menu and the groups read alike.
MENU: tuple[MenuEntry, ...] = (
    MenuEntry("我的", "/my", Action.MY_AREA, "my-area", group=_G.MINE),
    MenuEntry("叫号工作台", "/workbench", Action.QUEUE_OPERATE, "workbench", group=_G.HALL),
    MenuEntry("排班", "/planning", Action.PLAN_VIEW, "planning", prefix_match=True, group=_G.HALL),
    MenuEntry("我的办件", "/my/cases", Action.CASE_APPLY, "my", prefix_match=True, group=_G.CASES),
    MenuEntry("受理工作台", "/cases/intake", Action.CASE_INTAKE, "intake", prefix_match=True, group=_G.CASES),
    MenuEntry("网上预审", "/cases/precheck", Action.CASE_INTAKE, "precheck", group=_G.CASES),
    MenuEntry("待办件", "/cases/inbox", Action.CASE_REVIEW, "inbox", group=_G.CASES),
    MenuEntry("办件查询", "/cases", Action.CASE_SEARCH, "search", group=_G.CASES),
    MenuEntry("有诉即办", "/complaints/window", Action.COMPLAINT_FILE, "complaints-window", group=_G.COMPLAINTS),
    MenuEntry("诉求待办", "/complaints/inbox", Action.COMPLAINT_SIGN, "complaints-inbox", group=_G.COMPLAINTS),
    MenuEntry("诉求派单", "/complaints/dispatch", Action.COMPLAINT_DISPATCH, "complaints-dispatch",
              group=_G.COMPLAINTS),
    MenuEntry("诉求工单", "/complaints", Action.COMPLAINT_VIEW, "complaints", group=_G.COMPLAINTS),
    MenuEntry("好差评", "/ratings", Action.RATING_VIEW, "ratings", prefix_match=True, group=_G.OVERSIGHT),
    MenuEntry("差评整改", "/rectifications", Action.RECTIFICATION_VIEW, "rectifications", prefix_match=True,
              group=_G.OVERSIGHT),
    MenuEntry("电子监察", "/supervision/alerts", Action.ALERT_VIEW, "supervision-alerts", prefix_match=True,
              group=_G.OVERSIGHT),
    MenuEntry("回访", "/supervision/callbacks", Action.CALLBACK_VIEW, "callbacks", prefix_match=True,
              group=_G.OVERSIGHT),
    MenuEntry("体验员", "/supervision/experience", Action.EXPERIENCER_MANAGE, "experience", prefix_match=True,
              group=_G.OVERSIGHT),
    MenuEntry("我的体验报告", "/experience", Action.EXPERIENCE_FILE, "my-experience", prefix_match=True,
              group=_G.OVERSIGHT),
    MenuEntry("统计分析", "/dashboard", Action.DASHBOARD_VIEW, "dashboard", prefix_match=True, group=_G.FIGURES),
    MenuEntry("诉求统计", "/complaints/figures", Action.COMPLAINT_FIGURES, "complaints-figures", prefix_match=True,
              group=_G.FIGURES),
    MenuEntry("绩效考核", "/performance", Action.PERFORMANCE_VIEW, "performance", prefix_match=True,
              group=_G.FIGURES),
    MenuEntry("管理后台", "/admin", Action.CATALOG_VIEW_ADMIN, "admin", group=_G.SYSTEM),
    MenuEntry("账号管理", "/admin/users", Action.STAFF_MANAGE, "admin-users", prefix_match=True, group=_G.SYSTEM),
)

# Where a role lands after signing in (the first of these it may open), when no page asked for the sign-in.
LANDING_ORDER: tuple[tuple[Action, str], ...] = (
    (Action.CASE_REVIEW, "/cases/inbox"),
    (Action.ALERT_SUPERVISE, "/supervision/alerts"),  # the supervisor starts from the alert inbox
    (Action.AUDIT_READ, "/admin"),
    (Action.CASE_INTAKE, "/cases/intake"),
    (Action.MY_AREA, "/my"),  # a citizen starts from “我的”
    (Action.CASE_APPLY, "/my/cases"),
    (Action.EXPERIENCE_FILE, "/experience"),
)


def menu(viewer: Viewer | None, entries: Iterable[MenuEntry] = MENU) -> list[MenuEntry]:
    """The menu entries the viewer may open."""
    if viewer is None:
        return []
    return [e for e in entries if can(viewer, e.action)]


def menu_groups(viewer: Viewer | None, entries: Iterable[MenuEntry] = MENU) -> list[MenuSection]:
    """The viewer's menu by group, in menu order; groups with nothing the viewer may open are left out."""
    sections: list[MenuSection] = []
    for entry in menu(viewer, entries):
        if sections and sections[-1].group == entry.group:
            sections[-1] = MenuSection(entry.group, (*sections[-1].entries, entry))
        else:
            sections.append(MenuSection(entry.group, (entry,)))
    return sections


def landing(viewer: Viewer) -> str:
    """The viewer's home page after signing in."""
    return next((href for action, href in LANDING_ORDER if can(viewer, action)), "/")


# ----- docs/access.md ----------------------------------------------------------------------------------------


def _cell(grants: Mapping[Role, Scope], role: Role) -> str:
    scope = grants.get(role)
    return scope.label if scope is not None else "—"


def render_markdown() -> str:
    """docs/access.md: the policy as tables (a test fails when the committed file differs)."""
    roles = list(Role)
    head = "| | " + " | ".join(f"{r.label} `{r.value}`" for r in roles) + " |"
    rule = "|---|" + "---|" * len(roles)
    lines = [
        "# Access policy (generated)",
        "",
        "Generated from `src/onewindow/core/access.py` by `python -m onewindow.core.access > docs/access.md`;",
        "`tests/core/test_access_policy.py` fails when this file is stale. Do not edit by hand.",
        "",
        "Reach: 全部 = every record of the center; 本部门 = records the user's department handles; 本部门参与 =",
        "records it handles or takes part in (a bundle's sub-cases); 本人 = the user's own records, or those of",
        "the applicants who authorised them (帮办代办). — = not allowed.",
        "",
        "## Actions",
        "",
        head,
        rule,
    ]
    for action in Action:
        cells = " | ".join(_cell(POLICY[action], r) for r in roles)
        lines.append(f"| {ACTION_LABELS[action]} `{action.value}` | {cells} |")
    lines += ["", "## Personal numbers shown whole", "",
              "Everyone else sees them masked (`410724********1234`, `138****5678`): the mask is applied at the",
              "edge of every page and API response (`onewindow.core.personal`), whatever the template or schema does.",
              "", head, rule]
    for what in Field:
        cells = " | ".join(_cell(REVEAL[what], r) for r in roles)
        lines.append(f"| {what.label} `{what.value}` | {cells} |")
    lines += ["", "## Menu", "", "Shown by group (a group of one entry is a plain link).", "",
              "| group | entry | link | shown with |", "|---|---|---|---|"]
    for e in MENU:
        lines.append(f"| {e.group.label} | {e.label} | `{e.href}` | `{e.action.value}` |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - `python -m onewindow.core.access > docs/access.md`
    print(render_markdown(), end="")
