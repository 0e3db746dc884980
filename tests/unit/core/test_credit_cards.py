from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ocs.core.credit_cards import (
    CardState,
    CreditCard,
    DeleteOutcome,
    MaskingRule,
    Registration,
    RegistrationState,
    card_token,
    check_card_number,
    check_cvc,
    check_deregister,
    check_expiry,
    check_freeze,
    check_masking_rule,
    check_name_on_card,
    check_registration_limit,
    check_set_primary,
    check_unfreeze,
    confirmed_state,
    delete_outcome,
    initial_state,
    luhn_valid,
    luhn_warnings,
    mask_number,
)
from ocs.core.errors import DomainError, ProblemKind

VISA = "4111111111111111"  # a well-known test number that passes the Luhn check
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
RULE = MaskingRule("STD", "Standard", 6, 4, "*")


def _card(state: CardState) -> CreditCard:
    return CreditCard(1, "SP1", "t", "411111******1111", "STD", 12, 2030, None, state, NOW, NOW)


def _registration(state: RegistrationState) -> Registration:
    return Registration(1, 7, state, NOW)


def _refusal(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


# -- masking ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "number", "shown"),
    [
        (RULE, VISA, "411111******1111"),
        (MaskingRule("L4", "Last four", 0, 4, "#"), VISA, "############1111"),
        (MaskingRule("NONE", "Nothing", 0, 0, "x"), "378282246310005", "x" * 15),
        (MaskingRule("F6", "First six", 6, 0, "-"), "123456789012", "123456------"),
        (RULE, "4242424242424242424", "424242*********2424"),
    ],
)
def test_display_number_is_prefix_padding_suffix(
    rule: MaskingRule, number: str, shown: str
) -> None:
    assert mask_number(number, rule) == shown
    assert len(shown) == len(number)


def test_a_valid_masking_rule_is_normalised() -> None:
    assert check_masking_rule(" STD ", " Standard ", 6, 4, "*") == RULE


@pytest.mark.parametrize(
    ("args", "kind", "field"),
    [
        (("", "n", 6, 4, "*"), ProblemKind.MISSING_FIELD, "code"),
        (("a b", "n", 6, 4, "*"), ProblemKind.INVALID_VALUE, "code"),
        (("C", " ", 6, 4, "*"), ProblemKind.MISSING_FIELD, "name"),
        (("C", "n", -1, 4, "*"), ProblemKind.INVALID_VALUE, "prefix_length"),
        (("C", "n", 6, -1, "*"), ProblemKind.INVALID_VALUE, "suffix_length"),
        (("C", "n", 7, 0, "*"), ProblemKind.INVALID_VALUE, "prefix_length"),
        (("C", "n", 0, 5, "*"), ProblemKind.INVALID_VALUE, "suffix_length"),
        (("C", "n", True, 4, "*"), ProblemKind.INVALID_VALUE, "prefix_length"),
        (("C", "n", 6, 4, ""), ProblemKind.INVALID_VALUE, "padding"),
        (("C", "n", 6, 4, "**"), ProblemKind.INVALID_VALUE, "padding"),
        (("C", "n", 6, 4, "0"), ProblemKind.INVALID_VALUE, "padding"),
        (("C", "n", 6, 4, " "), ProblemKind.INVALID_VALUE, "padding"),
    ],
)
def test_bad_masking_rules_are_refused(
    args: tuple[object, ...], kind: ProblemKind, field: str
) -> None:
    error = _refusal(check_masking_rule, *args)
    assert (error.kind, error.field) == (kind, field)


def test_prefix_and_suffix_must_be_shorter_than_the_shortest_card_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With the PCI limits (6 + 4) the sum cannot reach 12; lift them to reach the length rule.
    monkeypatch.setattr("ocs.core.credit_cards.MASK_PREFIX_LENGTH_MAX", 12)
    assert check_masking_rule("C", "n", 11, 0, "*").prefix_length == 11
    error = _refusal(check_masking_rule, "C", "n", 8, 4, "*")
    assert error.field == "suffix_length"
    assert "shorter than the shortest card number" in error.detail


# -- number, Luhn, CVC, expiry, name ---------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (VISA, True),
        ("4111111111111112", False),
        ("378282246310005", True),  # American Express test number
        ("5555555555554444", True),
        ("5555555555554445", False),
        ("79927398713", True),  # the textbook example
        ("79927398710", False),
    ],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


def test_a_failed_luhn_check_is_a_warning_only_when_accepted() -> None:
    assert luhn_warnings(VISA, False) == []
    bad = "4111111111111112"
    error = _refusal(luhn_warnings, bad, False)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "number")
    assert "accept_luhn_failure" in error.detail
    assert luhn_warnings(bad, True) == ["the card number fails the Luhn checksum"]


@pytest.mark.parametrize(
    "number",
    [
        "",
        "4111 1111 1111 1111",
        "41111111111",
        "4" * 20,
        "411111111111111a",
        "\uff14" * 12,  # full-width digits,
    ],
)
def test_bad_card_numbers_are_refused_without_repeating_them(number: str) -> None:
    error = _refusal(check_card_number, number)
    assert error.field == "number"
    assert number.strip() == "" or number not in error.detail


def test_card_numbers_of_12_to_19_digits_pass() -> None:
    assert check_card_number("1" * 12) == "1" * 12
    assert check_card_number("1" * 19) == "1" * 19


@pytest.mark.parametrize("cvc", ["123", "1234"])
def test_cvc_of_three_or_four_digits(cvc: str) -> None:
    check_cvc(cvc)


@pytest.mark.parametrize("cvc", ["", "12", "12345", "12a", " 123"])
def test_bad_cvcs_are_refused_without_repeating_them(cvc: str) -> None:
    error = _refusal(check_cvc, cvc)
    assert error.field == "cvc"
    assert not cvc.strip() or cvc.strip() not in error.detail


def test_expiry_runs_to_the_end_of_its_month() -> None:
    assert check_expiry(1, 2026, NOW) == (1, 2026)  # this month: still valid
    assert check_expiry(12, 2046, NOW) == (12, 2046)
    error = _refusal(check_expiry, 12, 2025, NOW)
    assert (error.field, error.detail) == ("expiry_year", "the card expired at the end of 2025-12")


@pytest.mark.parametrize(
    ("month", "year", "field"),
    [(0, 2027, "expiry_month"), (13, 2027, "expiry_month"), (1, 2047, "expiry_year"),
     (5, "2027", "expiry_year"), (True, 2027, "expiry_month")],
)  # fmt: skip
def test_bad_expiry_dates(month: object, year: object, field: str) -> None:
    assert _refusal(check_expiry, month, year, NOW).field == field


def test_name_on_card() -> None:
    assert check_name_on_card("  Ann   Smith ") == "Ann Smith"
    assert check_name_on_card("  ") is None
    assert check_name_on_card(None) is None
    assert _refusal(check_name_on_card, "A" * 101).field == "name_on_card"
    assert _refusal(check_name_on_card, "Ann 4111").field == "name_on_card"


def test_the_token_is_keyed_and_stable() -> None:
    key = b"k" * 32
    token = card_token(key, VISA)
    assert token == card_token(key, VISA)
    assert len(token) == 64
    assert VISA not in token
    assert token != card_token(b"j" * 32, VISA)
    assert token != card_token(key, "4111111111111112")


# -- states and registrations ----------------------------------------------------------------


def test_unregistered_new_cards_must_be_frozen() -> None:
    assert initial_state(True, False) is CardState.FROZEN
    assert initial_state(True, True) is CardState.FROZEN
    assert initial_state(False, True) is CardState.ACTIVE
    assert _refusal(initial_state, False, False).field == "frozen"


def test_freeze_and_unfreeze() -> None:
    check_freeze(_card(CardState.ACTIVE))
    assert _refusal(check_freeze, _card(CardState.FROZEN)).kind is (
        ProblemKind.INVALID_STATE_TRANSITION
    )
    assert _refusal(check_freeze, _card(CardState.DELETED)).kind is ProblemKind.NOT_ALLOWED_IN_STATE
    check_unfreeze(_card(CardState.FROZEN), 1)
    unregistered = _refusal(check_unfreeze, _card(CardState.FROZEN), 0)
    assert (unregistered.kind, unregistered.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "state")
    assert _refusal(check_unfreeze, _card(CardState.ACTIVE), 1).kind is (
        ProblemKind.INVALID_STATE_TRANSITION
    )


def test_delete_removes_active_cards_and_keeps_frozen_ones_as_deleted() -> None:
    assert delete_outcome(_card(CardState.ACTIVE)) is DeleteOutcome.REMOVED
    assert delete_outcome(_card(CardState.FROZEN)) is DeleteOutcome.DELETED
    assert _refusal(delete_outcome, _card(CardState.DELETED)).kind is (
        ProblemKind.NOT_ALLOWED_IN_STATE
    )


@pytest.mark.parametrize("state", [RegistrationState.NEW, RegistrationState.PENDING])
def test_confirming_makes_the_first_subscriber_primary(state: RegistrationState) -> None:
    assert confirmed_state(_registration(state), False) is RegistrationState.PRIMARY
    assert confirmed_state(_registration(state), True) is RegistrationState.SECONDARY


@pytest.mark.parametrize("state", [RegistrationState.PRIMARY, RegistrationState.SECONDARY])
def test_only_new_or_pending_registrations_are_confirmed(state: RegistrationState) -> None:
    assert _refusal(confirmed_state, _registration(state), False).kind is (
        ProblemKind.INVALID_STATE_TRANSITION
    )


def test_the_primary_subscriber_is_set_on_frozen_cards_only() -> None:
    check_set_primary(_card(CardState.FROZEN), _registration(RegistrationState.SECONDARY))
    check_set_primary(_card(CardState.FROZEN), _registration(RegistrationState.PENDING))
    assert (
        _refusal(
            check_set_primary, _card(CardState.ACTIVE), _registration(RegistrationState.SECONDARY)
        ).field
        == "state"
    )
    assert (
        _refusal(
            check_set_primary, _card(CardState.FROZEN), _registration(RegistrationState.PRIMARY)
        ).kind
        is ProblemKind.INVALID_STATE_TRANSITION
    )


def test_the_primary_subscriber_cannot_be_deregistered() -> None:
    for state in (RegistrationState.SECONDARY, RegistrationState.PENDING, RegistrationState.NEW):
        check_deregister(_registration(state))
    error = _refusal(check_deregister, _registration(RegistrationState.PRIMARY))
    assert (error.kind, error.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "subscriber_id")


def test_registration_limit() -> None:
    check_registration_limit(2, 3)
    assert _refusal(check_registration_limit, 3, 3).field == "subscriber_id"
