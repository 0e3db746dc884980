"""Subscriber details beyond the CASM identity: description, PIN and service flags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ocs.core.errors import DomainError, ProblemKind, invalid

DESCRIPTION_LENGTH_MAX = 500
PIN_DIGITS_MIN = 4
PIN_DIGITS_MAX = 20
PIN_PATTERN = re.compile(rf"^[0-9]{{{PIN_DIGITS_MIN},{PIN_DIGITS_MAX}}}$")


@dataclass(frozen=True)
class SubscriberDetails:
    """The details view; the PIN itself is never part of it, only whether one is set."""

    description: str | None = None
    pin_defined: bool = False
    subscriber_id_restricted: bool = False
    incoming_calls_disabled_when_roaming: bool = False
    blacklisted: bool = False
    sms_notifications_disabled: bool = False
    remote_access_allowed: bool = False


class PinChange(StrEnum):
    KEEP = "KEEP"
    SET = "SET"
    CLEAR = "CLEAR"


def check_description(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > DESCRIPTION_LENGTH_MAX:
        raise invalid(
            "description", f"description must be at most {DESCRIPTION_LENGTH_MAX} characters"
        )
    return text or None


def decide_pin_change(
    pin_defined: bool, pin: str | None, pin_confirmation: str | None, currently_defined: bool
) -> PinChange:
    """What a details update does to the PIN. Unticking "PIN is defined" removes the PIN;
    ticking it needs a new PIN and the same PIN again, unless one is already set and no new
    one is given. Error details never repeat the PIN."""
    if not pin_defined:
        if pin is not None or pin_confirmation is not None:
            raise invalid("pin_defined", "a PIN can only be given with pin_defined true")
        return PinChange.CLEAR
    if pin is None:
        if pin_confirmation is not None or not currently_defined:
            raise DomainError(
                ProblemKind.MISSING_FIELD, "pin is required when pin_defined is true", "pin"
            )
        return PinChange.KEEP
    if not PIN_PATTERN.match(pin):
        raise invalid("pin", f"pin must be {PIN_DIGITS_MIN}-{PIN_DIGITS_MAX} digits")
    if pin_confirmation is None:
        raise DomainError(
            ProblemKind.MISSING_FIELD, "pin_confirmation must repeat the PIN", "pin_confirmation"
        )
    if pin_confirmation != pin:
        raise invalid("pin_confirmation", "pin_confirmation does not match pin")
    return PinChange.SET
