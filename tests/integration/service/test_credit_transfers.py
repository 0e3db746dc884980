"""Credit transfers on SQLite and PostgreSQL: definitions, and performing transfers where the
purchaser's debit and the recipient's credit happen together or not at all."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ocs.bootstrap import Services
from ocs.core.edr import EdrType
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.vouchers import TransferType, VoucherBalanceInput
from ocs.service.actor import Actor
from ocs.service.credit_transfers import TransferDefinitionInput, TransferRequest
from ocs.service.subscriber_features import DetailsInput
from ocs.service.wallet_ledger import WalletInput
from tests.support.catalog import OTHER_PROVIDER, PROVIDER
from tests.support.vouchers import OTHER_PRODUCT, load_voucher_catalog, voucher_type
from tests.support.wallets import (
    PRODUCT,
    assert_balances_explained,
    ledger_fingerprint,
    new_subscriber,
    wallet_of,
)

PIN = "4321"


@pytest.fixture
def ts(services: Services, admin: Actor) -> Iterator[Services]:
    load_voucher_catalog(services, admin)
    voucher_type(
        services, admin, "DATA300", [VoucherBalanceInput("DATA", 300, "VALIDITY", 7)],
        allowed_product_types=[PRODUCT],
    )  # fmt: skip
    voucher_type(services, admin, "SMS60", [VoucherBalanceInput("SMS", 60)])
    _definition(services, admin, "P2P-DATA", "DATA300", pin_required=True)
    _definition(services, admin, "BUNDLE-SMS", "SMS60", transfer_type="SERVICE_BUNDLE")
    yield services
    assert_balances_explained(services)


def _definition(
    services: Services, admin: Actor, code: str, voucher: str, **fields: object
) -> None:
    inp = TransferDefinitionInput(
        **{"code": code, "name": f"Transfer {code}", "transfer_type": "PEER_TO_PEER",
           "service_provider": PROVIDER, "charge_balance_type": "CASH", "charge_amount": 300,
           "voucher_type": voucher, **fields},  # type: ignore[arg-type]
    )  # fmt: skip
    services.credit_transfers.create_definition(admin, inp)


def _refused(call: Callable[..., object], *args: object, **kwargs: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value


def _funded(services: Services, admin: Actor, cash: int, product_type: str = PRODUCT) -> int:
    subscriber = new_subscriber(services, admin, WalletInput(product_type=product_type))
    if cash:
        services.wallets.top_up(admin, wallet_of(services, admin, subscriber), "CASH", cash)
    return subscriber


def _msisdn(services: Services, subscriber_id: int) -> str:
    with services.store.transaction() as uow:
        found = uow.casm.get_subscriber(subscriber_id)
        assert found is not None
        return found.subscriber_id


def _set_pin(services: Services, admin: Actor, subscriber_id: int) -> None:
    details = DetailsInput(pin_defined=True, pin=PIN, pin_confirmation=PIN)
    services.features.subscribers.update_details(admin, subscriber_id, details)


def _balance(services: Services, admin: Actor, subscriber_id: int, code: str) -> int:
    view = services.wallets.get_wallet(admin, wallet_of(services, admin, subscriber_id))
    return next((b.total_value for b in view.balances if b.balance_type == code), 0)


def test_definition_validation_and_crud(ts: Services, admin: Actor) -> None:
    definition = ts.credit_transfers.get_definition(admin, "P2P-DATA")
    assert (definition.transfer_type, definition.pin_required, definition.charge_amount) == (
        TransferType.PEER_TO_PEER, True, 300,
    )  # fmt: skip

    def attempt(**fields: object) -> DomainError:
        return _refused(_definition, ts, admin, "NEW", "DATA300", **fields)

    assert attempt(charge_amount=-1).field == "charge_amount"
    assert attempt(charge_balance_type="NOPE").field == "charge_balance_type"
    assert attempt(transfer_type="GIFT").field == "transfer_type"
    assert attempt(voucher_type="NOPE").field == "voucher_type"
    assert attempt(allowed_product_types=["NOPE"]).field == "allowed_product_types"
    assert attempt(service_provider=OTHER_PROVIDER).field == "voucher_type"
    assert _refused(_definition, ts, admin, "P2P-DATA", "DATA300").kind is ProblemKind.DUPLICATE

    inp = TransferDefinitionInput(
        "P2P-DATA", "Renamed", "PEER_TO_PEER", PROVIDER, "CASH", 250, "DATA300",
        allowed_product_types=[PRODUCT],
    )  # fmt: skip
    updated = ts.credit_transfers.update_definition(admin, "P2P-DATA", inp)
    assert (updated.name, updated.charge_amount, updated.pin_required) == ("Renamed", 250, False)
    assert updated.allowed_product_types == (PRODUCT,)
    assert _refused(ts.vouchers.delete_type, admin, "DATA300").kind is ProblemKind.IN_USE
    ts.credit_transfers.delete_definition(admin, "BUNDLE-SMS")
    assert [d.code for d in ts.credit_transfers.list_definitions(admin)] == ["P2P-DATA"]


def test_peer_to_peer_transfer_debits_and_credits_in_one_go(ts: Services, admin: Actor) -> None:
    purchaser = _funded(ts, admin, 1000)
    recipient = _funded(ts, admin, 0)
    _set_pin(ts, admin, purchaser)
    request = TransferRequest(purchaser, "P2P-DATA", _msisdn(ts, recipient), pin=PIN)

    result = ts.credit_transfers.perform(admin, request)

    assert (result.purchaser_id, result.recipient_id) == (purchaser, recipient)
    paid = result.purchaser_edr
    assert (paid.type, paid.subscriber_id, paid.balances[0].delta_value) == (
        EdrType.CREDIT_TRANSFER, purchaser, -300,
    )  # fmt: skip
    received = result.recipient.edr
    assert (received.type, received.subscriber_id) == (EdrType.CREDIT_TRANSFER, recipient)
    assert {line.balance_type: line.delta_value for line in received.balances} == {"DATA": 300}
    assert dict(received.tags)["ROLE"] == "RECIPIENT"
    assert dict(paid.tags)["TRANSFER"] == "P2P-DATA"
    assert (_balance(ts, admin, purchaser, "CASH"), _balance(ts, admin, recipient, "DATA")) == (
        700, 300,
    )  # fmt: skip


def test_insufficient_funds_change_nothing(ts: Services, admin: Actor) -> None:
    purchaser = _funded(ts, admin, 299)
    recipient = _funded(ts, admin, 0)
    _set_pin(ts, admin, purchaser)
    before = ledger_fingerprint(ts)
    request = TransferRequest(purchaser, "P2P-DATA", _msisdn(ts, recipient), pin=PIN)
    error = _refused(ts.credit_transfers.perform, admin, request)
    assert (error.kind, error.field) == (ProblemKind.INSUFFICIENT_BALANCE, "definition")
    assert ledger_fingerprint(ts) == before


def test_pin_is_required_and_checked(ts: Services, admin: Actor) -> None:
    purchaser = _funded(ts, admin, 1000)
    recipient = _msisdn(ts, _funded(ts, admin, 0))
    no_pin_set = TransferRequest(purchaser, "P2P-DATA", recipient, pin=PIN)
    error = _refused(ts.credit_transfers.perform, admin, no_pin_set)
    assert (error.kind, error.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "pin")
    _set_pin(ts, admin, purchaser)
    before = ledger_fingerprint(ts)
    missing = TransferRequest(purchaser, "P2P-DATA", recipient)
    assert _refused(ts.credit_transfers.perform, admin, missing).kind is (ProblemKind.MISSING_FIELD)
    wrong = TransferRequest(purchaser, "P2P-DATA", recipient, pin="9999")
    error = _refused(ts.credit_transfers.perform, admin, wrong)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "pin")
    assert "9999" not in error.detail
    assert PIN not in error.detail
    # Wallets, balances and EDRs are as they were; only the subscriber's PIN failures grew.
    assert ledger_fingerprint(ts)[:-1] == before[:-1]
    assert "9999" not in repr(wrong)


def test_three_wrong_pins_block_the_pin_until_a_new_one_is_set(ts: Services, admin: Actor) -> None:
    purchaser = _funded(ts, admin, 1000)
    recipient = _msisdn(ts, _funded(ts, admin, 0))
    _set_pin(ts, admin, purchaser)
    wrong = TransferRequest(purchaser, "P2P-DATA", recipient, pin="9999")
    right = TransferRequest(purchaser, "P2P-DATA", recipient, pin=PIN)
    details: list[str] = []
    for _ in range(2):
        details.append(_refused(ts.credit_transfers.perform, admin, wrong).detail)
    ts.credit_transfers.perform(admin, right)  # a right PIN clears the count
    for _ in range(3):
        details.append(_refused(ts.credit_transfers.perform, admin, wrong).detail)
    assert details == [
        "the PIN is not correct; 2 attempt(s) left",
        "the PIN is not correct; 1 attempt(s) left",
        "the PIN is not correct; 2 attempt(s) left",
        "the PIN is not correct; 1 attempt(s) left",
        "the PIN is not correct; the PIN is now blocked",
    ]
    blocked = _refused(ts.credit_transfers.perform, admin, right)
    assert (blocked.kind, blocked.field) == (ProblemKind.NOT_ALLOWED_IN_STATE, "pin")
    also_blocked = _refused(ts.features.subscribers.verify_pin, admin, purchaser, PIN)
    assert also_blocked.kind is ProblemKind.NOT_ALLOWED_IN_STATE
    _set_pin(ts, admin, purchaser)  # an operator sets a new PIN: unblocked
    ts.credit_transfers.perform(admin, right)


def test_recipient_product_type_must_be_allowed(ts: Services, admin: Actor) -> None:
    purchaser = _funded(ts, admin, 1000)
    _set_pin(ts, admin, purchaser)
    other = _funded(ts, admin, 0, product_type=OTHER_PRODUCT)
    before = ledger_fingerprint(ts)
    request = TransferRequest(purchaser, "P2P-DATA", _msisdn(ts, other), pin=PIN)
    error = _refused(ts.credit_transfers.perform, admin, request)
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "product_type")
    assert ledger_fingerprint(ts) == before


def test_purchaser_product_type_and_recipient_maximum_balance(ts: Services, admin: Actor) -> None:
    ts.credit_transfers.update_definition(
        admin, "BUNDLE-SMS",
        TransferDefinitionInput("BUNDLE-SMS", "Bundle", "SERVICE_BUNDLE", PROVIDER, "CASH", 300,
                                "SMS60", allowed_product_types=[OTHER_PRODUCT]),
    )  # fmt: skip
    purchaser = _funded(ts, admin, 1000)
    error = _refused(ts.credit_transfers.perform, admin, TransferRequest(purchaser, "BUNDLE-SMS"))
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "purchaser_wallet_type")

    buyer = _funded(ts, admin, 1000, product_type=OTHER_PRODUCT)
    first = ts.credit_transfers.perform(admin, TransferRequest(buyer, "BUNDLE-SMS"))
    # Without a recipient MSISDN the purchaser buys the bundle for itself.
    assert first.recipient_id == buyer
    assert (_balance(ts, admin, buyer, "CASH"), _balance(ts, admin, buyer, "SMS")) == (700, 60)
    before = ledger_fingerprint(ts)
    error = _refused(ts.credit_transfers.perform, admin, TransferRequest(buyer, "BUNDLE-SMS"))
    assert (error.kind, error.field) == (ProblemKind.MAXIMUM_BALANCE_EXCEEDED, "definition")
    assert ledger_fingerprint(ts) == before


def test_wallet_type_choice_and_unknown_recipient(ts: Services, admin: Actor) -> None:
    purchaser = _funded(ts, admin, 1000)
    recipient = _funded(ts, admin, 0)
    ts.wallets.create_wallet(admin, recipient, "SECONDARY", WalletInput(product_type=PRODUCT))
    request = TransferRequest(
        purchaser, "BUNDLE-SMS", _msisdn(ts, recipient), recipient_wallet_type="SECONDARY"
    )
    result = ts.credit_transfers.perform(admin, request)
    secondary = wallet_of(ts, admin, recipient, "SECONDARY")
    assert result.recipient.edr.wallet_id == secondary
    assert _balance(ts, admin, recipient, "SMS") == 0
    error = _refused(
        ts.credit_transfers.perform, admin, TransferRequest(purchaser, "BUNDLE-SMS", "999")
    )
    assert (error.kind, error.field) == (ProblemKind.NOT_FOUND, "recipient_msisdn")
    error = _refused(
        ts.credit_transfers.perform,
        admin,
        TransferRequest(purchaser, "BUNDLE-SMS", purchaser_wallet_type="SECONDARY"),
    )
    assert (error.kind, error.field) == (ProblemKind.NOT_FOUND, "purchaser_wallet_type")
