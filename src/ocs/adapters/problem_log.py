"""A bounded, in-memory ring of the most recent problem responses, for the console dashboard."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request

from ocs.core.errors import ProblemKind

PROBLEM_LOG_ENTRIES_MAX = 50


@dataclass(frozen=True)
class ProblemEntry:
    at: datetime
    source: str  # "api" or "console"
    method: str
    path: str
    status: int
    kind: str
    detail: str
    field: str | None


class ProblemLog:
    """Keeps the last `entries_max` problems; older ones fall out. Safe across threads."""

    def __init__(self, entries_max: int = PROBLEM_LOG_ENTRIES_MAX) -> None:
        self._entries: deque[ProblemEntry] = deque(maxlen=entries_max)
        self._lock = threading.Lock()

    def record(self, entry: ProblemEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def recent(self, limit: int) -> list[ProblemEntry]:
        """The newest `limit` entries, newest first."""
        with self._lock:
            newest_first = list(reversed(self._entries))
        return newest_first[: max(0, limit)]


def record_problem(
    request: Request, source: str, status: int, kind: ProblemKind, detail: str, field: str | None
) -> None:
    """Note a refused request in the app's problem log (app.state.problem_log)."""
    log: ProblemLog = request.app.state.problem_log
    now = request.app.state.services.clock.now()
    path = request.url.path
    log.record(ProblemEntry(now, source, request.method, path, status, kind.value, detail, field))
