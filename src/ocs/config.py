"""Typed settings from the environment (OCS_*), with units in the names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    log_level: str = "info"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        data_dir = Path(env.get("OCS_DATA_DIR", "ocs-data"))
        return cls(
            database_url=env.get("OCS_DATABASE_URL", f"sqlite:///{data_dir / 'ocs.db'}"),
            http_host=env.get("OCS_HTTP_HOST", "127.0.0.1"),
            http_port=int(env.get("OCS_HTTP_PORT", "8080")),
            log_level=env.get("OCS_LOG_LEVEL", "info"),
        )
