"""Routes of "Sign in with Google / LinkedIn" (logic in oauth.py, protocol in oidc.py).

* ``GET /api/v1/auth/{google|linkedin}[?return_to=]`` → 302 to the provider
* ``GET /api/v1/auth/{provider}/callback`` → 302 to ``{FRONTEND_URL}/auth/callback`` with
  ``?code=…`` (swap it at ``POST /api/v1/auth/oauth/exchange``), ``?linked=…`` after a
  link, or ``?error=…``
* ``POST /api/v1/auth/{provider}/link`` (signed in) → the authorization URL to open
* ``GET /api/v1/auth/identities``, ``DELETE /api/v1/auth/identities/{provider}``"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from aujobs_common.app import runtime_of
from aujobs_common.errors import PROBLEM_RESPONSES, ProblemError
from aujobs_common.security import CurrentPrincipal

from .api import client_of, sign_in
from .oauth import OAuthService
from .oidc import PROVIDERS, OIDCError
from .schemas import TokenResponse, TwoFactorChallenge

router = APIRouter(
    prefix="/api/v1/auth", tags=["sign in with Google and LinkedIn"], responses=PROBLEM_RESPONSES
)

ProviderName = Literal["google", "linkedin"]
COOKIE = "aujobs_oauth_state"
ReturnTo = Annotated[
    str | None, Query(max_length=2000, description="A page of the frontend to return to afterwards")
]


class ExchangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=20, max_length=200, description="The code from the callback redirect")


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    return_to: str | None = Field(default=None, max_length=2000)


class AuthorizationUrl(BaseModel):
    authorization_url: str
    expires_in: int


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider: ProviderName
    email: str | None
    email_verified: bool
    name: str | None
    picture: str | None
    headline: str | None
    created_at: datetime
    last_login_at: datetime | None


def _oauth(request: Request) -> OAuthService:
    return runtime_of(request).extras["oauth"]


def _cookie_path(provider: str) -> str:
    return f"/api/v1/auth/{provider}/callback"


@router.get("/identities", response_model=list[IdentityOut], summary="My linked Google / LinkedIn accounts")
async def list_identities(principal: CurrentPrincipal, request: Request) -> list[IdentityOut]:
    async with runtime_of(request).db.session() as session:
        rows = await _oauth(request).identities(session, principal.user_id)
    return [IdentityOut.model_validate(r) for r in rows]


@router.delete(
    "/identities/{provider}",
    status_code=204,
    summary="Unlink Google or LinkedIn",
    description="Refused (409 `last-sign-in-method`) when the account has no password and no "
    "other linked provider.",
)
async def unlink_identity(provider: ProviderName, principal: CurrentPrincipal, request: Request) -> Response:
    runtime = runtime_of(request)
    async with runtime.db.transaction() as session:
        await _oauth(request).unlink(session, principal.user_id, provider, client_of(request))
    runtime.events_committed()
    return Response(status_code=204)


@router.post(
    "/oauth/exchange",
    response_model=TokenResponse | TwoFactorChallenge,
    summary="Swap the code from a Google / LinkedIn sign-in for tokens",
    description="Single use, valid OAUTH_EXCHANGE_CODE_TTL_SECONDS. Accounts with two-factor "
    "sign-in get a challenge to complete at `POST /api/v1/auth/login/2fa`.",
)
async def exchange(body: ExchangeRequest, request: Request) -> TokenResponse | TwoFactorChallenge:
    async with runtime_of(request).db.transaction() as session:
        user, provider = await _oauth(request).redeem(session, body.code)
        return await sign_in(request, session, user, method=provider)


def _bind_to_browser(response: Response, oauth: OAuthService, name: str, state: str) -> None:
    """The flow's state in an HttpOnly cookie for the callback: a flow finishes only in
    the browser that started it (a link must be started with credentials included)."""
    response.set_cookie(
        COOKIE,
        state,
        max_age=oauth.settings.oauth_flow_ttl_seconds,
        path=_cookie_path(name),
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back
        secure=oauth.settings.oauth_redirect_base_url.startswith("https://"),
    )


def _add_provider_routes(name: str) -> None:
    display = {"google": "Google", "linkedin": "LinkedIn"}[name]

    async def start(request: Request, return_to: ReturnTo = None) -> RedirectResponse:
        oauth = _oauth(request)
        try:
            started = await oauth.start(name, return_to=return_to)
        except OIDCError:
            return RedirectResponse(oauth.frontend_callback(error="provider_unavailable", provider=name), 302)
        response = RedirectResponse(started.url, status_code=302)
        _bind_to_browser(response, oauth, name, started.state)
        return response

    async def callback(
        request: Request,
        code: Annotated[str | None, Query(max_length=2000)] = None,
        state: Annotated[str | None, Query(max_length=200)] = None,
        error: Annotated[str | None, Query(max_length=200)] = None,
    ) -> RedirectResponse:
        oauth = _oauth(request)
        url, wrote_events = await oauth.complete(
            name,
            code=code,
            state=state,
            error=error,
            cookie_state=request.cookies.get(COOKIE),
            client=client_of(request),
        )
        if wrote_events:
            runtime_of(request).events_committed()
        response = RedirectResponse(url, status_code=302)
        if state and request.cookies.get(COOKIE) == state:  # a forged callback keeps a real flow's cookie
            response.delete_cookie(COOKIE, path=_cookie_path(name))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def link(
        principal: CurrentPrincipal, request: Request, response: Response, body: LinkRequest | None = None
    ) -> AuthorizationUrl:
        oauth = _oauth(request)
        try:
            started = await oauth.start(
                name, link_user_id=principal.user_id, return_to=body.return_to if body else None
            )
        except OIDCError as exc:
            raise ProblemError(
                503,
                f"{display} cannot be reached right now; please retry shortly.",
                type_="provider-unavailable",
                headers={"Retry-After": "30"},
            ) from exc
        _bind_to_browser(response, oauth, name, started.state)
        return AuthorizationUrl(
            authorization_url=started.url, expires_in=oauth.settings.oauth_flow_ttl_seconds
        )

    router.add_api_route(
        f"/{name}",
        start,
        methods=["GET"],
        status_code=302,
        response_class=RedirectResponse,
        summary=f"Sign in with {display}",
        description=f"Redirects to {display} (OpenID Connect, authorization code with PKCE). "
        "404 `provider-disabled` when not configured.",
    )
    router.add_api_route(
        f"/{name}/callback",
        callback,
        methods=["GET"],
        status_code=302,
        response_class=RedirectResponse,
        summary=f"{display} returns here",
        description="Redirects to `{FRONTEND_URL}/auth/callback` with `code` (for "
        "`POST /api/v1/auth/oauth/exchange`), `linked`, or `error` (access_denied, invalid_state, "
        "provider_unavailable, invalid_grant, invalid_id_token, email_required, email_not_verified, "
        "account_exists_sign_in_to_link, identity_in_use, provider_already_linked, provider_error).",
    )
    router.add_api_route(
        f"/{name}/link",
        link,
        methods=["POST"],
        response_model=AuthorizationUrl,
        summary=f"Link {display} to my account",
        description="Returns the URL to send the browser to; the callback links the account. "
        "Call it with credentials included: the answer sets the cookie that binds the flow to "
        "this browser (a link URL opened in another browser fails with `invalid_state`).",
    )


for _name in PROVIDERS:
    _add_provider_routes(_name)
