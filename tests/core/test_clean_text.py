"""Typed text is tidied one way (``core.validation.clean`` / ``clean_line``), not by a copy in each domain."""

from __future__ import annotations

import re
from pathlib import Path

from onewindow.core.validation import clean, clean_line

SRC = Path(__file__).resolve().parents[2] / "src" / "onewindow"


def test_clean_strips_and_cuts_but_keeps_the_lines() -> None:
    assert clean("  第一行\n第二行  ", 100) == "第一行\n第二行"
    assert clean(None, 10) == "" and clean("abcdef", 3) == "abc" and clean(42, 10) == "42"


def test_clean_line_makes_one_line() -> None:
    assert clean_line("  意见：\n 材料\t齐全  ", 100) == "意见： 材料 齐全"
    assert clean_line("", 5) == "" and clean_line("a  b  c", 3) == "a b"


def test_no_domain_keeps_its_own_copy() -> None:
    copies = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
              if re.search(r"^def (clean|clean_line)\(", p.read_text(encoding="utf-8"), re.M)]
    assert copies == ["core/validation.py"]
