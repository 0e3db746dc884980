"""Start the real `ocs serve` process for end-to-end tests and wait until it answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.postgres import free_port

START_TIMEOUT_S = 60.0


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    http_port: int
    diameter_port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def start_server(
    database_url: str, data_dir: Path, name: str, env: Mapping[str, str], *args: str
) -> ServerProcess:
    """`python -m ocs serve ARGS` on free HTTP and Diameter ports; its output goes to a log."""
    http_port, diameter_port = free_port(), free_port()
    full_env = {
        **os.environ,
        "OCS_DATABASE_URL": database_url,
        "OCS_DATA_DIR": str(data_dir),
        "OCS_HTTP_PORT": str(http_port),
        "OCS_DIAMETER_PORT": str(diameter_port),
        "OCS_LOG_LEVEL": "warning",
        **env,
    }
    log = data_dir / f"serve-{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ocs", "serve", *args],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process, http_port, diameter_port, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            if httpx.get(f"{server.base_url}/health").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"ocs serve did not start:\n{log.read_text()}")
        time.sleep(0.1)
