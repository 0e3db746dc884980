from __future__ import annotations

import pytest

from ocs.core.errors import DomainError, ProblemKind
from ocs.core.number_translation import (
    SHORT_CODES_MAX,
    ShortCode,
    Translation,
    TranslationLevel,
    TranslationScope,
    check_short_codes,
    translate,
)

SUB, PT, SP, SYS = (
    TranslationLevel.SUBSCRIBER,
    TranslationLevel.PRODUCT_TYPE,
    TranslationLevel.SERVICE_PROVIDER,
    TranslationLevel.SYSTEM,
)
ALL_LEVELS = {
    SUB: [ShortCode("1", "31600000001")],
    PT: [ShortCode("1", "31600000002"), ShortCode("2", "31600000022")],
    SP: [ShortCode("1", "31600000003"), ShortCode("2", "31600000033"), ShortCode("3", "333")],
    SYS: [ShortCode("1", "4"), ShortCode("2", "44"), ShortCode("3", "444"), ShortCode("4", "4444")],
}


@pytest.mark.parametrize(
    ("dialled", "expected"),
    [
        ("1", Translation("31600000001", SUB)),
        ("2", Translation("31600000022", PT)),
        ("3", Translation("333", SP)),
        ("4", Translation("4444", SYS)),
        ("5", Translation("5")),
    ],
)
def test_the_most_specific_level_wins(dialled: str, expected: Translation) -> None:
    assert translate(dialled, ALL_LEVELS) == expected


def test_each_level_alone_translates() -> None:
    for level in TranslationLevel:
        assert translate("1", {level: ALL_LEVELS[level]}).level is level


def test_short_codes_match_whole_numbers_only() -> None:
    tables = {SYS: [ShortCode("12", "999")]}
    assert translate("123", tables) == Translation("123")
    assert translate("1", tables) == Translation("1")
    assert translate("12", tables) == Translation("999", SYS)


def test_no_tables_means_no_translation() -> None:
    assert translate("*100#", {}) == Translation("*100#")


def test_check_short_codes_accepts_keypad_codes_and_sorts() -> None:
    assert check_short_codes([("*100#", "3161"), ("11", "3162")]) == (
        ShortCode("*100#", "3161"),
        ShortCode("11", "3162"),
    )


@pytest.mark.parametrize(
    ("entries", "kind", "field"),
    [
        ([("1a", "3161")], ProblemKind.INVALID_VALUE, "short_code"),
        ([("", "3161")], ProblemKind.INVALID_VALUE, "short_code"),
        ([("1", "+3161")], ProblemKind.INVALID_VALUE, "number"),
        ([("1", "3" * 33)], ProblemKind.INVALID_VALUE, "number"),
        ([("1", "31"), ("1", "32")], ProblemKind.DUPLICATE, "short_code"),
        ([(str(i), "31") for i in range(SHORT_CODES_MAX + 1)], ProblemKind.INVALID_VALUE,
         "short_codes"),
    ],
)  # fmt: skip
def test_check_short_codes_refusals(
    entries: list[tuple[str, str]], kind: ProblemKind, field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        check_short_codes(entries)
    assert (caught.value.kind, caught.value.field) == (kind, field)


def test_scopes_key_short_codes_by_owner() -> None:
    assert TranslationScope(SUB, subscriber_id=7).owner == "7"
    assert TranslationScope(PT, product_type="GOLD").owner == "GOLD"
    assert TranslationScope(SP, service_provider="SP1").owner == "SP1"
    assert TranslationScope(SYS).owner == ""
