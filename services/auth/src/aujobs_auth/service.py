"""Account use cases. Functions take the session as a keyword and never commit: the
caller's transaction spans the state change, its audit entry and its outbox event.

Access tokens revoked by a use case (a session signed out) are returned as
:class:`Revoked` entries; the caller denylists them once the transaction committed."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.errors import FieldError, ProblemError
from aujobs_common.events import (
    SecurityEventKind,
    UserEmailVerificationRequested,
    UserEmailVerified,
    UserPasswordResetRequested,
    UserRegistered,
    UserRole,
    UserSecurityAlert,
)
from aujobs_common.ids import uuid7
from aujobs_common.outbox import enqueue
from aujobs_common.pagination import Page, PageParams, cursor_uuid, encode_cursor

from . import audit, totp
from .audit import AuditKind, Client
from .keys import KeyManager
from .models import OneTimeToken, RecoveryCode, RefreshToken, User, UserSession
from .passwords import hash_password, needs_rehash, password_weakness, verify_password
from .schemas import RecoveryCodes, SessionOut, TokenResponse, TwoFactorChallenge, TwoFactorSetup, UserOut
from .settings import AuthSettings
from .useragent import describe

SOURCE = "/services/auth"

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 - a token purpose, not a secret
LOGIN_CHALLENGE = "login_challenge"

__all__ = ["SOURCE", "hash_password"]


class CheckFailed(ProblemError):
    """A guess that failed (password, code, token): counted by the brute-force limits."""


INVALID_CREDENTIALS = ProblemError(401, "The email or password is not correct.", type_="invalid-credentials")


@dataclass(frozen=True)
class Revoked:
    """An access token to denylist until it expires."""

    jti: str
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(user)


async def _alert(
    session: AsyncSession, user: User, kind: SecurityEventKind, detail: str | None = None
) -> None:
    await enqueue(
        session,
        UserSecurityAlert(
            user_id=user.id, email=user.email, kind=kind, occurred_at=_now(), detail=detail
        ).to_event(source=SOURCE, subject=str(user.id)),
    )


# ------------------------------------------------------------------ passwords


def check_password_strength(
    password: str, *, email: str | None, settings: AuthSettings, field: str = "password"
) -> None:
    reason = password_weakness(password, email=email, min_length=settings.password_min_length)
    if reason:
        raise ProblemError(
            422,
            reason,
            type_="weak-password",
            title="Password not accepted",
            errors=[FieldError(field=field, message=reason, code="weak_password")],
        )


# ------------------------------------------------------------------ registration


async def add_user(
    *,
    session: AsyncSession,
    email: str,
    password_hash: str | None,
    roles: list[str],
    verified_at: datetime | None = None,
) -> User:
    """Insert a user and its ``user.registered`` event; every way an account comes into
    being (registration, sign-in with a provider, demo data) goes through here."""
    user = User(
        id=uuid7(),
        email=normalise_email(email),
        password_hash=password_hash,
        roles=roles,
        email_verified=verified_at is not None,
        email_verified_at=verified_at,
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


async def register_user(
    *,
    session: AsyncSession,
    email: str,
    password: str,
    role: str,
    settings: AuthSettings,
    client: Client = audit.SYSTEM,
) -> User:
    email = normalise_email(email)
    check_password_strength(password, email=email, settings=settings)
    exists = await session.scalar(sa.select(User.id).where(User.email == email))
    if exists:
        raise ProblemError(409, "An account with this email already exists.", type_="email-taken")
    user = await add_user(
        session=session, email=email, password_hash=await hash_password(password), roles=[role]
    )
    await audit.record(session, AuditKind.user_registered, client=client, user_id=user.id, roles=user.roles)
    await send_verification(session=session, user=user, settings=settings, client=client)
    return user


# ------------------------------------------------------------------ one-time tokens


async def _issue_one_time_token(
    session: AsyncSession, *, user: User, purpose: str, expires_at: datetime
) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(
        OneTimeToken(
            id=uuid7(), user_id=user.id, purpose=purpose, token_hash=hash_token(raw), expires_at=expires_at
        )
    )
    await session.flush()
    return raw


@dataclass(frozen=True)
class TokenProblems:
    unknown: str
    used: str
    expired: str
    noun: str


VERIFICATION_PROBLEMS = TokenProblems(
    "verification-token-invalid", "verification-token-used", "verification-token-expired", "verification link"
)
RESET_PROBLEMS = TokenProblems("reset-token-invalid", "reset-token-used", "reset-token-expired", "reset link")


async def _redeemable(
    session: AsyncSession, *, raw: str, purpose: str, problems: TokenProblems, now: datetime
) -> OneTimeToken:
    row = await session.scalar(
        sa.select(OneTimeToken)
        .where(OneTimeToken.token_hash == hash_token(raw), OneTimeToken.purpose == purpose)
        .with_for_update()
    )
    if row is None:
        raise CheckFailed(404, f"This {problems.noun} is not valid.", type_=problems.unknown)
    if row.used_at is not None:
        raise ProblemError(400, f"This {problems.noun} was already used.", type_=problems.used)
    if row.expires_at <= now:
        raise ProblemError(
            410,
            f"This {problems.noun} has expired. Ask for a new one.",
            type_=problems.expired,
            title="Link expired",
        )
    return row


# ------------------------------------------------------------------ email verification


async def send_verification(
    *,
    session: AsyncSession,
    user: User,
    settings: AuthSettings,
    client: Client = audit.SYSTEM,
    reminder: bool = False,
    now: datetime | None = None,
) -> None:
    """Issue a verification token and publish the request for the email (the raw token
    travels only in the event, to the notifications service)."""
    now = now or _now()
    expires_at = now + timedelta(hours=settings.email_verification_ttl_hours)
    raw = await _issue_one_time_token(session, user=user, purpose=VERIFY_EMAIL, expires_at=expires_at)
    await enqueue(
        session,
        UserEmailVerificationRequested(
            user_id=user.id, email=user.email, token=raw, expires_at=expires_at, reminder=reminder
        ).to_event(source=SOURCE, subject=str(user.id)),
    )
    await audit.record(
        session, AuditKind.email_verification_sent, client=client, user_id=user.id, reminder=reminder
    )


async def verify_email(
    *, session: AsyncSession, token: str, client: Client = audit.SYSTEM, now: datetime | None = None
) -> User:
    now = now or _now()
    row = await _redeemable(session, raw=token, purpose=VERIFY_EMAIL, problems=VERIFICATION_PROBLEMS, now=now)
    row.used_at = now
    user = await session.get(User, row.user_id, with_for_update=True)
    assert user is not None  # cascade: tokens go with their user
    if not user.email_verified:
        user.email_verified = True
        user.email_verified_at = now
        await enqueue(
            session,
            UserEmailVerified(user_id=user.id, email=user.email, verified_at=now).to_event(
                source=SOURCE, subject=str(user.id)
            ),
        )
        await audit.record(session, AuditKind.email_verified, client=client, user_id=user.id)
    await session.flush()
    await session.refresh(user)
    return user


async def resend_verification(
    *, session: AsyncSession, email: str, settings: AuthSettings, client: Client = audit.SYSTEM
) -> None:
    """Sends a new link when an unverified account has this email; nothing otherwise
    (the caller answers the same either way)."""
    user = await session.scalar(sa.select(User).where(User.email == normalise_email(email)).with_for_update())
    if user is None or user.email_verified:
        return
    await send_verification(session=session, user=user, settings=settings, client=client)


async def send_due_reminders(
    *, session: AsyncSession, settings: AuthSettings, now: datetime, batch: int = 200
) -> int:
    """One reminder to each user still unverified ``verification_reminder_after_hours``
    after registering. Returns how many were sent; only the replica holding the
    advisory lock sends (the others return 0)."""
    got = await session.scalar(sa.text("SELECT pg_try_advisory_xact_lock(hashtext('auth.reminders'))"))
    if not got:
        return 0
    due = now - timedelta(hours=settings.verification_reminder_after_hours)
    users = (
        await session.scalars(
            sa.select(User)
            .where(
                User.email_verified.is_(False),
                User.verification_reminder_sent_at.is_(None),
                User.created_at <= due,
            )
            .order_by(User.created_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for user in users:
        user.verification_reminder_sent_at = now
        await send_verification(session=session, user=user, settings=settings, reminder=True, now=now)
    return len(users)


# ------------------------------------------------------------------ sign-in and tokens


async def authenticate(*, session: AsyncSession, email: str, password: str) -> User | None:
    """The user when the password is right; ``None`` otherwise, after the same work
    whether or not the email exists."""
    user = await session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not ok:
        return None
    if needs_rehash(user.password_hash or ""):
        user.password_hash = await hash_password(password)
    return user


async def user_id_by_email(*, session: AsyncSession, email: str) -> uuid.UUID | None:
    return await session.scalar(sa.select(User.id).where(User.email == normalise_email(email)))


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
    """A new access token and refresh token, in a new session or (``family_id``) in the
    session being refreshed. The access token's ``sid`` claim names the session."""
    now = _now()
    ttl = settings.access_token_ttl_seconds
    access_expires = now + timedelta(seconds=ttl)
    refresh_expires = now + timedelta(days=settings.refresh_token_ttl_days)
    user_agent = (user_agent or "")[:300] or None
    if family_id is None:
        device = UserSession(
            id=uuid7(),
            user_id=user.id,
            created_at=now,
            last_used_at=now,
            expires_at=refresh_expires,
            user_agent=user_agent,
            ip_address=ip_address,
        )
        session.add(device)
    else:
        found = await session.get(UserSession, family_id, with_for_update=True)
        if found is None or found.revoked_at is not None:
            raise ProblemError(401, "The refresh token is not valid.", type_="invalid-refresh-token")
        device = found
        device.last_used_at = now
        device.expires_at = refresh_expires
        device.user_agent = user_agent or device.user_agent
        device.ip_address = ip_address or device.ip_address
    jti = uuid.uuid4().hex
    device.last_access_jti = jti
    device.last_access_expires_at = access_expires
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user.id),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(access_expires.timestamp()),
        "jti": jti,
        "typ": "access",
        "sid": str(device.id),
        "roles": list(user.roles),
        "email_verified": user.email_verified,
    }
    access = await keys.sign(claims)
    refresh = secrets.token_urlsafe(32)
    await session.flush()  # the session row exists before its first refresh token
    session.add(
        RefreshToken(
            id=uuid7(),
            user_id=user.id,
            family_id=device.id,
            token_hash=hash_token(refresh),
            expires_at=refresh_expires,
            user_agent=user_agent,
            ip_address=ip_address,
        )
    )
    await session.flush()
    return TokenResponse(access_token=access, expires_in=ttl, refresh_token=refresh, user=user_out(user))


class RefreshTokenReused(Exception):
    """A used refresh token came back: its family is revoked."""

    def __init__(self, user_id: uuid.UUID, family_id: uuid.UUID, revoked: list[Revoked]) -> None:
        super().__init__("refresh token reused")
        self.user_id = user_id
        self.family_id = family_id
        self.revoked = revoked


async def rotate_refresh_token(
    *, session: AsyncSession, token: str, now: datetime | None = None
) -> tuple[User, uuid.UUID]:
    """Consume a refresh token: returns its user and family for the next pair.
    A token presented after it was used means it leaked: revoke the family."""
    now = now or _now()
    invalid = ProblemError(401, "The refresh token is not valid.", type_="invalid-refresh-token")
    row = await session.scalar(
        sa.select(RefreshToken).where(RefreshToken.token_hash == hash_token(token)).with_for_update()
    )
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise invalid
    if row.used_at is not None:
        revoked = await revoke_sessions(
            session=session, user_id=row.user_id, session_ids=[row.family_id], reason="refresh_token_reused"
        )
        # The caller must commit this revocation before answering (see api.refresh).
        raise RefreshTokenReused(row.user_id, row.family_id, revoked)
    row.used_at = now
    user = await session.get(User, row.user_id)
    if user is None:
        raise invalid
    return user, row.family_id


# ------------------------------------------------------------------ sessions


async def revoke_sessions(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    session_ids: list[uuid.UUID] | None = None,
    keep: uuid.UUID | None = None,
    reason: str,
    now: datetime | None = None,
) -> list[Revoked]:
    """Revoke the user's sessions (all of them, or ``session_ids``; never ``keep``) and
    their refresh tokens. Returns their newest access tokens, still valid, to denylist."""
    now = now or _now()
    where = [UserSession.user_id == user_id, UserSession.revoked_at.is_(None)]
    if session_ids is not None:
        where.append(UserSession.id.in_(session_ids))
    if keep is not None:
        where.append(UserSession.id != keep)
    rows = (
        await session.execute(
            sa.update(UserSession)
            .where(*where)
            .values(revoked_at=now, revoked_reason=reason)
            .returning(UserSession.id, UserSession.last_access_jti, UserSession.last_access_expires_at)
        )
    ).all()
    ids = [r.id for r in rows]
    if ids:
        await session.execute(
            sa.update(RefreshToken)
            .where(RefreshToken.family_id.in_(ids), RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    return [
        Revoked(r.last_access_jti, r.last_access_expires_at)
        for r in rows
        if r.last_access_jti and r.last_access_expires_at and r.last_access_expires_at > now
    ]


async def session_of_refresh_token(
    *, session: AsyncSession, token: str, user_id: uuid.UUID
) -> uuid.UUID | None:
    """The session (family) of a refresh token if it belongs to ``user_id``."""
    return await session.scalar(
        sa.select(RefreshToken.family_id).where(
            RefreshToken.token_hash == hash_token(token), RefreshToken.user_id == user_id
        )
    )


async def list_sessions(
    *, session: AsyncSession, user_id: uuid.UUID, current: uuid.UUID | None, page: PageParams
) -> Page[SessionOut]:
    """Active sessions, newest first (ids are time-ordered)."""
    stmt = sa.select(UserSession).where(
        UserSession.user_id == user_id,
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > _now(),
    )
    after = cursor_uuid(page)
    if after is not None:
        stmt = stmt.where(UserSession.id < after)
    rows = (await session.scalars(stmt.order_by(UserSession.id.desc()).limit(page.limit + 1))).all()
    items = [
        SessionOut(
            id=r.id,
            device=describe(r.user_agent),
            user_agent=r.user_agent,
            ip_address=r.ip_address,
            created_at=r.created_at,
            last_used_at=r.last_used_at,
            expires_at=r.expires_at,
            current=r.id == current,
        )
        for r in rows[: page.limit]
    ]
    next_cursor = encode_cursor({"id": str(rows[page.limit - 1].id)}) if len(rows) > page.limit else None
    return Page[SessionOut](items=items, next_cursor=next_cursor)


async def revoke_one_session(
    *, session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID, client: Client
) -> list[Revoked]:
    owner = await session.scalar(sa.select(UserSession.user_id).where(UserSession.id == session_id))
    if owner != user_id:  # someone else's sessions do not exist for this caller
        raise ProblemError(404, "No such session.", type_="session-not-found")
    revoked = await revoke_sessions(
        session=session, user_id=user_id, session_ids=[session_id], reason="revoked_by_user"
    )
    await audit.record(
        session, AuditKind.session_revoked, client=client, user_id=user_id, session_id=session_id
    )
    return revoked


async def revoke_all_sessions(
    *, session: AsyncSession, user: User, client: Client, keep: uuid.UUID | None = None
) -> list[Revoked]:
    revoked = await revoke_sessions(session=session, user_id=user.id, keep=keep, reason="revoked_all_by_user")
    await audit.record(
        session, AuditKind.all_sessions_revoked, client=client, user_id=user.id, kept_current=keep is not None
    )
    await _alert(session, user, SecurityEventKind.all_sessions_revoked)
    return revoked


# ------------------------------------------------------------------ passwords: reset and change


async def request_reset(
    *, session: AsyncSession, email: str, settings: AuthSettings, client: Client = audit.SYSTEM
) -> None:
    """Emails a reset link when an account has this email; nothing otherwise (the
    caller answers the same either way). A new link replaces the earlier ones."""
    now = _now()
    user = await session.scalar(sa.select(User).where(User.email == normalise_email(email)).with_for_update())
    if user is None:
        await audit.record(session, AuditKind.password_reset_requested, client=client, known_account=False)
        return
    await session.execute(
        sa.update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == RESET_PASSWORD,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    expires_at = now + timedelta(hours=settings.password_reset_ttl_hours)
    raw = await _issue_one_time_token(session, user=user, purpose=RESET_PASSWORD, expires_at=expires_at)
    await enqueue(
        session,
        UserPasswordResetRequested(
            user_id=user.id, email=user.email, token=raw, expires_at=expires_at
        ).to_event(source=SOURCE, subject=str(user.id)),
    )
    await audit.record(
        session, AuditKind.password_reset_requested, client=client, user_id=user.id, known_account=True
    )


async def reset_password(
    *, session: AsyncSession, token: str, password: str, settings: AuthSettings, client: Client
) -> tuple[User, list[Revoked]]:
    """Set a new password from a reset link; every session is signed out."""
    now = _now()
    row = await _redeemable(session, raw=token, purpose=RESET_PASSWORD, problems=RESET_PROBLEMS, now=now)
    user = await session.get(User, row.user_id, with_for_update=True)
    assert user is not None
    check_password_strength(password, email=user.email, settings=settings)
    row.used_at = now
    user.password_hash = await hash_password(password)
    user.password_changed_at = now
    revoked = await revoke_sessions(session=session, user_id=user.id, reason="password_reset", now=now)
    await audit.record(session, AuditKind.password_reset_completed, client=client, user_id=user.id)
    await _alert(session, user, SecurityEventKind.password_reset)
    return user, revoked


async def change_password(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    current_password: str,
    new_password: str,
    current_session: uuid.UUID | None,
    settings: AuthSettings,
    client: Client,
) -> tuple[User, list[Revoked]]:
    """Needs the current password; signs out every other session."""
    user = await _user(session, user_id, lock=True)
    if not await verify_password(user.password_hash, current_password):
        raise CheckFailed(400, "The current password is not correct.", type_="invalid-current-password")
    check_password_strength(new_password, email=user.email, settings=settings, field="new_password")
    if new_password == current_password:
        raise ProblemError(
            422,
            "The new password must differ from the current one.",
            type_="weak-password",
            errors=[FieldError(field="new_password", message="same as the current password")],
        )
    now = _now()
    user.password_hash = await hash_password(new_password)
    user.password_changed_at = now
    revoked = await revoke_sessions(
        session=session, user_id=user.id, keep=current_session, reason="password_changed", now=now
    )
    await audit.record(session, AuditKind.password_changed, client=client, user_id=user.id)
    await _alert(session, user, SecurityEventKind.password_changed)
    return user, revoked


async def _user(session: AsyncSession, user_id: uuid.UUID, *, lock: bool = False) -> User:
    user = await session.get(User, user_id, with_for_update=lock)
    if user is None:
        raise ProblemError(404, "This account no longer exists.", type_="user-not-found")
    return user


# ------------------------------------------------------------------ two-factor sign-in


async def setup_two_factor(
    *, session: AsyncSession, user_id: uuid.UUID, box: totp.SecretBox, settings: AuthSettings, client: Client
) -> TwoFactorSetup:
    user = await _user(session, user_id, lock=True)
    if user.two_factor_enabled:
        raise ProblemError(
            409, "Two-factor sign-in is already on; turn it off first.", type_="two-factor-already-enabled"
        )
    secret = totp.new_secret()
    user.totp_secret_encrypted = box.encrypt(secret)
    user.totp_last_step = None
    await audit.record(session, AuditKind.two_factor_setup_started, client=client, user_id=user.id)
    return TwoFactorSetup(
        secret=secret,
        otpauth_uri=totp.provisioning_uri(secret, email=user.email, issuer=settings.two_factor_issuer),
    )


def _check_totp(user: User, code: str, box: totp.SecretBox) -> bool:
    if user.totp_secret_encrypted is None:
        return False
    step = totp.matching_step(box.decrypt(user.totp_secret_encrypted), code, last_step=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


async def _use_recovery_code(session: AsyncSession, user: User, code: str) -> bool:
    row = await session.scalar(
        sa.select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == totp.hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    )
    if row is None:
        return False
    row.used_at = _now()
    return True


async def _new_recovery_codes(session: AsyncSession, user: User, count: int) -> list[str]:
    await session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes(count)
    session.add_all(
        RecoveryCode(id=uuid7(), user_id=user.id, code_hash=totp.hash_recovery_code(c)) for c in codes
    )
    await session.flush()
    return codes


WRONG_CODE = "The code is not correct (or was already used)."


async def enable_two_factor(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    code: str,
    box: totp.SecretBox,
    settings: AuthSettings,
    client: Client,
) -> RecoveryCodes:
    user = await _user(session, user_id, lock=True)
    if user.two_factor_enabled:
        raise ProblemError(409, "Two-factor sign-in is already on.", type_="two-factor-already-enabled")
    if user.totp_secret_encrypted is None:
        raise ProblemError(409, "Start with POST /api/v1/auth/2fa/setup.", type_="two-factor-not-set-up")
    if not _check_totp(user, code, box):
        raise CheckFailed(400, WRONG_CODE, type_="invalid-two-factor-code")
    user.totp_enabled_at = _now()
    codes = await _new_recovery_codes(session, user, settings.recovery_code_count)
    await audit.record(session, AuditKind.two_factor_enabled, client=client, user_id=user.id)
    await _alert(session, user, SecurityEventKind.two_factor_enabled)
    await session.flush()
    await session.refresh(user)
    return RecoveryCodes(recovery_codes=codes, user=user_out(user))


async def disable_two_factor(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    password: str | None,
    code: str | None,
    recovery_code: str | None,
    box: totp.SecretBox,
    client: Client,
) -> User:
    user = await _user(session, user_id, lock=True)
    if not user.two_factor_enabled:
        raise ProblemError(409, "Two-factor sign-in is not on.", type_="two-factor-not-enabled")
    if password is not None:
        ok = await verify_password(user.password_hash, password)
    elif code is not None:
        ok = _check_totp(user, code, box)
    else:
        ok = await _use_recovery_code(session, user, recovery_code or "")
    if not ok:
        what = "password" if password is not None else "code"
        raise CheckFailed(
            400,
            f"The {what} is not correct.",
            type_="invalid-credentials" if password else "invalid-two-factor-code",
        )
    user.totp_secret_encrypted = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    await session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await audit.record(session, AuditKind.two_factor_disabled, client=client, user_id=user.id)
    await _alert(session, user, SecurityEventKind.two_factor_disabled)
    await session.flush()
    await session.refresh(user)
    return user


async def regenerate_recovery_codes(
    *,
    session: AsyncSession,
    user_id: uuid.UUID,
    code: str,
    box: totp.SecretBox,
    settings: AuthSettings,
    client: Client,
) -> RecoveryCodes:
    user = await _user(session, user_id, lock=True)
    if not user.two_factor_enabled:
        raise ProblemError(409, "Two-factor sign-in is not on.", type_="two-factor-not-enabled")
    if not _check_totp(user, code, box):
        raise CheckFailed(400, WRONG_CODE, type_="invalid-two-factor-code")
    codes = await _new_recovery_codes(session, user, settings.recovery_code_count)
    await audit.record(session, AuditKind.recovery_codes_regenerated, client=client, user_id=user.id)
    return RecoveryCodes(recovery_codes=codes, user=user_out(user))


async def start_login_challenge(
    *, session: AsyncSession, user: User, settings: AuthSettings, client: Client
) -> TwoFactorChallenge:
    ttl = settings.two_factor_challenge_ttl_seconds
    raw = await _issue_one_time_token(
        session, user=user, purpose=LOGIN_CHALLENGE, expires_at=_now() + timedelta(seconds=ttl)
    )
    await audit.record(session, AuditKind.two_factor_required, client=client, user_id=user.id)
    return TwoFactorChallenge(challenge_token=raw, expires_in=ttl)


INVALID_CHALLENGE = ProblemError(
    401, "This sign-in has expired or is not valid; sign in again.", type_="invalid-challenge"
)


async def load_challenge(*, session: AsyncSession, token: str) -> tuple[OneTimeToken, User]:
    row = await session.scalar(
        sa.select(OneTimeToken)
        .where(OneTimeToken.token_hash == hash_token(token), OneTimeToken.purpose == LOGIN_CHALLENGE)
        .with_for_update()
    )
    if row is None or row.used_at is not None or row.expires_at <= _now():
        raise INVALID_CHALLENGE
    user = await session.get(User, row.user_id, with_for_update=True)
    if user is None or not user.two_factor_enabled:
        raise INVALID_CHALLENGE
    return row, user


async def answer_challenge(
    *,
    session: AsyncSession,
    challenge: OneTimeToken,
    user: User,
    code: str | None,
    recovery_code: str | None,
    box: totp.SecretBox,
    settings: AuthSettings,
    client: Client,
) -> str | None:
    """The method that passed (``totp`` or ``recovery_code``), or ``None``: then the
    failure is recorded (and the challenge burnt after too many), for the caller to
    commit before it refuses."""
    now = _now()
    if code is not None:
        method = "totp" if _check_totp(user, code, box) else None
    else:
        method = "recovery_code" if await _use_recovery_code(session, user, recovery_code or "") else None
    if method is None:
        challenge.attempts += 1
        if challenge.attempts >= settings.two_factor_challenge_max_attempts:
            challenge.used_at = now
        await audit.record(
            session,
            AuditKind.two_factor_failed,
            client=client,
            user_id=user.id,
            method="recovery_code" if code is None else "totp",
        )
        return None
    challenge.used_at = now
    if method == "recovery_code":
        left = await session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        await audit.record(
            session, AuditKind.recovery_code_used, client=client, user_id=user.id, remaining=left
        )
    return method
