"""The rollup counters and their dimensions (pure): one list, used by the models, the recomputation and
the metric layer, so a counter is named in one place.

Every counter is additive: a figure over any date range and any cut (hall, department, item, window, clerk,
channel) is a sum of rollup rows, and every rate is a ratio of two sums (``metrics.py``).
"""

from __future__ import annotations

from enum import StrEnum

# counters of the daily facts, in the order of the table's columns
COUNTERS: tuple[str, ...] = (
    # queue (排队叫号): tickets issued that day, first calls with their wait, services done with their length
    "tickets",
    "waited",
    "wait_seconds",
    "served",
    "service_seconds",
    # cases (办件): counted on the day of acceptance (accepted) and of the decision (finished …)
    "cases_accepted",
    "cases_finished",
    "finished_on_time",  # decided on or before the promised due day
    "finished_visits_1",  # 一次办结: at most one in-person visit
    "finished_visits_2",
    "finished_visits_3",
    # ratings (好差评): counted on the day rated; voided 差评 are left out
    "ratings",
    "ratings_good",  # 非常满意 or 满意
    "ratings_negative",  # 差评
    "ratings_default",  # 默认好评
    "negative_rectified",  # 差评 whose 整改 is closed
    # complaints (有诉即办): received on the day accepted; closed, replied on their own days
    "complaints",
    "complaints_closed",
    "complaints_on_time",  # closed on or before the due day
    "complaints_replied",
    "complaints_rated",  # with a callback verdict
    "complaints_satisfied",
)

# hour-of-day counters (the trend by hour of the week)
HOURLY_COUNTERS: tuple[str, ...] = ("tickets", "waited", "wait_seconds", "cases_accepted")

# the wait histogram's bucket width and its last (open) bucket, in minutes
WAIT_BUCKET_MINUTES = 1
WAIT_LAST_BUCKET = 240

NONE = 0  # a dimension that does not apply (an online case has no hall, a rating no window …)


class FactChannel(StrEnum):
    """Where the service happened (渠道): the channel mix of the dashboards."""

    WINDOW = "window"
    ONLINE = "online"
    SELF_SERVICE = "self"
    MAIL = "mail"
    AGENT = "agent"
    HOTLINE = "hotline"
    OTHER = "other"

    @property
    def label(self) -> str:
        """Chinese name shown to people."""
        return {"window": "窗口", "online": "网上", "self": "自助", "mail": "寄递", "agent": "帮办代办",
                "hotline": "热线", "other": "其他"}[self.value]


class OpenKind(StrEnum):
    """What an open-work gauge counts."""

    CASE = "case"  # a case accepted and not finished, by its promised due day
    COMPLAINT = "complaint"  # a complaint not closed, by its due day
    TICKET = "ticket"  # a ticket waiting, by its day


def wait_bucket(seconds: float) -> int:
    """The histogram bucket (whole minutes, capped) of a wait."""
    minutes = int(max(seconds, 0) // (60 * WAIT_BUCKET_MINUTES))
    return min(minutes, WAIT_LAST_BUCKET)


def quantile_from_buckets(buckets: dict[int, int], q: float) -> float | None:
    """The q-quantile of a bucketed histogram in minutes, to the whole minute below (the bucket where the
    q-th share of the waits is reached); None when it is empty."""
    total = sum(buckets.values())
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= rank:
            return float(bucket * WAIT_BUCKET_MINUTES)
    return float(max(buckets) * WAIT_BUCKET_MINUTES)
