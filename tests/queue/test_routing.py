"""Routing policies: who a window calls next, under each hall setting."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from onewindow.core.errors import ValidationFailed
from onewindow.queue.routing import (
    POLICIES,
    DedicatedFifo,
    PooledFifo,
    RoutingPolicy,
    SmartPolicy,
    TidalPolicy,
    WaitingTicket,
    WindowView,
    make_policy,
)
from onewindow.queue.states import TicketClass

ALL = ("A", "B", "C")


def ticket(key: str, category: str, queued_at: float, service: float = 10.0,
           cls: TicketClass = TicketClass.NORMAL, slot: float | None = None) -> WaitingTicket:
    return WaitingTicket(key=key, category=category, queued_at=queued_at, expected_service_min=service,
                         ticket_class=cls, appointment_at=slot)


def window(home: str, skills: Sequence[str] = ALL, flexible: bool = False) -> WindowView:
    return WindowView(key=f"w{home}", skills=(home, *[s for s in skills if s != home]), home=(home,),
                      flexible=flexible)


def key(t: WaitingTicket | None) -> str | None:
    return None if t is None else t.key


def test_registry_names_the_four_policies() -> None:
    assert set(POLICIES) == {"dedicated", "pooled", "smart", "tidal"}
    for name in POLICIES:
        assert make_policy(name).name == name


def test_make_policy_passes_hall_parameters() -> None:
    policy = make_policy("smart", {"cap_min": 30})
    assert isinstance(policy, SmartPolicy) and policy.cap_min == 30


def test_unknown_policy_is_refused_in_chinese() -> None:
    with pytest.raises(ValidationFailed, match="未知的分派策略"):
        make_policy("random")


def test_bad_policy_parameter_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="参数无效"):
        make_policy("pooled", {"cap_min": 30})


def test_dedicated_window_serves_only_its_home_first_come_first_served() -> None:
    waiting = [ticket("b1", "B", 0), ticket("a2", "A", 5), ticket("a1", "A", 2)]
    assert key(DedicatedFifo().pick(window("A"), waiting, 10)) == "a1"
    assert DedicatedFifo().pick(window("C"), waiting, 10) is None


def test_window_without_home_is_a_comprehensive_window() -> None:
    comprehensive = WindowView(key="1", skills=ALL)
    assert comprehensive.home_categories == ALL
    assert key(DedicatedFifo().pick(comprehensive, [ticket("c", "C", 3), ticket("b", "B", 1)], 5)) == "b"


def test_pooled_window_takes_the_oldest_ticket_of_any_skill() -> None:
    waiting = [ticket("a", "A", 5), ticket("c", "C", 1), ticket("b", "B", 3)]
    assert key(PooledFifo().pick(window("A"), waiting, 10)) == "c"
    assert key(PooledFifo().pick(window("A", skills=("A", "B")), waiting, 10)) == "b"


def test_smart_serves_the_short_job_first_when_both_are_fresh() -> None:
    waiting = [ticket("long", "B", 0, service=18), ticket("short", "A", 0.5, service=6)]
    assert key(SmartPolicy().pick(window("C"), waiting, 1)) == "short"


def test_smart_aging_lets_a_long_wait_overtake_a_short_job() -> None:
    policy = SmartPolicy(aging_min=5)
    waiting = [ticket("long", "B", 0, service=18), ticket("short", "A", 29, service=6)]
    # index of the long one: (1 + 30/5)/18 = 0.39 > the fresh short one's (1 + 1/5)/6 = 0.2
    assert key(policy.pick(window("C"), waiting, 30)) == "long"


def test_smart_hard_cap_serves_the_oldest_overdue_ticket_first() -> None:
    policy = SmartPolicy(cap_min=45)
    waiting = [ticket("fresh-short", "A", 59, service=1), ticket("over1", "C", 10, service=30),
               ticket("over2", "B", 5, service=30)]
    assert key(policy.pick(window("A"), waiting, 60)) == "over2"


def test_smart_prefers_its_own_category_between_equal_jobs() -> None:
    waiting = [ticket("other", "B", 0, service=10), ticket("own", "A", 0, service=10)]
    assert key(SmartPolicy().pick(window("A"), waiting, 1)) == "own"
    assert key(SmartPolicy().pick(window("B"), waiting, 1)) == "other"


def test_smart_never_serves_outside_the_window_skills() -> None:
    waiting = [ticket("c", "C", 0, service=1)]
    assert SmartPolicy().pick(window("A", skills=("A", "B")), waiting, 50) is None


def test_green_channel_goes_before_a_normal_ticket_of_the_same_kind() -> None:
    waiting = [ticket("normal", "A", 0), ticket("green", "A", 2, cls=TicketClass.GREEN)]
    assert key(SmartPolicy().pick(window("A"), waiting, 3)) == "green"
    assert key(PooledFifo().pick(window("A"), waiting, 3)) == "normal"


def test_vip_goes_before_a_normal_ticket_of_the_same_kind() -> None:
    waiting = [ticket("normal", "A", 0), ticket("vip", "A", 2, cls=TicketClass.VIP)]
    assert key(SmartPolicy().pick(window("A"), waiting, 3)) == "vip"


def test_punctual_appointment_is_served_from_its_slot() -> None:
    waiting = [ticket("normal", "A", 5), ticket("booked", "A", 8, cls=TicketClass.APPOINTMENT, slot=10)]
    assert key(SmartPolicy().pick(window("A"), waiting, 9)) == "normal"  # slot not yet begun
    assert key(SmartPolicy().pick(window("A"), waiting, 10)) == "booked"


def test_late_appointment_is_served_like_a_normal_ticket() -> None:
    late = ticket("late", "A", 25, cls=TicketClass.APPOINTMENT, slot=10)
    waiting = [ticket("normal", "A", 20), late]
    assert key(SmartPolicy(appointment_grace_min=10).pick(window("A"), waiting, 26)) == "normal"


def test_tidal_fixed_window_serves_only_its_home() -> None:
    waiting = [ticket(f"b{i}", "B", i) for i in range(20)]
    assert TidalPolicy().pick(window("A"), waiting, 30) is None


def test_tidal_flexible_window_follows_a_long_queue() -> None:
    waiting = [ticket("a", "A", 0)] + [ticket(f"b{i}", "B", 1 + i * 0.1) for i in range(11)]
    assert key(TidalPolicy(queue_threshold=10).pick(window("A", flexible=True), waiting, 2)) == "b0"


def test_tidal_flexible_window_follows_a_long_wait() -> None:
    waiting = [ticket("a", "A", 20), ticket("c", "C", 0)]
    assert key(TidalPolicy(wait_threshold_min=15).pick(window("A", flexible=True), waiting, 21)) == "c"


def test_tidal_flexible_window_keeps_home_without_pressure_and_helps_when_idle() -> None:
    flexible = window("A", flexible=True)
    assert key(TidalPolicy().pick(flexible, [ticket("c", "C", 0), ticket("a", "A", 1)], 2)) == "a"
    assert key(TidalPolicy().pick(flexible, [ticket("c", "C", 0)], 2)) == "c"


POLICY_INSTANCES: list[RoutingPolicy] = [DedicatedFifo(), PooledFifo(), SmartPolicy(), TidalPolicy()]


def random_hall(rng: random.Random) -> tuple[WindowView, list[WaitingTicket], float]:
    now = rng.uniform(0, 300)
    waiting = [ticket(str(i), rng.choice(ALL), rng.uniform(now - 80, now), rng.choice([5, 10, 20]),
                      rng.choice(list(TicketClass)), rng.choice([None, rng.uniform(now - 30, now + 30)]))
               for i in range(rng.randint(0, 12))]
    skills = tuple(rng.sample(ALL, rng.randint(1, 3)))
    return WindowView(key="w", skills=skills, home=skills[:1], flexible=rng.random() < 0.5), waiting, now


@pytest.mark.parametrize("policy", POLICY_INSTANCES, ids=lambda p: p.name)
def test_policy_picks_a_servable_ticket_whenever_one_waits(policy: RoutingPolicy) -> None:
    """The contract the simulator relies on: None only when nothing waiting is eligible."""
    rng = random.Random(4)
    for _ in range(500):
        win, waiting, now = random_hall(rng)
        eligible = {t.key for t in waiting if t.category in
                    (win.home_categories if policy.name == "dedicated" or
                     (policy.name == "tidal" and not win.flexible) else win.skills)}
        before = list(waiting)
        chosen = policy.pick(win, waiting, now)
        assert waiting == before  # nothing mutated
        assert (chosen is None) == (not eligible)
        assert chosen is None or chosen.key in eligible


@pytest.mark.parametrize("policy", POLICY_INSTANCES, ids=lambda p: p.name)
def test_only_time_differences_matter(policy: RoutingPolicy) -> None:
    """Any common origin works: minutes since opening or since midnight give the same pick."""
    rng = random.Random(9)
    for _ in range(200):
        win, waiting, now = random_hall(rng)
        shifted = [WaitingTicket(t.key, t.category, t.queued_at + 540, t.expected_service_min, t.ticket_class,
                                 None if t.appointment_at is None else t.appointment_at + 540)
                   for t in waiting]
        assert key(policy.pick(win, waiting, now)) == key(policy.pick(win, shifted, now + 540))


@pytest.mark.parametrize(("name", "params"), [("smart", {"aging_min": 0}), ("smart", {"cap_min": -5}),
                                              ("tidal", {"queue_threshold": -1})])
def test_out_of_range_policy_parameter_is_refused(name: str, params: dict[str, float]) -> None:
    with pytest.raises(ValidationFailed, match="必须大于 0"):
        make_policy(name, params)


def test_missing_service_estimate_does_not_break_the_smart_policy() -> None:
    waiting = [ticket("zero", "A", 0, service=0.0), ticket("b", "B", 0, service=10)]
    assert key(SmartPolicy().pick(window("A"), waiting, 1)) == "zero"


def test_to_minutes_turns_aware_datetimes_into_comparable_minutes() -> None:
    import datetime as dt

    from onewindow.core.clock import CHINA_TZ
    from onewindow.queue.routing import to_minutes

    opened = dt.datetime(2026, 3, 2, 9, 0, tzinfo=CHINA_TZ)
    later = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)  # 09:30 in China
    assert to_minutes(later) - to_minutes(opened) == 30
    with pytest.raises(ValueError, match="aware"):
        to_minutes(dt.datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001 - the point of the test
