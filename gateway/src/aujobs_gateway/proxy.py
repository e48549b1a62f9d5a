"""The gateway's request path: rate limits, token verification, and the streaming
reverse proxy to the upstream service of each area."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect

from aujobs_common.errors import PROBLEM_JSON, ProblemError, problem_response
from aujobs_common.observability import inject_trace_headers
from aujobs_common.security import (
    InvalidToken,
    JWKSClient,
    KeySource,
    MemoryDenylist,
    Principal,
    RedisDenylist,
    TokenDenylist,
    TokenVerifier,
    bearer_token,
    unauthorized,
)

from .openapi import SpecSource, merge_openapi
from .ratelimit import Decision, RateLimiter, most_restrictive
from .routing import (
    JWKS_PATH,
    RoutePatterns,
    SubRoutes,
    area_of,
    client_response_headers,
    has_dot_segments,
    upstream_request_headers,
)
from .settings import GatewaySettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("aujobs.gateway")

UPSTREAM_REQUESTS = Counter(
    "aujobs_gateway_upstream_requests_total",
    "Requests the gateway sent upstream, by area and outcome (HTTP status, timeout, error)",
    ["upstream", "status"],
)
RATE_LIMITED = Counter(
    "aujobs_gateway_rate_limited_total",
    "Requests refused by a gateway rate limit",
    ["scope"],
)


def route_path(request: Request) -> str:
    """The decoded path exactly as the upstream's router will see it (``request.url.path``
    would cut it at a percent-encoded ``?``)."""
    return request.scope["path"]


class DenylistUnavailable(Exception):
    """The revocation list cannot be read: the token cannot be trusted right now."""


class _GuardedDenylist:
    """Turns Redis failures into :class:`DenylistUnavailable` (fail closed: a revoked
    token must not get through because Redis is down)."""

    def __init__(self, inner: RedisDenylist) -> None:
        self.inner = inner

    async def is_revoked(self, jti: str) -> bool:
        try:
            return await self.inner.is_revoked(jti)
        except (RedisError, OSError) as exc:
            raise DenylistUnavailable(type(exc).__name__) from exc

    async def revoke(self, jti: str, ttl_seconds: int) -> None:
        await self.inner.revoke(jti, ttl_seconds)


class _NoCookies(DefaultCookiePolicy):
    """The shared upstream clients must never keep one user's cookies."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        return False


class BodyTooLarge(Exception):
    pass


class _LimitedBody:
    """The client's body streamed through, counted; over ``limit`` bytes it stops."""

    def __init__(self, request: Request, limit: int) -> None:
        self.request = request
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.disconnected = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.request.stream():
                self.received += len(chunk)
                if self.received > self.limit:
                    self.exceeded = True
                    raise BodyTooLarge
                if chunk:
                    yield chunk
        except ClientDisconnect:
            self.disconnected = True
            raise


@dataclass
class Upstream:
    name: str
    base_url: httpx.URL
    client: httpx.AsyncClient
    timeout: dict[str, float | None]
    areas: list[str] = field(default_factory=list)

    def url(self, raw_path: bytes, query: bytes) -> httpx.URL:
        prefix = self.base_url.raw_path.split(b"?", 1)[0].rstrip(b"/")
        return self.base_url.copy_with(raw_path=prefix + raw_path + (b"?" + query if query else b""))


def problem_with(response: JSONResponse, **extensions: Any) -> JSONResponse:
    """A problem response with extension members (RFC 9457 §3.2)."""
    body = json.loads(bytes(response.body))
    body.update(extensions)
    headers = {k: v for k, v in response.headers.items() if k not in {"content-length", "content-type"}}
    return JSONResponse(body, status_code=response.status_code, media_type=PROBLEM_JSON, headers=headers)


class Gateway:
    """Everything the gateway holds between requests; on ``app.state.gateway``."""

    def __init__(
        self,
        settings: GatewaySettings,
        *,
        transports: dict[str, httpx.AsyncBaseTransport] | None = None,
        key_source: KeySource | None = None,
        jwks_http: httpx.AsyncClient | None = None,
        denylist: TokenDenylist | None = None,
    ) -> None:
        self.settings = settings
        transports = dict(transports or {})
        self._owned: list[Any] = []

        self.redis: Redis | None = None
        if settings.redis_url:
            self.redis = Redis.from_url(
                settings.redis_url,
                socket_connect_timeout=1.0,
                socket_timeout=1.0,
                health_check_interval=30,
            )
        else:
            log.info("no REDIS_URL: rate limits and the token denylist are in-process only")
        self.limiter = RateLimiter(
            self.redis,
            window_seconds=settings.rate_limit_window_seconds,
            prefix=settings.rate_limit_key_prefix,
        )
        self.denylist: TokenDenylist
        if denylist is not None:
            self.denylist = denylist
        elif self.redis is not None:
            self.denylist = _GuardedDenylist(RedisDenylist(self.redis))
        else:
            self.denylist = MemoryDenylist()

        if key_source is None:
            if jwks_http is None and "auth" in transports:
                # embedded: fetch the JWKS from the in-process auth service
                jwks_http = httpx.AsyncClient(transport=transports["auth"], timeout=5.0)
                self._owned.append(jwks_http)
            jwks = JWKSClient(settings.jwks_url, http=jwks_http, cache_seconds=settings.jwks_cache_seconds)
            self._owned.append(jwks)
            key_source = jwks
        self.verifier = TokenVerifier(
            key_source,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            algorithms=settings.jwt_algorithms,
            denylist=self.denylist,
        )

        self.public_routes = RoutePatterns(settings.public_routes)
        self.subroutes = SubRoutes(settings.gateway_subroutes)
        self.auth_limited_routes = RoutePatterns(settings.auth_rate_limit_routes)
        self.upload_limited_routes = RoutePatterns(settings.upload_rate_limit_routes)
        self.upstreams = self._build_upstreams(transports)
        self._openapi: tuple[float, dict[str, Any]] | None = None
        self._openapi_lock = asyncio.Lock()

    # -- upstream clients ---------------------------------------------------------

    def _build_upstreams(self, transports: dict[str, httpx.AsyncBaseTransport]) -> dict[str, Upstream]:
        s = self.settings
        timeout = httpx.Timeout(s.upstream_timeout_seconds, connect=s.upstream_connect_timeout_seconds)
        limits = httpx.Limits(
            max_connections=s.upstream_max_connections,
            max_keepalive_connections=s.upstream_max_keepalive_connections,
        )
        cookies = httpx.Cookies(CookieJar(policy=_NoCookies()))
        shared: dict[tuple[str, Any], Upstream] = {}
        by_area: dict[str, Upstream] = {}
        for area in sorted(set(s.gateway_routes) | set(transports)):
            base = httpx.URL(s.gateway_routes.get(area) or f"http://{area}.internal")
            transport = transports.get(area)
            key: tuple[str, Any] = ("transport", id(transport)) if transport else ("url", str(base))
            upstream = shared.get(key)
            if upstream is None:
                client = httpx.AsyncClient(
                    transport=transport,
                    limits=limits,
                    timeout=timeout,
                    cookies=cookies,
                    follow_redirects=False,
                    trust_env=False,
                )
                upstream = Upstream(name=area, base_url=base, client=client, timeout=timeout.as_dict())
                shared[key] = upstream
                self._owned.append(client)
            upstream.areas.append(area)
            by_area[area] = upstream
        return by_area

    async def aclose(self) -> None:
        for resource in reversed(self._owned):
            try:
                await resource.aclose()
            except Exception:  # pragma: no cover - best effort on shutdown
                log.warning("close failed", extra={"resource": type(resource).__name__})
        self._owned.clear()
        if self.redis is not None:
            await self.redis.aclose()

    # -- rate limits --------------------------------------------------------------

    @staticmethod
    def client_ip(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def _limit(self, decisions: list[Decision]) -> dict[str, str]:
        chosen = most_restrictive(decisions)
        if chosen is None:
            return {}
        headers = chosen.headers()
        if not chosen.allowed:
            RATE_LIMITED.labels(chosen.scope).inc()
            raise ProblemError(
                429,
                f"Too many requests ({chosen.scope} limit: {chosen.limit} per "
                f"{self.limiter.window} s). Retry after {chosen.reset_seconds} s.",
                type_="rate-limited",
                headers={**headers, "Retry-After": str(chosen.reset_seconds)},
            )
        return headers

    async def limit_ip(self, request: Request) -> tuple[list[Decision], dict[str, str]]:
        ip = self.client_ip(request)
        decisions = [
            d
            for d in [await self.limiter.hit("ip", ip, self.settings.rate_limit_per_minute)]
            if d is not None
        ]
        if self.auth_limited_routes.matches(request.method, route_path(request)):
            d = await self.limiter.hit("auth", ip, self.settings.auth_rate_limit_per_minute)
            if d is not None:
                decisions.append(d)
        return decisions, self._limit(decisions)

    # -- identity -----------------------------------------------------------------

    async def authenticate(self, request: Request, headers: dict[str, str]) -> Principal | None:
        try:
            token = bearer_token(request)
        except ProblemError as exc:
            exc.headers = {**headers, **exc.headers}
            raise
        if token is None:
            if not self.is_public(request.method, route_path(request)):
                raise ProblemError(
                    401,
                    "Sign in: this requires an access token.",
                    type_="authentication-required",
                    headers={**headers, "WWW-Authenticate": "Bearer"},
                )
            return None
        try:
            return await self.verifier.verify(token)
        except InvalidToken as exc:
            problem = unauthorized(exc.reason)
            problem.headers = {**headers, **problem.headers}
            raise problem from exc
        except DenylistUnavailable as exc:
            log.error("token denylist unavailable", extra={"error_type": str(exc)})
            raise ProblemError(
                503,
                "Sign-in state cannot be checked right now; please retry shortly.",
                type_="service-unavailable",
                headers={**headers, "Retry-After": "5"},
            ) from exc

    def is_public(self, method: str, path: str) -> bool:
        """Open without a token. A path a subroute hands to another service is never
        public through its parent area's globs (``GET /api/v1/jobs/*`` must not open a
        job's applicants)."""
        return self.public_routes.matches(method, path) and self.subroutes.area_for(path) is None

    # -- the proxy ----------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        path = route_path(request)
        decisions, rate_headers = await self.limit_ip(request)
        if has_dot_segments(path):
            raise ProblemError(400, "The path must not contain '.' or '..' segments.", headers=rate_headers)
        area = area_of(path, self.subroutes)
        upstream = self.upstreams.get(area) if area else None
        if area is None or upstream is None:
            raise ProblemError(404, "No service answers this path.", type_="not-found", headers=rate_headers)

        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                declared_bytes = int(declared)
            except ValueError:
                raise ProblemError(400, "Content-Length is not a number.", headers=rate_headers) from None
            if declared_bytes > self.settings.max_body_bytes:
                raise self._too_large(rate_headers)

        principal = await self.authenticate(request, rate_headers)
        if principal is not None:
            user = await self.limiter.hit(
                "user", str(principal.user_id), self.settings.rate_limit_user_per_minute
            )
            if user is not None:
                decisions.append(user)
                rate_headers = self._limit(decisions)
        if self.upload_limited_routes.matches(request.method, path):
            uploader = str(principal.user_id) if principal is not None else self.client_ip(request)
            upload = await self.limiter.hit("upload", uploader, self.settings.upload_rate_limit_per_minute)
            if upload is not None:
                decisions.append(upload)
                rate_headers = self._limit(decisions)
        return await self.forward(request, area, upstream, principal, rate_headers)

    def _too_large(self, headers: dict[str, str]) -> ProblemError:
        return ProblemError(
            413,
            f"The request body is larger than {self.settings.max_body_bytes} bytes.",
            type_="payload-too-large",
            headers=headers,
        )

    def upstream_headers(self, request: Request, principal: Principal | None) -> list[tuple[str, str]]:
        headers = upstream_request_headers(request.headers.raw)
        client_ip = self.client_ip(request)
        headers.append(("x-forwarded-for", client_ip))
        headers.append(("x-real-ip", client_ip))
        headers.append(("x-forwarded-proto", request.url.scheme))
        host = request.headers.get("host")
        if host:
            headers.append(("x-forwarded-host", host))
        if principal is not None:
            headers.append(("x-user-id", str(principal.user_id)))
            headers.append(("x-user-roles", ",".join(sorted(principal.roles))))
        return headers

    async def forward(
        self,
        request: Request,
        area: str,
        upstream: Upstream,
        principal: Principal | None,
        rate_headers: dict[str, str],
    ) -> Response:
        headers = self.upstream_headers(request, principal)
        has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
        body = _LimitedBody(request, self.settings.max_body_bytes) if has_body else None
        raw_path: bytes = request.scope.get("raw_path") or quote(route_path(request)).encode("ascii")
        url = upstream.url(raw_path.split(b"?", 1)[0], request.scope.get("query_string", b""))

        started = time.perf_counter()
        with tracer.start_as_current_span(f"{request.method} {area}", kind=SpanKind.CLIENT) as span:
            span.set_attribute("aujobs.upstream", area)
            carrier: dict[str, str] = {}
            inject_trace_headers(carrier)
            headers.extend(carrier.items())
            upstream_request = httpx.Request(
                request.method,
                url,
                headers=headers,
                content=body,
                extensions={"timeout": upstream.timeout},
            )
            try:
                response = await upstream.client.send(upstream_request, stream=True)
            except Exception as exc:
                return self._failed(exc, area, body, rate_headers)
            span.set_attribute("http.response.status_code", response.status_code)

        UPSTREAM_REQUESTS.labels(area, str(response.status_code)).inc()
        if body is not None and body.exceeded:  # the upstream answered before reading it all
            await response.aclose()
            raise self._too_large(rate_headers)
        log.debug(
            "proxied",
            extra={
                "upstream": area,
                "status": response.status_code,
                "ms": (time.perf_counter() - started) * 1000,
            },
        )
        out = StreamingResponse(
            _relay(response),
            status_code=response.status_code,
            background=BackgroundTask(response.aclose),
        )
        raw = client_response_headers(response.headers.raw)
        present = {name for name, _ in raw}
        raw.extend(
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in rate_headers.items()
            if k.lower().encode("latin-1") not in present
        )
        out.raw_headers = raw
        return out

    def _failed(
        self, exc: Exception, area: str, body: _LimitedBody | None, headers: dict[str, str]
    ) -> Response:
        if body is not None and body.exceeded:
            UPSTREAM_REQUESTS.labels(area, "aborted").inc()
            raise self._too_large(headers) from None
        if body is not None and body.disconnected:
            UPSTREAM_REQUESTS.labels(area, "aborted").inc()
            # nobody is listening; a response is needed all the same
            return Response(status_code=499)
        if isinstance(exc, httpx.TimeoutException):
            UPSTREAM_REQUESTS.labels(area, "timeout").inc()
            log.warning("upstream timed out", extra={"upstream": area, "error_type": type(exc).__name__})
            raise ProblemError(
                504,
                f"The {area} service did not answer in time.",
                type_="upstream-timeout",
                headers=headers,
            ) from None
        if isinstance(exc, httpx.TransportError):
            UPSTREAM_REQUESTS.labels(area, "error").inc()
            log.warning("upstream unreachable", extra={"upstream": area, "error_type": type(exc).__name__})
            raise ProblemError(
                502,
                f"The {area} service is not reachable.",
                type_="upstream-unavailable",
                headers=headers,
            ) from None
        raise exc

    # -- readiness and the merged OpenAPI --------------------------------------------

    def _distinct_upstreams(self) -> list[Upstream]:
        seen: dict[int, Upstream] = {}
        for upstream in self.upstreams.values():
            seen.setdefault(id(upstream), upstream)
        return list(seen.values())

    async def readiness(self) -> Response:
        timeout = self.settings.readiness_timeout_seconds

        async def probe(upstream: Upstream) -> str:
            try:
                response = await asyncio.wait_for(
                    upstream.client.get(upstream.url(b"/readyz", b""), timeout=timeout), timeout
                )
            except (TimeoutError, httpx.TimeoutException):
                return "unavailable: timeout"
            except httpx.HTTPError as exc:
                return f"unavailable: {type(exc).__name__}"
            if response.status_code != 200:
                return f"not ready: HTTP {response.status_code}"
            return "ok"

        upstreams = self._distinct_upstreams()
        results = await asyncio.gather(*(probe(u) for u in upstreams))
        status = {area: result for u, result in zip(upstreams, results, strict=True) for area in u.areas}
        status = dict(sorted(status.items()))
        down = [area for area, result in status.items() if result != "ok"]
        extra: dict[str, Any] = {}
        if self.redis is not None:
            # informational: without Redis, rate limits fall back to in-process counters
            # and authenticated requests fail closed (503), anonymous ones still work
            extra["redis"] = await self._redis_status(timeout)
        if not down:
            return JSONResponse({"status": "ready", "upstreams": status, **extra})
        detail = "Not ready: " + ", ".join(f"{area} ({status[area]})" for area in down)
        return problem_with(
            problem_response(503, detail, instance="/readyz"), upstreams=status, down=down, **extra
        )

    async def _redis_status(self, timeout: float) -> str:
        assert self.redis is not None
        try:
            await asyncio.wait_for(self.redis.ping(), timeout)
        except (RedisError, OSError, TimeoutError) as exc:
            return f"unavailable: {type(exc).__name__}"
        return "ok"

    async def _fetch_spec(self, upstream: Upstream) -> dict[str, Any] | None:
        try:
            response = await asyncio.wait_for(
                upstream.client.get(upstream.url(b"/openapi.json", b""), timeout=5.0), 5.0
            )
            response.raise_for_status()
            doc = response.json()
        except (httpx.HTTPError, ValueError, TimeoutError) as exc:
            log.warning(
                "OpenAPI of an upstream unavailable",
                extra={"upstream": upstream.name, "error_type": type(exc).__name__},
            )
            return None
        return doc if isinstance(doc, dict) else None

    def _route_area_for(self, upstream: Upstream) -> Callable[[str], str | None]:
        def route_area(path: str) -> str | None:
            area = area_of(path, self.subroutes)
            if area is None or self.upstreams.get(area) is not upstream:
                return None
            if path.startswith("/.well-known/") and path != JWKS_PATH:
                return None
            return area

        return route_area

    async def openapi(self) -> dict[str, Any]:
        cached = self._openapi
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self._openapi_lock:
            cached = self._openapi
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            upstreams = self._distinct_upstreams()
            docs = await asyncio.gather(*(self._fetch_spec(u) for u in upstreams))
            sources: list[SpecSource] = []
            unavailable: list[str] = []
            for upstream, doc in zip(upstreams, docs, strict=True):
                if doc is None:
                    unavailable.extend(upstream.areas)
                else:
                    sources.append(SpecSource(upstream.name, doc, self._route_area_for(upstream)))
            merged = merge_openapi(
                sources,
                is_public=self.is_public,
                title="Australia Jobs API",
                description=(
                    "Every public endpoint of the Australia Jobs platform, served through the "
                    "API gateway. Errors are RFC 9457 problem details (application/problem+json)."
                ),
                unavailable=unavailable,
            )
            # a partial document is kept only briefly so a recovered upstream shows up soon
            ttl = (
                self.settings.openapi_cache_seconds
                if not unavailable
                else min(5.0, self.settings.openapi_cache_seconds)
            )
            self._openapi = (time.monotonic() + ttl, merged)
            return merged


async def _relay(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    finally:
        await response.aclose()
