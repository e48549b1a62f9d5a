"""Bootstrapping the first administrator: ``aujobs-auth grant-admin EMAIL``.

Admins grant roles through ``PUT /api/v1/auth/users/{id}/roles``, which needs an admin
to begin with. This command is the way in for whoever runs the deployment: it adds the
admin role to an existing account exactly as that endpoint changes roles (the same
session revocation and ``role_changed`` audit entry, with no acting user and
``via: "cli"``), so the new role is in the tokens of the account's next sign-in."""

from __future__ import annotations

import argparse
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio
import sqlalchemy as sa

from aujobs_common.db import Database
from aujobs_common.security import RedisDenylist

from . import audit, service
from .app import TokenDenylist
from .audit import AuditKind
from .models import User
from .settings import AuthSettings, get_settings

# Same margin as logout's: a denylisted token outlives its expiry by a minute.
DENYLIST_MARGIN_SECONDS = 60


class NoSuchAccount(LookupError):
    """No account has the email address."""


@dataclass(frozen=True)
class Granted:
    user_id: uuid.UUID
    email: str
    roles: list[str]
    changed: bool  # False when the account was an admin already
    sessions_revoked: int


async def grant_admin(
    db: Database, email: str, *, denylist: TokenDenylist | None = None, now: datetime | None = None
) -> Granted:
    """Adds the admin role to the account with ``email`` and signs it out everywhere
    (its refresh tokens revoked; its live access tokens denylisted when ``denylist`` is
    given). Raises ``NoSuchAccount``. Changes nothing for an account that is an admin."""
    now = now or datetime.now(UTC)
    async with db.transaction() as session:
        user = await session.scalar(
            sa.select(User).where(User.email == service.normalise_email(email)).with_for_update()
        )
        if user is None:
            raise NoSuchAccount(email)
        before = sorted(user.roles)
        if "admin" in before:
            return Granted(user.id, user.email, before, changed=False, sessions_revoked=0)
        after = sorted({*before, "admin"})
        user.roles = after
        revoked = await service.revoke_sessions(
            session=session, user_id=user.id, reason="roles_changed", now=now
        )
        await audit.record(
            session,
            AuditKind.role_changed,
            user_id=user.id,
            actor_id=None,
            before=before,
            after=after,
            via="cli",
        )
    if denylist is not None:
        for entry in {r.jti: r for r in revoked}.values():
            ttl = int((entry.expires_at - now).total_seconds()) + DENYLIST_MARGIN_SECONDS
            if ttl > 0:
                await denylist.revoke(entry.jti, ttl)
    return Granted(user.id, user.email, after, changed=True, sessions_revoked=len(revoked))


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("email", help="the email address of an existing account")


async def grant_admin_command(args: argparse.Namespace, settings: AuthSettings | None = None) -> int:
    """The CLI: DATABASE_URL (and REDIS_URL, for the token denylist) from the settings."""
    settings = settings or get_settings()
    db = Database(settings.database_url, pool_size=1)
    redis_client = redis.asyncio.from_url(settings.redis_url) if settings.redis_url else None
    try:
        granted = await grant_admin(
            db, args.email, denylist=RedisDenylist(redis_client) if redis_client is not None else None
        )
    except NoSuchAccount:
        print(f"grant-admin: no account has the email address {args.email!r}; register it first.")
        return 1
    finally:
        await db.dispose()
        if redis_client is not None:
            await redis_client.aclose()
    if not granted.changed:
        print(f"{granted.email} is already an admin (roles: {', '.join(granted.roles)}); nothing changed.")
    else:
        print(
            f"{granted.email} is now an admin (roles: {', '.join(granted.roles)}); "
            f"{granted.sessions_revoked} session(s) signed out, the role applies from the next sign-in."
        )
    return 0
