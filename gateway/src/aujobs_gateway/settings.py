"""Gateway settings (environment variables, see :class:`aujobs_common.settings.ServiceSettings`).

List and dict settings are read as JSON from the environment, e.g.
``GATEWAY_ROUTES='{"auth": "http://auth:8001", "jobs": "http://jobs:8002"}'`` or
``CORS_ALLOW_ORIGINS='["https://australiajobs.example"]'``.

Route patterns (``public_routes``, ``auth_rate_limit_routes``) are ``"METHOD /path-glob"``:
``METHOD`` is one method, several joined by ``|`` (``GET|POST``) or ``*`` for any; the
path is an :mod:`fnmatch` glob matched against the request path (without the query
string) in which ``*`` also matches ``/``. A route public for GET is public for HEAD too.
"""

from __future__ import annotations

from pydantic import field_validator

from aujobs_common.settings import ServiceSettings

DEFAULT_ROUTES: dict[str, str] = {
    "auth": "http://127.0.0.1:8001",
    "jobs": "http://127.0.0.1:8002",
    # companies live in the jobs service
    "companies": "http://127.0.0.1:8002",
    "search": "http://127.0.0.1:8003",
    "notifications": "http://127.0.0.1:8004",
    "resumes": "http://127.0.0.1:8005",
    "applications": "http://127.0.0.1:8006",
}

#: Paths inside one area that another service answers: path glob -> area. A job's
#: applicants are the applications service's, though the path reads as the job's.
DEFAULT_SUBROUTES: dict[str, str] = {
    "/api/v1/jobs/*/applications": "applications",
    "/api/v1/jobs/*/applications/*": "applications",
}

DEFAULT_PUBLIC_ROUTES: list[str] = [
    "POST /api/v1/auth/register",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/login/2fa",
    "POST /api/v1/auth/resend-verification",
    "GET /api/v1/jobs",
    "GET /api/v1/jobs/*",
    "GET /api/v1/companies",
    "GET /api/v1/companies/*",
    # a job seeker (signed in or not) starting an application: per-posting analytics
    "POST /api/v1/jobs/*/apply-start",
    # a resume shared by its owner through a revocable, expiring link
    "GET /api/v1/resumes/shared/*",
    "GET /api/v1/search",
    "GET /api/v1/search/*",
    # a job seeker clicking a search result: anonymous click-through for search quality
    "POST /api/v1/search/clicks",
    "GET /.well-known/jwks.json",
    # forward-compatible: endpoints the auth service is going to offer
    "POST /api/v1/auth/request-reset",
    "POST /api/v1/auth/reset-password/*",
    "GET|POST /api/v1/auth/verify-email/*",
    "GET /api/v1/auth/google*",
    "GET /api/v1/auth/linkedin*",
    # swaps the single-use code from a Google / LinkedIn sign-in for tokens
    "POST /api/v1/auth/oauth/exchange",
]

#: Unsafe requests that guess or spray credentials: limited per IP much more tightly.
DEFAULT_AUTH_RATE_LIMIT_ROUTES: list[str] = [
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/login/2fa",
    "POST /api/v1/auth/change-password",
    "POST /api/v1/auth/register",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/request-reset",
    "POST /api/v1/auth/reset-password*",
    "POST /api/v1/auth/verify-email*",
    "POST /api/v1/auth/resend-verification*",
    "POST /api/v1/auth/oauth/exchange",
]


#: Requests that make the platform store and read a file (parsing, image decoding):
#: limited per user (per IP without a token) far below the general limit.
DEFAULT_UPLOAD_RATE_LIMIT_ROUTES: list[str] = [
    "POST /api/v1/resumes",
    "POST /api/v1/resumes/*/versions",
    "POST /api/v1/resumes/builder",
    "PUT /api/v1/resumes/*/document",
    "POST /api/v1/applications/*/attachments",
    "PUT /api/v1/companies/*/logo",
    "POST /api/v1/companies/*/images",
]


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"

    # area (first path segment after /api/v1/) -> upstream base URL
    gateway_routes: dict[str, str] = dict(DEFAULT_ROUTES)
    # path glob (``*`` matches across ``/``) -> area, checked before the first segment
    gateway_subroutes: dict[str, str] = dict(DEFAULT_SUBROUTES)
    public_routes: list[str] = list(DEFAULT_PUBLIC_ROUTES)

    cors_allow_origins: list[str] = ["http://localhost:3000"]

    # rate limits (requests per minute); 0 disables that limit
    rate_limit_per_minute: int = 600
    rate_limit_user_per_minute: int = 1200
    auth_rate_limit_per_minute: int = 20
    auth_rate_limit_routes: list[str] = list(DEFAULT_AUTH_RATE_LIMIT_ROUTES)
    upload_rate_limit_per_minute: int = 10
    upload_rate_limit_routes: list[str] = list(DEFAULT_UPLOAD_RATE_LIMIT_ROUTES)
    rate_limit_window_seconds: int = 60
    rate_limit_key_prefix: str = "aujobs:ratelimit"

    max_body_bytes: int = 12 * 1024 * 1024
    upstream_timeout_seconds: float = 15.0
    upstream_connect_timeout_seconds: float = 5.0
    upstream_max_connections: int = 200
    upstream_max_keepalive_connections: int = 50

    openapi_cache_seconds: float = 30.0
    readiness_timeout_seconds: float = 2.0

    @field_validator("cors_allow_origins")
    @classmethod
    def _no_wildcard_origin(cls, value: list[str]) -> list[str]:
        # credentials are allowed, so a wildcard would let any site act as the user
        if any(origin.strip() == "*" for origin in value):
            raise ValueError("cors_allow_origins must list explicit origins, not '*'")
        return [origin.strip().rstrip("/") for origin in value if origin.strip()]

    @field_validator("gateway_subroutes")
    @classmethod
    def _valid_subroutes(cls, value: dict[str, str]) -> dict[str, str]:
        for glob, area in value.items():
            if not glob.startswith("/api/v1/") or not area or "/" in area:
                raise ValueError(f"subroute {glob!r} -> {area!r}: a /api/v1/ path glob to one area")
        return value

    @field_validator("gateway_routes")
    @classmethod
    def _valid_routes(cls, value: dict[str, str]) -> dict[str, str]:
        for area, url in value.items():
            if not area or "/" in area:
                raise ValueError(f"gateway area {area!r} must be one path segment")
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"upstream of {area!r} must be an http(s) URL")
        return value
