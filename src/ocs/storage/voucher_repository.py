"""SQL implementation of the voucher port (see ocs.service.voucher_ports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ocs.core.vouchers import (
    BatchState,
    BucketExpiry,
    TransferDefinition,
    TransferType,
    Voucher,
    VoucherBalance,
    VoucherBatch,
    VoucherState,
    VoucherType,
)
from ocs.service.voucher_ports import NewVoucher, RechargeFailures, StoredVoucher
from ocs.storage import tables as t
from ocs.storage import voucher_tables as v

# Rows per INSERT when a batch is generated (bounded statements on both backends).
INSERT_CHUNK_ROWS = 1000


class SqlVoucherRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- voucher types ---------------------------------------------------------------------------

    def insert_type(self, voucher_type: VoucherType) -> int:
        values = _type_values(voucher_type)
        values.update(code=voucher_type.code, service_provider=voucher_type.service_provider)
        result = self.conn.execute(
            insert(v.voucher_types).values(**values).returning(v.voucher_types.c.id)
        )
        self._put_type_children(voucher_type)
        return int(result.scalar_one())

    def update_type(self, voucher_type: VoucherType) -> None:
        c = v.voucher_types.c
        self.conn.execute(
            update(v.voucher_types)
            .where(c.code == voucher_type.code)
            .values(**_type_values(voucher_type))
        )
        for table in (v.voucher_type_balances, v.voucher_type_product_types):
            self.conn.execute(delete(table).where(table.c.voucher_type == voucher_type.code))
        self._put_type_children(voucher_type)

    def _put_type_children(self, voucher_type: VoucherType) -> None:
        code = voucher_type.code
        balances = [
            {
                "voucher_type": code,
                "balance_type": b.balance_type,
                "position": i,
                "value": b.value,
                "expiry": b.expiry.value,
                "validity_days": b.validity_days,
            }
            for i, b in enumerate(voucher_type.balances)
        ]
        if balances:
            self.conn.execute(insert(v.voucher_type_balances), balances)
        products = [
            {"voucher_type": code, "product_type": p} for p in voucher_type.allowed_product_types
        ]
        if products:
            self.conn.execute(insert(v.voucher_type_product_types), products)

    def get_type(self, code: str) -> VoucherType | None:
        row = self.conn.execute(
            select(v.voucher_types).where(v.voucher_types.c.code == code)
        ).first()
        return None if row is None else self._type(row)

    def list_types(self, providers: frozenset[str] | None) -> list[VoucherType]:
        c = v.voucher_types.c
        query = select(v.voucher_types).order_by(c.code)
        if providers is not None:
            query = query.where(c.service_provider.in_(sorted(providers)))
        return [self._type(row) for row in self.conn.execute(query)]

    def _type(self, row: Any) -> VoucherType:
        m = row._mapping
        b = v.voucher_type_balances.c
        balances = tuple(
            VoucherBalance(
                r._mapping["balance_type"],
                int(r._mapping["value"]),
                BucketExpiry(r._mapping["expiry"]),
                r._mapping["validity_days"],
            )
            for r in self.conn.execute(
                select(v.voucher_type_balances)
                .where(b.voucher_type == m["code"])
                .order_by(b.position)
            )
        )
        p = v.voucher_type_product_types.c
        products = tuple(
            self.conn.scalars(
                select(p.product_type).where(p.voucher_type == m["code"]).order_by(p.product_type)
            )
        )
        return VoucherType(
            id=m["id"],
            code=m["code"],
            name=m["name"],
            service_provider=m["service_provider"],
            balances=balances,
            description=m["description"],
            wallet_expiry_extension_days=m["wallet_expiry_extension_days"],
            product_type_swap=m["product_type_swap"],
            allowed_product_types=products,
        )

    def delete_type(self, code: str) -> None:
        for table in (v.voucher_type_balances, v.voucher_type_product_types):
            self.conn.execute(delete(table).where(table.c.voucher_type == code))
        self.conn.execute(delete(v.voucher_types).where(v.voucher_types.c.code == code))

    def type_used_by(self, code: str) -> str | None:
        for table, name in (
            (v.voucher_batches, "voucher-batches"),
            (v.credit_transfer_definitions, "credit-transfer-definitions"),
        ):
            hit = self.conn.execute(
                select(table.c.id).where(table.c.voucher_type == code).limit(1)
            ).first()
            if hit is not None:
                return name
        return None

    # -- batches and vouchers ------------------------------------------------------------------

    def insert_batch(self, batch: VoucherBatch) -> int:
        values = {
            "voucher_type": batch.voucher_type,
            "service_provider": batch.service_provider,
            "size": batch.size,
            "state": batch.state.value,
            "expires_at": batch.expires_at,
            "created_at": batch.created_at,
            "description": batch.description,
        }
        result = self.conn.execute(
            insert(v.voucher_batches).values(**values).returning(v.voucher_batches.c.id)
        )
        return int(result.scalar_one())

    def get_batch(self, batch_id: int, for_update: bool = False) -> VoucherBatch | None:
        query = select(v.voucher_batches).where(v.voucher_batches.c.id == batch_id)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return None if row is None else _batch(row)

    def list_batches(
        self, providers: frozenset[str] | None, voucher_type: str | None, limit: int
    ) -> list[VoucherBatch]:
        c = v.voucher_batches.c
        query = select(v.voucher_batches).order_by(c.id.desc()).limit(limit)
        if providers is not None:
            query = query.where(c.service_provider.in_(sorted(providers)))
        if voucher_type is not None:
            query = query.where(c.voucher_type == voucher_type)
        return [_batch(row) for row in self.conn.execute(query)]

    def set_batch_state(self, batch_id: int, state: BatchState) -> None:
        c = v.voucher_batches.c
        self.conn.execute(
            update(v.voucher_batches).where(c.id == batch_id).values(state=state.value)
        )

    def batch_counts(self, batch_id: int) -> dict[VoucherState, int]:
        c = v.vouchers.c
        rows = self.conn.execute(
            select(c.state, func.count()).where(c.batch_id == batch_id).group_by(c.state)
        )
        counts = dict.fromkeys(VoucherState, 0)
        for state, count in rows:
            counts[VoucherState(state)] = int(count)
        return counts

    def insert_vouchers(self, batch_id: int, vouchers: Sequence[NewVoucher]) -> None:
        rows = [
            {
                "batch_id": batch_id,
                "number": n.number,
                "serial_number": n.serial_number,
                "secret_hash": n.secret_hash,
                "state": VoucherState.AVAILABLE.value,
            }
            for n in vouchers
        ]
        for start in range(0, len(rows), INSERT_CHUNK_ROWS):
            self.conn.execute(insert(v.vouchers), rows[start : start + INSERT_CHUNK_ROWS])

    def get_voucher(self, number: str, for_update: bool = False) -> StoredVoucher | None:
        query = select(v.vouchers).where(v.vouchers.c.number == number)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        if row is None:
            return None
        m = row._mapping
        voucher = Voucher(
            id=int(m["id"]),
            batch_id=m["batch_id"],
            number=m["number"],
            serial_number=m["serial_number"],
            state=VoucherState(m["state"]),
            redeemed_by=m["redeemed_by"],
            redeemed_at=m["redeemed_at"],
            redeemed_wallet_id=m["redeemed_wallet_id"],
        )
        return StoredVoucher(voucher, m["secret_hash"])

    def set_voucher_state(self, voucher_id: int, state: VoucherState) -> None:
        c = v.vouchers.c
        self.conn.execute(update(v.vouchers).where(c.id == voucher_id).values(state=state.value))

    def redeem(self, voucher_id: int, subscriber_id: int, wallet_id: int, at: datetime) -> bool:
        c = v.vouchers.c
        result = self.conn.execute(
            update(v.vouchers)
            .where(c.id == voucher_id, c.state == VoucherState.AVAILABLE.value)
            .values(
                state=VoucherState.REDEEMED.value,
                redeemed_by=subscriber_id,
                redeemed_at=at,
                redeemed_wallet_id=wallet_id,
            )
        )
        return result.rowcount == 1

    # -- failed recharges ----------------------------------------------------------------------

    def get_failures(self, subscriber_id: int) -> RechargeFailures:
        c = v.voucher_recharge_failures.c
        row = self.conn.execute(
            select(c.failures, c.last_failed_at).where(c.subscriber_id == subscriber_id)
        ).first()
        return RechargeFailures() if row is None else RechargeFailures(int(row[0]), row[1])

    def put_failures(self, subscriber_id: int, failures: RechargeFailures) -> None:
        c = v.voucher_recharge_failures.c
        self.conn.execute(
            delete(v.voucher_recharge_failures).where(c.subscriber_id == subscriber_id)
        )
        if failures.failures:
            self.conn.execute(
                insert(v.voucher_recharge_failures).values(
                    subscriber_id=subscriber_id,
                    failures=failures.failures,
                    last_failed_at=failures.last_failed_at,
                )
            )

    def subscriber_ids_by_msisdn(self, msisdn: str) -> list[int]:
        c = t.subscribers.c
        return list(self.conn.scalars(select(c.id).where(c.subscriber_id == msisdn).order_by(c.id)))

    # -- credit transfer definitions -----------------------------------------------------------

    def insert_definition(self, definition: TransferDefinition) -> int:
        values = _definition_values(definition)
        values.update(code=definition.code, service_provider=definition.service_provider)
        table = v.credit_transfer_definitions
        result = self.conn.execute(insert(table).values(**values).returning(table.c.id))
        self._put_definition_products(definition)
        return int(result.scalar_one())

    def update_definition(self, definition: TransferDefinition) -> None:
        table = v.credit_transfer_definitions
        self.conn.execute(
            update(table)
            .where(table.c.code == definition.code)
            .values(**_definition_values(definition))
        )
        p = v.credit_transfer_product_types
        self.conn.execute(delete(p).where(p.c.definition == definition.code))
        self._put_definition_products(definition)

    def _put_definition_products(self, definition: TransferDefinition) -> None:
        rows = [
            {"definition": definition.code, "product_type": code}
            for code in definition.allowed_product_types
        ]
        if rows:
            self.conn.execute(insert(v.credit_transfer_product_types), rows)

    def get_definition(self, code: str) -> TransferDefinition | None:
        table = v.credit_transfer_definitions
        row = self.conn.execute(select(table).where(table.c.code == code)).first()
        return None if row is None else self._definition(row)

    def list_definitions(self, providers: frozenset[str] | None) -> list[TransferDefinition]:
        table = v.credit_transfer_definitions
        query = select(table).order_by(table.c.code)
        if providers is not None:
            query = query.where(table.c.service_provider.in_(sorted(providers)))
        return [self._definition(row) for row in self.conn.execute(query)]

    def _definition(self, row: Any) -> TransferDefinition:
        m = row._mapping
        p = v.credit_transfer_product_types.c
        products = tuple(
            self.conn.scalars(
                select(p.product_type).where(p.definition == m["code"]).order_by(p.product_type)
            )
        )
        return TransferDefinition(
            id=m["id"],
            code=m["code"],
            name=m["name"],
            transfer_type=TransferType(m["transfer_type"]),
            service_provider=m["service_provider"],
            charge_balance_type=m["charge_balance_type"],
            charge_amount=int(m["charge_amount"]),
            voucher_type=m["voucher_type"],
            pin_required=bool(m["pin_required"]),
            allowed_product_types=products,
            description=m["description"],
        )

    def delete_definition(self, code: str) -> None:
        p = v.credit_transfer_product_types
        self.conn.execute(delete(p).where(p.c.definition == code))
        table = v.credit_transfer_definitions
        self.conn.execute(delete(table).where(table.c.code == code))


def _type_values(voucher_type: VoucherType) -> dict[str, Any]:
    return {
        "name": voucher_type.name,
        "description": voucher_type.description,
        "wallet_expiry_extension_days": voucher_type.wallet_expiry_extension_days,
        "product_type_swap": voucher_type.product_type_swap,
    }


def _definition_values(definition: TransferDefinition) -> dict[str, Any]:
    return {
        "name": definition.name,
        "description": definition.description,
        "transfer_type": definition.transfer_type.value,
        "charge_balance_type": definition.charge_balance_type,
        "charge_amount": definition.charge_amount,
        "voucher_type": definition.voucher_type,
        "pin_required": definition.pin_required,
    }


def _batch(row: Any) -> VoucherBatch:
    m = row._mapping
    return VoucherBatch(
        id=m["id"],
        voucher_type=m["voucher_type"],
        service_provider=m["service_provider"],
        size=m["size"],
        state=BatchState(m["state"]),
        expires_at=m["expires_at"],
        created_at=m["created_at"],
        description=m["description"],
    )
