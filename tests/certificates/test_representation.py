"""Who a business licence names as acting for its holder (pure), and the library's answer for 为企业申请."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from onewindow.certificates import rules, service
from onewindow.certificates.demo import FENGYUAN, LAOJIE, LI_NA, WANG_FANG, ZHANG_WEI
from onewindow.core.errors import PermissionDenied
from onewindow.core.ids import mask_id_number

ON = dt.date(2026, 11, 23)


def test_the_name_and_the_number_must_both_match() -> None:
    data = {"法定代表人": "张伟", "法定代表人证件号码": ZHANG_WEI}
    assert rules.representative_title(data, name="张伟", id_number=ZHANG_WEI.lower()) == "法定代表人"
    assert rules.representative_title(data, name="张伟", id_number=WANG_FANG) is None  # another 张伟
    assert rules.representative_title(data, name="王芳", id_number=ZHANG_WEI) is None
    assert rules.representative_title({"法定代表人": "张伟"}, name="张伟", id_number=ZHANG_WEI) is None  # name only
    sole_trader = {"经营者": "李娜", "经营者证件号码": LI_NA}
    assert rules.representative_title(sole_trader, name="李娜", id_number=LI_NA) == "经营者"
    assert rules.representative_title({}, name="", id_number="") is None


def test_the_representatives_number_is_masked_for_display() -> None:
    shown = rules.masked_data({"法定代表人": "张伟", "法定代表人证件号码": ZHANG_WEI, "注册资本": "100万元"},
                              mask_id_number)
    assert shown == {"法定代表人": "张伟", "法定代表人证件号码": mask_id_number(ZHANG_WEI), "注册资本": "100万元"}


def test_the_library_answers_who_represents_which_enterprise(session: Session) -> None:
    found = service.check_representation(session, credit_code=FENGYUAN.lower(), person_name="张伟",
                                         person_id=ZHANG_WEI, on=ON)
    assert (found.credit_code, found.enterprise_name, found.role) == (FENGYUAN, "获嘉县丰源商贸有限公司", "法定代表人")
    with pytest.raises(PermissionDenied) as other:
        service.check_representation(session, credit_code=LAOJIE, person_name="张伟", person_id=ZHANG_WEI, on=ON)
    assert other.value.code == "not_representative" and "获嘉县老街面馆" in other.value.message
    with pytest.raises(PermissionDenied) as none:
        service.check_representation(session, credit_code="91410724MA9KX3L2Q" + "0", person_name="张伟",
                                     person_id=ZHANG_WEI, on=ON)
    assert none.value.code == "no_licence"
    mine = service.represented_enterprises(session, person_name="张伟", person_id=ZHANG_WEI, on=ON)
    assert [r.credit_code for r in mine] == [FENGYUAN]
    assert [r.credit_code for r in service.represented_enterprises(session, person_name="李娜", person_id=LI_NA,
                                                                   on=ON)] == [LAOJIE]
    assert service.represented_enterprises(session, person_name="王芳", person_id=WANG_FANG, on=ON) == []
