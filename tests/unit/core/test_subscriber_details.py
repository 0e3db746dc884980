from __future__ import annotations

import pytest

from ocs.core.errors import DomainError, ProblemKind
from ocs.core.subscriber_details import PinChange, check_description, decide_pin_change

SECRET = "482916"


@pytest.mark.parametrize(
    ("pin_defined", "pin", "confirmation", "currently", "change"),
    [
        (False, None, None, True, PinChange.CLEAR),
        (False, None, None, False, PinChange.CLEAR),
        (True, None, None, True, PinChange.KEEP),
        (True, SECRET, SECRET, False, PinChange.SET),
        (True, SECRET, SECRET, True, PinChange.SET),
        (True, "1234", "1234", False, PinChange.SET),
        (True, "1" * 20, "1" * 20, False, PinChange.SET),
    ],
)
def test_pin_changes(
    pin_defined: bool, pin: str | None, confirmation: str | None, currently: bool, change: PinChange
) -> None:
    assert decide_pin_change(pin_defined, pin, confirmation, currently) is change


@pytest.mark.parametrize(
    ("pin_defined", "pin", "confirmation", "currently", "kind", "field"),
    [
        (True, SECRET, "482917", False, ProblemKind.INVALID_VALUE, "pin_confirmation"),
        (True, SECRET, None, False, ProblemKind.MISSING_FIELD, "pin_confirmation"),
        (True, None, None, False, ProblemKind.MISSING_FIELD, "pin"),
        (True, None, SECRET, True, ProblemKind.MISSING_FIELD, "pin"),
        (True, "123", "123", False, ProblemKind.INVALID_VALUE, "pin"),
        (True, "1" * 21, "1" * 21, False, ProblemKind.INVALID_VALUE, "pin"),
        (True, "12a4", "12a4", False, ProblemKind.INVALID_VALUE, "pin"),
        (False, SECRET, SECRET, True, ProblemKind.INVALID_VALUE, "pin_defined"),
    ],
)
def test_pin_refusals_never_repeat_the_pin(
    pin_defined: bool,
    pin: str | None,
    confirmation: str | None,
    currently: bool,
    kind: ProblemKind,
    field: str,
) -> None:
    with pytest.raises(DomainError) as caught:
        decide_pin_change(pin_defined, pin, confirmation, currently)
    assert (caught.value.kind, caught.value.field) == (kind, field)
    for secret in (pin, confirmation):
        if secret:
            assert secret not in caught.value.detail


def test_description() -> None:
    assert check_description(None) is None
    assert check_description("  ") is None
    assert check_description(" VIP ") == "VIP"
    with pytest.raises(DomainError) as caught:
        check_description("x" * 501)
    assert caught.value.field == "description"
