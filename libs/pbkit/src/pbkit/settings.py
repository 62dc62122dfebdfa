"""Service settings: environment variables with the `PB_` prefix (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "password", "admin", "dev-secret"})


class ServiceSettings(BaseSettings):
    """What every service reads from its environment.

    The embedded default (`make run`) needs nothing set: SQLite files and the
    durable local event log under ``var/``. Production sets `PB_ENV=production`,
    a PostgreSQL `PB_DATABASE_URL` and `PB_BUS=kafka`.
    """

    model_config = SettingsConfigDict(env_prefix="PB_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    service_name: str = "service"
    database_url: str = ""
    var_dir: Path = Path("var")

    bus: Literal["local", "kafka"] = "local"
    local_bus_path: Path | None = None
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_partitions: int = 3
    kafka_replication_factor: int = 1
    # Prepended to every topic and consumer group: lets installations or test runs share a cluster.
    topic_prefix: str = ""

    registry_url: str = "http://127.0.0.1:8001"
    registry_timeout_s: float = 5.0
    registry_retries: int = 2

    jwt_issuer: str = "patentbridge-registry"
    jwt_audience: str = "patentbridge"
    # Where services fetch the registry's token verification keys; default is the registry's JWKS.
    jwks_url: str | None = None
    # Static JWKS document (JSON) instead of a URL: used by tests and air-gapped deployments.
    jwks_json: str | None = None

    # The programme's calendar: "today" for date rules (no approval dated in the future, ...).
    business_timezone: str = "Asia/Shanghai"

    relay_enabled: bool = True
    relay_poll_interval_s: float = 0.2
    consumers_enabled: bool = True
    log_level: str = "INFO"

    @field_validator("business_timezone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _defaults(self) -> ServiceSettings:
        if not self.database_url:
            if self.env == "production":
                raise ValueError("PB_DATABASE_URL must be set in production")
            self.database_url = f"sqlite:///{self.var_dir / 'db' / (self.service_name + '.sqlite3')}"
        if self.local_bus_path is None:
            self.local_bus_path = self.var_dir / "bus" / "events.sqlite3"
        if self.env == "production" and self.bus == "local":
            raise ValueError("PB_BUS=local is the embedded default; production uses PB_BUS=kafka")
        return self

    @property
    def resolved_jwks_url(self) -> str:
        return self.jwks_url or self.registry_url.rstrip("/") + "/.well-known/jwks.json"


def refuse_placeholder(settings: ServiceSettings, name: str, value: str | None) -> None:
    """Outside development a secret must be set and must not be a well-known placeholder."""
    if settings.env == "production" and (value is None or value.strip().lower() in PLACEHOLDER_SECRETS):
        raise ValueError(f"{name} must be set to a real secret outside development")
