"""Business process logic in the console: a task defined on the BPL tasks screen, then run for
a subscriber from its Business processes option, with refusals shown beside their fields."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ocs.core.bpl import RunMode
from ocs.service.actor import SYSTEM_ACTOR
from ocs.service.bpl import ActionInput, ParameterInput, TaskInput
from tests.e2e.console.feature_support import (
    DEMO_PROVIDER,
    SETUP,
    add_subscriber,
    open_option,
    server_services,
)
from tests.e2e.console.support import Server, field_error, log_in, screenshot, scripts_ready

pytestmark = pytest.mark.e2e

VIEWER = ("viewer-bpl", "viewer-password-bpl")


def _cash(server: Server, subscriber_id: int) -> int:
    with server_services(server) as services:
        view = services.wallets.subscriber_wallets(SYSTEM_ACTOR, subscriber_id)[0]
    return next(b.total_value for b in view.balances if b.balance_type == "CASH")


def test_define_a_task_on_the_tasks_screen(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    page.goto(server.console("/"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="BPL tasks").click()
    page.get_by_test_id("new-task").click()
    scripts_ready(page)
    form = page.get_by_test_id("task-definition")
    form.locator("#f-name").fill("Console bundle")
    form.locator("#f-description").fill("Buys a bundle from the cash balance")
    form.locator("#f-p0_name").fill("price")
    form.locator("#f-p0_type").select_option("MONEY")
    form.locator("#f-p0_default").fill("100")
    form.locator("#f-p0_mandatory").check()
    form.locator("#f-p1_name").fill("channel")
    form.locator("#f-p1_type").select_option("CHOICE")
    form.locator("#f-p1_choices").fill("shop, phone")
    form.locator("#f-p1_default").fill("shop")
    form.locator("#f-a0_kind").select_option("CHARGE")
    form.locator("#f-a0_balance_type").fill("CASH")
    form.locator("#f-a0_amount").fill("=prize")
    form.get_by_role("button", name="Create task").click()
    assert field_error(page, "a0_amount") == (
        "amount is bound to parameter 'prize', which the task lacks"
    )
    with server_services(server) as services:
        names = [t.name for t in services.bpl.list_tasks(SYSTEM_ACTOR, DEMO_PROVIDER)]
    assert "Console bundle" not in names

    page.locator("#f-a0_amount").fill("=price")
    page.get_by_role("button", name="Create task").click()
    expect(page.locator(".notice")).to_have_text("Created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Console bundle")
    expect(page.locator("#f-a0_amount")).to_have_value("=price")
    screenshot(page, "30-bpl-task")

    with server_services(server) as services:
        task = next(
            t
            for t in services.bpl.list_tasks(SYSTEM_ACTOR, DEMO_PROVIDER)
            if t.name == "Console bundle"
        )
    assert [(p.name, p.type.value, p.mandatory, p.default) for p in task.parameters] == [
        ("price", "MONEY", True, 100),
        ("channel", "CHOICE", False, "shop"),
    ]
    assert task.parameters[1].choices == ("shop", "phone")
    assert task.actions[0].inputs["amount"].parameter == "price"


def _bundle_task(server: Server, name: str) -> int:
    with server_services(server) as services:
        task = services.bpl.create_task(
            SETUP,
            TaskInput(
                name=name,
                service_provider=DEMO_PROVIDER,
                parameters=(
                    ParameterInput("price", "MONEY", mandatory=True, default=100),
                    ParameterInput("channel", "CHOICE", default="shop", choices=("shop", "phone")),
                ),
                actions=(
                    ActionInput(
                        "CHARGE", {"balance_type": "CASH", "amount": {"parameter": "price"}}
                    ),
                ),
            ),
        )
    return task.id


def test_run_a_task_for_a_subscriber(admin_tab: Page, server: Server) -> None:
    page = admin_tab
    task_id = _bundle_task(server, "Run bundle")
    sub = add_subscriber(server, "31699073101", cash_minor=1000)
    open_option(page, server, "31699073101", "Business processes", "Business processes")
    page.get_by_test_id("task-buttons").get_by_role("link", name="Run bundle").click()
    scripts_ready(page)
    form = page.get_by_test_id("task-form")
    expect(form.get_by_label("price")).to_have_value("100")
    expect(form.get_by_label("price")).to_have_attribute("type", "number")
    expect(form.get_by_label("channel")).to_have_value("shop")
    expect(form.locator("label[for='f-p_price'] .req")).to_have_count(1)

    form.get_by_label("price").fill("5000")
    form.get_by_role("button", name="Execute only").click()
    assert field_error(page, "p_price") == (
        "taking 5000 from CASH (available 1000) would go below its floor 0"
    )
    assert _cash(server, sub) == 1000
    with server_services(server) as services:
        assert services.bpl.runs(SYSTEM_ACTOR, sub) == []

    scripts_ready(page)
    page.get_by_label("price").fill("250")
    page.get_by_label("channel").select_option("phone")
    page.get_by_test_id("task-form").get_by_role("button", name="Save & execute").click()
    result = page.get_by_test_id("result")
    expect(result).to_contain_text("Run bundle ran")
    expect(result.get_by_test_id("effects")).to_contain_text("CHARGE")
    # The form now shows the saved values.
    expect(page.get_by_test_id("task-form").get_by_label("price")).to_have_value("250")
    screenshot(page, "31-bpl-run")

    assert _cash(server, sub) == 750
    with server_services(server) as services:
        runs = services.bpl.runs(SYSTEM_ACTOR, sub)
        saved = services.bpl.subscriber_task(SYSTEM_ACTOR, sub, task_id)
    assert [(r.task_id, r.mode, dict(r.values)) for r in runs] == [
        (task_id, RunMode.SAVE_AND_EXECUTE, {"price": 250, "channel": "phone"})
    ]
    assert saved.values == {"price": 250, "channel": "phone"}


def test_read_only_operator_cannot_run_or_change_tasks(tab: Page, server: Server) -> None:
    task_id = _bundle_task(server, "Viewer bundle")
    sub = add_subscriber(server, "31699073102")
    server.cli("operator", "add", VIEWER[0], "--role", "read_only", "--password", VIEWER[1])
    log_in(tab, server, *VIEWER)
    tab.goto(server.console(f"/subscribers/{sub}/business-processes/{task_id}"))
    expect(tab.get_by_test_id("task-form").get_by_label("price")).to_be_disabled()
    expect(tab.get_by_test_id("task-form").get_by_role("button")).to_have_count(0)
    tab.goto(server.console("/bpl-tasks"))
    expect(tab.get_by_test_id("tasks")).to_contain_text("Viewer bundle")
    expect(tab.get_by_test_id("new-task")).to_have_count(0)
    tab.goto(server.console(f"/bpl-tasks/{task_id}"))
    expect(tab.get_by_test_id("delete")).to_have_count(0)
    expect(tab.get_by_role("button", name="Save")).to_have_count(0)
