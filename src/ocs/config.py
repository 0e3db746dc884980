"""Typed settings from the environment (OCS_*), with units in the names."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    log_level: str = "info"
    diameter_host: str = "127.0.0.1"
    diameter_port: int = 3868
    diameter_origin_host: str = "ocs.localdomain"
    diameter_origin_realm: str = "localdomain"
    # Peers allowed to connect: Origin-Host, optionally "host@realm".
    diameter_peers: tuple[str, ...] = field(default_factory=tuple)
    charging_validity_time_s: int = 600
    charging_session_timeout_s: int = 1800
    charging_sweep_interval_s: float = 5.0
    charging_queue_requests_max: int = 10_000
    rating_time_zone: str = "UTC"
    # Bearer token 5G network functions present on Nchf; None accepts any consumer.
    nchf_token: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        data_dir = Path(env.get("OCS_DATA_DIR", "ocs-data"))
        peers = tuple(p.strip() for p in env.get("OCS_DIAMETER_PEERS", "").split(",") if p.strip())
        return cls(
            database_url=env.get("OCS_DATABASE_URL", f"sqlite:///{data_dir / 'ocs.db'}"),
            http_host=env.get("OCS_HTTP_HOST", "127.0.0.1"),
            http_port=int(env.get("OCS_HTTP_PORT", "8080")),
            log_level=env.get("OCS_LOG_LEVEL", "info"),
            diameter_host=env.get("OCS_DIAMETER_HOST", "127.0.0.1"),
            diameter_port=int(env.get("OCS_DIAMETER_PORT", "3868")),
            diameter_origin_host=env.get("OCS_DIAMETER_ORIGIN_HOST", "ocs.localdomain"),
            diameter_origin_realm=env.get("OCS_DIAMETER_ORIGIN_REALM", "localdomain"),
            diameter_peers=peers,
            charging_validity_time_s=int(env.get("OCS_CHARGING_VALIDITY_TIME_S", "600")),
            charging_session_timeout_s=int(env.get("OCS_CHARGING_SESSION_TIMEOUT_S", "1800")),
            charging_sweep_interval_s=float(env.get("OCS_CHARGING_SWEEP_INTERVAL_S", "5")),
            charging_queue_requests_max=int(env.get("OCS_CHARGING_QUEUE_REQUESTS_MAX", "10000")),
            rating_time_zone=env.get("OCS_RATING_TIME_ZONE", "UTC"),
            nchf_token=env.get("OCS_NCHF_TOKEN") or None,
        )
