"""Use cases for subscriber details (with the PIN), call barring, number translation and
Friends and Family / Friends and Destination, plus call screening for the charging engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from ocs.core.call_barring import CallBarring, check_call_barring
from ocs.core.configuration import ConfigKind
from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.friends import (
    BlacklistKind,
    Friends,
    check_change_count,
    check_change_date,
    check_fd_discount_prefix,
    check_ff_numbers,
    parse_friends_service,
)
from ocs.core.number_translation import (
    ShortCode,
    TranslationLevel,
    TranslationScope,
    check_short_codes,
)
from ocs.core.screening import CallScreening, SubscriberFeatures, screen_call
from ocs.core.security import Privilege
from ocs.core.subscriber_details import (
    PinChange,
    SubscriberDetails,
    check_description,
    decide_pin_change,
)
from ocs.service.actor import Actor
from ocs.service.feature_access import (
    FeatureService,
    config_reference,
    locked_subscriber,
    visible_provider,
    visible_subscriber,
)
from ocs.service.pins import WrongPinError, check_pin, count_pin_failure
from ocs.service.ports import Clock, PasswordHasher, Store, UnitOfWork


@dataclass(frozen=True)
class DetailsInput:
    """A whole details update. The PIN fields stay out of repr so they cannot reach a log."""

    description: str | None = None
    pin_defined: bool = False
    pin: str | None = field(default=None, repr=False)
    pin_confirmation: str | None = field(default=None, repr=False)
    subscriber_id_restricted: bool = False
    incoming_calls_disabled_when_roaming: bool = False
    blacklisted: bool = False
    sms_notifications_disabled: bool = False
    remote_access_allowed: bool = False


@dataclass(frozen=True)
class FriendsInput:
    active_service: str = "NONE"
    fd_discount_prefix: str | None = None
    fd_change_count: int = 0
    fd_changed_at: datetime | None = None
    ff_change_count: int = 0
    ff_changed_at: datetime | None = None
    ff_numbers: tuple[str, ...] = ()


SHARED_LEVELS = {
    TranslationLevel.PRODUCT_TYPE: "product type",
    TranslationLevel.SERVICE_PROVIDER: "service provider",
    TranslationLevel.SYSTEM: "system",
}


class SubscriberFeatureService(FeatureService):
    def __init__(self, store: Store, clock: Clock, hasher: PasswordHasher) -> None:
        super().__init__(store, clock)
        self.hasher = hasher

    # -- details and PIN -----------------------------------------------------------------------

    def get_details(self, actor: Actor, subscriber_id: int) -> SubscriberDetails:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            return uow.features.get_details(subscriber_id).details

    def update_details(
        self, actor: Actor, subscriber_id: int, inp: DetailsInput
    ) -> SubscriberDetails:
        actor.require(Privilege.MODIFY)
        description = check_description(inp.description)
        with self.store.transaction() as uow:
            locked_subscriber(uow, actor, subscriber_id)
            stored = uow.features.get_details(subscriber_id)
            change = decide_pin_change(
                inp.pin_defined, inp.pin, inp.pin_confirmation, stored.pin_hash is not None
            )
            pin_hash = stored.pin_hash
            if change is PinChange.SET:
                assert inp.pin is not None
                pin_hash = self.hasher.hash(inp.pin)
            elif change is PinChange.CLEAR:
                pin_hash = None
            details = SubscriberDetails(
                description=description,
                pin_defined=pin_hash is not None,
                subscriber_id_restricted=inp.subscriber_id_restricted,
                incoming_calls_disabled_when_roaming=inp.incoming_calls_disabled_when_roaming,
                blacklisted=inp.blacklisted,
                sms_notifications_disabled=inp.sms_notifications_disabled,
                remote_access_allowed=inp.remote_access_allowed,
            )
            uow.features.put_details(subscriber_id, details, pin_hash)
            if change in (PinChange.SET, PinChange.CLEAR):
                uow.features.set_pin_failures(subscriber_id, 0)  # a new PIN unblocks
            before, after = asdict(stored.details), asdict(details)
            # The audit says that the PIN changed, never what it is.
            detail: dict[str, object] = {k: v for k, v in after.items() if before[k] != v}
            detail["pin"] = change.value
            self._audit(uow, actor, "update", "subscriber-details", subscriber_id, detail)
            return details

    def verify_pin(self, actor: Actor, subscriber_id: int, pin: str) -> bool:
        """Whether `pin` is the subscriber's PIN (False when none is set). Wrong answers
        count towards blocking the PIN (see service/pins.py); a blocked PIN is refused."""
        actor.require(Privilege.READ)
        try:
            with self.store.transaction() as uow:
                locked_subscriber(uow, actor, subscriber_id)
                if uow.features.get_details(subscriber_id).pin_hash is None:
                    return False
                check_pin(uow, self.hasher, subscriber_id, pin)
        except WrongPinError as wrong:
            count_pin_failure(self.store, wrong.subscriber_id)
            return False
        return True

    # -- call barring --------------------------------------------------------------------------

    def get_call_barring(self, actor: Actor, subscriber_id: int) -> CallBarring:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            return uow.features.get_call_barring(subscriber_id) or CallBarring()

    def set_call_barring(
        self,
        actor: Actor,
        subscriber_id: int,
        list_type: str,
        ignore: bool,
        numbers: Sequence[str],
    ) -> CallBarring:
        actor.require(Privilege.MODIFY)
        barring = check_call_barring(list_type, ignore, numbers)
        with self.store.transaction() as uow:
            locked_subscriber(uow, actor, subscriber_id)
            uow.features.put_call_barring(subscriber_id, barring)
            self._audit(uow, actor, "update", "call-barring", subscriber_id, asdict(barring))
            return barring

    # -- number translation --------------------------------------------------------------------

    def get_subscriber_short_codes(self, actor: Actor, subscriber_id: int) -> list[ShortCode]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            scope = TranslationScope(TranslationLevel.SUBSCRIBER, subscriber_id=subscriber_id)
            return uow.features.get_short_codes(scope)

    def set_subscriber_short_codes(
        self, actor: Actor, subscriber_id: int, entries: Sequence[tuple[str, str]]
    ) -> list[ShortCode]:
        actor.require(Privilege.MODIFY)
        codes = check_short_codes(entries)
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            scope = TranslationScope(TranslationLevel.SUBSCRIBER, subscriber_id=subscriber_id)
            return self._put_short_codes(uow, actor, scope, codes)

    def get_shared_short_codes(
        self, actor: Actor, level: TranslationLevel, code: str | None
    ) -> list[ShortCode]:
        """Short codes of a product type, a service provider or (code None) the system."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            return uow.features.get_short_codes(_shared_scope(uow, actor, level, code))

    def set_shared_short_codes(
        self,
        actor: Actor,
        level: TranslationLevel,
        code: str | None,
        entries: Sequence[tuple[str, str]],
    ) -> list[ShortCode]:
        # System-wide codes reach every service provider, so only administrators set them.
        actor.require(Privilege.ADMIN if level is TranslationLevel.SYSTEM else Privilege.MODIFY)
        codes = check_short_codes(entries)
        with self.store.transaction() as uow:
            scope = _shared_scope(uow, actor, level, code)
            return self._put_short_codes(uow, actor, scope, codes)

    def _put_short_codes(
        self, uow: UnitOfWork, actor: Actor, scope: TranslationScope, codes: Sequence[ShortCode]
    ) -> list[ShortCode]:
        uow.features.put_short_codes(scope, codes)
        detail = {
            "level": scope.level.value,
            "short_codes": {c.short_code: c.number for c in codes},
        }
        self._audit(uow, actor, "update", "number-translations", scope.owner, detail)
        return list(codes)

    # -- friends and family / friends and destination ------------------------------------------

    def get_friends(self, actor: Actor, subscriber_id: int) -> Friends:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            return uow.features.get_friends(subscriber_id) or Friends()

    def set_friends(self, actor: Actor, subscriber_id: int, inp: FriendsInput) -> Friends:
        actor.require(Privilege.MODIFY)
        now = self.clock.now()
        with self.store.transaction() as uow:
            provider = locked_subscriber(uow, actor, subscriber_id).service_provider
            lists = uow.features
            friends = Friends(
                active_service=parse_friends_service(inp.active_service),
                fd_discount_prefix=check_fd_discount_prefix(
                    inp.fd_discount_prefix,
                    lists.get_blacklist(BlacklistKind.FD_PREFIXES, provider),
                    lists.get_prefix_map(provider),
                ),
                fd_change_count=check_change_count(inp.fd_change_count, "fd_change_count"),
                fd_changed_at=check_change_date(inp.fd_changed_at, now, "fd_changed_at"),
                ff_change_count=check_change_count(inp.ff_change_count, "ff_change_count"),
                ff_changed_at=check_change_date(inp.ff_changed_at, now, "ff_changed_at"),
                ff_numbers=check_ff_numbers(
                    inp.ff_numbers, lists.get_blacklist(BlacklistKind.FF_NUMBERS, provider)
                ),
            )
            uow.features.put_friends(subscriber_id, friends)
            self._audit(uow, actor, "update", "friends", subscriber_id, asdict(friends))
            return friends

    # -- screening -----------------------------------------------------------------------------

    def screen_call(
        self, actor: Actor, subscriber_id: int, dialled: str, product_type: str | None = None
    ) -> CallScreening:
        """Number translation, barring, closed user group and friends for one call by the
        subscriber; `product_type` is the wallet's, whose short codes then apply too."""
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            subscriber = visible_subscriber(uow, actor, subscriber_id)
            if product_type is not None:
                record = config_reference(
                    uow, ConfigKind.PRODUCT_TYPE, product_type, "product_type"
                )
                if record["service_provider"] != subscriber.service_provider:
                    raise DomainError(
                        ProblemKind.UNKNOWN_REFERENCE,
                        f"product type {product_type!r} is not one of "
                        f"{subscriber.service_provider!r}",
                        "product_type",
                    )
            features = load_features(
                uow, subscriber_id, subscriber.subscriber_id, subscriber.service_provider,
                product_type,
            )  # fmt: skip
        return screen_call(features, dialled)


def load_features(
    uow: UnitOfWork,
    subscriber_id: int,
    calling: str,
    service_provider: str,
    product_type: str | None,
) -> SubscriberFeatures:
    """What call screening needs about a subscriber: short codes of every level, barring,
    friends and closed user groups. Shared by the screening use case and charging."""
    scopes = [
        TranslationScope(TranslationLevel.SUBSCRIBER, subscriber_id=subscriber_id),
        TranslationScope(TranslationLevel.SERVICE_PROVIDER, service_provider=service_provider),
        TranslationScope(TranslationLevel.SYSTEM),
    ]
    if product_type is not None:
        scopes.append(TranslationScope(TranslationLevel.PRODUCT_TYPE, product_type=product_type))
    return SubscriberFeatures(
        calling=calling,
        short_codes={s.level: uow.features.get_short_codes(s) for s in scopes},
        barring=uow.features.get_call_barring(subscriber_id) or CallBarring(),
        friends=uow.features.get_friends(subscriber_id) or Friends(),
        groups=uow.features.cugs_of_subscriber(subscriber_id),
    )


def _shared_scope(
    uow: UnitOfWork, actor: Actor, level: TranslationLevel, code: str | None
) -> TranslationScope:
    if level not in SHARED_LEVELS:
        raise invalid("level", "subscriber short codes belong to /subscribers/{id}")
    if level is TranslationLevel.SYSTEM:
        if code is not None:
            raise invalid("code", "system-wide short codes take no code")
        return TranslationScope(level)
    if code is None:
        raise DomainError(
            ProblemKind.MISSING_FIELD, f"a {SHARED_LEVELS[level]} code is required", "code"
        )
    if level is TranslationLevel.SERVICE_PROVIDER:
        return TranslationScope(level, service_provider=visible_provider(uow, actor, code))
    product_type = uow.config.get(ConfigKind.PRODUCT_TYPE, code)
    if product_type is None or not actor.may_use_provider(str(product_type["service_provider"])):
        raise DomainError(ProblemKind.NOT_FOUND, f"product type {code!r} does not exist")
    return TranslationScope(level, product_type=code)
