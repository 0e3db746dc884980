"""Live charging figures for the dashboard: request rate, open sessions and reservations."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from ocs.core.security import Privilege
from ocs.service.actor import Actor
from ocs.service.ports import Store

RATE_WINDOW_S = 10.0
SAMPLES_MAX = 200_000


@dataclass(frozen=True)
class ChargingStats:
    requests_per_second: float
    open_sessions: int
    open_reservations: int


class ChargingMonitor:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._arrivals: deque[float] = deque(maxlen=SAMPLES_MAX)
        self._lock = threading.Lock()

    def record_request(self) -> None:
        with self._lock:
            self._arrivals.append(time.monotonic())

    def requests_per_second(self) -> float:
        horizon = time.monotonic() - RATE_WINDOW_S
        with self._lock:
            while self._arrivals and self._arrivals[0] < horizon:
                self._arrivals.popleft()
            return len(self._arrivals) / RATE_WINDOW_S

    def stats(self, actor: Actor) -> ChargingStats:
        actor.require(Privilege.READ)
        with self._store.transaction() as uow:
            sessions, reservations = uow.charging.open_counts()
        return ChargingStats(round(self.requests_per_second(), 1), sessions, reservations)
