"""The event bus: the port and its two adapters (DESIGN.md §3)."""

from __future__ import annotations

from ..settings import ServiceSettings
from .base import EventBus, EventHandler, PublishError, topic_matches
from .memory import InMemoryBus
from .rabbitmq import RabbitMQBus

__all__ = [
    "EventBus",
    "EventHandler",
    "InMemoryBus",
    "PublishError",
    "RabbitMQBus",
    "create_bus",
    "topic_matches",
]


def create_bus(settings: ServiceSettings) -> EventBus:
    """RabbitMQ when ``amqp_url`` is set, else a new in-memory bus.

    In embedded mode every service must share ONE :class:`InMemoryBus`; build it once
    and hand it to each service rather than calling this per service."""
    if settings.amqp_url:
        return RabbitMQBus(
            settings.amqp_url,
            exchange=settings.bus_exchange,
            max_attempts=settings.bus_max_attempts,
            retry_base_ms=settings.bus_retry_base_ms,
        )
    return InMemoryBus(max_attempts=settings.bus_max_attempts, retry_base_ms=settings.bus_retry_base_ms)
