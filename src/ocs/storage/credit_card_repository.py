"""SQL implementation of the credit card repository port."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, or_, select, update

from ocs.core.credit_cards import (
    CardState,
    CreditCard,
    MaskingRule,
    Registration,
    RegistrationState,
)
from ocs.service.credit_card_ports import CardQuery
from ocs.storage import tables as t
from ocs.storage.credit_card_tables import (
    credit_card_masking_rules as rules,
)
from ocs.storage.credit_card_tables import (
    credit_card_registrations as registrations,
)
from ocs.storage.credit_card_tables import (
    credit_cards as cards,
)


class SqlCreditCardRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- masking rules ---------------------------------------------------------------------

    def insert_rule(self, rule: MaskingRule) -> None:
        self.conn.execute(insert(rules).values(**_rule_values(rule)))

    def get_rule(self, code: str) -> MaskingRule | None:
        row = self.conn.execute(select(rules).where(rules.c.code == code)).first()
        return None if row is None else _rule(row)

    def list_rules(self) -> list[MaskingRule]:
        return [_rule(row) for row in self.conn.execute(select(rules).order_by(rules.c.code))]

    def delete_rule(self, code: str) -> None:
        self.conn.execute(delete(rules).where(rules.c.code == code))

    def rule_in_use(self, code: str) -> bool:
        query = select(exists().where(cards.c.masking_rule == code))
        return bool(self.conn.scalar(query))

    # -- cards -----------------------------------------------------------------------------

    def insert_card(self, card: CreditCard) -> int:
        values = _card_values(card)
        del values["id"]
        result = self.conn.execute(insert(cards).values(**values).returning(cards.c.id))
        return int(result.scalar_one())

    def get_card(self, card_id: int, for_update: bool = False) -> CreditCard | None:
        query = select(cards).where(cards.c.id == card_id)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return None if row is None else _card(row)

    def card_by_token(self, provider: str, token: str) -> CreditCard | None:
        where = (cards.c.service_provider == provider) & (cards.c.token == token)
        row = self.conn.execute(select(cards).where(where)).first()
        return None if row is None else _card(row)

    def update_card(self, card: CreditCard) -> None:
        values = _card_values(card)
        del values["id"]
        self.conn.execute(update(cards).where(cards.c.id == card.id).values(**values))

    def delete_card(self, card_id: int) -> None:
        self.conn.execute(delete(registrations).where(registrations.c.card_id == card_id))
        self.conn.execute(delete(cards).where(cards.c.id == card_id))

    def search(self, query: CardQuery, limit: int) -> list[CreditCard]:
        sql = select(cards).where(cards.c.state.in_(sorted(s.value for s in query.states)))
        if query.providers is not None:
            sql = sql.where(cards.c.service_provider.in_(sorted(query.providers)))
        if query.display_number:
            # A prefix match; LIKE wildcards in the text match themselves.
            sql = sql.where(
                func.substr(cards.c.display_number, 1, len(query.display_number))
                == query.display_number
            )
        if query.masking_rule:
            sql = sql.where(cards.c.masking_rule == query.masking_rule)
        if query.token:
            sql = sql.where(cards.c.token == query.token)
        if query.calling_card_id:
            s = t.subscribers.c
            registered = (
                select(registrations.c.card_id)
                .join(t.subscribers, s.id == registrations.c.subscriber_id)
                .where(
                    or_(
                        s.subscriber_id == query.calling_card_id,
                        s.card_number == query.calling_card_id,
                    )
                )
            )
            sql = sql.where(cards.c.id.in_(registered))
        rows = self.conn.execute(sql.order_by(cards.c.id).limit(limit))
        return [_card(row) for row in rows]

    def cards_of_subscriber(self, subscriber_id: int) -> list[CreditCard]:
        registered = select(registrations.c.card_id).where(
            registrations.c.subscriber_id == subscriber_id
        )
        sql = select(cards).where(cards.c.id.in_(registered)).order_by(cards.c.id)
        return [_card(row) for row in self.conn.execute(sql)]

    # -- registrations ---------------------------------------------------------------------

    def list_registrations(self, card_id: int) -> list[Registration]:
        r = registrations.c
        sql = (
            select(registrations)
            .where(r.card_id == card_id)
            .order_by(r.registered_at, r.subscriber_id)
        )
        return [_registration(row) for row in self.conn.execute(sql)]

    def count_registrations_of_subscriber(
        self, subscriber_id: int, excluded_states: Collection[CardState]
    ) -> int:
        sql = (
            select(func.count())
            .select_from(registrations.join(cards, cards.c.id == registrations.c.card_id))
            .where(registrations.c.subscriber_id == subscriber_id)
        )
        if excluded_states:
            sql = sql.where(cards.c.state.not_in(sorted(s.value for s in excluded_states)))
        return int(self.conn.scalar(sql) or 0)

    def insert_registration(self, registration: Registration) -> None:
        self.conn.execute(
            insert(registrations).values(
                card_id=registration.card_id,
                subscriber_id=registration.subscriber_id,
                state=registration.state.value,
                registered_at=registration.registered_at,
            )
        )

    def set_registration_state(
        self, card_id: int, subscriber_id: int, state: RegistrationState
    ) -> None:
        r = registrations.c
        where = (r.card_id == card_id) & (r.subscriber_id == subscriber_id)
        self.conn.execute(update(registrations).where(where).values(state=state.value))

    def delete_registration(self, card_id: int, subscriber_id: int) -> None:
        r = registrations.c
        where = (r.card_id == card_id) & (r.subscriber_id == subscriber_id)
        self.conn.execute(delete(registrations).where(where))


def _rule_values(rule: MaskingRule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "prefix_length": rule.prefix_length,
        "suffix_length": rule.suffix_length,
        "padding": rule.padding,
    }


def _rule(row: Any) -> MaskingRule:
    m = row._mapping
    return MaskingRule(m["code"], m["name"], m["prefix_length"], m["suffix_length"], m["padding"])


def _card_values(card: CreditCard) -> dict[str, Any]:
    return {
        "id": card.id,
        "service_provider": card.service_provider,
        "token": card.token,
        "display_number": card.display_number,
        "masking_rule": card.masking_rule,
        "expiry_month": card.expiry_month,
        "expiry_year": card.expiry_year,
        "name_on_card": card.name_on_card,
        "state": card.state.value,
        "created_at": card.created_at,
        "updated_at": card.updated_at,
    }


def _card(row: Any) -> CreditCard:
    m = row._mapping
    return CreditCard(
        id=m["id"],
        service_provider=m["service_provider"],
        token=m["token"],
        display_number=m["display_number"],
        masking_rule=m["masking_rule"],
        expiry_month=m["expiry_month"],
        expiry_year=m["expiry_year"],
        name_on_card=m["name_on_card"],
        state=CardState(m["state"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _registration(row: Any) -> Registration:
    m = row._mapping
    return Registration(
        m["card_id"], m["subscriber_id"], RegistrationState(m["state"]), m["registered_at"]
    )
