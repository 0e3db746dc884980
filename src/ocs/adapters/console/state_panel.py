"""The state panel of the customer, account and subscriber screens: state, history, pending."""

from __future__ import annotations

from dataclasses import dataclass

from ocs.core.casm import CasmLevel, StateChange, StateChangeStatus
from ocs.core.configuration import ConfigKind
from ocs.core.states import ALLOWED_TRANSITIONS, EntityState

from .forms import FormState
from .page import Page
from .views_config import Option, option_label


@dataclass(frozen=True)
class StatePanel:
    level: CasmLevel
    entity_id: int
    state: EntityState
    reason: str | None
    targets: tuple[EntityState, ...]
    reasons: tuple[Option, ...]
    changes: tuple[StateChange, ...]
    form: FormState

    @property
    def action(self) -> str:
        return f"/{self.level.value}s/{self.entity_id}/state"

    @property
    def changes_action(self) -> str:
        return f"/{self.level.value}s/{self.entity_id}/state-changes"

    @property
    def target_options(self) -> tuple[Option, ...]:
        return tuple((s.value, s.value) for s in self.targets)

    @property
    def pending(self) -> bool:
        return any(c.status == StateChangeStatus.PENDING for c in self.changes)


def state_panel(
    page: Page,
    level: CasmLevel,
    entity_id: int,
    state: EntityState,
    reason: str | None,
    form: FormState | None = None,
) -> StatePanel:
    services = page.services
    changes = services.casm.list_state_changes(page.operator, level, entity_id)
    reasons = services.configuration.list_records(page.operator, ConfigKind.STATE_REASON)
    return StatePanel(
        level=level,
        entity_id=entity_id,
        state=state,
        reason=reason,
        targets=tuple(s for s in EntityState if s in ALLOWED_TRANSITIONS[state]),
        reasons=tuple((str(r["code"]), option_label(r)) for r in reasons),
        changes=tuple(sorted(changes, key=lambda c: c.id, reverse=True)),
        form=form or FormState(),
    )
