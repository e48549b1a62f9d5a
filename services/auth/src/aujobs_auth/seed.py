"""Demo accounts for ``make run`` (embedded mode only; never run in production)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from aujobs_common.db import Database

from .models import User
from .service import add_user, hash_password

DEMO_PASSWORD = "demo-password-2026"
DEMO_USERS = {
    "employer": ("employer@demo.australiajobs.example", ["employer"]),
    "job_seeker": ("seeker@demo.australiajobs.example", ["job_seeker"]),
    "admin": ("admin@demo.australiajobs.example", ["admin"]),
}


async def ensure_demo_users(db: Database) -> dict[str, uuid.UUID]:
    """Create the demo accounts that do not exist yet; returns their ids by key."""
    ids: dict[str, uuid.UUID] = {}
    async with db.transaction() as session:
        for key, (email, roles) in DEMO_USERS.items():
            user = await session.scalar(sa.select(User).where(User.email == email))
            if user is None:
                # demo accounts are verified: they publish jobs at once
                user = await add_user(
                    session=session,
                    email=email,
                    password_hash=await hash_password(DEMO_PASSWORD),
                    roles=roles,
                    verified_at=datetime.now(UTC),
                )
            ids[key] = user.id
    return ids
