"""智能导办 search: turn a colloquial question into ranked service items and bundles.

Pure module (standard library, jieba, opencc, pypinyin): build a :class:`GuideIndex` once from
:class:`~onewindow.guide.documents.GuideDocument` objects and a synonym map, then call
:meth:`GuideIndex.search` from any thread.

How a question is understood, in order:

1. normalised: traditional → simplified (OpenCC ``t2s``), full-width → half-width, lower case,
   cut to :data:`MAX_QUERY_CHARS` characters;
2. typos corrected: a 2–4 character window that is not a known word but sounds like a catalog
   word (same toneless pinyin, with the usual fuzzy pairs zh/z, ch/c, sh/s, n/l, -ng/-n) and shares
   a character with it is replaced by that word ("户扣" → "户口"); a latin word spelling the pinyin of
   a catalog word is read as that word ("hukou" → "户口");
3. expanded: every colloquial term of the synonym map found in the question adds its catalog terms
   with a lower weight (more for the last words of the question, where the ask usually is);
   qualifiers ("丢了" → 补领) add theirs but only lift documents already about the right thing;
   every life-event trigger boosts its bundles;
4. scored: a field-weighted BM25-like sum over words (jieba with a domain dictionary built from
   the catalog), character bigrams and single characters, with document frequencies that count
   only prominent mentions; plus bonuses for whole names and keywords, or three or more of their
   characters, said word for word; an item whose name carries an action ("变更", "注销", "补领")
   the question does not ask for is lowered. Bundles whose life event is named get a boost that
   shrinks when the rest of the question points at one specific item, grows when the question asks
   for everything ("要办哪些"), and never lifts a bundle above a member item named outright.

``good`` means the best hit scored well, on a word that names the need (not only a qualifier),
and is not tied with two or more others; otherwise ``did_you_mean`` offers the corrected question
and the names of the closest items.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import jieba
from opencc import OpenCC
from pypinyin import lazy_pinyin

from onewindow.core.errors import Problem, ValidationFailed
from onewindow.guide.documents import DocumentKind, GuideDocument
from onewindow.guide.synonyms import normalize_synonyms

MAX_QUERY_CHARS = 100
DEFAULT_LIMIT = 10
EMPTY_QUERY_MESSAGE = "请输入要办理的事情，例如“孩子出生要办什么”“开饭店”“二手房过户”"

# Field weights: how much a word found in that part of a document says about it.
_FIELD_WEIGHTS = {
    "name": 3.0, "keywords": 2.6, "description": 1.3, "department": 0.8,
    "members": 0.6, "categories": 0.5, "conditions": 0.4, "materials": 0.4,
}
# Feature kinds: whole words say more than character bigrams, which say more than single characters.
_WORD, _BIGRAM, _CHAR = 1.0, 0.55, 0.2
_SATURATION = 3.0
_EXPANSION_WEIGHT = 0.6
_QUALIFIER_WEIGHT = 0.5
_FOCUS_WEIGHT = 1.35
_SPAN_BONUS = 2.5
_QUALIFIER_GATE = 0.6
_CORRECTION_WEIGHT = 0.95
_PHRASE_BONUS = 6.0
_EXPANSION_PHRASE_BONUS = 3.0
_LIFE_EVENT_BOOST = 14.0
_BUNDLE_CUE_BOOST = 6.0
_CUE_EVENT_EXTRA = 0.75
_BUNDLE_CONTENT_FACTOR = 0.8
_SPECIFIC_ITEM_SCORE = 8.0
_ACTION_MISMATCH = 0.85
_GOOD_SCORE = 12.0
_AMBIGUOUS_TIES = 3
_MIN_RELATIVE = 0.2
# Words in an item name that make it one specific action on a thing ("个体工商户变更登记"); when the
# question expresses none of them, the plain item ("个体工商户设立登记") should come first.
_ACTION_MARKERS = ("变更", "注销", "补领", "补发", "换领", "换发", "迁移")
_ENDING_ACTIONS = frozenset({"注销", "变更"})
# Hybrid fusion, score-normalised (tuned on the first half of bench/guide-colloquial-tuning-2026-12-05.tsv,
# checked on its second half and on the older tuning sets; see docs/guide.md). The model's evidence for a
# document is its cosine above the question's mean over all documents, as a share of the best one's,
# squared (the model's first choice counts much more than its fifth). It is added in units of the
# question's best lexical score (never less than _LEXICAL_REFERENCE, so a weak lexical match does not
# make the model's share small), times _DENSE_SHARE: with the model sure, its first choice gains one
# and a half times the lexical winner's score. Questions the model finds equally unlike everything
# (the best is less than _DENSE_FLOOR above the mean: weather, jokes) get nothing; the share ramps up
# to full at _DENSE_FLOOR + _DENSE_RAMP. A document found by meaning alone is listed only when it
# gains at least _DENSE_LISTED units (the model's clear first choices, and only when it is fairly sure).
_DENSE_SHARE = 1.5
_DENSE_POWER = 2.0
_LEXICAL_REFERENCE = 20.0
_DENSE_FLOOR = 0.03
_DENSE_RAMP = 0.01
_DENSE_LISTED = 1.2
# The model alone makes an answer good when the best document stands this far above the mean.
_DENSE_SURE = 0.05

# Function words and generic request words: they separate content runs and never match.
_STOPWORD_TEXT = """
怎么 怎么办 怎么样 怎样 如何 咋 咋办 咋弄 什么 啥 哪些 哪里 哪儿 哪 在哪 在哪里 在哪儿 去哪 去哪里 去哪儿 哪个
需要 需 要 想 想要 我 我们 你 你们 您 他 她 它 他们 俺 咱 咱们 自己 家 我家 家里 俺家
了 的 地 得 吗 呢 啊 呀 吧 嘛 么 哦 哈 啦 喔 嗯 能 能不能 可以 可不可以 可否 是否 是不是 请问 请 你好 您好 谢谢
一下 一个 个 一些 些 有 有没有 没有 是 在 和 与 及 或 或者 还 还是 都 就 也 把 给 被 让 对 从 又 该 应该 应当
多久 多长时间 多少 几 几个 几天 办 办理 弄 搞 手续 流程 带 准备 相关 事 事情 东西 刚 刚刚 已经 马上 现在
这 那 这个 那个 这种 那种 时候 之后 以后 后 然后 所以 因为 但是 不 没 会 去 来 跑 找 问 咨询 一次 一起
的话 得 着 过 呗 呐 么样 啥样 咋样 多 好 行 如果 要是 打算 准备 the a an to of for in on how do i my what
申请 申办 领取 is are can where get need want with and or apply
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Questions that ask for everything to do, not for one permit: "要办什么" but not "要办什么证".
_BUNDLE_CUES = re.compile(r"(办|做|准备|跑)(什么|哪些|啥)(?!证|许可|执照|卡)|哪些手续|什么手续|哪些事|哪些证"
                          r"|一件事|一次办|一起办|哪些部门|几个部门|全套|都要办")
# Questions that ask for one document: "要开什么证明", "开个证明".
_ITEM_CUES = re.compile(r"(开|出|要|办)(个|张|一个|一张|什么|啥|哪个)?[\u4e00-\u9fff]{0,4}证明")

# Particles never start a typo; other one-character stopwords ("找", "办") may be one ("办护找").
_PARTICLES = frozenset("了的地得吗呢啊呀吧嘛么哦哈啦喔嗯着过呗呐")

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9]*")
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_base_dictionary: tuple[dict[str, int], int] | None = None
_converter: OpenCC | None = None


@dataclass(frozen=True)
class SearchHit:
    """One ranked item or bundle, with the words of the question that led to it."""

    kind: DocumentKind
    code: str
    name: str
    score: float
    reasons: tuple[str, ...]
    department: str = ""
    summary: str = ""
    member_codes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON shape for the API."""
        return {"kind": self.kind, "code": self.code, "name": self.name, "score": self.score,
                "reasons": list(self.reasons), "department": self.department, "summary": self.summary,
                "member_codes": list(self.member_codes)}


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits of one question; ``good`` says whether the best hit is a confident answer."""

    query: str
    normalized_query: str
    hits: tuple[SearchHit, ...]
    good: bool
    did_you_mean: tuple[str, ...] = ()
    corrected_query: str | None = None
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON shape for the API."""
        return {"query": self.query, "normalized_query": self.normalized_query,
                "hits": [h.as_dict() for h in self.hits], "good": self.good,
                "did_you_mean": list(self.did_you_mean), "corrected_query": self.corrected_query,
                "truncated": self.truncated}


@dataclass
class _Term:
    surface: str
    weight: float
    features: set[str] = field(default_factory=set)
    qualifier: bool = False


@dataclass
class _Doc:
    doc: GuideDocument
    features: dict[str, float]
    phrases: tuple[str, ...]
    name: str
    actions: frozenset[str]
    phrase_text: str


@dataclass
class _Query:
    text: str
    corrections: list[tuple[str, str]]
    terms: list[_Term] = field(default_factory=list)
    topical: set[str] = field(default_factory=set)
    expansions: list[str] = field(default_factory=list)
    boosted: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    weights: dict[str, float] = field(default_factory=dict)
    qual_expansions: list[str] = field(default_factory=list)
    qual_weights: dict[str, float] = field(default_factory=dict)
    actions: frozenset[str] = frozenset()
    spans: frozenset[str] = frozenset()
    cue: bool = False
    single: bool = False


# --------------------------------------------------------------------------------------------- text


def _opencc() -> OpenCC:
    global _converter  # noqa: PLW0603 - one converter, built lazily, read-only afterwards
    if _converter is None:
        with _lock:
            if _converter is None:
                _converter = OpenCC("t2s")
    return _converter


def normalize_text(text: str) -> str:
    """Simplified characters, half-width forms, lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _opencc().convert(text)
    return " ".join(text.lower().split())


def _is_stop(token: str) -> bool:
    return token in _STOPWORDS or not any(ch.isalnum() for ch in token)


@lru_cache(maxsize=8192)
def _char_pinyin(ch: str) -> str:
    return lazy_pinyin(ch)[0]


def _fuzzy(syllable: str) -> str:
    for long, short in _FUZZY_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long):]
            break
    return syllable[:-1] if syllable.endswith("ng") else syllable


def _pinyin_keys(word: str) -> tuple[str, str]:
    syllables = lazy_pinyin(word)
    chars = [_char_pinyin(ch) for ch in word]
    return " ".join(_fuzzy(s) for s in syllables), " ".join(_fuzzy(s) for s in chars)


# ------------------------------------------------------------------------------------------- jieba


def _new_tokenizer(words: Iterable[str]) -> Any:
    """A private jieba tokenizer: the default dictionary (loaded once per process) plus ``words``."""
    global _base_dictionary  # noqa: PLW0603 - the general dictionary is shared read-only
    with _lock:
        if _base_dictionary is None:
            jieba.setLogLevel(logging.WARNING)
            base = jieba.Tokenizer()
            base.initialize()
            _base_dictionary = (base.FREQ, base.total)
        freq, total = _base_dictionary
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = dict(freq)
    tokenizer.total = total
    tokenizer.initialized = True
    for word in words:
        if len(word) >= 2 and _CJK.search(word) and tokenizer.FREQ.get(word, 0) < 2000:
            tokenizer.add_word(word, 2000)
    return tokenizer


# ------------------------------------------------------------------------------------------ fusion


class DenseScorer(Protocol):
    """Semantic similarities of a question to every document, in the index's document order."""

    codes: tuple[str, ...]

    def similarities(self, query: str) -> list[float]:
        """Cosine similarity per document."""
        ...


@dataclass(frozen=True)
class Fused:
    """Lexical and semantic evidence combined: the ranking score and the semantic part of it.

    ``unit`` is the lexical scale of the question (its best lexical score, at least
    ``_LEXICAL_REFERENCE``); the model's first choice gains ``full`` = ``_DENSE_SHARE`` units when
    the model is confident.
    """

    scores: list[float]
    dense: list[float]
    sure: bool
    unit: float = _LEXICAL_REFERENCE
    full: float = 0.0


def fuse(lexical: Sequence[float], similarities: Sequence[float]) -> Fused:
    """Add each document's semantic points (0 to ``_DENSE_SHARE`` lexical units) to its lexical score."""
    n = len(similarities)
    if n == 0 or n != len(lexical):
        return Fused(list(lexical), [0.0] * len(lexical), sure=False)
    unit = max(*lexical, _LEXICAL_REFERENCE)
    mean = sum(similarities) / n
    top = max(similarities)
    spread = top - mean
    gate = min(1.0, max(0.0, (spread - _DENSE_FLOOR) / _DENSE_RAMP))
    if gate <= 0.0:
        return Fused(list(lexical), [0.0] * n, sure=False, unit=unit)
    full = _DENSE_SHARE * unit * gate
    dense = [full * max(0.0, (s - mean) / spread) ** _DENSE_POWER for s in similarities]
    return Fused([lex + d for lex, d in zip(lexical, dense, strict=True)], dense, sure=spread >= _DENSE_SURE,
                 unit=unit, full=full)


# ------------------------------------------------------------------------------------------- index


class GuideIndex:
    """Search index over items and bundles; build once at start-up, then search from any thread."""

    def __init__(self, docs: list[_Doc], tokenizer: Any, idf: dict[str, float],
                 terms: dict[str, list[str]], qualifiers: dict[str, list[str]], events: dict[str, list[str]],
                 vocabulary: frozenset[str], pinyin_index: dict[str, list[str]],
                 latin_index: dict[str, str], general_freq: Mapping[str, int]) -> None:
        self._docs = docs
        self._tokenizer = tokenizer
        self._idf = idf
        self._terms = terms
        self._qualifiers = qualifiers
        self._events = events
        self._vocabulary = vocabulary
        self._pinyin_index = pinyin_index
        self._latin_index = latin_index
        self._general_freq = general_freq
        self._codes = tuple(d.doc.code for d in docs)
        self._bundle_positions = {d.doc.code: i for i, d in enumerate(docs) if d.doc.kind == "bundle"}
        self._patterns = {key: _phrase_pattern(key) for key in (*terms, *qualifiers, *events)}

    @property
    def codes(self) -> tuple[str, ...]:
        """Document codes in index order (a semantic index must follow the same order)."""
        return self._codes

    def documents(self) -> list[tuple[str, str, DocumentKind]]:
        """(code, name, kind) of every searchable document, in index order."""
        return [(d.doc.code, d.doc.name, d.doc.kind) for d in self._docs]

    @property
    def size(self) -> int:
        """Number of searchable documents."""
        return len(self._docs)

    @classmethod
    def build(cls, docs: Sequence[GuideDocument], synonyms: Mapping[str, Any] | None = None) -> GuideIndex:
        """Index ``docs`` with the synonym map (the shipped default is the caller's choice to pass)."""
        synonym_map = normalize_synonyms(synonyms)
        terms = {normalize_text(k): [normalize_text(t) for t in v] for k, v in synonym_map["terms"].items()}
        qualifiers = {normalize_text(k): [normalize_text(t) for t in v]
                      for k, v in synonym_map["qualifiers"].items()}
        events = {normalize_text(k): v for k, v in synonym_map["life_events"].items()}

        domain_words: set[str] = set()
        for doc in docs:
            domain_words.update(normalize_text(k) for k in doc.keywords)
            domain_words.update(normalize_text(a) for a in doc.department_aliases)
        for key, targets in (*terms.items(), *qualifiers.items()):
            domain_words.add(key)
            domain_words.update(targets)
        domain_words.update(events)
        domain_words = {w for w in domain_words if 2 <= len(w) <= 8 and _CJK.search(w)}
        tokenizer = _new_tokenizer(sorted(domain_words))

        index_docs: list[_Doc] = []
        vocabulary = set(domain_words)
        for doc in docs:
            fields: dict[str, list[str]] = {
                "name": [doc.name], "keywords": list(doc.keywords),
                "description": [doc.description], "department": [doc.department, *doc.department_aliases],
                "members": list(doc.member_names), "categories": list(doc.categories),
                "conditions": [doc.conditions], "materials": list(doc.materials),
            }
            collected: dict[str, list[float]] = defaultdict(list)
            for field_name, texts in fields.items():
                weight = _FIELD_WEIGHTS[field_name]
                seen: set[str] = set()
                for text in texts:
                    for feature, kind_weight in _text_features(tokenizer, normalize_text(text)).items():
                        if feature not in seen:
                            seen.add(feature)
                            collected[feature].append(weight * kind_weight)
            features = {f: max(ws) + 0.25 * (sum(ws) - max(ws)) for f, ws in collected.items()}
            name = normalize_text(doc.name)
            phrases = tuple(sorted({p for p in (name, *(normalize_text(k) for k in doc.keywords)) if len(p) >= 2}))
            actions = frozenset(m for m in _ACTION_MARKERS if m in name) if doc.kind == "item" else frozenset()
            index_docs.append(_Doc(doc, features, phrases, name, actions, "|".join(phrases)))
            for word in tokenizer.cut_for_search(name):
                if len(word) >= 2 and _CJK.search(word):
                    vocabulary.add(word)
        # Sound-alike targets also include the parts of catalog words ("营业" of "营业执照").
        sound_targets = set(vocabulary)
        for phrase in vocabulary:
            for word in tokenizer.cut_for_search(phrase):
                if len(word) >= 2 and _CJK.search(word):
                    sound_targets.add(word)

        # Document frequency counts a document fully only where the word is prominent (name,
        # keywords, description): "身份证" is a material of nearly every item, yet it is what
        # "身份证掉了" is about, so passing mentions must not make it a worthless word.
        df: dict[str, float] = defaultdict(float)
        for d in index_docs:
            for feature, v in d.features.items():
                df[feature] += min(1.0, v / (_FIELD_WEIGHTS["description"] * _feature_kind(feature))) ** 2
        n = len(index_docs)
        idf = {f: math.log(1 + (n - c + 0.5) / (c + 0.5)) for f, c in df.items()}

        pinyin_index: dict[str, list[str]] = defaultdict(list)
        latin_index: dict[str, str] = {}
        for word in sorted(sound_targets):
            if 2 <= len(word) <= 4 and all(_CJK.match(ch) for ch in word):
                for key in set(_pinyin_keys(word)):
                    pinyin_index[f"{len(word)}:{key}"].append(word)
                latin_index.setdefault("".join(lazy_pinyin(word)), word)
        return cls(index_docs, tokenizer, idf, terms, qualifiers, events, frozenset(vocabulary),
                   dict(pinyin_index), latin_index, tokenizer.FREQ)

    # ------------------------------------------------------------------------------------- search

    def lexical_scores(self, query: str) -> tuple[str, str, bool, _Query, list[float]]:
        """The question (cut, normalised), its understanding and one lexical score per document."""
        if not isinstance(query, str) or not query.strip():
            raise ValidationFailed([Problem("q", "empty_query", EMPTY_QUERY_MESSAGE)])
        raw = query.strip()
        truncated = len(raw) > MAX_QUERY_CHARS
        raw = raw[:MAX_QUERY_CHARS]
        text = normalize_text(raw)
        if not text:
            raise ValidationFailed([Problem("q", "empty_query", EMPTY_QUERY_MESSAGE)])
        plan = self._understand(text)

        scores = [self._score(d, plan.weights, plan.text, plan.expansions, plan.actions, plan.spans)
                  for d in self._docs]
        if plan.qual_weights:
            # Qualifiers ("丢了", "过期") only refine: they lift documents about the right thing,
            # never a document that matches nothing but the qualifier ("补领婚姻登记证" for "执照丢了").
            best = max(scores, default=0.0)
            for i, d in enumerate(self._docs):
                extra = self._score(d, plan.qual_weights, "", plan.qual_expansions, plan.actions)
                scores[i] += extra * (min(1.0, scores[i] / (_QUALIFIER_GATE * best)) if best > 0 else 0.2)
        if plan.boosted:
            self._boost_bundles(scores, plan)
        if plan.cue:
            for pos in self._bundle_positions.values():
                if scores[pos] > 0:
                    scores[pos] += _BUNDLE_CUE_BOOST
        return raw, text, truncated, plan, scores

    def search(self, query: str, limit: int = DEFAULT_LIMIT, dense: DenseScorer | None = None) -> SearchResult:
        """Ranked items and bundles for a question; raises ``ValidationFailed`` for a blank one.

        With ``dense`` (the semantic index over the same documents) the lexical scores are fused
        with the question's cosine similarities (:func:`fuse`); without it the search is lexical.
        """
        raw, text, truncated, plan, scores = self.lexical_scores(query)
        lexical = scores
        fused: Fused | None = None
        if dense is not None:
            if dense.codes != self.codes:
                raise ValueError("the semantic index covers other documents")
            fused = fuse(lexical, dense.similarities(plan.text))  # simplified, typos corrected
            scores = fused.scores
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], self._docs[i].doc.code))
        top = scores[ranked[0]] if ranked else 0.0
        hits: list[SearchHit] = []
        for i in ranked:
            if scores[i] <= 0 or scores[i] < top * _MIN_RELATIVE or len(hits) >= max(1, limit):
                break
            if fused is not None and lexical[i] <= 0 and fused.dense[i] < fused.unit * _DENSE_LISTED:
                continue  # found by meaning alone, but only faintly: not worth listing
            hits.append(self._hit(self._docs[i], scores[i], plan))
        ties = sum(1 for s in scores if top > 0 and s >= top * 0.98)
        # The model's points count toward the score rule only once it is past its ramp: a vague question
        # ("办证") that the model half recognises is not made a good answer by those few points.
        evidence = top if fused is None or fused.full >= _DENSE_SHARE * fused.unit * (1 - 1e-9) else (
            lexical[ranked[0]] if ranked else 0.0)
        good = (bool(hits) and evidence >= _GOOD_SCORE and ties < _AMBIGUOUS_TIES
                and any(r in plan.topical for r in hits[0].reasons))
        if not good and fused is not None and fused.sure and hits:
            good = fused.dense[ranked[0]] >= fused.full * (1 - 1e-9) and ties < _AMBIGUOUS_TIES
        corrected_query = plan.text if plan.corrections else None
        did_you_mean: list[str] = []
        if not good:
            if corrected_query:
                did_you_mean.append(corrected_query)
            did_you_mean.extend(h.name for h in hits[:3] if h.name not in did_you_mean)
        return SearchResult(query=raw, normalized_query=text, hits=tuple(hits), good=good,
                            did_you_mean=tuple(did_you_mean), corrected_query=corrected_query,
                            truncated=truncated)

    def _understand(self, text: str) -> _Query:
        """Correct, segment and expand a normalised question."""
        corrected, corrections = self._correct(text)
        plan = _Query(text=corrected, corrections=corrections)
        plan.terms.extend(self._query_terms(corrected, 1.0, focus=True))
        for _wrong, right in corrections:
            plan.terms.extend(self._query_terms(right, _CORRECTION_WEIGHT, surface=right))
        qualifier_keys = [k for k in self._qualifiers if self._patterns[k].search(corrected)]
        for term in plan.terms:
            if any(term.surface in key for key in qualifier_keys):
                term.qualifier = True
        plan.topical.update(t.surface for t in plan.terms if not t.qualifier)
        runs = _content_runs(self._tokenizer, corrected)
        focus_from = corrected.rfind(runs[-1]) if len(runs) > 1 else len(corrected) + 1
        for section, weight in ((self._terms, _EXPANSION_WEIGHT), (self._qualifiers, _QUALIFIER_WEIGHT)):
            for key, targets in section.items():
                match = self._patterns[key].search(corrected)
                if not match:
                    continue
                # A word with many readings spreads its weight over them.
                key_weight = weight / math.sqrt(len(targets))
                if match.end() > focus_from:
                    key_weight *= _FOCUS_WEIGHT
                qualifier = section is self._qualifiers
                for target in targets:
                    (plan.qual_expansions if qualifier else plan.expansions).append(target)
                    new_terms = self._query_terms(target, key_weight, surface=target)
                    for term in new_terms:
                        term.qualifier = qualifier
                    plan.terms.extend(new_terms)
                    if not qualifier:
                        plan.topical.update(t.surface for t in new_terms)
        for trigger, targets in self._events.items():
            if self._patterns[trigger].search(corrected):
                plan.topical.add(trigger)
                for target in targets:
                    if target in self._bundle_positions:
                        plan.boosted[target].append(trigger)
                    else:
                        plan.expansions.append(target)
                        new_terms = self._query_terms(target, _EXPANSION_WEIGHT, surface=target)
                        plan.terms.extend(new_terms)
                        plan.topical.update(t.surface for t in new_terms)
        for term in plan.terms:
            weights = plan.qual_weights if term.qualifier else plan.weights
            for feature in term.features:
                weights[feature] = max(weights.get(feature, 0.0), term.weight * _feature_kind(feature))
        for feature in list(plan.qual_weights):
            if feature in plan.weights:
                del plan.qual_weights[feature]
        for feature, w in self._boundary_bigrams(corrected).items():
            plan.weights[feature] = max(plan.weights.get(feature, 0.0), w)
        expressed = " ".join((corrected, *plan.expansions, *plan.qual_expansions))
        plan.actions = frozenset(m for m in _ACTION_MARKERS if m in expressed)
        plan.spans = frozenset(run[i:i + n] for run in runs for n in range(3, min(len(run), 8) + 1)
                               for i in range(len(run) - n + 1) if all(_CJK.match(ch) for ch in run[i:i + n]))
        plan.cue = bool(_BUNDLE_CUES.search(corrected))
        plan.single = not plan.cue and bool(_ITEM_CUES.search(corrected))
        return plan

    def _score(self, d: _Doc, weights: Mapping[str, float], text: str, expansions: Sequence[str],
               actions: frozenset[str] | None, spans: Iterable[str] = ()) -> float:
        score = 0.0
        for feature, qw in weights.items():
            v = d.features.get(feature)
            if v:
                score += qw * self._idf[feature] * v * (1 + _SATURATION) / (v + _SATURATION)
        if score <= 0:
            return 0.0
        longest = 0
        for phrase in d.phrases:
            if phrase in text:
                score += _PHRASE_BONUS * min(len(phrase), 6) / 4
                longest = max(longest, len(phrase))
        # Part of a name or keyword said word for word ("生育保险报销", "排水许可吗").
        span = max((len(sp) for sp in spans if len(sp) > longest and sp in d.phrase_text), default=0)
        if span:
            score += _SPAN_BONUS * (min(span, 6) - 2)
        for target in dict.fromkeys(expansions):
            if len(target) >= 2 and (target in d.name or target in d.phrases):
                score += _EXPANSION_PHRASE_BONUS * min(len(target), 6) / 4
        if d.doc.kind == "bundle":
            score *= _BUNDLE_CONTENT_FACTOR
        elif actions is not None:
            # "个体户执照" is the plain registration, "不想干个体户了" its cancellation.
            unasked = bool(d.actions) and not d.actions & actions
            not_offered = bool(actions & _ENDING_ACTIONS) and not d.actions & _ENDING_ACTIONS
            if unasked or not_offered:
                score *= _ACTION_MISMATCH
        return score

    def _boost_bundles(self, scores: list[float], plan: _Query) -> None:
        """Boost named life events, less when the rest of the question is about one specific item."""
        for code, triggers in plan.boosted.items():
            rest = plan.text
            for trigger in sorted(triggers, key=len, reverse=True):
                rest = rest.replace(trigger, " ")
            rest_weights: dict[str, float] = {}
            for term in self._query_terms(rest, 1.0):
                for feature in term.features:
                    rest_weights[feature] = max(rest_weights.get(feature, 0.0), _feature_kind(feature))
            # Specific means one item stands out for the rest of the question ("挂个大招牌"), not
            # that many share a broad word ("社保").
            specific = 0.0
            if rest_weights:
                rest_scores = sorted((self._score(d, rest_weights, rest, (), None) for d in self._docs
                                      if d.doc.kind == "item"), reverse=True)
                specific = rest_scores[0] - (rest_scores[1] if len(rest_scores) > 1 else 0.0)
            factor = 1.0 if specific <= _SPECIFIC_ITEM_SCORE else max(
                0.3, 1.0 - 0.7 * (specific - _SPECIFIC_ITEM_SCORE) / _SPECIFIC_ITEM_SCORE)
            # An item named outright ("创业补贴", "上户口") beats the life event it belongs to.
            named_items = {d.doc.code for d in self._docs if d.doc.kind == "item" and any(
                span in d.phrase_text for span in plan.spans if not any(span in t or t in span for t in triggers))}
            named = bool(named_items)
            if named or plan.single:
                factor = min(factor, 0.3)
            if plan.cue:  # "开饭店要办哪些证": everything for this life event, which is the bundle
                factor = 1.0 + _CUE_EVENT_EXTRA
            _log.debug("life event %s %s: specific %.1f named %s single %s factor %.2f",
                       code, triggers, specific, named, plan.single, factor)
            pos = self._bundle_positions[code]
            scores[pos] += _LIFE_EVENT_BOOST * factor
            named_members = named_items & set(self._docs[pos].doc.member_codes)
            if named_members and not plan.cue:
                best_member = max(scores[i] for i, d in enumerate(self._docs) if d.doc.code in named_members)
                scores[pos] = min(scores[pos], best_member * 0.97)

    def _hit(self, d: _Doc, score: float, plan: _Query) -> SearchHit:
        found: list[str] = list(dict.fromkeys(t for code_triggers in (plan.boosted.get(d.doc.code, []),)
                                              for t in code_triggers))
        for term in plan.terms:
            if term.surface in found:
                continue
            if any(f in d.features and (f.startswith("w|") or len(term.surface) <= 2) for f in term.features):
                found.append(term.surface)
        reasons = [r for r in found if not any(r != other and r in other for other in found)]
        doc = d.doc
        return SearchHit(kind=doc.kind, code=doc.code, name=doc.name, score=round(score, 3),
                         reasons=tuple(reasons[:6]), department=doc.department, summary=doc.summary,
                         member_codes=doc.member_codes)

    # ---------------------------------------------------------------------------- query handling

    def _query_terms(self, text: str, weight: float, surface: str | None = None,
                     focus: bool = False) -> list[_Term]:
        terms: list[_Term] = []
        runs = _content_runs(self._tokenizer, text)
        for number, run in enumerate(runs, start=1):
            words = [w for w in self._tokenizer.cut_for_search(run) if not _is_stop(w.strip())]
            # The question is usually at the end ("二手房买卖要交哪些税"): its last words weigh more.
            run_weight = weight * _FOCUS_WEIGHT if focus and number == len(runs) > 1 else weight
            for word in dict.fromkeys(w.strip() for w in words):
                term = _Term(surface if surface is not None and len(words) == 1 else word, run_weight)
                term.features.update(_word_features(word))
                terms.append(term)
        return terms

    def _boundary_bigrams(self, text: str) -> dict[str, float]:
        features: dict[str, float] = {}
        for run in _content_runs(self._tokenizer, text):
            for a, b in itertools.pairwise(run):
                if _CJK.match(a) and _CJK.match(b):
                    features[f"b|{a}{b}"] = _BIGRAM
        return features

    def _correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """Replace sound-alike typos and pinyin spellings by catalog words."""
        corrections: list[tuple[str, str]] = []
        chars = list(text)
        n = len(chars)
        blocked = [False] * n  # inside a catalog word, or a function word: never rewritten
        for length in (8, 7, 6, 5, 4, 3, 2):
            for start in range(n - length + 1):
                if "".join(chars[start:start + length]) in self._vocabulary:
                    blocked[start:start + length] = [True] * length
        # Known words of the general dictionary may be swallowed whole by a window ("公鸡金") but
        # never cut in two ("满六十了" must not become "满六死了").
        spans: dict[int, tuple[int, int]] = {}
        pos = 0
        for token in self._tokenizer.cut(text, HMM=False):
            end = pos + len(token)
            if token in _PARTICLES or (len(token) >= 2 and _is_stop(token)):
                blocked[pos:end] = [True] * len(token)
            for k in range(pos, end):
                spans[k] = (pos, end)
            pos = end
        replaced: dict[int, tuple[int, str]] = {}
        taken = [False] * n
        for length in (4, 3, 2):
            for start in range(n - length + 1):
                end = start + length
                window = "".join(chars[start:end])
                if any(blocked[start:end]) or any(taken[start:end]):
                    continue
                if spans[start][0] != start or spans[end - 1][1] != end:
                    continue
                if not all(_CJK.match(ch) for ch in window) or window in self._vocabulary:
                    continue
                if self._general_freq.get(window, 0) > 0:  # a real word ("买药"), not a typo
                    continue
                best = self._sound_alike(window)
                if best:
                    replaced[start] = (end, best)
                    taken[start:end] = [True] * length
                    corrections.append((window, best))
        out: list[str] = []
        i = 0
        while i < len(chars):
            if i in replaced:
                end, word = replaced[i]
                out.append(word)
                i = end
            else:
                out.append(chars[i])
                i += 1
        corrected = "".join(out)
        for word in _LATIN_WORD.findall(corrected):
            if len(word) >= 4 and word in self._latin_index and not self._known_latin(word):
                target = self._latin_index[word]
                corrected = re.sub(rf"\b{word}\b", target, corrected)
                corrections.append((word, target))
        return corrected, corrections

    def _known_latin(self, word: str) -> bool:
        return any(self._patterns[k].search(word) for k in self._terms if k.isascii())

    def _sound_alike(self, window: str) -> str | None:
        keys = _pinyin_keys(window)
        candidates: list[str] = []
        for key in dict.fromkeys(keys):
            candidates.extend(self._pinyin_index.get(f"{len(window)}:{key}", ()))
        best: tuple[int, str] | None = None
        for word in dict.fromkeys(candidates):
            same = sum(1 for a, b in zip(word, window, strict=True) if a == b)
            differ = len(window) - same
            if same == 0 or differ == 0 or differ > max(1, len(window) // 2):
                continue
            if best is None or same > best[0]:
                best = (same, word)
        return best[1] if best else None


# ----------------------------------------------------------------------------------------- helpers


def _phrase_pattern(key: str) -> re.Pattern[str]:
    if key.isascii():
        return re.compile(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])")
    return re.compile(re.escape(key))


def _feature_kind(feature: str) -> float:
    return {"w": _WORD, "b": _BIGRAM, "c": _CHAR}[feature[0]]


def _word_features(word: str) -> set[str]:
    if len(word) == 1:
        return {f"c|{word}"} if _CJK.match(word) else set()
    features = {f"w|{word}"}
    features.update(f"b|{a}{b}" for a, b in itertools.pairwise(word)
                    if _CJK.match(a) and _CJK.match(b))
    return features


def _content_runs(tokenizer: Any, text: str) -> list[str]:
    """Maximal stretches of the text without function words or punctuation."""
    runs: list[str] = []
    current: list[str] = []
    for token in tokenizer.cut(text):
        stripped = token.strip()
        if not stripped or _is_stop(stripped):
            if current:
                runs.append("".join(current))
                current = []
            continue
        if current and stripped.isascii() != current[-1].isascii():
            runs.append("".join(current))
            current = []
        current.append(stripped if not stripped.isascii() else f"{stripped} ")
    if current:
        runs.append("".join(current))
    return [r.strip() for r in runs if r.strip()]


def _text_features(tokenizer: Any, text: str) -> dict[str, float]:
    features: dict[str, float] = {}
    for run in _content_runs(tokenizer, text):
        for raw_word in tokenizer.cut_for_search(run):
            word = raw_word.strip()
            if not word or _is_stop(word):
                continue
            if len(word) >= 2:
                features[f"w|{word}"] = _WORD
        for a, b in itertools.pairwise(run):
            if _CJK.match(a) and _CJK.match(b):
                features.setdefault(f"b|{a}{b}", _BIGRAM)
        for ch in run:
            if _CJK.match(ch):
                features.setdefault(f"c|{ch}", _CHAR)
    return features
