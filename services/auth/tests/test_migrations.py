"""Migration 0002 on a database that already has users and refresh tokens."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from alembic import command

from aujobs_auth.app import MIGRATIONS
from aujobs_common.migrations import alembic_config, upgrade_async
from aujobs_common.pg import to_asyncpg_dsn


async def test_existing_refresh_token_families_become_sessions_and_downgrade_works(fresh_database_url):
    config = alembic_config(MIGRATIONS, fresh_database_url)
    await asyncio.to_thread(command.upgrade, config, "0001")
    user, family = uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(to_asyncpg_dsn(fresh_database_url))
    try:
        await conn.execute(
            "INSERT INTO users (id, email, password_hash, roles, email_verified) "
            "VALUES ($1, 'old@example.com.au', 'x', ARRAY['job_seeker'], true)",
            user,
        )
        for n, ua in enumerate(["first device", "same device, later"]):
            await conn.execute(
                "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at, "
                "user_agent, ip_address) VALUES ($1, $2, $3, $4, now() + $5 * interval '1 minute', "
                "now() + interval '30 days', $6, '203.0.113.1')",
                uuid.uuid4(),
                user,
                family,
                f"hash-{n}",
                n,
                ua,
            )
        await upgrade_async(MIGRATIONS, fresh_database_url)
        row = await conn.fetchrow("SELECT * FROM sessions")
        assert row["id"] == family and row["user_id"] == user and row["revoked_at"] is None
        assert row["user_agent"] == "same device, later" and row["last_used_at"] > row["created_at"]
        assert await conn.fetchval("SELECT email_verified_at IS NOT NULL FROM users")

        await asyncio.to_thread(command.downgrade, config, "0001")
        assert await conn.fetchval("SELECT to_regclass('sessions')") is None
        assert await conn.fetchval("SELECT count(*) FROM refresh_tokens") == 2
        await upgrade_async(MIGRATIONS, fresh_database_url)
    finally:
        await conn.close()
