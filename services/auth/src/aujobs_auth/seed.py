"""Demo accounts for ``make run`` (embedded mode only; never run in production)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from aujobs_common.db import Database
from aujobs_common.events import UserRegistered, UserRole
from aujobs_common.ids import uuid7
from aujobs_common.outbox import enqueue

from .models import User
from .service import SOURCE, hash_password

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
                user = User(
                    id=uuid7(),
                    email=email,
                    password_hash=await hash_password(DEMO_PASSWORD),
                    roles=roles,
                    # demo accounts are verified: they publish jobs at once
                    email_verified=True,
                    email_verified_at=datetime.now(UTC),
                )
                session.add(user)
                await session.flush()
                await session.refresh(user)
                await enqueue(
                    session,
                    UserRegistered(
                        user_id=user.id,
                        email=user.email,
                        roles=[UserRole(r) for r in roles],
                        registered_at=user.created_at,
                    ).to_event(source=SOURCE, subject=str(user.id)),
                )
            ids[key] = user.id
    return ids
