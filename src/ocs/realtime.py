"""How the server and engine processes run Python so that requests are not kept waiting.

**Turns on the GIL.** Both processes run threads beside the one that serves: the server a
sender and a receiver for each engine's pipe, the engine the thread that fsyncs and answers.
A thread that wakes while another runs Python waits for the GIL's switch interval, 5 ms by
default, before the runner must let go; a request crosses such a handover four times. At
0.5 ms (`shorten_gil_turns`) the paced benchmark's p99 fell in five runs of six, and the
closed loop did not slow down (docs/performance.md, 2026-12-05 13:48-14:05).

**Pauses of the cyclic collector.** A full collection scans every object the process holds.
In the charging engine (a warm wallet cache: up to 50,000 wallets, each a few dozen objects)
that was a pause of 50 ms and more every few seconds under load; in the server process,
where the web stack builds much of what it keeps only once it serves, 15-50 ms about once a
second. Every request waiting in such a pause is late. So once a second the process
collects what is not frozen yet (only what the last second made: a few milliseconds), which
frees that second's reference cycles (a failed request's exception and traceback make one),
and freezes the rest (`gc.freeze`: the collector skips it from then on). A cycle among
objects that were alive when frozen and died later stays until the full collection every
FULL_COLLECTION_INTERVAL_S.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable

GIL_SWITCH_INTERVAL_S = 0.0005
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


def shorten_gil_turns() -> None:
    """Let a waking thread have the GIL after GIL_SWITCH_INTERVAL_S rather than 5 ms."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
