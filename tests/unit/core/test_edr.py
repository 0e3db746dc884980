from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocs.core.configuration import UnitOfMeasure
from ocs.core.edr import (
    BalanceLine,
    Edr,
    EdrQuery,
    EdrSort,
    EdrType,
    MaskingRule,
    UnitClass,
    check_masking_rule,
    check_reversible,
    check_tags,
    check_text,
    cost,
    decode_movements,
    encode_movements,
    line_in_currency,
    mask_edr,
    mask_text,
    unit_class,
)
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.money import parse_rate
from ocs.core.wallets import Bucket, change, new_bucket

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def _edr(edr_type: EdrType = EdrType.CHARGE, **fields: object) -> Edr:
    base = Edr(1, edr_type, NOW, 7, 3, None, None, None)
    return Edr(**{**base.__dict__, **fields})  # type: ignore[arg-type]


def _line(balance_type: str, unit: UnitClass, old: int, delta: int) -> BalanceLine:
    return BalanceLine(balance_type, unit, "EUR" if unit is UnitClass.CASH else None, old, delta,
                       old + delta)  # fmt: skip


def _error(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_a_balance_line_must_add_up() -> None:
    with pytest.raises(ValueError, match="does not add up"):
        BalanceLine("CASH", UnitClass.CASH, "EUR", 10, 5, 16)


def test_units_group_into_cash_time_and_units() -> None:
    assert [unit_class(u) for u in UnitOfMeasure] == [
        UnitClass.CASH, UnitClass.TIME, UnitClass.UNITS, UnitClass.UNITS, UnitClass.UNITS,
    ]  # fmt: skip


def test_cost_is_positive_for_a_charge_and_negative_for_a_recharge_per_unit_class() -> None:
    edr = _edr(balances=(
        _line("CASH", UnitClass.CASH, 100, -30), _line("BONUS", UnitClass.CASH, 50, -5),
        _line("VOICE", UnitClass.TIME, 600, 60),
    ))  # fmt: skip
    assert (cost(edr, UnitClass.CASH), cost(edr, UnitClass.TIME), cost(edr, UnitClass.UNITS)) == (
        35, -60, 0,
    )  # fmt: skip


def test_tags_are_checked_and_sorted() -> None:
    assert check_tags({"b": "2", "A": "1"}) == (("A", "1"), ("b", "2"))
    for tags in ({"bad key": "x"}, {"K": "x" * 129}, {f"K{i}": "v" for i in range(17)}):
        error = _error(check_tags, tags)
        assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "tags")


def test_text_fields_are_trimmed_and_bounded() -> None:
    assert check_text("  316  ", "called_number") == "316"
    assert check_text("   ", "called_number") is None
    assert _error(check_text, "9" * 65, "called_number").field == "called_number"


def test_bucket_movements_survive_the_round_trip() -> None:
    dated = Bucket(4, "CASH", 100, start_at=NOW, expires_at=NOW + timedelta(days=2))
    changes = [change(dated, -60), new_bucket("CASH", -40, None, None)]
    detail = {"buckets": encode_movements(changes, [4, 9])}
    movements = decode_movements(_edr(detail=detail))
    assert [(b.id, b.balance_type, b.start_at, b.expires_at, d) for b, d in movements] == [
        (4, "CASH", NOW, NOW + timedelta(days=2), -60), (9, "CASH", None, None, -40),
    ]  # fmt: skip


def test_only_a_charge_reverses_and_only_once() -> None:
    check_reversible(_edr(), None)
    error = _error(check_reversible, _edr(EdrType.RECHARGE), None)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "edr_id")
    assert error.detail == "only CHARGE EDRs can be reversed; EDR 1 is a RECHARGE"
    error = _error(check_reversible, _edr(), 8)
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "edr_id")


def test_sort_directions_default_per_column_and_flip() -> None:
    directions = {sort: EdrQuery(sort=sort).descending for sort in EdrSort}
    assert directions == {
        EdrSort.DATE: True, EdrSort.BALANCE_TYPE: False, EdrSort.COST: True, EdrSort.TYPE: False,
    }  # fmt: skip
    assert not EdrQuery(sort=EdrSort.DATE, reverse=True).descending
    assert EdrQuery().result_limit == 10_000
    assert EdrQuery(max_results=5).result_limit == 5


def test_a_converted_line_still_adds_up() -> None:
    line = _line("CASH", UnitClass.CASH, 1000, -300)
    shown = line_in_currency(line, "USD", 2, 2, parse_rate("1.085"))
    assert (shown.currency, shown.old_value, shown.delta_value, shown.new_value) == (
        "USD", 1085, -325, 760,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "prefix", "suffix", "masked"),
    [("31612345678", 3, 2, "316******78"), ("31612345678", 0, 0, "***********"),
     ("31612345678", 0, 4, "*******5678"), ("1234", 2, 2, "****"), ("12345", 2, 2, "12*45"),
     ("", 1, 1, "")],
)  # fmt: skip
def test_mask_text(text: str, prefix: int, suffix: int, masked: str) -> None:
    assert mask_text(text, prefix, suffix) == masked


def test_masking_rules_name_known_fields() -> None:
    assert check_masking_rule("tag:CHANNEL", 1, 0) == MaskingRule("tag:CHANNEL", 1, 0)
    for field, prefix, suffix, name in (
        ("operator", 0, 0, "field"), ("tag:", 0, 0, "field"), ("session_id", 65, 0, "keep_prefix"),
        ("session_id", 0, -1, "keep_suffix"),
    ):  # fmt: skip
        error = _error(check_masking_rule, field, prefix, suffix)
        assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, name)


def test_mask_edr_masks_only_ruled_fields() -> None:
    edr = _edr(called_number="31612345678", session_id="sess-1", tags=(("A", "alpha"),
               ("B", "beta")))  # fmt: skip
    rules = {
        "called_number": MaskingRule("called_number", 3, 2),
        "tag:A": MaskingRule("tag:A", 1, 1),
    }
    masked = mask_edr(edr, rules)
    assert (masked.called_number, masked.session_id, masked.tags) == (
        "316******78", "sess-1", (("A", "a***a"), ("B", "beta")),
    )  # fmt: skip
    assert mask_edr(edr, {}) == edr
