"""Subscriber details with the PIN, call barring, number translation, friends and family and
call screening, through the service layer on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ocs.bootstrap import Services
from ocs.core.call_barring import BarringListType, BarringOutcome, CallBarring
from ocs.core.configuration import ConfigKind
from ocs.core.errors import ProblemKind
from ocs.core.friends import BlacklistKind, Friends, FriendsMatch, FriendsService
from ocs.core.number_translation import ShortCode, TranslationLevel, TranslationScope
from ocs.core.security import Role
from ocs.core.subscriber_details import SubscriberDetails
from ocs.service.actor import Actor
from ocs.service.subscriber_features import DetailsInput, FriendsInput
from tests.support.catalog import OTHER_PROVIDER, PROVIDER
from tests.support.clock import FakeClock
from tests.support.features import (
    OTHER_SP_OPERATOR,
    PRODUCT_TYPE,
    add_subscriber,
    load_feature_basics,
    operator,
    refused,
)

PIN = "482916"
MSISDN = "31600000001"


@pytest.fixture
def sub(services: Services, admin: Actor) -> int:
    load_feature_basics(services, admin)
    return add_subscriber(services, admin, MSISDN)


def _audit_text(services: Services, admin: Actor) -> str:
    entries = services.operators.audit_trail(admin, None, 1000)
    return json.dumps([e.detail for e in entries]) + " ".join(e.entity for e in entries)


# -- details and PIN ---------------------------------------------------------------------------


def test_details_default_and_whole_update(services: Services, admin: Actor, sub: int) -> None:
    features = services.features.subscribers
    assert features.get_details(admin, sub) == SubscriberDetails()
    updated = features.update_details(
        admin,
        sub,
        DetailsInput(
            description=" VIP customer ",
            subscriber_id_restricted=True,
            incoming_calls_disabled_when_roaming=True,
            blacklisted=True,
            sms_notifications_disabled=True,
            remote_access_allowed=True,
        ),
    )
    assert updated == SubscriberDetails(
        description="VIP customer",
        pin_defined=False,
        subscriber_id_restricted=True,
        incoming_calls_disabled_when_roaming=True,
        blacklisted=True,
        sms_notifications_disabled=True,
        remote_access_allowed=True,
    )
    assert features.get_details(admin, sub) == updated
    # CASM updates of the subscriber leave the details alone.
    services.casm.update_subscriber(admin, sub, language="nl")
    assert features.get_details(admin, sub) == updated
    cleared = features.update_details(admin, sub, DetailsInput())
    assert cleared == SubscriberDetails()


def test_pin_is_stored_as_an_argon2_hash_and_toggled_by_pin_defined(
    services: Services, admin: Actor, sub: int
) -> None:
    features = services.features.subscribers
    details = features.update_details(
        admin, sub, DetailsInput(pin_defined=True, pin=PIN, pin_confirmation=PIN)
    )
    assert details.pin_defined
    with services.store.transaction() as uow:
        pin_hash = uow.features.get_details(sub).pin_hash
    assert pin_hash is not None
    assert pin_hash.startswith("$argon2")
    assert PIN not in pin_hash
    assert features.verify_pin(admin, sub, PIN)
    assert not features.verify_pin(admin, sub, "482917")
    # Ticking "defined" without a new PIN keeps the old one.
    kept = features.update_details(admin, sub, DetailsInput(pin_defined=True, blacklisted=True))
    assert kept.pin_defined
    assert features.verify_pin(admin, sub, PIN)
    # Unticking removes it.
    assert not features.update_details(admin, sub, DetailsInput()).pin_defined
    assert not features.verify_pin(admin, sub, PIN)
    assert PIN not in _audit_text(services, admin)


def test_a_pin_mismatch_is_refused_and_changes_nothing(
    services: Services, admin: Actor, sub: int
) -> None:
    features = services.features.subscribers
    before = features.update_details(admin, sub, DetailsInput(description="before"))
    error = refused(
        features.update_details,
        admin,
        sub,
        DetailsInput(description="after", pin_defined=True, pin=PIN, pin_confirmation="482917"),
    )
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "pin_confirmation")
    assert PIN not in error.detail
    assert features.get_details(admin, sub) == before
    assert PIN not in _audit_text(services, admin)


def test_details_input_never_shows_the_pin() -> None:
    shown = repr(DetailsInput(pin_defined=True, pin=PIN, pin_confirmation=PIN))
    assert PIN not in shown
    assert "pin_defined=True" in shown


# -- call barring ------------------------------------------------------------------------------


def test_call_barring_whole_update(services: Services, admin: Actor, sub: int) -> None:
    features = services.features.subscribers
    assert features.get_call_barring(admin, sub) == CallBarring()
    stored = features.set_call_barring(admin, sub, "ALLOWED", False, ["316", "0031"])
    assert stored == CallBarring(BarringListType.ALLOWED, False, ("0031", "316"))
    assert features.get_call_barring(admin, sub) == stored
    features.set_call_barring(admin, sub, "BARRED", True, [])
    assert features.get_call_barring(admin, sub) == CallBarring(BarringListType.BARRED, True, ())
    error = refused(features.set_call_barring, admin, sub, "BARRED", False, ["0900", "9" * 33])
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "numbers")
    assert features.get_call_barring(admin, sub) == CallBarring(BarringListType.BARRED, True, ())


# -- number translation ------------------------------------------------------------------------


def test_short_codes_at_every_level_and_the_most_specific_wins(
    services: Services, admin: Actor, sub: int
) -> None:
    features = services.features.subscribers
    features.set_shared_short_codes(
        admin, TranslationLevel.SYSTEM, None, [("1", "1001"), ("2", "1002"), ("3", "1003")]
    )
    features.set_shared_short_codes(
        admin, TranslationLevel.SERVICE_PROVIDER, PROVIDER, [("1", "2001"), ("2", "2002")]
    )
    features.set_shared_short_codes(
        admin, TranslationLevel.PRODUCT_TYPE, PRODUCT_TYPE, [("1", "3001"), ("4", "3004")]
    )
    features.set_subscriber_short_codes(admin, sub, [("1", "4001")])
    assert features.get_subscriber_short_codes(admin, sub) == [ShortCode("1", "4001")]
    assert features.get_shared_short_codes(admin, TranslationLevel.PRODUCT_TYPE, PRODUCT_TYPE) == [
        ShortCode("1", "3001"),
        ShortCode("4", "3004"),
    ]
    expected = {
        "1": ("4001", TranslationLevel.SUBSCRIBER),
        "2": ("2002", TranslationLevel.SERVICE_PROVIDER),
        "3": ("1003", TranslationLevel.SYSTEM),
        "4": ("3004", TranslationLevel.PRODUCT_TYPE),
        "5": ("5", None),
    }
    for dialled, (number, level) in expected.items():
        screening = features.screen_call(admin, sub, dialled, PRODUCT_TYPE)
        assert (screening.called, screening.translation_level) == (number, level), dialled
    # Without the wallet's product type, its short codes do not apply.
    assert features.screen_call(admin, sub, "4").translation_level is None
    unknown = refused(features.screen_call, admin, sub, "4", "NOPE")
    assert (unknown.kind, unknown.field) == (ProblemKind.UNKNOWN_REFERENCE, "product_type")
    other = add_subscriber(services, admin, MSISDN, OTHER_PROVIDER)
    foreign = refused(features.screen_call, admin, other, "4", PRODUCT_TYPE)
    assert (foreign.kind, foreign.field) == (ProblemKind.UNKNOWN_REFERENCE, "product_type")


def test_short_code_access_rules(services: Services, admin: Actor, sub: int) -> None:
    features = services.features.subscribers
    provider_operator = operator("sp1op", Role.OPERATOR, frozenset({PROVIDER}))
    forbidden = refused(
        features.set_shared_short_codes,
        provider_operator,
        TranslationLevel.SYSTEM,
        None,
        [("1", "2")],
    )
    assert forbidden.kind is ProblemKind.FORBIDDEN
    hidden = refused(
        features.get_shared_short_codes,
        OTHER_SP_OPERATOR,
        TranslationLevel.PRODUCT_TYPE,
        PRODUCT_TYPE,
    )
    assert hidden.kind is ProblemKind.NOT_FOUND
    assert (
        refused(
            features.set_shared_short_codes,
            OTHER_SP_OPERATOR,
            TranslationLevel.SERVICE_PROVIDER,
            PROVIDER,
            [],
        ).kind
        is ProblemKind.NOT_FOUND
    )
    assert refused(features.get_subscriber_short_codes, OTHER_SP_OPERATOR, sub).kind is (
        ProblemKind.NOT_FOUND
    )
    duplicate = refused(features.set_subscriber_short_codes, admin, sub, [("1", "2"), ("1", "3")])
    assert (duplicate.kind, duplicate.field) == (ProblemKind.DUPLICATE, "short_code")
    missing = refused(
        features.set_shared_short_codes, admin, TranslationLevel.PRODUCT_TYPE, None, []
    )
    assert (missing.kind, missing.field) == (ProblemKind.MISSING_FIELD, "code")


def test_a_product_type_with_short_codes_cannot_be_deleted(
    services: Services, admin: Actor, sub: int
) -> None:
    services.features.subscribers.set_shared_short_codes(
        admin, TranslationLevel.PRODUCT_TYPE, PRODUCT_TYPE, [("1", "3001")]
    )
    error = refused(services.configuration.delete, admin, ConfigKind.PRODUCT_TYPE, PRODUCT_TYPE)
    assert error.kind is ProblemKind.IN_USE


# -- friends and family ------------------------------------------------------------------------


def _fd_setup(services: Services, admin: Actor) -> None:
    lists = services.features.provider_lists
    lists.put_prefix_mapping(admin, PROVIDER, "4420", "regions", "london")
    lists.put_prefix_mapping(admin, PROVIDER, "0900", "premium", "premium")
    lists.set_blacklist(admin, BlacklistKind.FF_NUMBERS, PROVIDER, ["31699999999"])
    lists.set_blacklist(admin, BlacklistKind.FD_PREFIXES, PROVIDER, ["09"])


def test_friends_settings_round_trip(
    services: Services, admin: Actor, sub: int, clock: FakeClock
) -> None:
    _fd_setup(services, admin)
    features = services.features.subscribers
    assert features.get_friends(admin, sub) == Friends()
    changed_at = clock.now() - timedelta(days=3)
    inp = FriendsInput(
        active_service="FRIENDS_AND_DESTINATION",
        fd_discount_prefix="4420",
        fd_change_count=2,
        fd_changed_at=changed_at,
        ff_change_count=5,
        ff_changed_at=clock.now(),
        ff_numbers=("31622222222", "31611111111"),
    )
    friends = features.set_friends(admin, sub, inp)
    assert friends == Friends(
        FriendsService.FRIENDS_AND_DESTINATION,
        "4420",
        2,
        changed_at,
        5,
        clock.now(),
        ("31611111111", "31622222222"),
    )
    assert features.get_friends(admin, sub) == friends
    assert features.screen_call(admin, sub, "44201234").friends is (
        FriendsMatch.FRIENDS_AND_DESTINATION
    )
    features.set_friends(admin, sub, FriendsInput("FRIENDS_AND_FAMILY", ff_numbers=("3162",)))
    assert features.screen_call(admin, sub, "3162").friends is FriendsMatch.FRIENDS_AND_FAMILY


@pytest.mark.parametrize(
    ("inp", "kind", "field"),
    [
        (FriendsInput(ff_numbers=("31699999999",)), ProblemKind.INVALID_VALUE, "ff_numbers"),
        (FriendsInput(fd_discount_prefix="0900"), ProblemKind.INVALID_VALUE, "fd_discount_prefix"),
        (FriendsInput(fd_discount_prefix="49"), ProblemKind.UNKNOWN_REFERENCE,
         "fd_discount_prefix"),
        (FriendsInput(active_service="FF"), ProblemKind.INVALID_VALUE, "active_service"),
        (FriendsInput(ff_change_count=-1), ProblemKind.INVALID_VALUE, "ff_change_count"),
    ],
)  # fmt: skip
def test_friends_refusals_change_nothing(
    services: Services,
    admin: Actor,
    sub: int,
    inp: FriendsInput,
    kind: ProblemKind,
    field: str,
) -> None:
    _fd_setup(services, admin)
    features = services.features.subscribers
    before = features.set_friends(admin, sub, FriendsInput("FRIENDS_AND_FAMILY", ff_numbers=("1",)))
    error = refused(features.set_friends, admin, sub, inp)
    assert (error.kind, error.field) == (kind, field)
    assert features.get_friends(admin, sub) == before


def test_a_future_change_date_is_refused(
    services: Services, admin: Actor, sub: int, clock: FakeClock
) -> None:
    inp = FriendsInput(ff_changed_at=clock.now() + timedelta(minutes=1))
    error = refused(services.features.subscribers.set_friends, admin, sub, inp)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "ff_changed_at")


# -- screening, auditing, visibility, deletion -------------------------------------------------


def test_screening_bars_a_translated_short_code(services: Services, admin: Actor, sub: int) -> None:
    features = services.features.subscribers
    features.set_subscriber_short_codes(admin, sub, [("*900#", "0900123")])
    features.set_call_barring(admin, sub, "BARRED", False, ["0900"])
    screening = features.screen_call(admin, sub, "*900#")
    assert (screening.called, screening.barring.outcome) == ("0900123", BarringOutcome.BARRED)
    features.set_call_barring(admin, sub, "BARRED", True, ["0900"])
    assert features.screen_call(admin, sub, "*900#").barring.outcome is BarringOutcome.ALLOWED


def test_changes_need_a_reason_when_auditing_is_on(
    services: Services, admin: Actor, sub: int
) -> None:
    services.operators.set_edr_auditing(admin, True)
    features = services.features.subscribers
    error = refused(features.set_call_barring, admin, sub, "BARRED", False, ["0900"])
    assert (error.kind, error.field) == (ProblemKind.CHANGE_REASON_REQUIRED, "change_reason")
    assert features.get_call_barring(admin, sub) == CallBarring()
    features.set_call_barring(admin.with_reason("ticket 12"), sub, "BARRED", False, ["0900"])
    entry = services.operators.audit_trail(admin, "call-barring", 1)[0]
    assert (entry.operator, entry.change_reason, entry.entity_key) == (
        "tester", "ticket 12", str(sub),
    )  # fmt: skip


def test_other_providers_and_read_only_operators(
    services: Services, admin: Actor, sub: int
) -> None:
    features = services.features.subscribers
    assert refused(features.get_details, OTHER_SP_OPERATOR, sub).kind is ProblemKind.NOT_FOUND
    reader = operator("reader", Role.READ_ONLY)
    assert features.get_call_barring(reader, sub) == CallBarring()
    error = refused(features.set_call_barring, reader, sub, "BARRED", False, [])
    assert error.kind is ProblemKind.FORBIDDEN


def test_deleting_a_subscriber_removes_its_features(
    services: Services, admin: Actor, sub: int
) -> None:
    features = services.features.subscribers
    features.set_call_barring(admin, sub, "BARRED", False, ["0900"])
    features.set_subscriber_short_codes(admin, sub, [("1", "2")])
    features.set_friends(admin, sub, FriendsInput(ff_numbers=("3161",)))
    services.casm.delete_subscriber(admin, sub)
    with services.store.transaction() as uow:
        scope = TranslationScope(TranslationLevel.SUBSCRIBER, subscriber_id=sub)
        assert uow.features.get_call_barring(sub) is None
        assert uow.features.get_short_codes(scope) == []
        assert uow.features.get_friends(sub) is None


def test_other_provider_subscribers_keep_their_own_settings(
    services: Services, admin: Actor, sub: int
) -> None:
    other = add_subscriber(services, admin, MSISDN, OTHER_PROVIDER)
    features = services.features.subscribers
    features.set_call_barring(admin, sub, "ALLOWED", False, ["31"])
    assert features.get_call_barring(OTHER_SP_OPERATOR, other) == CallBarring()
