"""The API gateway: the one door for frontends (DESIGN.md §4, §5).

``/api/v1/<area>/...`` goes to the upstream service of ``<area>`` (same path and query)
after rate limits and access-token verification; ``/.well-known/jwks.json`` goes to
auth. The gateway also serves the merged OpenAPI document, the Swagger UI, health,
readiness and metrics."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.middleware.gzip import GZipMiddleware

from aujobs_common.errors import install_problem_handlers
from aujobs_common.observability import (
    ObservabilityMiddleware,
    configure_logging,
    configure_tracing,
)
from aujobs_common.security import KeySource, TokenDenylist

from .middleware import ProblemCORSMiddleware, SecurityHeadersMiddleware
from .proxy import Gateway
from .routing import JWKS_PATH
from .settings import GatewaySettings

OPENAPI_PATH = "/api/v1/openapi.json"
DOCS_PATH = "/docs"
PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Accept",
    "Accept-Language",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Request-Id",
    "traceparent",
    "tracestate",
]
CORS_EXPOSE_HEADERS = [
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "X-Request-Id",
    "Location",
    "ETag",
    "Content-Disposition",
]


def _swagger_ui() -> tuple[HTMLResponse, str]:
    """The Swagger UI page and a Content-Security-Policy that allows exactly its assets
    (its inline script by hash, not ``'unsafe-inline'``)."""
    page = get_swagger_ui_html(
        openapi_url=OPENAPI_PATH,
        title="Australia Jobs API",
        swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
    )
    html = bytes(page.body).decode()
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    )
    cdn = "https://cdn.jsdelivr.net"
    csp = (
        f"default-src 'none'; script-src {cdn} {hashes}; "
        f"style-src {cdn} 'unsafe-inline'; img-src 'self' data: https://fastapi.tiangolo.com; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
    return page, csp


def create_app(
    settings: GatewaySettings | None = None,
    *,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
    key_source: KeySource | None = None,
    jwks_http: httpx.AsyncClient | None = None,
    denylist: TokenDenylist | None = None,
) -> FastAPI:
    """The gateway application.

    * ``transports``: area -> transport (e.g. ``httpx.ASGITransport`` of an in-process
      service in embedded mode); other areas go over the network to ``gateway_routes``.
    * ``key_source``: where token-signing keys come from (default: the JWKS endpoint,
      fetched with ``jwks_http`` when given, else through the ``auth`` transport when
      there is one, else over the network).
    * ``denylist``: revoked token ids (default: Redis when ``redis_url`` is set, else
      in-process; embedded mode can share one with the auth service).
    """
    settings = settings or GatewaySettings()
    configure_logging(settings.log_level, json_logs=settings.log_json)
    configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    gateway = Gateway(
        settings,
        transports=transports,
        key_source=key_source,
        jwks_http=jwks_http,
        denylist=denylist,
    )
    docs_page, docs_csp = _swagger_ui()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await gateway.aclose()

    app = FastAPI(
        title="Australia Jobs API gateway",
        lifespan=lifespan,
        # the gateway's own routes are not part of the public API document
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.gateway = gateway
    app.state.settings = settings
    install_problem_handlers(app)
    # added innermost first: Observability wraps everything, so every response (CORS
    # refusals included) carries a request id and the security headers
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(
        ProblemCORSMiddleware,
        allow_origins=settings.cors_allow_origins,
        allow_credentials=True,
        allow_methods=PROXY_METHODS,
        allow_headers=CORS_ALLOW_HEADERS,
        expose_headers=CORS_EXPOSE_HEADERS,
        max_age=600,
    )
    app.add_middleware(SecurityHeadersMiddleware, docs_path=DOCS_PATH, docs_csp=docs_csp)
    app.add_middleware(ObservabilityMiddleware, service=settings.service_name)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        return await gateway.readiness()

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get(OPENAPI_PATH)
    async def openapi(request: Request) -> Response:
        _, headers = await gateway.limit_ip(request)
        return JSONResponse(await gateway.openapi(), headers=headers)

    @app.get(DOCS_PATH)
    async def docs() -> Response:
        return HTMLResponse(bytes(docs_page.body), headers={"Cache-Control": "no-cache"})

    async def proxy(request: Request) -> Response:
        return await gateway.handle(request)

    app.add_api_route(JWKS_PATH, proxy, methods=PROXY_METHODS)
    app.add_api_route("/api/v1/{area}", proxy, methods=PROXY_METHODS)
    app.add_api_route("/api/v1/{area}/{rest:path}", proxy, methods=PROXY_METHODS)
    return app
