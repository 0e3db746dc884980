from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from ocs.core.edr import BalanceLine, Edr, EdrType, UnitClass
from ocs.core.records import copy_with
from ocs.core.reservations import ChargingSession, Reservation, ReservationState, SessionState

AT = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def _reservation() -> Reservation:
    return Reservation(
        id=0,
        session_id="s-1",
        wallet_id=7,
        rating_group=10,
        service_identifier=None,
        charging_class="DATA",
        unit="OCTETS",
        granted_units=1000,
        used_units=0,
        state=ReservationState.OPEN,
        created_at=AT,
        expires_at=AT,
    )


def test_copy_with_makes_what_replace_makes_and_leaves_the_original_alone() -> None:
    original = _reservation()
    copied = copy_with(original, id=42, used_units=10)
    assert copied == replace(original, id=42, used_units=10)
    assert type(copied) is Reservation
    assert (original.id, original.used_units) == (0, 0)
    with pytest.raises(AttributeError):
        copied.id = 1  # type: ignore[misc]  # still frozen


def test_copy_with_copies_the_records_the_charging_engine_copies() -> None:
    session = ChargingSession("s-1", 7, 3, SessionState.OPEN, AT, AT, AT, None, None)
    assert copy_with(session, state=SessionState.CLOSED) == replace(
        session, state=SessionState.CLOSED
    )
    edr = Edr(0, EdrType.CHARGE, AT, 7, 3, None, None, None, detail={"units": 1})
    assert copy_with(edr, id=9) == replace(edr, id=9)


def test_copy_with_refuses_a_name_that_is_not_a_field() -> None:
    with pytest.raises(TypeError, match="no field wallet"):
        copy_with(_reservation(), wallet=8)


def test_copy_with_refuses_records_whose_init_does_more_than_set_fields() -> None:
    line = BalanceLine("CASH", UnitClass.CASH, "EUR", 10, -2, 8)
    with pytest.raises(TypeError, match="__post_init__"):
        copy_with(line, new_value=9)  # replace would re-check the sum; copy_with cannot

    @dataclass(frozen=True)
    class Derived:
        value: int
        doubled: int = field(init=False, default=0)

    with pytest.raises(TypeError, match="field __init__ does not set"):
        copy_with(Derived(1), value=2)

    @dataclass(frozen=True, slots=True)
    class Slotted:
        value: int

    with pytest.raises(TypeError, match="__dict__"):
        copy_with(Slotted(1), value=2)
    with pytest.raises(TypeError, match="dataclass"):
        copy_with((1, 2), value=2)
