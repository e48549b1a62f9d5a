"""The migration builds exactly the schema the models describe, and downgrades."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from aujobs_common.db import COMMON_METADATA
from aujobs_common.migrations import alembic_config, upgrade_async
from aujobs_common.pg import to_sqlalchemy_url
from aujobs_resumes.app import MIGRATIONS
from aujobs_resumes.models import ResumesBase


async def test_the_migration_matches_the_models_and_downgrades(fresh_database_url):
    await upgrade_async(MIGRATIONS, fresh_database_url)
    engine = create_async_engine(to_sqlalchemy_url(fresh_database_url), poolclass=sa.pool.NullPool)
    try:
        async with engine.connect() as conn:

            def diff(sync_conn):
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(context, [ResumesBase.metadata, COMMON_METADATA])

            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()
    config = alembic_config(MIGRATIONS, fresh_database_url)
    await asyncio.to_thread(command.downgrade, config, "base")
    await upgrade_async(MIGRATIONS, fresh_database_url)
