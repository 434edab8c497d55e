"""未诉先办: the subjects that keep coming back, so a center can fix a cause before the next complaint.

Pure (standard library and jieba; no database). The caller hands in the orders of the last two periods as plain
rows; :func:`recurring` groups them three ways, by service item, by department and by the words people use
(jieba keywords of the subject and the content, each word counted once per order), and sets the last
``days`` days (the current period, ending today) against the ``days`` before them (the previous period).

A group is *recurring* when it has at least ``min_count`` orders in the current period; it is *rising* when it has
more than in the previous period. Groups are listed by current count, then by growth, then by name, so the same
data always gives the same page.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import jieba

DEFAULT_DAYS = 30
DEFAULT_MIN_COUNT = 2
DEFAULT_TOP = 10
TEXT_LIMIT = 400  # characters of the content read per order: the words that matter come first

# Words every 诉求 uses, which say nothing about its subject.
STOPWORDS = frozenset({
    "问题", "反映", "反应", "市民", "群众", "来电", "来电人", "诉求", "诉求人", "希望", "要求", "请求",
    "相关", "部门", "单位", "处理", "解决", "情况", "进行", "表示", "称", "咨询", "投诉", "举报",
    "建议", "求助", "一个", "一下", "这个", "那个", "什么", "怎么", "为什么", "如何", "是否", "没有",
    "不是", "可以", "已经", "现在", "目前", "一直", "还是", "但是", "因为", "所以", "如果", "然后",
    "我们", "他们", "你们", "自己", "今天", "昨天", "明天", "时候", "工作", "人员", "工作人员", "有关",
    "给予", "尽快", "及时", "帮助", "协调", "核实", "回复", "答复", "办理", "县里", "政府", "12345",
    "一周", "几天", "多天", "一个月", "半年", "热线", "工单", "此事", "该事", "此事项", "无人", "至今",
    "多次", "长期", "经常", "存在", "导致", "造成", "影响", "严重", "附近", "周边", "小区", "位于",
    "地址", "本人", "家里", "家中",
})
_WORD = re.compile(r"^(?:[\u4e00-\u9fff]{2,}|[A-Za-z][A-Za-z0-9]{2,})$")
_lock = threading.Lock()
_tokenizer: Any = None


@dataclass(frozen=True, slots=True)
class InsightRow:
    """What the analysis reads of one order."""

    accepted_on: dt.date
    item_key: str | None  # the service item (code or name), None when the order names none
    department_key: str | None  # the lead department's name, None while undispatched
    subject: str
    content: str = ""


@dataclass(frozen=True, slots=True)
class Trend:
    """One group: its orders in the current and the previous period, and a few subjects as examples."""

    key: str
    current: int
    previous: int
    examples: tuple[str, ...] = ()

    @property
    def change(self) -> int:
        """Current minus previous."""
        return self.current - self.previous

    @property
    def rising(self) -> bool:
        """More orders than in the previous period."""
        return self.current > self.previous

    @property
    def change_text(self) -> str:
        """``+3`` / ``-1`` / ``持平`` / ``新出现``."""
        if self.previous == 0 and self.current > 0:
            return "新出现"
        if self.change == 0:
            return "持平"
        return f"{self.change:+d}"


@dataclass(frozen=True)
class Insight:
    """The three groupings over the two periods."""

    current_from: dt.date
    current_to: dt.date
    previous_from: dt.date
    previous_to: dt.date
    orders_current: int
    orders_previous: int
    items: list[Trend]
    departments: list[Trend]
    keywords: list[Trend]


def periods(today: dt.date, days: int = DEFAULT_DAYS) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(current from, current to, previous from, previous to): the last ``days`` days ending today, and the
    ``days`` before them."""
    current_from = today - dt.timedelta(days=days - 1)
    previous_to = current_from - dt.timedelta(days=1)
    return current_from, today, previous_to - dt.timedelta(days=days - 1), previous_to


def _jieba() -> Any:
    global _tokenizer  # noqa: PLW0603 - one tokenizer per process, built on first use
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _tokenizer = tokenizer
        return _tokenizer


def _parts(tokenizer: Any, word: str) -> tuple[str, ...]:
    """A compound (垃圾清运, 工作人员) split into the two dictionary words that make it up most likely, so that
    "垃圾清运" and "垃圾无人清运" both count for 垃圾 and 清运; () when no split is made of two known words."""
    freq = tokenizer.FREQ
    best: tuple[int, tuple[str, ...]] = (0, ())
    for cut in range(1, len(word)):
        head, tail = word[:cut], word[cut:]
        score = freq.get(head, 0) * freq.get(tail, 0)
        if score > best[0]:
            best = (score, (head, tail))
    return best[1]


def keywords(text: str) -> set[str]:
    """The words of a text that can name a subject: two or more Chinese characters (or a Latin word of three or
    more letters), not a stop word; a compound counts for itself and for the two words it is made of."""
    tokenizer = _jieba()
    found: set[str] = set()
    # HMM off: no guessed new words, so the same phrase splits the same way in every order
    for token in tokenizer.lcut(text, HMM=False):
        word = token.strip()
        if not _WORD.match(word):
            continue
        found.add(word)
        if len(word) >= 3 and word[0] >= "\u4e00":
            found.update(_parts(tokenizer, word))
    return {w for w in found if _WORD.match(w) and w not in STOPWORDS}


def _trends(current: Counter[str], previous: Counter[str], examples: dict[str, list[str]], *, min_count: int,
            top: int, parts: bool = True) -> list[Trend]:
    found = [Trend(k, n, previous.get(k, 0), tuple(examples.get(k, [])[:3]))
             for k, n in current.items() if n >= min_count]
    found.sort(key=lambda t: (-t.current, -t.change, t.key))
    if not parts:  # the pool is bounded, so the pairwise check stays cheap however many words there are
        found = _without_parts(found[:top * 5])
    return found[:top]


def _without_parts(trends: list[Trend]) -> list[Trend]:
    """Leave out a word that only came inside a longer one listed beside it (农贸 of 农贸市场: the same counts in
    both periods), so one subject is not listed three times; a part that also stands on its own (市场) stays."""
    return [t for t in trends
            if not any(o.key != t.key and t.key in o.key and (o.current, o.previous) == (t.current, t.previous)
                       for o in trends)]


def recurring(rows: Iterable[InsightRow], *, today: dt.date, days: int = DEFAULT_DAYS,
              min_count: int = DEFAULT_MIN_COUNT, top: int = DEFAULT_TOP) -> Insight:
    """Orders grouped by item, department and keyword, the last ``days`` days against the ``days`` before."""
    if days < 1:
        raise ValueError("days must be positive")
    cur_from, cur_to, prev_from, prev_to = periods(today, days)
    counters: dict[str, tuple[Counter[str], Counter[str]]] = {
        name: (Counter(), Counter()) for name in ("items", "departments", "keywords")}
    examples: dict[str, dict[str, list[str]]] = {name: {} for name in counters}
    totals = [0, 0]
    for row in rows:
        if cur_from <= row.accepted_on <= cur_to:
            which = 0
        elif prev_from <= row.accepted_on <= prev_to:
            which = 1
        else:
            continue
        totals[which] += 1
        groups = {"items": {row.item_key} if row.item_key else set(),
                  "departments": {row.department_key} if row.department_key else set(),
                  "keywords": keywords(f"{row.subject} {row.content[:TEXT_LIMIT]}")}
        for name, keys in groups.items():
            counter = counters[name][which]
            for key in keys:
                counter[key] += 1
                if which == 0:
                    shown = examples[name].setdefault(key, [])
                    if len(shown) < 3 and row.subject not in shown:
                        shown.append(row.subject)
    made = {name: _trends(cur, prev, examples[name], min_count=min_count, top=top, parts=name != "keywords")
            for name, (cur, prev) in counters.items()}
    return Insight(cur_from, cur_to, prev_from, prev_to, totals[0], totals[1], made["items"], made["departments"],
                   made["keywords"])


def window_start(today: dt.date, days: int = DEFAULT_DAYS) -> dt.date:
    """The first day the analysis reads (the start of the previous period), for the caller's query."""
    return periods(today, days)[2]


def top_keywords(texts: Sequence[str], top: int = DEFAULT_TOP) -> list[tuple[str, int]]:
    """The most frequent keywords of a few texts (each counted once per text), for a quick look."""
    counter: Counter[str] = Counter()
    for text in texts:
        counter.update(keywords(text))
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
