"""Demo e-certificates of a few demo persons and enterprises (one expired, one revoked), via the import."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from onewindow.certificates import service
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.ids import credit_code_check_char, id_check_char


def demo_id_number(first17: str) -> str:
    """A valid 公民身份号码 from its first 17 digits."""
    return first17 + id_check_char(first17)


def demo_credit_code(first17: str) -> str:
    """A valid 统一社会信用代码 from its first 17 characters."""
    return first17 + credit_code_check_char(first17)


# The demo holders (获嘉县: region code 410724).
ZHANG_WEI = demo_id_number("41072419900315001")
LI_NA = demo_id_number("41072419880722002")
WANG_FANG = demo_id_number("41072419920908004")
FENGYUAN = demo_credit_code("91410724MA9KX3L2Q")  # 获嘉县丰源商贸有限公司
FENGYUAN_NAME = "获嘉县丰源商贸有限公司"
LAOJIE = demo_credit_code("92410724MA9NR7T5W")  # 获嘉县老街面馆（个体工商户）


def demo_rows(on: dt.date) -> list[dict[str, Any]]:
    """The demo register rows, dated relative to ``on`` so that the states hold on any day."""
    def ago(days: int) -> str:
        return (on - dt.timedelta(days=days)).isoformat()

    def ahead(days: int) -> str:
        return (on + dt.timedelta(days=days)).isoformat()

    return [
        {"type": "ID_CARD", "number": "ID_CARD-DEMO-000001", "holder_id": ZHANG_WEI, "holder_name": "张伟",
         "issuer": "获嘉县公安局", "issued_date": ago(3650), "expires_date": ahead(3650), "check_code": "ZW7K2M9Q"},
        {"type": "HUKOU_BOOK", "number": "HUKOU_BOOK-DEMO-000001", "holder_id": ZHANG_WEI, "holder_name": "张伟",
         "issuer": "获嘉县公安局", "issued_date": ago(2000), "expires_date": "", "check_code": "ZW3H8P4R"},
        # expired: 李娜's ID card ran out four months ago, so it is not used for 免提交
        {"type": "ID_CARD", "number": "ID_CARD-DEMO-000002", "holder_id": LI_NA, "holder_name": "李娜",
         "issuer": "获嘉县公安局", "issued_date": ago(3770), "expires_date": ago(120), "check_code": "LN5T6W2X"},
        # revoked: 王芳's marriage certificate after a divorce registration
        {"type": "MARRIAGE_CERT", "number": "MARRIAGE_CERT-DEMO-000001", "holder_id": WANG_FANG,
         "holder_name": "王芳", "issuer": "获嘉县民政局", "issued_date": ago(1500), "expires_date": "",
         "status": "已注销", "check_code": "WF9J4N7B"},
        {"type": "ID_CARD", "number": "ID_CARD-DEMO-000003", "holder_id": WANG_FANG, "holder_name": "王芳",
         "issuer": "获嘉县公安局", "issued_date": ago(1000), "expires_date": ahead(6300), "check_code": "WF2C8D6E"},
        {"type": "BIZ_LICENSE", "number": "BIZ_LICENSE-DEMO-000001", "holder_id": FENGYUAN,
         "holder_name": FENGYUAN_NAME, "issuer": "获嘉县市场监督管理局", "issued_date": ago(900),
         "expires_date": "", "check_code": "FY6G3K8M",
         # the register names the 法定代表人 by name and ID number: 为企业申请 online checks both
         "data": {"法定代表人": "张伟", "法定代表人证件号码": ZHANG_WEI, "注册资本": "100万元"}},
        {"type": "FOOD_LICENSE", "number": "FOOD_LICENSE-DEMO-000001", "holder_id": FENGYUAN,
         "holder_name": FENGYUAN_NAME, "issuer": "获嘉县市场监督管理局", "issued_date": ago(400),
         "expires_date": ahead(1425), "check_code": "FY4P7R2T"},
        {"type": "BIZ_LICENSE", "number": "BIZ_LICENSE-DEMO-000002", "holder_id": LAOJIE,
         "holder_name": "获嘉县老街面馆", "issuer": "获嘉县市场监督管理局", "issued_date": ago(300),
         "expires_date": "", "check_code": "LJ8Q5U3V", "data": {"经营者": "李娜", "经营者证件号码": LI_NA}},
    ]


def load_demo_certificates(session: Session, *, clock: Clock, actor: Actor) -> service.ImportResult:
    """Load (or refresh) the demo certificates; safe to run again."""
    return service.import_certificates(session, clock=clock, actor=actor, rows=demo_rows(today(clock)),
                                       source="demo")
