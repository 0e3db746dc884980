"""A throwaway PostgreSQL server for the test session (initdb + pg_ctl, never mocked)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN_DIRS = [Path(p) for p in ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_pg_bin() -> Path:
    for directory in PG_BIN_DIRS:
        if (directory / "initdb").exists():
            return directory
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) are missing: install Debian's "
        "postgresql-15 package (scripts/test does this when run as root)"
    )


@dataclass
class PostgresServer:
    root: Path
    port: int
    bin_dir: Path
    as_user: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, *args], check=True, capture_output=True, cwd=self.root, timeout=120
        )

    @classmethod
    def start(cls) -> PostgresServer:
        bin_dir = find_pg_bin()
        root = Path(tempfile.mkdtemp(prefix="ocs-pg-"))
        as_user: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            shutil.chown(root, "postgres", "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        server = cls(root, free_port(), bin_dir, as_user)
        data = root / "data"
        server._run(
            str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        options = (
            f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        server._run(
            str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
            "-w", "-t", "60", "start",
        )  # fmt: skip
        return server

    def stop(self) -> None:
        try:
            self._run(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "stop",
            )
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
