"""EDRs on SQLite and PostgreSQL: every filter, sort order and page of the EDR viewer, display
currency, masking, charge reversal and EDR auditing. Balances equal EDR sums after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from ocs.bootstrap import Services
from ocs.core.edr import Edr, EdrQuery, EdrSort, EdrType, UnitClass
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import ROLE_PRIVILEGES, Privilege, Role
from ocs.core.wallets import ChargeOutcome, WalletType
from ocs.service.actor import Actor
from ocs.service.wallet_ledger import WalletInput
from ocs.service.wallets import ChargeRequest, ChargeResult, MergeRequest
from tests.support.clock import FakeClock
from tests.support.wallets import (
    PRODUCT,
    assert_balances_explained,
    ledger_fingerprint,
    load_wallet_catalog,
    new_subscriber,
    wallet_of,
)

HOUR_S = 3600


@pytest.fixture
def ws(services: Services, admin: Actor) -> Iterator[Services]:
    load_wallet_catalog(services, admin)
    yield services
    assert_balances_explained(services)


def _refused(ws: Services, call: Callable[..., object], *args: object) -> DomainError:
    """The refusal of a call, asserting that it left every wallet row as it was."""
    before = ledger_fingerprint(ws)
    with pytest.raises(DomainError) as caught:
        call(*args)
    assert ledger_fingerprint(ws) == before
    return caught.value


class History:
    """A subscriber with a primary and a secondary wallet and a known trail of EDRs, one
    hour apart (the charge's activation shares its hour):

    t0   WALLET_CREATED primary, WALLET_CREATED secondary
    t1   RECHARGE  primary CASH +1000, tag CHANNEL=web
    t2   ACTIVATION primary; CHARGE primary CASH -300, called 3161111, CHANNEL=ivr, 60 s
    t3   RECHARGE  primary VOICE +600
    t4   CHARGE    primary VOICE -120, called 3162222, partial
    t5   ADJUSTMENT secondary CASH +50
    """

    def __init__(self, services: Services, admin: Actor, clock: FakeClock) -> None:
        self.t0 = clock.now()
        self.subscriber = new_subscriber(services, admin)
        self.primary = wallet_of(services, admin, self.subscriber)
        self.secondary = services.wallets.create_wallet(
            admin, self.subscriber, "SECONDARY", WalletInput(PRODUCT)
        ).wallet.id
        clock.advance(HOUR_S)
        top_up = services.wallets.top_up
        self.recharge = top_up(admin, self.primary, "CASH", 1000, tags={"CHANNEL": "web"}).edr
        clock.advance(HOUR_S)
        self.charge = _charged(services.wallets.charge(ChargeRequest(
            self.subscriber, {"CASH": 300}, called_number="3161111", duration_s=60,
            tags={"CHANNEL": "ivr"},
        )))  # fmt: skip
        clock.advance(HOUR_S)
        self.voice = top_up(admin, self.primary, "VOICE", 600).edr
        clock.advance(HOUR_S)
        self.partial = _charged(services.wallets.charge(ChargeRequest(
            self.subscriber, {"VOICE": 120}, called_number="3162222", partial=True,
        )))  # fmt: skip
        clock.advance(HOUR_S)
        self.adjustment = services.wallets.adjust(admin, self.secondary, "CASH", 50).edr

    def query(self, **fields: object) -> EdrQuery:
        return replace(EdrQuery(subscriber_id=self.subscriber), **fields)  # type: ignore[arg-type]


def _charged(result: ChargeResult) -> Edr:
    assert result.edr is not None, result
    return result.edr


@pytest.fixture
def history(ws: Services, admin: Actor, clock: FakeClock) -> History:
    return History(ws, admin, clock)


def _types(ws: Services, actor: Actor, query: EdrQuery) -> list[str]:
    return [hit.edr.type.value for hit in ws.edrs.search(actor, query).items]


def test_default_search_is_newest_first_without_partial_edrs(
    ws: Services, admin: Actor, history: History
) -> None:
    page = ws.edrs.search(admin, history.query())
    assert [hit.edr.type.value for hit in page.items] == [
        "ADJUSTMENT", "RECHARGE", "CHARGE", "ACTIVATION", "RECHARGE", "WALLET_CREATED",
        "WALLET_CREATED",
    ]  # fmt: skip
    assert (page.total, page.offset, page.next_offset) == (7, 0, None)
    with_partial = _types(ws, admin, history.query(include_partial=True))
    assert with_partial[:2] == ["ADJUSTMENT", "CHARGE"]
    oldest_first = ws.edrs.search(admin, history.query(reverse=True)).items
    assert [hit.edr.at for hit in oldest_first] == sorted(hit.edr.at for hit in oldest_first)


def test_filters_dates_wallet_types_called_number_tags_and_categories(
    ws: Services, admin: Actor, history: History
) -> None:
    def hours(n: int) -> datetime:
        return history.t0 + timedelta(hours=n)

    assert _types(ws, admin, history.query(start=hours(2), end=hours(4))) == [
        "RECHARGE", "CHARGE", "ACTIVATION",
    ]  # fmt: skip
    secondary = history.query(wallet_types=frozenset({WalletType.SECONDARY}))
    assert _types(ws, admin, secondary) == ["ADJUSTMENT", "WALLET_CREATED"]
    assert _types(ws, admin, history.query(called_number="3161111")) == ["CHARGE"]
    assert _types(ws, admin, history.query(called_number="3162222")) == []
    assert _types(ws, admin, history.query(called_number="3162222", include_partial=True)) == [
        "CHARGE"
    ]
    assert _types(ws, admin, history.query(tag="CHANNEL")) == ["CHARGE", "RECHARGE"]
    assert _types(ws, admin, history.query(tag="CHANNEL", tag_value="web")) == ["RECHARGE"]
    categories = frozenset({EdrType.RECHARGE, EdrType.ADJUSTMENT})
    assert _types(ws, admin, history.query(types=categories)) == [
        "ADJUSTMENT", "RECHARGE", "RECHARGE",
    ]  # fmt: skip
    one_wallet = EdrQuery(wallet_id=history.secondary)
    assert _types(ws, admin, one_wallet) == ["ADJUSTMENT", "WALLET_CREATED"]
    [charge] = ws.edrs.search(admin, history.query(called_number="3161111")).items
    assert (charge.edr.duration_s, charge.edr.tags, charge.cost) == (60, (("CHANNEL", "ivr"),), 300)


def test_sort_orders_by_type_cost_and_balance_type(
    ws: Services, admin: Actor, history: History
) -> None:
    by_type = ws.edrs.search(admin, history.query(sort=EdrSort.TYPE)).items
    assert [h.edr.type.value for h in by_type] == [
        "ACTIVATION", "ADJUSTMENT", "CHARGE", "RECHARGE", "RECHARGE", "WALLET_CREATED",
        "WALLET_CREATED",
    ]  # fmt: skip
    recharges = [h.edr.id for h in by_type if h.edr.type is EdrType.RECHARGE]
    assert recharges == [history.voice.id, history.recharge.id]  # same type: newest first
    assert _types(ws, admin, history.query(sort=EdrSort.TYPE, reverse=True))[0] == (
        "WALLET_CREATED"
    )
    by_cost = ws.edrs.search(admin, history.query(sort=EdrSort.COST)).items
    assert [h.cost for h in by_cost] == [300, 0, 0, 0, 0, -50, -1000]
    assert by_cost[0].edr.id == history.charge.id
    time = history.query(sort=EdrSort.COST, unit_class=UnitClass.TIME, include_partial=True)
    by_time = ws.edrs.search(admin, time).items
    assert (by_time[0].edr.id, by_time[0].cost) == (history.partial.id, 120)
    assert by_time[-1].edr.id == history.voice.id
    by_balance_type = _types(ws, admin, history.query(sort=EdrSort.BALANCE_TYPE))
    # CASH was configured before VOICE, so has the lower internal id; no lines come last.
    assert by_balance_type == [
        "ADJUSTMENT", "CHARGE", "RECHARGE", "RECHARGE", "ACTIVATION", "WALLET_CREATED",
        "WALLET_CREATED",
    ]  # fmt: skip


def test_pages_and_the_number_of_edrs(ws: Services, admin: Actor, history: History) -> None:
    first = ws.edrs.search(admin, history.query(page_size=3))
    second = ws.edrs.search(admin, history.query(page_size=3, offset=3))
    last = ws.edrs.search(admin, history.query(page_size=3, offset=6))
    assert (first.total, first.next_offset, second.next_offset, last.next_offset) == (7, 3, 6, None)
    ids = [h.edr.id for page in (first, second, last) for h in page.items]
    assert len(ids) == len(set(ids)) == 7
    capped = ws.edrs.search(admin, history.query(max_results=4, page_size=3, offset=3))
    assert (capped.total, len(capped.items), capped.next_offset) == (4, 1, None)
    beyond = ws.edrs.search(admin, history.query(max_results=4, offset=4))
    assert (beyond.items, beyond.total) == ([], 4)


@pytest.mark.parametrize(
    ("query", "kind", "field"),
    [
        (EdrQuery(), ProblemKind.MISSING_FIELD, "subscriber_id"),
        (EdrQuery(subscriber_id=1, wallet_id=1), ProblemKind.INVALID_VALUE, "wallet_id"),
        (EdrQuery(subscriber_id=1, tag_value="x"), ProblemKind.MISSING_FIELD, "tag"),
        (EdrQuery(subscriber_id=1, page_size=0), ProblemKind.INVALID_VALUE, "page_size"),
        (EdrQuery(subscriber_id=1, page_size=501), ProblemKind.INVALID_VALUE, "page_size"),
        (EdrQuery(subscriber_id=1, offset=-1), ProblemKind.INVALID_VALUE, "offset"),
        (EdrQuery(subscriber_id=1, max_results=0), ProblemKind.INVALID_VALUE, "max_results"),
        (EdrQuery(subscriber_id=1, wallet_types=frozenset()), ProblemKind.INVALID_VALUE,
         "wallet_types"),
        (EdrQuery(subscriber_id=1, start=datetime(2026, 1, 2)), ProblemKind.INVALID_VALUE,
         "start"),
        (EdrQuery(subscriber_id=999), ProblemKind.NOT_FOUND, "subscriber_id"),
    ],
)  # fmt: skip
def test_bad_searches_name_the_field(
    ws: Services, admin: Actor, query: EdrQuery, kind: ProblemKind, field: str
) -> None:
    error = _refused(ws, ws.edrs.search, admin, query)
    assert (error.kind, error.field) == (kind, field)


def test_end_must_follow_start(ws: Services, admin: Actor, clock: FakeClock) -> None:
    query = EdrQuery(subscriber_id=1, start=clock.now(), end=clock.now())
    assert _refused(ws, ws.edrs.search, admin, query).field == "end"


def test_cash_shown_in_a_display_currency_with_explicit_rounding(
    ws: Services, admin: Actor, history: History
) -> None:
    ws.wallet_settings.set_exchange_rate(admin, "EUR", "USD", "1.085")
    ws.wallet_settings.set_exchange_rate(admin, "EUR", "JPY", "162.4449")
    query = history.query(called_number="3161111")
    [usd] = ws.edrs.search(admin, query, "USD").items
    assert [(b.currency, b.old_value, b.delta_value, b.new_value) for b in usd.edr.balances] == [
        ("USD", 1085, -325, 760)
    ]
    assert usd.cost == 325
    # 10.00 EUR -> 1624.449 JPY rounds to 1624; 7.00 EUR -> 1137.1143 rounds to 1137.
    [jpy] = ws.edrs.search(admin, query, "JPY").items
    assert [(b.old_value, b.new_value) for b in jpy.edr.balances] == [(1624, 1137)]
    voice = ws.edrs.get(admin, history.voice.id, "USD")
    assert voice.balances[0].currency is None  # non-cash lines are not converted
    error = _refused(ws, ws.edrs.search, admin, query, "XXX")
    assert (error.kind, error.field) == (ProblemKind.UNKNOWN_REFERENCE, "display_currency")
    ws.wallet_settings.delete_exchange_rate(admin, "EUR", "JPY")
    error = _refused(ws, ws.edrs.get, admin, history.charge.id, "JPY")
    assert (error.kind, error.field) == (ProblemKind.UNKNOWN_REFERENCE, "display_currency")
    view = ws.wallets.get_wallet(admin, history.primary, "USD")
    cash = next(b for b in view.balances if b.balance_type == "CASH")
    assert (cash.available_value, cash.display_currency, cash.display_value) == (700, "USD", 760)


def test_exchange_rates_are_validated(ws: Services, admin: Actor) -> None:
    rate = ws.wallet_settings.set_exchange_rate
    for args, kind, field in (
        (("EUR", "EUR", "1"), ProblemKind.INVALID_VALUE, "to_currency"),
        (("EUR", "USD", "1,5"), ProblemKind.INVALID_VALUE, "rate"),
        (("EUR", "USD", "0"), ProblemKind.INVALID_VALUE, "rate"),
        (("EUR", "USD", "1.0000000001"), ProblemKind.INVALID_VALUE, "rate"),
        (("XXX", "USD", "1"), ProblemKind.UNKNOWN_REFERENCE, "from_currency"),
    ):  # fmt: skip
        error = _refused(ws, rate, admin, *args)
        assert (error.kind, error.field) == (kind, field)
    rate(admin, "EUR", "USD", "1.5")
    rate(admin, "EUR", "USD", "1.25")  # replaces the rate
    [only] = ws.wallet_settings.exchange_rates(admin)
    assert (only.from_currency, only.to_currency, only.rate_nano) == ("EUR", "USD", 1_250_000_000)


def test_masking_hides_fields_from_operators_without_no_masking(
    ws: Services, admin: Actor, history: History
) -> None:
    ws.wallet_settings.set_masking_rule(admin, "called_number", 3, 2)
    ws.wallet_settings.set_masking_rule(admin, "tag:CHANNEL", 1, 0)
    query = history.query(called_number="3161111")
    reader = Actor("reader", ROLE_PRIVILEGES[Role.READ_ONLY])
    [masked] = ws.edrs.search(reader, query).items
    assert (masked.edr.called_number, masked.edr.tags) == ("316**11", (("CHANNEL", "i**"),))
    assert ws.edrs.get(reader, history.charge.id).called_number == "316**11"
    unmasked = Actor("auditor", frozenset({Privilege.READ, Privilege.NO_MASKING}))
    for actor in (unmasked, admin):
        [plain] = ws.edrs.search(actor, query).items
        assert plain.edr.called_number == "3161111"
    for field, prefix, kind, name in (
        ("password", 1, ProblemKind.INVALID_VALUE, "field"),
        ("called_number", -1, ProblemKind.INVALID_VALUE, "keep_prefix"),
    ):
        error = _refused(ws, ws.wallet_settings.set_masking_rule, admin, field, prefix, 0)
        assert (error.kind, error.field) == (kind, name)
    error = _refused(ws, ws.wallet_settings.set_masking_rule, reader, "called_number", 1, 1)
    assert error.kind is ProblemKind.FORBIDDEN
    assert [r.field for r in ws.wallet_settings.masking_rules(reader)] == [
        "called_number", "tag:CHANNEL",
    ]  # fmt: skip


# -- reversal --------------------------------------------------------------------------------


def test_reversing_a_charge_restores_every_bucket_once(
    ws: Services, admin: Actor, clock: FakeClock
) -> None:
    subscriber = new_subscriber(ws, admin)
    wallet_id = wallet_of(ws, admin, subscriber)
    ws.wallets.activate(admin, wallet_id)
    expires = clock.now() + timedelta(days=1)
    ws.wallets.add_bucket(admin, wallet_id, "CASH", 100, None, expires)
    ws.wallets.add_bucket(admin, wallet_id, "CASH", 500)
    ws.wallets.top_up(admin, wallet_id, "VOICE", 90)
    charge = _charged(ws.wallets.charge(ChargeRequest(
        subscriber, {"CASH": 300, "VOICE": 60}, called_number="3169", session_id="s-1",
    )))  # fmt: skip
    reversal = ws.edrs.reverse_charge(admin.with_reason("disputed call"), charge.id)
    assert (reversal.type, reversal.reverses_edr_id, reversal.subscriber_id) == (
        EdrType.REVERSAL, charge.id, subscriber,
    )  # fmt: skip
    assert (reversal.operator, reversal.change_reason, reversal.called_number) == (
        "tester", "disputed call", "3169",
    )  # fmt: skip
    lines = [(b.balance_type, b.old_value, b.delta_value, b.new_value) for b in reversal.balances]
    assert lines == [("CASH", 300, 300, 600), ("VOICE", 30, 60, 90)]
    view = ws.wallets.get_wallet(admin, wallet_id)
    cash = next(b for b in view.balances if b.balance_type == "CASH")
    assert sorted((b.value, b.expires_at is not None) for b in cash.buckets) == [
        (100, True), (500, False),
    ]  # fmt: skip
    assert next(b.expires_at for b in cash.buckets if b.value == 100) == expires

    error = _refused(ws, ws.edrs.reverse_charge, admin, charge.id)
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "edr_id")
    assert error.detail == f"EDR {charge.id} was already reversed by EDR {reversal.id}"
    for other in (reversal.id, charge.id - 1):
        error = _refused(ws, ws.edrs.reverse_charge, admin, other)
        assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "edr_id")
    assert _refused(ws, ws.edrs.reverse_charge, admin, 10**9).kind is ProblemKind.NOT_FOUND


def test_a_restored_bucket_that_has_expired_meanwhile_expires_again(
    ws: Services, admin: Actor, clock: FakeClock
) -> None:
    subscriber = new_subscriber(ws, admin)
    wallet_id = wallet_of(ws, admin, subscriber)
    ws.wallets.activate(admin, wallet_id)
    ws.wallets.add_bucket(admin, wallet_id, "CASH", 100, None, clock.now() + timedelta(hours=1))
    charge = _charged(ws.wallets.charge(ChargeRequest(subscriber, {"CASH": 100})))
    clock.advance(2 * HOUR_S)
    ws.edrs.reverse_charge(admin, charge.id)
    page = ws.edrs.search(admin, EdrQuery(subscriber_id=subscriber))
    assert [(h.edr.type.value, h.cost) for h in page.items[:3]] == [
        ("EXPIRY", 100), ("REVERSAL", -100), ("CHARGE", 100),
    ]  # fmt: skip


def test_a_charge_on_a_wallet_merged_away_cannot_be_reversed(ws: Services, admin: Actor) -> None:
    target = new_subscriber(ws, admin)
    ws.wallets.activate(admin, wallet_of(ws, admin, target))
    source = new_subscriber(ws, admin)
    ws.wallets.top_up(admin, wallet_of(ws, admin, source), "CASH", 100)
    charge = _charged(ws.wallets.charge(ChargeRequest(source, {"CASH": 40})))
    ws.wallets.merge(admin, MergeRequest(source, target))
    error = _refused(ws, ws.edrs.reverse_charge, admin, charge.id)
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "edr_id")


def test_a_subscriber_s_edrs_on_a_wallet_merged_away_are_still_found(
    ws: Services, admin: Actor
) -> None:
    target = new_subscriber(ws, admin)
    ws.wallets.activate(admin, wallet_of(ws, admin, target))
    source = new_subscriber(ws, admin)
    merged_away = wallet_of(ws, admin, source)
    ws.wallets.top_up(admin, merged_away, "CASH", 100)
    charge = _charged(ws.wallets.charge(ChargeRequest(source, {"CASH": 40})))
    ws.wallets.merge(admin, MergeRequest(source, target))
    assert merged_away not in {v.wallet.id for v in ws.wallets.subscriber_wallets(admin, source)}
    found = ws.edrs.search(admin, EdrQuery(subscriber_id=source)).items
    assert charge.id in {hit.edr.id for hit in found}


# -- auditing --------------------------------------------------------------------------------


def test_with_edr_auditing_on_operator_changes_need_a_reason(ws: Services, admin: Actor) -> None:
    subscriber = new_subscriber(ws, admin)
    wallet_id = wallet_of(ws, admin, subscriber)
    ws.operators.set_edr_auditing(admin, True)
    for call, args in (
        (ws.wallets.top_up, (admin, wallet_id, "CASH", 100)),
        (ws.wallets.adjust, (admin, wallet_id, "CASH", 100)),
        (ws.wallets.add_bucket, (admin, wallet_id, "CASH", 100)),
        (ws.wallets.change_state, (admin, wallet_id, "ACTIVE")),
        (ws.wallets.merge, (admin, MergeRequest(subscriber, new_subscriber(
            ws, admin.with_reason("setup"))))),
    ):  # fmt: skip
        error = _refused(ws, call, *args)
        assert (error.kind, error.field) == (ProblemKind.CHANGE_REASON_REQUIRED, "change_reason")
    long_reason = admin.with_reason("x" * 201)
    error = _refused(ws, ws.wallets.top_up, long_reason, wallet_id, "CASH", 100)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "change_reason")

    credit = ws.wallets.top_up(admin.with_reason(" goodwill credit "), wallet_id, "CASH", 100)
    assert (credit.edr.operator, credit.edr.change_reason) == ("tester", "goodwill credit")
    network = ws.wallets.charge(ChargeRequest(subscriber, {"CASH": 40}))
    assert network.outcome is ChargeOutcome.CHARGED
    assert network.edr is not None
    assert (network.edr.operator, network.edr.change_reason) == (None, None)
    audit = ws.operators.audit_trail(admin, "wallet", 10)
    assert (audit[0].action, audit[0].change_reason) == ("top-up", "goodwill credit")
