"""Form state for re-rendering after a refusal, and form fields -> typed service input."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ocs.core.configuration import EntitySpec, FieldSpec, FieldType, FieldValue
from ocs.core.errors import DomainError, invalid


@dataclass
class FormState:
    """What a form shows: the values entered, and errors by field (or for the whole form)."""

    values: Mapping[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    status: int = 200  # the HTTP status of the page that shows this form

    def value(self, name: str, default: object = "") -> str:
        if name in self.values:
            return self.values[name]
        return "" if default is None else str(default)

    def checked(self, name: str, default: object = False) -> bool:
        if self.values:
            return name in self.values
        return bool(default)

    @classmethod
    def failed(
        cls,
        exc: DomainError,
        status: int,
        values: Mapping[str, str],
        fields: Collection[str],
        aliases: Mapping[str, str] | None = None,
    ) -> FormState:
        """Place the service's error next to the field it names, else above the form."""
        name = exc.field
        if name is not None and aliases:
            name = aliases.get(name, name)
        if name is not None and name in fields:
            return cls(values, errors={name: exc.detail}, status=status)
        return cls(values, general=[exc.detail], status=status)


def text(form: Mapping[str, str], name: str) -> str | None:
    """A trimmed text field; empty means not given."""
    value = form.get(name, "").strip()
    return value or None


def integer(form: Mapping[str, str], name: str) -> int | None:
    value = text(form, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid(name, f"{name.replace('_', ' ')} must be a whole number") from None


def utc_datetime(form: Mapping[str, str], name: str) -> datetime | None:
    """A datetime-local field read as UTC."""
    value = text(form, name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(name, f"{name.replace('_', ' ')} must be a date and time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def config_value(spec: FieldSpec, form: Mapping[str, str]) -> FieldValue:
    if spec.type is FieldType.BOOL:
        return spec.name in form
    if spec.type is FieldType.INT:
        return integer(form, spec.name)
    return text(form, spec.name)


def config_payload(spec: EntitySpec, form: Mapping[str, str], with_code: bool) -> dict[str, object]:
    """Every field of a configuration entity from its form; `code` only when creating."""
    return {f.name: config_value(f, form) for f in spec.fields if with_code or f.name != "code"}
