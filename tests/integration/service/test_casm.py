"""Customers, accounts, subscribers, resources and states on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ocs.bootstrap import Services
from ocs.core.casm import SEARCH_ROWS_MAX, CasmLevel
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import ROLE_PRIVILEGES, Role
from ocs.core.states import EntityState
from ocs.service.actor import Actor
from ocs.service.casm import AccountInput, CustomerInput, ResourceInput, SubscriberInput
from tests.support.catalog import OTHER_PROVIDER, PROVIDER, load_basics
from tests.support.clock import FakeClock


@pytest.fixture
def basics(services: Services, admin: Actor) -> Services:
    load_basics(services, admin)
    return services


def _refused(call: object, *args: object, **kwargs: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def _customer(services: Services, admin: Actor, name: str = "Super Savers") -> int:
    inp = CustomerInput(name=name, service_provider=PROVIDER)
    return services.casm.create_customer(admin, inp).id


def _account(services: Services, admin: Actor, customer_id: int) -> int:
    inp = AccountInput(customer_id=customer_id, account_type="PAYER")
    return services.casm.create_account(admin, inp).id


def test_customer_names_are_unique_per_provider_ignoring_case_and_specials(
    basics: Services, admin: Actor
) -> None:
    casm = basics.casm
    _customer(basics, admin, "Super Savers")
    error = _refused(
        casm.create_customer, admin, CustomerInput(name="Super saver's", service_provider=PROVIDER)
    )
    assert (error.kind, error.field) == (ProblemKind.DUPLICATE, "name")
    other = casm.create_customer(
        admin, CustomerInput(name="Super saver's", service_provider=OTHER_PROVIDER)
    )
    assert other.service_provider == OTHER_PROVIDER
    second = _customer(basics, admin, "Budget Club")
    error = _refused(casm.update_customer, admin, second, name="SUPER-SAVERS")
    assert error.kind is ProblemKind.DUPLICATE
    assert casm.get_customer(admin, second).name == "Budget Club"


def test_customer_search_by_prefix_returns_at_most_100(basics: Services, admin: Actor) -> None:
    for i in range(SEARCH_ROWS_MAX + 5):
        _customer(basics, admin, f"Acme {i:03d}")
    _customer(basics, admin, "Zed")
    hits = basics.casm.search_customers(admin, "acme")
    assert len(hits) == SEARCH_ROWS_MAX
    assert hits[0].name == "Acme 000"
    assert [c.name for c in basics.casm.search_customers(admin, "ACME 10")] == [
        f"Acme {i}" for i in range(100, 105)
    ]
    assert [c.name for c in basics.casm.search_customers(admin, "z")] == ["Zed"]


def test_customer_fields_profile_and_unknown_segment(basics: Services, admin: Actor) -> None:
    casm = basics.casm
    customer = casm.create_customer(
        admin,
        CustomerInput(name="Ann", service_provider=PROVIDER, reference="R-1", profile="CP"),
    )
    assert (customer.segment, customer.state, customer.state_reason) == (
        "RES", EntityState.ACTIVE, "NEW",
    )  # fmt: skip
    assert customer.reference == "R-1"
    bad = CustomerInput(name="Bob", service_provider=PROVIDER, segment="NOPE")
    error = _refused(casm.create_customer, admin, bad)
    assert (error.kind, error.field) == (ProblemKind.UNKNOWN_REFERENCE, "segment")
    missing = CustomerInput(name="Bob")
    assert _refused(casm.create_customer, admin, missing).field == "service_provider"
    assert [c.name for c in casm.search_customers(admin)] == ["Ann"]


def test_state_reason_of_the_wrong_state_is_refused(basics: Services, admin: Actor) -> None:
    bad = CustomerInput(name="Ann", service_provider=PROVIDER, state="ACTIVE", state_reason="DEBT")
    error = _refused(basics.casm.create_customer, admin, bad)
    assert (error.kind, error.field) == (ProblemKind.STATE_REASON_MISMATCH, "state_reason")
    customer_id = _customer(basics, admin)
    error = _refused(
        basics.casm.change_state, admin, CasmLevel.CUSTOMER, customer_id, "SUSPENDED", "NEW"
    )
    assert error.kind is ProblemKind.STATE_REASON_MISMATCH
    assert basics.casm.get_customer(admin, customer_id).state is EntityState.ACTIVE


def test_account_hierarchy_and_payer_flag(basics: Services, admin: Actor) -> None:
    casm = basics.casm
    customer_id = _customer(basics, admin)
    payer = casm.create_account(admin, AccountInput(customer_id=customer_id, account_type="PAYER"))
    assert payer.payment_responsible is True
    assert payer.name == "Super Savers"
    tech = casm.create_account(
        admin,
        AccountInput(customer_id=customer_id, account_type="TECH", parent_account_id=payer.id),
    )
    assert (tech.payment_responsible, tech.parent_account_id) == (False, payer.id)
    other_customer = _customer(basics, admin, "Other")
    foreign = AccountInput(
        customer_id=other_customer, account_type="TECH", parent_account_id=payer.id
    )
    error = _refused(casm.create_account, admin, foreign)
    assert (error.kind, error.field) == (ProblemKind.UNKNOWN_REFERENCE, "parent_account_id")
    error = _refused(casm.create_account, admin, AccountInput(customer_id=999, account_type="TECH"))
    assert (error.kind, error.field) == (ProblemKind.UNKNOWN_REFERENCE, "customer_id")
    error = _refused(casm.delete_account, admin, payer.id)
    assert error.kind is ProblemKind.IN_USE
    assert [a.id for a in casm.list_accounts(admin, customer_id)] == [payer.id, tech.id]


def test_subscriber_from_profile_creates_customer_and_account_in_one_transaction(
    basics: Services, admin: Actor
) -> None:
    casm = basics.casm
    inp = SubscriberInput(
        subscriber_id="31600000001",
        profile="SP",
        resources=(ResourceInput("MSISDN", "31600000001"), ResourceInput("IMSI", "204000001")),
        account=AccountInput(customer=CustomerInput(name="Profiled", service_provider=PROVIDER)),
    )
    view = casm.create_subscriber(admin, inp)
    sub = view.subscriber
    assert (sub.state, sub.state_reason, sub.segment) == (EntityState.INACTIVE, "PREP", "MOB")
    assert sub.card_number == "31600000001"
    account = casm.get_account(admin, sub.account_id)
    assert (account.account_type, account.billing_cycle, account.currency) == (
        "PAYER", "M1", "EUR",
    )  # fmt: skip
    customer = casm.get_customer(admin, account.customer_id)
    assert (customer.name, customer.segment, customer.state) == (
        "Profiled", "RES", EntityState.ACTIVE,
    )  # fmt: skip
    # A failure late in the chain (duplicate IMSI) leaves no customer or account behind.
    again = SubscriberInput(
        subscriber_id="31600000002",
        profile="SP",
        resources=(ResourceInput("IMSI", "204000001"),),
        account=AccountInput(customer=CustomerInput(name="Second", service_provider=PROVIDER)),
    )
    error = _refused(casm.create_subscriber, admin, again)
    assert (error.kind, error.field) == (ProblemKind.DUPLICATE, "resources[0].value")
    assert [c.name for c in casm.search_customers(admin)] == ["Profiled"]


def test_subscriber_ids_and_card_numbers_are_unique(basics: Services, admin: Actor) -> None:
    casm = basics.casm
    account_id = _account(basics, admin, _customer(basics, admin))
    casm.create_subscriber(admin, SubscriberInput("3161", account_id=account_id, card_number="C1"))
    error = _refused(casm.create_subscriber, admin, SubscriberInput("3161", account_id=account_id))
    assert (error.kind, error.field) == (ProblemKind.DUPLICATE, "subscriber_id")
    dup_card = SubscriberInput("3162", account_id=account_id, card_number="C1")
    error = _refused(casm.create_subscriber, admin, dup_card)
    assert (error.kind, error.field) == (ProblemKind.DUPLICATE, "card_number")
    error = _refused(casm.create_subscriber, admin, SubscriberInput("3163"))
    assert (error.kind, error.field) == (ProblemKind.MISSING_FIELD, "account_id")
    assert [s.subscriber_id for s in casm.list_subscribers(admin, account_id)] == ["3161"]


def test_one_lookup_finds_a_subscriber_by_any_resource(basics: Services, admin: Actor) -> None:
    casm = basics.casm
    account_id = _account(basics, admin, _customer(basics, admin))
    view = casm.create_subscriber(
        admin,
        SubscriberInput(
            "31611", account_id=account_id, resources=(ResourceInput("MSISDN", "31611"),)
        ),
    )
    imsi = casm.add_resource(admin, view.subscriber.id, ResourceInput("IMSI", "20404"))
    assert casm.find_subscriber_by_resource(admin, "20404").subscriber.id == view.subscriber.id
    found = casm.find_subscriber_by_resource(admin, "31611", "MSISDN")
    assert {r.resource_type for r in found.resources} == {"MSISDN", "IMSI"}
    error = _refused(casm.add_resource, admin, view.subscriber.id, ResourceInput("IMSI", "20404"))
    assert (error.kind, error.field) == (ProblemKind.DUPLICATE, "value")
    casm.delete_resource(admin, view.subscriber.id, imsi.id)
    assert _refused(casm.find_subscriber_by_resource, admin, "20404").kind is ProblemKind.NOT_FOUND


def test_state_changes_now_and_pending(basics: Services, admin: Actor, clock: FakeClock) -> None:
    casm = basics.casm
    customer_id = _customer(basics, admin)
    change = casm.change_state(admin, CasmLevel.CUSTOMER, customer_id, "SUSPENDED", "DEBT")
    assert change.status == "APPLIED"
    assert casm.get_customer(admin, customer_id).state is EntityState.SUSPENDED
    later = clock.now() + timedelta(days=3)
    pending = casm.change_state(
        admin, CasmLevel.CUSTOMER, customer_id, "ACTIVE", "NEW", valid_from=later
    )
    assert pending.status == "PENDING"
    assert casm.get_customer(admin, customer_id).state is EntityState.SUSPENDED
    error = _refused(
        casm.change_state, admin, CasmLevel.CUSTOMER, customer_id, "DEACTIVATED", "CHURN"
    )
    assert error.kind is ProblemKind.CONFLICT
    casm.confirm_state_change(admin, pending.id)
    assert casm.get_customer(admin, customer_id).state is EntityState.ACTIVE
    assert _refused(casm.cancel_state_change, admin, pending.id).kind is ProblemKind.CONFLICT
    other = casm.change_state(
        admin, CasmLevel.CUSTOMER, customer_id, "DEACTIVATED", "CHURN", valid_from=later
    )
    assert casm.cancel_state_change(admin, other.id).status == "CANCELLED"
    statuses = [c.status for c in casm.list_state_changes(admin, CasmLevel.CUSTOMER, customer_id)]
    assert statuses == ["APPLIED", "APPLIED", "CANCELLED"]


def test_deactivated_is_final_and_takes_nothing_new(basics: Services, admin: Actor) -> None:
    casm = basics.casm
    customer_id = _customer(basics, admin)
    account_id = _account(basics, admin, customer_id)
    casm.change_state(admin, CasmLevel.ACCOUNT, account_id, "DEACTIVATED", "CHURN")
    error = _refused(casm.change_state, admin, CasmLevel.ACCOUNT, account_id, "ACTIVE", "NEW")
    assert error.kind is ProblemKind.INVALID_STATE_TRANSITION
    error = _refused(casm.create_subscriber, admin, SubscriberInput("31699", account_id=account_id))
    assert (error.kind, error.field) == (ProblemKind.INVALID_STATE_TRANSITION, "account_id")
    casm.change_state(admin, CasmLevel.CUSTOMER, customer_id, "DEACTIVATED", "CHURN")
    error = _refused(casm.create_account, admin, AccountInput(customer_id=customer_id,
                                                                account_type="TECH"))  # fmt: skip
    assert error.kind is ProblemKind.INVALID_STATE_TRANSITION


def test_operator_limited_to_a_provider_sees_only_its_customers(
    basics: Services, admin: Actor
) -> None:
    _customer(basics, admin, "Mine")
    theirs = basics.casm.create_customer(
        admin, CustomerInput(name="Theirs", service_provider=OTHER_PROVIDER)
    )
    limited = Actor("op", ROLE_PRIVILEGES[Role.OPERATOR], frozenset({PROVIDER}))
    assert [c.name for c in basics.casm.search_customers(limited)] == ["Mine"]
    assert _refused(basics.casm.get_customer, limited, theirs.id).kind is ProblemKind.NOT_FOUND
    error = _refused(
        basics.casm.create_customer, limited,
        CustomerInput(name="New", service_provider=OTHER_PROVIDER),
    )  # fmt: skip
    assert (error.kind, error.field) == (ProblemKind.FORBIDDEN, "service_provider")


def test_read_only_operator_cannot_change_anything(basics: Services, admin: Actor) -> None:
    reader = Actor("reader", ROLE_PRIVILEGES[Role.READ_ONLY])
    customer_id = _customer(basics, admin)
    assert basics.casm.get_customer(reader, customer_id).name == "Super Savers"
    error = _refused(basics.casm.update_customer, reader, customer_id, name="Other")
    assert error.kind is ProblemKind.FORBIDDEN
    error = _refused(basics.casm.delete_customer, reader, customer_id)
    assert error.kind is ProblemKind.FORBIDDEN
    assert basics.casm.get_customer(admin, customer_id).name == "Super Savers"


def test_delete_subscriber_then_account_then_customer(basics: Services, admin: Actor) -> None:
    casm = basics.casm
    customer_id = _customer(basics, admin)
    account_id = _account(basics, admin, customer_id)
    view = casm.create_subscriber(
        admin, SubscriberInput("316", account_id=account_id,
                               resources=(ResourceInput("MSISDN", "316"),))
    )  # fmt: skip
    assert _refused(casm.delete_customer, admin, customer_id).kind is ProblemKind.IN_USE
    casm.delete_subscriber(admin, view.subscriber.id)
    assert _refused(casm.find_subscriber_by_resource, admin, "316").kind is ProblemKind.NOT_FOUND
    casm.delete_account(admin, account_id)
    casm.delete_customer(admin, customer_id)
    assert casm.search_customers(admin) == []


def test_changes_are_audited_with_reason_when_auditing_is_on(
    basics: Services, admin: Actor
) -> None:
    basics.operators.set_edr_auditing(admin, True)
    inp = CustomerInput(name="Audited", service_provider=PROVIDER)
    error = _refused(basics.casm.create_customer, admin, inp)
    assert error.kind is ProblemKind.CHANGE_REASON_REQUIRED
    assert basics.casm.search_customers(admin) == []
    customer = basics.casm.create_customer(admin.with_reason("signed contract"), inp)
    entry = basics.operators.audit_trail(admin, "customer", 5)[0]
    assert (entry.entity_key, entry.change_reason, entry.operator) == (
        str(customer.id), "signed contract", "tester",
    )  # fmt: skip
