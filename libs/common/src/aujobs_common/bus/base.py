"""The event-bus port. Two adapters implement it with the same delivery semantics:
:class:`~aujobs_common.bus.rabbitmq.RabbitMQBus` (distributed mode) and
:class:`~aujobs_common.bus.memory.InMemoryBus` (embedded mode and unit tests).

Semantics both must keep (DESIGN.md §3):

* ``publish`` returns only once the broker has the message (publisher confirm);
  it raises :class:`PublishError` otherwise, so the outbox row stays unsent.
* Each *consumer* (a service name) has one durable queue bound by routing-key
  patterns (``au.jobs.job.*.v1``, ``#``). Every consumer gets its own copy.
* Delivery is at-least-once: a handler that raises is retried with exponential
  back-off; after ``max_attempts`` failures the message goes to that consumer's
  dead-letter queue, where it can be listed and replayed.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable

from prometheus_client import Counter

from ..events import CloudEvent

DEAD_LETTERED = Counter(
    "aujobs_bus_dead_lettered_total",
    "Events parked in a consumer's dead-letter queue after their last failed attempt",
    ["consumer", "event_type"],
)

EventHandler = Callable[[CloudEvent], Awaitable[None]]


class PublishError(RuntimeError):
    """The broker did not confirm the message."""


class EventBus(abc.ABC):
    @abc.abstractmethod
    def subscribe(self, consumer: str, patterns: list[str], handler: EventHandler) -> None:
        """Register ``handler`` for ``consumer``'s queue; call before :meth:`start`."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect, declare the topology, start consuming."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, event: CloudEvent) -> None:
        """Publish with confirmation; routing key = ``event.type``."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise when the bus is not usable (readiness)."""

    @abc.abstractmethod
    async def dead_letters(self, consumer: str) -> list[CloudEvent]:
        """The events parked in ``consumer``'s dead-letter queue (not removed)."""

    @abc.abstractmethod
    async def replay_dead_letters(self, consumer: str) -> int:
        """Move every dead letter of ``consumer`` back to its queue; returns how many."""


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more."""
    pat = pattern.split(".")
    key = routing_key.split(".")

    def match(i: int, j: int) -> bool:
        if i == len(pat):
            return j == len(key)
        if pat[i] == "#":
            return any(match(i + 1, k) for k in range(j, len(key) + 1))
        if j == len(key):
            return False
        return (pat[i] == "*" or pat[i] == key[j]) and match(i + 1, j + 1)

    return match(0, 0)
