"""The guide search turns colloquial, traditional, misspelt and foreign questions into catalog answers."""

from __future__ import annotations

import time

import pytest

from onewindow.core.errors import ValidationFailed
from onewindow.guide.search import MAX_QUERY_CHARS, GuideIndex


def top_codes(index: GuideIndex, query: str, n: int = 3) -> list[str]:
    return [h.code for h in index.search(query, limit=n).hits]


def test_traditional_characters_find_the_same_item_as_simplified(index: GuideIndex) -> None:
    traditional = index.search("房產證丟了怎麼補辦")
    simplified = index.search("房产证丢了怎么补办")
    assert traditional.normalized_query == "房产证丢了怎么补办"
    assert traditional.hits[0].code == simplified.hits[0].code == "410724-BDC-QR-007"
    assert traditional.good


def test_a_homophone_typo_is_corrected_and_reported(index: GuideIndex) -> None:
    result = index.search("上户扣需要什么")
    assert result.corrected_query == "上户口需要什么"
    assert result.hits[0].code == "410724-GAJ-QR-003"
    assert "户口" in " ".join(result.hits[0].reasons)


@pytest.mark.parametrize(("query", "expected"), [
    ("公鸡金提取", "410724-GJJ-GG-00"),
    ("办护找", "410724-GAJ-XK-001"),
    ("结昏登记", "410724-MZJ-QR-001"),
    ("社宝卡补办", "410724-RSJ-GG-001"),
])
def test_other_sound_alike_typos_still_find_the_item(index: GuideIndex, query: str, expected: str) -> None:
    assert top_codes(index, query, 1)[0].startswith(expected)


def test_real_words_are_not_rewritten_as_typos(index: GuideIndex) -> None:
    assert index.search("我妈满六十了").corrected_query is None
    assert index.search("有糖尿病每个月买药能报销吗").corrected_query is None
    assert index.search("想开个私人诊所").hits[0].code == "410724-WJW-BA-001"


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "\u3000"])
def test_an_empty_query_is_refused_with_a_chinese_message(index: GuideIndex, query: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        index.search(query)
    problem = caught.value.problems[0]
    assert (problem.field, problem.code) == ("q", "empty_query")
    assert "请输入" in problem.message


def test_a_500_character_query_is_cut_and_answered_quickly(index: GuideIndex) -> None:
    query = ("我想开个奶茶店，" * 80)[:500]
    started = time.perf_counter()
    result = index.search(query)
    elapsed = time.perf_counter() - started
    assert result.truncated
    assert len(result.query) == MAX_QUERY_CHARS
    assert result.hits[0].code == "YJS-RESTAURANT"
    assert elapsed < 0.5


def test_500_characters_of_noise_do_not_crash(index: GuideIndex) -> None:
    noise = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(500))
    result = index.search(noise)
    assert result.truncated
    assert len(result.hits) <= 10


def test_an_english_question_gets_a_sensible_answer(index: GuideIndex) -> None:
    result = index.search("How do I apply for a passport?")
    assert result.hits[0].code == "410724-GAJ-XK-001"


def test_an_english_question_outside_the_catalog_gets_no_good_answer(index: GuideIndex) -> None:
    result = index.search("what is the meaning of life")
    assert not result.good


def test_a_question_outside_the_catalog_is_not_good_and_says_so(index: GuideIndex) -> None:
    result = index.search("今天天气怎么样")
    assert not result.good
    assert result.hits == ()


def test_a_vague_question_is_not_good_and_offers_did_you_mean(index: GuideIndex) -> None:
    result = index.search("办证")
    assert not result.good
    assert result.did_you_mean
    assert all(isinstance(s, str) and s for s in result.did_you_mean)


def test_a_qualifier_alone_is_not_a_good_answer(index: GuideIndex) -> None:
    assert not index.search("电脑坏了").good


def test_pinyin_typed_without_switching_the_input_method(index: GuideIndex) -> None:
    result = index.search("shebaoka")
    assert result.corrected_query == "社保卡"
    assert result.hits[0].code == "410724-RSJ-GG-001"


def test_full_width_and_punctuation_are_harmless(index: GuideIndex) -> None:
    assert index.search("？？？！！").hits == ()
    assert top_codes(index, "ＡＢＣ　身份证　过期", 1) == ["410724-GAJ-QR-002"]


def test_the_limit_caps_the_hits(index: GuideIndex) -> None:
    assert len(index.search("证明", limit=2).hits) <= 2
    assert len(index.search("证明", limit=0).hits) <= 1
