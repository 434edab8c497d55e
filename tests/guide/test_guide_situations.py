"""Situations: colloquial descriptions of items and bundles, each a passage vector of its document."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.orm import Session
from tests.guide.conftest import FakeEncoder

from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.guide import semantic, service
from onewindow.guide.documents import GuideDocument
from onewindow.guide.models import GuideSynonyms
from onewindow.guide.semantic import SemanticIndex, passage_texts
from onewindow.guide.synonyms import check_synonyms, load_default_synonyms

ADMIN = Actor(id=None, label="测试管理员")
ITEM = GuideDocument(kind="item", code="410724-MZJ-QR-001", name="婚姻登记（结婚登记）")
OTHER = GuideDocument(kind="item", code="410724-MZJ-QR-002", name="婚姻登记（离婚登记）")


def test_a_document_s_passages_are_its_catalog_passage_then_each_situation_once() -> None:
    texts = passage_texts(ITEM, (), ["我们俩要领证", " 我们俩要领证 ", "", "去民政局登记"])
    assert texts == [semantic.passage_text(ITEM), "我们俩要领证", "去民政局登记"]


def test_a_document_is_as_close_as_its_closest_passage() -> None:
    situations = {ITEM.code: ["我们俩要领证", "去民政局登记"], OTHER.code: ["两口子过不下去了"]}
    dense, fresh = SemanticIndex.build([ITEM, OTHER], encoder=FakeEncoder(), situations=situations)
    assert dense.passages == 5 and len(fresh) == 5
    similarities = dense.similarities("去民政局登记")  # the fake model: the same text is the same vector
    assert similarities[0] == pytest.approx(1.0)
    assert similarities[1] < 0.5
    assert dense.similarities("两口子过不下去了")[1] == pytest.approx(1.0)


def test_a_situation_shared_by_two_documents_is_encoded_once() -> None:
    fake = FakeEncoder()
    SemanticIndex.build([ITEM, OTHER], encoder=fake, situations={ITEM.code: ["去民政局"], OTHER.code: ["去民政局"]})
    assert fake.encoded.count("去民政局") == 1


def test_passages_must_follow_their_documents() -> None:
    vectors = np.zeros((3, semantic.DIMENSION), dtype=np.float32)
    with pytest.raises(ValueError, match="passages"):
        SemanticIndex(["A-1", "A-2"], vectors, FakeEncoder(), owners=[1, 0, 1])
    with pytest.raises(ValueError, match="passages"):
        SemanticIndex(["A-1", "A-2"], vectors, FakeEncoder(), owners=[0, 0, 0])


def test_a_situation_is_keyed_by_a_code_and_kept_short() -> None:
    problems = check_synonyms({"situations": {"结婚": ["我们俩要领证"], "410724-MZJ-QR-001": ["很" * 81]}})
    assert {p.code for p in problems} == {"not_a_code", "situation_too_long"}
    assert check_synonyms({"situations": {"YJS-NEWBORN": ["家里添了个宝宝"]}}) == []


def test_the_shipped_situations_describe_every_item_and_bundle_of_the_reference_catalog(
        reference_docs: list[GuideDocument]) -> None:
    situations = load_default_synonyms()["situations"]
    assert set(situations) == {d.code for d in reference_docs}
    assert all(len(texts) >= 3 for texts in situations.values())
    assert check_synonyms(load_default_synonyms()) == []


def test_a_mapped_question_becomes_a_situation_of_its_answer() -> None:
    merged = service.merge_learned({"situations": {ITEM.code: ["我们俩要领证"]}},
                                   [("想跟对象把证扯了", ITEM.code, "item")], names={ITEM.code: ITEM.name})
    assert merged["situations"][ITEM.code] == ["我们俩要领证", "想跟对象把证扯了"]
    assert merged["terms"]["想跟对象把证扯了"] == [ITEM.name]


def test_a_map_saved_before_situations_existed_keeps_the_shipped_ones(session: Session, clock: FixedClock) -> None:
    old = {k: v for k, v in load_default_synonyms().items() if k != "situations"}
    session.add(GuideSynonyms(id=1, data=old, updated_at=clock.now(), updated_by="旧版本"))
    session.flush()
    assert service.synonyms_in_force(session)["situations"] == load_default_synonyms()["situations"]

    edited = load_default_synonyms()
    edited["situations"] = {"YJS-NEWBORN": ["家里添了个宝宝"]}
    service.save_synonyms(session, clock=clock, actor=ADMIN, data=edited)
    assert service.synonyms_in_force(session)["situations"] == {"YJS-NEWBORN": ["家里添了个宝宝"]}


def test_an_edited_situation_costs_one_encode(session: Session, clock: FixedClock,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "_memo", {})
    fake = FakeEncoder()
    service.build_search(session, clock=clock, encoder=fake)
    fake.encoded.clear()
    synonyms = service.synonyms_in_force(session)
    synonyms["situations"]["YJS-NEWBORN"] = [*synonyms["situations"]["YJS-NEWBORN"], "家里添丁了"]
    service.save_synonyms(session, clock=clock, actor=ADMIN, data=synonyms)
    built = service.build_search(session, clock=clock, encoder=fake, inline_limit=service.INLINE_ENCODE_LIMIT)
    assert built.semantic
    assert fake.encoded == ["家里添丁了"]
