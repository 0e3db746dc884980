"""SQL implementation of the offer repository (catalogue, subscriptions, grants, rollovers)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ocs.core.offers import (
    BalanceGrant,
    BalanceService,
    GrantRollover,
    Offer,
    Product,
    Subscription,
    SubscriptionLevel,
    SubscriptionState,
    check_service,
    format_pct,
    parse_pct,
    service_payload,
)
from ocs.storage import offer_tables as o


class SqlOfferRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- services -----------------------------------------------------------------------------

    def insert_service(self, service: BalanceService) -> None:
        self.conn.execute(insert(o.catalog_services).values(**_service_row(service)))

    def update_service(self, service: BalanceService) -> None:
        c = o.catalog_services.c
        row = _service_row(service)
        self.conn.execute(update(o.catalog_services).where(c.code == service.code).values(**row))

    def get_service(self, code: str) -> BalanceService | None:
        c = o.catalog_services.c
        text = self.conn.scalar(select(c.definition).where(c.code == code))
        return None if text is None else check_service(json.loads(text))

    def list_services(self, providers: frozenset[str] | None) -> list[BalanceService]:
        c = o.catalog_services.c
        query = _visible(select(c.definition), c.service_provider, providers).order_by(c.code)
        return [check_service(json.loads(text)) for text in self.conn.scalars(query)]

    def delete_service(self, code: str) -> None:
        self.conn.execute(delete(o.catalog_services).where(o.catalog_services.c.code == code))

    def products_with_service(self, code: str) -> list[str]:
        c = o.catalog_product_services.c
        query = select(c.product_code).where(c.service_code == code).order_by(c.product_code)
        return list(self.conn.scalars(query))

    # -- products -----------------------------------------------------------------------------

    def insert_product(self, product: Product) -> None:
        values = _head(product)
        self.conn.execute(insert(o.catalog_products).values(**values))
        self._members(o.catalog_product_services, "product_code", product.code,
                      "service_code", product.services)  # fmt: skip

    def update_product(self, product: Product) -> None:
        c = o.catalog_products.c
        values = _head(product)
        self.conn.execute(update(o.catalog_products).where(c.code == product.code).values(**values))
        self._members(o.catalog_product_services, "product_code", product.code,
                      "service_code", product.services)  # fmt: skip

    def get_product(self, code: str) -> Product | None:
        row = self.conn.execute(
            select(o.catalog_products).where(o.catalog_products.c.code == code)
        ).first()
        return None if row is None else self._product(row)

    def list_products(self, providers: frozenset[str] | None) -> list[Product]:
        c = o.catalog_products.c
        query = _visible(select(o.catalog_products), c.service_provider, providers)
        return [self._product(row) for row in self.conn.execute(query.order_by(c.code))]

    def delete_product(self, code: str) -> None:
        self._members(o.catalog_product_services, "product_code", code, "service_code", ())
        self.conn.execute(delete(o.catalog_products).where(o.catalog_products.c.code == code))

    def offers_with_product(self, code: str) -> list[str]:
        c = o.catalog_offer_products.c
        query = select(c.offer_code).where(c.product_code == code).order_by(c.offer_code)
        return list(self.conn.scalars(query))

    def _product(self, row: Any) -> Product:
        m = row._mapping
        members = self._member_codes(o.catalog_product_services, "product_code", m["code"],
                                     "service_code")  # fmt: skip
        return Product(m["code"], m["name"], m["description"], m["service_provider"], members)

    # -- offers -------------------------------------------------------------------------------

    def insert_offer(self, offer: Offer) -> None:
        values = {**_head(offer), "priority": offer.priority}
        self.conn.execute(insert(o.catalog_offers).values(**values))
        self._members(o.catalog_offer_products, "offer_code", offer.code,
                      "product_code", offer.products)  # fmt: skip

    def update_offer(self, offer: Offer) -> None:
        c = o.catalog_offers.c
        values = {**_head(offer), "priority": offer.priority}
        self.conn.execute(update(o.catalog_offers).where(c.code == offer.code).values(**values))
        self._members(o.catalog_offer_products, "offer_code", offer.code,
                      "product_code", offer.products)  # fmt: skip

    def get_offer(self, code: str) -> Offer | None:
        row = self.conn.execute(
            select(o.catalog_offers).where(o.catalog_offers.c.code == code)
        ).first()
        return None if row is None else self._offer(row)

    def list_offers(self, providers: frozenset[str] | None) -> list[Offer]:
        c = o.catalog_offers.c
        query = _visible(select(o.catalog_offers), c.service_provider, providers)
        return [self._offer(row) for row in self.conn.execute(query.order_by(c.code))]

    def delete_offer(self, code: str) -> None:
        self._members(o.catalog_offer_products, "offer_code", code, "product_code", ())
        self.conn.execute(delete(o.catalog_offers).where(o.catalog_offers.c.code == code))

    def _offer(self, row: Any) -> Offer:
        m = row._mapping
        members = self._member_codes(o.catalog_offer_products, "offer_code", m["code"],
                                     "product_code")  # fmt: skip
        return Offer(
            m["code"], m["name"], m["description"], m["service_provider"], m["priority"], members
        )

    def _members(
        self, table: Table, owner_col: str, owner: str, member_col: str, members: Sequence[str]
    ) -> None:
        self.conn.execute(delete(table).where(table.c[owner_col] == owner))
        for position, member in enumerate(members):
            values = {owner_col: owner, member_col: member, "position": position}
            self.conn.execute(insert(table).values(**values))

    def _member_codes(
        self, table: Table, owner_col: str, owner: str, member_col: str
    ) -> tuple[str, ...]:
        query = (
            select(table.c[member_col])
            .where(table.c[owner_col] == owner)
            .order_by(table.c.position)
        )
        return tuple(self.conn.scalars(query))

    # -- subscriptions ------------------------------------------------------------------------

    def insert_subscription(self, subscription: Subscription) -> int:
        values = _subscription_row(subscription)
        result = self.conn.execute(insert(o.subscriptions).values(**values))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def update_subscription(self, subscription: Subscription) -> None:
        c = o.subscriptions.c
        values = _subscription_row(subscription)
        self.conn.execute(update(o.subscriptions).where(c.id == subscription.id).values(**values))

    def get_subscription(self, subscription_id: int) -> Subscription | None:
        c = o.subscriptions.c
        row = self.conn.execute(select(o.subscriptions).where(c.id == subscription_id)).first()
        return None if row is None else _subscription(row)

    def subscriptions_of(
        self, entities: Sequence[tuple[SubscriptionLevel, int]]
    ) -> list[Subscription]:
        if not entities:
            return []
        c = o.subscriptions.c
        match = or_(*(and_(c.level == lv.value, c.entity_id == eid) for lv, eid in entities))
        query = select(o.subscriptions).where(match).order_by(c.id)
        return [_subscription(row) for row in self.conn.execute(query)]

    def count_subscriptions_of_offer(self, offer: str) -> int:
        c = o.subscriptions.c
        return int(self.conn.scalar(select(func.count()).where(c.offer == offer)) or 0)

    def active_subscription_ids(self, now: datetime, limit: int) -> list[int]:
        c, oc = o.subscriptions.c, o.catalog_offers.c
        query = (
            select(c.id)
            .join(o.catalog_offers, oc.code == c.offer)
            .where(c.state == SubscriptionState.ACTIVE.value, c.start_at <= now)
            .order_by(oc.priority, c.id)
            .limit(limit)
        )
        return list(self.conn.scalars(query))

    # -- grants -------------------------------------------------------------------------------

    def claim_grant(self, grant: BalanceGrant) -> int | None:
        values = {
            "subscription_id": grant.subscription_id,
            "service_code": grant.service_code,
            "period_index": grant.period_index,
            "wallet_id": grant.wallet_id,
            "balance_type": grant.balance_type,
            "bucket_id": grant.bucket_id,
            "granted": grant.granted,
            "period_start": grant.period_start,
            "period_end": grant.period_end,
            "reject_at_full": grant.reject_at_full,
            "thresholds_pct": format_pct(grant.thresholds_pct),
            "first_usage_notify": grant.first_usage_notify,
            "notified_thresholds_pct": format_pct(grant.notified_thresholds_pct),
            "first_used_at": grant.first_used_at,
            "exhausted_at": grant.exhausted_at,
            "granted_at": grant.granted_at,
        }
        keys = ["subscription_id", "service_code", "period_index"]
        return self._insert_once(o.balance_grants, values, keys)

    def set_grant_bucket(self, grant_id: int, bucket_id: int | None) -> None:
        c = o.balance_grants.c
        self.conn.execute(
            update(o.balance_grants).where(c.id == grant_id).values(bucket_id=bucket_id)
        )

    def grants_of(self, subscription_id: int, service_code: str) -> list[BalanceGrant]:
        c = o.balance_grants.c
        query = (
            select(o.balance_grants)
            .where(c.subscription_id == subscription_id, c.service_code == service_code)
            .order_by(c.period_index)
        )
        return [_grant(row) for row in self.conn.execute(query)]

    def grants_of_wallet(self, wallet_id: int, limit: int) -> list[BalanceGrant]:
        c = o.balance_grants.c
        query = (
            select(o.balance_grants)
            .where(c.wallet_id == wallet_id)
            .order_by(c.period_start.desc(), c.id.desc())
            .limit(limit)
        )
        return [_grant(row) for row in self.conn.execute(query)]

    def count_grants_of_service(self, service_code: str) -> int:
        c = o.balance_grants.c
        return int(
            self.conn.scalar(select(func.count()).where(c.service_code == service_code)) or 0
        )

    # -- rollovers ----------------------------------------------------------------------------

    def claim_rollover(self, rollover: GrantRollover) -> int | None:
        values = {
            "subscription_id": rollover.subscription_id,
            "service_code": rollover.service_code,
            "period_index": rollover.period_index,
            "wallet_id": rollover.wallet_id,
            "balance_type": rollover.balance_type,
            "bucket_id": rollover.bucket_id,
            "value": rollover.value,
            "bucket_expires_at": rollover.bucket_expires_at,
            "rolled_at": rollover.rolled_at,
            "drop_at": rollover.drop_at,
            "dropped_at": rollover.dropped_at,
        }
        keys = ["subscription_id", "service_code", "period_index"]
        return self._insert_once(o.grant_rollovers, values, keys)

    def set_rollover_bucket(
        self, rollover_id: int, bucket_id: int, value: int, expires_at: datetime | None
    ) -> None:
        c = o.grant_rollovers.c
        self.conn.execute(
            update(o.grant_rollovers)
            .where(c.id == rollover_id)
            .values(bucket_id=bucket_id, value=value, bucket_expires_at=expires_at)
        )

    def rollovers_of(self, subscription_id: int, service_code: str) -> list[GrantRollover]:
        c = o.grant_rollovers.c
        query = (
            select(o.grant_rollovers)
            .where(c.subscription_id == subscription_id, c.service_code == service_code)
            .order_by(c.period_index)
        )
        return [_rollover(row) for row in self.conn.execute(query)]

    def rollovers_to_drop(self, now: datetime, limit: int) -> list[GrantRollover]:
        c = o.grant_rollovers.c
        query = (
            select(o.grant_rollovers)
            .where(c.dropped_at.is_(None), c.drop_at <= now)
            .order_by(c.drop_at, c.id)
            .limit(limit)
        )
        return [_rollover(row) for row in self.conn.execute(query)]

    def mark_dropped(self, rollover_id: int, at: datetime) -> bool:
        c = o.grant_rollovers.c
        result = self.conn.execute(
            update(o.grant_rollovers)
            .where(c.id == rollover_id, c.dropped_at.is_(None))
            .values(dropped_at=at)
        )
        return result.rowcount == 1

    def _insert_once(self, table: Table, values: dict[str, Any], keys: list[str]) -> int | None:
        """INSERT ... ON CONFLICT DO NOTHING on the unique key: a concurrent writer of the same
        key waits for the first to commit and then inserts nothing."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=keys)
            .returning(table.c.id)
        )
        inserted = self.conn.scalar(statement)
        return None if inserted is None else int(inserted)


def _visible(query: Any, column: Any, providers: frozenset[str] | None) -> Any:
    return query if providers is None else query.where(column.in_(sorted(providers)))


def _head(entity: Product | Offer) -> dict[str, Any]:
    return {
        "code": entity.code,
        "service_provider": entity.service_provider,
        "name": entity.name,
        "description": entity.description,
    }


def _service_row(service: BalanceService) -> dict[str, Any]:
    return {
        "code": service.code,
        "service_provider": service.service_provider,
        "kind": service.kind.value,
        "balance_type": service.balance_type,
        "definition": json.dumps(service_payload(service), sort_keys=True),
    }


def _subscription_row(s: Subscription) -> dict[str, Any]:
    return {
        "offer": s.offer,
        "level": s.level.value,
        "entity_id": s.entity_id,
        "service_provider": s.service_provider,
        "wallet_id": s.wallet_id,
        "start_at": s.start_at,
        "end_at": s.end_at,
        "state": s.state.value,
        "created_at": s.created_at,
        "activated_at": s.activated_at,
        "ended_at": s.ended_at,
    }


def _subscription(row: Any) -> Subscription:
    m = dict(row._mapping)
    m["level"] = SubscriptionLevel(m["level"])
    m["state"] = SubscriptionState(m["state"])
    return Subscription(**m)


def _grant(row: Any) -> BalanceGrant:
    m = dict(row._mapping)
    m["thresholds_pct"] = parse_pct(m["thresholds_pct"])
    m["notified_thresholds_pct"] = parse_pct(m["notified_thresholds_pct"])
    return BalanceGrant(**m)


def _rollover(row: Any) -> GrantRollover:
    return GrantRollover(**dict(row._mapping))
