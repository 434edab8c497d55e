"""Ranking: life events bring bundles first; a named item beats the life event it belongs to."""

from __future__ import annotations

import pytest

from onewindow.guide.search import GuideIndex


@pytest.mark.parametrize(("query", "bundle"), [
    ("孩子刚出生要办什么", "YJS-NEWBORN"),
    ("我想开个奶茶店", "YJS-RESTAURANT"),
    ("亲人过世后要办理哪些手续", "YJS-DECEASED"),
    ("想开个公司", "YJS-BIZSTART"),
    ("開飯店要辦哪些證", "YJS-RESTAURANT"),
])
def test_a_life_event_question_ranks_the_bundle_first(index: GuideIndex, query: str, bundle: str) -> None:
    hit = index.search(query).hits[0]
    assert (hit.kind, hit.code) == ("bundle", bundle)
    assert hit.member_codes


def test_a_named_item_beats_its_life_event(index: GuideIndex) -> None:
    result = index.search("创业补贴怎么申请")
    assert result.hits[0].code == "410724-RSJ-JF-004"
    assert "YJS-EMPLOYMENT" in [h.code for h in result.hits[:3]]


def test_a_question_for_one_certificate_gets_the_item(index: GuideIndex) -> None:
    assert index.search("出生证明在哪开").hits[0].code == "410724-WJW-GG-001"


def test_the_plain_item_comes_before_its_change_and_cancel_variants(index: GuideIndex) -> None:
    assert index.search("个体户执照怎么办").hits[0].code == "410724-SCJG-XK-001"
    assert index.search("店铺不开了要注销").hits[0].code == "410724-SCJG-XK-003"


def test_reasons_name_the_words_that_matched(index: GuideIndex) -> None:
    hit = index.search("社保卡丢了").hits[0]
    assert hit.code == "410724-RSJ-GG-001"
    assert "社保卡" in hit.reasons
    assert hit.department == "获嘉县人力资源和社会保障局"
    assert hit.summary


def test_the_result_serialises_to_plain_json_types(index: GuideIndex) -> None:
    payload = index.search("二手房过户").as_dict()
    assert payload["good"] is True
    assert payload["hits"][0]["kind"] in {"item", "bundle"}
    assert isinstance(payload["hits"][0]["reasons"], list)
    assert payload["did_you_mean"] == []
