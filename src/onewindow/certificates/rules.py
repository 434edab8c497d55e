"""Who a business licence names as the person acting for its holder (pure).

A 营业执照 in the library carries, in its ``data``, the 法定代表人 of a company (经营者 of a 个体工商户,
负责人 of a branch or another organisation) by name and, as the registration records it, by 公民身份号码
(``法定代表人证件号码``, ``经营者证件号码``, ``负责人证件号码``). A person represents the holder when both match
their real-name account: a name alone is not enough (names repeat; 张伟 is the most common one), and a
licence without the number cannot prove representation online (the window checks the papers instead).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LICENCE_TYPE = "BIZ_LICENSE"
REPRESENTATIVE_TITLES = ("法定代表人", "经营者", "负责人")
ID_SUFFIX = "证件号码"


def id_key(title: str) -> str:
    """The data key of a representative's 公民身份号码 (``法定代表人`` → ``法定代表人证件号码``)."""
    return title + ID_SUFFIX


def representative_title(data: Mapping[str, Any], *, name: str, id_number: str) -> str | None:
    """The title under which the licence names this person (法定代表人, 经营者 or 负责人), or None."""
    wanted = id_number.strip().upper()
    for title in REPRESENTATIVE_TITLES:
        named = str(data.get(title) or "").strip()
        number = str(data.get(id_key(title)) or "").strip().upper()
        if named and number and wanted and named == name.strip() and number == wanted:
            return title
    return None


def masked_data(data: Mapping[str, Any], mask: Any) -> dict[str, Any]:
    """The licence data with every representative's ID number passed through ``mask`` (for display)."""
    return {k: mask(v) if k.endswith(ID_SUFFIX) and isinstance(v, str) else v for k, v in data.items()}
