"""Pure rules of BPL tasks and of the subscriber search query."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ocs.core.bpl import (
    Action,
    ActionKind,
    Binding,
    Parameter,
    ParameterType,
    Task,
    bound,
    coerce,
    expiry_of_date,
    resolve_values,
)
from ocs.core.casm import SubscriberSearchField
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.subscriber_search import subscriber_query

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _task(*parameters: Parameter) -> Task:
    action = Action(ActionKind.NOTIFY, {"message": Binding(value="hi")})
    return Task(1, "SP1", "T", None, parameters, (action,), NOW, NOW)


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        (ParameterType.INTEGER, "42", 42),
        (ParameterType.INTEGER, -3, -3),
        (ParameterType.MONEY, " 1250 ", 1250),
        (ParameterType.BOOLEAN, "TRUE", True),
        (ParameterType.BOOLEAN, False, False),
        (ParameterType.DATE, "2026-02-28", date(2026, 2, 28)),
        (ParameterType.STRING, " text ", "text"),
    ],
)
def test_values_are_coerced_to_their_type(kind: ParameterType, raw: object, value: object) -> None:
    assert coerce(Parameter("p", kind), raw, "parameters.p") == value


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (ParameterType.INTEGER, "4.2"),
        (ParameterType.INTEGER, True),
        (ParameterType.MONEY, 10**19),
        (ParameterType.BOOLEAN, 1),
        (ParameterType.DATE, "28/02/2026"),
        (ParameterType.STRING, "x" * 201),
        (ParameterType.STRING, None),
    ],
)
def test_wrong_types_name_the_parameter(kind: ParameterType, raw: object) -> None:
    with pytest.raises(DomainError) as caught:
        coerce(Parameter("p", kind), raw, "parameters.p")
    assert (caught.value.kind, caught.value.field) == (ProblemKind.INVALID_VALUE, "parameters.p")


def test_resolution_takes_the_default_and_enforces_mandatory() -> None:
    task = _task(
        Parameter("a", ParameterType.INTEGER, mandatory=True),
        Parameter("b", ParameterType.CHOICE, default="x", choices=("x", "y")),
        Parameter("c", ParameterType.STRING),
    )
    assert resolve_values(task, {"a": "1"}) == {"a": 1, "b": "x"}
    assert resolve_values(task, {"a": 1, "b": "y", "c": "z"}) == {"a": 1, "b": "y", "c": "z"}
    with pytest.raises(DomainError) as caught:
        resolve_values(task, {"b": "y"})
    assert (caught.value.kind, caught.value.field) == (ProblemKind.MISSING_FIELD, "parameters.a")
    with pytest.raises(DomainError) as caught:
        resolve_values(task, {"a": 1, "b": "z"})
    assert caught.value.field == "parameters.b"


def test_bindings_and_date_expiry() -> None:
    action = Action(
        ActionKind.CHARGE,
        {"amount": Binding(parameter="fee"), "balance_type": Binding(value="CASH")},
    )
    assert bound(action, "amount", {"fee": 7}) == 7
    assert bound(action, "balance_type", {}) == "CASH"
    assert bound(action, "wallet_type", {}) is None
    assert expiry_of_date(date(2026, 3, 1)) == datetime(2026, 3, 1, tzinfo=UTC)


def test_the_search_query_takes_exactly_one_field() -> None:
    query = subscriber_query({"customer": "Super Saver's", "card_number": " "}, False)
    assert (query.field, query.text, query.exact) == (
        SubscriberSearchField.CUSTOMER, "supersavers", False
    )  # fmt: skip
    assert subscriber_query({"customer_id": "007"}, False).exact is True
    assert subscriber_query({"customer_id": "007"}, False).text == "7"
    with pytest.raises(DomainError) as caught:
        subscriber_query({"wallet_reference": "W1", "customer": "x"}, True)
    assert caught.value.kind is ProblemKind.INVALID_VALUE
    with pytest.raises(DomainError) as caught:
        subscriber_query({}, True)
    assert caught.value.kind is ProblemKind.MISSING_FIELD
    with pytest.raises(DomainError):
        subscriber_query({"subscriber_id": "9" * 101}, True)
