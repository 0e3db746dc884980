"""Voucher types and batches on top of the wallet catalogue (loaded through the service layer)."""

from __future__ import annotations

from datetime import timedelta

from ocs.bootstrap import Services
from ocs.core.configuration import ConfigKind
from ocs.core.vouchers import IssuedVoucher, VoucherBalanceInput
from ocs.service.actor import Actor
from ocs.service.vouchers import BatchCreated, BatchInput, VoucherTypeInput
from tests.support.catalog import PROVIDER
from tests.support.wallets import load_wallet_catalog

OTHER_PRODUCT = "PT2"
# CASH 500 undated, VOICE 600 s for 30 days, the wallet's expiry 30 days further out.
TOPUP = "TOPUP"
TOPUP_CASH = 500
TOPUP_VOICE_S = 600


def load_voucher_catalog(services: Services, actor: Actor) -> None:
    load_wallet_catalog(services, actor)
    services.configuration.create(
        actor,
        ConfigKind.PRODUCT_TYPE,
        {"code": OTHER_PRODUCT, "name": "Other", "service_provider": PROVIDER,
         "currency": "EUR", "default_balance_type": "CASH"},
    )  # fmt: skip
    voucher_type(
        services,
        actor,
        TOPUP,
        [
            VoucherBalanceInput("CASH", TOPUP_CASH),
            VoucherBalanceInput("VOICE", TOPUP_VOICE_S, "VALIDITY", 30),
        ],
        wallet_expiry_extension_days=30,
    )


def voucher_type(
    services: Services,
    actor: Actor,
    code: str,
    balances: list[VoucherBalanceInput],
    **fields: object,
) -> None:
    inp = VoucherTypeInput(
        code=code, name=f"Voucher {code}", service_provider=PROVIDER, balances=balances,
        **fields,  # type: ignore[arg-type]
    )  # fmt: skip
    services.vouchers.create_type(actor, inp)


def active_batch(
    services: Services, actor: Actor, code: str = TOPUP, size: int = 3, days: int = 365
) -> BatchCreated:
    expires_at = services.clock.now() + timedelta(days=days)
    created = services.vouchers.create_batch(actor, BatchInput(code, size, expires_at))
    services.vouchers.change_batch_state(actor, created.batch.id, "ACTIVE")
    return created


def one_voucher(services: Services, actor: Actor, code: str = TOPUP) -> IssuedVoucher:
    return active_batch(services, actor, code, size=1).vouchers[0]
