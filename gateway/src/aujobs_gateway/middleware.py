"""ASGI middleware of the gateway: security headers and a CORS allow-list whose
refusals are problem documents like every other error."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aujobs_common.errors import problem_response

STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"

SECURITY_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class SecurityHeadersMiddleware:
    """Adds the security headers to every response (an upstream's own value of a header
    wins; the gateway only fills what is missing). ``/docs`` gets ``docs_csp`` so the
    Swagger UI can load its assets; everything else the strict policy."""

    def __init__(self, app: ASGIApp, *, docs_path: str = "/docs", docs_csp: str = STRICT_CSP) -> None:
        self.app = app
        self.docs_path = docs_path
        self.docs_csp = docs_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self.docs_csp if scope.get("path") == self.docs_path else STRICT_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = csp
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, answering a refused preflight with problem+json."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 400:
            detail = bytes(response.body).decode("utf-8", "replace")
            return problem_response(
                400,
                f"{detail} (origin, method or headers are not on the gateway's allow-list).",
                type_="https://australiajobs.example/problems/cors-refused",
                title="CORS preflight refused",
            )
        return response
