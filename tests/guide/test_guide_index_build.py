"""Building the index: documents from the catalog, editable synonyms, private jieba dictionaries."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest

from onewindow.core.errors import ValidationFailed
from onewindow.guide.cli import load_catalog_dict
from onewindow.guide.documents import documents_from_catalog
from onewindow.guide.search import GuideIndex
from onewindow.guide.synonyms import check_synonyms, load_default_synonyms, normalize_synonyms


def test_documents_cover_every_item_and_bundle_of_the_reference_catalog() -> None:
    catalog = load_catalog_dict()
    docs = documents_from_catalog(catalog)
    assert len(docs) == len(catalog["items"]) + len(catalog["bundles"])
    newborn = next(d for d in docs if d.code == "YJS-NEWBORN")
    assert newborn.kind == "bundle"
    assert "出生医学证明签发" in newborn.member_names
    item = next(d for d in docs if d.code == "410724-SCJG-XK-001")
    assert "开店" in item.keywords and item.department_aliases == ("市场监管",)


def test_retired_items_of_an_export_are_left_out() -> None:
    catalog = load_catalog_dict()
    catalog["retired_items"] = ["410724-SCJG-XK-001"]
    docs = documents_from_catalog(catalog)
    assert "410724-SCJG-XK-001" not in {d.code for d in docs}
    restaurant = next(d for d in docs if d.code == "YJS-RESTAURANT")
    assert "410724-SCJG-XK-001" not in restaurant.member_codes
    index = GuideIndex.build(docs, synonyms=load_default_synonyms())
    assert all(h.code != "410724-SCJG-XK-001" for h in index.search("个体工商户设立登记").hits)


def test_a_catalog_entry_without_a_code_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        documents_from_catalog({"items": [{"name": "无编码事项"}]})
    assert caught.value.problems[0].field == "items[0]"


def test_the_shipped_synonym_map_is_valid_for_the_reference_catalog() -> None:
    catalog = load_catalog_dict()
    codes = [b["code"] for b in catalog["bundles"]]
    assert check_synonyms(load_default_synonyms(), bundle_codes=codes) == []


@pytest.mark.parametrize("bad", [
    {"terms": []},
    {"terms": {"": ["x"]}},
    {"terms": {"新农合": []}},
    {"qualifiers": {"丢了": "补办"}},
])
def test_a_broken_synonym_map_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        normalize_synonyms(bad)


def test_an_unknown_bundle_code_in_a_life_event_is_reported() -> None:
    problems = check_synonyms({"life_events": {"生孩子": ["YJS-NOPE"]}}, bundle_codes=["YJS-NEWBORN"])
    assert [p.code for p in problems] == ["unknown_bundle"]


def test_an_admin_edit_of_the_synonyms_changes_the_answer() -> None:
    docs = documents_from_catalog(load_catalog_dict())
    plain = GuideIndex.build(docs, synonyms=None)
    edited = GuideIndex.build(docs, synonyms={"terms": {"小金库": ["住房公积金提取"]},
                                              "life_events": {"喜当爹": ["YJS-NEWBORN"]}})
    assert not plain.search("喜当爹").hits
    assert edited.search("喜当爹").hits[0].code == "YJS-NEWBORN"
    assert edited.search("小金库怎么取").hits[0].code.startswith("410724-GJJ-GG-00")


def test_two_indexes_keep_their_own_dictionaries() -> None:
    docs = documents_from_catalog(load_catalog_dict())
    first = GuideIndex.build(docs, synonyms={"terms": {"蓝本本": ["不动产权证书"]}})
    second = GuideIndex.build(docs[:5], synonyms=None)
    assert first.size == len(docs) and second.size == 5
    assert first.search("蓝本本丢了").hits[0].code == "410724-BDC-QR-007"
    assert all(h.code in {d.code for d in docs[:5]} for h in second.search("蓝本本丢了").hits)


def test_building_in_a_fresh_process_is_quiet_and_fast_enough_for_start_up() -> None:
    script = (
        "import time; t = time.process_time()  # CPU time: other work on the machine does not count\n"
        "from onewindow.guide.cli import load_catalog_dict\n"
        "from onewindow.guide.documents import documents_from_catalog\n"
        "from onewindow.guide.search import GuideIndex\n"
        "from onewindow.guide.synonyms import load_default_synonyms\n"
        "i = GuideIndex.build(documents_from_catalog(load_catalog_dict()), synonyms=load_default_synonyms())\n"
        "i.search('孩子刚出生要办什么')\n"
        "print(time.process_time() - t)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert float(done.stdout) < 10.0


def test_a_second_index_builds_fast() -> None:
    docs = documents_from_catalog(load_catalog_dict())
    GuideIndex.build(docs[:1], synonyms=None)
    started = time.process_time()  # CPU time, so a busy machine does not fail it
    GuideIndex.build(docs, synonyms=load_default_synonyms())
    assert time.process_time() - started < 3.0


def test_an_empty_catalog_gives_an_index_that_finds_nothing() -> None:
    index = GuideIndex.build([], synonyms=load_default_synonyms())
    result = index.search("孩子出生")
    assert result.hits == () and not result.good
