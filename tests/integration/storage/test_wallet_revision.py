"""Every write that charging caches gives the wallet a new revision, never one used before
(migration 0013's triggers), on both backends and whoever writes."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ocs.bootstrap import Services
from ocs.core.reservations import ChargingSession, Reservation, ReservationState, SessionState
from ocs.core.wallets import Bucket
from ocs.service.actor import Actor
from tests.support.clock import FakeClock
from tests.support.wallets import load_wallet_catalog, new_subscriber, wallet_of


def _revision(services: Services, wallet_id: int) -> int:
    with services.engine.connect() as conn:
        return int(conn.scalar(sa.text(f"SELECT revision FROM wallets WHERE id = {wallet_id}")))


def _wallet(services: Services, admin: Actor) -> int:
    load_wallet_catalog(services, admin)
    wallet_id = wallet_of(services, admin, new_subscriber(services, admin))
    services.wallets.top_up(admin, wallet_id, "CASH", 500)
    return wallet_id


def test_each_cached_table_changes_the_revision(
    services: Services, admin: Actor, clock: FakeClock
) -> None:
    wallet_id = _wallet(services, admin)
    now = clock.now()
    session = ChargingSession("r1", wallet_id, 1, SessionState.OPEN, now, now, now, None, None)
    reservation = Reservation(
        0, "r1", wallet_id, 1, None, "DATA", "OCTETS", 5, 0, ReservationState.OPEN, now, now
    )
    statements = {
        "wallets": "UPDATE wallets SET last_used_at = created_at WHERE id = :w",
        "wallet_balances": "UPDATE wallet_balances SET minimum_credit = 0 WHERE wallet_id = :w",
        "buckets update": "UPDATE buckets SET value = value + 1 WHERE wallet_id = :w",
        "wallet_links": "UPDATE wallet_links SET wallet_id = wallet_id WHERE wallet_id = :w",
        "buckets delete": "DELETE FROM buckets WHERE wallet_id = :w",
    }
    seen = {_revision(services, wallet_id)}
    for name, sql in statements.items():
        with services.engine.begin() as conn:
            conn.execute(sa.text(sql), {"w": wallet_id})
        revision = _revision(services, wallet_id)
        assert revision not in seen, name
        seen.add(revision)
    writes = {
        "buckets insert": lambda uow: uow.charging.insert_bucket(
            wallet_id, Bucket(0, "CASH", 7, None, now + timedelta(days=1))
        ),
        "charging_sessions insert": lambda uow: uow.charging.insert_session(session),
        "charging_sessions update": lambda uow: uow.charging.touch_session(
            "r1", SessionState.CLOSED, now, now
        ),
        "reservations insert": lambda uow: uow.charging.insert_reservation(reservation, {}),
    }
    for name, write in writes.items():
        with services.store.transaction() as uow:
            write(uow)
        revision = _revision(services, wallet_id)
        assert revision not in seen, name
        seen.add(revision)


def test_a_rolled_back_revision_is_never_handed_out_again(services: Services, admin: Actor) -> None:
    wallet_id = _wallet(services, admin)
    before = _revision(services, wallet_id)
    with services.engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(sa.text(f"UPDATE buckets SET value = 1 WHERE wallet_id = {wallet_id}"))
        rolled_back = int(
            conn.scalar(sa.text(f"SELECT revision FROM wallets WHERE id = {wallet_id}"))
        )
        transaction.rollback()
    assert _revision(services, wallet_id) == before
    with services.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE buckets SET value = 2 WHERE wallet_id = {wallet_id}"))
    assert _revision(services, wallet_id) not in (before, rolled_back)


def test_a_row_moved_to_another_wallet_changes_both_revisions(
    services: Services, admin: Actor
) -> None:
    source = _wallet(services, admin)
    target = wallet_of(services, admin, new_subscriber(services, admin))
    before = {w: _revision(services, w) for w in (source, target)}
    with services.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE buckets SET wallet_id = :t WHERE wallet_id = :s"),
            {"t": target, "s": source},
        )
    assert _revision(services, source) != before[source]
    assert _revision(services, target) != before[target]
