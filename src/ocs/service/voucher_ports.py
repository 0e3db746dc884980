"""Repository port for vouchers and credit transfers; `UnitOfWork.vouchers` provides it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ocs.core.vouchers import (
    BatchState,
    TransferDefinition,
    Voucher,
    VoucherBatch,
    VoucherState,
    VoucherType,
)


@dataclass(frozen=True)
class StoredVoucher:
    voucher: Voucher
    # HMAC-SHA256 of the secret (see core.vouchers.hash_secret); never leaves the service.
    secret_hash: str


@dataclass(frozen=True)
class NewVoucher:
    number: str
    serial_number: str
    secret_hash: str


@dataclass(frozen=True)
class RechargeFailures:
    """Consecutive failed voucher recharges of a subscriber since the last success or clear."""

    failures: int = 0
    last_failed_at: datetime | None = None


class VoucherRepository(Protocol):
    # -- voucher types ---------------------------------------------------------------------------

    def insert_type(self, voucher_type: VoucherType) -> int: ...

    def update_type(self, voucher_type: VoucherType) -> None:
        """Replace everything but the code and the service provider."""
        ...

    def get_type(self, code: str) -> VoucherType | None: ...

    def list_types(self, providers: frozenset[str] | None) -> list[VoucherType]: ...

    def delete_type(self, code: str) -> None: ...

    def type_used_by(self, code: str) -> str | None:
        """What still refers to the voucher type ('voucher-batches', ...), if anything."""
        ...

    # -- batches and vouchers ------------------------------------------------------------------

    def insert_batch(self, batch: VoucherBatch) -> int: ...

    def get_batch(self, batch_id: int, for_update: bool = False) -> VoucherBatch | None: ...

    def list_batches(
        self, providers: frozenset[str] | None, voucher_type: str | None, limit: int
    ) -> list[VoucherBatch]:
        """Newest first."""
        ...

    def set_batch_state(self, batch_id: int, state: BatchState) -> None: ...

    def batch_counts(self, batch_id: int) -> dict[VoucherState, int]: ...

    def insert_vouchers(self, batch_id: int, vouchers: Sequence[NewVoucher]) -> None: ...

    def get_voucher(self, number: str, for_update: bool = False) -> StoredVoucher | None: ...

    def set_voucher_state(self, voucher_id: int, state: VoucherState) -> None: ...

    def redeem(self, voucher_id: int, subscriber_id: int, wallet_id: int, at: datetime) -> bool:
        """AVAILABLE -> REDEEMED; False when the voucher was no longer AVAILABLE."""
        ...

    # -- failed recharges ----------------------------------------------------------------------

    def get_failures(self, subscriber_id: int) -> RechargeFailures: ...

    def put_failures(self, subscriber_id: int, failures: RechargeFailures) -> None: ...

    def subscriber_ids_by_msisdn(self, msisdn: str) -> list[int]:
        """Subscribers (of any service provider) whose subscriber ID is `msisdn`."""
        ...

    # -- credit transfer definitions -----------------------------------------------------------

    def insert_definition(self, definition: TransferDefinition) -> int: ...

    def update_definition(self, definition: TransferDefinition) -> None: ...

    def get_definition(self, code: str) -> TransferDefinition | None: ...

    def list_definitions(self, providers: frozenset[str] | None) -> list[TransferDefinition]: ...

    def delete_definition(self, code: str) -> None: ...
