from __future__ import annotations

import pytest

from ocs.core.casm import (
    check_customer_name,
    check_language,
    check_subscriber_id,
    customer_name_key,
)
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.states import EntityState, check_transition


@pytest.mark.parametrize(
    ("a", "b"),
    [("Super Savers", "Super saver's"), ("ACME Ltd.", "acme ltd"), ("Émile", "emile")],
)
def test_customer_names_ignore_case_and_special_characters(a: str, b: str) -> None:
    assert customer_name_key(a) == customer_name_key(b)


def test_different_customer_names_have_different_keys() -> None:
    assert customer_name_key("Super Saver") != customer_name_key("Super Savers")


@pytest.mark.parametrize("name", ["", "   ", "!!!", None])
def test_customer_name_must_hold_a_letter_or_digit(name: object) -> None:
    with pytest.raises(DomainError) as caught:
        check_customer_name(name)
    assert caught.value.field == "name"


def test_subscriber_id_and_language_are_checked() -> None:
    assert check_subscriber_id(" 31612345678 ") == "31612345678"
    with pytest.raises(DomainError) as caught:
        check_subscriber_id("316 1234")
    assert caught.value.field == "subscriber_id"
    assert check_language("nl") == "nl"
    with pytest.raises(DomainError):
        check_language("Dutch")


ALLOWED = {
    ("INACTIVE", "ACTIVE"), ("INACTIVE", "SUSPENDED"), ("INACTIVE", "DEACTIVATED"),
    ("ACTIVE", "SUSPENDED"), ("ACTIVE", "DEACTIVATED"),
    ("SUSPENDED", "ACTIVE"), ("SUSPENDED", "DEACTIVATED"),
}  # fmt: skip


@pytest.mark.parametrize("current", list(EntityState))
@pytest.mark.parametrize("target", list(EntityState))
def test_state_transitions(current: EntityState, target: EntityState) -> None:
    if (current.value, target.value) in ALLOWED:
        check_transition(current, target)
    else:
        with pytest.raises(DomainError) as caught:
            check_transition(current, target)
        assert caught.value.kind is ProblemKind.INVALID_STATE_TRANSITION
