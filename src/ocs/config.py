"""Typed settings from the environment (OCS_*), with units in the names."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ocs.core.domains import DEFAULT_DOMAIN, DOMAIN_NAME


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
    # How often the server applies due grants, recurrences, rollovers and expiries.
    grant_interval_s: float = 60.0
    charging_queue_requests_max: int = 10_000
    # "process": the charging engine runs in a child process with a core of its own;
    # "thread": in the server process (one core for everything; simpler to debug).
    charging_worker: str = "process"
    # Engine processes charging side by side (by Session-Id). More than one needs PostgreSQL:
    # SQLite lets one writer in at a time, so a second engine would only wait for the first.
    charging_engines: int = 1
    # SQLite's page cache of each engine connection: the engine reads random wallets, buckets
    # and index pages all day, and SQLite's default of 2 MB re-reads most of them from the OS.
    charging_sqlite_cache_mib: int = 256
    rating_time_zone: str = "UTC"
    # Bearer token 5G network functions present on Nchf; None accepts any consumer.
    nchf_token: str | None = None
    # Charging domains (stores of wallets): "default" is database_url; more are (name, url)
    # pairs from OCS_CHARGING_DOMAINS="gold=sqlite:///gold.db,silver=postgresql://...".
    charging_domain_urls: tuple[tuple[str, str], ...] = ()
    # HMAC key for voucher secrets. When unset, one is generated on first use and kept in the
    # settings table (see VoucherService); set it to keep the key out of the database.
    voucher_secret_key: str | None = field(default=None, repr=False)
    # HMAC key for credit card tokens. When unset, one is generated on first use and kept in
    # the settings table (see CreditCardService); set it to keep the key out of the database.
    card_token_key: str | None = field(default=None, repr=False)

    # Notifications (see docs/user-guide/notifications.md); a channel without settings is off.
    notification_interval_s: float = 5.0
    notification_max_attempts: int = 8
    notification_retry_base_s: int = 30
    notification_retry_max_s: int = 3600
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "ocs@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    smtp_tls: bool = False
    sms_gateway_url: str | None = None
    sms_gateway_token: str | None = field(default=None, repr=False)
    sms_sender_id: str = "OCS"
    webhook_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.charging_engines < 1:
            raise ValueError("OCS_CHARGING_ENGINES must be at least 1")
        if self.charging_sqlite_cache_mib < 1:
            raise ValueError("OCS_CHARGING_SQLITE_CACHE_MIB must be at least 1")
        urls = [self.database_url, *(url for _, url in self.charging_domain_urls)]
        if self.charging_engines > 1 and (
            self.charging_worker != "process" or not all(u.startswith("postgresql") for u in urls)
        ):
            raise ValueError(
                "OCS_CHARGING_ENGINES above 1 needs every charging database on PostgreSQL and "
                "OCS_CHARGING_WORKER=process: SQLite lets one writer in at a time"
            )

    @property
    def charging_domains(self) -> tuple[str, ...]:
        """Every domain's name, the default first."""
        return (DEFAULT_DOMAIN, *(name for name, _ in self.charging_domain_urls))

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
            grant_interval_s=float(env.get("OCS_GRANT_INTERVAL_S", "60")),
            charging_queue_requests_max=int(env.get("OCS_CHARGING_QUEUE_REQUESTS_MAX", "10000")),
            charging_worker=_choice(env, "OCS_CHARGING_WORKER", "process", ("process", "thread")),
            charging_engines=int(env.get("OCS_CHARGING_ENGINES", "1")),
            charging_sqlite_cache_mib=int(env.get("OCS_CHARGING_SQLITE_CACHE_MIB", "256")),
            rating_time_zone=env.get("OCS_RATING_TIME_ZONE", "UTC"),
            nchf_token=env.get("OCS_NCHF_TOKEN") or None,
            charging_domain_urls=_domain_urls(env.get("OCS_CHARGING_DOMAINS", "")),
            notification_interval_s=float(env.get("OCS_NOTIFICATION_INTERVAL_S", "5")),
            notification_max_attempts=int(env.get("OCS_NOTIFICATION_MAX_ATTEMPTS", "8")),
            notification_retry_base_s=int(env.get("OCS_NOTIFICATION_RETRY_BASE_S", "30")),
            notification_retry_max_s=int(env.get("OCS_NOTIFICATION_RETRY_MAX_S", "3600")),
            smtp_host=env.get("OCS_SMTP_HOST") or None,
            smtp_port=int(env.get("OCS_SMTP_PORT", "25")),
            smtp_from=env.get("OCS_SMTP_FROM", "ocs@localhost"),
            smtp_username=env.get("OCS_SMTP_USERNAME") or None,
            smtp_password=env.get("OCS_SMTP_PASSWORD") or None,
            smtp_starttls=env.get("OCS_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
            smtp_tls=env.get("OCS_SMTP_TLS", "").lower() in ("1", "true", "yes"),
            sms_gateway_url=env.get("OCS_SMS_GATEWAY_URL") or None,
            sms_gateway_token=env.get("OCS_SMS_GATEWAY_TOKEN") or None,
            sms_sender_id=env.get("OCS_SMS_SENDER_ID", "OCS"),
            webhook_timeout_s=float(env.get("OCS_WEBHOOK_TIMEOUT_S", "10")),
            voucher_secret_key=env.get("OCS_VOUCHER_SECRET_KEY") or None,
            card_token_key=env.get("OCS_CARD_TOKEN_KEY") or None,
        )


def _choice(env: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, default)
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _domain_urls(text: str) -> tuple[tuple[str, str], ...]:
    """Parse "name=url,name=url"; the default domain is OCS_DATABASE_URL and is not listed."""
    pairs: list[tuple[str, str]] = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry or entry == DEFAULT_DOMAIN:
            continue
        name, sep, url = entry.partition("=")
        name = name.strip()
        if not sep or not url.strip():
            raise ValueError(f"OCS_CHARGING_DOMAINS: {entry!r} is not name=database-url")
        if not DOMAIN_NAME.match(name) or name == DEFAULT_DOMAIN:
            raise ValueError(
                f"OCS_CHARGING_DOMAINS: {name!r} is not a domain name (lower case letters, "
                "digits, - and _, at most 32, not 'default')"
            )
        if name in (n for n, _ in pairs):
            raise ValueError(f"OCS_CHARGING_DOMAINS: domain {name!r} is listed twice")
        pairs.append((name, url.strip()))
    return tuple(pairs)
