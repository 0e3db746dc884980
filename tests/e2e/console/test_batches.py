"""Subscriber batches in the console: a refused batch changes nothing; a batch from an uploaded
list file runs as a background job whose progress the page polls, its result file downloads
once, and the batch is activated (creation date kept) and deleted from its page."""

from __future__ import annotations

import pytest
from playwright.sync_api import FilePayload, Page, expect

from ocs.core.states import EntityState
from ocs.service.actor import SYSTEM_ACTOR
from tests.e2e.console.feature_support import add_subscriber, server_services
from tests.e2e.console.support import (
    Server,
    field_error,
    latest_audit,
    screenshot,
    scripts_ready,
    submit_with_reason,
)

pytestmark = pytest.mark.e2e

FIRST = 31677000001
SIZE = 40
LIST_FILE: FilePayload = {
    "name": "spring.txt",
    "mimeType": "text/plain",
    "buffer": f"# spring cards\n{FIRST}\n{FIRST + 1}-{FIRST + SIZE - 1}\n".encode(),
}
JOB_DONE_MS = 60_000


def _account_of_new_subscriber(server: Server, msisdn: str) -> int:
    subscriber_id = add_subscriber(server, msisdn)
    with server_services(server) as services:
        return services.casm.get_subscriber(SYSTEM_ACTOR, subscriber_id).subscriber.account_id


@pytest.mark.usefixtures("auditing")
def test_batch_from_a_list_file_runs_as_a_job_then_is_activated(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    account_id = _account_of_new_subscriber(server, "31677999001")
    page.goto(server.console("/batches"))
    page.get_by_test_id("new-batch").click()
    scripts_ready(page)
    form = page.get_by_test_id("batch-new")
    form.get_by_label("Account ID").fill(str(account_id))
    form.get_by_label("Batch size").fill(str(SIZE + 1))
    page.set_input_files("#f-list_file", files=[LIST_FILE])
    form.get_by_label("Result filename").fill("spring-result.txt")
    form.get_by_label("Product type").select_option("PREPAID-S")
    form.get_by_label("Maximum concurrent accesses").fill("3")
    form.get_by_label("Add PINs to accounts").check()
    form.get_by_label("PIN length").fill("6")
    form.get_by_role("button", name="Save").click()
    submit_with_reason(page, "Spring card run")
    assert (
        field_error(page, "batch_size")
        == f"batch_size is {SIZE + 1} but the subscriber list holds {SIZE}"
    )
    screenshot(page, "40-batch-refused")
    with server_services(server) as services:
        assert services.batches.search(SYSTEM_ACTOR, str(FIRST)[:8]) == []

    form = page.get_by_test_id("batch-new")
    form.get_by_label("Batch size").fill(str(SIZE))
    page.set_input_files("#f-list_file", files=[LIST_FILE])
    form.get_by_role("button", name="Save").click()
    submit_with_reason(page, "Spring card run")
    live = page.get_by_test_id("job-live")
    expect(live.get_by_test_id("job-state")).to_have_text("SUCCEEDED", timeout=JOB_DONE_MS)
    expect(live.get_by_test_id("job-done")).to_contain_text(f"{SIZE} of {SIZE} subscribers")
    screenshot(page, "41-batch-job")

    with page.expect_download() as download:
        live.get_by_role("button", name="Download result file").click()
    assert download.value.suggested_filename == "spring-result.txt"
    lines = download.value.path().read_text().splitlines()
    assert lines[0] == "# subscriber_id card_number wallet_reference pin"
    assert [line.split()[0] for line in lines[1:]] == [str(FIRST + i) for i in range(SIZE)]
    assert all(len(line.split()[3]) == 6 for line in lines[1:])

    page.reload()
    expect(page.get_by_test_id("result-gone")).to_be_visible()
    page.get_by_role("link", name="Open batch").click()
    scripts_ready(page)
    expect(page.get_by_test_id("batch-state")).to_have_text("INACTIVE")
    created = page.get_by_test_id("creation-date").inner_text()
    expect(page.get_by_test_id("members").locator("tr[data-subscriber]")).to_have_count(SIZE)
    edit = page.get_by_test_id("batch-edit")
    edit.get_by_label("Batch state").select_option("ACTIVE")
    edit.get_by_label("State reason (to activate)").select_option("NEW")
    edit.get_by_role("button", name="Save").click()
    submit_with_reason(page, "Cards sold to the retailer")
    expect(page.locator(".notice")).to_have_text("Changes saved.")
    expect(page.get_by_test_id("batch-state")).to_have_text("ACTIVE")
    expect(page.get_by_test_id("creation-date")).to_have_text(created)
    screenshot(page, "42-batch")

    with server_services(server) as services:
        [batch] = services.batches.search(SYSTEM_ACTOR, str(FIRST), "ACTIVE")
        members = services.batches.members(SYSTEM_ACTOR, batch.id)
    assert (batch.size, batch.list_filename, batch.max_concurrent_accesses) == (
        SIZE, "spring.txt", 3
    )  # fmt: skip
    assert (batch.pins, batch.pin_length, batch.state_reason) == (True, 6, "NEW")
    assert {m.state for m in members} == {EntityState.ACTIVE}
    audit = latest_audit(server, "subscriber-batch")
    assert (audit["action"], audit["change_reason"]) == ("update", "Cards sold to the retailer")

    page.get_by_test_id("delete").click()
    submit_with_reason(page, "Batch record no longer needed")
    expect(page.locator(".notice")).to_have_text("Deleted.")
    with server_services(server) as services:
        assert services.batches.search(SYSTEM_ACTOR, str(FIRST)) == []
        # Only the record goes: activated subscribers are in service and stay.
        kept = services.casm.get_subscriber(SYSTEM_ACTOR, members[0].id).subscriber
    assert (kept.subscriber_id, kept.state) == (str(FIRST), EntityState.ACTIVE)


def test_job_page_follows_the_progress_in_place_until_the_batch_is_written(
    admin_tab: Page, server: Server
) -> None:
    page = admin_tab
    account_id = _account_of_new_subscriber(server, "31677999002")
    # A thousand argon2id PIN hashes keep the job running for a while after the redirect.
    size = 1000
    page.goto(server.console("/batches/new"))
    scripts_ready(page)
    form = page.get_by_test_id("batch-new")
    form.get_by_label("Account ID").fill(str(account_id))
    form.get_by_label("Batch size").fill(str(size))
    form.get_by_label("Or type the list").fill(f"31678000000-{31678000000 + size - 1}")
    form.get_by_label("Result filename").fill("summer-result.txt")
    form.get_by_label("Product type").select_option("PREPAID-S")
    form.get_by_label("Add PINs to accounts").check()
    form.get_by_label("PIN length").fill("4")
    form.get_by_role("button", name="Save").click()
    live = page.get_by_test_id("job-live")
    expect(live).to_be_visible()
    page.evaluate("window.notReloaded = true")
    expect(live.get_by_test_id("job-state")).to_have_text("SUCCEEDED", timeout=JOB_DONE_MS)
    # htmx swapped the progress in place: the page itself never reloaded.
    assert page.evaluate("window.notReloaded") is True
    expect(live.get_by_test_id("job-done")).to_contain_text(f"{size} of {size} subscribers")
    expect(live.get_by_test_id("job-progress")).to_have_attribute("aria-valuenow", str(size))
    expect(live).not_to_have_attribute("hx-trigger", "every 1s")  # polling stopped
    with server_services(server) as services:
        [batch] = services.batches.search(SYSTEM_ACTOR, "31678000")
    assert (batch.state, batch.created_count, batch.list_filename) == ("INACTIVE", size, None)
