"""Use cases of subscriber batches: create many subscribers with wallets from a list file,
find, show, activate and delete batches.

Creation is two steps. `prepare` checks every field, the whole list file and every number
against the database, and records the batch as CREATING; nothing else is written if it
refuses. `run` then writes the subscribers in chunks, one transaction per chunk, reporting
progress after each. A chunk that fails stops the run and marks the batch FAILED; the chunks
already committed stay (their subscribers are complete and usable) and the batch can be
deleted with its subscribers before the list is submitted again, because a new batch refuses
numbers already in use.

Every batch subscriber is what CasmService.create_subscriber writes for one subscriber with
an MSISDN-like primary resource and a PRIMARY wallet (see wallet_ledger.create_wallet), built
from one template instead of one service call each; tests compare the two row for row. The
only difference: the audit log gets one entry for the batch, not two per subscriber.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace

from ocs.core.batches import (
    ERROR_LENGTH_MAX,
    SEARCH_ROWS_MAX,
    SUBSCRIBERS_DELETABLE,
    Batch,
    BatchState,
    CardNumbering,
    NumberRange,
    card_numbers,
    card_range,
    check_batch_size,
    check_edit,
    check_filename,
    check_pin_length,
    count_numbers,
    generate_pin,
    iter_numbers,
    parse_state,
    parse_subscriber_list,
)
from ocs.core.configuration import ConfigKind, Record, UnitOfMeasure
from ocs.core.domains import DEFAULT_DOMAIN, MoveOutcome, WalletMove
from ocs.core.errors import DomainError, ProblemKind, invalid, not_found
from ocs.core.security import Privilege, check_change_reason
from ocs.core.states import EntityState
from ocs.core.wallets import LimitType, check_max_concurrent_accesses
from ocs.service.actor import Actor, record_change
from ocs.service.batch_ports import (
    BatchMember,
    CreatedSubscriber,
    NewSubscriber,
    ResultLine,
    ResultSink,
    SubscriberTemplate,
)
from ocs.service.configuration import check_reason_state
from ocs.service.ports import Clock, PasswordHasher, Store, UnitOfWork
from ocs.service.wallet_ledger import (
    DEFAULT_MAX_CONCURRENT_ACCESSES,
    Ledger,
    actor_origin,
    release_subscriber_wallets,
)

DEFAULT_CHARGING_DOMAINS = (DEFAULT_DOMAIN,)
# Moves one wallet from one domain to another (DomainService.move_wallet).
MoveWallet = Callable[[int, str, str], WalletMove]
CHUNK_SUBSCRIBERS = 10_000
DELETE_CHUNK_SUBSCRIBERS = 500
MEMBERS_ROWS_MAX = 100
DEFAULT_LANGUAGE = "en"  # what CasmService gives a subscriber created without a language
PIN_METHOD = "argon2id"
AUDIT_ENTITY = "subscriber-batch"

Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class BatchInput:
    """The New Subscriber Batch fields."""

    account_id: int
    batch_size: int
    product_type: str
    result_filename: str
    list_filename: str | None = None
    charging_domain: str = "default"
    currency: str | None = None
    max_concurrent_accesses: int | None = None
    use_subscriber_id: bool = True
    card_first: str | None = None
    card_last: str | None = None
    add_pins: bool = False
    pin_length: int | None = None


@dataclass(frozen=True)
class BatchPlan:
    """A batch checked and recorded as CREATING, ready to be written by `run`."""

    batch: Batch
    ranges: tuple[NumberRange, ...]
    cards: NumberRange | None
    template: SubscriberTemplate


@dataclass(frozen=True)
class BatchView:
    batch: Batch
    ranges: list[NumberRange]
    members: int


class BatchService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        pin_hasher: PasswordHasher,
        charging_domains: Sequence[str] = DEFAULT_CHARGING_DOMAINS,
        chunk_subscribers: int = CHUNK_SUBSCRIBERS,
        pin_workers: int = 2,
        move_wallet: MoveWallet | None = None,
    ) -> None:
        self.store = store
        self.move_wallet = move_wallet
        self.clock = clock
        self.pin_hasher = pin_hasher
        self.charging_domains = tuple(charging_domains)
        self.chunk_subscribers = chunk_subscribers
        self.pin_workers = pin_workers

    # -- creating ------------------------------------------------------------------------------

    def create(
        self,
        actor: Actor,
        inp: BatchInput,
        list_lines: Iterable[str],
        sink: ResultSink,
        progress: Progress = _no_progress,
    ) -> Batch:
        """prepare + run in the caller's thread."""
        return self.run(actor, self.prepare(actor, inp, list_lines), sink, progress)

    def prepare(self, actor: Actor, inp: BatchInput, list_lines: Iterable[str]) -> BatchPlan:
        """Check everything and record the batch as CREATING (or refuse, writing nothing)."""
        actor.require(Privilege.CREATE_DELETE)
        size = check_batch_size(inp.batch_size)
        result_filename = check_filename(inp.result_filename, "result_filename", True)
        assert result_filename is not None
        list_filename = check_filename(inp.list_filename, "list_filename", False)
        if inp.charging_domain not in self.charging_domains:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"charging_domain {inp.charging_domain!r} does not exist "
                f"(configured: {', '.join(self.charging_domains)})",
                "charging_domain",
            )
        pin_length = self._pin_length(inp)
        ranges = tuple(parse_subscriber_list(list_lines))
        listed = count_numbers(ranges)
        if listed != size:
            raise invalid(
                "batch_size", f"batch_size is {size:,} but the subscriber list holds {listed:,}"
            )
        cards = self._cards(inp, size)
        numbering = CardNumbering.SUBSCRIBER_ID if cards is None else CardNumbering.RANGE
        with self.store.transaction() as uow:
            template = self._template(uow, actor, inp)
            taken = uow.batches.first_number_taken(
                template.service_provider,
                ranges,
                card_numbers(numbering, ranges, cards),
                template.resource_type,
            )
            if taken is not None:
                raise _in_use(taken, ranges, numbering)
            now = self.clock.now()
            batch = Batch(
                id=0,
                service_provider=template.service_provider,
                account_id=template.account_id,
                size=size,
                list_filename=list_filename,
                result_filename=result_filename,
                charging_domain=inp.charging_domain,
                product_type=template.product_type,
                currency=template.currency,
                max_concurrent_accesses=template.max_concurrent_accesses,
                card_numbering=numbering,
                card_first=None if cards is None else cards.number(0),
                card_last=None if cards is None else cards.number(cards.count - 1),
                pins=inp.add_pins,
                pin_length=pin_length,
                pin_method=PIN_METHOD if inp.add_pins else None,
                state=BatchState.CREATING,
                state_reason=None,
                created_count=0,
                error=None,
                created_by=actor.username,
                created_at=now,
                state_changed_at=now,
            )
            batch = replace(batch, id=uow.batches.insert_batch(batch, ranges))
            detail = {**asdict(batch), "ranges": [r.text for r in ranges[:20]]}
            record_change(uow, actor, now, "create", AUDIT_ENTITY, batch.id, detail)
        return BatchPlan(batch, ranges, cards, template)

    def _place(self, batch: Batch, created: Sequence[CreatedSubscriber]) -> None:
        """New wallets are written in the default domain; a batch for another domain moves
        them there before it reports them."""
        if batch.charging_domain == DEFAULT_DOMAIN:
            return
        assert self.move_wallet is not None, "domains are configured but cannot be reached"
        for subscriber in created:
            move = self.move_wallet(subscriber.wallet_id, DEFAULT_DOMAIN, batch.charging_domain)
            if move.outcome is not MoveOutcome.MOVED:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"wallet {subscriber.wallet_id} could not be placed in domain "
                    f"{batch.charging_domain!r}: {move.outcome.value} {move.detail}",
                )

    def run(
        self, actor: Actor, plan: BatchPlan, sink: ResultSink, progress: Progress = _no_progress
    ) -> Batch:
        """Write the subscribers chunk by chunk; the batch ends INACTIVE, or FAILED with the
        reason (then raised as a DomainError)."""
        batch = plan.batch
        done = 0
        numbers = iter_numbers(plan.ranges)
        cards: Iterator[str] = iter_numbers((plan.cards,)) if plan.cards is not None else iter(())
        executor = ThreadPoolExecutor(self.pin_workers) if batch.pins else None
        try:
            while done < batch.size:
                chunk = list(itertools.islice(numbers, self.chunk_subscribers))
                if plan.cards is None:
                    chunk_cards = chunk
                else:
                    chunk_cards = list(itertools.islice(cards, len(chunk)))
                pins: list[str | None] = [None] * len(chunk)
                hashes: list[str | None] = [None] * len(chunk)
                if executor is not None:
                    assert batch.pin_length is not None
                    length = batch.pin_length
                    pins = [generate_pin(length) for _ in chunk]
                    hashes = list(executor.map(self.pin_hasher.hash, pins))
                new = [
                    NewSubscriber(number, card, pin_hash)
                    for number, card, pin_hash in zip(chunk, chunk_cards, hashes, strict=True)
                ]
                with self.store.transaction() as uow:
                    created = uow.batches.insert_subscribers(
                        batch.id, plan.template, new, self.clock.now()
                    )
                    if not uow.batches.set_created_count(batch.id, done + len(created)):
                        raise DomainError(
                            ProblemKind.CONFLICT,
                            "the batch is no longer CREATING (an operator stopped it)",
                        )
                self._place(batch, created)
                done += len(created)
                sink.write(_result_lines(created, pins))
                progress(done, batch.size)
        except Exception as exc:
            self._fail(batch, done, exc)
            raise self._failure(batch, done, exc) from exc
        finally:
            if executor is not None:
                executor.shutdown()
        with self.store.transaction() as uow:
            now = self.clock.now()
            uow.batches.set_state(batch.id, BatchState.INACTIVE, None, now)
            current = uow.batches.get_batch(batch.id)
        assert current is not None
        return current

    def _fail(self, batch: Batch, done: int, exc: Exception) -> None:
        message = self._failure(batch, done, exc).detail
        with self.store.transaction() as uow:
            current = uow.batches.get_batch(batch.id, for_update=True)
            if current is not None and current.state is BatchState.CREATING:
                uow.batches.set_state(batch.id, BatchState.FAILED, None, self.clock.now(), message)

    def _failure(self, batch: Batch, done: int, exc: Exception) -> DomainError:
        reason = exc.detail if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        message = (
            f"batch {batch.id} stopped after {done:,} of {batch.size:,} subscribers "
            f"(those stay; delete the batch with its subscribers to start again): {reason}"
        )
        kind = exc.kind if isinstance(exc, DomainError) else ProblemKind.CONFLICT
        return DomainError(kind, message[:ERROR_LENGTH_MAX])

    def _pin_length(self, inp: BatchInput) -> int | None:
        if inp.add_pins:
            return check_pin_length(inp.pin_length)
        if inp.pin_length is not None:
            raise invalid("pin_length", "pin_length is only given with add_pins")
        return None

    def _cards(self, inp: BatchInput, size: int) -> NumberRange | None:
        if inp.use_subscriber_id:
            if inp.card_first or inp.card_last:
                raise invalid(
                    "card_first",
                    "a card range is only given when the subscriber ID is not the card number",
                )
            return None
        return card_range(inp.card_first, inp.card_last, size)

    def _template(self, uow: UnitOfWork, actor: Actor, inp: BatchInput) -> SubscriberTemplate:
        """The values create_subscriber and create_wallet would store, checked the same way."""
        account = uow.casm.get_account(inp.account_id)
        customer = None if account is None else uow.casm.get_customer(account.customer_id)
        if (
            account is None
            or customer is None
            or not actor.may_use_provider(customer.service_provider)
        ):
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                f"account {inp.account_id} does not exist",
                "account_id",
            )
        for state, what in ((customer.state, "customer"), (account.state, "account")):
            if state is EntityState.DEACTIVATED:
                raise DomainError(
                    ProblemKind.INVALID_STATE_TRANSITION,
                    f"the {what} of account {account.id} is DEACTIVATED and takes nothing new",
                    "account_id",
                )
        provider = customer.service_provider
        product = _record(uow, ConfigKind.PRODUCT_TYPE, inp.product_type, "product_type")
        if product["service_provider"] != provider:
            raise invalid(
                "product_type",
                f"product type {inp.product_type!r} belongs to another service provider",
            )
        currency = inp.currency or _text(product.get("currency"))
        if currency is None:
            raise DomainError(
                ProblemKind.MISSING_FIELD, "currency is required (the product type has none)",
                "currency",
            )  # fmt: skip
        _record(uow, ConfigKind.CURRENCY, currency, "currency")
        default_balance = _text(product.get("default_balance_type"))
        if default_balance is not None:
            record = _record(uow, ConfigKind.BALANCE_TYPE, default_balance, "product_type")
            if record["unit"] == UnitOfMeasure.MONEY.value and record.get("currency") != currency:
                raise invalid(
                    "currency",
                    f"balance type {default_balance!r} holds {record.get('currency')}, "
                    f"but the wallets would hold {currency}",
                )
        accesses = inp.max_concurrent_accesses
        if accesses is None:
            default = product.get("max_concurrent_accesses") or DEFAULT_MAX_CONCURRENT_ACCESSES
            accesses = int(str(default))
        check_max_concurrent_accesses(accesses)
        primary = [r for r in uow.config.list_records(ConfigKind.RESOURCE_TYPE) if r.get("primary")]
        if not primary:
            raise DomainError(
                ProblemKind.UNKNOWN_REFERENCE,
                "no primary resource type is configured (the batch numbers become resources "
                "of that type, e.g. MSISDN)",
                "subscriber_list",
            )
        return SubscriberTemplate(
            service_provider=provider,
            account_id=account.id,
            customer_id=customer.id,
            language=DEFAULT_LANGUAGE,
            state=EntityState.INACTIVE,
            resource_type=str(primary[0]["code"]),
            product_type=inp.product_type,
            currency=currency,
            display_currency=currency,
            limit_type=LimitType.PREPAID,
            minimum_credit=None,
            max_concurrent_accesses=accesses,
            default_balance_type=default_balance,
            operator=actor.username,
            change_reason=check_change_reason(actor.change_reason, False),
        )

    # -- reading -------------------------------------------------------------------------------

    def get(self, actor: Actor, batch_id: int) -> BatchView:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            batch = _batch(uow, actor, batch_id)
            return BatchView(
                batch, uow.batches.list_ranges(batch_id), uow.batches.count_members(batch_id)
            )

    def search(
        self,
        actor: Actor,
        subscriber_prefix: str = "",
        state: str | None = None,
        service_provider: str | None = None,
    ) -> list[Batch]:
        """At most 100 batches, newest first, whose list holds a subscriber ID starting with
        the prefix, optionally in one state."""
        actor.require(Privilege.READ)
        providers = actor.service_providers
        if service_provider is not None:
            actor.require_provider(service_provider)
            providers = frozenset({service_provider})
        prefix = subscriber_prefix.strip()
        if prefix and not (prefix.isascii() and prefix.isdigit()):
            raise invalid("subscriber_prefix", "subscriber_prefix may hold only digits")
        wanted = None if not state else parse_state(state)
        with self.store.transaction() as uow:
            return uow.batches.search(providers, prefix, wanted, SEARCH_ROWS_MAX)

    def members(
        self, actor: Actor, batch_id: int, after_id: int = 0, limit: int = MEMBERS_ROWS_MAX
    ) -> list[BatchMember]:
        """The batch's subscribers with their wallet reference, in creation order, a page of
        at most 100 after subscriber `after_id`."""
        actor.require(Privilege.READ)
        if not 1 <= limit <= MEMBERS_ROWS_MAX:
            raise invalid("limit", f"limit must be 1-{MEMBERS_ROWS_MAX}")
        with self.store.transaction() as uow:
            _batch(uow, actor, batch_id)
            return uow.batches.members(batch_id, after_id, limit)

    # -- editing and deleting ------------------------------------------------------------------

    def edit(
        self, actor: Actor, batch_id: int, state: str, state_reason: str | None = None
    ) -> Batch:
        """Change the batch state, the only editable field. INACTIVE -> ACTIVE activates every
        subscriber still INACTIVE (state reason required, as for any CASM state change);
        CREATING -> FAILED stops a creation that is running or was interrupted."""
        actor.require(Privilege.MODIFY)
        target = parse_state(state)
        with self.store.transaction() as uow:
            current = _batch(uow, actor, batch_id, for_update=True)
            check_edit(current.state, target)
            now = self.clock.now()
            detail: dict[str, object] = {"state": {"from": current.state, "to": target}}
            if target is BatchState.ACTIVE:
                if state_reason is None:
                    raise DomainError(
                        ProblemKind.MISSING_FIELD,
                        "state_reason is required to activate the subscribers",
                        "state_reason",
                    )
                check_reason_state(
                    uow,
                    "state",
                    "state_reason",
                    {"state": EntityState.ACTIVE.value, "state_reason": state_reason},
                )
                detail["activated"] = uow.batches.activate_subscribers(
                    batch_id, state_reason, now, actor.username
                )
                uow.batches.set_state(batch_id, target, state_reason, now)
            else:
                error = f"stopped by {actor.username}"
                uow.batches.set_state(batch_id, target, None, now, error)
            record_change(uow, actor, now, "update", AUDIT_ENTITY, batch_id, detail)
            updated = uow.batches.get_batch(batch_id)
        assert updated is not None
        return updated

    def delete(
        self,
        actor: Actor,
        batch_id: int,
        with_subscribers: bool = False,
        progress: Progress = _no_progress,
    ) -> int:
        """Delete the batch record; with_subscribers also deletes its subscribers and their
        wallets (only while never activated) the way subscriber deletion does. Returns the
        number of subscribers deleted."""
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            batch = _batch(uow, actor, batch_id)
            if batch.state is BatchState.CREATING:
                raise DomainError(
                    ProblemKind.CONFLICT,
                    f"batch {batch_id} is being created; stop it first (state FAILED)",
                    "state",
                )
            if with_subscribers and batch.state not in SUBSCRIBERS_DELETABLE:
                raise DomainError(
                    ProblemKind.IN_USE,
                    f"batch {batch_id} is {batch.state.value}: its subscribers are in service "
                    "and are deleted one by one; delete only the batch record",
                    "with_subscribers",
                )
            total = uow.batches.count_members(batch_id) if with_subscribers else 0
        deleted = 0
        while with_subscribers:
            with self.store.transaction() as uow:
                chunk = uow.batches.members(batch_id, 0, DELETE_CHUNK_SUBSCRIBERS)
                now = self.clock.now()
                for member in chunk:
                    ledger = Ledger(uow, now, actor_origin(actor, member.id))
                    release_subscriber_wallets(ledger, member.id)
                    uow.casm.delete_subscriber(member.id)
            if not chunk:
                break
            deleted += len(chunk)
            progress(deleted, total)
        with self.store.transaction() as uow:
            _batch(uow, actor, batch_id)
            uow.batches.delete_batch(batch_id)
            detail = {"subscribers_deleted": deleted}
            record_change(uow, actor, self.clock.now(), "delete", AUDIT_ENTITY, batch_id, detail)
        return deleted


def _in_use(
    taken: tuple[str, str], ranges: Sequence[NumberRange], numbering: CardNumbering
) -> DomainError:
    """The refusal of a number already in use, naming the list line it came from."""
    field, number = taken
    what = f"{number} is already in use as a {field.replace('_', ' ')}"
    if field == "card_number" and numbering is CardNumbering.RANGE:
        return DomainError(
            ProblemKind.DUPLICATE, f"{what}; choose another card range", "card_first"
        )
    lines = [r.lines for r in ranges if r.offset_of(number) is not None]
    where = f"{lines[0]}: " if lines else ""
    return DomainError(
        ProblemKind.DUPLICATE, f"{where}{what}; remove it from the list", "subscriber_list"
    )


def _result_lines(
    created: Sequence[CreatedSubscriber], pins: Sequence[str | None]
) -> list[ResultLine]:
    return [
        ResultLine(c.subscriber_id, c.card_number, c.wallet_reference, pin)
        for c, pin in zip(created, pins, strict=True)
    ]


def _batch(uow: UnitOfWork, actor: Actor, batch_id: int, for_update: bool = False) -> Batch:
    batch = uow.batches.get_batch(batch_id, for_update)
    if batch is None or not actor.may_use_provider(batch.service_provider):
        raise not_found("subscriber batch", batch_id)
    return batch


def _record(uow: UnitOfWork, kind: ConfigKind, code: str, field_name: str) -> Record:
    record = uow.config.get(kind, code)
    if record is None:
        raise DomainError(
            ProblemKind.UNKNOWN_REFERENCE,
            f"{field_name} {code!r} does not exist ({kind.value})",
            field_name,
        )
    return record


def _text(value: object) -> str | None:
    return None if value is None else str(value)
