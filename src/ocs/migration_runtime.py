"""The migration runner inside `ocs serve`: a background thread that first resumes migrations
a stopped process left running (R) and then runs pending ones (N before P) as they appear."""

from __future__ import annotations

import logging
import threading

from ocs.bootstrap import Services

log = logging.getLogger("ocs")
# How often the thread looks for new pending migrations when it has nothing to do.
MIGRATION_POLL_S = 2.0


class MigrationThread:
    def __init__(self, services: Services, poll_s: float = MIGRATION_POLL_S) -> None:
        self._services = services
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="migration-runner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        # A migration is safe to abandon between any two statements (its items are durable),
        # so the thread is not waited for long: it is a daemon and dies with the process.
        self._stop.set()
        self._thread.join(timeout=1.0)

    def _loop(self) -> None:
        runner = self._services.migration_runner
        try:
            for done in runner.resume_running():
                log.info("migration %s resumed and ended in %s", done.id, done.state.value)
        except Exception:  # retried below as pending work cannot start until R ones end
            log.exception("resuming running migrations failed")
        while not self._stop.is_set():
            try:
                for done in runner.run_pending():
                    log.info("migration %s ended in %s", done.id, done.state.value)
            except Exception:  # a failed pass is retried on the next poll
                log.exception("migration run failed")
            self._stop.wait(self._poll_s)
