"""How real-time charging uses a granted balance: first usage, thresholds in percent of the
granted amount, exhaustion, and the events each raises once per grant."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ocs.core.notifications import NotificationEvent, NotificationKind


@dataclass(frozen=True)
class GrantUsage:
    """The charging side of one balance_grants row (granted by the grant scheduler)."""

    id: int
    balance_type: str
    bucket_id: int | None
    granted: int
    period_end: datetime | None
    reject_at_full: bool
    thresholds_pct: tuple[int, ...]
    first_usage_notify: bool
    notified_thresholds_pct: tuple[int, ...]
    first_used_at: datetime | None
    exhausted_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.period_end is None or now < self.period_end


def track_usage(
    grant: GrantUsage, remaining: int, subscriber_id: int, now: datetime
) -> tuple[GrantUsage, list[NotificationEvent]]:
    """The grant after its bucket went down to `remaining`, and the events that crossing
    raised: first usage, every threshold newly crossed (several at once if one charge jumps
    them), exhaustion. Each fires once per grant: the grant remembers what it announced, and
    the dedup keys make a repeat harmless."""
    used = max(0, grant.granted - max(0, remaining))
    if used == 0 or grant.granted <= 0:
        return grant, []
    events: list[NotificationEvent] = []
    params: dict[str, str | int] = {
        "balance_type": grant.balance_type,
        "granted": grant.granted,
        "remaining": max(0, remaining),
        "used": used,
    }

    def event(kind: NotificationKind, key: str, **extra: str | int) -> None:
        dedup = f"grant:{grant.id}:{key}"
        events.append(NotificationEvent(kind, subscriber_id, now, dedup, {**params, **extra}))

    updated = grant
    if grant.first_used_at is None:
        updated = replace(updated, first_used_at=now)
        if grant.first_usage_notify:
            event(NotificationKind.FIRST_USAGE, "first-usage")
    used_pct = used * 100 // grant.granted
    crossed = tuple(
        t for t in grant.thresholds_pct if t <= used_pct and t not in grant.notified_thresholds_pct
    )
    for threshold in crossed:
        event(NotificationKind.THRESHOLD, f"threshold:{threshold}", threshold_pct=threshold)
    if crossed:
        notified = tuple(sorted(set(grant.notified_thresholds_pct) | set(crossed)))
        updated = replace(updated, notified_thresholds_pct=notified)
    if remaining <= 0 and grant.exhausted_at is None:
        updated = replace(updated, exhausted_at=now)
        event(NotificationKind.EXHAUSTED, "exhausted")
    return updated, events
