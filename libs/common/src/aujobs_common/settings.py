"""Settings from the environment, one class per service (pydantic-settings).

Every service subclasses :class:`ServiceSettings`; the variable names are the same in
every service so the deployment manifests stay uniform (DESIGN.md §2): the run mode is
chosen purely by which URLs are set.
"""

from __future__ import annotations

from functools import cached_property

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    service_name: str = "service"
    environment: str = Field(default="development", description="development | test | production")

    # PostgreSQL owned by this service (postgresql+asyncpg://…)
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    database_pool_size: int = 10
    run_migrations_on_startup: bool = False

    # Event bus: RabbitMQ when set, else the in-memory bus (embedded mode / unit tests)
    amqp_url: str | None = None
    bus_exchange: str = "aujobs.events"
    bus_max_attempts: int = 5
    bus_retry_base_ms: int = 500
    outbox_poll_interval_s: float = 0.5

    # Redis (rate limits, token denylist, caches); in-process fallback when unset
    redis_url: str | None = None

    # Access-token verification (DESIGN.md §4)
    jwt_issuer: str = "https://auth.australiajobs.local"
    jwt_audience: str = "australia-jobs"
    jwt_algorithms: list[str] = ["RS256"]
    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    jwks_cache_seconds: int = 300

    log_level: str = "INFO"
    log_json: bool = True

    # OpenTelemetry: console exporter off by default; OTLP when the endpoint is set
    otel_exporter_otlp_endpoint: str | None = None

    @cached_property
    def uses_rabbitmq(self) -> bool:
        return bool(self.amqp_url)
