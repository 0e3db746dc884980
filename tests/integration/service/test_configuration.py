"""Every configuration kind and rule, on SQLite and PostgreSQL, through the service layer."""

from __future__ import annotations

import pytest

from ocs.bootstrap import Services
from ocs.core.configuration import SPECS, ConfigKind
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.security import ROLE_PRIVILEGES, Privilege, Role
from ocs.service.actor import Actor
from tests.support.catalog import BASICS, OTHER_PROVIDER, PROVIDER, load_basics


def _refused(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_every_kind_supports_create_read_list_update_delete(
    services: Services, admin: Actor
) -> None:
    cfg = services.configuration
    load_basics(services, admin)
    created = {kind for kind, _ in BASICS}
    extra = {
        ConfigKind.CHARGING_CLASS: {"code": "ALL", "name": "All"},
        ConfigKind.TIME_BAND: {"code": "PEAK", "name": "Peak", "weekdays": "MON-FRI",
                               "start_time": "08:00", "end_time": "18:00"},
        ConfigKind.TARIFF_PLAN: {"code": "STD", "name": "Standard", "currency": "EUR"},
        ConfigKind.TARIFF_RATE: {"code": "STD-V", "name": "Voice", "tariff_plan": "STD",
                                 "charging_class": "ALL", "destination_prefix": "31",
                                 "time_band": "PEAK", "unit": "SECONDS", "price": 10,
                                 "unit_size": 60, "rounding_unit": 60},
        ConfigKind.RATING_GROUP: {"code": "RG10", "name": "Internet", "rating_group": 10,
                                  "charging_class": "ALL", "unit": "OCTETS"},
        ConfigKind.BALANCE_TYPE: {"code": "CASH", "name": "Cash", "unit": "MONEY",
                                  "currency": "EUR"},
        ConfigKind.BALANCE_TYPE_CLASS: {"code": "CASH-ALL", "name": "Cash for all",
                                        "balance_type": "CASH", "charging_class": "ALL",
                                        "include_sub_classes": True},
        ConfigKind.PRODUCT_TYPE: {"code": "PT", "name": "Prepaid", "service_provider": PROVIDER,
                                  "tariff_plan": "STD"},
    }  # fmt: skip
    for kind, payload in extra.items():
        cfg.create(admin, kind, payload)
    assert created | set(extra) == set(ConfigKind)
    for kind, payload in (*BASICS, *extra.items()):
        code = str(payload["code"])
        assert cfg.get(admin, kind, code)["name"] == payload["name"]
        assert code in {r["code"] for r in cfg.list_records(admin, kind)}
        updated = cfg.update(admin, kind, code, {"description": f"about {code}"})
        assert cfg.get(admin, kind, code) == updated
        assert updated["description"] == f"about {code}"
    # Delete in reverse dependency order: nothing is in use any more by then.
    for kind, payload in reversed((*BASICS, *extra.items())):
        cfg.delete(admin, kind, str(payload["code"]))
    for kind in ConfigKind:
        assert cfg.list_records(admin, kind) == []


def test_duplicate_code_is_refused(services: Services, admin: Actor) -> None:
    cfg = services.configuration
    cfg.create(admin, ConfigKind.ACCOUNT_TYPE, {"code": "PAYER", "name": "Payer"})
    error = _refused(cfg.create, admin, ConfigKind.ACCOUNT_TYPE, {"code": "PAYER", "name": "x"})
    assert (error.kind, error.field) == (ProblemKind.DUPLICATE, "code")
    assert error.detail == "Account type with code 'PAYER' already exists"
    assert cfg.get(admin, ConfigKind.ACCOUNT_TYPE, "PAYER")["name"] == "Payer"


def test_code_cannot_change(services: Services, admin: Actor) -> None:
    cfg = services.configuration
    cfg.create(admin, ConfigKind.CUSTOMER_SEGMENT, {"code": "RES", "name": "Residential"})
    error = _refused(cfg.update, admin, ConfigKind.CUSTOMER_SEGMENT, "RES", {"code": "RES2"})
    assert (error.kind, error.field) == (ProblemKind.IMMUTABLE_FIELD, "code")
    assert [r["code"] for r in cfg.list_records(admin, ConfigKind.CUSTOMER_SEGMENT)] == ["RES"]


def test_only_one_primary_resource_type(services: Services, admin: Actor) -> None:
    cfg = services.configuration
    cfg.create(admin, ConfigKind.RESOURCE_TYPE, {"code": "IMSI", "name": "IMSI", "primary": True})
    payload = {"code": "MSISDN", "name": "MSISDN", "primary": True}
    error = _refused(cfg.create, admin, ConfigKind.RESOURCE_TYPE, payload)
    assert (error.kind, error.field) == (ProblemKind.CONFLICT, "primary")
    assert "'IMSI' is already primary" in error.detail
    cfg.create(admin, ConfigKind.RESOURCE_TYPE, {"code": "MSISDN", "name": "MSISDN"})
    error = _refused(cfg.update, admin, ConfigKind.RESOURCE_TYPE, "MSISDN", {"primary": True})
    assert error.kind is ProblemKind.CONFLICT
    # Moving the primary flag: clear it first, then set it elsewhere.
    cfg.update(admin, ConfigKind.RESOURCE_TYPE, "IMSI", {"primary": False})
    assert cfg.update(admin, ConfigKind.RESOURCE_TYPE, "MSISDN", {"primary": True})["primary"]


def test_profile_state_reason_must_belong_to_the_profile_state(
    services: Services, admin: Actor
) -> None:
    load_basics(services, admin)
    payload = {"code": "CP2", "name": "x", "customer_state": "ACTIVE",
               "customer_state_reason": "DEBT"}  # fmt: skip
    error = _refused(services.configuration.create, admin, ConfigKind.CUSTOMER_PROFILE, payload)
    assert (error.kind, error.field) == (ProblemKind.STATE_REASON_MISMATCH, "customer_state_reason")
    assert error.detail == "state reason 'DEBT' is for state SUSPENDED, not ACTIVE"


def test_unknown_reference_names_the_field(services: Services, admin: Actor) -> None:
    load_basics(services, admin)
    payload = {"code": "AP2", "name": "x", "account_type": "PAYER", "billing_cycle": "WEEKLY"}
    error = _refused(services.configuration.create, admin, ConfigKind.ACCOUNT_PROFILE, payload)
    assert (error.kind, error.field) == (ProblemKind.UNKNOWN_REFERENCE, "billing_cycle")
    assert services.configuration.list_records(admin, ConfigKind.ACCOUNT_PROFILE)[0]["code"] == "AP"


def test_delete_in_use_is_refused(services: Services, admin: Actor) -> None:
    load_basics(services, admin)
    error = _refused(services.configuration.delete, admin, ConfigKind.ACCOUNT_TYPE, "PAYER")
    assert error.kind is ProblemKind.IN_USE
    assert "account-profiles" in error.detail
    assert services.configuration.get(admin, ConfigKind.ACCOUNT_TYPE, "PAYER")


def test_charging_classes_form_a_tree_without_cycles(services: Services, admin: Actor) -> None:
    cfg = services.configuration
    cfg.create(admin, ConfigKind.CHARGING_CLASS, {"code": "ALL", "name": "All"})
    cfg.create(admin, ConfigKind.CHARGING_CLASS, {"code": "VOICE", "name": "V", "parent": "ALL"})
    cfg.create(admin, ConfigKind.CHARGING_CLASS, {"code": "NAT", "name": "N", "parent": "VOICE"})
    error = _refused(cfg.update, admin, ConfigKind.CHARGING_CLASS, "ALL", {"parent": "NAT"})
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "parent")
    assert cfg.get(admin, ConfigKind.CHARGING_CLASS, "ALL")["parent"] is None


def test_product_types_are_scoped_to_service_providers(services: Services, admin: Actor) -> None:
    load_basics(services, admin)
    cfg = services.configuration
    cfg.create(admin, ConfigKind.PRODUCT_TYPE,
               {"code": "PT1", "name": "a", "service_provider": PROVIDER})  # fmt: skip
    cfg.create(admin, ConfigKind.PRODUCT_TYPE,
               {"code": "PT2", "name": "b", "service_provider": OTHER_PROVIDER})  # fmt: skip
    limited = Actor("sp1-op", ROLE_PRIVILEGES[Role.CREATE_DELETE], frozenset({PROVIDER}))
    assert [r["code"] for r in cfg.list_records(limited, ConfigKind.PRODUCT_TYPE)] == ["PT1"]
    assert [r["code"] for r in cfg.list_records(limited, ConfigKind.SERVICE_PROVIDER)] == [PROVIDER]
    assert _refused(cfg.get, limited, ConfigKind.PRODUCT_TYPE, "PT2").kind is ProblemKind.NOT_FOUND
    payload = {"code": "PT3", "name": "c", "service_provider": OTHER_PROVIDER}
    error = _refused(cfg.create, limited, ConfigKind.PRODUCT_TYPE, payload)
    assert (error.kind, error.field) == (ProblemKind.FORBIDDEN, "service_provider")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.READ_ONLY, set()),
        (Role.READ_MODIFY, {"update"}),
        (Role.CREATE_DELETE, {"create", "update", "delete"}),
    ],
)
def test_privileges_gate_each_action(
    services: Services, admin: Actor, role: Role, allowed: set[str]
) -> None:
    cfg = services.configuration
    cfg.create(admin, ConfigKind.ACCOUNT_SEGMENT, {"code": "STD", "name": "Standard"})
    actor = Actor("op", ROLE_PRIVILEGES[role])
    assert cfg.list_records(actor, ConfigKind.ACCOUNT_SEGMENT)[0]["code"] == "STD"
    actions = {
        "create": lambda: cfg.create(actor, ConfigKind.ACCOUNT_SEGMENT, {"code": "N", "name": "n"}),
        "update": lambda: cfg.update(actor, ConfigKind.ACCOUNT_SEGMENT, "STD", {"name": "S"}),
        "delete": lambda: cfg.delete(actor, ConfigKind.ACCOUNT_SEGMENT, "STD"),
    }
    for name, action in actions.items():
        if name in allowed:
            action()
        else:
            error = _refused(action)
            assert error.kind is ProblemKind.FORBIDDEN
            assert "lacks the" in error.detail


def test_service_providers_need_admin(services: Services) -> None:
    actor = Actor("op", ROLE_PRIVILEGES[Role.OPERATOR])
    payload = {"code": "SPX", "name": "x"}
    error = _refused(services.configuration.create, actor, ConfigKind.SERVICE_PROVIDER, payload)
    assert (error.kind, error.detail) == (
        ProblemKind.FORBIDDEN,
        "operator 'op' lacks the 'admin' privilege",
    )
    assert Privilege.ADMIN not in actor.privileges


def test_auditing_requires_a_change_reason_and_records_it(services: Services, admin: Actor) -> None:
    services.operators.set_edr_auditing(admin, True)
    cfg = services.configuration
    payload = {"code": "RES", "name": "Residential"}
    error = _refused(cfg.create, admin, ConfigKind.CUSTOMER_SEGMENT, payload)
    assert (error.kind, error.field) == (ProblemKind.CHANGE_REASON_REQUIRED, "change_reason")
    assert cfg.list_records(admin, ConfigKind.CUSTOMER_SEGMENT) == []
    too_long = admin.with_reason("x" * 201)
    error = _refused(cfg.create, too_long, ConfigKind.CUSTOMER_SEGMENT, payload)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, "change_reason")
    cfg.create(admin.with_reason("new segment for ticket 42"), ConfigKind.CUSTOMER_SEGMENT, payload)
    entry = services.operators.audit_trail(admin, "customer-segments", 10)[0]
    assert (entry.operator, entry.action, entry.entity_key) == ("tester", "create", "RES")
    assert entry.change_reason == "new segment for ticket 42"


def test_spec_labels_are_unique() -> None:
    labels = [spec.label for spec in SPECS.values()]
    assert len(labels) == len(set(labels))


def test_rating_group_maps_to_one_charging_class(services: Services, admin: Actor) -> None:
    cfg = services.configuration
    cfg.create(admin, ConfigKind.CHARGING_CLASS, {"code": "DATA", "name": "Data"})
    base = {"name": "x", "charging_class": "DATA", "unit": "OCTETS", "rating_group": 10}
    cfg.create(admin, ConfigKind.RATING_GROUP, {**base, "code": "RG10"})
    cfg.create(admin, ConfigKind.RATING_GROUP, {**base, "code": "RG10-S1", "service_identifier": 1})
    error = _refused(cfg.create, admin, ConfigKind.RATING_GROUP, {**base, "code": "RG10B"})
    assert (error.kind, error.field) == (ProblemKind.DUPLICATE, "rating_group")
    assert "already mapped by 'RG10'" in error.detail


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"weekdays": "MONDAYS"}, "weekdays"),
        ({"start_time": "8:00"}, "start_time"),
        ({"end_time": "08:00"}, "end_time"),
    ],
)
def test_time_band_fields_are_validated(
    services: Services, admin: Actor, change: dict[str, object], field: str
) -> None:
    payload = {"code": "B", "name": "b", "weekdays": "SAT,SUN", "start_time": "08:00",
               "end_time": "20:00", **change}  # fmt: skip
    error = _refused(services.configuration.create, admin, ConfigKind.TIME_BAND, payload)
    assert (error.kind, error.field) == (ProblemKind.INVALID_VALUE, field)
