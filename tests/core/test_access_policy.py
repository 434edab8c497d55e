"""The access policy: every role × action × relation to the record, menus, landings, whole numbers, and the
rule that nothing outside the policy looks at a role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from onewindow.core import access
from onewindow.core.access import Action, Field, Record, Role, Scope, Viewer
from onewindow.core.errors import PermissionDenied

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "onewindow"

OWN_DEPT, OTHER_DEPT, PARTNER_DEPT = 1, 2, 3
ME, SOMEONE_ELSE, MY_AGENT = 10, 20, 30
MY_ID = "11010519491231002X"

# How the viewer relates to the record; each is a record seen by a viewer of department 1, user 10.
RELATIONS: dict[str, Record] = {
    "own_department": Record(department=OWN_DEPT),
    "bundle_partner": Record(department=PARTNER_DEPT, departments=frozenset({OWN_DEPT})),
    "other_department": Record(department=OTHER_DEPT),
    "own_applicant": Record(department=OTHER_DEPT, owner_user_ids=frozenset({ME})),
    "own_id_number": Record(department=OTHER_DEPT, owner_ids=frozenset({MY_ID})),
    "authorised_agent": Record(department=OTHER_DEPT, agent_user_ids=frozenset({ME})),
    "other_applicant": Record(department=OTHER_DEPT, owner_user_ids=frozenset({SOMEONE_ELSE}),
                              owner_ids=frozenset({"410724199001011235"}), agent_user_ids=frozenset({MY_AGENT})),
}

# Which relations each reach admits: a second statement of the policy's meaning, written out by hand.
REACH: dict[str, set[str]] = {
    "A": set(RELATIONS),
    "D": {"own_department"},
    "I": {"own_department", "bundle_partner"},
    "O": {"own_applicant", "own_id_number", "authorised_agent"},
    "-": set(),
}

ROLES = [Role.APPLICANT, Role.CLERK, Role.APPROVER, Role.AGENT, Role.DEPT_HEAD, Role.ADMIN, Role.SUPERVISOR,
         Role.EXPERIENCER]

# The expected grant of each action, one letter per role in the order of ROLES:
# A = every record, D = own department, I = own or taking part, O = own / authorised, - = never.
EXPECTED: dict[Action, str] = {
    #                              app cle apr agt hed adm sup exp
    Action.CATALOG_VIEW_ADMIN:      "-   -   -   -   D   A   A   -",
    Action.ITEM_EDIT:               "-   -   -   -   D   A   -   -",
    Action.ITEM_RETIRE:             "-   -   -   -   -   A   -   -",
    Action.BUNDLE_EDIT:             "-   -   -   -   -   A   -   -",
    Action.ORG_EDIT:                "-   -   -   -   -   A   -   -",
    Action.CALENDAR_EDIT:           "-   -   -   -   -   A   -   -",
    Action.AUDIT_READ:              "-   -   -   -   -   A   A   -",
    Action.STAFF_MANAGE:            "-   -   -   -   -   A   -   -",
    Action.ACCOUNT_SELF:            "O   O   O   O   O   O   O   O",
    Action.TOKEN_MANAGE:            "-   -   -   -   -   A   -   -",
    Action.GUIDE_EDIT:              "-   -   -   -   -   A   -   -",
    Action.GUIDE_ANALYTICS:         "-   -   -   -   -   A   A   -",
    Action.QUEUE_OPERATE:           "-   A   -   A   A   A   -   -",
    Action.QUEUE_METRICS:           "-   -   -   -   A   A   A   -",
    Action.QUEUE_SETTINGS:          "-   -   -   -   -   A   -   -",
    Action.POLICY_VIEW:             "-   -   D   -   D   A   A   -",
    Action.POLICY_EDIT:             "-   -   -   -   -   A   -   -",
    Action.ENTITY_VIEW:             "-   A   A   -   A   A   A   -",
    Action.ENTITY_WRITE:            "-   -   -   -   -   A   -   -",
    Action.GRANT_OFFER:             "-   -   -   -   -   A   -   -",
    Action.GRANT_CONFIRM_AT_WINDOW: "-   A   -   -   -   A   -   -",
    Action.GRANT_CONFIRM_OWN:       "O   -   -   -   -   -   -   -",
    Action.GRANT_VIEW:              "-   -   D   -   D   A   A   -",
    Action.GRANT_APPROVE:           "-   -   D   -   D   -   -   -",
    Action.CERTIFICATE_LOOKUP:      "-   A   A   -   -   A   -   -",
    Action.CERTIFICATE_REVOKE:      "-   -   -   -   -   A   -   -",
    Action.CASE_VIEW:               "O   A   I   O   I   A   A   -",
    Action.CASE_SEARCH:             "-   A   I   -   I   A   A   -",
    Action.CASE_INTAKE:             "-   A   -   -   -   A   -   -",
    Action.CASE_APPLY:              "O   -   -   O   -   -   -   -",
    Action.CASE_UPLOAD:             "O   A   -   O   -   A   -   -",
    Action.CASE_WITHDRAW:           "O   A   -   O   -   A   -   -",
    Action.CASE_REVIEW:             "-   -   D   -   D   -   -   -",
    Action.CASE_DECIDE:             "-   -   D   -   D   -   -   -",
    Action.CASE_DECIDE_INSTANT:     "-   A   -   -   -   A   -   -",
    Action.CASE_EXTENSION_DECIDE:   "-   -   -   -   D   -   -   -",
    Action.CASE_DELIVER:            "-   A   D   -   D   A   -   -",
    Action.CASE_SUPERVISE:          "-   -   -   -   D   A   A   -",
    Action.AGENT_AUTHORIZE:         "O   A   -   -   -   A   -   -",
    Action.AGENT_VIEW:              "O   A   -   O   -   A   A   -",
    Action.RATING_GIVE:             "O   -   -   O   -   -   -   -",
    Action.RATING_VIEW:             "-   O   -   -   D   A   A   -",
    Action.RATING_FIGURES:          "-   -   -   -   D   A   A   -",
    Action.RATING_EXPORT:           "-   -   -   -   -   A   A   -",
    Action.COMPLAINT_IMPORT:        "-   -   -   -   -   A   -   -",
    Action.COMPLAINT_FIGURES:       "-   -   -   -   D   A   A   -",
    Action.RECTIFICATION_VIEW:      "-   -   -   -   D   A   A   -",
    Action.RECTIFICATION_WORK:      "-   -   -   -   D   -   -   -",
    Action.RECTIFICATION_CALLBACK:  "-   -   -   -   -   A   A   -",
    Action.RECTIFICATION_DECIDE:    "-   -   -   -   -   -   A   -",
    Action.OUTBOX_VIEW:             "-   -   -   -   -   A   A   -",
    Action.MY_AREA:                 "O   -   -   -   -   -   -   -",
    Action.CALLBACK_VIEW:           "-   -   -   -   D   A   A   -",
    Action.CALLBACK_RECORD:         "-   -   -   -   -   A   A   -",
    Action.EXPERIENCER_MANAGE:      "-   -   -   -   -   A   A   -",
    Action.EXPERIENCE_FILE:         "-   -   -   -   -   -   -   O",
    Action.EXPERIENCE_VIEW:         "-   -   -   -   D   A   A   O",
    Action.EXPERIENCE_JUDGE:        "-   -   -   -   -   -   A   -",
    Action.PERFORMANCE_VIEW:        "-   O   -   -   D   A   A   -",
    Action.PERFORMANCE_EXPORT:      "-   -   -   -   D   A   A   -",
    Action.PERFORMANCE_COMPUTE:     "-   -   -   -   -   A   A   -",
    Action.DASHBOARD_VIEW:          "-   -   -   -   D   A   A   -",
    Action.PLAN_VIEW:               "-   -   -   -   A   A   -   -",
    Action.PLAN_EDIT:               "-   -   -   -   -   A   -   -",
    Action.NETWORK_POINT:           "-   A   -   -   -   A   -   -",
    Action.NETWORK_DEPARTMENT:      "-   -   D   -   D   A   -   -",
    Action.DASHBOARD_EXPORT:        "-   -   -   -   D   A   A   -",
    Action.ALERT_VIEW:              "-   -   -   -   D   A   A   -",
    Action.ALERT_ACKNOWLEDGE:       "-   -   -   -   D   -   -   -",
    Action.ALERT_SUPERVISE:         "-   -   -   -   -   -   A   -",
    Action.ALERT_SCHEDULE:          "-   -   -   -   -   A   -   -",
    Action.COMPLAINT_VIEW:          "-   A   I   -   I   A   A   -",
    Action.COMPLAINT_FILE:          "-   A   -   -   -   A   -   -",
    Action.COMPLAINT_DISPATCH:      "-   -   -   -   -   A   -   -",
    Action.COMPLAINT_SIGN:          "-   -   I   -   I   -   -   -",
    Action.COMPLAINT_RETURN:        "-   -   I   -   I   -   -   -",
    Action.COMPLAINT_REPLY:         "-   -   D   -   D   -   -   -",
    Action.COMPLAINT_CALLBACK:      "-   -   -   -   -   A   A   -",
    Action.COMPLAINT_MERGE:         "-   -   -   -   -   A   -   -",
    Action.COMPLAINT_SUPERVISE:     "-   -   -   -   -   A   A   -",
}



def _expected(grant: str, role: Role, relation: str) -> bool:
    # only an applicant's account stands for the person with that ID number; staff and agents own by account
    if grant == "O" and relation == "own_id_number" and role is not Role.APPLICANT:
        return False
    return relation in REACH[grant]


CASES = [(action, role, relation, _expected(grants.split()[i], role, relation))
         for action, grants in EXPECTED.items() for i, role in enumerate(ROLES) for relation in RELATIONS]


def viewer(role: Role) -> Viewer:
    # every viewer carries the same ID number: owning a record by number is the applicant's alone
    return Viewer(user_id=ME, role=role, department_id=OWN_DEPT, id_number=MY_ID)


def test_the_expectations_cover_every_action() -> None:
    assert set(EXPECTED) == set(Action)
    assert set(access.POLICY) == set(Action)


@pytest.mark.parametrize(("action", "role", "relation", "expected"), CASES,
                         ids=[f"{a.value}-{r.value}-{rel}" for a, r, rel, _ in CASES])
def test_every_role_action_and_relation(action: Action, role: Role, relation: str, expected: bool) -> None:
    v = viewer(role)
    record = RELATIONS[relation]
    assert access.can(v, action, record) is expected
    if expected:
        access.require(v, action, record)
    else:
        with pytest.raises(PermissionDenied):
            access.require(v, action, record)


@pytest.mark.parametrize("role", ROLES)
def test_a_role_level_question_answers_for_any_grant(role: Role) -> None:
    for action, grants in EXPECTED.items():
        assert access.can(viewer(role), action) is (grants.split()[ROLES.index(role)] != "-")


def test_nobody_reviews_or_decides_another_departments_case() -> None:
    for role in ROLES:
        for action in (Action.CASE_REVIEW, Action.CASE_DECIDE, Action.CASE_EXTENSION_DECIDE):
            assert not access.can(viewer(role), action, RELATIONS["other_department"])
            assert not access.can(viewer(role), action, RELATIONS["bundle_partner"])


def test_a_denial_says_why_in_chinese() -> None:
    with pytest.raises(PermissionDenied) as wrong_role:
        access.require(viewer(Role.CLERK), Action.CASE_DECIDE)
    assert "窗口人员" in wrong_role.value.message and "作出许可决定" in wrong_role.value.message
    with pytest.raises(PermissionDenied) as other:
        access.require(viewer(Role.APPROVER), Action.CASE_DECIDE, RELATIONS["other_department"])
    assert other.value.code == "other_department"
    with pytest.raises(PermissionDenied) as stranger:
        access.require(viewer(Role.APPLICANT), Action.CASE_VIEW, RELATIONS["other_applicant"])
    assert stranger.value.code == "not_own"


def test_an_applicant_without_an_id_number_owns_nothing_by_number() -> None:
    anonymous = Viewer(user_id=99, role=Role.APPLICANT, department_id=None, id_number=None)
    assert not access.can(anonymous, Action.CASE_VIEW, Record(owner_ids=frozenset({""})))


def test_a_department_less_viewer_reaches_no_department_record() -> None:
    head = Viewer(user_id=ME, role=Role.DEPT_HEAD, department_id=None)
    assert not access.can(head, Action.CASE_REVIEW, Record(department=None))


@pytest.mark.parametrize(("role", "performer", "relation", "expected"), [
    (Role.APPROVER, Role.APPROVER, "own_department", True),
    (Role.DEPT_HEAD, Role.APPROVER, "own_department", True),  # a 首席代表 covers an approver's step
    (Role.DEPT_HEAD, Role.DEPT_HEAD, "own_department", True),
    (Role.APPROVER, Role.DEPT_HEAD, "own_department", False),  # nothing else covers
    (Role.CLERK, Role.CLERK, "own_department", False),  # the step's performer, but no right to review
    (Role.ADMIN, Role.APPROVER, "own_department", False),
    (Role.APPROVER, Role.APPROVER, "other_department", False),
    (Role.DEPT_HEAD, Role.APPROVER, "other_department", False),
])
def test_who_may_perform_a_step(role: Role, performer: Role, relation: str, expected: bool) -> None:
    record = RELATIONS[relation]
    assert access.may_perform(viewer(role), performer, Action.CASE_REVIEW, record) is expected
    if expected:
        access.require_perform(viewer(role), performer, Action.CASE_REVIEW, record)
    else:
        with pytest.raises(PermissionDenied):
            access.require_perform(viewer(role), performer, Action.CASE_REVIEW, record)


@pytest.mark.parametrize(("role", "relation", "id_whole", "phone_whole"), [
    (Role.APPLICANT, "own_applicant", True, True),
    (Role.APPLICANT, "other_applicant", False, False),
    (Role.AGENT, "authorised_agent", True, True),
    (Role.APPROVER, "own_department", True, True),
    (Role.APPROVER, "bundle_partner", False, False),
    (Role.DEPT_HEAD, "other_department", False, False),
    (Role.CLERK, "own_department", False, False),
    (Role.ADMIN, "own_department", False, False),
    (Role.SUPERVISOR, "own_department", False, False),
    (Role.EXPERIENCER, "own_applicant", False, False),
])
def test_who_sees_a_personal_number_whole(role: Role, relation: str, id_whole: bool, phone_whole: bool) -> None:
    record = RELATIONS[relation]
    assert access.sees_whole(viewer(role), Field.ID_NUMBER, record) is id_whole
    assert access.sees_whole(viewer(role), Field.PHONE, record) is phone_whole
    assert not access.sees_whole(None, Field.ID_NUMBER, record)
    assert not access.sees_whole(viewer(role), Field.ID_NUMBER, None)


@pytest.mark.parametrize(("role", "groups", "home"), [
    (Role.APPLICANT, {"我的": ["我的"], "办件": ["我的办件"]}, "/my"),
    (Role.AGENT, {"大厅": ["叫号工作台"], "办件": ["我的办件"]}, "/my/cases"),
    (Role.CLERK, {"大厅": ["叫号工作台"], "办件": ["受理工作台", "网上预审", "办件查询"],
                  "诉求": ["有诉即办", "诉求工单"], "监督": ["好差评"], "统计": ["绩效考核"]}, "/cases/intake"),
    (Role.APPROVER, {"办件": ["待办件", "办件查询"], "诉求": ["诉求待办", "诉求工单"]}, "/cases/inbox"),
    (Role.DEPT_HEAD, {"大厅": ["叫号工作台", "排班"], "办件": ["待办件", "办件查询"], "诉求": ["诉求待办", "诉求工单"],
                      "监督": ["好差评", "差评整改", "电子监察", "回访"], "统计": ["统计分析", "诉求统计", "绩效考核"],
                      "系统": ["管理后台"]}, "/cases/inbox"),
    (Role.ADMIN, {"大厅": ["叫号工作台", "排班"], "办件": ["受理工作台", "网上预审", "办件查询"],
                  "诉求": ["有诉即办", "诉求派单", "诉求工单"],
                  "监督": ["好差评", "差评整改", "电子监察", "回访", "体验员"],
                  "统计": ["统计分析", "诉求统计", "绩效考核"], "系统": ["管理后台", "账号管理"]}, "/admin"),
    (Role.SUPERVISOR, {"办件": ["办件查询"], "诉求": ["诉求工单"],
                       "监督": ["好差评", "差评整改", "电子监察", "回访", "体验员"],
                       "统计": ["统计分析", "诉求统计", "绩效考核"], "系统": ["管理后台"]}, "/supervision/alerts"),
    (Role.EXPERIENCER, {"监督": ["我的体验报告"]}, "/experience"),
])
def test_menus_and_landing_pages_come_from_the_policy(role: Role, groups: dict[str, list[str]], home: str) -> None:
    sections = access.menu_groups(viewer(role))
    assert {g.label: [e.label for e in g.entries] for g in sections} == groups
    assert [g.label for g in sections] == list(groups), "groups in menu order"
    assert [e.label for e in access.menu(viewer(role))] == [label for entries in groups.values() for label in entries]
    assert all(access.can(viewer(role), e.action) for e in access.menu(viewer(role)))
    assert access.landing(viewer(role)) == home
    assert access.menu(None) == [] and access.menu_groups(None) == []


def test_each_menu_group_lists_its_entries_together_and_names_the_current_page() -> None:
    order = [e.group for e in access.MENU]
    assert order == sorted(order, key=list(access.MenuGroup).index), "MENU lists the groups in order, each whole"
    assert all(g.label for g in access.MenuGroup)
    [cases] = [g for g in access.menu_groups(viewer(Role.ADMIN)) if g.group == access.MenuGroup.CASES]
    assert cases.current("/cases/intake/new") and cases.current("/cases") and not cases.current("/complaints")
    [search] = [e for e in cases.entries if e.href == "/cases"]
    assert search.current("/cases") and not search.current("/cases/123")  # not a prefix entry


def test_scopes_narrow_lists() -> None:
    assert access.list_scope(viewer(Role.APPROVER), Action.CASE_SEARCH) is Scope.INVOLVED
    assert access.department_scoped(viewer(Role.APPROVER), Action.CASE_SEARCH) == OWN_DEPT
    assert access.department_scoped(viewer(Role.CLERK), Action.CASE_SEARCH) is None
    assert access.list_scope(viewer(Role.EXPERIENCER), Action.CASE_SEARCH) is None


def test_docs_access_md_is_generated_from_the_policy() -> None:
    committed = (ROOT / "docs" / "access.md").read_text(encoding="utf-8")
    assert committed == access.render_markdown(), (
        "docs/access.md is stale: run `.venv/bin/python -m onewindow.core.access > docs/access.md`")


# ----- nothing else looks at a role ---------------------------------------------------------------------------

PY_ROLE_CHECKS = [
    re.compile(r"\bRole\.[A-Z_]+"),  # a role named in code
    re.compile(r"\brole\s*(==|!=|\bin\b|\bnot\s+in\b)"),  # a role compared
    re.compile(r"\.role\.in_\("),  # a role filtered in SQL
    re.compile(r"[\"'](applicant|clerk|approver|agent|dept_head|admin|supervisor|experiencer)[\"']\s*(==|!=|\bin\b)"),
    re.compile(r"\b(ALL_CASES_ROLES|DEPARTMENT_ROLES|WINDOW_ROLES|ID_WHOLE_ROLES|DEPARTMENT_SCOPED)\b"),
]
TEMPLATE_ROLE_CHECKS = [re.compile(r"\brole\b\s*(==|!=|\bin\b|\bnot\s+in\b)")]
POLICY_FILES = {SRC / "core" / "access.py"}
# Role data that is not an access decision: the demo's accounts, the benchmark picking its reviewers by the
# roles the policy names, and a procedure step's performer (checked through the policy when the step is done).
ALLOWED_FILES = {SRC / "demo.py", SRC / "cases" / "bench.py", SRC / "catalog" / "procedure.py"}


def _offences(paths: list[Path], patterns: list[re.Pattern[str]]) -> list[str]:
    found = []
    for path in paths:
        if path in POLICY_FILES or path in ALLOWED_FILES:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if any(p.search(line) for p in patterns):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    return found


def test_no_role_check_outside_the_access_policy() -> None:
    offences = _offences(sorted(SRC.rglob("*.py")), PY_ROLE_CHECKS)
    offences += _offences(sorted((SRC / "templates").rglob("*.html")), TEMPLATE_ROLE_CHECKS)
    assert offences == [], "ask onewindow.core.access instead:\n" + "\n".join(offences)


def test_the_guard_catches_a_role_check() -> None:
    probe = ['if user.role == "clerk":', "if Role(user.role) in WINDOW_ROLES:", 'allowed = role in ("admin",)',
             "select(User).where(User.role.in_(names))"]
    assert all(any(p.search(line) for p in PY_ROLE_CHECKS) for line in probe)
    assert any(p.search('{% if user.role in ("admin",) %}') for p in TEMPLATE_ROLE_CHECKS)
