"""Which upstream a path belongs to, which routes are public, and which headers cross
the gateway in each direction."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

API_PREFIX = "/api/v1/"
JWKS_PATH = "/.well-known/jwks.json"
#: the area that serves ``/.well-known/jwks.json``
JWKS_AREA = "auth"


def area_of(path: str, subroutes: SubRoutes | None = None) -> str | None:
    """``/api/v1/<area>[/...]`` -> ``<area>`` unless one of ``subroutes`` claims the
    path for another area; the JWKS document -> ``auth``."""
    if path == JWKS_PATH:
        return JWKS_AREA
    if subroutes is not None:
        claimed = subroutes.area_for(path)
        if claimed is not None:
            return claimed
    if not path.startswith(API_PREFIX):
        return None
    area = path[len(API_PREFIX) :].split("/", 1)[0]
    return area or None


def has_dot_segments(path: str) -> bool:
    """``.``/``..`` segments (also percent-encoded, the path is decoded) could make a
    public-route glob match a path the upstream resolves elsewhere."""
    return any(segment in {".", ".."} for segment in path.split("/"))


class SubRoutes:
    """Path globs (``*`` also matches ``/``) that send part of an area elsewhere."""

    def __init__(self, rules: dict[str, str]) -> None:
        self._rules = [(re.compile(fnmatch.translate(glob)), area) for glob, area in rules.items()]

    def area_for(self, path: str) -> str | None:
        for regex, area in self._rules:
            if regex.match(path):
                return area
        return None


class RoutePatterns:
    """``"METHOD /path-glob"`` rules (see :mod:`aujobs_gateway.settings`)."""

    def __init__(self, entries: Iterable[str]) -> None:
        self._rules: list[tuple[frozenset[str], re.Pattern[str], str]] = []
        for entry in entries:
            methods_part, _, path = entry.strip().partition(" ")
            path = path.strip()
            if not methods_part or not path.startswith("/"):
                raise ValueError(f"route pattern must be 'METHOD /path-glob', got {entry!r}")
            methods = frozenset(m.strip().upper() for m in methods_part.split("|") if m.strip())
            self._rules.append((methods, re.compile(fnmatch.translate(path)), path))

    def matches(self, method: str, path: str) -> bool:
        method = method.upper()
        for methods, regex, _ in self._rules:
            if (
                "*" in methods or method in methods or (method == "HEAD" and "GET" in methods)
            ) and regex.match(path):
                return True
        return False


HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

#: request headers the gateway sets itself (or that must not reach an upstream)
_REQUEST_DROP = frozenset(
    {
        "host",
        "expect",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-forwarded-prefix",
        "x-real-ip",
        "x-request-id",
        "traceparent",
        "tracestate",
        "x-forwarded-user",
        "x-service-token",
        "x-remote-user",
        "remote-user",
    }
)
_IDENTITY_PREFIXES = ("x-user", "x-auth", "x-principal")

#: response headers the gateway owns (CORS, request id) or its server sets itself
_RESPONSE_DROP = frozenset({"server", "date", "x-request-id"})


def is_identity_header(name: str) -> bool:
    """Headers that claim who the caller is: only the gateway may set them."""
    name = name.lower()
    return name.startswith(_IDENTITY_PREFIXES) or name in {
        "x-forwarded-user",
        "x-service-token",
        "x-remote-user",
        "remote-user",
    }


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    tokens: set[str] = set()
    for name, value in headers:
        if name == "connection":
            tokens.update(t.strip().lower() for t in value.split(",") if t.strip())
    return tokens


def upstream_request_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """The client's headers minus hop-by-hop, identity, forwarding and tracing headers."""
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw]
    listed = _connection_tokens(headers)
    return [
        (name, value)
        for name, value in headers
        if name not in HOP_BY_HOP
        and name not in listed
        and name not in _REQUEST_DROP
        and not is_identity_header(name)
    ]


def client_response_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The upstream's headers minus hop-by-hop ones and those the gateway owns."""
    headers = [(k.lower(), v) for k, v in raw]
    listed = _connection_tokens((k.decode("latin-1"), v.decode("latin-1")) for k, v in headers)
    kept: list[tuple[bytes, bytes]] = []
    for name, value in headers:
        text = name.decode("latin-1")
        if (
            text in HOP_BY_HOP
            or text in listed
            or text in _RESPONSE_DROP
            or text.startswith("access-control-")
        ):
            continue
        kept.append((name, value))
    return kept
