"""Migration rules (seed 003 "UBE Account Balancing"): every state x button, every field rule,
validation and the report's format."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ocs.core.errors import DomainError, ProblemKind
from ocs.core.migrations import (
    ItemOutcome,
    Migration,
    MigrationAction,
    MigrationFields,
    MigrationItem,
    MigrationState,
    RefreshGroup,
    SelectionKind,
    allowed_actions,
    check_action,
    check_editable,
    compile_report,
    field_editable,
    final_state,
    parse_input_file,
    remaining_subscribers,
    states_of_groups,
    validate_fields,
)
from ocs.core.wallets import WalletState, WalletType

S = MigrationState
A = MigrationAction

# The manual's button table, written out state by state (True = enabled).
BUTTONS: dict[MigrationState, dict[MigrationAction, bool]] = {
    S.PENDING: {A.PRIORITY: True, A.RESTART: False, A.PAUSE: False, A.HOLD: False,
                A.CANCEL: True, A.SAVE: True, A.DELETE: True},
    S.PRIORITY: {A.PRIORITY: False, A.RESTART: True, A.PAUSE: False, A.HOLD: False,
                 A.CANCEL: True, A.SAVE: True, A.DELETE: True},
    S.ON_HOLD: {A.PRIORITY: True, A.RESTART: True, A.PAUSE: False, A.HOLD: False,
                A.CANCEL: True, A.SAVE: True, A.DELETE: True},
    S.PAUSED: {A.PRIORITY: True, A.RESTART: True, A.PAUSE: False, A.HOLD: True,
               A.CANCEL: False, A.SAVE: True, A.DELETE: True},
    S.CANCELLED: {A.PRIORITY: False, A.RESTART: False, A.PAUSE: False, A.HOLD: False,
                  A.CANCEL: False, A.SAVE: True, A.DELETE: True},
    S.FAILED: {A.PRIORITY: True, A.RESTART: True, A.PAUSE: False, A.HOLD: False,
               A.CANCEL: False, A.SAVE: True, A.DELETE: True},
    S.MIGRATED: {A.PRIORITY: False, A.RESTART: False, A.PAUSE: False, A.HOLD: False,
                 A.CANCEL: False, A.SAVE: False, A.DELETE: True},
    S.INCOMPLETE: {A.PRIORITY: True, A.RESTART: True, A.PAUSE: False, A.HOLD: False,
                   A.CANCEL: False, A.SAVE: True, A.DELETE: True},
    S.RUNNING: {A.PRIORITY: False, A.RESTART: False, A.PAUSE: True, A.HOLD: False,
                A.CANCEL: False, A.SAVE: True, A.DELETE: False},
}  # fmt: skip


@pytest.mark.parametrize("state", list(MigrationState))
@pytest.mark.parametrize("action", [a for a in MigrationAction if a is not A.REPORT])
def test_every_button_in_every_state(state: MigrationState, action: MigrationAction) -> None:
    expected = BUTTONS[state][action]
    assert (action in allowed_actions(state, has_report=False)) is expected
    if expected:
        check_action(action, state, has_report=False)
    else:
        with pytest.raises(DomainError) as err:
            check_action(action, state, has_report=False)
        assert err.value.kind is ProblemKind.NOT_ALLOWED_IN_STATE
        assert err.value.field == "state"


@pytest.mark.parametrize("state", list(MigrationState))
def test_report_button_only_with_a_report(state: MigrationState) -> None:
    assert A.REPORT in allowed_actions(state, has_report=True)
    assert A.REPORT not in allowed_actions(state, has_report=False)
    with pytest.raises(DomainError) as err:
        check_action(A.REPORT, state, has_report=False)
    assert err.value.kind is ProblemKind.NOT_FOUND


def test_refresh_groups_are_the_manuals() -> None:
    assert states_of_groups([RefreshGroup.COMPLETE]) == set("MCIF")
    assert states_of_groups([RefreshGroup.RUNNING]) == {S.RUNNING}
    assert states_of_groups([RefreshGroup.PENDING]) == set("NPHSIF")
    assert states_of_groups([]) == frozenset()


P_N_H = set("PNH")
P_N_H_I_F_S = set("PNHIFS")
FIELD_STATES = {
    "source_domain": P_N_H,
    "target_domain": P_N_H,
    "selection": P_N_H,
    "wallet_states": P_N_H,
    "batch_id": P_N_H,
    "max_wallets": P_N_H_I_F_S,
    "throttle_per_s": P_N_H_I_F_S,
    "remaining_filename": P_N_H_I_F_S,
}


@pytest.mark.parametrize("first", list(SelectionKind))
@pytest.mark.parametrize("state", list(MigrationState))
@pytest.mark.parametrize("name", sorted(FIELD_STATES))
def test_general_field_rules(name: str, state: MigrationState, first: SelectionKind) -> None:
    expected = state.value in FIELD_STATES[name]
    if name == "selection" and first in (SelectionKind.RANGE, SelectionKind.INPUT_FILE):
        expected = False
    assert field_editable(name, state, first) is expected


@pytest.mark.parametrize("first", list(SelectionKind))
@pytest.mark.parametrize("state", list(MigrationState))
@pytest.mark.parametrize("name", ["account_batch_id", "product_type"])
def test_batch_and_product_type_only_when_not_first_saved_with_range_or_file(
    name: str, state: MigrationState, first: SelectionKind
) -> None:
    expected = state.value in P_N_H and first in (SelectionKind.BATCH, SelectionKind.PRODUCT_TYPE)
    assert field_editable(name, state, first) is expected


@pytest.mark.parametrize("state", list(MigrationState))
@pytest.mark.parametrize(
    "name", ["range_start", "range_end", "input_filename", "input_numbers", "service_provider"]
)
def test_range_and_input_file_never_change_after_the_first_save(
    name: str, state: MigrationState
) -> None:
    for first in SelectionKind:
        assert not field_editable(name, state, first)
    if state is S.MIGRATED:
        return
    with pytest.raises(DomainError) as err:
        check_editable([name], state, SelectionKind.RANGE)
    assert err.value.kind is ProblemKind.IMMUTABLE_FIELD
    assert err.value.field == name
    assert "first saved" in err.value.detail


def test_refusals_name_the_field_and_the_reason() -> None:
    with pytest.raises(DomainError) as err:
        check_editable(["max_wallets", "source_domain"], S.FAILED, SelectionKind.BATCH)
    assert err.value.field == "source_domain"
    assert "PNH" in err.value.detail or "states" in err.value.detail
    with pytest.raises(DomainError) as err:
        check_editable(["product_type"], S.PENDING, SelectionKind.INPUT_FILE)
    assert err.value.field == "product_type"
    assert "input file" in err.value.detail
    with pytest.raises(DomainError) as err:
        check_editable(["max_wallets"], S.MIGRATED, SelectionKind.BATCH)
    assert err.value.kind is ProblemKind.NOT_ALLOWED_IN_STATE
    with pytest.raises(DomainError) as err:
        check_editable(["colour"], S.PENDING, SelectionKind.BATCH)
    assert err.value.kind is ProblemKind.UNKNOWN_FIELD
    check_editable(["max_wallets", "throttle_per_s"], S.INCOMPLETE, SelectionKind.RANGE)


def fields(**changes: object) -> MigrationFields:
    base = MigrationFields(
        service_provider="sp1",
        source_domain="default",
        target_domain="east",
        selection=SelectionKind.RANGE,
        wallet_states=frozenset({WalletState.ACTIVE}),
        range_start="4416030000",
        range_end="4416030099",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"target_domain": "default"}, "target_domain"),
        ({"source_domain": "Bad Name"}, "source_domain"),
        ({"wallet_states": frozenset()}, "wallet_states"),
        ({"throttle_per_s": 0}, "throttle_per_s"),
        ({"throttle_per_s": 10_000}, "throttle_per_s"),
        ({"max_wallets": 0}, "max_wallets"),
        ({"range_start": None}, "range_start"),
        ({"range_end": "44160300x9"}, "range_end"),
        ({"range_end": "99"}, "range_end"),
        ({"range_end": "4416029999"}, "range_end"),
        ({"selection": SelectionKind.BATCH}, "account_batch_id"),
        ({"selection": SelectionKind.PRODUCT_TYPE}, "product_type"),
        ({"selection": SelectionKind.INPUT_FILE}, "input_numbers"),
        ({"selection": SelectionKind.INPUT_FILE, "input_numbers": ("12", "x")}, "input_numbers"),
        ({"remaining_filename": " spaced"}, "remaining_filename"),
    ],
)
def test_validation_names_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(DomainError) as err:
        validate_fields(fields(**changes))
    assert err.value.field == field


def test_validation_keeps_only_the_selected_criterion() -> None:
    checked = validate_fields(
        fields(selection=SelectionKind.PRODUCT_TYPE, product_type="gold", throttle_per_s=9999)
    )
    assert checked.range_start is None
    assert checked.range_end is None
    assert checked.product_type == "gold"
    assert validate_fields(fields(throttle_per_s=1)).range_start == "4416030000"


def test_input_file_is_one_number_per_line() -> None:
    assert parse_input_file("971559101709\n\n 971559101701 \r\n") == (
        "971559101709",
        "971559101701",
    )


def test_final_state() -> None:
    assert final_state(5, 5, 0, max_reached=False) is S.MIGRATED
    assert final_state(0, 0, 0, max_reached=False) is S.MIGRATED
    assert final_state(5, 4, 0, max_reached=False) is S.FAILED
    assert final_state(5, 2, 3, max_reached=True) is S.INCOMPLETE


def item(number: str, outcome: ItemOutcome, shared: tuple[str, ...] = ()) -> MigrationItem:
    return MigrationItem(int(number[-3:]), number, WalletType.PRIMARY, shared, outcome)


def test_report_in_the_manuals_format() -> None:
    migration = Migration(
        id=1,
        fields=fields(
            batch_id=84,
            wallet_states=frozenset(
                {
                    WalletState.PRE_USE,
                    WalletState.DORMANT,
                    WalletState.SUSPENDED,
                    WalletState.FROZEN,
                    WalletState.TERMINATED,
                }
            ),
        ),
        first_selection=SelectionKind.RANGE,
        state=S.FAILED,
        created_by="admin",
        created_at=datetime(2008, 6, 10, 10, 0, tzinfo=UTC),
        started_at=datetime(2008, 6, 10, 10, 27, 46, tzinfo=UTC),
        ended_at=datetime(2008, 6, 10, 10, 28, 13, tzinfo=UTC),
        wallets_total=4,
        wallets_moved=2,
        report=None,
    )
    items = [
        item("4416030025", ItemOutcome.MOVED, ("4416030099",)),
        item("4416030026", ItemOutcome.WRONG_STATE),
        item("4416030030", ItemOutcome.NOT_IN_SOURCE),
        item("4416030031", ItemOutcome.SOURCE_NOT_DELETED),
    ]
    assert compile_report(migration, items).splitlines() == [
        "State: Failure",
        "Source UBE: default",
        "Target UBE: east",
        "Batch: 84",
        "Allowed Wallet States: PDSFT",
        "Migration Start: 20080610102746",
        "Migration End: 20080610102813",
        "Migrations Completed: 2/4 (50%)",
        "Subscribers Not Migrated:",
        "4416030026 Primary: Wrong state",
        "4416030030 Primary: Doesn't exist in source domain",
        "Shared wallet subscribers also migrated:",
        "4416030099 (wallet 25 with 4416030025)",
        "Wallet Id failed deletion on source UBE:",
        "31",
    ]
    assert remaining_subscribers(items) == ["4416030026", "4416030030"]
    assert migration.end_or_progress() == "20080610102813"
    assert replace(migration, state=S.RUNNING).end_or_progress() == "50%"
