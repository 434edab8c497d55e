"""The monthly score (pure): parts, weights, explanation, minimum sample, ranks and awards, checked by hand."""

from __future__ import annotations

from onewindow.staff.performance import Facts, PartKey, Rules, awards, combine, rank

RULES = Rules()  # weights 25/15/25/15/10/10, min sample 20, −20 per complaint, −10 per overdue step, 3 stars

A = Facts(served=100, service_minutes=1000, norm_minutes=1200, ratings=40, good_ratings=36, complaints=1, overdue=0,
          attendance_rate=0.95)
B = Facts(served=80, service_minutes=1000, norm_minutes=800, ratings=0, good_ratings=0, complaints=0, overdue=2,
          attendance_rate=1.0)
C = Facts(served=10, service_minutes=100, norm_minutes=100, ratings=2, good_ratings=2, attendance_rate=1.0)


def test_scores_are_the_weighted_parts_as_computed_by_hand() -> None:
    scores = {s.subject: s for s in rank({"a": ("甲", A), "b": ("乙", B), "c": ("丙", C)}, RULES)}
    a, b = scores["a"], scores["b"]
    # A: volume 100, efficiency 100 (within norm), satisfaction 36/40 = 90, complaints 100−20 = 80, overdue 100,
    # attendance 95: (25·100 + 15·100 + 25·90 + 15·80 + 10·100 + 10·95) / 100 = 94
    assert {p.key: p.points for p in a.parts} == {
        PartKey.VOLUME: 100, PartKey.EFFICIENCY: 100, PartKey.SATISFACTION: 90, PartKey.COMPLAINTS: 80,
        PartKey.OVERDUE: 100, PartKey.ATTENDANCE: 95}
    assert a.score == 94.0 and a.rank == 1
    # B: volume 80/100 = 80, efficiency 800/1000 = 80, no ratings = 100, complaints 100, overdue 100−2·10 = 80,
    # attendance 100: (2000 + 1200 + 2500 + 1500 + 800 + 1000) / 100 = 90
    assert b.score == 90.0 and b.rank == 2
    assert sum(p.contribution for p in b.parts) == b.score
    assert next(p for p in b.parts if p.key is PartKey.SATISFACTION).explanation == "本月无评价，按满分计"
    assert next(p for p in a.parts if p.key is PartKey.SATISFACTION).explanation == "评价 40 次，满意及以上 36 次"


def test_a_subject_under_the_minimum_sample_is_scored_and_explained_but_not_ranked() -> None:
    scores = rank({"a": ("甲", A), "c": ("丙", C)}, RULES)
    c = next(s for s in scores if s.subject == "c")
    assert not c.ranked and c.rank is None
    assert "少于 20 件" in c.note
    assert next(p for p in c.parts if p.key is PartKey.VOLUME).points == 10.0  # against the best ranked (100)
    assert [s.subject for s in scores] == ["a", "c"]  # ranked first
    assert [s.subject for s in awards(scores, count=3)] == ["a"]


def test_a_part_not_applicable_is_left_out_and_the_other_weights_carry_it() -> None:
    window = Facts(served=50, service_minutes=500, norm_minutes=500, ratings=10, good_ratings=5, overdue=None,
                   attendance_rate=0.5)
    (s,) = rank({1: ("1号窗口", window)}, RULES)
    assert PartKey.OVERDUE not in {p.key for p in s.parts}
    # (25·100 + 15·100 + 25·50 + 15·100 + 10·50) / 90 = 7250 / 90
    assert s.score == round(7250 / 90, 2)


def test_ties_go_to_the_larger_volume_then_the_name_and_weights_are_settings() -> None:
    same = Facts(served=30, service_minutes=10, norm_minutes=300, attendance_rate=1.0)
    more = Facts(served=30, service_minutes=10, norm_minutes=300, attendance_rate=1.0)
    ordered = rank({2: ("乙", same), 1: ("甲", more)}, RULES)
    assert [s.rank for s in ordered] == [1, 2]
    only_volume = Rules(weights={PartKey.VOLUME: 1}, min_sample=1)
    by_volume = rank({"x": ("x", A), "y": ("y", B)}, only_volume)
    assert [(s.subject, s.score) for s in by_volume] == [("x", 100.0), ("y", 80.0)]


def test_a_group_adds_its_members_facts_with_its_own_attendance() -> None:
    dept = combine([A, B], attendance_rate=0.9)
    assert (dept.served, dept.ratings, dept.complaints, dept.overdue, dept.attendance_rate) == (180, 40, 1, 2, 0.9)
    assert combine([Facts(overdue=None)], attendance_rate=None).overdue is None
