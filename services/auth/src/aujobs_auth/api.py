from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.idempotency import run_idempotent
from aujobs_common.security import CurrentPrincipal

from . import service
from .keys import KeyManager
from .models import User
from .schemas import LoginRequest, RefreshRequest, RegisterRequest, TokenResponse, UserOut
from .settings import AuthSettings

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], responses=PROBLEM_RESPONSES)
wellknown = APIRouter(tags=["auth"])


def _keys(request: Request) -> KeyManager:
    return runtime_of(request).extras["keys"]


def _settings(request: Request) -> AuthSettings:
    return runtime_of(request).settings  # type: ignore[return-value]


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


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
            )
            return 201, UserOut.model_validate(user)

        response = await run_idempotent(
            session,
            key=idempotency_key,
            principal=f"anonymous:{body.email.lower()}",
            method="POST",
            path=request.url.path,
            # The password never enters the fingerprint (it is stored).
            body=body.model_dump(exclude={"password"}),
            create=create,
        )
    runtime.events_committed()
    return response


@router.post("/login", response_model=TokenResponse, summary="Sign in with email and password")
async def login(body: LoginRequest, request: Request) -> TokenResponse:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        user = await service.authenticate(session=session, email=body.email, password=body.password)
        return await service.issue_tokens(
            session=session,
            user=user,
            keys=_keys(request),
            settings=_settings(request),
            user_agent=request.headers.get("user-agent"),
            ip_address=_client_ip(request),
        )


@router.post("/refresh", response_model=TokenResponse, summary="Exchange a refresh token for new tokens")
async def refresh(body: RefreshRequest, request: Request) -> TokenResponse:
    runtime = runtime_of(request)
    reused = False
    async with runtime.db.transaction() as session:
        try:
            user, family = await service.rotate_refresh_token(session=session, token=body.refresh_token)
        except service.RefreshTokenReused:
            reused = True  # commit the family revocation, then refuse
        else:
            return await service.issue_tokens(
                session=session,
                user=user,
                keys=_keys(request),
                settings=_settings(request),
                family_id=family,
                user_agent=request.headers.get("user-agent"),
                ip_address=_client_ip(request),
            )
    assert reused
    raise ProblemError(
        401,
        "This refresh token was already used; every session from it is signed out.",
        type_="refresh-token-reused",
    )


@router.get("/me", response_model=UserOut, summary="The signed-in user")
async def me(principal: CurrentPrincipal, request: Request) -> UserOut:
    async with runtime_of(request).db.session() as session:
        user = await session.get(User, principal.user_id)
    if user is None:
        raise ProblemError(404, "This account no longer exists.")
    return UserOut.model_validate(user)


@wellknown.get("/.well-known/jwks.json", summary="Public keys that verify access tokens")
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(await _keys(request).jwks(), headers={"Cache-Control": "public, max-age=300"})
