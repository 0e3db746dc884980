"""SQL implementations of the wallet, EDR and wallet-settings ports."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    update,
)

from ocs.core.configuration import ConfigKind
from ocs.core.edr import BalanceLine, Edr, EdrQuery, EdrSort, EdrType, MaskingRule, UnitClass
from ocs.core.money import ExchangeRate
from ocs.core.wallets import (
    ActivationCredit,
    AdjustmentLimitRule,
    AdjustmentLimits,
    Bucket,
    HistoryEvent,
    LimitType,
    PermissionOverrides,
    Wallet,
    WalletAction,
    WalletBalance,
    WalletHistoryEntry,
    WalletLink,
    WalletState,
    WalletType,
)
from ocs.storage import tables as t
from ocs.storage.json_text import detail_text

# Sorts EDRs without balance lines after every balance type id.
_NO_BALANCE_TYPE_ID = 2**31 - 1


def _wallet(row: Any) -> Wallet:
    m = row._mapping
    return Wallet(
        id=m["id"],
        reference=m["reference"] or "",
        service_provider=m["service_provider"],
        product_type=m["product_type"],
        currency=m["currency"],
        display_currency=m["display_currency"],
        customer_id=m["customer_id"],
        limit_type=LimitType(m["limit_type"]),
        minimum_credit=m["minimum_credit"],
        max_concurrent_accesses=m["max_concurrent_accesses"],
        state=WalletState(m["state"]),
        expires_at=m["expires_at"],
        created_at=m["created_at"],
        activated_at=m["activated_at"],
        last_used_at=m["last_used_at"],
        state_changed_at=m["state_changed_at"],
    )


def _wallet_values(wallet: Wallet) -> dict[str, Any]:
    return {
        "service_provider": wallet.service_provider,
        "product_type": wallet.product_type,
        "currency": wallet.currency,
        "display_currency": wallet.display_currency,
        "customer_id": wallet.customer_id,
        "limit_type": wallet.limit_type.value,
        "minimum_credit": wallet.minimum_credit,
        "max_concurrent_accesses": wallet.max_concurrent_accesses,
        "state": wallet.state.value,
        "expires_at": wallet.expires_at,
        "created_at": wallet.created_at,
        "activated_at": wallet.activated_at,
        "last_used_at": wallet.last_used_at,
        "state_changed_at": wallet.state_changed_at,
    }


def _bucket(row: Any) -> Bucket:
    m = row._mapping
    return Bucket(m["id"], m["balance_type"], m["value"], m["start_at"], m["expires_at"])


def _balance(row: Any) -> WalletBalance:
    m = row._mapping
    return WalletBalance(
        wallet_id=m["wallet_id"],
        balance_type=m["balance_type"],
        limit_type=LimitType(m["limit_type"]),
        minimum_credit=m["minimum_credit"],
        display_currency=m["display_currency"],
    )


def _link(row: Any) -> WalletLink:
    m = row._mapping
    return WalletLink(m["subscriber_id"], WalletType(m["wallet_type"]), m["wallet_id"])


def _state(value: str | None) -> WalletState | None:
    return None if value is None else WalletState(value)


class SqlWalletRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert_wallet(self, wallet: Wallet) -> int:
        values = {**_wallet_values(wallet), "reference": wallet.reference or None}
        result = self.conn.execute(insert(t.wallets).values(**values).returning(t.wallets.c.id))
        return int(result.scalar_one())

    def set_reference(self, wallet_id: int, reference: str) -> None:
        where = t.wallets.c.id == wallet_id
        self.conn.execute(update(t.wallets).where(where).values(reference=reference))

    def update_wallet(self, wallet: Wallet) -> None:
        where = t.wallets.c.id == wallet.id
        self.conn.execute(update(t.wallets).where(where).values(**_wallet_values(wallet)))

    def get_wallet(self, wallet_id: int, for_update: bool = False) -> Wallet | None:
        query = select(t.wallets).where(t.wallets.c.id == wallet_id)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return None if row is None else _wallet(row)

    def wallet_by_reference(self, reference: str) -> Wallet | None:
        row = self.conn.execute(select(t.wallets).where(t.wallets.c.reference == reference)).first()
        return None if row is None else _wallet(row)

    def delete_wallet(self, wallet_id: int) -> None:
        for table in (t.wallet_history, t.buckets, t.wallet_balances, t.wallet_links):
            self.conn.execute(delete(table).where(table.c.wallet_id == wallet_id))
        self.conn.execute(delete(t.wallets).where(t.wallets.c.id == wallet_id))

    def insert_link(self, link: WalletLink, at: datetime) -> None:
        self.conn.execute(
            insert(t.wallet_links).values(
                subscriber_id=link.subscriber_id,
                wallet_type=link.wallet_type.value,
                wallet_id=link.wallet_id,
                linked_at=at,
            )
        )

    def delete_link(self, subscriber_id: int, wallet_type: WalletType) -> None:
        c = t.wallet_links.c
        where = and_(c.subscriber_id == subscriber_id, c.wallet_type == wallet_type.value)
        self.conn.execute(delete(t.wallet_links).where(where))

    def links_of_subscriber(self, subscriber_id: int) -> list[WalletLink]:
        c = t.wallet_links.c
        query = select(t.wallet_links).where(c.subscriber_id == subscriber_id)
        return [_link(r) for r in self.conn.execute(query.order_by(c.wallet_type))]

    def links_of_wallet(self, wallet_id: int) -> list[WalletLink]:
        c = t.wallet_links.c
        query = select(t.wallet_links).where(c.wallet_id == wallet_id)
        return [_link(r) for r in self.conn.execute(query.order_by(c.linked_at, c.subscriber_id))]

    def insert_balance(self, balance: WalletBalance) -> None:
        self.conn.execute(insert(t.wallet_balances).values(**_balance_values(balance)))

    def update_balance(self, balance: WalletBalance) -> None:
        c = t.wallet_balances.c
        where = and_(c.wallet_id == balance.wallet_id, c.balance_type == balance.balance_type)
        self.conn.execute(update(t.wallet_balances).where(where).values(**_balance_values(balance)))

    def list_balances(self, wallet_id: int) -> list[WalletBalance]:
        c = t.wallet_balances.c
        query = select(t.wallet_balances).where(c.wallet_id == wallet_id).order_by(c.balance_type)
        return [_balance(r) for r in self.conn.execute(query)]

    def list_buckets(self, wallet_id: int) -> list[Bucket]:
        c = t.buckets.c
        query = select(t.buckets).where(c.wallet_id == wallet_id).order_by(c.id)
        return [_bucket(r) for r in self.conn.execute(query)]

    def bucket_wallet_id(self, bucket_id: int) -> int | None:
        return self.conn.scalar(select(t.buckets.c.wallet_id).where(t.buckets.c.id == bucket_id))

    def insert_bucket(self, wallet_id: int, bucket: Bucket) -> int:
        values = {
            "wallet_id": wallet_id,
            "balance_type": bucket.balance_type,
            "value": bucket.value,
            "start_at": bucket.start_at,
            "expires_at": bucket.expires_at,
        }
        result = self.conn.execute(insert(t.buckets).values(**values).returning(t.buckets.c.id))
        return int(result.scalar_one())

    def update_bucket(self, bucket: Bucket) -> None:
        values = {
            "value": bucket.value,
            "start_at": bucket.start_at,
            "expires_at": bucket.expires_at,
        }
        self.conn.execute(update(t.buckets).where(t.buckets.c.id == bucket.id).values(**values))

    def set_bucket_value(self, bucket_id: int, value: int) -> None:
        self.conn.execute(update(t.buckets).where(t.buckets.c.id == bucket_id).values(value=value))

    def delete_bucket(self, bucket_id: int) -> None:
        self.conn.execute(delete(t.buckets).where(t.buckets.c.id == bucket_id))

    def wallets_with_expired_buckets(self, now: datetime, limit: int) -> list[int]:
        c = t.buckets.c
        query = (
            select(c.wallet_id)
            .where(c.expires_at <= now)
            .group_by(c.wallet_id)
            .order_by(func.min(c.expires_at), c.wallet_id)
            .limit(limit)
        )
        return list(self.conn.scalars(query))

    def append_history(self, entry: WalletHistoryEntry) -> None:
        self.conn.execute(
            insert(t.wallet_history).values(
                wallet_id=entry.wallet_id,
                at=entry.at,
                event=entry.event.value,
                operator=entry.operator,
                state_from=None if entry.state_from is None else entry.state_from.value,
                state_to=None if entry.state_to is None else entry.state_to.value,
                detail=entry.detail,
            )
        )

    def list_history(self, wallet_id: int) -> list[WalletHistoryEntry]:
        c = t.wallet_history.c
        query = select(t.wallet_history).where(c.wallet_id == wallet_id).order_by(c.id)
        return [
            WalletHistoryEntry(
                wallet_id=m["wallet_id"],
                at=m["at"],
                event=HistoryEvent(m["event"]),
                operator=m["operator"],
                state_from=_state(m["state_from"]),
                state_to=_state(m["state_to"]),
                detail=m["detail"],
            )
            for m in (r._mapping for r in self.conn.execute(query))
        ]


def _balance_values(balance: WalletBalance) -> dict[str, Any]:
    return {
        "wallet_id": balance.wallet_id,
        "balance_type": balance.balance_type,
        "limit_type": balance.limit_type.value,
        "minimum_credit": balance.minimum_credit,
        "display_currency": balance.display_currency,
    }


class SqlEdrRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, edr: Edr) -> int:
        values = {
            "type": edr.type.value,
            "at": edr.at,
            "wallet_id": edr.wallet_id,
            "subscriber_id": edr.subscriber_id,
            "wallet_type": None if edr.wallet_type is None else edr.wallet_type.value,
            "operator": edr.operator,
            "change_reason": edr.change_reason,
            "called_number": edr.called_number,
            "duration_s": edr.duration_s,
            "session_id": edr.session_id,
            "discounts": edr.discounts,
            "partial": edr.partial,
            "reverses_edr_id": edr.reverses_edr_id,
            "detail": detail_text(edr.detail),
        }
        result = self.conn.execute(insert(t.edrs).values(**values).returning(t.edrs.c.id))
        edr_id = int(result.scalar_one())
        if edr.balances:
            self.conn.execute(
                insert(t.edr_balances),
                [
                    {
                        "edr_id": edr_id,
                        "balance_type": line.balance_type,
                        "unit_class": line.unit_class.value,
                        "currency": line.currency,
                        "old_value": line.old_value,
                        "delta_value": line.delta_value,
                        "new_value": line.new_value,
                    }
                    for line in edr.balances
                ],
            )
        if edr.tags:
            self.conn.execute(
                insert(t.edr_tags),
                [{"edr_id": edr_id, "key": key, "value": value} for key, value in edr.tags],
            )
        return edr_id

    def get(self, edr_id: int) -> Edr | None:
        found = self._load([edr_id])
        return found[0] if found else None

    def reversal_of(self, edr_id: int) -> int | None:
        c = t.edrs.c
        return self.conn.scalar(select(c.id).where(c.reverses_edr_id == edr_id))

    def search(self, query: EdrQuery, wallet_ids: list[int]) -> tuple[list[Edr], int]:
        e = t.edrs.c
        base = select(e.id).where(self._filters(query, wallet_ids))
        limit = query.result_limit
        total = int(
            self.conn.scalar(select(func.count()).select_from(base.limit(limit).subquery())) or 0
        )
        page_size = min(query.page_size, limit - query.offset)
        if page_size <= 0:
            return [], total
        ordered = self._ordered(base, query).offset(query.offset).limit(page_size)
        ids = list(self.conn.scalars(ordered))
        return self._load(ids), total

    def delta_sums(self, wallet_id: int) -> dict[str, int]:
        b = t.edr_balances.c
        query = (
            select(b.balance_type, func.sum(b.delta_value))
            .join(t.edrs, t.edrs.c.id == b.edr_id)
            .where(t.edrs.c.wallet_id == wallet_id)
            .group_by(b.balance_type)
        )
        return {row[0]: int(row[1]) for row in self.conn.execute(query)}

    def _filters(self, query: EdrQuery, wallet_ids: list[int]) -> ColumnElement[bool]:
        e = t.edrs.c
        scope: ColumnElement[bool] = e.wallet_id.in_(wallet_ids) if wallet_ids else false()
        if query.subscriber_id is not None:
            types = sorted(w.value for w in query.wallet_types)
            seen = t.subscriber_edr_wallets.c
            wallets_seen = select(seen.wallet_id).where(seen.subscriber_id == query.subscriber_id)
            scope = or_(
                scope,
                and_(
                    e.wallet_id.in_(wallets_seen),
                    e.subscriber_id == query.subscriber_id,
                    e.wallet_type.in_(types),
                ),
            )
        conditions = [scope]
        if query.start is not None:
            conditions.append(e.at >= query.start)
        if query.end is not None:
            conditions.append(e.at < query.end)
        if query.types:
            conditions.append(e.type.in_(sorted(x.value for x in query.types)))
        if query.called_number is not None:
            conditions.append(e.called_number == query.called_number)
        if query.tag is not None:
            tag = t.edr_tags.c
            match = and_(tag.edr_id == e.id, tag.key == query.tag)
            if query.tag_value is not None:
                match = and_(match, tag.value == query.tag_value)
            conditions.append(exists(select(tag.edr_id).where(match)))
        if not query.include_partial:
            conditions.append(e.partial == false())
        return and_(*conditions)

    def _ordered(self, base: Select[Any], query: EdrQuery) -> Select[Any]:
        e = t.edrs.c
        b = t.edr_balances.c
        key: Any
        if query.sort is EdrSort.DATE:
            newest = (e.at.desc(), e.id.desc()) if query.descending else (e.at.asc(), e.id.asc())
            return base.order_by(*newest)
        if query.sort is EdrSort.TYPE:
            key = e.type
        elif query.sort is EdrSort.COST:
            costs = (
                select(b.edr_id, func.sum(-b.delta_value).label("cost"))
                .where(b.unit_class == query.unit_class.value)
                .group_by(b.edr_id)
                .subquery()
            )
            base = base.outerjoin(costs, costs.c.edr_id == e.id)
            key = func.coalesce(costs.c.cost, 0)
        else:
            types = t.config_tables[ConfigKind.BALANCE_TYPE]
            first = (
                select(b.edr_id, func.min(types.c.id).label("type_id"))
                .join(types, types.c.code == b.balance_type)
                .group_by(b.edr_id)
                .subquery()
            )
            base = base.outerjoin(first, first.c.edr_id == e.id)
            key = func.coalesce(first.c.type_id, _NO_BALANCE_TYPE_ID)
        primary = key.desc() if query.descending else key.asc()
        # Ties (same type, cost or balance type) fall back to newest first.
        return base.order_by(primary, e.at.desc(), e.id.desc())

    def _load(self, ids: list[int]) -> list[Edr]:
        if not ids:
            return []
        found = self.conn.execute(select(t.edrs).where(t.edrs.c.id.in_(ids)))
        rows = {r._mapping["id"]: r._mapping for r in found}
        lines: dict[int, list[BalanceLine]] = defaultdict(list)
        b = t.edr_balances.c
        for r in self.conn.execute(
            select(t.edr_balances).where(b.edr_id.in_(ids)).order_by(b.balance_type)
        ):
            m = r._mapping
            lines[m["edr_id"]].append(
                BalanceLine(
                    balance_type=m["balance_type"],
                    unit_class=UnitClass(m["unit_class"]),
                    currency=m["currency"],
                    old_value=m["old_value"],
                    delta_value=m["delta_value"],
                    new_value=m["new_value"],
                )
            )
        tags: dict[int, list[tuple[str, str]]] = defaultdict(list)
        g = t.edr_tags.c
        for r in self.conn.execute(select(t.edr_tags).where(g.edr_id.in_(ids)).order_by(g.key)):
            tags[r._mapping["edr_id"]].append((r._mapping["key"], r._mapping["value"]))
        return [_edr(rows[i], lines[i], tags[i]) for i in ids if i in rows]


def _edr(m: Any, lines: list[BalanceLine], tags: list[tuple[str, str]]) -> Edr:
    return Edr(
        id=m["id"],
        type=EdrType(m["type"]),
        at=m["at"],
        wallet_id=m["wallet_id"],
        subscriber_id=m["subscriber_id"],
        wallet_type=None if m["wallet_type"] is None else WalletType(m["wallet_type"]),
        operator=m["operator"],
        change_reason=m["change_reason"],
        balances=tuple(lines),
        tags=tuple(tags),
        called_number=m["called_number"],
        duration_s=m["duration_s"],
        session_id=m["session_id"],
        discounts=m["discounts"],
        partial=m["partial"],
        reverses_edr_id=m["reverses_edr_id"],
        detail=json.loads(m["detail"]),
    )


class SqlWalletSettingsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _limits_where(
        self, product_type: str, balance_type: str, operator: str | None
    ) -> tuple[Any, ColumnElement[bool]]:
        table = t.adjustment_limits if operator is None else t.operator_adjustment_limits
        where = and_(table.c.product_type == product_type, table.c.balance_type == balance_type)
        if operator is not None:
            where = and_(where, table.c.operator == operator)
        return table, where

    def adjustment_limits(
        self, product_type: str, balance_type: str, operator: str | None
    ) -> AdjustmentLimitRule | None:
        table, where = self._limits_where(product_type, balance_type, operator)
        row = self.conn.execute(select(table.c.minimum, table.c.maximum).where(where)).first()
        if row is None:
            return None
        return AdjustmentLimitRule(
            product_type, balance_type, operator, AdjustmentLimits(row[0], row[1])
        )

    def put_adjustment_limits(self, rule: AdjustmentLimitRule) -> None:
        self.delete_adjustment_limits(rule.product_type, rule.balance_type, rule.operator)
        values: dict[str, Any] = {
            "product_type": rule.product_type,
            "balance_type": rule.balance_type,
            "minimum": rule.limits.minimum,
            "maximum": rule.limits.maximum,
        }
        if rule.operator is None:
            self.conn.execute(insert(t.adjustment_limits).values(**values))
        else:
            self.conn.execute(
                insert(t.operator_adjustment_limits).values(**values, operator=rule.operator)
            )

    def delete_adjustment_limits(
        self, product_type: str, balance_type: str, operator: str | None
    ) -> bool:
        table, where = self._limits_where(product_type, balance_type, operator)
        return self.conn.execute(delete(table).where(where)).rowcount > 0

    def list_adjustment_limits(self, product_type: str) -> list[AdjustmentLimitRule]:
        rules = []
        for table in (t.adjustment_limits, t.operator_adjustment_limits):
            c = table.c
            query = select(table).where(c.product_type == product_type)
            for r in self.conn.execute(query):
                m = r._mapping
                rules.append(
                    AdjustmentLimitRule(
                        m["product_type"],
                        m["balance_type"],
                        m.get("operator"),
                        AdjustmentLimits(m["minimum"], m["maximum"]),
                    )
                )
        return sorted(rules, key=lambda r: (r.balance_type, r.operator or ""))

    def activation_credits(self, product_type: str) -> list[ActivationCredit]:
        c = t.activation_credits.c
        query = select(t.activation_credits).where(c.product_type == product_type)
        return [
            ActivationCredit(m["product_type"], m["balance_type"], m["amount"], m["validity_s"])
            for m in (r._mapping for r in self.conn.execute(query.order_by(c.balance_type)))
        ]

    def put_activation_credit(self, credit: ActivationCredit) -> None:
        self.delete_activation_credit(credit.product_type, credit.balance_type)
        self.conn.execute(
            insert(t.activation_credits).values(
                product_type=credit.product_type,
                balance_type=credit.balance_type,
                amount=credit.amount,
                validity_s=credit.validity_s,
            )
        )

    def delete_activation_credit(self, product_type: str, balance_type: str) -> bool:
        c = t.activation_credits.c
        where = and_(c.product_type == product_type, c.balance_type == balance_type)
        return self.conn.execute(delete(t.activation_credits).where(where)).rowcount > 0

    def permission_overrides(self, product_type: str) -> PermissionOverrides:
        c = t.state_permissions.c
        query = select(t.state_permissions).where(c.product_type == product_type)
        return {
            (WalletState(m["state"]), WalletAction(m["action"])): m["allowed"]
            for m in (r._mapping for r in self.conn.execute(query))
        }

    def put_permission(
        self, product_type: str, state: WalletState, action: WalletAction, allowed: bool
    ) -> None:
        self.delete_permission(product_type, state, action)
        self.conn.execute(
            insert(t.state_permissions).values(
                product_type=product_type, state=state.value, action=action.value, allowed=allowed
            )
        )

    def delete_permission(
        self, product_type: str, state: WalletState, action: WalletAction
    ) -> bool:
        c = t.state_permissions.c
        where = and_(
            c.product_type == product_type, c.state == state.value, c.action == action.value
        )
        return self.conn.execute(delete(t.state_permissions).where(where)).rowcount > 0

    def exchange_rate(self, from_currency: str, to_currency: str) -> ExchangeRate | None:
        c = t.exchange_rates.c
        where = and_(c.from_currency == from_currency, c.to_currency == to_currency)
        rate = self.conn.scalar(select(c.rate_nano).where(where))
        return None if rate is None else ExchangeRate(from_currency, to_currency, rate)

    def put_exchange_rate(self, rate: ExchangeRate) -> None:
        self.delete_exchange_rate(rate.from_currency, rate.to_currency)
        self.conn.execute(
            insert(t.exchange_rates).values(
                from_currency=rate.from_currency,
                to_currency=rate.to_currency,
                rate_nano=rate.rate_nano,
            )
        )

    def delete_exchange_rate(self, from_currency: str, to_currency: str) -> bool:
        c = t.exchange_rates.c
        where = and_(c.from_currency == from_currency, c.to_currency == to_currency)
        return self.conn.execute(delete(t.exchange_rates).where(where)).rowcount > 0

    def list_exchange_rates(self) -> list[ExchangeRate]:
        c = t.exchange_rates.c
        query = select(t.exchange_rates).order_by(c.from_currency, c.to_currency)
        return [
            ExchangeRate(m["from_currency"], m["to_currency"], m["rate_nano"])
            for m in (r._mapping for r in self.conn.execute(query))
        ]

    def masking_rules(self) -> dict[str, MaskingRule]:
        query = select(t.edr_masking_rules).order_by(t.edr_masking_rules.c.field)
        return {
            m["field"]: MaskingRule(m["field"], m["keep_prefix"], m["keep_suffix"])
            for m in (r._mapping for r in self.conn.execute(query))
        }

    def put_masking_rule(self, rule: MaskingRule) -> None:
        self.delete_masking_rule(rule.field)
        self.conn.execute(
            insert(t.edr_masking_rules).values(
                field=rule.field, keep_prefix=rule.keep_prefix, keep_suffix=rule.keep_suffix
            )
        )

    def delete_masking_rule(self, field: str) -> bool:
        where = t.edr_masking_rules.c.field == field
        return self.conn.execute(delete(t.edr_masking_rules).where(where)).rowcount > 0
