from __future__ import annotations

import pytest

from ocs.core.configuration import SPECS, ConfigKind, validate_new, validate_update
from ocs.core.errors import DomainError, ProblemKind


def _error(kind: ConfigKind, payload: dict[str, object]) -> DomainError:
    with pytest.raises(DomainError) as caught:
        validate_new(SPECS[kind], payload)
    return caught.value


def test_new_record_fills_defaults_and_strips_text() -> None:
    record = validate_new(SPECS[ConfigKind.ACCOUNT_TYPE], {"code": "PAYER", "name": "  Payer  "})
    assert record == {
        "code": "PAYER",
        "name": "Payer",
        "description": None,
        "payment_responsible": False,
    }


@pytest.mark.parametrize(
    ("payload", "kind", "field"),
    [
        ({"name": "x"}, ProblemKind.MISSING_FIELD, "code"),
        ({"code": "X"}, ProblemKind.MISSING_FIELD, "name"),
        ({"code": "X", "name": "   "}, ProblemKind.MISSING_FIELD, "name"),
        ({"code": "bad code", "name": "x"}, ProblemKind.INVALID_VALUE, "code"),
        ({"code": "X" * 33, "name": "x"}, ProblemKind.INVALID_VALUE, "code"),
        ({"code": "X", "name": "x", "colour": "red"}, ProblemKind.UNKNOWN_FIELD, "colour"),
        ({"code": "X", "name": "x", "payment_responsible": "yes"}, ProblemKind.INVALID_VALUE,
         "payment_responsible"),
        ({"code": "X", "name": "n" * 101}, ProblemKind.INVALID_VALUE, "name"),
    ],
)  # fmt: skip
def test_bad_account_type_payloads_name_the_field(
    payload: dict[str, object], kind: ProblemKind, field: str
) -> None:
    error = _error(ConfigKind.ACCOUNT_TYPE, payload)
    assert (error.kind, error.field) == (kind, field)


def test_currency_code_is_iso_and_scale_bounded() -> None:
    assert _error(ConfigKind.CURRENCY, {"code": "eur", "name": "e", "scale": 2}).field == "code"
    error = _error(ConfigKind.CURRENCY, {"code": "EUR", "name": "e", "scale": 5})
    assert (error.field, error.detail) == ("scale", "scale must be at most 4")
    error = _error(ConfigKind.CURRENCY, {"code": "EUR", "name": "e", "scale": True})
    assert (error.field, error.detail) == ("scale", "scale must be an integer")


def test_state_reason_needs_a_known_state() -> None:
    error = _error(ConfigKind.STATE_REASON, {"code": "R", "name": "r", "state": "ASLEEP"})
    assert error.field == "state"
    assert "INACTIVE, ACTIVE, SUSPENDED, DEACTIVATED" in error.detail


@pytest.mark.parametrize(
    ("unit", "day", "ok"),
    [
        ("WEEK", 7, True), ("WEEK", 8, False), ("WEEK", None, False),
        ("MONTH", 28, True), ("MONTH", 29, False), ("MONTH", None, False),
        ("DAY", None, True), ("DAY", 3, False), ("YEAR", None, True),
    ],
)  # fmt: skip
def test_billing_day_depends_on_the_duration_unit(unit: str, day: int | None, ok: bool) -> None:
    payload: dict[str, object] = {"code": "C", "name": "c", "duration": 1, "duration_unit": unit}
    if day is not None:
        payload["billing_day"] = day
    if ok:
        assert validate_new(SPECS[ConfigKind.BILLING_CYCLE], payload)["billing_day"] == day
    else:
        assert _error(ConfigKind.BILLING_CYCLE, payload).field == "billing_day"


def test_money_balance_type_needs_currency_and_others_refuse_one() -> None:
    money = {"code": "CASH", "name": "c", "unit": "MONEY"}
    assert _error(ConfigKind.BALANCE_TYPE, money).kind is ProblemKind.MISSING_FIELD
    octets = {"code": "DATA", "name": "d", "unit": "OCTETS", "currency": "EUR"}
    assert _error(ConfigKind.BALANCE_TYPE, octets).field == "currency"


def test_maximum_balance_policy_defaults_to_limit_and_needs_a_maximum() -> None:
    spec = SPECS[ConfigKind.BALANCE_TYPE]
    record = validate_new(spec, {"code": "D", "name": "d", "unit": "OCTETS", "maximum_balance": 5})
    assert record["maximum_balance_policy"] == "LIMIT"
    assert record["category"] == "CHARGEABLE"
    orphan = {"code": "D", "name": "d", "unit": "OCTETS", "maximum_balance_policy": "REJECT"}
    assert _error(ConfigKind.BALANCE_TYPE, orphan).field == "maximum_balance_policy"


def test_profile_reason_without_state_is_refused() -> None:
    payload = {"code": "P", "name": "p", "customer_state_reason": "NEW"}
    error = _error(ConfigKind.CUSTOMER_PROFILE, payload)
    assert (error.kind, error.field) == (ProblemKind.MISSING_FIELD, "customer_state")


def test_update_keeps_code_immutable_and_applies_partial_changes() -> None:
    spec = SPECS[ConfigKind.RESOURCE_TYPE]
    current = validate_new(spec, {"code": "IMSI", "name": "IMSI"})
    updated = validate_update(spec, current, {"code": "IMSI", "primary": True})
    assert updated == {**current, "primary": True}
    with pytest.raises(DomainError) as caught:
        validate_update(spec, current, {"code": "IMSI2"})
    assert (caught.value.kind, caught.value.field) == (ProblemKind.IMMUTABLE_FIELD, "code")


def test_kinds_only_refer_to_kinds_listed_before_them() -> None:
    order = list(ConfigKind)
    for kind, spec in SPECS.items():
        for ref in spec.references:
            assert ref.ref is not None
            assert order.index(ref.ref) <= order.index(kind), (kind, ref.name)
