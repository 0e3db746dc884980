from __future__ import annotations

import json

from ocs.adapters.rest.problems import STATUS_BY_KIND, problem
from ocs.core.errors import ProblemKind


def test_every_problem_kind_has_an_http_status() -> None:
    assert set(STATUS_BY_KIND) == set(ProblemKind)
    assert all(400 <= status < 600 for status in STATUS_BY_KIND.values())


def test_problem_body_names_type_and_field() -> None:
    response = problem(ProblemKind.DUPLICATE, "code 'X' exists", "code")
    assert response.status_code == 409
    assert response.media_type == "application/problem+json"
    assert json.loads(bytes(response.body)) == {
        "type": "urn:ocs:problem:duplicate",
        "title": "duplicate",
        "status": 409,
        "detail": "code 'X' exists",
        "field": "code",
    }
