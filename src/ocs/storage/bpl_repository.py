"""SQL implementation of the BPL task port: definitions as JSON, saved values, runs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from ocs.core.bpl import (
    ACTION_INPUTS,
    Action,
    ActionEffect,
    ActionKind,
    Binding,
    Parameter,
    ParameterType,
    Run,
    RunMode,
    SavedValues,
    Task,
    Value,
    coerce,
    plain_values,
)
from ocs.storage import bpl_tables as b


def encode_definition(task: Task) -> str:
    parameters = [
        {
            "name": p.name,
            "type": p.type.value,
            "mandatory": p.mandatory,
            "default": None if p.default is None else plain_values({"d": p.default})["d"],
            "choices": list(p.choices),
        }
        for p in task.parameters
    ]
    actions = [
        {
            "kind": a.kind.value,
            "inputs": {name: _binding_json(binding) for name, binding in a.inputs.items()},
        }
        for a in task.actions
    ]
    return json.dumps({"parameters": parameters, "actions": actions}, sort_keys=True)


def _binding_json(binding: Binding) -> dict[str, object]:
    if binding.parameter is not None:
        return {"parameter": binding.parameter}
    assert binding.value is not None  # the task checks keep only filled-in inputs
    return {"value": plain_values({"v": binding.value})["v"]}


def decode_definition(text: str) -> tuple[tuple[Parameter, ...], tuple[Action, ...]]:
    data = json.loads(text)
    parameters = []
    for p in data["parameters"]:
        parameter = Parameter(
            p["name"], ParameterType(p["type"]), p["mandatory"], None, tuple(p["choices"])
        )
        if p["default"] is not None:
            default = coerce(parameter, p["default"], "default")
            parameter = Parameter(
                parameter.name, parameter.type, parameter.mandatory, default, parameter.choices
            )
        parameters.append(parameter)
    actions = []
    for a in data["actions"]:
        kind = ActionKind(a["kind"])
        types = {spec.name: spec.types[0] for spec in ACTION_INPUTS[kind]}
        inputs: dict[str, Binding] = {}
        for name, raw in a["inputs"].items():
            if "parameter" in raw:
                inputs[name] = Binding(parameter=raw["parameter"])
            else:
                value = coerce(Parameter(name, types[name]), raw["value"], name)
                inputs[name] = Binding(value=value)
        actions.append(Action(kind, inputs))
    return tuple(parameters), tuple(actions)


def _task(row: Any) -> Task:
    m = row._mapping
    parameters, actions = decode_definition(m["definition"])
    return Task(
        id=m["id"],
        service_provider=m["service_provider"],
        name=m["name"],
        description=m["description"],
        parameters=parameters,
        actions=actions,
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _values_text(values: Mapping[str, Value]) -> str:
    return json.dumps(plain_values(values), sort_keys=True)


def _effects_text(effects: tuple[ActionEffect, ...]) -> str:
    return json.dumps(
        [
            {
                "index": e.index,
                "kind": e.kind.value,
                "wallet_id": e.wallet_id,
                "edr_id": e.edr_id,
                "detail": dict(e.detail),
            }
            for e in effects
        ],
        sort_keys=True,
        default=str,
    )


def _effects(text: str) -> tuple[ActionEffect, ...]:
    return tuple(
        ActionEffect(e["index"], ActionKind(e["kind"]), e["wallet_id"], e["edr_id"], e["detail"])
        for e in json.loads(text)
    )


class SqlBplRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _task_values(self, task: Task) -> dict[str, object]:
        return {
            "service_provider": task.service_provider,
            "name": task.name,
            "description": task.description,
            "definition": encode_definition(task),
            "updated_at": task.updated_at,
        }

    def insert_task(self, task: Task) -> int:
        values = {**self._task_values(task), "created_at": task.created_at}
        result = self.conn.execute(insert(b.bpl_tasks).values(**values).returning(b.bpl_tasks.c.id))
        return int(result.scalar_one())

    def update_task(self, task: Task) -> None:
        c = b.bpl_tasks.c
        self.conn.execute(
            update(b.bpl_tasks).where(c.id == task.id).values(**self._task_values(task))
        )

    def get_task(self, task_id: int) -> Task | None:
        row = self.conn.execute(select(b.bpl_tasks).where(b.bpl_tasks.c.id == task_id)).first()
        return None if row is None else _task(row)

    def task_id_by_name(self, provider: str, name: str) -> int | None:
        c = b.bpl_tasks.c
        return self.conn.scalar(select(c.id).where(c.service_provider == provider, c.name == name))

    def list_tasks(self, providers: frozenset[str] | None, limit: int) -> list[Task]:
        c = b.bpl_tasks.c
        query = select(b.bpl_tasks).order_by(c.service_provider, c.name).limit(limit)
        if providers is not None:
            query = query.where(c.service_provider.in_(sorted(providers)))
        return [_task(row) for row in self.conn.execute(query)]

    def count_tasks(self, provider: str) -> int:
        c = b.bpl_tasks.c
        query = select(func.count()).select_from(b.bpl_tasks).where(c.service_provider == provider)
        return int(self.conn.scalar(query) or 0)

    def delete_task(self, task_id: int) -> None:
        self.conn.execute(delete(b.bpl_saved_values).where(b.bpl_saved_values.c.task_id == task_id))
        self.conn.execute(delete(b.bpl_tasks).where(b.bpl_tasks.c.id == task_id))

    def get_saved(self, task_id: int, subscriber_id: int) -> SavedValues | None:
        c = b.bpl_saved_values.c
        query = select(b.bpl_saved_values).where(
            c.task_id == task_id, c.subscriber_id == subscriber_id
        )
        row = self.conn.execute(query).first()
        if row is None:
            return None
        m = row._mapping
        return SavedValues(
            m["task_id"],
            m["subscriber_id"],
            json.loads(m["entered_values"]),
            m["saved_at"],
            m["saved_by"],
        )

    def put_saved(self, saved: SavedValues) -> None:
        c = b.bpl_saved_values.c
        where = (c.task_id == saved.task_id) & (c.subscriber_id == saved.subscriber_id)
        self.conn.execute(delete(b.bpl_saved_values).where(where))
        self.conn.execute(
            insert(b.bpl_saved_values).values(
                task_id=saved.task_id,
                subscriber_id=saved.subscriber_id,
                entered_values=_values_text(saved.values),
                saved_at=saved.saved_at,
                saved_by=saved.saved_by,
            )
        )

    def insert_run(self, run: Run) -> int:
        result = self.conn.execute(
            insert(b.bpl_runs)
            .values(
                task_id=run.task_id,
                task_name=run.task_name,
                subscriber_id=run.subscriber_id,
                mode=run.mode.value,
                at=run.at,
                operator=run.operator,
                entered_values=_values_text(run.values),
                effects=_effects_text(run.effects),
            )
            .returning(b.bpl_runs.c.id)
        )
        return int(result.scalar_one())

    def set_run_effects(self, run_id: int, effects: tuple[ActionEffect, ...]) -> None:
        c = b.bpl_runs.c
        self.conn.execute(
            update(b.bpl_runs).where(c.id == run_id).values(effects=_effects_text(effects))
        )

    def list_runs(self, subscriber_id: int, limit: int) -> list[Run]:
        c = b.bpl_runs.c
        query = (
            select(b.bpl_runs)
            .where(c.subscriber_id == subscriber_id)
            .order_by(c.at.desc(), c.id.desc())
            .limit(limit)
        )
        runs = []
        for row in self.conn.execute(query):
            m = row._mapping
            runs.append(
                Run(
                    id=m["id"],
                    task_id=m["task_id"],
                    task_name=m["task_name"],
                    subscriber_id=m["subscriber_id"],
                    mode=RunMode(m["mode"]),
                    at=m["at"],
                    operator=m["operator"],
                    values=json.loads(m["entered_values"]),
                    effects=_effects(m["effects"]),
                )
            )
        return runs
