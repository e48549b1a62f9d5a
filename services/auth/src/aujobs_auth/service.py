"""Account use cases. Functions take the session as a keyword and never commit: the
caller's transaction spans the state change and its outbox event."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.errors import ProblemError
from aujobs_common.events import UserRegistered, UserRole
from aujobs_common.ids import uuid7
from aujobs_common.outbox import enqueue

from .keys import KeyManager
from .models import RefreshToken, User
from .schemas import TokenResponse, UserOut
from .settings import AuthSettings

SOURCE = "/services/auth"

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# Verified when the email is unknown so a miss costs the same time as a hit.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def _verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return await asyncio.to_thread(_hasher.verify, password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def register_user(
    *, session: AsyncSession, email: str, password: str, role: str, settings: AuthSettings
) -> User:
    email = _normalise_email(email)
    if len(password) < settings.password_min_length:
        raise ProblemError(422, f"Passwords need at least {settings.password_min_length} characters.")
    exists = await session.scalar(sa.select(User.id).where(User.email == email))
    if exists:
        raise ProblemError(409, "An account with this email already exists.", type_="email-taken")
    user = User(
        id=uuid7(),
        email=email,
        password_hash=await hash_password(password),
        roles=[role],
        email_verified=False,
    )
    session.add(user)
    await session.flush()
    await session.refresh(user)
    await enqueue(
        session,
        UserRegistered(
            user_id=user.id,
            email=user.email,
            roles=[UserRole(r) for r in user.roles],
            registered_at=user.created_at,
        ).to_event(source=SOURCE, subject=str(user.id)),
    )
    return user


async def issue_tokens(
    *,
    session: AsyncSession,
    user: User,
    keys: KeyManager,
    settings: AuthSettings,
    family_id: uuid.UUID | None = None,
    user_agent: str | None = None,
    ip_address: str | None = None,
) -> TokenResponse:
    now = datetime.now(UTC)
    ttl = settings.access_token_ttl_seconds
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user.id),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "roles": list(user.roles),
        "email_verified": user.email_verified,
    }
    access = await keys.sign(claims)
    refresh = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            id=uuid7(),
            user_id=user.id,
            family_id=family_id or uuid7(),
            token_hash=_hash_token(refresh),
            expires_at=now + timedelta(days=settings.refresh_token_ttl_days),
            user_agent=(user_agent or "")[:300] or None,
            ip_address=ip_address,
        )
    )
    await session.flush()
    return TokenResponse(
        access_token=access, expires_in=ttl, refresh_token=refresh, user=UserOut.model_validate(user)
    )


class RefreshTokenReused(Exception):
    """A used refresh token came back: its family is revoked."""


INVALID_CREDENTIALS = ProblemError(401, "The email or password is not correct.", type_="invalid-credentials")


async def authenticate(*, session: AsyncSession, email: str, password: str) -> User:
    user = await session.scalar(sa.select(User).where(User.email == _normalise_email(email)))
    ok = await _verify_password(user.password_hash if user else None, password)
    if user is None or not ok:
        raise INVALID_CREDENTIALS
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = await hash_password(password)
    return user


async def rotate_refresh_token(
    *, session: AsyncSession, token: str, now: datetime | None = None
) -> tuple[User, uuid.UUID]:
    """Consume a refresh token: returns its user and family for the next pair.
    A token presented after it was used means it leaked: revoke the family."""
    now = now or datetime.now(UTC)
    invalid = ProblemError(401, "The refresh token is not valid.", type_="invalid-refresh-token")
    row = await session.scalar(
        sa.select(RefreshToken).where(RefreshToken.token_hash == _hash_token(token)).with_for_update()
    )
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise invalid
    if row.used_at is not None:
        await session.execute(
            sa.update(RefreshToken)
            .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        # The caller must commit this revocation before answering (see api.refresh).
        raise RefreshTokenReused
    row.used_at = now
    user = await session.get(User, row.user_id)
    if user is None:
        raise invalid
    return user, row.family_id
