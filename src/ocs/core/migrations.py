"""Wallet migrations between charging domains (seed 003 "UBE Account Balancing"): the migration
record, its states and buttons, which fields may change in which state, and the report.

Everything here is pure: the service layer stores the record and runs it; these functions say
what is allowed and how the result reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from ocs.core.domains import DOMAIN_NAME
from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.wallets import WalletState, WalletType

THROTTLE_MIN = 1
THROTTLE_MAX = 9999
MAX_WALLETS_MAX = 10_000_000
NUMBER_DIGITS_MAX = 32
INPUT_LINES_MAX = 1_000_000
FILENAME_LENGTH_MAX = 255


class MigrationState(StrEnum):
    PENDING = "P"
    PRIORITY = "N"  # run next, before every pending one
    ON_HOLD = "H"  # pending, but not to be run yet
    PAUSED = "S"
    CANCELLED = "C"
    FAILED = "F"  # some wallets were not moved
    MIGRATED = "M"
    INCOMPLETE = "I"  # maximum wallets reached before the end
    RUNNING = "R"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[MigrationState, str] = {
    MigrationState.PENDING: "Pending",
    MigrationState.PRIORITY: "Priority",
    MigrationState.ON_HOLD: "On Hold",
    MigrationState.PAUSED: "Paused",
    MigrationState.CANCELLED: "Canceled",
    MigrationState.FAILED: "Failure",
    MigrationState.MIGRATED: "Migrated",
    MigrationState.INCOMPLETE: "Incomplete",
    MigrationState.RUNNING: "Running",
}

# The manual's row colours (CSS colour names / hex used by the console).
ROW_COLOURS: dict[MigrationState, str] = {
    MigrationState.PENDING: "white",
    MigrationState.PRIORITY: "lightyellow",
    MigrationState.ON_HOLD: "white",
    MigrationState.PAUSED: "#ffd8a8",  # light orange
    MigrationState.CANCELLED: "orange",
    MigrationState.FAILED: "red",
    MigrationState.MIGRATED: "#4d8fe0",  # blue (table text stays black)
    MigrationState.INCOMPLETE: "yellow",
    MigrationState.RUNNING: "#5cc85c",  # green
}


class RefreshGroup(StrEnum):
    COMPLETE = "complete"
    RUNNING = "running"
    PENDING = "pending"


def _states(letters: str) -> frozenset[MigrationState]:
    return frozenset(MigrationState(letter) for letter in letters)


# I and F are in both Complete and Pending, as the manual lists them.
REFRESH_GROUPS: dict[RefreshGroup, frozenset[MigrationState]] = {
    RefreshGroup.COMPLETE: _states("MCIF"),
    RefreshGroup.RUNNING: _states("R"),
    RefreshGroup.PENDING: _states("NPHSIF"),
}


def states_of_groups(groups: Iterable[RefreshGroup]) -> frozenset[MigrationState]:
    result: set[MigrationState] = set()
    for group in groups:
        result |= REFRESH_GROUPS[group]
    return frozenset(result)


class MigrationAction(StrEnum):
    PRIORITY = "priority"
    RESTART = "restart"
    PAUSE = "pause"
    HOLD = "hold"
    CANCEL = "cancel"
    REPORT = "report"
    SAVE = "save"
    DELETE = "delete"


# The buttons that change the state: the state they set and the states they are disabled in.
ACTION_TARGETS: dict[MigrationAction, MigrationState] = {
    MigrationAction.PRIORITY: MigrationState.PRIORITY,
    MigrationAction.RESTART: MigrationState.PENDING,
    MigrationAction.PAUSE: MigrationState.PAUSED,
    MigrationAction.HOLD: MigrationState.ON_HOLD,
    MigrationAction.CANCEL: MigrationState.CANCELLED,
}
ALL_STATES = frozenset(MigrationState)
ACTION_ALLOWED_IN: dict[MigrationAction, frozenset[MigrationState]] = {
    MigrationAction.PRIORITY: ALL_STATES - _states("NCRM"),
    MigrationAction.RESTART: ALL_STATES - _states("PCRM"),
    MigrationAction.PAUSE: _states("R"),
    # In S the Pause button turns into Hold.
    MigrationAction.HOLD: _states("S"),
    MigrationAction.CANCEL: ALL_STATES - _states("CRMFSI"),
    MigrationAction.SAVE: ALL_STATES - _states("M"),
    MigrationAction.DELETE: ALL_STATES - _states("R"),
    MigrationAction.REPORT: ALL_STATES,  # and only with a report
}


def allowed_actions(state: MigrationState, has_report: bool) -> frozenset[MigrationAction]:
    """The buttons enabled for a migration in `state`."""
    allowed = {a for a, states in ACTION_ALLOWED_IN.items() if state in states}
    if not has_report:
        allowed.discard(MigrationAction.REPORT)
    return frozenset(allowed)


def check_action(action: MigrationAction, state: MigrationState, has_report: bool) -> None:
    if action in allowed_actions(state, has_report):
        return
    if action is MigrationAction.REPORT and state in ACTION_ALLOWED_IN[action]:
        raise DomainError(ProblemKind.NOT_FOUND, "the migration has no report yet", "report")
    raise DomainError(
        ProblemKind.NOT_ALLOWED_IN_STATE,
        f"{action.value} is not allowed for a migration in state {state.value} ({state.label})",
        "state",
    )


class SelectionKind(StrEnum):
    """Which subscribers to migrate: exactly one of these."""

    RANGE = "RANGE"
    BATCH = "BATCH"
    INPUT_FILE = "INPUT_FILE"
    PRODUCT_TYPE = "PRODUCT_TYPE"


# Wallet states as the manual's report letters them ("Allowed Wallet States: PDSFT").
WALLET_STATE_LETTERS: dict[WalletState, str] = {
    WalletState.PRE_USE: "P",
    WalletState.ACTIVE: "A",
    WalletState.DORMANT: "D",
    WalletState.SUSPENDED: "S",
    WalletState.FROZEN: "F",
    WalletState.TERMINATED: "T",
}


def wallet_state_letters(states: Iterable[WalletState]) -> str:
    chosen = set(states)
    return "".join(letter for state, letter in WALLET_STATE_LETTERS.items() if state in chosen)


@dataclass(frozen=True)
class MigrationFields:
    """What the operator enters on the New/Edit Migration screen."""

    service_provider: str
    source_domain: str
    target_domain: str
    selection: SelectionKind
    wallet_states: frozenset[WalletState]
    range_start: str | None = None
    range_end: str | None = None
    account_batch_id: int | None = None
    input_filename: str | None = None
    # The subscriber numbers of the input file, one per line.
    input_numbers: tuple[str, ...] = ()
    product_type: str | None = None
    batch_id: int | None = None
    max_wallets: int | None = None
    throttle_per_s: int | None = None
    remaining_filename: str | None = None


@dataclass(frozen=True)
class Migration:
    id: int
    fields: MigrationFields
    # How the migration was first saved: a range or an input file fixes the selection.
    first_selection: SelectionKind
    state: MigrationState
    created_by: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    wallets_total: int
    wallets_moved: int
    report: str | None

    @property
    def progress_percent(self) -> int:
        return percent(self.wallets_moved, self.wallets_total)

    def end_or_progress(self) -> str:
        """The manual's "End Date/Progress" column."""
        if self.state is MigrationState.RUNNING:
            return f"{self.progress_percent}%"
        if self.ended_at is None:
            return ""
        return report_time(self.ended_at)


def percent(part: int, whole: int) -> int:
    """Whole percent, rounded down; an empty migration is complete."""
    return 100 if whole == 0 else part * 100 // whole


# -- field rules --------------------------------------------------------------------------------

EDIT_P_N_H = _states("PNH")
EDIT_P_N_H_I_F_S = _states("PNHIFS")
# Fields the operator may change after the first save, and the states they may change in.
FIELD_EDIT_STATES: dict[str, frozenset[MigrationState]] = {
    "source_domain": EDIT_P_N_H,
    "target_domain": EDIT_P_N_H,
    "selection": EDIT_P_N_H,
    "wallet_states": EDIT_P_N_H,
    "batch_id": EDIT_P_N_H,
    "account_batch_id": EDIT_P_N_H,
    "product_type": EDIT_P_N_H,
    "max_wallets": EDIT_P_N_H_I_F_S,
    "throttle_per_s": EDIT_P_N_H_I_F_S,
    "remaining_filename": EDIT_P_N_H_I_F_S,
}
# Never editable after the first save.
FIXED_FIELDS = frozenset(
    {"service_provider", "range_start", "range_end", "input_filename", "input_numbers"}
)
FIXING_SELECTIONS = frozenset({SelectionKind.RANGE, SelectionKind.INPUT_FILE})
EDITABLE_FIELDS = frozenset(FIELD_EDIT_STATES) | FIXED_FIELDS


def field_editable(name: str, state: MigrationState, first_selection: SelectionKind) -> bool:
    if name in FIXED_FIELDS:
        return False
    if name in ("account_batch_id", "product_type", "selection") and (
        first_selection in FIXING_SELECTIONS
    ):
        return False
    return state in FIELD_EDIT_STATES.get(name, frozenset())


def check_editable(
    changed: Iterable[str], state: MigrationState, first_selection: SelectionKind
) -> None:
    """Refuse the first changed field that may not change now, naming it."""
    check_action(MigrationAction.SAVE, state, has_report=False)
    for name in sorted(changed):
        if name not in EDITABLE_FIELDS:
            raise DomainError(ProblemKind.UNKNOWN_FIELD, f"no migration field {name!r}", name)
        if field_editable(name, state, first_selection):
            continue
        if name in FIXED_FIELDS:
            detail = f"{name} cannot be changed after the migration is first saved"
        elif first_selection in FIXING_SELECTIONS and name in (
            "account_batch_id",
            "product_type",
            "selection",
        ):
            how = (
                "a subscriber range" if first_selection is SelectionKind.RANGE else "an input file"
            )
            detail = f"{name} cannot be changed: the migration was first saved with {how}"
        else:
            letters = "".join(s.value for s in FIELD_EDIT_STATES[name])
            detail = f"{name} can only be changed in states {letters}, not {state.value}"
        raise DomainError(ProblemKind.IMMUTABLE_FIELD, detail, name)


def validate_fields(fields: MigrationFields) -> MigrationFields:
    """Check one whole record; returns it with the unused selection fields cleared."""
    for name in ("source_domain", "target_domain"):
        value = getattr(fields, name)
        if not DOMAIN_NAME.match(value or ""):
            raise invalid(name, f"{name} {value!r} is not a domain name")
    if fields.source_domain == fields.target_domain:
        raise invalid("target_domain", "target domain must differ from the source domain")
    if not fields.wallet_states:
        raise invalid("wallet_states", "select at least one wallet state to migrate")
    if fields.max_wallets is not None and not 1 <= fields.max_wallets <= MAX_WALLETS_MAX:
        raise invalid("max_wallets", f"maximum wallets must be 1-{MAX_WALLETS_MAX}")
    if fields.throttle_per_s is not None and not (
        THROTTLE_MIN <= fields.throttle_per_s <= THROTTLE_MAX
    ):
        raise invalid("throttle_per_s", f"throttle must be {THROTTLE_MIN}-{THROTTLE_MAX}")
    for name in ("input_filename", "remaining_filename"):
        value = getattr(fields, name)
        if value is not None and not _filename_ok(value):
            raise invalid(name, f"{name} must be a file name of 1-{FILENAME_LENGTH_MAX} characters")
    if fields.batch_id is not None and fields.batch_id < 1:
        raise invalid("batch_id", "batch id must be a positive number")
    return _clear_unused(_check_selection(fields))


def _filename_ok(name: str) -> bool:
    return 0 < len(name) <= FILENAME_LENGTH_MAX and "\x00" not in name and name.strip() == name


def _check_selection(fields: MigrationFields) -> MigrationFields:
    kind = fields.selection
    if kind is SelectionKind.RANGE:
        start = _number("range_start", fields.range_start)
        end = _number("range_end", fields.range_end)
        if len(start) != len(end):
            raise invalid("range_end", "range start and end must have the same number of digits")
        if int(end) < int(start):
            raise invalid("range_end", "range end must not be below range start")
    elif kind is SelectionKind.BATCH:
        if fields.account_batch_id is None or fields.account_batch_id < 1:
            raise invalid("account_batch_id", "select the subscriber batch to migrate")
    elif kind is SelectionKind.INPUT_FILE:
        if not fields.input_numbers:
            raise invalid("input_numbers", "the input file lists no subscriber numbers")
        if len(fields.input_numbers) > INPUT_LINES_MAX:
            raise invalid("input_numbers", f"the input file has more than {INPUT_LINES_MAX} lines")
        for line, number in enumerate(fields.input_numbers, start=1):
            if not number.isdigit() or len(number) > NUMBER_DIGITS_MAX:
                raise invalid("input_numbers", f"line {line}: {number[:40]!r} is not a number")
    elif not fields.product_type:
        raise invalid("product_type", "select the product type to migrate")
    return fields


def _number(name: str, value: str | None) -> str:
    if not value:
        raise invalid(name, f"{name} is required for a subscriber range")
    if not value.isdigit() or len(value) > NUMBER_DIGITS_MAX:
        raise invalid(name, f"{name} must be a subscriber number of 1-{NUMBER_DIGITS_MAX} digits")
    return value


def _clear_unused(fields: MigrationFields) -> MigrationFields:
    kind = fields.selection
    return replace(
        fields,
        range_start=fields.range_start if kind is SelectionKind.RANGE else None,
        range_end=fields.range_end if kind is SelectionKind.RANGE else None,
        account_batch_id=fields.account_batch_id if kind is SelectionKind.BATCH else None,
        input_filename=fields.input_filename if kind is SelectionKind.INPUT_FILE else None,
        input_numbers=fields.input_numbers if kind is SelectionKind.INPUT_FILE else (),
        product_type=fields.product_type if kind is SelectionKind.PRODUCT_TYPE else None,
    )


def parse_input_file(text: str) -> tuple[str, ...]:
    """One subscriber number per line; blank lines are skipped (the remaining-subscribers file
    this feature writes reads back unchanged)."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def changed_fields(old: MigrationFields, new: MigrationFields) -> list[str]:
    return [name for name in EDITABLE_FIELDS if getattr(old, name) != getattr(new, name)]


# -- the run ------------------------------------------------------------------------------------


class ItemOutcome(StrEnum):
    """What happened to one wallet of a migration."""

    PENDING = "PENDING"
    # Written (and committed) before the move is asked for, so a crash in the middle is found.
    MOVING = "MOVING"
    MOVED = "MOVED"
    SOURCE_NOT_DELETED = "SOURCE_NOT_DELETED"  # moved; the old copy is still on the source
    NOT_IN_SOURCE = "NOT_IN_SOURCE"
    WRONG_STATE = "WRONG_STATE"
    OPEN_RESERVATIONS = "OPEN_RESERVATIONS"

    @property
    def migrated(self) -> bool:
        return self in (ItemOutcome.MOVED, ItemOutcome.SOURCE_NOT_DELETED)

    @property
    def done(self) -> bool:
        return self not in (ItemOutcome.PENDING, ItemOutcome.MOVING)


NOT_MIGRATED_REASONS: dict[ItemOutcome, str] = {
    ItemOutcome.NOT_IN_SOURCE: "Doesn't exist in source domain",
    ItemOutcome.WRONG_STATE: "Wrong state",
    ItemOutcome.OPEN_RESERVATIONS: "Open reservations",
    ItemOutcome.PENDING: "Not attempted",
    ItemOutcome.MOVING: "Not attempted",
}


@dataclass(frozen=True)
class MigrationItem:
    """One wallet of a migration, named by the first selected subscriber linked to it."""

    wallet_id: int
    subscriber: str
    wallet_type: WalletType
    # Other subscribers sharing the wallet: they move with it.
    shared_subscribers: tuple[str, ...]
    outcome: ItemOutcome
    detail: str = ""


def final_state(items_total: int, moved: int, pending: int, max_reached: bool) -> MigrationState:
    """The state a run ends in once no wallet is left to try (or the maximum is reached)."""
    if pending and max_reached:
        return MigrationState.INCOMPLETE
    return MigrationState.MIGRATED if moved == items_total else MigrationState.FAILED


def report_time(at: datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S")


def compile_report(migration: Migration, items: Sequence[MigrationItem]) -> str:
    """The report in the manual's format ("Example exported report")."""
    fields = migration.fields
    moved = sum(1 for item in items if item.outcome.migrated)
    lines = [
        f"State: {migration.state.label}",
        f"Source UBE: {fields.source_domain}",
        f"Target UBE: {fields.target_domain}",
        f"Batch: {_batch_text(fields)}",
        f"Allowed Wallet States: {wallet_state_letters(fields.wallet_states)}",
        f"Migration Start: {report_time(migration.started_at) if migration.started_at else ''}",
        f"Migration End: {report_time(migration.ended_at) if migration.ended_at else ''}",
        f"Migrations Completed: {moved}/{len(items)} ({percent(moved, len(items))}%)",
        "Subscribers Not Migrated:",
    ]
    failed = [item for item in items if not item.outcome.migrated]
    lines += [
        f"{item.subscriber} {item.wallet_type.value.title()}: {NOT_MIGRATED_REASONS[item.outcome]}"
        for item in failed
    ] or ["None"]
    lines.append("Shared wallet subscribers also migrated:")
    lines += [
        f"{number} (wallet {item.wallet_id} with {item.subscriber})"
        for item in items
        if item.outcome.migrated
        for number in item.shared_subscribers
    ] or ["None"]
    lines.append("Wallet Id failed deletion on source UBE:")
    lines += [
        str(item.wallet_id) for item in items if item.outcome is ItemOutcome.SOURCE_NOT_DELETED
    ] or ["None"]
    return "\n".join(lines) + "\n"


def _batch_text(fields: MigrationFields) -> str:
    batch = fields.batch_id if fields.batch_id is not None else fields.account_batch_id
    return "" if batch is None else str(batch)


def remaining_subscribers(items: Sequence[MigrationItem]) -> list[str]:
    """Subscriber numbers whose wallet was not moved, once each, in item order: a file of them
    is an input file for a rerun."""
    seen: dict[str, None] = {}
    for item in items:
        if not item.outcome.migrated:
            seen.setdefault(item.subscriber, None)
    return list(seen)


def check_patch_keys(patch: Mapping[str, object]) -> None:
    for name in patch:
        if name not in EDITABLE_FIELDS:
            raise DomainError(ProblemKind.UNKNOWN_FIELD, f"no migration field {name!r}", name)


def parse_changes(data: Mapping[str, object]) -> dict[str, object]:
    """Plain values (JSON, CLI options) as typed migration fields; errors name the field."""
    check_patch_keys({k: v for k, v in data.items() if k != "selection"})
    result: dict[str, object] = {}
    for name, value in data.items():
        result[name] = _parse_one(name, value)
    return result


def _parse_one(name: str, value: object) -> object:
    if value is None:
        return () if name == "input_numbers" else None
    if name == "selection":
        try:
            return SelectionKind(str(value).upper())
        except ValueError:
            kinds = ", ".join(k.value for k in SelectionKind)
            raise invalid(name, f"selection must be one of {kinds}") from None
    if name == "wallet_states":
        return _parse_wallet_states(value)
    if name == "input_numbers":
        if isinstance(value, str):
            return parse_input_file(value)
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(v.strip() for v in value if v.strip())
        raise invalid(name, "input_numbers must be the input file's text")
    if name in ("account_batch_id", "batch_id", "max_wallets", "throttle_per_s"):
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise invalid(name, f"{name} must be a whole number")
        try:
            return int(value)
        except ValueError:
            raise invalid(name, f"{name} must be a whole number") from None
    if not isinstance(value, str):
        raise invalid(name, f"{name} must be text")
    return value.strip() or None


def _parse_wallet_states(value: object) -> frozenset[WalletState]:
    """Names (["ACTIVE", "DORMANT"]) or the report's letters ("AD")."""
    letters = {letter: state for state, letter in WALLET_STATE_LETTERS.items()}
    items: list[str]
    if isinstance(value, str):
        items = value.replace(",", " ").split()
        if len(items) == 1 and items[0].upper() not in WalletState.__members__:
            items = list(items[0])
    elif isinstance(value, list | tuple | set | frozenset):
        items = [str(v) for v in value]
    else:
        raise invalid("wallet_states", "wallet_states must be a list of wallet states")
    states: set[WalletState] = set()
    for item in items:
        key = item.strip().upper()
        if key in WalletState.__members__:
            states.add(WalletState(key))
        elif key in letters:
            states.add(letters[key])
        else:
            raise invalid("wallet_states", f"{item!r} is not a wallet state")
    return frozenset(states)


def fields_from(data: Mapping[str, object]) -> MigrationFields:
    """A new migration's fields from plain values."""
    parsed = parse_changes(data)
    for name in ("service_provider", "source_domain", "target_domain", "selection"):
        if parsed.get(name) is None:
            raise DomainError(ProblemKind.MISSING_FIELD, f"{name} is required", name)
    if "wallet_states" not in parsed:
        raise DomainError(
            ProblemKind.MISSING_FIELD, "select at least one wallet state", "wallet_states"
        )
    return MigrationFields(**parsed)  # type: ignore[arg-type]
