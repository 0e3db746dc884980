"""The dashboard: live counts and the most recent problem responses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.adapters.problem_log import ProblemLog
from ocs.service.charging_monitor import RATE_WINDOW_S

from .page import Page, operator_page

router = APIRouter()

DASHBOARD_POLL_S = 5
DASHBOARD_PROBLEMS_MAX = 10


def _live(page: Page) -> dict[str, Any]:
    log: ProblemLog = page.request.app.state.problem_log
    return {
        "counts": page.services.casm.counts(page.operator, page.provider),
        "charging": page.services.charging_monitor.stats(page.operator),
        "problems": log.recent(DASHBOARD_PROBLEMS_MAX),
        "poll_s": DASHBOARD_POLL_S,
        "rate_window_s": int(RATE_WINDOW_S),
    }


@router.get("/")
def dashboard(page: Page = Depends(operator_page)) -> Response:
    return page.render("dashboard.html", title="Dashboard", section="dashboard", **_live(page))


@router.get("/dashboard/live")
def dashboard_live(page: Page = Depends(operator_page)) -> Response:
    """The polled part of the dashboard (htmx swaps it in place)."""
    return page.render("dashboard_live.html", **_live(page))
