"""The subscriber search query: subscribers joined to their customer and to every wallet they
link to, so a subscriber with two wallets (or a shared wallet's subscribers) give a row each."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import ColumnElement, Connection, select

from ocs.core.casm import Subscriber, SubscriberSearchField
from ocs.core.states import EntityState
from ocs.core.subscriber_search import SubscriberQuery, SubscriberWalletRow
from ocs.core.wallets import WalletState, WalletType
from ocs.storage import tables as t

_SUBSCRIBER_FIELDS = tuple(f.name for f in fields(Subscriber))


def search_subscriber_wallets(
    conn: Connection, provider: str, query: SubscriberQuery, limit: int
) -> list[SubscriberWalletRow]:
    s, a, cu = t.subscribers, t.accounts, t.customers
    links, wallets = t.wallet_links, t.wallets
    column = _column(query.field)
    match: ColumnElement[bool]
    if query.field is SubscriberSearchField.CUSTOMER_ID:
        match = column == int(query.text)
    elif query.exact:
        match = column == query.text
    else:
        match = column.startswith(query.text, autoescape=True)
    by_wallet = query.field is SubscriberSearchField.WALLET_REFERENCE
    joined = s.join(a, a.c.id == s.c.account_id).join(cu, cu.c.id == a.c.customer_id)
    # Searching by wallet needs the wallet; otherwise a subscriber without one still shows.
    joined = joined.join(links, links.c.subscriber_id == s.c.id, isouter=not by_wallet)
    joined = joined.join(wallets, wallets.c.id == links.c.wallet_id, isouter=not by_wallet)
    statement = (
        select(
            *(s.c[name] for name in _SUBSCRIBER_FIELDS),
            cu.c.id.label("row_customer_id"),
            cu.c.name.label("row_customer_name"),
            wallets.c.id.label("row_wallet_id"),
            wallets.c.reference.label("row_wallet_reference"),
            links.c.wallet_type.label("row_wallet_type"),
            wallets.c.state.label("row_wallet_state"),
        )
        .select_from(joined)
        .where(s.c.service_provider == provider, match)
        .order_by(column, s.c.id, links.c.wallet_type)
        .limit(limit)
    )
    return [_row(row) for row in conn.execute(statement)]


def _column(field: SubscriberSearchField) -> Any:
    return {
        SubscriberSearchField.SUBSCRIBER_ID: t.subscribers.c.subscriber_id,
        SubscriberSearchField.CARD_NUMBER: t.subscribers.c.card_number,
        SubscriberSearchField.WALLET_REFERENCE: t.wallets.c.reference,
        SubscriberSearchField.CUSTOMER: t.customers.c.name_key,
        SubscriberSearchField.CUSTOMER_ID: t.customers.c.id,
    }[field]


def _row(row: Any) -> SubscriberWalletRow:
    m = row._mapping
    data = {name: m[name] for name in _SUBSCRIBER_FIELDS}
    data["state"] = EntityState(data["state"])
    wallet_type, wallet_state = m["row_wallet_type"], m["row_wallet_state"]
    return SubscriberWalletRow(
        subscriber=Subscriber(**data),
        customer_id=m["row_customer_id"],
        customer_name=m["row_customer_name"],
        wallet_id=m["row_wallet_id"],
        wallet_reference=m["row_wallet_reference"],
        wallet_type=None if wallet_type is None else WalletType(wallet_type),
        wallet_state=None if wallet_state is None else WalletState(wallet_state),
    )
