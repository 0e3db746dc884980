"""Integer money: exchange rates as integers and conversion with explicit rounding."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ocs.core.errors import invalid

# An exchange rate is the price of one major unit of the source currency in major units of the
# target currency, held as an integer number of billionths so no float ever touches money.
RATE_SCALE = 10**9
RATE_DECIMALS_MAX = 9
RATE_MAX = 10**6 * RATE_SCALE
_RATE_PATTERN = re.compile(r"^(\d{1,7})(?:\.(\d{1,9}))?$")


@dataclass(frozen=True)
class ExchangeRate:
    from_currency: str
    to_currency: str
    rate_nano: int


def round_half_away_from_zero(numerator: int, denominator: int) -> int:
    """numerator / denominator to the nearest integer; an exact half goes away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def convert_minor(amount_minor: int, from_scale: int, to_scale: int, rate_nano: int) -> int:
    """An amount in minor units of one currency expressed in minor units of another.

    Example: 1000 EUR cents at 1.085 USD/EUR (rate_nano 1_085_000_000) is 1085 USD cents.
    Halves round away from zero, so a refund converts to the negation of its charge.
    """
    numerator = amount_minor * rate_nano * 10**to_scale
    return round_half_away_from_zero(numerator, RATE_SCALE * 10**from_scale)


def parse_rate(text: object, field: str = "rate") -> int:
    """A decimal rate such as "1.0853" as billionths, exactly; never through float."""
    match = _RATE_PATTERN.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise invalid(
            field,
            f"{field} must be a positive decimal number with at most {RATE_DECIMALS_MAX} "
            f"decimals, such as '1.0853', got {text!r}",
        )
    whole, fraction = match.group(1), match.group(2) or ""
    rate = int(whole) * RATE_SCALE + int(fraction.ljust(RATE_DECIMALS_MAX, "0"))
    if not 0 < rate <= RATE_MAX:
        raise invalid(field, f"{field} must be above 0 and at most {RATE_MAX // RATE_SCALE}")
    return rate


def format_rate(rate_nano: int) -> str:
    """The decimal text of a rate, without trailing zeros: 1_085_000_000 -> "1.085"."""
    whole, fraction = divmod(rate_nano, RATE_SCALE)
    digits = f"{fraction:09d}".rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)
