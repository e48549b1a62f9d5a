"""Sign in with Google and LinkedIn: the use cases behind oauth_api.py.

A flow starts with a row in ``oauth_flows`` (hashed ``state``, encrypted PKCE verifier,
``nonce``, the linking user, ``return_to``), is used once by the callback, and on a
successful sign-in carries a single-use exchange code (hashed, short-lived) that the
frontend swaps for the normal token response — tokens never travel in URLs.

Who signs in (DESIGN.md §4, issue 3):
* a known identity (provider, sub) signs its user in;
* otherwise an account with the same email is linked only when the provider says the
  email is verified (else ``email_not_verified``: sign in and link explicitly);
* otherwise a new ``job_seeker`` account is created with the provider's profile."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.db import Database
from aujobs_common.errors import ProblemError
from aujobs_common.events import SecurityEventKind, UserEmailVerified
from aujobs_common.ids import uuid7
from aujobs_common.outbox import enqueue

from . import audit, service
from .audit import AuditKind, Client
from .models import OAuthFlow, OAuthIdentity, User
from .oidc import (
    PROVIDERS,
    OIDCClient,
    OIDCError,
    Provider,
    TokenBox,
    claim_true,
    new_code_verifier,
    providers_from,
)
from .settings import AuthSettings

log = logging.getLogger(__name__)

DISPLAY = {"google": "Google", "linkedin": "LinkedIn"}
_TOKEN_EARLY_REFRESH = timedelta(seconds=30)


class FlowFailed(Exception):
    """The callback ends with the browser back at the frontend with ``?error=code``."""

    def __init__(self, code: str, reason: str = "") -> None:
        super().__init__(reason or code)
        self.code = code
        self.reason = reason or code


class ProviderTokenUnavailable(Exception):
    """No usable provider access token for this user (not linked, or no refresh token)."""


@dataclass(frozen=True)
class Started:
    url: str
    state: str


def _now() -> datetime:
    return datetime.now(UTC)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _text(value: Any, limit: int = 2000) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


class OAuthService:
    def __init__(self, db: Database, settings: AuthSettings) -> None:
        self.db = db
        self.settings = settings
        self.providers = providers_from(settings)
        self.box = TokenBox(settings.auth_key_encryption_secret)
        self.http = httpx.AsyncClient(timeout=settings.oauth_http_timeout_seconds, follow_redirects=False)
        self.client = OIDCClient(self.http, cache_seconds=settings.oauth_metadata_cache_seconds)

    async def close(self) -> None:
        await self.http.aclose()

    # ------------------------------------------------------------------ helpers

    def provider(self, name: str) -> Provider:
        provider = self.providers.get(name)
        if provider is None:
            raise ProblemError(404, "No such sign-in provider.", type_="provider-not-found")
        if not provider.enabled:
            raise ProblemError(
                404,
                f"Sign-in with {DISPLAY[name]} is not enabled on this server.",
                type_="provider-disabled",
            )
        return provider

    def redirect_uri(self, name: str) -> str:
        return f"{self.settings.oauth_redirect_base_url.rstrip('/')}/api/v1/auth/{name}/callback"

    def frontend_callback(self, **params: str | None) -> str:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.settings.frontend_url.rstrip('/')}/auth/callback?{query}"

    def validate_return_to(self, value: str | None) -> str | None:
        """``return_to`` must stay on the frontend: a path, or a URL of its origin."""
        if not value:
            return None
        frontend = self.settings.frontend_url.rstrip("/")
        if any(ch in value for ch in "\\\r\n\t") or len(value) > 2000:
            raise _bad_return_to()
        if value.startswith("/") and not value.startswith("//"):
            return frontend + value
        target, base = urlsplit(value), urlsplit(frontend)
        if (target.scheme, target.netloc) == (base.scheme, base.netloc) and target.scheme in (
            "http",
            "https",
        ):
            return value
        raise _bad_return_to()

    # ------------------------------------------------------------------ starting a flow

    async def start(
        self, name: str, *, link_user_id: uuid.UUID | None = None, return_to: str | None = None
    ) -> Started:
        """Record a pending flow and build the provider's authorization URL
        (raises :class:`OIDCError` when the provider's discovery is unreachable)."""
        provider = self.provider(name)
        return_to = self.validate_return_to(return_to)
        state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), new_code_verifier()
        url = await self.client.authorization_url(
            provider, redirect_uri=self.redirect_uri(name), state=state, nonce=nonce, verifier=verifier
        )
        now = _now()
        async with self.db.transaction() as session:
            # Expired flows are of no use to anyone: tidy a few up on the way.
            await session.execute(
                sa.delete(OAuthFlow).where(
                    OAuthFlow.id.in_(
                        sa.select(OAuthFlow.id)
                        .where(OAuthFlow.expires_at < now - timedelta(days=1))
                        .limit(100)
                        .scalar_subquery()
                    )
                )
            )
            session.add(
                OAuthFlow(
                    id=uuid7(),
                    provider=name,
                    state_hash=_hash(state),
                    code_verifier_encrypted=self.box.encrypt(verifier),
                    nonce=nonce,
                    link_user_id=link_user_id,
                    return_to=return_to,
                    expires_at=now + timedelta(seconds=self.settings.oauth_flow_ttl_seconds),
                )
            )
        return Started(url=url, state=state)

    # ------------------------------------------------------------------ the callback

    async def complete(
        self,
        name: str,
        *,
        code: str | None,
        state: str | None,
        error: str | None,
        cookie_state: str | None,
        client: Client,
    ) -> tuple[str, bool]:
        """Finish a flow; returns (frontend URL to redirect to, whether events were written)."""
        flow: OAuthFlow | None = None
        try:
            flow = await self._consume_state(name, state, cookie_state)
            if error:
                raise FlowFailed("access_denied" if error == "access_denied" else "provider_error", error)
            if not code:
                raise FlowFailed("provider_error", "no code")
            provider = self.providers[name]
            try:
                verifier = self.box.decrypt(flow.code_verifier_encrypted)
                tokens = await self.client.exchange_code(
                    provider, code=code, redirect_uri=self.redirect_uri(name), verifier=verifier
                )
                claims = await self.client.verify_id_token(
                    provider, tokens["id_token"], nonce=flow.nonce, access_token=tokens.get("access_token")
                )
            except OIDCError as exc:
                raise FlowFailed(exc.code, str(exc)) from exc
            try:
                async with self.db.transaction() as session:
                    url = await self._resolve(session, flow.id, provider, claims, tokens, client)
            except IntegrityError as exc:  # a concurrent callback linked the same identity
                raise FlowFailed("identity_in_use", "concurrent link") from exc
            return url, True
        except FlowFailed as failed:
            log.info("oauth flow failed", extra={"provider": name, "error_code": failed.code})
            async with self.db.transaction() as session:
                await audit.record(
                    session,
                    AuditKind.oauth_failed,
                    client=client,
                    user_id=flow.link_user_id if flow else None,
                    provider=name,
                    error=failed.code,
                    reason=failed.reason[:300],
                )
            return self.frontend_callback(error=failed.code, provider=name), False

    async def _consume_state(self, name: str, state: str | None, cookie_state: str | None) -> OAuthFlow:
        """The pending flow of ``state``, marked used (committed) before anything else."""
        if not state or name not in PROVIDERS:
            raise FlowFailed("invalid_state", "no state")
        now = _now()
        async with self.db.transaction() as session:
            flow = await session.scalar(
                sa.select(OAuthFlow)
                .where(OAuthFlow.state_hash == _hash(state), OAuthFlow.provider == name)
                .with_for_update()
            )
            if flow is None:
                raise FlowFailed("invalid_state", "unknown state")
            if flow.used_at is not None:
                raise FlowFailed("invalid_state", "state already used")
            flow.used_at = now
            if flow.expires_at <= now:
                reason = "state expired"
            elif not (cookie_state and hmac.compare_digest(cookie_state.encode(), state.encode())):
                # A flow must finish in the browser that started it: no login CSRF, and no
                # linking someone else's provider account to an attacker's user.
                reason = "state not bound to this browser"
            else:
                reason = ""
        if reason:
            raise FlowFailed("invalid_state", reason)
        return flow

    async def _resolve(
        self,
        session: AsyncSession,
        flow_id: uuid.UUID,
        provider: Provider,
        claims: dict[str, Any],
        tokens: dict[str, Any],
        client: Client,
    ) -> str:
        name = provider.name
        flow = await session.get(OAuthFlow, flow_id, with_for_update=True)
        assert flow is not None
        email = service.normalise_email(claims["email"]) if isinstance(claims.get("email"), str) else None
        verified = bool(email) and claim_true(claims.get("email_verified"))
        identity = await session.scalar(
            sa.select(OAuthIdentity)
            .where(OAuthIdentity.provider == name, OAuthIdentity.subject == claims["sub"])
            .with_for_update()
        )

        if flow.link_user_id is not None:  # an explicit link by a signed-in user
            user = await session.get(User, flow.link_user_id, with_for_update=True)
            if user is None:
                raise FlowFailed("invalid_state", "linking user is gone")
            if identity is not None and identity.user_id != user.id:
                raise FlowFailed("identity_in_use", "identity belongs to another account")
            if identity is None:
                identity = await self._link(session, user, name, claims["sub"], client, alert=True)
            self._update(identity, claims, tokens, email=email, verified=verified)
            return self.frontend_callback(linked=name, provider=name, return_to=flow.return_to)

        if identity is not None:
            user = await session.get(User, identity.user_id)
            assert user is not None
        else:
            if not email:
                raise FlowFailed("email_required", "the provider gave no email")
            user = await session.scalar(sa.select(User).where(User.email == email).with_for_update())
            if user is not None:
                if not verified:
                    raise FlowFailed("email_not_verified", "email matches an account, not verified")
                taken = await session.scalar(
                    sa.select(OAuthIdentity.id).where(
                        OAuthIdentity.user_id == user.id, OAuthIdentity.provider == name
                    )
                )
                if taken is not None:
                    raise FlowFailed(
                        "account_exists_sign_in_to_link", "account has another identity of this provider"
                    )
                identity = await self._link(session, user, name, claims["sub"], client, alert=True, auto=True)
                if not user.email_verified:  # the provider vouches for the address
                    now = _now()
                    user.email_verified, user.email_verified_at = True, now
                    await enqueue(
                        session,
                        UserEmailVerified(user_id=user.id, email=user.email, verified_at=now).to_event(
                            source=service.SOURCE, subject=str(user.id)
                        ),
                    )
                    await audit.record(
                        session, AuditKind.email_verified, client=client, user_id=user.id, method=name
                    )
            else:
                user = await self._create_user(session, email, verified, name, client)
                identity = await self._link(session, user, name, claims["sub"], client, alert=False)
        self._update(identity, claims, tokens, email=email, verified=verified)
        identity.last_login_at = _now()

        raw = secrets.token_urlsafe(32)
        flow.user_id = user.id
        flow.exchange_code_hash = _hash(raw)
        flow.exchange_expires_at = _now() + timedelta(seconds=self.settings.oauth_exchange_code_ttl_seconds)
        return self.frontend_callback(code=raw, provider=name, return_to=flow.return_to)

    async def _create_user(
        self, session: AsyncSession, email: str, verified: bool, name: str, client: Client
    ) -> User:
        user = await service.add_user(
            session=session,
            email=email,
            password_hash=None,
            roles=["job_seeker"],
            verified_at=_now() if verified else None,
        )
        await audit.record(
            session, AuditKind.user_registered, client=client, user_id=user.id, roles=user.roles, method=name
        )
        if not verified:
            await service.send_verification(session=session, user=user, settings=self.settings, client=client)
        return user

    async def _link(
        self,
        session: AsyncSession,
        user: User,
        name: str,
        subject: str,
        client: Client,
        *,
        alert: bool,
        auto: bool = False,
    ) -> OAuthIdentity:
        existing = await session.scalar(
            sa.select(OAuthIdentity.id).where(
                OAuthIdentity.user_id == user.id, OAuthIdentity.provider == name
            )
        )
        if existing is not None:
            raise FlowFailed("provider_already_linked", "this account already has another identity here")
        identity = OAuthIdentity(id=uuid7(), user_id=user.id, provider=name, subject=subject)
        session.add(identity)
        await session.flush()
        await audit.record(
            session, AuditKind.provider_linked, client=client, user_id=user.id, provider=name, automatic=auto
        )
        if alert:
            await service._alert(session, user, SecurityEventKind.provider_linked, detail=DISPLAY[name])
        return identity

    def _update(
        self,
        identity: OAuthIdentity,
        claims: dict[str, Any],
        tokens: dict[str, Any],
        *,
        email: str | None,
        verified: bool,
    ) -> None:
        identity.email = email
        identity.email_verified = verified
        identity.name = _text(claims.get("name"), 300)
        identity.picture = _text(claims.get("picture"))
        headline = _text(claims.get("headline"), 500)
        if headline is not None or identity.provider != "linkedin":
            identity.headline = headline
        self._store_tokens(identity, tokens)

    def _store_tokens(self, identity: OAuthIdentity, tokens: dict[str, Any]) -> None:
        identity.access_token_encrypted = self.box.encrypt(tokens["access_token"])
        try:
            expires_in = int(float(tokens["expires_in"]))
        except (KeyError, TypeError, ValueError):
            expires_in = None  # the provider did not say: treat as valid until refused
        identity.access_token_expires_at = _now() + timedelta(seconds=expires_in) if expires_in else None
        if isinstance(tokens.get("refresh_token"), str) and tokens["refresh_token"]:
            identity.refresh_token_encrypted = self.box.encrypt(tokens["refresh_token"])

    # ------------------------------------------------------------------ exchange code

    async def redeem(self, session: AsyncSession, code: str) -> tuple[User, str]:
        """The user and provider of a single-use exchange code (marked used)."""
        invalid = ProblemError(
            400,
            "This sign-in code is not valid, was already used or has expired; sign in again.",
            type_="invalid-exchange-code",
        )
        flow = await session.scalar(
            sa.select(OAuthFlow).where(OAuthFlow.exchange_code_hash == _hash(code)).with_for_update()
        )
        if flow is None or flow.user_id is None or flow.exchanged_at is not None:
            raise invalid
        flow.exchanged_at = _now()
        if flow.exchange_expires_at is None or flow.exchange_expires_at <= flow.exchanged_at:
            raise invalid
        user = await session.get(User, flow.user_id, with_for_update=True)
        if user is None:
            raise invalid
        return user, flow.provider

    # ------------------------------------------------------------------ identities

    async def identities(self, session: AsyncSession, user_id: uuid.UUID) -> list[OAuthIdentity]:
        return list(
            (
                await session.scalars(
                    sa.select(OAuthIdentity)
                    .where(OAuthIdentity.user_id == user_id)
                    .order_by(OAuthIdentity.id)
                )
            ).all()
        )

    async def unlink(self, session: AsyncSession, user_id: uuid.UUID, name: str, client: Client) -> None:
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            raise ProblemError(404, "This account no longer exists.", type_="user-not-found")
        linked = await self.identities(session, user_id)
        identity = next((i for i in linked if i.provider == name), None)
        if identity is None:
            raise ProblemError(404, f"{DISPLAY.get(name, name)} is not linked.", type_="identity-not-found")
        if user.password_hash is None and len(linked) == 1:
            raise ProblemError(
                409,
                "This is the only way to sign in to this account: set a password (reset it by email) "
                "or link another provider first.",
                type_="last-sign-in-method",
            )
        await session.delete(identity)
        await audit.record(
            session, AuditKind.provider_unlinked, client=client, user_id=user.id, provider=name
        )
        await service._alert(session, user, SecurityEventKind.provider_unlinked, detail=DISPLAY[name])

    # ------------------------------------------------------------------ provider tokens

    async def provider_access_token(self, user_id: uuid.UUID, provider: str) -> str:
        """A current access token for calling ``provider``'s APIs as the user: the
        stored one while valid, else a new one from the refresh-token grant (stored,
        with the rotated refresh token). The row is locked meanwhile, so concurrent
        callers refresh once. Raises :class:`ProviderTokenUnavailable` or
        :class:`~aujobs_auth.oidc.OIDCError`."""
        config = self.provider(provider)
        async with self.db.transaction() as session:
            identity = await session.scalar(
                sa.select(OAuthIdentity)
                .where(OAuthIdentity.user_id == user_id, OAuthIdentity.provider == provider)
                .with_for_update()
            )
            if identity is None:
                raise ProviderTokenUnavailable(f"{provider} is not linked")
            expires = identity.access_token_expires_at
            if identity.access_token_encrypted is not None and (
                expires is None or expires > _now() + _TOKEN_EARLY_REFRESH
            ):
                return self.box.decrypt(identity.access_token_encrypted)
            if identity.refresh_token_encrypted is None:
                raise ProviderTokenUnavailable(
                    f"the {provider} access token expired and there is no refresh token"
                )
            tokens = await self.client.refresh(
                config, refresh_token=self.box.decrypt(identity.refresh_token_encrypted)
            )
            self._store_tokens(identity, tokens)
            return tokens["access_token"]


def _bad_return_to() -> ProblemError:
    return ProblemError(422, "return_to must be a page of the frontend.", type_="invalid-return-to")
