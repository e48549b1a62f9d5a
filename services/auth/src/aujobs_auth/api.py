from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.app import ServiceRuntime, runtime_of
from aujobs_common.clientip import client_ip
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.idempotency import run_idempotent
from aujobs_common.pagination import Page, PageParams, page_params
from aujobs_common.security import CurrentPrincipal, Principal, require_roles

from . import audit, service
from .audit import AuditKind, Client
from .keys import KeyManager
from .models import User
from .schemas import (
    Accepted,
    AuditEventOut,
    ChangePasswordRequest,
    EmailRequest,
    LoginRequest,
    LogoutRequest,
    RecoveryCodes,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    SessionOut,
    SigningKeyOut,
    TokenResponse,
    TwoFactorChallenge,
    TwoFactorCodeRequest,
    TwoFactorDisableRequest,
    TwoFactorLoginRequest,
    TwoFactorSetup,
    UserOut,
)
from .service import CheckFailed, Revoked
from .settings import AuthSettings
from .throttle import Policy, Throttle, email_key
from .totp import SecretBox

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=PROBLEM_RESPONSES)
wellknown = APIRouter(tags=["auth"])

Admin = Annotated[Principal, Depends(require_roles("admin"))]
TokenPath = Annotated[str, Path(min_length=10, max_length=200, description="The token from the email")]
T = TypeVar("T")

# A denylisted token stays listed this much past its expiry (verifiers allow clock skew).
DENYLIST_MARGIN_SECONDS = 60


# ------------------------------------------------------------------ helpers


def _keys(request: Request) -> KeyManager:
    return runtime_of(request).extras["keys"]


def _settings(request: Request) -> AuthSettings:
    return runtime_of(request).settings  # type: ignore[return-value]


def _throttle(request: Request) -> Throttle:
    return runtime_of(request).extras["throttle"]


def _box(request: Request) -> SecretBox:
    return runtime_of(request).extras["totp_box"]


def _policy(settings: AuthSettings, limit: int) -> Policy:
    return Policy(
        limit=limit,
        base_delay=settings.throttle_base_delay_seconds,
        max_delay=settings.throttle_max_delay_seconds,
        window=settings.throttle_window_seconds,
    )


def client_of(request: Request) -> Client:
    """The caller's address: the peer's, or the one the gateway forwarded when the peer
    is a trusted proxy (TRUSTED_PROXIES)."""
    networks = runtime_of(request).extras.get("trusted_proxies", ())
    return Client(ip=client_ip(request, networks), user_agent=request.headers.get("user-agent"))


def _session_id(principal: Principal) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(principal.claims["sid"]))
    except (KeyError, ValueError):
        return None


def _own_token(principal: Principal) -> list[Revoked]:
    if principal.token_id and principal.expires_at:
        return [Revoked(principal.token_id, principal.expires_at)]
    return []


async def _denylist(request: Request, revoked: list[Revoked], *, strict: bool = False) -> None:
    """Denylist access tokens until they expire (after the revocation committed)."""
    denylist = runtime_of(request).extras["denylist"]
    now = datetime.now(UTC)
    try:
        for entry in {r.jti: r for r in revoked}.values():
            ttl = int((entry.expires_at - now).total_seconds()) + DENYLIST_MARGIN_SECONDS
            if ttl > 0:
                await denylist.revoke(entry.jti, ttl)
    except RedisError as exc:
        log.error("token denylist unavailable", extra={"error_type": type(exc).__name__})
        if strict:
            raise ProblemError(
                503,
                "Signing out could not be completed; please retry.",
                type_="service-unavailable",
                headers={"Retry-After": "5"},
            ) from exc


async def _record(runtime: ServiceRuntime, kind: AuditKind, **kwargs: Any) -> None:
    """An audit entry in a transaction of its own (for refusals, whose work rolls back)."""
    async with runtime.db.transaction() as session:
        await audit.record(session, kind, **kwargs)


async def _guarded(
    request: Request,
    policies: dict[str, Policy],
    action: Callable[[], Awaitable[T]],
    *,
    failure: AuditKind | None = None,
    user_id: uuid.UUID | None = None,
) -> T:
    """Run ``action`` unless one of the counters is locked; a :class:`CheckFailed`
    (wrong code, password or token) counts against them and is audited."""
    throttle = _throttle(request)
    await throttle.check(*policies)
    try:
        return await action()
    except CheckFailed:
        await throttle.hit(policies)
        if failure is not None:
            await _record(runtime_of(request), failure, client=client_of(request), user_id=user_id)
        raise


# ------------------------------------------------------------------ accounts and sign-in


@router.post("/register", status_code=201, response_model=UserOut, summary="Create an account")
async def register(
    body: RegisterRequest,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    runtime = runtime_of(request)

    async with runtime.db.transaction() as session:

        async def create() -> tuple[int, Any]:
            user = await service.register_user(
                session=session,
                email=body.email,
                password=body.password,
                role=body.role,
                settings=_settings(request),
                client=client_of(request),
            )
            return 201, service.user_out(user)

        response = await run_idempotent(
            session,
            key=idempotency_key,
            principal=f"anonymous:{body.email.lower()}",
            request=request,
            # The password never enters the fingerprint (it is stored).
            body=body.model_dump(exclude={"password"}),
            create=create,
        )
    runtime.events_committed()
    return response


async def sign_in(
    request: Request, session: AsyncSession, user: User, *, method: str, second_factor_done: bool = False
) -> TokenResponse | TwoFactorChallenge:
    """The end of every successful sign-in (password, second factor, provider): a
    two-factor challenge when the account needs one, else tokens, and the audit entry."""
    settings, client = _settings(request), client_of(request)
    if user.two_factor_enabled and not second_factor_done:
        return await service.start_login_challenge(
            session=session, user=user, settings=settings, client=client
        )
    tokens = await service.issue_tokens(
        session=session,
        user=user,
        keys=_keys(request),
        settings=settings,
        user_agent=client.user_agent,
        ip_address=client.ip,
    )
    await audit.record(session, AuditKind.login_succeeded, client=client, user_id=user.id, method=method)
    return tokens


@router.post(
    "/login",
    response_model=TokenResponse | TwoFactorChallenge,
    summary="Sign in with email and password",
    description="Answers with tokens, or — when the account has two-factor sign-in — with a "
    "challenge to complete at `POST /api/v1/auth/login/2fa`. A wrong password and an unknown "
    "email give the same answer; repeated failures per account and per IP wait (429).",
)
async def login(body: LoginRequest, request: Request) -> TokenResponse | TwoFactorChallenge:
    runtime = runtime_of(request)
    settings = _settings(request)
    client = client_of(request)
    throttle = _throttle(request)
    account = f"login:account:{email_key(body.email)}"
    by_ip = f"login:ip:{client.ip}"
    try:
        await throttle.check(account, by_ip)
    except ProblemError:
        await _record(
            runtime, AuditKind.login_throttled, client=client, email=service.normalise_email(body.email)
        )
        raise
    async with runtime.db.transaction() as session:
        user = await service.authenticate(session=session, email=body.email, password=body.password)
        if user is not None:
            await throttle.reset(account)
            return await sign_in(request, session, user, method="password")
        await audit.record(
            session,
            AuditKind.login_failed,
            client=client,
            # for the admins' trail only; the caller's answer is the same either way
            user_id=await service.user_id_by_email(session=session, email=body.email),
            email=service.normalise_email(body.email),
        )
    await throttle.hit(
        {
            account: _policy(settings, settings.login_failures_per_account),
            by_ip: _policy(settings, settings.login_failures_per_ip),
        }
    )
    raise service.INVALID_CREDENTIALS


@router.post(
    "/login/2fa", response_model=TokenResponse, summary="Complete a sign-in with a TOTP or recovery code"
)
async def login_two_factor(body: TwoFactorLoginRequest, request: Request) -> TokenResponse:
    runtime = runtime_of(request)
    settings = _settings(request)
    client = client_of(request)
    throttle = _throttle(request)
    async with runtime.db.transaction() as session:
        challenge, user = await service.load_challenge(session=session, token=body.challenge_token)
        policies = {
            f"2fa:account:{user.id}": _policy(settings, settings.two_factor_failures_per_account),
            f"2fa:ip:{client.ip}": _policy(settings, settings.two_factor_failures_per_ip),
        }
        await throttle.check(*policies)
        method = await service.answer_challenge(
            session=session,
            challenge=challenge,
            user=user,
            code=body.code,
            recovery_code=body.recovery_code,
            box=_box(request),
            settings=settings,
            client=client,
        )
        if method is not None:
            await throttle.reset(f"2fa:account:{user.id}")
            tokens = await sign_in(request, session, user, method=method, second_factor_done=True)
            assert isinstance(tokens, TokenResponse)
            return tokens
    await throttle.hit(policies)
    raise ProblemError(401, service.WRONG_CODE, type_="invalid-two-factor-code")


@router.post("/refresh", response_model=TokenResponse, summary="Exchange a refresh token for new tokens")
async def refresh(body: RefreshRequest, request: Request) -> TokenResponse:
    runtime = runtime_of(request)
    client = client_of(request)
    async with runtime.db.transaction() as session:
        try:
            user, family = await service.rotate_refresh_token(session=session, token=body.refresh_token)
        except service.RefreshTokenReused as reused:
            # commit the family revocation, then refuse
            await audit.record(
                session,
                AuditKind.refresh_token_reused,
                client=client,
                user_id=reused.user_id,
                session_id=reused.family_id,
            )
            revoked = reused.revoked
        else:
            return await service.issue_tokens(
                session=session,
                user=user,
                keys=_keys(request),
                settings=_settings(request),
                family_id=family,
                user_agent=client.user_agent,
                ip_address=client.ip,
            )
    await _denylist(request, revoked)
    raise ProblemError(
        401,
        "This refresh token was already used; every session from it is signed out.",
        type_="refresh-token-reused",
    )


@router.post(
    "/logout",
    status_code=204,
    summary="Sign out this session",
    description="Revokes the session of the access token (and of the refresh token, when "
    "sent) and denylists the access token until it expires.",
)
async def logout(
    principal: CurrentPrincipal, request: Request, body: LogoutRequest | None = None
) -> Response:
    runtime = runtime_of(request)
    ids = {sid} if (sid := _session_id(principal)) else set()
    async with runtime.db.transaction() as session:
        if body is not None and body.refresh_token:
            family = await service.session_of_refresh_token(
                session=session, token=body.refresh_token, user_id=principal.user_id
            )
            if family is not None:
                ids.add(family)
        revoked = (
            await service.revoke_sessions(
                session=session, user_id=principal.user_id, session_ids=list(ids), reason="logout"
            )
            if ids
            else []
        )
        await audit.record(
            session,
            AuditKind.logout,
            client=client_of(request),
            user_id=principal.user_id,
            sessions=sorted(str(i) for i in ids),
        )
    await _denylist(request, [*revoked, *_own_token(principal)], strict=True)
    return Response(status_code=204)


@router.get("/me", response_model=UserOut, summary="The signed-in user")
async def me(principal: CurrentPrincipal, request: Request) -> UserOut:
    async with runtime_of(request).db.session() as session:
        user = await session.get(User, principal.user_id)
    if user is None:
        raise ProblemError(404, "This account no longer exists.")
    return service.user_out(user)


# ------------------------------------------------------------------ sessions


@router.get("/sessions", response_model=Page[SessionOut], summary="My signed-in devices")
async def list_sessions(
    principal: CurrentPrincipal, request: Request, page: Annotated[PageParams, Depends(page_params)]
) -> Page[SessionOut]:
    async with runtime_of(request).db.session() as session:
        return await service.list_sessions(
            session=session, user_id=principal.user_id, current=_session_id(principal), page=page
        )


@router.delete("/sessions/{session_id}", status_code=204, summary="Sign out one of my sessions")
async def revoke_session(session_id: uuid.UUID, principal: CurrentPrincipal, request: Request) -> Response:
    async with runtime_of(request).db.transaction() as session:
        revoked = await service.revoke_one_session(
            session=session, user_id=principal.user_id, session_id=session_id, client=client_of(request)
        )
    if session_id == _session_id(principal):
        revoked += _own_token(principal)
    await _denylist(request, revoked)
    return Response(status_code=204)


@router.post("/sessions/revoke-all", status_code=204, summary="Sign out all my sessions")
async def revoke_all_sessions(
    principal: CurrentPrincipal,
    request: Request,
    keep_current: Annotated[bool, Query(description="Keep this session signed in")] = False,
) -> Response:
    runtime = runtime_of(request)
    current = _session_id(principal)
    async with runtime.db.transaction() as session:
        user = await session.get(User, principal.user_id)
        if user is None:
            raise ProblemError(404, "This account no longer exists.")
        revoked = await service.revoke_all_sessions(
            session=session, user=user, client=client_of(request), keep=current if keep_current else None
        )
    runtime.events_committed()
    if not keep_current:
        revoked += _own_token(principal)
    await _denylist(request, revoked)
    return Response(status_code=204)


# ------------------------------------------------------------------ email verification


async def _verify_email(token: str, request: Request) -> UserOut:
    runtime = runtime_of(request)
    settings = _settings(request)
    client = client_of(request)

    async def verify() -> User:
        async with runtime.db.transaction() as session:
            return await service.verify_email(session=session, token=token, client=client)

    user = await _guarded(
        request, {f"token:ip:{client.ip}": _policy(settings, settings.token_failures_per_ip)}, verify
    )
    runtime.events_committed()
    return service.user_out(user)


VERIFY_DESCRIPTION = (
    "Single use. An expired token is a 410 problem `verification-token-expired`; a used one "
    "400 `verification-token-used`; an unknown one 404 `verification-token-invalid`."
)


@router.get(
    "/verify-email/{token}",
    response_model=UserOut,
    summary="Verify an email address (the link in the email)",
    description=VERIFY_DESCRIPTION,
)
async def verify_email_link(token: TokenPath, request: Request) -> UserOut:
    return await _verify_email(token, request)


@router.post(
    "/verify-email/{token}",
    response_model=UserOut,
    summary="Verify an email address with the token from the email",
    description=VERIFY_DESCRIPTION,
)
async def verify_email(token: TokenPath, request: Request) -> UserOut:
    return await _verify_email(token, request)


async def _email_request(request: Request, action: str, email: str) -> None:
    """The per-address and per-IP limits of the emailed actions (every request counts;
    the address is counted whether or not it has an account)."""
    settings = _settings(request)
    client = client_of(request)
    throttle = _throttle(request)
    policies = {
        f"{action}:address:{email_key(email)}": _policy(settings, settings.email_requests_per_address),
        f"{action}:ip:{client.ip}": _policy(settings, settings.email_requests_per_ip),
    }
    await throttle.check(*policies)
    await throttle.hit(policies)


async def _emailed_action(
    request: Request, action: str, email: str, act: Callable[..., Awaitable[object]]
) -> None:
    """An action that emails an address (resend verification, request a reset): throttled
    per address and IP, done in one transaction with its event, answered the same way
    whether or not the address has an account."""
    runtime = runtime_of(request)
    await _email_request(request, action, email)
    async with runtime.db.transaction() as session:
        await act(session=session, email=email, settings=_settings(request), client=client_of(request))
    runtime.events_committed()


RESEND_ACCEPTED = Accepted(
    detail="If an account with this email still needs verifying, a new verification email is on its way."
)


@router.post(
    "/resend-verification",
    status_code=202,
    response_model=Accepted,
    summary="Send the verification email again",
    description="Always 202 with the same body, whether or not the address has an account.",
)
async def resend_verification(body: EmailRequest, request: Request) -> Accepted:
    await _emailed_action(request, "resend", body.email, service.resend_verification)
    return RESEND_ACCEPTED


# ------------------------------------------------------------------ passwords


RESET_ACCEPTED = Accepted(detail="If an account uses this email, a link to reset its password is on its way.")


@router.post(
    "/request-reset",
    status_code=202,
    response_model=Accepted,
    summary="Email a password-reset link",
    description="Always 202 with the same body, whether or not the address has an account.",
)
async def request_reset(body: EmailRequest, request: Request) -> Accepted:
    await _emailed_action(request, "reset", body.email, service.request_reset)
    return RESET_ACCEPTED


@router.post(
    "/reset-password/{token}",
    status_code=204,
    summary="Set a new password with the token from the reset email",
    description="Single use; expires after PASSWORD_RESET_TTL_HOURS. Signs out every session.",
)
async def reset_password(token: TokenPath, body: ResetPasswordRequest, request: Request) -> Response:
    runtime = runtime_of(request)
    settings = _settings(request)
    client = client_of(request)

    async def reset() -> tuple[User, list[Revoked]]:
        async with runtime.db.transaction() as session:
            return await service.reset_password(
                session=session, token=token, password=body.password, settings=settings, client=client
            )

    user, revoked = await _guarded(
        request, {f"token:ip:{client.ip}": _policy(settings, settings.token_failures_per_ip)}, reset
    )
    runtime.events_committed()
    await _denylist(request, revoked)
    # The owner proved control of the mailbox: lift a lockout on the account.
    await _throttle(request).reset(f"login:account:{email_key(user.email)}")
    return Response(status_code=204)


@router.post(
    "/change-password",
    status_code=204,
    summary="Change my password",
    description="Needs the current password; every other session is signed out.",
)
async def change_password(
    body: ChangePasswordRequest, principal: CurrentPrincipal, request: Request
) -> Response:
    runtime = runtime_of(request)
    settings = _settings(request)
    client = client_of(request)

    async def change() -> list[Revoked]:
        async with runtime.db.transaction() as session:
            _, revoked = await service.change_password(
                session=session,
                user_id=principal.user_id,
                current_password=body.current_password,
                new_password=body.new_password,
                current_session=_session_id(principal),
                settings=settings,
                client=client,
            )
            return revoked

    revoked = await _guarded(
        request,
        {
            f"password:account:{principal.user_id}": _policy(settings, settings.login_failures_per_account),
            f"login:ip:{client.ip}": _policy(settings, settings.login_failures_per_ip),
        },
        change,
        failure=AuditKind.login_failed,
        user_id=principal.user_id,
    )
    runtime.events_committed()
    await _denylist(request, revoked)
    return Response(status_code=204)


# ------------------------------------------------------------------ two-factor sign-in


def _two_factor_policies(request: Request, user_id: uuid.UUID) -> dict[str, Policy]:
    settings = _settings(request)
    return {
        f"2fa:account:{user_id}": _policy(settings, settings.two_factor_failures_per_account),
        f"2fa:ip:{client_of(request).ip}": _policy(settings, settings.two_factor_failures_per_ip),
    }


@router.post(
    "/2fa/setup",
    response_model=TwoFactorSetup,
    summary="Start turning on two-factor sign-in",
    description="Returns a new TOTP secret and its otpauth:// URI (for a QR code). Nothing "
    "changes at sign-in until `POST /2fa/enable` confirms a code from the app.",
)
async def two_factor_setup(principal: CurrentPrincipal, request: Request) -> TwoFactorSetup:
    async with runtime_of(request).db.transaction() as session:
        return await service.setup_two_factor(
            session=session,
            user_id=principal.user_id,
            box=_box(request),
            settings=_settings(request),
            client=client_of(request),
        )


@router.post(
    "/2fa/enable",
    response_model=RecoveryCodes,
    summary="Turn on two-factor sign-in",
    description="Confirms a code from the authenticator app; answers with 10 one-time "
    "recovery codes, shown this once.",
)
async def two_factor_enable(
    body: TwoFactorCodeRequest, principal: CurrentPrincipal, request: Request
) -> RecoveryCodes:
    runtime = runtime_of(request)

    async def enable() -> RecoveryCodes:
        async with runtime.db.transaction() as session:
            return await service.enable_two_factor(
                session=session,
                user_id=principal.user_id,
                code=body.code,
                box=_box(request),
                settings=_settings(request),
                client=client_of(request),
            )

    result = await _guarded(
        request,
        _two_factor_policies(request, principal.user_id),
        enable,
        failure=AuditKind.two_factor_failed,
        user_id=principal.user_id,
    )
    runtime.events_committed()
    return result


@router.post(
    "/2fa/disable",
    response_model=UserOut,
    summary="Turn off two-factor sign-in",
    description="Confirm with exactly one of: the password, a current code, a recovery code.",
)
async def two_factor_disable(
    body: TwoFactorDisableRequest, principal: CurrentPrincipal, request: Request
) -> UserOut:
    runtime = runtime_of(request)

    async def disable() -> User:
        async with runtime.db.transaction() as session:
            return await service.disable_two_factor(
                session=session,
                user_id=principal.user_id,
                password=body.password,
                code=body.code,
                recovery_code=body.recovery_code,
                box=_box(request),
                client=client_of(request),
            )

    user = await _guarded(
        request,
        _two_factor_policies(request, principal.user_id),
        disable,
        failure=AuditKind.two_factor_failed,
        user_id=principal.user_id,
    )
    runtime.events_committed()
    return service.user_out(user)


@router.post(
    "/2fa/recovery-codes",
    response_model=RecoveryCodes,
    summary="Replace my recovery codes",
    description="Confirm with a current code; the old recovery codes stop working.",
)
async def two_factor_recovery_codes(
    body: TwoFactorCodeRequest, principal: CurrentPrincipal, request: Request
) -> RecoveryCodes:
    async def regenerate() -> RecoveryCodes:
        async with runtime_of(request).db.transaction() as session:
            return await service.regenerate_recovery_codes(
                session=session,
                user_id=principal.user_id,
                code=body.code,
                box=_box(request),
                settings=_settings(request),
                client=client_of(request),
            )

    return await _guarded(
        request,
        _two_factor_policies(request, principal.user_id),
        regenerate,
        failure=AuditKind.two_factor_failed,
        user_id=principal.user_id,
    )


# ------------------------------------------------------------------ administration


@router.post(
    "/keys/rotate",
    response_model=SigningKeyOut,
    summary="Rotate the token signing key (admin)",
    description="Publishes a new key in the JWKS now; it signs from `activates_at` "
    "(SIGNING_KEY_PUBLISH_AHEAD_SECONDS later), when the current key retires.",
)
async def rotate_keys(admin: Admin, request: Request) -> SigningKeyOut:
    keys = _keys(request)
    settings = _settings(request)
    async with runtime_of(request).db.transaction() as session:
        key = await keys.rotate_in(
            session, publish_ahead=timedelta(seconds=settings.signing_key_publish_ahead_seconds)
        )
        await audit.record(
            session,
            AuditKind.signing_key_rotated,
            client=client_of(request),
            actor_id=admin.user_id,
            kid=key.kid,
            reason="manual",
        )
    await keys.reload()
    return SigningKeyOut(kid=key.kid, activates_at=key.activates_at)


@router.get("/audit", response_model=Page[AuditEventOut], summary="The security audit log (admin)")
async def audit_log(
    admin: Admin,
    request: Request,
    page: Annotated[PageParams, Depends(page_params)],
    user_id: Annotated[uuid.UUID | None, Query(description="Events of (or by) this user")] = None,
    kind: Annotated[list[AuditKind] | None, Query(description="Event kinds (repeatable)")] = None,
    since: Annotated[datetime | None, Query(description="Events at or after this time")] = None,
    until: Annotated[datetime | None, Query(description="Events before this time")] = None,
) -> Page[AuditEventOut]:
    async with runtime_of(request).db.session() as session:
        return await audit.query(session, page=page, user_id=user_id, kinds=kind, since=since, until=until)


@wellknown.get("/.well-known/jwks.json", summary="Public keys that verify access tokens")
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(await _keys(request).jwks(), headers={"Cache-Control": "public, max-age=300"})
