"""Service settings: environment variables with the `PB_` prefix (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The secret `make run` prints in development (README): refused in every other mode, like the placeholders below.
DEVELOPMENT_ADMIN_SECRET = "dev-admin-secret-do-not-use-in-production"

# Secret rules outside development (see `weak_secret_reason`).
MIN_SECRET_LENGTH = 16
MIN_DISTINCT_CHARACTERS = 10
# Well-known placeholders, compared on their letters and digits only, case-insensitively.
PLACEHOLDER_SECRETS = frozenset({
    DEVELOPMENT_ADMIN_SECRET, "dev-admin-secret", "dev-secret", "changeme", "change-me", "changeit", "secret",
    "password", "passw0rd", "admin", "administrator", "root", "default", "letmein", "qwerty", "welcome",
    "changeme-changeme", "passwordpassword", "secretsecret", "adminadmin", "your-secret-here", "replace-me",
    "do-not-use-in-production", "not-a-secret", "example-secret", "test-secret",
})
# A secret made only of these words, digits and runs of consecutive characters (abc…, 987…) is predictable.
PLACEHOLDER_WORDS = (
    "administrator", "admin", "changeme", "change", "changeit", "default", "demo", "dev", "example", "letmein",
    "passw0rd", "password", "passwd", "pass", "placeholder", "qwerty", "root", "sample", "secret", "welcome",
)


class ServiceSettings(BaseSettings):
    """What every service reads from its environment.

    The embedded default (`make run`) needs nothing set: SQLite files and the
    durable local event log under ``var/``. Production sets `PB_ENV=production`,
    a PostgreSQL `PB_DATABASE_URL` and `PB_BUS=kafka`.
    """

    # hide_input_in_errors: a refused setting's error must not print the secrets beside it.
    model_config = SettingsConfigDict(env_prefix="PB_", extra="ignore", hide_input_in_errors=True)

    env: Literal["development", "test", "production"] = "development"
    service_name: str = "service"
    database_url: str = ""
    # The PostgreSQL connection pool of one process (ignored on SQLite): deploy/postgres.sh's max_connections
    # fits 2 replicas of every service at the defaults; more replicas need a larger server or smaller pools.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    var_dir: Path = Path("var")

    bus: Literal["local", "kafka"] = "local"
    local_bus_path: Path | None = None
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # New topics only (ensure_topics never changes a topic that exists): 6 partitions, so that up to 6 consumers
    # of a group share a topic. Changing a live topic's count remaps keys to partitions: docs/OPERATIONS.md.
    kafka_topic_partitions: int = Field(default=6, ge=1)
    # 1 on the single broker; 3 on a cluster (deploy/kafka.sh with PB_KAFKA_BROKERS=3), with min.insync.replicas
    # 2: a write acknowledged (acks=all) is on at least 2 brokers, and one broker may die without refusing writes.
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_min_insync_replicas: int = Field(default=1, ge=1)
    # Prepended to every topic and consumer group: lets installations or test runs share a cluster.
    topic_prefix: str = ""

    registry_url: str = "http://127.0.0.1:8001"
    registry_timeout_s: float = 5.0
    registry_retries: int = 2
    # The credential of this service's own background work toward the registry (an admin client): the recovery
    # of a title command left pending when no client is there to retry it (docs/TITLE_ARBITER.md).
    service_client_id: str | None = None
    service_client_secret: str | None = None
    # A title command pending longer than this is driven to its end by the recovery job, every interval.
    pending_recovery_after_s: float = 10.0
    pending_recovery_interval_s: float = 5.0

    jwt_issuer: str = "patentbridge-registry"
    jwt_audience: str = "patentbridge"
    # Where services fetch the registry's token verification keys; default is the registry's JWKS.
    jwks_url: str | None = None
    # Static JWKS document (JSON) instead of a URL: used by tests and air-gapped deployments.
    jwks_json: str | None = None

    # The revocation feed every process follows (pbkit.revocation): the registry's topic of client access changes.
    # Empty: follow none (the registry, which reads the same facts from its own database).
    revocation_topic: str = "pb.registry.clients"
    # /readyz reports the feed stale when the revocation list has not caught up with it for this long.
    revocation_stale_after_s: float = Field(default=30.0, gt=0)

    # The programme's calendar: "today" for date rules (no approval dated in the future, ...).
    business_timezone: str = "Asia/Shanghai"

    relay_enabled: bool = True
    relay_poll_interval_s: float = 0.2
    # Tries of an outbox row the bus refuses (while it is up) before the relay parks it (pbkit.outbox).
    relay_max_attempts: int = Field(default=10, ge=1)
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


def _core(value: str) -> str:
    """The letters and digits of `value`, case-folded: what the rules below compare."""
    return "".join(ch for ch in value.casefold() if ch.isalnum())


def _is_repetition(text: str) -> bool:
    """`text` is one shorter string repeated (changemechangeme, abcabcabc…)."""
    return any(len(text) % k == 0 and text == text[:k] * (len(text) // k) for k in range(1, len(text) // 2 + 1))


def _is_predictable(text: str) -> bool:
    """`text` splits wholly into placeholder words, digits and runs of 3 or more consecutive characters."""
    reachable = [False] * (len(text) + 1)
    reachable[0] = True
    for i in range(len(text)):
        if not reachable[i]:
            continue
        for word in PLACEHOLDER_WORDS:
            if text.startswith(word, i):
                reachable[i + len(word)] = True
        j = i
        while j < len(text) and text[j].isdigit():
            j += 1
            reachable[j] = True
        for step in (1, -1):
            j = i + 1
            while j < len(text) and ord(text[j]) - ord(text[j - 1]) == step:
                j += 1
                if j - i >= 3:
                    reachable[j] = True
    return bool(text) and reachable[len(text)]


def weak_secret_reason(value: str) -> str | None:
    """Why `value` is too weak for a secret outside development, or None when it is strong enough.

    The rule, in order (the first that applies is the reason given):
    1. a known placeholder: its letters and digits, case-insensitively, are one of `PLACEHOLDER_SECRETS`
       (the development secret of `make run` included);
    2. shorter than `MIN_SECRET_LENGTH` (16) characters;
    3. fewer than `MIN_DISTINCT_CHARACTERS` (10) distinct characters;
    4. a repetition: its letters and digits are one shorter string repeated (changeme-changeme);
    5. predictable: its letters and digits are made only of `PLACEHOLDER_WORDS`, digits and runs of
       consecutive characters (Admin-Secret-2024, changeme-123456789, abcdefghijklmnop).
    A random secret (`openssl rand -base64 32`, `python -c "import secrets; print(secrets.token_urlsafe(32))"`)
    passes all of them.
    """
    core = _core(value)
    placeholders = {_core(p) for p in PLACEHOLDER_SECRETS}
    if core in placeholders or value.strip().casefold() in PLACEHOLDER_SECRETS:
        return "it is a well-known placeholder" + (" (the development secret of `make run`)"
                                                    if core == _core(DEVELOPMENT_ADMIN_SECRET) else "")
    length = len(value.strip())
    if length < MIN_SECRET_LENGTH:
        return f"it has {length} characters, fewer than {MIN_SECRET_LENGTH}"
    distinct = len(set(value))
    if distinct < MIN_DISTINCT_CHARACTERS:
        return f"it has {distinct} distinct characters, fewer than {MIN_DISTINCT_CHARACTERS} (too little entropy)"
    if _is_repetition(core or value):
        return "it is one shorter string repeated (too little entropy)"
    if _is_predictable(core):
        return "it is made only of placeholder words, digits and runs like abc… or 123… (predictable)"
    return None


def refuse_weak_secret(settings: ServiceSettings, name: str, value: str | None) -> None:
    """Outside development (`PB_ENV` test or production) a secret that is set must be strong
    (`weak_secret_reason`), and in production it must be set. Development accepts anything, so that
    `make run` can print its well-known development pair."""
    if settings.env == "development":
        return
    if not value:
        if settings.env == "production":
            raise ValueError(f"{name} must be set in production (PB_ENV=production)")
        return
    reason = weak_secret_reason(value)
    if reason is not None:
        raise ValueError(
            f"{name} is refused under PB_ENV={settings.env}: {reason}. Outside development use a long random "
            "secret, e.g. the output of `openssl rand -base64 32`"
        )


# The earlier name, kept for callers.
refuse_placeholder = refuse_weak_secret
