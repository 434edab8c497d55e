"""The editable synonym and life-event map of the guide search, and its shipped default.

The map is a plain JSON-ready dict so the admin pages can store it as is::

    {"version": 1,
     "terms": {"新农合": ["城乡居民基本医疗保险"], ...},   # colloquial word → catalog terms
     "qualifiers": {"丢了": ["补领", "补办"], ...},          # what happened → action words
     "life_events": {"生孩子": ["YJS-NEWBORN"], ...},      # trigger → bundle codes or themes
     "situations": {"YJS-DECEASED": ["家里老人走了，后事怎么弄", ...], ...}}  # code → how people describe it

A ``terms`` entry names the thing the person needs, so a match on it can make an answer good.
A ``qualifiers`` entry only refines (lost, expired, broken): it helps ranking but a question made
of qualifiers alone ("坏了") is not a good answer. A life-event target that is the code of a
bundle boosts that bundle when the trigger occurs in a question; any other target is a theme word,
used like a ``terms`` expansion.

``situations`` are for the semantic model only: each sentence, the way a villager, a shop owner or a
parent would describe their situation, becomes a passage vector of its item or bundle (see
:mod:`.semantic`). They are written from the catalog's own fields (name, conditions, audience,
materials, life events), never from an evaluation question.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

from onewindow.core.errors import Problem, ValidationFailed

SynonymMap = dict[str, dict[str, list[str]]]
SECTIONS = ("terms", "qualifiers", "life_events", "situations")
_CODE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
_DOCUMENT_CODE = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")  # an item ("410724-MZJ-QR-001") or a bundle
MAX_KEY_CHARS = 30
MAX_SITUATION_CHARS = 80


def load_default_synonyms() -> dict[str, Any]:
    """The shipped default map (``onewindow/data/guide-synonyms.json``) as a fresh dict."""
    text = resources.files("onewindow").joinpath("data/guide-synonyms.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def check_synonyms(data: Mapping[str, Any], *, bundle_codes: Iterable[str] = ()) -> list[Problem]:
    """Problems in a synonym map (empty when it is usable); warns nothing, only rejects."""
    problems: list[Problem] = []
    if not isinstance(data, Mapping):
        return [Problem("synonyms", "not_an_object", "同义词表必须是一个 JSON 对象")]
    codes = set(bundle_codes)
    for section in SECTIONS:
        entries = data.get(section, {})
        if not isinstance(entries, Mapping):
            problems.append(Problem(section, "not_an_object", f"{section} 必须是“词 → 词列表”的对象"))
            continue
        for key, targets in entries.items():
            where = f"{section}.{key}"
            if not isinstance(key, str) or not key.strip():
                problems.append(Problem(where, "empty_term", "同义词不能为空"))
            elif len(key) > MAX_KEY_CHARS:
                problems.append(Problem(where, "term_too_long", f"同义词不能超过{MAX_KEY_CHARS}个字"))
            if not isinstance(targets, list) or not targets or not all(
                    isinstance(t, str) and t.strip() for t in targets):
                problems.append(Problem(where, "bad_targets", "对应词必须是非空的文字列表"))
                continue
            if section == "life_events" and codes:
                unknown = [t for t in targets if _CODE.match(t) and t not in codes]
                if unknown:
                    problems.append(Problem(where, "unknown_bundle", f"一件事编码不存在：{'、'.join(unknown)}"))
            if section == "situations":
                if isinstance(key, str) and not _DOCUMENT_CODE.match(key.strip()):
                    problems.append(Problem(where, "not_a_code", "情形的键必须是事项或一件事编码"))
                if any(len(t) > MAX_SITUATION_CHARS for t in targets):
                    problems.append(Problem(where, "situation_too_long", f"每条情形不能超过{MAX_SITUATION_CHARS}个字"))
    return problems


def normalize_synonyms(data: Mapping[str, Any] | None) -> SynonymMap:
    """A validated copy with only the known sections, keys and targets stripped; raises on bad input."""
    if data is None:
        return {section: {} for section in SECTIONS}
    problems = check_synonyms(data)
    if problems:
        raise ValidationFailed(problems)
    result: SynonymMap = {}
    for section in SECTIONS:
        entries: Mapping[str, list[str]] = data.get(section, {})
        result[section] = {key.strip(): [t.strip() for t in targets] for key, targets in entries.items()}
    return result
