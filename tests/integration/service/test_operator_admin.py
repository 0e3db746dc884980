"""Operator administration behind the console: role and providers, deactivation, passwords."""

from __future__ import annotations

import pytest

from ocs.bootstrap import Services
from ocs.core.configuration import ConfigKind
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import Role
from ocs.service.actor import Actor


@pytest.fixture
def provider(services: Services, admin: Actor) -> str:
    services.configuration.create(
        admin, ConfigKind.SERVICE_PROVIDER, {"code": "SP1", "name": "Provider one"}
    )
    return "SP1"


def test_update_changes_role_and_providers_and_is_audited(
    services: Services, admin: Actor, provider: str
) -> None:
    operators = services.operators
    operators.create(admin, "olga", "olga-password-1", Role.READ_ONLY.value)
    changed = operators.update(admin, "olga", Role.OPERATOR.value, frozenset({provider}))
    assert (changed.role, changed.service_providers) == ("operator", frozenset({provider}))
    actor = operators.authenticate("olga", "olga-password-1")
    assert actor.service_providers == frozenset({provider})
    assert "execute" in actor.privileges
    entry = operators.audit_trail(admin, "operator", 1)[0]
    assert (entry.action, entry.entity_key) == ("update", "olga")
    assert entry.detail == {"role": "operator", "service_providers": [provider]}


def test_update_refuses_unknown_provider_role_operator_and_own_demotion(
    services: Services, admin: Actor, provider: str
) -> None:
    operators = services.operators
    operators.create(admin, "olga", "olga-password-1", Role.READ_ONLY.value)
    with pytest.raises(DomainError) as unknown:
        operators.update(admin, "olga", "read_only", frozenset({"NOPE"}))
    assert (unknown.value.kind, unknown.value.field) == (
        ProblemKind.UNKNOWN_REFERENCE,
        "service_providers",
    )
    with pytest.raises(DomainError) as role:
        operators.update(admin, "olga", "superuser")
    assert role.value.field == "role"
    with pytest.raises(DomainError) as missing:
        operators.update(admin, "nobody", "read_only")
    assert missing.value.kind is ProblemKind.NOT_FOUND
    with pytest.raises(DomainError) as own:
        operators.update(admin, admin.username, "read_only")
    assert own.value.field == "role"
    olga = next(o for o in operators.list_operators(admin) if o.username == "olga")
    assert (olga.role, olga.service_providers) == ("read_only", None)


def test_deactivated_operator_cannot_sign_in_until_reactivated(
    services: Services, admin: Actor
) -> None:
    operators = services.operators
    operators.create(admin, "olga", "olga-password-1", Role.READ_MODIFY.value)
    token, _ = operators.issue_token("olga", "olga-password-1")
    assert operators.set_active(admin, "olga", False).active is False
    with pytest.raises(DomainError) as refused:
        operators.authenticate("olga", "olga-password-1")
    assert refused.value.kind is ProblemKind.UNAUTHENTICATED
    with pytest.raises(DomainError):
        operators.actor_for_token(token)
    assert operators.audit_trail(admin, "operator", 1)[0].action == "deactivate"
    operators.set_active(admin, "olga", True)
    assert operators.authenticate("olga", "olga-password-1").username == "olga"


def test_admin_cannot_deactivate_themselves_and_others_may_not_administer(
    services: Services, admin: Actor
) -> None:
    operators = services.operators
    with pytest.raises(DomainError) as own:
        operators.set_active(admin, admin.username, False)
    assert own.value.field == "active"
    operators.create(admin, "olga", "olga-password-1", Role.OPERATOR.value)
    olga = operators.authenticate("olga", "olga-password-1")
    for attempt in (
        lambda: operators.update(olga, "olga", "admin"),
        lambda: operators.set_active(olga, "olga", True),
    ):
        with pytest.raises(DomainError) as forbidden:
            attempt()
        assert forbidden.value.kind is ProblemKind.FORBIDDEN


def test_password_reset_replaces_the_old_password(services: Services, admin: Actor) -> None:
    operators = services.operators
    operators.create(admin, "olga", "olga-password-1", Role.READ_ONLY.value)
    operators.set_password(admin, "olga", "olga-password-2")
    with pytest.raises(DomainError):
        operators.authenticate("olga", "olga-password-1")
    assert operators.authenticate("olga", "olga-password-2").username == "olga"
