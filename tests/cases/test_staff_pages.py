"""Staff case pages through the browser's path (cookie login, CSRF forms): intake, inbox, case page, actions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.calendar.service import build_calendar
from onewindow.cases import service
from onewindow.cases.models import Case
from onewindow.cases.rules import material_key
from onewindow.cases.service import ApplicantIn, ApplicationIn
from onewindow.certificates.demo import ZHANG_WEI
from onewindow.core.clock import CHINA_TZ, Clock, FixedClock
from onewindow.core.ids import mask_id_number
from onewindow.staff.models import User
from tests.cases.conftest import RULES
from tests.conftest import Browser
from tests.factories import ZHANG, make_case
from tests.web.test_admin_pages import form_fields, replace

SHOP = "410724-SCJG-XK-001"  # 个体工商户设立登记: ID card from the library, premises proof deferrable
FOOD = "410724-SCJG-XK-007"  # 食品经营许可: promised 3 working days
FORM_KEY = material_key("个体工商户登记（备案）申请书", None)
PREMISES_KEY = material_key("经营场所使用证明（租赁协议等）", None)


def _case_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def _intake_fields(b: Browser, item: str = SHOP) -> list[tuple[str, str]]:
    r = b.post("/cases/intake/target", {"id": ZHANG_WEI, "item": item})
    assert r.status_code == 200, r.text
    return form_fields(r.text, "/cases/intake")


# Attributes that make the browser request a URL: none of them may carry an ID number.
URL_ATTRIBUTE = re.compile(r'\s(href|src|action|formaction|hx-(?:get|post|put|patch|delete|push-url|replace-url))'
                           r'\s*=\s*"([^"]*)"')


def _urls_in(html: str) -> list[str]:
    return [value for _name, value in URL_ATTRIBUTE.findall(html)]


def _assert_no_id_in_urls(html: str, *numbers: str) -> None:
    urls = _urls_in(html)
    assert urls  # the page was read
    for number in numbers:
        leaked = [u for u in urls if number in u or number.lower() in u or number[:-4] in u]
        assert not leaked, leaked
    assert " hx-get=" not in html.split('<main', 1)[-1]  # no HTMX GET on the workbench at all


def _case_id(location: str) -> int:
    match = re.fullmatch(r"/cases/(\d+)\?done=\w+", location)
    assert match, location
    return int(match[1])


def _accepted(session: Session, clock: Clock, clerk: User, item: str) -> Case:
    """A window case of 张伟 with every required material handed in on paper."""
    case = make_case(session, clock, item_code=item, applicant=ZHANG, clerk=clerk.username)
    session.flush()
    return case


# ----- intake --------------------------------------------------------------------------------------------------


def test_intake_workbench_finds_the_applicant_and_preselects_library_materials(login: Callable[[str], Browser]
                                                                               ) -> None:
    clerk = login("clerk")
    r = clerk.post("/cases/intake/applicant", {"id": ZHANG_WEI, "q": "个体工商户"})
    assert r.status_code == 200
    assert mask_id_number(ZHANG_WEI) in r.text and "居民身份证" in r.text  # the usable certificates, masked
    assert f'data-target-code="{SHOP}"' in r.text
    fragment = clerk.post("/cases/intake/targets", {"id": ZHANG_WEI, "q": "个体工商户"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and SHOP in fragment.text
    fields = dict(_intake_fields(clerk))
    assert fields["material:cert:ID_CARD"] == "library"
    assert fields[f"material:{FORM_KEY}"] == "missing"
    assert fields["applicant_name"] == "张伟"
    bad = clerk.post("/cases/intake/applicant", {"id": "410724199003150012"})
    assert bad.status_code == 200 and 'id="lookup-error"' in bad.text and "校验" in bad.text


def test_intake_happy_path_creates_one_case_and_redirects_to_it(session: Session, login: Callable[[str], Browser]
                                                                ) -> None:
    clerk = login("clerk")
    before = _case_count(session)
    fields = replace(_intake_fields(clerk), **{f"material:{FORM_KEY}": "paper", f"material:{PREMISES_KEY}": "paper",
                                              "applicant_phone": "13812345678"})
    r = clerk.post("/cases/intake", [*fields, ("decision", "accept")])
    assert r.status_code == 303, r.text
    case_id = _case_id(r.headers["location"])
    again = clerk.post("/cases/intake", [*fields, ("decision", "accept")])  # a double click: the same case
    assert again.status_code == 303 and _case_id(again.headers["location"]) == case_id
    assert _case_count(session) == before + 1
    case = session.get(Case, case_id)
    assert case is not None and case.state == "accepted" and case.channel == "window"
    page = clerk.client.get(r.headers["location"])
    assert page.status_code == 200
    assert case.number in page.text and "已受理" in page.text
    assert f'href="/cases/{case_id}/notices/acceptance.pdf"' in page.text
    assert ZHANG_WEI not in page.text and mask_id_number(ZHANG_WEI) in page.text
    assert "13812345678" not in page.text and "138****5678" in page.text
    assert "证照库调取（免提交）" in page.text and "ID_CARD-DEMO-000001" in page.text  # the certificate named


def test_missing_required_material_requests_correction_with_the_notice(session: Session,
                                                                       login: Callable[[str], Browser]) -> None:
    clerk = login("clerk")
    r = clerk.post("/cases/intake", [*_intake_fields(clerk), ("decision", "accept")])
    assert r.status_code == 303 and r.headers["location"].endswith("?done=correction")
    case_id = _case_id(r.headers["location"])
    case = session.get(Case, case_id)
    assert case is not None and case.state == "correction_requested"
    page = clerk.client.get(r.headers["location"]).text
    assert f'href="/cases/{case_id}/notices/correction.pdf"' in page and "待补正" in page
    assert f'action="/cases/{case_id}/resubmit"' in page  # the clerk can take the missing materials later


def test_refusal_without_basis_rerenders_the_form_and_writes_nothing(session: Session,
                                                                     login: Callable[[str], Browser]) -> None:
    clerk = login("clerk")
    before = _case_count(session)
    fields = replace(_intake_fields(clerk), refuse_reason="不属于本机关职权范围")
    r = clerk.post("/cases/intake", [*fields, ("decision", "refuse")])
    assert r.status_code == 422
    assert "不予受理须写明法律依据" in r.text and "不属于本机关职权范围" in r.text  # what was typed stays
    assert 'name="refuse_basis" maxlength="500" aria-invalid="true"' in r.text
    assert _case_count(session) == before
    basis = "《行政许可法》第三十二条"
    ok = clerk.post("/cases/intake", [*replace(fields, refuse_basis=basis), ("decision", "refuse")])
    assert ok.status_code == 303 and ok.headers["location"].endswith("?done=refused")
    page = clerk.client.get(ok.headers["location"]).text
    assert "notices/refusal.pdf" in page and "不予受理" in page


def test_invalid_material_choice_is_reported_next_to_the_row(session: Session, login: Callable[[str], Browser]
                                                             ) -> None:
    clerk = login("clerk")
    before = _case_count(session)
    fields = replace(_intake_fields(clerk), **{f"material:{FORM_KEY}": "deferred"})
    r = clerk.post("/cases/intake", [*fields, ("decision", "accept")])
    assert r.status_code == 422 and "不属于可容缺材料" in r.text
    assert _case_count(session) == before


# ----- who sees what ------------------------------------------------------------------------------------------


def test_approver_of_another_department_gets_403_on_a_case_page(session: Session, clock: FixedClock,
                                                               login: Callable[[str], Browser],
                                                               user: Callable[[str], User]) -> None:
    case = _accepted(session, clock, user("clerk"), SHOP)
    other = login("approver_wjw").client.get(f"/cases/{case.id}")
    assert other.status_code == 403 and "无权查看该办件" in other.text
    own = login("approver_scjg").client.get(f"/cases/{case.id}")
    assert own.status_code == 200 and 'id="action-opinion"' in own.text
    assert 'id="action-decide"' not in own.text  # two review steps come first
    clerk_page = login("clerk").client.get(f"/cases/{case.id}")
    assert clerk_page.status_code == 200 and 'id="action-opinion"' not in clerk_page.text


def test_inbox_is_sorted_by_due_date_with_warning_classes(session: Session, clock: FixedClock,
                                                          login: Callable[[str], Browser],
                                                          user: Callable[[str], User]) -> None:
    clerk = user("clerk")
    old = _accepted(session, FixedClock(dt.datetime(2026, 11, 16, 9, 0, tzinfo=CHINA_TZ)), clerk, SHOP)
    soon = _accepted(session, clock, clerk, SHOP)
    later = _accepted(session, clock, clerk, FOOD)
    calendar = build_calendar(session)
    for c in (old, soon, later):
        service.recompute_deadlines(session, c, calendar=calendar, on=clock.now().date())
    session.flush()
    assert (old.warning, soon.warning, later.warning) == ("red", "yellow", "none")
    r = login("approver_scjg").client.get("/cases/inbox")
    assert r.status_code == 200
    rows = re.findall(r'<tr class="([^"]*)" data-case="([^"]+)"', r.text)
    numbers = [n for _css, n in rows]
    assert {old.number, soon.number, later.number} <= set(numbers)
    assert numbers.index(old.number) < numbers.index(soon.number) < numbers.index(later.number)
    css = dict((n, c) for c, n in rows)
    assert css[old.number] == "warn-red" and css[soon.number] == "warn-yellow" and css[later.number] == ""
    assert "已超期 4 个工作日" in r.text and "剩 1 个工作日" in r.text
    promised = [c.promised_due for c in service.inbox(session, user=user("approver_scjg"))]
    assert promised == sorted(d for d in promised if d is not None)
    assert login("approver_wjw").client.get("/cases/inbox").text.count(old.number) == 0


# ----- actions on the case page -------------------------------------------------------------------------------


def test_stale_version_on_the_decision_form_answers_409_with_the_message(session: Session, clock: FixedClock,
                                                                         login: Callable[[str], Browser],
                                                                         user: Callable[[str], User]) -> None:
    case = _accepted(session, clock, user("clerk"), SHOP)
    approver = login("approver_scjg")
    page = approver.client.get(f"/cases/{case.id}").text
    opinion = replace(form_fields(page, f"/cases/{case.id}/opinion"), opinion="材料齐全，符合条件")
    assert approver.post(f"/cases/{case.id}/opinion", opinion).status_code == 303
    # the same (now stale) form again: someone else moved the case on meanwhile
    stale = approver.post(f"/cases/{case.id}/opinion", opinion)
    assert stale.status_code == 409 and "办件已被他人更新，请刷新后重试" in stale.text
    assert 'data-form-error="opinion"' in stale.text
    second = form_fields(approver.client.get(f"/cases/{case.id}").text, f"/cases/{case.id}/opinion")
    assert approver.post(f"/cases/{case.id}/opinion", replace(second, opinion="核准登记")).status_code == 303
    decide = form_fields(approver.client.get(f"/cases/{case.id}").text, f"/cases/{case.id}/decide")
    stale_decide = replace(decide, version=str(int(dict(decide)["version"]) - 1), reason="准予登记")
    r = approver.post(f"/cases/{case.id}/decide", [*stale_decide, ("approve", "1")])
    assert r.status_code == 409 and "办件已被他人更新" in r.text
    session.refresh(case)
    assert case.state == "in_review"
    deny = approver.post(f"/cases/{case.id}/decide", [*replace(decide, reason="经营场所不符合要求"), ("approve", "0")])
    assert deny.status_code == 422 and "不予许可须写明法律依据" in deny.text
    ok = approver.post(f"/cases/{case.id}/decide", [*replace(decide, reason="准予登记"), ("approve", "1")])
    assert ok.status_code == 303 and ok.headers["location"].endswith("?done=approved")
    done = approver.client.get(ok.headers["location"]).text
    assert 'data-decision="approved"' in done and "准予" in done


def test_deliver_and_archive_from_the_case_page(session: Session, clock: FixedClock, login: Callable[[str], Browser],
                                                user: Callable[[str], User]) -> None:
    case = _accepted(session, clock, user("clerk"), SHOP)
    approver = user("approver_scjg")
    for text in ("审查通过", "核准登记"):
        service.record_opinion(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                               opinion=text)
    service.decide(session, clock=clock, user=approver, case_id=case.id, expected_version=case.version,
                   approve=True, reason="准予登记")
    session.flush()
    clerk = login("clerk")
    fields = form_fields(clerk.client.get(f"/cases/{case.id}").text, f"/cases/{case.id}/deliver")
    missing = clerk.post(f"/cases/{case.id}/deliver", replace(fields, method="mail"))
    assert missing.status_code == 422 and "请填写快递单号" in missing.text
    r = clerk.post(f"/cases/{case.id}/deliver", replace(fields, method="pickup", picked_up_by="张伟"))
    assert r.status_code == 303, r.text
    page = clerk.client.get(f"/cases/{case.id}").text
    assert "已送达" in page and "领取人 张伟" in page and 'id="action-archive"' in page
    archive = form_fields(page, f"/cases/{case.id}/archive")
    assert clerk.post(f"/cases/{case.id}/archive", archive).status_code == 303
    session.refresh(case)
    assert case.state == "archived"


def test_suspend_resume_and_extension_through_the_department_head(session: Session, clock: FixedClock,
                                                                  login: Callable[[str], Browser],
                                                                  user: Callable[[str], User]) -> None:
    case = _accepted(session, clock, user("clerk"), FOOD)
    approver = login("approver_scjg")
    page = approver.client.get(f"/cases/{case.id}").text
    r = approver.post(f"/cases/{case.id}/suspend", replace(form_fields(page, f"/cases/{case.id}/suspend"),
                                                           kind="inspection", reason="现场核查经营场所"))
    assert r.status_code == 303
    page = approver.client.get(f"/cases/{case.id}").text
    assert "特别程序（暂停计时）" in page and 'id="action-resume"' in page
    assert approver.post(f"/cases/{case.id}/resume", form_fields(page, f"/cases/{case.id}/resume")).status_code == 303
    page = approver.client.get(f"/cases/{case.id}").text
    r = approver.post(f"/cases/{case.id}/extension", replace(form_fields(page, f"/cases/{case.id}/extension"),
                                                             days="5", reason="需补充专家意见"))
    assert r.status_code == 303
    head = login("head_scjg")
    inbox = head.client.get("/cases/inbox").text
    assert case.number in inbox and 'id="pending-extensions"' in inbox
    page = head.client.get(f"/cases/{case.id}").text
    fields = form_fields(page, f"/cases/{case.id}/extension-decide")
    before = case.legal_due
    assert head.post(f"/cases/{case.id}/extension-decide", [*fields, ("approve", "1")]).status_code == 303
    session.refresh(case)
    assert before is not None and case.legal_due is not None and case.legal_due > before
    assert case.extension_days == 5


def test_precheck_list_and_search_pages(session: Session, login: Callable[[str], Browser]) -> None:
    clerk = login("clerk")
    r = clerk.client.get("/cases/precheck")
    assert r.status_code == 200 and 'id="precheck"' in r.text
    assert 'href="/cases/intake"' in r.text and 'href="/cases/precheck"' in r.text  # nav for window staff
    supervisor = login("supervisor").client.get("/cases")
    assert supervisor.status_code == 200 and 'id="cases"' in supervisor.text
    assert login("approver_scjg").client.get("/cases/intake").status_code == 403
    assert login("supervisor").client.get("/cases/inbox").status_code == 403


def test_online_application_is_prechecked_from_the_list(session: Session, clock: FixedClock,
                                                         login: Callable[[str], Browser],
                                                         user: Callable[[str], User]) -> None:
    zhang = user("zhangwei")  # the demo applicant account of 张伟
    case = service.apply(session, clock=clock, user=zhang, rules_=RULES, online=True, data=ApplicationIn(
        applicant=ApplicantIn(kind="person", name="张伟", id_number=ZHANG_WEI), item_code=SHOP)).case
    session.flush()
    clerk = login("clerk")
    listing = clerk.client.get("/cases/precheck").text
    assert f'data-case="{case.number}"' in listing and "缺 2 项必需材料" in listing
    page = clerk.client.get(f"/cases/{case.id}").text
    fields = form_fields(page, f"/cases/{case.id}/precheck")
    assert ("material:cert:ID_CARD", "library") in fields
    handed = replace(fields, **{f"material:{FORM_KEY}": "electronic", f"material:{PREMISES_KEY}": "electronic"})
    nothing_missing = clerk.post(f"/cases/{case.id}/precheck", [*handed, ("decision", "correction")])
    assert nothing_missing.status_code == 422 and "需要补正的必需材料标为“未提交”" in nothing_missing.text
    r = clerk.post(f"/cases/{case.id}/precheck", [*handed, ("decision", "accept")])
    assert r.status_code == 303 and r.headers["location"].endswith("?done=accepted")
    session.refresh(case)
    assert case.state == "accepted"
    assert f'data-case="{case.number}"' not in clerk.client.get("/cases/precheck").text


def test_further_holders_refresh_the_checklist_fragment(login: Callable[[str], Browser]) -> None:
    clerk = login("clerk")
    params = {"applicant_id": ZHANG_WEI, "item_code": SHOP, "extra_holders": "123"}
    r = clerk.post("/cases/intake/checklist", params, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and 'id="checklist"' in r.text
    assert "第 1 个其他持证人证件号码无效" in r.text
    ok = clerk.post("/cases/intake/checklist", {**params, "extra_holders": ZHANG_WEI})
    assert 'value="library" selected' in ok.text


def test_bundle_intake_opens_sub_cases_shown_on_the_case_page(session: Session, login: Callable[[str], Browser]
                                                              ) -> None:
    clerk = login("clerk")
    r = clerk.post("/cases/intake/target", {"id": ZHANG_WEI, "bundle": "YJS-NEWBORN"})
    assert r.status_code == 200 and "新生儿出生一件事" in r.text and "共用" in r.text  # one merged checklist
    fields = [(k, "paper" if k.startswith("material:") and v == "missing" else v)
              for k, v in form_fields(r.text, "/cases/intake")]
    created = clerk.post("/cases/intake", [*fields, ("decision", "accept")])
    assert created.status_code == 303, created.text
    case_id = _case_id(created.headers["location"])
    page = clerk.client.get(f"/cases/{case_id}").text
    assert 'id="sub-cases"' in page and page.count('<tr class="') >= 5
    sub = service.sub_cases(session, case_id)[0]
    sub_page = clerk.client.get(f"/cases/{sub.id}").text
    assert f'href="/cases/{case_id}"' in sub_page  # the way back to the bundle


# ----- no ID number in a URL ------------------------------------------------------------------------------------


def test_intake_steps_are_posts_and_no_page_puts_the_id_in_a_url(session: Session, login: Callable[[str], Browser]
                                                                 ) -> None:
    """The applicant's 公民身份号码 travels in form bodies only: the workbench walked form by form, as a
    browser would, never renders it into a link, a form action or an HTMX URL (history, proxies, access log)."""
    clerk = login("clerk")
    empty = clerk.client.get("/cases/intake", params={"id": ZHANG_WEI})  # an old bookmarked URL: no lookup
    assert empty.status_code == 200 and "data-applicant-id" not in empty.text and ZHANG_WEI not in empty.text
    assert 'action="/cases/intake/applicant"' in empty.text and 'method="post"' in empty.text
    for step in ("/cases/intake/applicant", "/cases/intake/target"):  # a step page opened by address
        back = clerk.client.get(step, follow_redirects=False)
        assert back.status_code == 303 and back.headers["location"] == "/cases/intake"
    assert clerk.post("/cases/intake/applicant", {"id": ZHANG_WEI}, csrf=False).status_code == 403
    assert clerk.post("/cases/intake/targets", {"id": ZHANG_WEI, "q": "个体"}, csrf=False).status_code == 403

    # 1. the applicant, from the search form's own fields
    search = replace(form_fields(empty.text, "/cases/intake/applicant"), id=ZHANG_WEI)
    found = clerk.post("/cases/intake/applicant", search)
    assert found.status_code == 200 and "data-applicant-id" in found.text
    # 2. the target search (the plain form and the HTMX fragment), then the item picked with its button
    query = replace(form_fields(found.text, "/cases/intake/applicant"), q="个体工商户")
    assert dict(query)["id"] == ZHANG_WEI  # a hidden field carries the number
    listed = clerk.post("/cases/intake/applicant", query)
    fragment = clerk.post("/cases/intake/targets", query, headers={"HX-Request": "true"})
    assert f'data-target-code="{SHOP}"' in listed.text and f'data-target-code="{SHOP}"' in fragment.text
    assert f'name="item" value="{SHOP}"' in fragment.text
    picked = clerk.post("/cases/intake/target", [*form_fields(fragment.text, "/cases/intake/target"), ("item", SHOP)])
    assert picked.status_code == 200 and 'data-target-name' in picked.text
    reselect = clerk.post("/cases/intake/applicant", form_fields(picked.text, "/cases/intake/applicant"))
    assert reselect.status_code == 200 and 'id="target-q"' in reselect.text  # "重新选择"
    # 3. the checklist refresh, a refused submission re-rendered, and a bundle
    fields = form_fields(picked.text, "/cases/intake")
    checklist = clerk.post("/cases/intake/checklist", replace(fields, extra_holders=ZHANG_WEI),
                           headers={"HX-Request": "true"})
    refused = clerk.post("/cases/intake", [*fields, ("decision", "refuse")])
    bundle = clerk.post("/cases/intake/target", {"id": ZHANG_WEI, "bundle": "YJS-NEWBORN"})
    assert checklist.status_code == 200 and refused.status_code == 422 and bundle.status_code == 200
    for page in (empty, found, listed, picked, reselect, refused, bundle):
        _assert_no_id_in_urls(page.text, ZHANG_WEI)
    for part in (fragment, checklist):
        assert ZHANG_WEI not in "".join(_urls_in(part.text))
    assert 'hx-post="/cases/intake/targets"' in found.text and 'hx-post="/cases/intake/checklist"' in picked.text
