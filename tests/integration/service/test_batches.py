"""Subscriber batches through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from ocs.adapters.passwords import Argon2Hasher
from ocs.bootstrap import Services
from ocs.core.batches import BatchState, CardNumbering
from ocs.core.casm import CasmLevel
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import Privilege
from ocs.core.states import EntityState
from ocs.service.actor import Actor
from ocs.service.batch_ports import ResultLine
from ocs.service.batches import BatchInput
from ocs.service.casm import ResourceInput, SubscriberInput
from ocs.service.wallet_ledger import WalletInput
from ocs.storage import tables as t
from ocs.storage.batch_tables import batch_subscribers, subscriber_batches
from tests.support.clock import FakeClock
from tests.support.wallets import PRODUCT, load_wallet_catalog, new_account


class Collect:
    """A result sink that keeps the lines."""

    def __init__(self) -> None:
        self.lines: list[ResultLine] = []

    def write(self, lines: Sequence[ResultLine]) -> None:
        self.lines.extend(lines)


@pytest.fixture
def account(services: Services, admin: Actor) -> int:
    load_wallet_catalog(services, admin)
    return new_account(services, admin)


def batch_input(account_id: int, size: int, **changes: Any) -> BatchInput:
    inp = BatchInput(
        account_id=account_id,
        batch_size=size,
        product_type=PRODUCT,
        result_filename="result.txt",
        list_filename="list.txt",
    )
    return replace(inp, **changes)


def create(
    services: Services, admin: Actor, inp: BatchInput, lines: Sequence[str]
) -> tuple[Any, Collect]:
    sink = Collect()
    return services.batches.create(admin, inp, lines, sink), sink


def counts(services: Services) -> dict[str, int]:
    tables = (t.subscribers, t.resources, t.wallets, t.edrs, subscriber_batches)
    with services.engine.connect() as conn:
        return {
            table.name: int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
            for table in tables
        }


# -- equal to what the services write ---------------------------------------------------------


def _rows_of(services: Services, subscriber_pk: int) -> dict[str, list[dict[str, Any]]]:
    """Every row the services write for one subscriber, with its own ids, number and wallet
    reference replaced by placeholders (times are equal: the test clock stands still)."""
    with services.engine.connect() as conn:

        def rows(table: sa.Table, where: sa.ColumnElement[bool]) -> list[dict[str, Any]]:
            order = list(table.primary_key.columns)
            query = sa.select(table).where(where).order_by(*order)
            return [dict(r._mapping) for r in conn.execute(query)]

        subscriber = rows(t.subscribers, t.subscribers.c.id == subscriber_pk)[0]
        link = rows(t.wallet_links, t.wallet_links.c.subscriber_id == subscriber_pk)
        wallet_id = link[0]["wallet_id"]
        edrs = rows(t.edrs, t.edrs.c.wallet_id == wallet_id)
        edr_ids = [e["id"] for e in edrs]
        found = {
            "subscribers": [subscriber],
            "resources": rows(t.resources, t.resources.c.subscriber_id == subscriber_pk),
            "wallets": rows(t.wallets, t.wallets.c.id == wallet_id),
            "wallet_links": link,
            "wallet_balances": rows(t.wallet_balances, t.wallet_balances.c.wallet_id == wallet_id),
            "buckets": rows(t.buckets, t.buckets.c.wallet_id == wallet_id),
            "wallet_history": rows(t.wallet_history, t.wallet_history.c.wallet_id == wallet_id),
            "edrs": edrs,
            "edr_balances": rows(t.edr_balances, t.edr_balances.c.edr_id.in_(edr_ids)),
            "edr_tags": rows(t.edr_tags, t.edr_tags.c.edr_id.in_(edr_ids)),
        }
        reference = found["wallets"][0]["reference"]
    number = subscriber["subscriber_id"]
    out: dict[str, list[dict[str, Any]]] = {}
    for name, table_rows in found.items():
        out[name] = []
        for row in table_rows:
            clean = {}
            for key, value in row.items():
                # Ids differ, and a wallet's revision is a fresh random value on every write.
                if key in ("id", "edr_id", "revision"):
                    continue
                if key == "subscriber_id" and value == subscriber_pk:
                    value = "<subscriber>"
                elif key in ("wallet_id",) and value == wallet_id:
                    value = "<wallet>"
                elif isinstance(value, str):
                    value = value.replace(reference, "<reference>").replace(number, "<number>")
                clean[key] = value
            out[name].append(clean)
    return out


def test_a_batch_subscriber_is_row_for_row_what_the_services_create(
    services: Services, admin: Actor, account: int
) -> None:
    number = "31700000001"
    view = services.casm.create_subscriber(
        admin,
        SubscriberInput(
            number,
            account_id=account,
            state="INACTIVE",
            resources=(ResourceInput("MSISDN", number),),
            wallet=WalletInput(product_type=PRODUCT),
        ),
    )
    batch, sink = create(
        services, admin, batch_input(account, 3), ["# three cards", "31700000002-31700000004"]
    )
    assert batch.state is BatchState.INACTIVE
    assert batch.created_count == 3
    members = services.batches.members(admin, batch.id)
    assert [m.subscriber_id for m in members] == ["31700000002", "31700000003", "31700000004"]

    expected = _rows_of(services, view.subscriber.id)
    for member in members:
        assert _rows_of(services, member.id) == expected
    # Non-empty where the services write: a subscriber, resource, wallet, link, default balance,
    # history entry and WALLET_CREATED EDR.
    for name in ("subscribers", "resources", "wallets", "wallet_links", "wallet_balances",
                 "wallet_history", "edrs"):  # fmt: skip
        assert len(expected[name]) == 1, name
    # The result file: subscriber ID -> wallet reference, in list order, no PINs.
    assert [(x.subscriber_id, x.card_number, x.wallet_reference, x.pin) for x in sink.lines] == [
        (m.subscriber_id, m.subscriber_id, m.wallet_reference, None) for m in members
    ]
    # The services find and reconcile a batch subscriber like any other.
    found = services.casm.find_subscriber_by_resource(admin, "31700000003", "MSISDN")
    assert found.subscriber.id == members[1].id
    wallets = services.wallets.subscriber_wallets(admin, members[1].id)
    assert [w.wallet.reference for w in wallets] == [members[1].wallet_reference]
    services.wallets.top_up(admin, wallets[0].wallet.id, "CASH", 500)
    checks = services.edrs.reconcile(admin, wallets[0].wallet.id)
    assert [(c.balance_type, c.consistent) for c in checks] == [("CASH", True)]


def test_progress_is_reported_after_every_chunk(
    services: Services, admin: Actor, account: int
) -> None:
    services.batches.chunk_subscribers = 3
    seen: list[tuple[int, int]] = []
    sink = Collect()
    batch = services.batches.create(
        admin,
        batch_input(account, 7),
        ["40000000001-40000000005", "40000000009", "40000000020"],
        sink,
        lambda done, total: seen.append((done, total)),
    )
    assert seen == [(3, 7), (6, 7), (7, 7)]
    assert batch.created_count == 7
    numbers = [x.subscriber_id for x in sink.lines]
    assert numbers[-2:] == ["40000000009", "40000000020"]
    assert services.batches.get(admin, batch.id).members == 7


# -- refusals that write nothing --------------------------------------------------------------


def test_numbers_in_use_are_refused_with_nothing_written(
    services: Services, admin: Actor, account: int
) -> None:
    services.casm.create_subscriber(
        admin, SubscriberInput("50000000007", account_id=account, wallet=WalletInput(PRODUCT))
    )
    before = counts(services)
    with pytest.raises(DomainError) as error:
        create(services, admin, batch_input(account, 10), ["50000000001-50000000010"])
    assert error.value.kind is ProblemKind.DUPLICATE
    assert error.value.detail.startswith("line 1: 50000000007 is already in use")
    assert error.value.field == "subscriber_list"
    assert counts(services) == before


def test_a_resource_value_in_use_is_refused(services: Services, admin: Actor, account: int) -> None:
    services.casm.create_subscriber(
        admin,
        SubscriberInput(
            "other-1", account_id=account, resources=(ResourceInput("MSISDN", "50000000003"),)
        ),
    )
    before = counts(services)
    with pytest.raises(DomainError) as error:
        create(services, admin, batch_input(account, 1), ["50000000003"])
    assert error.value.kind is ProblemKind.DUPLICATE
    assert "resource value" in error.value.detail
    assert counts(services) == before


def test_bad_list_files_are_refused_naming_the_line(
    services: Services, admin: Actor, account: int
) -> None:
    before = counts(services)
    cases = {
        ("60000000001-60000000005", "# note", "60000000004"): "line 3",
        ("60000000001", "6000000000x"): "line 2",
        ("60000000009-60000000001",): "line 1",
    }
    for lines, where in cases.items():
        with pytest.raises(DomainError) as error:
            create(services, admin, batch_input(account, 5), list(lines))
        assert error.value.field == "subscriber_list"
        assert error.value.detail.startswith(where), error.value.detail
    with pytest.raises(DomainError) as error:
        create(services, admin, batch_input(account, 4), ["60000000001-60000000005"])
    assert error.value.field == "batch_size"
    assert counts(services) == before


def test_fields_are_checked(services: Services, admin: Actor, account: int) -> None:
    lines = ["61000000001-61000000002"]
    bad = {
        "charging_domain": {"charging_domain": "vws2"},
        "product_type": {"product_type": "NOPE"},
        "currency": {"currency": "USD"},  # the default CASH balance holds EUR
        "max_concurrent_accesses": {"max_concurrent_accesses": 0},
        "pin_length": {"add_pins": True, "pin_length": 3},
        "card_last": {"use_subscriber_id": False, "card_first": "900", "card_last": "900"},
        "account_id": {"account_id": 999_999},
        "result_filename": {"result_filename": " "},
    }
    for field, changes in bad.items():
        with pytest.raises(DomainError) as error:
            create(services, admin, replace(batch_input(account, 2), **changes), lines)
        assert error.value.field == field, (field, error.value)
    assert counts(services)[subscriber_batches.name] == 0


# -- card numbers and PINs --------------------------------------------------------------------


def test_card_numbers_are_allocated_from_the_range(
    services: Services, admin: Actor, account: int
) -> None:
    inp = batch_input(
        account, 3, use_subscriber_id=False, card_first="0000500", card_last="0000599"
    )
    batch, sink = create(services, admin, inp, ["62000000001", "62000000005-62000000006"])
    assert batch.card_numbering is CardNumbering.RANGE
    assert (batch.card_first, batch.card_last) == ("0000500", "0000502")
    cards = [(x.subscriber_id, x.card_number) for x in sink.lines]
    assert cards == [("62000000001", "0000500"), ("62000000005", "0000501"),
                     ("62000000006", "0000502")]  # fmt: skip
    members = services.batches.members(admin, batch.id)
    assert [m.card_number for m in members] == ["0000500", "0000501", "0000502"]
    # The same cards again are in use.
    inp = replace(inp, card_first="0000502", card_last="0000600")
    with pytest.raises(DomainError) as error:
        create(services, admin, inp, ["62000000101-62000000103"])
    assert error.value.kind is ProblemKind.DUPLICATE
    assert error.value.field == "card_first"


def test_pins_are_stored_only_as_argon2_hashes(
    services: Services, admin: Actor, account: int
) -> None:
    batch, sink = create(
        services, admin, batch_input(account, 4, add_pins=True, pin_length=6),
        ["63000000001-63000000004"],
    )  # fmt: skip
    assert batch.pins
    assert batch.pin_length == 6
    assert batch.pin_method == "argon2id"
    pins = [x.pin for x in sink.lines]
    assert all(p is not None and len(p) == 6 and p.isdigit() for p in pins)
    hasher = Argon2Hasher()
    with services.engine.connect() as conn:
        stored = dict(
            conn.execute(
                sa.select(t.subscribers.c.subscriber_id, t.subscribers.c.pin_hash).where(
                    t.subscribers.c.subscriber_id.like("63%")
                )
            ).all()
        )
        everything = " ".join(
            str(row)
            for table in (t.subscribers, t.audit_log, t.edrs, t.wallet_history, subscriber_batches)
            for row in conn.execute(sa.select(table))
        )
    for line in sink.lines:
        pin_hash = stored[line.subscriber_id]
        assert pin_hash.startswith("$argon2id$")
        assert line.pin is not None
        assert hasher.verify(pin_hash, line.pin)
        assert not hasher.verify(pin_hash, "000000" if line.pin != "000000" else "111111")
    for pin in pins:
        assert f" {pin}" not in everything
        assert f"'{pin}'" not in everything
    member = services.batches.members(admin, batch.id)[0]
    assert services.features.subscribers.get_details(admin, member.id).pin_defined
    assert services.features.subscribers.verify_pin(admin, member.id, sink.lines[0].pin or "")


# -- states, search, edit, delete -------------------------------------------------------------


def test_activation_activates_the_subscribers_and_keeps_the_creation_date(
    services: Services, admin: Actor, account: int, clock: FakeClock
) -> None:
    batch, _ = create(services, admin, batch_input(account, 3), ["64000000001-64000000003"])
    created_at = batch.created_at
    members = services.batches.members(admin, batch.id)
    assert {m.state for m in members} == {EntityState.INACTIVE}
    clock.advance(3600)
    with pytest.raises(DomainError) as error:
        services.batches.edit(admin, batch.id, "ACTIVE")
    assert error.value.kind is ProblemKind.MISSING_FIELD
    with pytest.raises(DomainError) as error:
        services.batches.edit(admin, batch.id, "ACTIVE", "PREP")  # an INACTIVE reason
    assert error.value.kind is ProblemKind.STATE_REASON_MISMATCH

    active = services.batches.edit(admin, batch.id, "ACTIVE", "NEW")
    assert active.state is BatchState.ACTIVE
    assert active.state_reason == "NEW"
    assert active.created_at == created_at
    assert active.state_changed_at == clock.now()
    members = services.batches.members(admin, batch.id)
    assert {m.state for m in members} == {EntityState.ACTIVE}
    changes = services.casm.list_state_changes(admin, CasmLevel.SUBSCRIBER, members[0].id)
    assert [(c.state, c.state_reason, c.requested_by) for c in changes] == [
        (EntityState.ACTIVE, "NEW", admin.username)
    ]
    # Only INACTIVE -> ACTIVE is an edit.
    for state in ("INACTIVE", "ACTIVE", "FAILED"):
        with pytest.raises(DomainError) as error:
            services.batches.edit(admin, batch.id, state, "NEW")
        assert error.value.kind is ProblemKind.INVALID_STATE_TRANSITION
    assert services.batches.get(admin, batch.id).batch.created_at == created_at


def test_search_by_subscriber_id_prefix_and_state(
    services: Services, admin: Actor, account: int
) -> None:
    first, _ = create(services, admin, batch_input(account, 3), ["65100000001-65100000003"])
    second, _ = create(services, admin, batch_input(account, 2), ["65200000098-65200000099"])
    services.batches.edit(admin, second.id, "ACTIVE", "NEW")

    def ids(prefix: str, state: str | None = None) -> list[int]:
        return [b.id for b in services.batches.search(admin, prefix, state)]

    assert ids("") == [second.id, first.id]
    assert ids("651") == [first.id]
    assert ids("6520000009") == [second.id]
    assert ids("65200000097") == []
    assert ids("65", "ACTIVE") == [second.id]
    assert ids("65", "INACTIVE") == [first.id]
    with pytest.raises(DomainError) as error:
        services.batches.search(admin, "65", "SLEEPING")
    assert error.value.field == "state"


def test_delete_rules(services: Services, admin: Actor, account: int) -> None:
    active, _ = create(services, admin, batch_input(account, 2), ["66000000001-66000000002"])
    services.batches.edit(admin, active.id, "ACTIVE", "NEW")
    with pytest.raises(DomainError) as error:
        services.batches.delete(admin, active.id, with_subscribers=True)
    assert error.value.kind is ProblemKind.IN_USE
    # The record alone may go; its subscribers stay in service.
    members = services.batches.members(admin, active.id)
    assert services.batches.delete(admin, active.id) == 0
    with pytest.raises(DomainError) as error:
        services.batches.get(admin, active.id)
    assert error.value.kind is ProblemKind.NOT_FOUND
    assert services.casm.get_subscriber(admin, members[0].id).subscriber.state is EntityState.ACTIVE

    inactive, _ = create(services, admin, batch_input(account, 3), ["66000000011-66000000013"])
    wallet_ids = [
        services.wallets.subscriber_wallets(admin, m.id)[0].wallet.id
        for m in services.batches.members(admin, inactive.id)
    ]
    before = counts(services)
    assert services.batches.delete(admin, inactive.id, with_subscribers=True) == 3
    after = counts(services)
    assert after[t.subscribers.name] == before[t.subscribers.name] - 3
    assert after[t.wallets.name] == before[t.wallets.name] - 3
    with services.engine.connect() as conn:
        deleted = conn.scalar(
            sa.select(sa.func.count()).where(
                t.edrs.c.type == "WALLET_DELETED", t.edrs.c.wallet_id.in_(wallet_ids)
            )
        )
        members_left = conn.scalar(sa.select(sa.func.count()).select_from(batch_subscribers))
    assert deleted == 3
    assert members_left == 0  # the first batch's member list went with its record
    # The numbers are free again.
    again, _ = create(services, admin, batch_input(account, 3), ["66000000011-66000000013"])
    assert again.state is BatchState.INACTIVE


def test_a_failed_chunk_stops_the_batch_and_keeps_committed_chunks(
    services: Services, admin: Actor, account: int
) -> None:
    services.batches.chunk_subscribers = 2
    inp = batch_input(account, 5)
    plan = services.batches.prepare(admin, inp, ["67000000001-67000000005"])
    assert services.batches.get(admin, plan.batch.id).batch.state is BatchState.CREATING
    with pytest.raises(DomainError) as error:
        services.batches.delete(admin, plan.batch.id)
    assert error.value.kind is ProblemKind.CONFLICT
    # Someone takes a number of the second chunk after the checks.
    services.casm.create_subscriber(
        admin, SubscriberInput("67000000004", account_id=account, wallet=WalletInput(PRODUCT))
    )
    sink = Collect()
    with pytest.raises(DomainError) as error:
        services.batches.run(admin, plan, sink)
    assert "stopped after 2 of 5" in error.value.detail
    view = services.batches.get(admin, plan.batch.id)
    assert view.batch.state is BatchState.FAILED
    assert view.batch.error is not None
    assert "stopped after 2 of 5" in view.batch.error
    assert view.batch.created_count == 2
    assert view.members == 2
    assert [x.subscriber_id for x in sink.lines] == ["67000000001", "67000000002"]
    # Clean up and run again without the taken number.
    assert services.batches.delete(admin, plan.batch.id, with_subscribers=True) == 2
    batch, _ = create(
        services, admin, batch_input(account, 4), ["67000000001-67000000003", "67000000005"]
    )
    assert batch.created_count == 4


def test_an_operator_may_stop_a_creating_batch(
    services: Services, admin: Actor, account: int
) -> None:
    plan = services.batches.prepare(admin, batch_input(account, 2), ["68000000001-68000000002"])
    stopped = services.batches.edit(admin, plan.batch.id, "FAILED")
    assert stopped.state is BatchState.FAILED
    with pytest.raises(DomainError) as error:
        services.batches.run(admin, plan, Collect())
    assert "no longer CREATING" in error.value.detail
    assert services.batches.get(admin, plan.batch.id).members == 0


def test_privileges_and_providers(services: Services, admin: Actor, account: int) -> None:
    reader = Actor("reader", frozenset({Privilege.READ}))
    with pytest.raises(DomainError) as error:
        create(services, reader, batch_input(account, 1), ["69000000001"])
    assert error.value.kind is ProblemKind.FORBIDDEN
    batch, _ = create(services, admin, batch_input(account, 1), ["69000000001"])
    stranger = replace(admin, service_providers=frozenset({"SP2"}))
    with pytest.raises(DomainError) as error:
        services.batches.get(stranger, batch.id)
    assert error.value.kind is ProblemKind.NOT_FOUND
    assert services.batches.search(stranger) == []
