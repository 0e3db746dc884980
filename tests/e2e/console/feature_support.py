"""Helpers for the browser tests of the subscriber feature screens: subscribers of their own
(so tests sharing the package's server do not disturb each other) and service access to the
server's database, to check what a screen changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Page, expect

from ocs.bootstrap import Services, build_services
from ocs.config import Settings
from ocs.service.actor import SYSTEM_ACTOR
from ocs.service.casm import AccountInput, CustomerInput, ResourceInput, SubscriberInput
from ocs.service.wallet_ledger import WalletInput
from tests.e2e.console.support import Server, open_subscriber, scripts_ready

DEMO_PROVIDER = "DEMO"
# Set-up changes carry a reason so that they also work while a test has EDR auditing on.
SETUP = SYSTEM_ACTOR.with_reason("browser test set-up")


@contextmanager
def server_services(server: Server) -> Iterator[Services]:
    """The services on the server's own database (what the REST API and CLI use too)."""
    services = build_services(Settings.from_env(server.env))
    try:
        yield services
    finally:
        services.engine.dispose()


def add_subscriber(server: Server, msisdn: str, cash_minor: int = 0) -> int:
    """A subscriber with a primary PREPAID-S wallet, optionally topped up with cash."""
    with server_services(server) as services:
        view = services.casm.create_subscriber(
            SETUP,
            SubscriberInput(
                subscriber_id=msisdn,
                profile="RES-SUB",
                resources=(ResourceInput("MSISDN", msisdn),),
                account=AccountInput(
                    customer=CustomerInput(name=f"Test {msisdn}", service_provider=DEMO_PROVIDER)
                ),
                wallet=WalletInput(product_type="PREPAID-S"),
            ),
        )
        if cash_minor:
            wallet = services.wallets.subscriber_wallets(SYSTEM_ACTOR, view.subscriber.id)[0]
            services.wallets.top_up(SETUP, wallet.wallet.id, "CASH", cash_minor)
        return view.subscriber.id


def open_option(page: Page, server: Server, msisdn: str, option: str, heading: str) -> None:
    """Open a subscriber's screen, then one of its left-hand options."""
    open_subscriber(page, server, msisdn)
    options = page.get_by_role("navigation", name="Subscriber options")
    options.get_by_role("link", name=option, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{heading} of {msisdn}")
    scripts_ready(page)


def confirm(page: Page) -> None:
    """Answer OK in the confirmation dialog of a form marked data-confirm."""
    page.locator("#reason-ok").click()
