"""Keeps Python's cyclic garbage collector from pausing a process that answers in real time.

A full collection scans every object the process holds. In the charging engine (a warm
wallet cache: up to 50,000 wallets, each a few dozen objects) that was a pause of 50 ms and
more every few seconds under load; in the server process, where the web stack builds much of
what it keeps only once it serves, 15-50 ms about once a second. Every request waiting in
such a pause is late.

So once a second the process collects what is not frozen yet (only what the last second
made: a few milliseconds), which frees that second's reference cycles (a failed request's
exception and traceback make one), and freezes the rest (`gc.freeze`: the collector skips it
from then on). A cycle among objects that were alive when frozen and died later stays until
the full collection every FULL_COLLECTION_INTERVAL_S.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

FREEZE_INTERVAL_S = 1.0
FULL_COLLECTION_INTERVAL_S = 600.0


class FreezingCollector:
    """Collects and freezes young objects at most once per FREEZE_INTERVAL_S (`tick`)."""

    def __init__(self, now_s: Callable[[], float]) -> None:
        """Collects and freezes start-up's objects at once (40 ms), before any request waits."""
        self._now_s = now_s
        gc.collect()
        gc.freeze()
        self._next_freeze_s = now_s() + FREEZE_INTERVAL_S
        self._next_full_s = now_s() + FULL_COLLECTION_INTERVAL_S

    def tick(self) -> None:
        """Call between two pieces of work (in the engine: after each batch)."""
        now_s = self._now_s()
        if now_s >= self._next_full_s:
            gc.unfreeze()  # this time the collection below looks at everything
            self._next_full_s = now_s + FULL_COLLECTION_INTERVAL_S
        elif now_s < self._next_freeze_s:
            return
        gc.collect()
        gc.freeze()
        self._next_freeze_s = now_s + FREEZE_INTERVAL_S


async def collect_forever(
    collector: FreezingCollector, interval_s: float = FREEZE_INTERVAL_S
) -> None:
    """Ticks `collector` from an event loop, between the callbacks that serve requests."""
    while True:
        await asyncio.sleep(interval_s)
        collector.tick()
