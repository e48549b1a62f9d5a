"""The migrations build exactly the schema the models describe, and downgrade."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from aujobs_applications.app import MIGRATIONS
from aujobs_applications.models import ApplicationsBase
from aujobs_common.db import COMMON_METADATA
from aujobs_common.migrations import alembic_config, upgrade_async
from aujobs_common.pg import to_sqlalchemy_url


async def _diff(database_url: str) -> list:
    engine = create_async_engine(to_sqlalchemy_url(database_url), poolclass=sa.pool.NullPool)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn):
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(context, [ApplicationsBase.metadata, COMMON_METADATA])

            return await conn.run_sync(diff)
    finally:
        await engine.dispose()


async def test_the_migrations_match_the_models_and_downgrade(fresh_database_url):
    await upgrade_async(MIGRATIONS, fresh_database_url)
    assert await _diff(fresh_database_url) == []
    config = alembic_config(MIGRATIONS, fresh_database_url)
    # One step back (the latest migration alone) and the whole way, then up again.
    await asyncio.to_thread(command.downgrade, config, "-1")
    await asyncio.to_thread(command.downgrade, config, "base")
    await upgrade_async(MIGRATIONS, fresh_database_url)
    assert await _diff(fresh_database_url) == []
