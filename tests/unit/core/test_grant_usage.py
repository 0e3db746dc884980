"""First usage, thresholds and exhaustion of a granted balance, each announced once."""

from __future__ import annotations

from datetime import UTC, datetime

from ocs.core.grant_usage import GrantUsage, track_usage
from ocs.core.notifications import NotificationKind

NOW = datetime(2026, 4, 11, tzinfo=UTC)


def _grant(**fields: object) -> GrantUsage:
    values: dict[str, object] = {
        "id": 7, "balance_type": "FREE", "bucket_id": 3, "granted": 1000, "period_end": None,
        "reject_at_full": False, "thresholds_pct": (50, 80, 90), "first_usage_notify": True,
        "notified_thresholds_pct": (), "first_used_at": None, "exhausted_at": None,
    }  # fmt: skip
    values.update(fields)
    return GrantUsage(**values)  # type: ignore[arg-type]


def _kinds(events: list) -> list[tuple[NotificationKind, str]]:  # type: ignore[type-arg]
    return [(e.kind, e.dedup_key) for e in events]


def test_one_charge_crossing_several_thresholds_announces_each_once() -> None:
    grant, events = track_usage(_grant(), 150, 42, NOW)
    assert _kinds(events) == [
        (NotificationKind.FIRST_USAGE, "grant:7:first-usage"),
        (NotificationKind.THRESHOLD, "grant:7:threshold:50"),
        (NotificationKind.THRESHOLD, "grant:7:threshold:80"),
    ]
    assert grant.notified_thresholds_pct == (50, 80)
    assert grant.first_used_at == NOW
    assert all(e.subscriber_id == 42 for e in events)
    again, more = track_usage(grant, 100, 42, NOW)
    assert _kinds(more) == [(NotificationKind.THRESHOLD, "grant:7:threshold:90")]
    _, none = track_usage(again, 90, 42, NOW)
    assert none == []


def test_exhaustion_is_announced_once_and_first_usage_only_when_asked() -> None:
    grant, events = track_usage(_grant(first_usage_notify=False, thresholds_pct=()), 0, 1, NOW)
    assert _kinds(events) == [(NotificationKind.EXHAUSTED, "grant:7:exhausted")]
    assert (grant.first_used_at, grant.exhausted_at) == (NOW, NOW)
    assert track_usage(grant, 0, 1, NOW)[1] == []


def test_an_untouched_grant_changes_nothing() -> None:
    grant = _grant()
    assert track_usage(grant, 1000, 1, NOW) == (grant, [])


def test_a_grant_is_active_until_its_period_ends() -> None:
    grant = _grant(period_end=NOW)
    assert not grant.active(NOW)
    assert _grant().active(NOW)
