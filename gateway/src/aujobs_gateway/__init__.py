"""Australia Jobs API gateway: JWT verification, routing, rate limits, merged OpenAPI."""

from .app import create_app
from .settings import GatewaySettings

__all__ = ["GatewaySettings", "create_app"]
