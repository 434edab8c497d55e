"""Catalog import validation: every problem at once, with its row and code; nothing written when any is found."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.catalog.models import Department, Item
from onewindow.core.audit import Actor, AuditEntry
from onewindow.core.clock import FixedClock
from onewindow.core.errors import ValidationFailed
from onewindow.county_file import import_catalog, validate_catalog
from onewindow.demo import reference_catalog

ACTOR = Actor(None, "test")


def _problems(session: Session, data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as exc:
        validate_catalog(session, data)
    return [(p.field, p.code) for p in exc.value.problems]


def test_every_rule_breach_is_reported_with_its_path_and_code(session: Session) -> None:
    data = reference_catalog()
    items = data["items"]
    items[3]["promised_limit_days"] = items[3]["legal_limit_days"] + 5
    items[5]["legal_limit_days"] = "abc"
    items[6]["colour"] = "red"
    items[7]["online_depth"], items[7]["max_visits"] = 4, 1
    items[8]["instant"] = True
    items[12]["department"] = "FOO"
    items[20]["materials"][0]["certificate_type"] = "NO_SUCH_CERT"
    items.append(copy.deepcopy(items[0]))
    data["bundles"][1]["items"].append("NOPE-ITEM")
    data["negative_list"].append(dict(data["negative_list"][0]))
    data["policies"][2]["department"] = "XX"
    data["surprise"] = 1
    c = {i: items[i]["code"] for i in (3, 5, 6, 7, 8, 12, 20, 0)}
    bundle = data["bundles"][1]["code"]
    neg = data["negative_list"][0]["item"]
    policy = data["policies"][2]["code"]

    assert _problems(session, data) == [
        ("surprise", "extra_forbidden"),
        (f"items[3]（{c[3]}）.promised_limit_days", "promised_exceeds_legal"),
        (f"items[5]（{c[5]}）.legal_limit_days", "int_parsing"),
        (f"items[6]（{c[6]}）.colour", "extra_forbidden"),
        (f"items[7]（{c[7]}）.max_visits", "full_online_needs_zero_visits"),
        (f"items[8]（{c[8]}）.instant", "instant_needs_zero_limits"),
        (f"items[12]（{c[12]}）.department", "unknown_department"),
        (f"items[20]（{c[20]}）.materials[0].certificate_type", "unknown_certificate_type"),
        (f"items[99]（{c[0]}）.code", "duplicate_code"),
        (f"bundles[1]（{bundle}）.items[{len(data['bundles'][1]['items']) - 1}]", "unknown_item"),
        (f"negative_list[4]（{neg}）.item", "duplicate_code"),
        (f"policies[2]（{policy}）.department", "unknown_department"),
    ]


def test_problem_line_names_the_row_and_the_unknown_code(session: Session) -> None:
    data = reference_catalog()
    data["items"][12]["department"] = "FOO"
    with pytest.raises(ValidationFailed) as exc:
        validate_catalog(session, data)
    code = data["items"][12]["code"]
    assert [p.line() for p in exc.value.problems] == [
        f"items[12]（{code}）.department: 未知部门编码：FOO [unknown_department]"]


def test_one_bad_row_writes_nothing(empty_session: Session, clock: FixedClock) -> None:
    data = reference_catalog()
    data["items"][40]["hall_category"] = "Z"
    with pytest.raises(ValidationFailed):
        import_catalog(empty_session, clock=clock, actor=ACTOR, data=data)
    for model in (Item, Department, AuditEntry):
        assert empty_session.scalar(select(func.count()).select_from(model)) == 0


def test_a_row_with_a_schema_error_still_defines_its_code(session: Session) -> None:
    data: dict[str, Any] = {"items": [{**reference_catalog()["items"][0], "code": "T-NEW-1", "legal_limit_days": -1}],
                            "negative_list": [{"item": "T-NEW-1", "reason": "现场踏勘，不进大厅"}]}
    assert _problems(session, data) == [("items[0]（T-NEW-1）.legal_limit_days", "greater_than_equal")]


def test_duplicates_are_rejected_in_every_keyed_section(session: Session) -> None:
    ref = reference_catalog()
    region = ref["region"]
    region["children"][1]["code"] = region["children"][0]["code"]
    region["children"][2]["level"] = "county"
    bundle = ref["bundles"][0]
    data = {
        "region": region,
        "departments": [ref["departments"][0], ref["departments"][0]],
        "bundles": [{**bundle, "items": [*bundle["items"], bundle["items"][0]]}],
        "retired_items": [ref["items"][0]["code"], ref["items"][0]["code"], "NOPE"],
        "entity_fields": {"person": [ref["entity_fields"]["person"][0]] * 2},
    }
    dept = ref["departments"][0]["code"]
    assert _problems(session, data) == [
        ("region.children[1].code", "duplicate_code"),
        ("region.children[2].level", "bad_region_level"),
        (f"departments[1]（{dept}）.code", "duplicate_code"),
        ("retired_items[1]", "duplicate_code"),
        ("retired_items[2]", "unknown_item"),
        (f"bundles[0]（{bundle['code']}）.items[{len(bundle['items'])}]", "duplicate_item"),
        ("entity_fields.person[1].name", "duplicate_code"),
    ]


@pytest.mark.parametrize("data", [[], "catalog", None])
def test_top_level_must_be_an_object(session: Session, data: Any) -> None:
    assert _problems(session, data) == [("", "not_an_object")]


def test_sections_must_have_the_right_shape(session: Session) -> None:
    data = {"items": {"code": "x"}, "region": [], "policies": [{"code": "P-1", "name": "某政策",
                                                               "department": "RSJ", "audience": "robot"}]}
    assert _problems(session, data) == [
        ("region", "model_type"),
        ("items", "list_type"),
        ("policies[0]（P-1）.audience", "literal_error"),
    ]
