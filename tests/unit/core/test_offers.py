"""Service validation and unit conversion (pure)."""

from __future__ import annotations

import pytest

from ocs.core.configuration import BalanceCategory, UnitOfMeasure
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.offers import (
    GrantUnit,
    RolloverPriority,
    ServiceKind,
    balance_category,
    base_amount,
    check_service,
    check_thresholds,
    parse_pct,
    service_payload,
    updated_service,
)

BASE: dict[str, object] = {
    "code": "VOICE100", "name": "100 minutes", "service_provider": "SP1",
    "kind": "RECURRENT_COST_CONTROL_BALANCE", "unit": "MINUTE", "granted": 100,
    "charging_classes": ["VOICE"], "period_unit": "MONTH", "rollover_periods": 2,
    "rollover_priority": "ROLLOVER_FIRST", "thresholds_pct": [50, 80, 100],
}  # fmt: skip


@pytest.mark.parametrize(
    ("unit", "amount", "base", "balance_unit"),
    [
        (GrantUnit.MINUTE, 100, 6000, UnitOfMeasure.SECONDS),
        (GrantUnit.HOUR, 2, 7200, UnitOfMeasure.SECONDS),
        (GrantUnit.DAY, 1, 86_400, UnitOfMeasure.SECONDS),
        (GrantUnit.KILOBYTE, 3, 3000, UnitOfMeasure.OCTETS),
        (GrantUnit.MEGABYTE, 1, 1_000_000, UnitOfMeasure.OCTETS),
        (GrantUnit.GIGABYTE, 5, 5 * 10**9, UnitOfMeasure.OCTETS),
        (GrantUnit.TERABYTE, 1, 10**12, UnitOfMeasure.OCTETS),
        (GrantUnit.EVENT, 7, 7, UnitOfMeasure.EVENTS),
        (GrantUnit.PIECE, 7, 7, UnitOfMeasure.PIECES),
        (GrantUnit.MONEY, 1250, 1250, UnitOfMeasure.MONEY),
    ],
)
def test_units_convert_to_the_balance_base_unit(
    unit: GrantUnit, amount: int, base: int, balance_unit: UnitOfMeasure
) -> None:
    assert base_amount(unit, amount) == base
    payload = {**BASE, "unit": unit.value, "granted": amount}
    if unit is GrantUnit.MONEY:
        payload["currency"] = "EUR"
    service = check_service(payload)
    assert (service.granted_base, service.balance_unit) == (base, balance_unit)


def test_money_cost_control_balances_track_expenditure() -> None:
    assert balance_category(ServiceKind.RECURRENT_COST_CONTROL_BALANCE, GrantUnit.MONEY) is (
        BalanceCategory.EXPENDITURE
    )
    assert balance_category(ServiceKind.BALANCE, GrantUnit.MONEY) is BalanceCategory.CHARGEABLE
    assert balance_category(ServiceKind.RECURRENT_COST_CONTROL_BALANCE, GrantUnit.MINUTE) is (
        BalanceCategory.CHARGEABLE
    )


def test_a_service_round_trips_through_its_payload() -> None:
    service = check_service(BASE)
    assert service.balance_type == "VOICE100-BAL"
    assert service.recurrence is not None
    assert service.recurrence.rollover_priority is RolloverPriority.ROLLOVER_FIRST
    assert check_service(service_payload(service)) == service


@pytest.mark.parametrize(
    ("values", "field"),
    [([0], "thresholds_pct[0]"), ([101], "thresholds_pct[0]"), ([50, 50], "thresholds_pct[1]"),
     ([10, 20, 30, 40], "thresholds_pct"), (["80"], "thresholds_pct[0]")],
)  # fmt: skip
def test_thresholds_are_1_to_100_ascending_and_at_most_three(
    values: list[object], field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        check_thresholds(values)
    assert caught.value.field == field
    assert check_thresholds([1, 50, 100]) == (1, 50, 100)
    assert parse_pct("1,50,100") == (1, 50, 100)
    assert parse_pct("") == ()


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [
        ({"granted": -5}, "granted", ProblemKind.INVALID_VALUE),
        ({"granted": None}, "granted", ProblemKind.MISSING_FIELD),
        ({"unit": "LITRE"}, "unit", ProblemKind.INVALID_VALUE),
        ({"recurrence_cycles": 0}, "recurrence_cycles", ProblemKind.INVALID_VALUE),
        ({"rollover_periods": 0}, "rollover_periods", ProblemKind.INVALID_VALUE),
        ({"rollover_priority": "OLDEST"}, "rollover_priority", ProblemKind.INVALID_VALUE),
        ({"create_balance_at": "NOW"}, "create_balance_at", ProblemKind.INVALID_VALUE),
        ({"charging_classes": []}, "charging_classes", ProblemKind.MISSING_FIELD),
        ({"charging_classes": ["A", "A"]}, "charging_classes[1]", ProblemKind.INVALID_VALUE),
        ({"code": "X" * 25}, "code", ProblemKind.INVALID_VALUE),
        ({"currency": "EUR"}, "currency", ProblemKind.INVALID_VALUE),
        ({"colour": "red"}, "colour", ProblemKind.UNKNOWN_FIELD),
        ({"kind": "BALANCE"}, "period_unit", ProblemKind.INVALID_VALUE),
        ({"validity": 1}, "validity_unit", ProblemKind.MISSING_FIELD),
    ],
)
def test_invalid_service_fields_are_named(
    change: dict[str, object], field: str, kind: ProblemKind
) -> None:
    with pytest.raises(DomainError) as caught:
        check_service({**BASE, **change})
    assert (caught.value.field, caught.value.kind) == (field, kind)


def test_identity_fields_are_immutable_on_update() -> None:
    service = check_service(BASE)
    assert updated_service(service, {"granted": 200}).granted == 200
    with pytest.raises(DomainError) as caught:
        updated_service(service, {"unit": "SECOND"})
    assert (caught.value.field, caught.value.kind) == ("unit", ProblemKind.IMMUTABLE_FIELD)
