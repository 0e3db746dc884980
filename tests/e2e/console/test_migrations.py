"""Account balancing in the console: wallet migrations between charging domains. A server of
its own with a second charging domain ("east"); its background thread runs the migrations.

Journeys: a migration by range refused next to a field, confirmed, run to M and reported;
buttons enabled per state while one migration runs and another waits; an edit of an
incomplete migration with only the state's fields editable (with a change reason); a
read-only operator sees no buttons; a selected row highlighted through the list's polling;
a refused Check Accounts shown next to its field in the dialog."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Locator, Page, expect

from ocs.adapters.console.views_migrations import SELECTED_ROW_COLOUR
from ocs.core.migrations import (
    ROW_COLOURS,
    MigrationAction,
    MigrationFields,
    MigrationState,
    RefreshGroup,
    SelectionKind,
)
from ocs.core.wallets import WalletState
from ocs.service.actor import SYSTEM_ACTOR
from ocs.service.casm import AccountInput, CustomerInput, ResourceInput, SubscriberInput
from ocs.service.wallet_ledger import WalletInput
from tests.e2e.console.conftest import demo_server
from tests.e2e.console.feature_support import (
    DEMO_PROVIDER,
    SETUP,
    confirm,
    open_option,
    server_services,
)
from tests.e2e.console.support import (
    ADMIN,
    Server,
    field_error,
    latest_audit,
    log_in,
    screenshot,
    scripts_ready,
    submit_with_reason,
)

pytestmark = pytest.mark.e2e

RUN_MS = 60_000
VIEWER = ("mviewer", "viewer-password-1")


@pytest.fixture(scope="module")
def domain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`ocs serve --demo` as the package's server, plus a second charging domain "east"."""
    data_dir = tmp_path_factory.mktemp("console-domains")
    with demo_server(
        data_dir, {"OCS_CHARGING_DOMAINS": f"east=sqlite:///{data_dir / 'east.db'}"}
    ) as started:
        yield started


@pytest.fixture
def admin(tab: Page, domain_server: Server) -> Page:
    log_in(tab, domain_server, *ADMIN)
    return tab


@pytest.fixture
def auditing_on(domain_server: Server) -> Iterator[None]:
    domain_server.cli("settings", "edr-auditing", "true")
    yield
    domain_server.cli("settings", "edr-auditing", "false", "--reason", "migration test done")


def add_subscribers(server: Server, first: int, count: int) -> list[int]:
    """Subscribers first..first+count-1, each with its own primary wallet: their wallet ids."""
    wallets = []
    with server_services(server) as services:
        for number in range(first, first + count):
            msisdn = str(number)
            view = services.casm.create_subscriber(
                SETUP,
                SubscriberInput(
                    subscriber_id=msisdn,
                    profile="RES-SUB",
                    resources=(ResourceInput("MSISDN", msisdn),),
                    account=AccountInput(
                        customer=CustomerInput(name=f"Mig {msisdn}", service_provider=DEMO_PROVIDER)
                    ),
                    wallet=WalletInput(product_type="PREPAID-S"),
                ),
            )
            held = services.wallets.subscriber_wallets(SYSTEM_ACTOR, view.subscriber.id)
            wallets.append(held[0].wallet.id)
    return wallets


def create_migration(server: Server, first: int, count: int, **extra: object) -> int:
    with server_services(server) as services:
        fields = MigrationFields(
            service_provider=DEMO_PROVIDER,
            source_domain="default",
            target_domain="east",
            selection=SelectionKind.RANGE,
            wallet_states=frozenset(WalletState),
            range_start=str(first),
            range_end=str(first + count - 1),
            **extra,  # type: ignore[arg-type]
        )
        return services.migrations.create(SETUP, fields).id


def state_of(server: Server, migration_id: int) -> MigrationState:
    with server_services(server) as services:
        return services.migrations.get(SYSTEM_ACTOR, migration_id).state


def wait_for_state(server: Server, migration_id: int, state: MigrationState) -> None:
    deadline = time.monotonic() + RUN_MS / 1000
    while (now := state_of(server, migration_id)) is not state:
        assert time.monotonic() < deadline, f"migration {migration_id} stayed {now}"
        time.sleep(0.2)


def row(page: Page, migration_id: int) -> Locator:
    return page.locator(f"tr[data-migration='{migration_id}']")


def enabled_buttons(page: Page, migration_id: int) -> dict[str, bool]:
    """Each button of the row by its label: enabled or shown disabled."""
    buttons = row(page, migration_id).locator(".mig-buttons .btn")
    return {b.inner_text(): b.is_enabled() for b in buttons.all()}


def test_migration_by_range_refused_then_confirmed_run_and_reported(
    admin: Page, domain_server: Server
) -> None:
    page, server = admin, domain_server
    wallets = add_subscribers(server, 31699500001, 3)
    page.goto(server.console("/migrations"))
    page.get_by_test_id("new-migration").click()
    scripts_ready(page)
    form = page.get_by_test_id("migration-form")
    form.get_by_label("Source domain").select_option("default")
    form.get_by_label("Target domain").select_option("east")
    form.get_by_label("Subscriber range").check()
    form.get_by_label("Range start").fill("31699500001")
    form.get_by_label("Range end").fill("3169950003")
    form.get_by_label("Throttle (moves a second)").fill("50")
    form.get_by_label("Save the remaining subscribers to a file").fill("left-over.txt")

    page.get_by_test_id("check-accounts").click()
    dialog = page.get_by_test_id("accounts-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("accounts-source")).to_contain_text("Source: default")
    expect(dialog.get_by_test_id("accounts-target")).to_contain_text("Target: east")
    source_products = dialog.get_by_test_id("accounts-source").locator("[data-product-type]")
    expect(source_products.first).to_be_visible()
    screenshot(page, "54-check-accounts", full_page=False)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    form.get_by_role("button", name="Save").click()
    assert field_error(page, "range_end") == (
        "range start and end must have the same number of digits"
    )
    screenshot(page, "51-migration-refused")
    form = page.get_by_test_id("migration-form")
    expect(form.get_by_label("Range start")).to_have_value("31699500001")
    form.get_by_label("Range end").fill("31699500003")
    form.get_by_role("button", name="Save").click()

    details = page.get_by_test_id("migration-details")
    expect(details.get_by_test_id("confirm-selection")).to_have_text(
        "Range 31699500001 to 31699500003"
    )
    expect(details.get_by_test_id("confirm-states")).to_have_text("PADSFT")
    screenshot(page, "52-migration-confirm")
    scripts_ready(page)  # the confirmation page is a new document
    page.get_by_test_id("migration-confirm").get_by_role("button", name="Confirm").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    migration_id = int(parse_qs(urlparse(page.url).query)["created"][0])

    # The list polls itself while the migration waits and runs: no reload needed.
    expect(row(page, migration_id)).to_have_attribute("data-state", "M", timeout=RUN_MS)
    cell = row(page, migration_id).locator("td").first
    blue = ROW_COLOURS[MigrationState.MIGRATED].lstrip("#")
    rgb = tuple(int(blue[i : i + 2], 16) for i in (0, 2, 4))
    expect(cell).to_have_css("background-color", f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})")
    expect(row(page, migration_id).get_by_test_id("end-or-progress")).to_have_text(
        re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    )
    buttons = enabled_buttons(page, migration_id)
    assert buttons == {
        "Priority": False,
        "Restart": False,
        "Pause": False,
        "Cancel": False,
        "Report": True,
        "Edit": False,
        "Delete": True,
    }
    row(page, migration_id).get_by_test_id("btn-report").click()
    report = page.get_by_test_id("report")
    expect(report).to_contain_text("State: Migrated")
    expect(report).to_contain_text("Migrations Completed: 3/3 (100%)")
    expect(report).to_contain_text("Allowed Wallet States: PADSFT")
    screenshot(page, "53-migration-report")
    with page.expect_download() as download:
        page.get_by_test_id("download-report").click()
    assert download.value.suggested_filename == f"migration-{migration_id}-report.txt"
    assert "Migrations Completed: 3/3 (100%)" in Path(download.value.path()).read_text()
    with page.expect_download() as remaining:
        page.get_by_test_id("download-remaining").click()
    assert remaining.value.suggested_filename == "left-over.txt"
    assert Path(remaining.value.path()).read_text() == ""

    with server_services(server) as services:
        assert [services.domains.domain_of(w) for w in wallets] == ["east"] * 3
    open_option(page, server, "31699500002", "Wallets", "Wallets")
    expect(page.get_by_test_id("charging-domain")).to_have_text("east")


def test_buttons_follow_the_state_while_one_runs_and_another_waits(
    admin: Page, domain_server: Server
) -> None:
    page, server = admin, domain_server
    add_subscribers(server, 31699600001, 40)
    add_subscribers(server, 31699700001, 2)
    # One wallet a second: the first migration runs long enough to be seen running.
    running = create_migration(server, 31699600001, 40, throttle_per_s=1)
    wait_for_state(server, running, MigrationState.RUNNING)
    waiting = create_migration(server, 31699700001, 2)
    page.goto(server.console("/migrations"))
    scripts_ready(page)
    expect(row(page, waiting)).to_have_attribute("data-state", "P")
    assert enabled_buttons(page, waiting) == {
        "Priority": True,
        "Restart": False,
        "Pause": False,
        "Cancel": True,
        "Report": False,
        "Edit": True,
        "Delete": True,
    }
    assert enabled_buttons(page, running) == {
        "Priority": False,
        "Restart": False,
        "Pause": True,
        "Cancel": False,
        "Report": False,
        "Edit": True,
        "Delete": False,
    }
    progress = row(page, running).get_by_test_id("end-or-progress")
    expect(progress).to_have_text(re.compile(r"^\s*\d+%\s*$"))
    before = progress.inner_text()
    # The page swaps in fresh rows by itself while the migration runs.
    expect(progress).not_to_have_text(before, timeout=15_000)
    screenshot(page, "50-account-balancing")

    row(page, waiting).get_by_test_id("btn-priority").click()
    expect(page.locator(".notice")).to_have_text("State change recorded.")
    expect(row(page, waiting)).to_have_attribute("data-state", "N")
    assert enabled_buttons(page, waiting)["Priority"] is False

    row(page, running).get_by_test_id("btn-pause").click()
    wait_for_state(server, running, MigrationState.PAUSED)
    page.goto(server.console("/migrations"))
    expect(row(page, running)).to_have_attribute("data-state", "S")
    # The runner compiles the report once it sees the pause (the list still polls: N waits).
    expect(row(page, running).get_by_test_id("btn-report")).to_be_enabled(timeout=RUN_MS)
    paused = enabled_buttons(page, running)
    assert "Pause" not in paused
    assert paused == {
        "Priority": True,
        "Restart": True,
        "Hold": True,
        "Cancel": False,
        "Report": True,
        "Edit": True,
        "Delete": True,
    }
    # Once the first one stopped, the runner takes the priority migration.
    expect(row(page, waiting)).to_have_attribute("data-state", "M", timeout=RUN_MS)

    row(page, running).get_by_test_id("btn-hold").click()
    expect(row(page, running)).to_have_attribute("data-state", "H")
    assert enabled_buttons(page, running)["Cancel"] is True
    row(page, running).get_by_test_id("btn-cancel").click()
    confirm(page)
    expect(row(page, running)).to_have_attribute("data-state", "C")
    assert enabled_buttons(page, running)["Report"] is True
    row(page, running).get_by_test_id("btn-delete").click()
    confirm(page)
    expect(page.locator(".notice")).to_have_text("Deleted.")
    expect(row(page, running)).to_have_count(0)


@pytest.mark.usefixtures("auditing_on")
def test_edit_an_incomplete_migration_only_where_its_state_allows(
    admin: Page, domain_server: Server
) -> None:
    page, server = admin, domain_server
    add_subscribers(server, 31699800001, 3)
    migration_id = create_migration(server, 31699800001, 3, max_wallets=1)
    wait_for_state(server, migration_id, MigrationState.INCOMPLETE)
    page.goto(server.console("/migrations"))
    row(page, migration_id).get_by_test_id("btn-save").click()
    scripts_ready(page)
    form = page.get_by_test_id("migration-form")
    for label in ("Source domain", "Target domain", "Range start", "Range end", "Batch ID"):
        expect(form.get_by_label(label)).to_be_disabled()
    expect(form.locator("#f-product_type")).to_be_disabled()
    expect(form.get_by_label("Product type", exact=True)).to_have_count(2)
    expect(form.locator("#f-input_file")).to_have_count(0)
    expect(form.get_by_label("Active (A)")).to_be_disabled()
    expect(form.get_by_label("Maximum wallets")).to_be_enabled()
    expect(form.get_by_label("Throttle (moves a second)")).to_be_enabled()
    screenshot(page, "55-migration-edit")
    form.get_by_label("Maximum wallets").fill("10")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("confirm-changes")).to_have_text("max_wallets → 10")
    scripts_ready(page)  # the confirmation page is a new document
    page.get_by_test_id("migration-confirm").get_by_role("button", name="Confirm").click()
    submit_with_reason(page, "more wallets this night")
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    entry = latest_audit(server, "domain_migration")
    assert (entry["action"], entry["change_reason"]) == ("update", "more wallets this night")
    # Saved from I: back to P, and the server runs the rest.
    expect(row(page, migration_id)).to_have_attribute("data-state", "M", timeout=RUN_MS)


def test_read_only_operator_sees_no_buttons(tab: Page, domain_server: Server) -> None:
    server = domain_server
    add_subscribers(server, 31699900001, 1)
    migration_id = create_migration(server, 31699900001, 1)
    wait_for_state(server, migration_id, MigrationState.MIGRATED)
    server.cli("operator", "add", VIEWER[0], "--role", "read_only", "--password", VIEWER[1])
    log_in(tab, server, *VIEWER)
    tab.goto(server.console("/migrations"))
    expect(row(tab, migration_id)).to_have_attribute("data-state", "M")
    expect(tab.locator(".mig-buttons")).to_have_count(0)
    expect(tab.get_by_role("button", name="Pause")).to_have_count(0)
    expect(tab.get_by_test_id("new-migration")).to_have_count(0)
    row(tab, migration_id).get_by_role("link", name=str(migration_id)).click()
    expect(tab.get_by_test_id("migration-form").get_by_label("Maximum wallets")).to_be_disabled()
    expect(tab.get_by_role("button", name="Save")).to_have_count(0)
    tab.get_by_test_id("report-link").click()
    expect(tab.get_by_test_id("report")).to_contain_text("State: Migrated")


def test_migration_from_an_uploaded_input_file(admin: Page, domain_server: Server) -> None:
    page, server = admin, domain_server
    wallets = add_subscribers(server, 31699400001, 2)
    numbers = "31699400001\n\n31699400002\n31699400999\n"
    page.goto(server.console("/migrations/new"))
    scripts_ready(page)
    form = page.get_by_test_id("migration-form")
    form.get_by_label("Target domain").select_option("east")
    form.get_by_label("Input file", exact=True).first.check()
    page.set_input_files(
        "#f-input_file",
        files=[{"name": "night.txt", "mimeType": "text/plain", "buffer": numbers.encode()}],
    )
    form.get_by_label("Pre-use (P)").uncheck()
    form.get_by_role("button", name="Save").click()
    details = page.get_by_test_id("migration-details")
    expect(details.get_by_test_id("confirm-selection")).to_have_text(
        "Input file night.txt (3 numbers)"
    )
    expect(details.get_by_test_id("confirm-states")).to_have_text("ADSFT")
    scripts_ready(page)  # the confirmation page is a new document
    page.get_by_test_id("migration-confirm").get_by_role("button", name="Confirm").click()
    migration_id = int(parse_qs(urlparse(page.url).query)["created"][0])
    # The new wallets are in pre-use, which this migration leaves out: none moves.
    expect(row(page, migration_id)).to_have_attribute("data-state", "F", timeout=RUN_MS)
    expect(row(page, migration_id).locator("td").nth(7)).to_have_text("night.txt")
    row(page, migration_id).get_by_test_id("btn-report").click()
    report = page.get_by_test_id("report")
    expect(report).to_contain_text("Migrations Completed: 0/2 (0%)")
    expect(report).to_contain_text("31699400001 Primary: Wrong state")
    with page.expect_download() as remaining:
        page.get_by_test_id("download-remaining").click()
    assert Path(remaining.value.path()).read_text() == "31699400001\n31699400002\n"
    with server_services(server) as services:
        assert [services.domains.domain_of(w) for w in wallets] == ["default"] * 2


def css_rgb(hex_colour: str) -> str:
    """A #rrggbb colour as the browser's computed style spells it."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def expect_highlighted(page: Page, selected: int, other: int, other_state: MigrationState) -> None:
    """`selected` is the one dark blue row with white text; `other` keeps its state's colour."""
    cell = row(page, selected).locator("td").first
    expect(cell).to_have_css("background-color", css_rgb(SELECTED_ROW_COLOUR))
    expect(cell).to_have_css("color", "rgb(255, 255, 255)")
    expect(row(page, selected)).to_have_attribute("aria-selected", "true")
    other_cell = row(page, other).locator("td").first
    expect(other_cell).to_have_css("background-color", css_rgb(ROW_COLOURS[other_state]))
    expect(other_cell).to_have_css("color", "rgb(0, 0, 0)")
    expect(page.locator("tr.mig-selected")).to_have_count(1)


def test_selected_row_is_highlighted_through_the_polling(
    admin: Page, domain_server: Server
) -> None:
    page, server = admin, domain_server
    add_subscribers(server, 31699300001, 1)
    done = create_migration(server, 31699300001, 1)
    wait_for_state(server, done, MigrationState.MIGRATED)
    add_subscribers(server, 31699310001, 40)
    # One wallet a second: it runs (and the list polls) for the whole test.
    running = create_migration(server, 31699310001, 40, throttle_per_s=1)
    wait_for_state(server, running, MigrationState.RUNNING)
    try:
        page.goto(server.console("/migrations"))
        scripts_ready(page)
        expect(page.locator("tr.mig-selected")).to_have_count(0)
        expect(row(page, done).locator("td").first).to_have_css(
            "background-color", css_rgb(ROW_COLOURS[MigrationState.MIGRATED])
        )

        # A click on a plain cell (not the ID link or a button) selects the row.
        row(page, done).locator("td").nth(1).click()
        expect_highlighted(page, done, running, MigrationState.RUNNING)
        screenshot(page, "56-migration-selected")

        # The poll swaps in fresh rows; the selection is shown on the new one.
        live = page.get_by_test_id("migrations-live")
        live.evaluate("element => { element.dataset.stale = 'yes'; }")
        expect(page.locator("#migrations-live[data-stale]")).to_have_count(0, timeout=15_000)
        expect_highlighted(page, done, running, MigrationState.RUNNING)

        row(page, running).locator("td").nth(2).click()
        expect_highlighted(page, running, done, MigrationState.MIGRATED)

        # From the keyboard: the row takes the focus, Enter or Space selects it.
        row(page, done).focus()
        page.keyboard.press("Enter")
        expect_highlighted(page, done, running, MigrationState.RUNNING)
        row(page, running).focus()
        page.keyboard.press(" ")
        expect_highlighted(page, running, done, MigrationState.MIGRATED)
    finally:
        with server_services(server) as services:
            services.migrations.act(SETUP, running, MigrationAction.PAUSE)


def test_refused_check_accounts_shows_the_error_next_to_its_field(
    admin: Page, domain_server: Server
) -> None:
    page, server = admin, domain_server
    with server_services(server) as services:
        before = services.migrations.search(SYSTEM_ACTOR, list(RefreshGroup))
    page.goto(server.console("/migrations/new"))
    scripts_ready(page)
    form = page.get_by_test_id("migration-form")
    form.get_by_label("Source domain").select_option("default")
    # No target domain chosen yet.
    expect(form.get_by_label("Target domain")).to_have_value("")
    page.get_by_test_id("check-accounts").click()

    dialog = page.get_by_test_id("accounts-dialog")
    expect(dialog).to_be_visible()
    target = dialog.get_by_test_id("accounts-target_domain")
    expect(target).to_have_class(re.compile(r"\bhas-error\b"))
    expect(target.locator("output")).to_have_text("(not chosen)")
    expect(target.locator(".field-error[data-field='target_domain']")).to_have_text(
        "choose one of the configured domains: default, east"
    )
    source = dialog.get_by_test_id("accounts-source_domain")
    expect(source.locator("output")).to_have_text("default")
    expect(source.locator(".field-error")).to_have_count(0)
    expect(dialog.get_by_test_id("accounts-source")).to_have_count(0)
    screenshot(page, "57-check-accounts-refused", full_page=False)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    # The form is untouched and a second check with both domains shows the summary.
    assert urlparse(page.url).path.endswith("/migrations/new")
    expect(form.locator(".field-error")).to_have_count(0)
    form.get_by_label("Target domain").select_option("east")
    page.get_by_test_id("check-accounts").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("accounts-target")).to_contain_text("Target: east")
    expect(dialog.get_by_test_id("accounts-refused")).to_have_count(0)
    with server_services(server) as services:
        after = services.migrations.search(SYSTEM_ACTOR, list(RefreshGroup))
    assert [m.id for m in after] == [m.id for m in before]
