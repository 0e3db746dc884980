"""Charging domains: wallets in other databases, routing, and moving wallets between them.

The default domain runs on SQLite and on PostgreSQL; "east" is always SQLite and "west" always
PostgreSQL, so every move here crosses backends one way or the other.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.core.charging import (
    ChargingRequest,
    IdentityType,
    Outcome,
    RequestType,
    ServiceRequest,
    UnitAmounts,
)
from ocs.core.configuration import ConfigKind
from ocs.core.domains import ID_SPACE, MoveOutcome
from ocs.core.edr import EdrQuery, EdrType
from ocs.core.errors import DomainError
from ocs.service.actor import Actor
from ocs.service.batches import BatchInput
from ocs.service.charging import ChargingEngine, ChargingSettings
from ocs.storage import tables as t
from ocs.storage.wallet_mover import COPIED, COPYING, _read, _write
from tests.support.charging import DATA_RG, MB, load_charging_catalog, provision_subscriber
from tests.support.clock import FakeClock
from tests.support.wallets import PRODUCT, load_wallet_catalog, new_account

MSISDN = "31600000001"


@pytest.fixture
def wallet_id(domain_services: Services, admin: Actor) -> int:
    load_charging_catalog(domain_services, admin)
    wallet_id = provision_subscriber(domain_services, admin, MSISDN)
    domain_services.wallets.top_up(admin, wallet_id, "CASH", 1000)
    domain_services.wallets.add_bucket(admin, wallet_id, "FREE-DATA", 5 * MB)
    return wallet_id


def _balances(services: Services, admin: Actor, wallet_id: int) -> dict[str, int]:
    view = services.wallets.get_wallet(admin, wallet_id)
    return {b.balance_type: b.total_value for b in view.balances}


def _rows(services: Services, domain: str, table: sa.Table, wallet_id: int) -> int:
    registry = services.domains.mover.registry  # type: ignore[attr-defined]
    with registry.get(domain).engine.connect() as conn:
        key = table.c.id if table is t.wallets else table.c.wallet_id
        query = sa.select(sa.func.count()).select_from(table)
        return int(conn.scalar(query.where(key == wallet_id)) or 0)


def _charge(services: Services, clock: FakeClock, session: str, used: int) -> Outcome:
    engine = ChargingEngine(clock, ChargingSettings(validity_time_s=600, session_timeout_s=900))
    outcome = Outcome.SUCCESS
    for number, kind, service in (
        (0, RequestType.INITIAL, ServiceRequest(DATA_RG, requested=UnitAmounts(total_octets=MB))),
        (1, RequestType.TERMINATION, ServiceRequest(DATA_RG, used=UnitAmounts(total_octets=used))),
    ):
        request = ChargingRequest(
            session_id=session,
            request_number=number,
            request_type=kind,
            identities=((IdentityType.E164, MSISDN),),
            event_time=clock.now(),
            services=(service,),
        )
        with services.store.transaction() as uow:
            outcome = engine.process(uow, request).outcome
    return outcome


def test_a_moved_wallet_keeps_its_balances_and_history_and_lives_only_in_the_target(
    domain_services: Services, admin: Actor, wallet_id: int
) -> None:
    before = _balances(domain_services, admin, wallet_id)
    edrs_before = domain_services.edrs.search(admin, EdrQuery(wallet_id=wallet_id)).total

    moved = domain_services.domains.move_wallet(wallet_id, "default", "east")

    assert moved.outcome is MoveOutcome.MOVED
    assert domain_services.domains.domain_of(wallet_id) == "east"
    assert _balances(domain_services, admin, wallet_id) == before
    assert _rows(domain_services, "default", t.buckets, wallet_id) == 0
    assert _rows(domain_services, "east", t.buckets, wallet_id) == 2
    page = domain_services.edrs.search(admin, EdrQuery(wallet_id=wallet_id))
    assert page.total == edrs_before
    assert all(hit.edr.id // ID_SPACE == 1 for hit in page.items)  # east's id range

    for source, target in (("east", "west"), ("west", "default")):
        again = domain_services.domains.move_wallet(wallet_id, source, target)
        assert again.outcome is MoveOutcome.MOVED
        assert _balances(domain_services, admin, wallet_id) == before
    assert domain_services.domains.domain_of(wallet_id) == "default"
    assert _rows(domain_services, "west", t.wallets, wallet_id) == 0
    assert domain_services.edrs.search(admin, EdrQuery(wallet_id=wallet_id)).total == edrs_before


def test_wallet_operations_route_to_the_wallets_domain(
    domain_services: Services, admin: Actor, wallet_id: int, clock: FakeClock
) -> None:
    domain_services.domains.move_wallet(wallet_id, "default", "west")

    credit = domain_services.wallets.add_bucket(admin, wallet_id, "CASH", 250)
    view = domain_services.wallets.get_wallet(admin, wallet_id)
    cash = next(b for b in view.balances if b.balance_type == "CASH")
    assert cash.total_value == 1250
    assert all(bucket.id // ID_SPACE == 2 for bucket in cash.buckets)  # west's range
    assert _rows(domain_services, "west", t.buckets, wallet_id) == 3
    assert _rows(domain_services, "default", t.buckets, wallet_id) == 0

    newest = domain_services.edrs.search(admin, EdrQuery(wallet_id=wallet_id)).items[0].edr
    assert newest.id == credit.edr.id

    assert _charge(domain_services, clock, "paid", 7 * MB) is Outcome.SUCCESS  # 2 MB of cash
    assert _balances(domain_services, admin, wallet_id)["CASH"] == 1246
    charges = domain_services.edrs.search(
        admin, EdrQuery(wallet_id=wallet_id, types=frozenset({EdrType.CHARGE}))
    ).items
    reversal = domain_services.edrs.reverse_charge(admin, charges[0].edr.id)
    assert reversal.reverses_edr_id == charges[0].edr.id
    assert reversal.id // ID_SPACE == 2
    assert _balances(domain_services, admin, wallet_id)["CASH"] == 1250


def test_charging_follows_the_wallet_and_its_history_moves_with_it(
    domain_services: Services, admin: Actor, wallet_id: int, clock: FakeClock
) -> None:
    assert _charge(domain_services, clock, "before", 2 * MB) is Outcome.SUCCESS
    domain_services.domains.move_wallet(wallet_id, "default", "east")
    assert _charge(domain_services, clock, "after", 2 * MB) is Outcome.SUCCESS

    balances = _balances(domain_services, admin, wallet_id)
    assert balances["FREE-DATA"] == MB
    assert _rows(domain_services, "east", t.edrs, wallet_id) > 0
    assert _rows(domain_services, "default", t.edrs, wallet_id) == 0
    with domain_services.store.transaction() as uow:
        sums = uow.edrs.delta_sums(wallet_id)
    assert sums == balances


def test_a_wallet_with_an_open_reservation_is_not_moved(
    domain_services: Services, admin: Actor, wallet_id: int, clock: FakeClock
) -> None:
    engine = ChargingEngine(clock, ChargingSettings(validity_time_s=600, session_timeout_s=900))
    request = ChargingRequest(
        session_id="open",
        request_number=0,
        request_type=RequestType.INITIAL,
        identities=((IdentityType.E164, MSISDN),),
        event_time=clock.now(),
        services=(ServiceRequest(DATA_RG, requested=UnitAmounts(total_octets=MB)),),
    )
    with domain_services.store.transaction() as uow:
        engine.process(uow, request)

    moved = domain_services.domains.move_wallet(wallet_id, "default", "east")

    assert moved.outcome is MoveOutcome.OPEN_RESERVATIONS
    assert domain_services.domains.domain_of(wallet_id) == "default"
    assert _rows(domain_services, "east", t.wallets, wallet_id) == 0
    assert _rows(domain_services, "default", t.buckets, wallet_id) == 2


def test_moving_from_the_wrong_domain_or_to_an_unknown_one_is_refused(
    domain_services: Services, wallet_id: int
) -> None:
    wrong = domain_services.domains.move_wallet(wallet_id, "east", "west")
    assert wrong.outcome is MoveOutcome.NOT_IN_SOURCE
    missing = domain_services.domains.move_wallet(999_999, "default", "west")
    assert missing.outcome is MoveOutcome.NOT_IN_SOURCE
    with pytest.raises(DomainError, match="target domain 'north' is not configured"):
        domain_services.domains.move_wallet(wallet_id, "default", "north")
    with pytest.raises(DomainError, match="must differ"):
        domain_services.domains.move_wallet(wallet_id, "default", "default")
    assert domain_services.domains.domain_of(wallet_id) == "default"


def _crash_after_copy(services: Services, wallet_id: int, source: str, target: str) -> None:
    """What a kill between the target's commit and the directory change leaves behind."""
    registry = services.domains.mover.registry  # type: ignore[attr-defined]
    with registry.main.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO wallet_moves (wallet_id, source, target, state, started_at) "
            "VALUES (:w, :s, :t, :state, :at)"),
            {"w": wallet_id, "s": source, "t": target, "state": COPYING,
             "at": "2026-01-01 00:00:00.000000"})  # fmt: skip
    with registry.get(source).engine.connect() as conn:
        rows = _read(conn, wallet_id)
    assert rows is not None
    with registry.get(target).engine.begin() as conn:
        _write(conn, rows, wallet_row_exists=target == "default")


def test_an_interrupted_copy_is_undone_and_the_wallet_stays_in_the_source(
    domain_services: Services, admin: Actor, wallet_id: int
) -> None:
    before = _balances(domain_services, admin, wallet_id)
    _crash_after_copy(domain_services, wallet_id, "default", "east")
    assert _rows(domain_services, "east", t.buckets, wallet_id) == 2

    finished = domain_services.domains.finish_interrupted_moves()

    assert [m.outcome for m in finished] == [MoveOutcome.NOT_MOVED]
    assert _rows(domain_services, "east", t.wallets, wallet_id) == 0
    assert _rows(domain_services, "east", t.buckets, wallet_id) == 0
    assert _balances(domain_services, admin, wallet_id) == before
    assert domain_services.domains.move_wallet(wallet_id, "default", "east").outcome is (
        MoveOutcome.MOVED
    )
    assert _balances(domain_services, admin, wallet_id) == before


def test_a_move_interrupted_after_the_directory_changed_removes_the_source_copy(
    domain_services: Services, admin: Actor, wallet_id: int
) -> None:
    domain_services.domains.move_wallet(wallet_id, "default", "east")
    before = _balances(domain_services, admin, wallet_id)
    _crash_after_copy(domain_services, wallet_id, "east", "west")
    registry = domain_services.domains.mover.registry  # type: ignore[attr-defined]
    with registry.main.engine.begin() as conn:
        conn.execute(sa.text("UPDATE wallet_domains SET domain = 'west' WHERE wallet_id = :w"),
                     {"w": wallet_id})  # fmt: skip
        conn.execute(sa.text("UPDATE wallet_moves SET state = :s"), {"s": COPIED})

    finished = domain_services.domains.finish_interrupted_moves()

    assert [m.outcome for m in finished] == [MoveOutcome.MOVED]
    assert _rows(domain_services, "east", t.wallets, wallet_id) == 0
    assert _rows(domain_services, "west", t.wallets, wallet_id) == 1
    assert _balances(domain_services, admin, wallet_id) == before


def test_configuration_changes_reach_every_domain(
    domain_services: Services, admin: Actor, wallet_id: int
) -> None:
    domain_services.configuration.create(
        admin,
        ConfigKind.CURRENCY,
        {"code": "CHF", "name": "Swiss franc", "scale": 2},
    )
    registry = domain_services.domains.mover.registry  # type: ignore[attr-defined]
    for name in ("east", "west"):
        with registry.get(name).engine.connect() as conn:
            found = conn.scalar(sa.text("SELECT name FROM cfg_currencies WHERE code = 'CHF'"))
        assert found == "Swiss franc", name


def test_check_accounts_counts_wallets_and_subscribers_per_domain(
    domain_services: Services, wallet_id: int
) -> None:
    assert domain_services.domains.summary("default").wallets_by_state == {"PRE_USE": 1}
    domain_services.domains.move_wallet(wallet_id, "default", "west")
    west = domain_services.domains.summary("west")
    assert west.wallets_by_state == {"PRE_USE": 1}
    assert west.subscribers_by_product_type == {"PRE": 1}
    default = domain_services.domains.summary("default")
    assert (default.wallets_by_state, default.subscribers_by_product_type) == ({}, {})


def test_new_rows_of_each_domain_take_ids_in_its_own_range(
    domain_services: Services, admin: Actor, wallet_id: int
) -> None:
    domain_services.domains.move_wallet(wallet_id, "default", "east")
    second = provision_subscriber(domain_services, admin, "31600000002")
    domain_services.wallets.top_up(admin, second, "CASH", 10)
    domain_services.wallets.top_up(admin, wallet_id, "CASH", 10)
    first_edrs = [
        h.edr for h in domain_services.edrs.search(admin, EdrQuery(wallet_id=wallet_id)).items
    ]
    second_edrs = [
        h.edr for h in domain_services.edrs.search(admin, EdrQuery(wallet_id=second)).items
    ]
    assert {edr.id // ID_SPACE for edr in first_edrs} == {1}
    assert {edr.id // ID_SPACE for edr in second_edrs} == {0}
    assert all(edr.type is not EdrType.EXPIRY for edr in first_edrs)


def test_a_batch_for_another_domain_places_its_wallets_there(
    domain_services: Services, admin: Actor
) -> None:
    load_wallet_catalog(domain_services, admin)
    account_id = new_account(domain_services, admin)
    inp = BatchInput(
        account_id=account_id,
        batch_size=3,
        product_type=PRODUCT,
        result_filename="result.txt",
        list_filename="list.txt",
        charging_domain="east",
    )
    batch = domain_services.batches.create(admin, inp, ["31690000001-31690000003"], _Lines())
    references = [m.wallet_reference for m in domain_services.batches.members(admin, batch.id)]
    with domain_services.engine.connect() as conn:
        query = sa.select(t.wallets.c.id).where(t.wallets.c.reference.in_(references))
        wallet_ids = list(conn.scalars(query))
    assert len(wallet_ids) == 3
    assert {domain_services.domains.domain_of(w) for w in wallet_ids} == {"east"}
    assert domain_services.domains.summary("east").wallets_by_state == {"PRE_USE": 3}
    assert domain_services.domains.summary("default").wallets_by_state == {}
    with pytest.raises(DomainError, match="charging_domain 'north' does not exist"):
        domain_services.batches.create(
            admin, replace(inp, charging_domain="north"), ["31690000011"], _Lines()
        )


class _Lines:
    def write(self, lines: object) -> None:
        pass


def test_a_server_without_a_domain_that_holds_wallets_refuses_to_start(
    domain_services: Services, wallet_id: int, database_url: str, clock: FakeClock
) -> None:
    domain_services.domains.move_wallet(wallet_id, "default", "west")
    with pytest.raises(ValueError, match="held in charging domains west"):
        build_services(Settings(database_url=database_url), clock)
