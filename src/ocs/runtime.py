"""The running server: REST API and console (uvicorn), the Diameter Gy server and the charging
writer, in one asyncio process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from functools import partial

import uvicorn

from ocs.adapters.gy import GyHandler
from ocs.bootstrap import Services
from ocs.charging_worker import ChargingWorker
from ocs.config import Settings
from ocs.core.charging import ChargingDecision, ChargingRequest
from ocs.diameter.message import Origin
from ocs.diameter.peer import AllowedPeer, PeerConfig
from ocs.diameter.server import DiameterServer, ServerConfig
from ocs.migration_runtime import MigrationThread
from ocs.realtime import FreezingCollector, collect_forever, shorten_gil_turns
from ocs.service.charging import ANSWERS_PRUNED_MAX
from ocs.service.group_commit import GroupCommitter

log = logging.getLogger("ocs")


class ChargingRuntime:
    """Feeds neutral charging requests to the engine: in its own process (ChargingWorker), or
    through a group committer thread in this one."""

    def __init__(self, services: Services, settings: Settings) -> None:
        self._services = services
        self._settings = settings
        self.worker = ChargingWorker(settings) if settings.charging_worker == "process" else None
        self.committer = GroupCommitter(
            services.store,
            queue_items_max=settings.charging_queue_requests_max,
            name="charging-writer",
        )

    def start(self) -> None:
        if self.worker is not None:
            self.worker.start()
        else:
            self.committer.start()

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        else:
            self.committer.stop()

    async def decide(self, request: ChargingRequest) -> ChargingDecision:
        self._services.charging_monitor.record_request()
        if self.worker is not None:
            return await self.worker.decide(request)
        return await self.committer.submit(
            partial(self._services.charging.process, request=request)
        )

    async def sweep_forever(self) -> None:
        """Expire reservations and idle sessions, through the same writer as charging (the
        engine process sweeps by itself)."""
        if self.worker is not None:
            return
        while True:
            await asyncio.sleep(self._settings.charging_sweep_interval_s)
            charging = self._services.charging
            try:
                await self.committer.submit(charging.expire)
                # Stored answers past retention, a chunk per batch of the writer.
                while await self.committer.submit(charging.prune_answers) >= ANSWERS_PRUNED_MAX:
                    pass
            except Exception:  # a failed sweep is retried on the next tick
                log.exception("reservation expiry sweep failed")


async def run_grants_forever(services: Services, interval_s: float) -> None:
    """Apply due grants, recurrences, rollovers and expiries (GrantService.run_due); the run
    writes through its own transactions, so it goes to a thread."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await asyncio.to_thread(services.grants.run_due)
        except Exception:  # a failed run is retried (and catches up) on the next tick
            log.exception("grant run failed")


async def deliver_notifications_forever(services: Services, interval_s: float) -> None:
    """Expand the notification outbox and send due deliveries; sends block, so in a thread."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await asyncio.to_thread(services.notification_delivery.run_once)
        except Exception:  # a failed pass is retried on the next tick
            log.exception("notification delivery pass failed")


def diameter_server(
    settings: Settings, runtime: ChargingRuntime, services: Services
) -> DiameterServer:
    peers = tuple(_allowed_peer(p) for p in settings.diameter_peers)
    config = ServerConfig(
        PeerConfig(settings.diameter_origin_host, settings.diameter_origin_realm, peers),
        listen_host=settings.diameter_host,
        listen_port=settings.diameter_port,
    )
    state_id = int(time.time()) & 0xFFFFFFFF
    origin = Origin(settings.diameter_origin_host, settings.diameter_origin_realm, state_id)
    handler = GyHandler(runtime.decide, origin, services.clock.now)
    return DiameterServer(config, handler, origin_state_id=state_id)


def _allowed_peer(text: str) -> AllowedPeer:
    host, _, realm = text.partition("@")
    return AllowedPeer(host, realm or None)


async def serve(settings: Settings, services: Services) -> None:
    from ocs.adapters.rest.app import create_app

    # A wallet move a crash cut short is finished before anything charges the wallet.
    for move in services.domains.finish_interrupted_moves():
        log.warning("wallet %s: %s (%s -> %s)", move.wallet_id, move.detail, move.source,
                    move.target)  # fmt: skip
    shorten_gil_turns()
    runtime = ChargingRuntime(services, settings)
    runtime.start()
    migrations = MigrationThread(services)
    migrations.start()
    app = create_app(services, runtime.decide, settings.nchf_token)
    diameter = diameter_server(settings, runtime, services)
    http = uvicorn.Server(
        uvicorn.Config(
            app, host=settings.http_host, port=settings.http_port, log_level=settings.log_level
        )
    )
    await diameter.start()
    # Start-up made most of what this process will hold (modules, the app, the services);
    # frozen, Python's full collections no longer scan it (90-130 ms each under load). The
    # web stack builds more once it serves (15-50 ms collections about once a second): the
    # collector freezes what survives, a second at a time.
    loops = [
        asyncio.create_task(collect_forever(FreezingCollector(time.monotonic))),
        asyncio.create_task(runtime.sweep_forever()),
        asyncio.create_task(run_grants_forever(services, settings.grant_interval_s)),
        asyncio.create_task(
            deliver_notifications_forever(services, settings.notification_interval_s)
        ),
    ]
    try:
        await http.serve()
    finally:
        migrations.stop()
        for loop in reversed(loops):
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        await diameter.stop()
        runtime.stop()
