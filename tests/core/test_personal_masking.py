"""One mechanism masks personal numbers at the edge: Jinja's finalize for every page, the API's response class."""

from __future__ import annotations

import json

from onewindow.core.access import Field, Record, Role, Viewer
from onewindow.core.personal import Personal, Typed, mask_payload, mask_text, shown
from onewindow.web import make_templates

ID = "11010519491231002X"
MASKED_ID = "110105********002X"
PHONE = "13812345678"


def test_valid_id_numbers_and_mobiles_inside_text_are_masked() -> None:
    assert mask_text(f"持证人 {ID}，电话 {PHONE}") == f"持证人 {MASKED_ID}，电话 138****5678"
    assert mask_text(ID.lower()) == "110105********002X"


def test_what_is_not_a_personal_number_is_left_alone() -> None:
    not_an_id = ID[:-1] + "3"  # wrong check character
    for text in (not_an_id, "20261123-00042-8", "0373-4502316", "12345", "a13812345678b", "ow_13812345678x",
                 "单号 1381234567890"):
        assert mask_text(text) == text


def test_a_personal_value_is_whole_only_for_viewers_the_policy_names() -> None:
    record = Record(department=1, owner_user_ids=frozenset({7}))
    value = Personal(ID, Field.ID_NUMBER, record)
    assert str(value) == MASKED_ID and repr(value).count("*") == 8
    assert value.shown_to(Viewer(7, Role.APPLICANT)) == ID
    assert value.shown_to(Viewer(2, Role.APPROVER, department_id=1)) == ID
    assert value.shown_to(Viewer(3, Role.APPROVER, department_id=2)) == MASKED_ID
    assert value.shown_to(Viewer(4, Role.ADMIN)) == MASKED_ID
    assert value.shown_to(None) == MASKED_ID


def test_json_payloads_are_masked_all_the_way_down() -> None:
    payload = {"a": [ID, {"phone": PHONE, "n": 3}], "b": (Personal(ID, Field.ID_NUMBER),), "c": None}
    assert mask_payload(payload) == {"a": [MASKED_ID, {"phone": "138****5678", "n": 3}], "b": [MASKED_ID], "c": None}


def test_every_template_expression_passes_the_mask() -> None:
    env = make_templates().env
    page = env.from_string("{{ raw }}|{{ typed|typed }}|{{ personal }}|{{ n }}")
    record = Record(department=1)
    approver = Viewer(2, Role.APPROVER, department_id=1)
    out = page.render(raw=f"证件 {ID}", typed=ID, personal=Personal(PHONE, Field.PHONE, record), n=42,
                      viewer=approver)
    assert out == f"证件 {MASKED_ID}|{ID}|{PHONE}|42"
    anonymous = page.render(raw=ID, typed=ID, personal=Personal(PHONE, Field.PHONE, record), n=1, viewer=None)
    assert anonymous == f"{MASKED_ID}|{ID}|138****5678|1"


def test_a_template_that_forgets_to_mask_still_cannot_leak() -> None:
    env = make_templates().env
    out = env.from_string('<input value="{{ v }}"><td>{{ row.id_number }}</td>').render(
        v=ID, row={"id_number": ID}, viewer=Viewer(1, Role.CLERK))
    assert ID not in out and out.count(MASKED_ID) == 2


def test_shown_keeps_non_text_values() -> None:
    assert shown(None, None) is None
    assert shown(3, None) == 3
    assert shown(Typed("x"), None) == "x"


def test_a_published_office_number_stays_whole_on_a_page() -> None:
    env = make_templates().env
    out = env.from_string("{{ office | public }} {{ person }}").render(office=PHONE, person=PHONE, viewer=None)
    assert out == f"{PHONE} 138****5678"


def test_the_api_response_class_masks_as_the_walk_does_with_or_without_numbers() -> None:
    from onewindow.core.http import MaskedJSONResponse

    def walked(payload: object) -> bytes:
        return json.dumps(mask_payload(payload), ensure_ascii=False, allow_nan=False, indent=None,
                          separators=(",", ":")).encode()

    payloads: list[object] = [
        {"hall": "HJ-ZWZX", "now": "2026-12-06T09:00:00.752143+08:00", "n": [1, 2.5, None, True], "标签": "３号窗口"},
        {"a": [ID, {"phone": PHONE, "n": 3}], "b": (Personal(ID, Field.ID_NUMBER),), "c": None},
        {"note": f"请致电{PHONE}", "id": 13812345678, "t": ("x", ID.lower())},
        {"full_width": "１３８１２３４５６７８", "key 13812345678": "k"},
        [], "13812345678", 0.1 + 0.2,
    ]
    for payload in payloads:
        assert MaskedJSONResponse(payload).body == walked(payload), payload
    assert PHONE not in MaskedJSONResponse({"x": [f"电话 {PHONE}"]}).body.decode()
