"""Credit card use cases on SQLite and PostgreSQL: masking, tokens, search, card states,
registrations, wallet freezing, auditing and every refusal."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.core.credit_cards import CardState, DeleteOutcome, RegistrationState, card_token
from ocs.core.edr import EdrQuery, EdrType
from ocs.core.errors import ProblemKind
from ocs.core.security import Role
from ocs.core.wallets import WalletState
from ocs.service.actor import Actor
from ocs.service.credit_cards import (
    TOKEN_KEY_SETTING,
    CardInput,
    CardSearch,
    CardUpdate,
    CardView,
    CreditCardService,
)
from ocs.service.wallets import WalletService
from tests.support.catalog import OTHER_PROVIDER, PROVIDER
from tests.support.clock import FakeClock
from tests.support.features import operator, refused
from tests.support.wallets import load_wallet_catalog, new_subscriber, wallet_of

VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"
BAD_LUHN = "4111111111111112"
CVC = "737"


@pytest.fixture
def world(services: Services, admin: Actor) -> Services:
    load_wallet_catalog(services, admin)
    services.credit_cards.create_rule(admin, "STD", "First six, last four", 6, 4, "*")
    services.credit_cards.create_rule(admin, "L4", "Last four", 0, 4, "#")
    return services


def _input(number: str = VISA, **changes: object) -> CardInput:
    inp = CardInput(
        service_provider=PROVIDER,
        masking_rule="STD",
        expiry_month=12,
        expiry_year=2030,
        number=number,
        cvc=CVC,
        name_on_card="Ann Smith",
    )
    return replace(inp, **changes)  # type: ignore[arg-type]


def _card(services: Services, admin: Actor, number: str = VISA, **changes: object) -> CardView:
    return services.credit_cards.create(admin, _input(number, **changes)).card


def _states(view: CardView) -> dict[int, RegistrationState]:
    return {r.subscriber_id: r.state for r in view.registrations}


def _count_cards(services: Services, admin: Actor) -> int:
    criteria = CardSearch(display_number="", calling_card_id=None, states=tuple(CardState))
    found = 0
    for prefix in ("4", "5", "3", "#"):
        found += len(
            services.credit_cards.search(admin, replace(criteria, display_number=prefix)).items
        )
    return found


# -- masking rules -----------------------------------------------------------------------------


def test_masking_rules_are_kept_and_refused_while_in_use(world: Services, admin: Actor) -> None:
    cards = world.credit_cards
    assert [r.code for r in cards.list_rules(admin)] == ["L4", "STD"]
    assert cards.get_rule(admin, "STD").padding == "*"
    duplicate = refused(cards.create_rule, admin, "STD", "again", 4, 4, "*")
    assert (duplicate.kind, duplicate.field) == (ProblemKind.DUPLICATE, "code")
    wrong = refused(cards.create_rule, admin, "WIDE", "too wide", 8, 4, "*")
    assert (wrong.kind, wrong.field) == (ProblemKind.INVALID_VALUE, "prefix_length")
    _card(world, admin)
    in_use = refused(cards.delete_rule, admin, "STD")
    assert in_use.kind is ProblemKind.IN_USE
    cards.delete_rule(admin, "L4")
    assert refused(cards.get_rule, admin, "L4").kind is ProblemKind.NOT_FOUND
    assert refused(cards.delete_rule, admin, "L4").kind is ProblemKind.NOT_FOUND


# -- creating ------------------------------------------------------------------------------------


def test_a_card_keeps_only_its_token_and_display_number(world: Services, admin: Actor) -> None:
    created = world.credit_cards.create(admin, _input())
    card = created.card.card
    assert created.warnings == []
    assert (card.display_number, card.masking_rule, card.state) == (
        "411111******1111", "STD", CardState.FROZEN,
    )  # fmt: skip
    assert (card.expiry_month, card.expiry_year, card.name_on_card) == (12, 2030, "Ann Smith")
    with world.store.transaction() as uow:
        key = uow.settings.get(TOKEN_KEY_SETTING)
    assert key is not None
    assert card.token == card_token(bytes.fromhex(key), VISA)
    last_four = _card(world, admin, MASTERCARD, masking_rule="L4").card
    assert last_four.display_number == "############4444"
    assert VISA not in repr(_input())
    assert CVC not in repr(_input())


def test_the_same_number_is_refused_twice(world: Services, admin: Actor) -> None:
    first = _card(world, admin)
    again = refused(world.credit_cards.create, admin, _input(masking_rule="L4"))
    assert (again.kind, again.field) == (ProblemKind.DUPLICATE, "number")
    assert f"credit card {first.card.id}" in again.detail
    assert VISA not in again.detail
    # Another service provider keeps its own cards.
    other = _card(world, admin, service_provider=OTHER_PROVIDER)
    assert other.card.token == first.card.token


def test_a_failed_luhn_check_needs_the_callers_confirmation(world: Services, admin: Actor) -> None:
    error = refused(world.credit_cards.create, admin, _input(BAD_LUHN))
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "number")
    assert "accept_luhn_failure" in error.detail
    assert _count_cards(world, admin) == 0
    created = world.credit_cards.create(admin, _input(BAD_LUHN, accept_luhn_failure=True))
    assert created.warnings == ["the card number fails the Luhn checksum"]
    assert created.card.card.display_number == "411111******1112"


@pytest.mark.parametrize(
    ("changes", "kind", "field"),
    [
        ({"number": "4111-1111-1111-1111"}, ProblemKind.INVALID_VALUE, "number"),
        ({"number": "41111111111"}, ProblemKind.INVALID_VALUE, "number"),
        ({"cvc": "12"}, ProblemKind.INVALID_VALUE, "cvc"),
        ({"cvc": ""}, ProblemKind.MISSING_FIELD, "cvc"),
        ({"expiry_month": 12, "expiry_year": 2025}, ProblemKind.INVALID_VALUE, "expiry_year"),
        ({"expiry_month": 13}, ProblemKind.INVALID_VALUE, "expiry_month"),
        ({"masking_rule": "NOPE"}, ProblemKind.UNKNOWN_REFERENCE, "masking_rule"),
        ({"service_provider": "NOPE"}, ProblemKind.NOT_FOUND, None),
        ({"frozen": False}, ProblemKind.INVALID_VALUE, "frozen"),
        ({"subscriber_id": 999}, ProblemKind.NOT_FOUND, None),
        ({"name_on_card": "x" * 101}, ProblemKind.INVALID_VALUE, "name_on_card"),
    ],
)
def test_bad_new_cards_are_refused_and_change_nothing(
    world: Services, admin: Actor, changes: dict[str, object], kind: ProblemKind, field: str
) -> None:
    error = refused(world.credit_cards.create, admin, _input(**changes))
    assert (error.kind, error.field) == (kind, field)
    assert VISA not in error.detail
    assert CVC not in error.detail
    assert _count_cards(world, admin) == 0
    assert world.operators.audit_trail(admin, "credit-card", 10) == []


def test_a_card_made_for_a_subscriber_is_registered_new_and_may_be_active(
    world: Services, admin: Actor
) -> None:
    subscriber = new_subscriber(world, admin)
    view = _card(world, admin, subscriber_id=subscriber, frozen=False)
    assert view.card.state is CardState.ACTIVE
    [registration] = view.registrations
    assert (registration.subscriber_id, registration.state) == (
        subscriber, RegistrationState.NEW,
    )  # fmt: skip
    assert registration.primary_wallet_state is WalletState.PRE_USE
    assert registration.subscriber_number.startswith("31600")
    assert [c.card.id for c in world.credit_cards.cards_of_subscriber(admin, subscriber)] == [
        view.card.id
    ]


def test_a_subscriber_of_another_provider_cannot_be_registered(
    world: Services, admin: Actor
) -> None:
    subscriber = new_subscriber(world, admin)
    error = refused(
        world.credit_cards.create,
        admin,
        _input(service_provider=OTHER_PROVIDER, subscriber_id=subscriber),
    )
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "subscriber_id")


# -- the token key -------------------------------------------------------------------------------


def test_the_generated_key_survives_a_restart(
    world: Services, admin: Actor, database_url: str, clock: FakeClock
) -> None:
    card = _card(world, admin).card
    again = build_services(Settings(database_url=database_url), clock)
    try:
        found = again.credit_cards.search(admin, CardSearch(number=VISA))
        assert [v.card.id for v in found.items] == [card.id]
        assert refused(again.credit_cards.create, admin, _input()).kind is ProblemKind.DUPLICATE
    finally:
        again.engine.dispose()


def test_a_configured_key_is_used_and_not_stored(world: Services, admin: Actor) -> None:
    key = "k" * 40
    service = CreditCardService(
        world.store, world.clock, WalletService(world.store, world.clock), key
    )
    card = service.create(admin, _input()).card.card
    assert card.token == card_token(key.encode(), VISA)
    with world.store.transaction() as uow:
        assert uow.settings.get(TOKEN_KEY_SETTING) is None
    with pytest.raises(ValueError, match="at least 32"):
        CreditCardService(
            world.store, world.clock, WalletService(world.store, world.clock), "short"
        )


# -- search --------------------------------------------------------------------------------------


def test_search_by_display_number_calling_card_id_and_full_number(
    world: Services, admin: Actor
) -> None:
    subscriber = new_subscriber(world, admin)
    visa = _card(world, admin, subscriber_id=subscriber).card
    master = _card(world, admin, MASTERCARD).card
    amex = _card(world, admin, AMEX, masking_rule="L4").card
    search = world.credit_cards.search

    def ids(**criteria: object) -> list[int]:
        return [v.card.id for v in search(admin, CardSearch(**criteria)).items]  # type: ignore[arg-type]

    assert ids(display_number="411111") == [visa.id]
    assert ids(display_number="5") == [master.id]
    assert ids(display_number="###########0005") == [amex.id]
    assert ids(display_number="%") == []  # LIKE wildcards match only themselves
    assert ids(display_number="4", masking_rule="L4") == []
    assert ids(number=MASTERCARD) == [master.id]
    assert ids(number=AMEX) == [amex.id]
    assert ids(number="4242424242424242") == []
    msisdn = world.casm.get_subscriber(admin, subscriber).subscriber.subscriber_id
    assert ids(calling_card_id=msisdn) == [visa.id]
    assert ids(calling_card_id="31999999999") == []
    assert ids(display_number="4", service_provider=PROVIDER) == [visa.id]
    missing = refused(search, admin, CardSearch(masking_rule="STD"))
    assert missing.kind is ProblemKind.MISSING_FIELD
    bad_number = refused(search, admin, CardSearch(number="12"))
    assert bad_number.field == "number"
    bad_state = refused(search, admin, CardSearch(display_number="4", states=("GONE",)))
    assert bad_state.field == "states"


def test_search_states_default_to_active_and_frozen(world: Services, admin: Actor) -> None:
    frozen = _card(world, admin).card
    world.credit_cards.delete(admin, frozen.id)  # FROZEN -> DELETED
    subscriber = new_subscriber(world, admin)
    active = _card(world, admin, "4012888888881881", subscriber_id=subscriber, frozen=False).card
    search = world.credit_cards.search
    assert [v.card.id for v in search(admin, CardSearch(display_number="4")).items] == [active.id]
    deleted = search(admin, CardSearch(display_number="4", states=("DELETED",))).items
    assert [(v.card.id, v.card.state) for v in deleted] == [(frozen.id, CardState.DELETED)]
    every = search(admin, CardSearch(display_number="4", states=("ACTIVE", "DELETED")))
    assert len(every.items) == 2


def test_search_returns_at_most_100_cards_and_says_so(world: Services, admin: Actor) -> None:
    for n in range(101):
        number = f"4000{n:011d}"
        _card(world, admin, number, accept_luhn_failure=True)
    result = world.credit_cards.search(admin, CardSearch(display_number="400000"))
    assert (len(result.items), result.truncated) == (100, True)
    narrower = world.credit_cards.search(
        admin,
        CardSearch(
            display_number="400000",
            masking_rule="STD",
            states=("FROZEN",),
            service_provider=PROVIDER,
            calling_card_id=None,
        ),
    )
    assert narrower.truncated is True
    one = world.credit_cards.search(admin, CardSearch(number="400000000000100"))
    assert (len(one.items), one.truncated) == (1, False)


def test_operators_see_only_cards_of_their_providers(world: Services, admin: Actor) -> None:
    card = _card(world, admin).card
    other = operator("sp2", Role.OPERATOR, frozenset({OTHER_PROVIDER}))
    assert world.credit_cards.search(other, CardSearch(number=VISA)).items == []
    assert refused(world.credit_cards.get, other, card.id).kind is ProblemKind.NOT_FOUND
    assert refused(world.credit_cards.freeze, other, card.id).kind is ProblemKind.NOT_FOUND
    reader = operator("reader", Role.READ_ONLY)
    assert refused(world.credit_cards.create, reader, _input(AMEX)).kind is ProblemKind.FORBIDDEN
    assert world.credit_cards.get(reader, card.id).card.id == card.id


# -- card states ---------------------------------------------------------------------------------


def test_only_a_registered_card_can_be_unfrozen(world: Services, admin: Actor) -> None:
    cards = world.credit_cards
    card = _card(world, admin).card
    error = refused(cards.unfreeze, admin, card.id)
    assert (error.kind, error.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "state")
    subscriber = new_subscriber(world, admin)
    cards.register(admin, card.id, subscriber)
    assert cards.unfreeze(admin, card.id).card.state is CardState.ACTIVE
    assert refused(cards.unfreeze, admin, card.id).kind is ProblemKind.INVALID_STATE_TRANSITION
    assert cards.freeze(admin, card.id).card.state is CardState.FROZEN
    assert refused(cards.freeze, admin, card.id).kind is ProblemKind.INVALID_STATE_TRANSITION


def test_delete_removes_an_active_card_and_keeps_a_frozen_one(
    world: Services, admin: Actor
) -> None:
    cards = world.credit_cards
    subscriber = new_subscriber(world, admin)
    active = _card(world, admin, subscriber_id=subscriber, frozen=False).card
    removed = cards.delete(admin, active.id)
    assert (removed.outcome, removed.card) == (DeleteOutcome.REMOVED, None)
    assert refused(cards.get, admin, active.id).kind is ProblemKind.NOT_FOUND
    assert cards.cards_of_subscriber(admin, subscriber) == []

    frozen = _card(world, admin, subscriber_id=subscriber).card
    kept = cards.delete(admin, frozen.id)
    assert kept.outcome is DeleteOutcome.DELETED
    assert kept.card is not None
    assert kept.card.card.state is CardState.DELETED
    assert cards.get(admin, frozen.id).card.state is CardState.DELETED
    for call, args in (
        (cards.delete, (frozen.id,)),
        (cards.freeze, (frozen.id,)),
        (cards.unfreeze, (frozen.id,)),
        (cards.register, (frozen.id, new_subscriber(world, admin))),
        (cards.update, (frozen.id, CardUpdate(name_on_card="Bob"))),
    ):
        assert refused(call, admin, *args).kind is ProblemKind.NOT_ALLOWED_IN_STATE
    # A deleted card stays in the database, so its number is still taken.
    assert refused(cards.create, admin, _input()).kind is ProblemKind.DUPLICATE


def test_editing_a_card(world: Services, admin: Actor) -> None:
    cards = world.credit_cards
    card = _card(world, admin).card
    edited = cards.update(admin, card.id, CardUpdate(expiry_month=3, name_on_card=" Bob  Jones"))
    assert (edited.card.expiry_month, edited.card.expiry_year) == (3, 2030)
    assert edited.card.name_on_card == "Bob Jones"
    cleared = cards.update(admin, card.id, CardUpdate(clear_name_on_card=True, cvc="1234"))
    assert cleared.card.name_on_card is None
    assert refused(cards.update, admin, card.id, CardUpdate(cvc="1")).field == "cvc"
    past = refused(cards.update, admin, card.id, CardUpdate(expiry_year=2025))
    assert past.field == "expiry_year"
    assert cards.get(admin, card.id).card.expiry_year == 2030
    [entry, *_] = world.operators.audit_trail(admin, "credit-card", 10)
    assert entry.action == "update"
    assert dict(entry.detail) == {"name_on_card": None}


# -- registrations -------------------------------------------------------------------------------


def test_registrations_are_confirmed_primary_then_secondary(world: Services, admin: Actor) -> None:
    cards = world.credit_cards
    ann, bob, cy = (new_subscriber(world, admin) for _ in range(3))
    card = _card(world, admin, subscriber_id=ann).card
    view = cards.register(admin, card.id, bob)
    assert _states(view) == {ann: RegistrationState.NEW, bob: RegistrationState.PENDING}
    duplicate = refused(cards.register, admin, card.id, bob)
    assert (duplicate.kind, duplicate.field) == (ProblemKind.DUPLICATE, "subscriber_id")
    view = cards.confirm(admin, card.id, bob)
    assert _states(view)[bob] is RegistrationState.PRIMARY
    view = cards.confirm(admin, card.id, ann)
    assert _states(view)[ann] is RegistrationState.SECONDARY
    again = refused(cards.confirm, admin, card.id, ann)
    assert again.kind is ProblemKind.INVALID_STATE_TRANSITION
    absent = refused(cards.confirm, admin, card.id, cy)
    assert (absent.kind, absent.field) == (ProblemKind.NOT_FOUND, "subscriber_id")


def test_the_primary_subscriber_changes_on_a_frozen_card_only(
    world: Services, admin: Actor
) -> None:
    cards = world.credit_cards
    ann, bob = new_subscriber(world, admin), new_subscriber(world, admin)
    card = _card(world, admin, subscriber_id=ann, frozen=False).card
    cards.confirm(admin, card.id, ann)
    cards.register(admin, card.id, bob)
    cards.confirm(admin, card.id, bob)
    active = refused(cards.set_primary, admin, card.id, bob)
    assert (active.kind, active.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "state")
    cards.freeze(admin, card.id)
    view = cards.set_primary(admin, card.id, bob)
    assert _states(view) == {ann: RegistrationState.SECONDARY, bob: RegistrationState.PRIMARY}
    assert refused(cards.set_primary, admin, card.id, bob).kind is (
        ProblemKind.INVALID_STATE_TRANSITION
    )


def test_the_primary_subscriber_cannot_be_deregistered(world: Services, admin: Actor) -> None:
    cards = world.credit_cards
    ann, bob = new_subscriber(world, admin), new_subscriber(world, admin)
    card = _card(world, admin, subscriber_id=ann, frozen=False).card
    cards.confirm(admin, card.id, ann)
    cards.register(admin, card.id, bob)
    error = refused(cards.deregister, admin, card.id, ann)
    assert (error.kind, error.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "subscriber_id")
    view = cards.deregister(admin, card.id, bob)
    assert _states(view) == {ann: RegistrationState.PRIMARY}
    assert view.card.state is CardState.ACTIVE
    assert refused(cards.deregister, admin, card.id, bob).kind is ProblemKind.NOT_FOUND


def test_an_active_card_left_unregistered_is_frozen(world: Services, admin: Actor) -> None:
    ann = new_subscriber(world, admin)
    card = _card(world, admin, subscriber_id=ann, frozen=False).card
    view = world.credit_cards.deregister(admin, card.id, ann)
    assert (view.card.state, view.registrations) == (CardState.FROZEN, [])
    [entry, *_] = world.operators.audit_trail(admin, "credit-card", 10)
    assert (entry.action, dict(entry.detail)) == (
        "deregister", {"subscriber_id": ann, "state": "FROZEN"},
    )  # fmt: skip


def test_a_subscriber_has_at_most_the_configured_registrations(
    world: Services, admin: Actor
) -> None:
    cards = world.credit_cards
    assert cards.settings(admin).registrations_per_subscriber_max == 3
    assert cards.set_settings(admin, 2).registrations_per_subscriber_max == 2
    bad = refused(cards.set_settings, admin, 0)
    assert bad.field == "registrations_per_subscriber_max"
    ann = new_subscriber(world, admin)
    first = _card(world, admin, subscriber_id=ann).card
    second = _card(world, admin, MASTERCARD).card
    cards.register(admin, second.id, ann)
    third = _card(world, admin, AMEX).card
    full = refused(cards.register, admin, third.id, ann)
    assert (full.kind, full.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "subscriber_id")
    also_full = refused(cards.create, admin, _input("4012888888881881", subscriber_id=ann))
    assert also_full.field == "subscriber_id"
    # A card in the DELETED state no longer counts.
    cards.delete(admin, first.id)
    assert _states(cards.register(admin, third.id, ann)) == {ann: RegistrationState.PENDING}
    not_admin = operator("op", Role.OPERATOR)
    assert refused(cards.set_settings, not_admin, 5).kind is ProblemKind.FORBIDDEN


def test_freezing_the_primary_wallet_of_a_registered_subscriber(
    world: Services, admin: Actor
) -> None:
    cards = world.credit_cards
    ann, bob = new_subscriber(world, admin), new_subscriber(world, admin)
    card = _card(world, admin, subscriber_id=ann).card
    reasoned = admin.with_reason("stolen card")
    wallet = cards.freeze_wallet(reasoned, card.id, ann)
    assert wallet.wallet.id == wallet_of(world, admin, ann)
    assert wallet.wallet.state is WalletState.FROZEN
    assert cards.get(admin, card.id).registrations[0].primary_wallet_state is WalletState.FROZEN
    page = world.edrs.search(
        admin, EdrQuery(subscriber_id=ann, types=frozenset({EdrType.STATE_CHANGE}))
    )
    [hit] = page.items
    assert (hit.edr.change_reason, hit.edr.operator) == ("stolen card", "tester")
    unregistered = refused(cards.freeze_wallet, admin, card.id, bob)
    assert (unregistered.kind, unregistered.field) == (ProblemKind.NOT_FOUND, "subscriber_id")
    again = refused(cards.freeze_wallet, admin, card.id, ann)
    assert again.kind is ProblemKind.INVALID_STATE_TRANSITION


# -- auditing ------------------------------------------------------------------------------------


def test_every_change_needs_a_reason_when_edr_auditing_is_on(world: Services, admin: Actor) -> None:
    cards = world.credit_cards
    ann, bob, cy = (new_subscriber(world, admin) for _ in range(3))
    world.operators.set_edr_auditing(admin, True)
    error = refused(cards.create, admin, _input(subscriber_id=ann))
    assert (error.kind, error.field) == (ProblemKind.CHANGE_REASON_REQUIRED, "change_reason")
    assert _count_cards(world, admin) == 0
    with_reason = admin.with_reason("customer request")
    card = cards.create(with_reason, _input(subscriber_id=ann)).card.card
    cards.register(with_reason, card.id, bob)
    for call in (
        lambda: cards.confirm(admin, card.id, ann),
        lambda: cards.register(admin, card.id, cy),
        lambda: cards.deregister(admin, card.id, bob),
        lambda: cards.unfreeze(admin, card.id),
        lambda: cards.update(admin, card.id, CardUpdate(name_on_card="X")),
        lambda: cards.set_primary(admin, card.id, bob),
        lambda: cards.freeze_wallet(admin, card.id, ann),
        lambda: cards.delete(admin, card.id),
        lambda: cards.create_rule(admin, "NEW", "New", 4, 4, "*"),
    ):
        assert refused(call).kind is ProblemKind.CHANGE_REASON_REQUIRED
    view = cards.get(admin, card.id)
    assert _states(view) == {ann: RegistrationState.NEW, bob: RegistrationState.PENDING}
    assert view.card.state is CardState.FROZEN
    cards.confirm(with_reason, card.id, ann)
    cards.unfreeze(with_reason, card.id)
    cards.freeze(with_reason, card.id)
    cards.delete(with_reason, card.id)
    trail = world.operators.audit_trail(admin, "credit-card", 20)
    assert [e.action for e in reversed(trail)] == [
        "create", "register", "confirm", "unfreeze", "freeze", "delete",
    ]  # fmt: skip
    assert {e.change_reason for e in trail} == {"customer request"}
    for entry in trail:
        assert VISA not in repr(entry)
        assert CVC not in str(entry.detail)
    assert trail[-1].detail["display_number"] == "411111******1111"
