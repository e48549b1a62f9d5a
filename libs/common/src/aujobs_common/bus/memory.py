"""In-process event bus (embedded mode and unit tests).

It keeps the RabbitMQ adapter's delivery semantics (DESIGN.md §3) so code tested
against it behaves the same in distributed mode: one queue per consumer bound by
topic patterns, a private copy of every event per consumer, retries with
exponential back-off, then a per-consumer dead-letter list that can be replayed.
Nothing is durable: what is queued is lost with the process.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from ..events import CloudEvent
from .base import DEAD_LETTERED, EventBus, EventHandler, PublishError, topic_matches

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


@dataclass(slots=True)
class _Delivery:
    body: str  # the event as JSON: each consumer decodes its own copy
    headers: dict[str, str]  # W3C trace context, as in AMQP headers
    attempt: int = 1
    last_error: str | None = None


@dataclass(slots=True)
class _Consumer:
    name: str
    subscriptions: list[tuple[list[str], EventHandler]]
    queue: asyncio.Queue[_Delivery] = field(default_factory=asyncio.Queue)
    dead: list[_Delivery] = field(default_factory=list)
    worker: asyncio.Task[None] | None = None

    def handler_for(self, routing_key: str) -> EventHandler | None:
        # A consumer may subscribe several times; like one AMQP queue with several
        # bindings, a message is handled once, by the first matching subscription.
        for patterns, handler in self.subscriptions:
            if any(topic_matches(p, routing_key) for p in patterns):
                return handler
        return None


class InMemoryBus(EventBus):
    def __init__(self, *, max_attempts: int = 5, retry_base_ms: float = 50) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.max_attempts = max_attempts
        self.retry_base_ms = retry_base_ms
        self._consumers: dict[str, _Consumer] = {}
        self._started = False
        self._closed = False
        # Deliveries queued, being handled or waiting for a retry timer; drain() waits for 0.
        self._outstanding = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._timers: set[asyncio.TimerHandle] = set()

    @property
    def consumers(self) -> list[str]:
        return list(self._consumers)

    # ------------------------------------------------------------------ port

    def subscribe(self, consumer: str, patterns: list[str], handler: EventHandler) -> None:
        if not patterns:
            raise ValueError("at least one pattern is required")
        entry = self._consumers.get(consumer)
        if entry is None:
            entry = self._consumers[consumer] = _Consumer(consumer, [])
        entry.subscriptions.append((list(patterns), handler))
        if self._started and entry.worker is None:
            entry.worker = asyncio.create_task(self._work(entry), name=f"bus:{consumer}")

    async def start(self) -> None:
        if self._closed:
            raise RuntimeError("bus is closed")
        self._started = True
        for entry in self._consumers.values():
            if entry.worker is None:
                entry.worker = asyncio.create_task(self._work(entry), name=f"bus:{entry.name}")

    async def close(self) -> None:
        self._closed = True
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        workers = [c.worker for c in self._consumers.values() if c.worker is not None]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for entry in self._consumers.values():
            entry.worker = None

    async def publish(self, event: CloudEvent) -> None:
        if self._closed:
            raise PublishError("bus is closed")
        parent = propagate.extract({"traceparent": event.traceparent}) if event.traceparent else None
        with tracer.start_as_current_span(f"publish {event.type}", context=parent, kind=SpanKind.PRODUCER):
            headers: dict[str, str] = {}
            propagate.inject(headers)
        body = event.model_dump_json()
        for entry in self._consumers.values():
            if entry.handler_for(event.type) is not None:
                self._enqueue(entry, _Delivery(body, dict(headers)))

    async def ping(self) -> None:
        if self._closed:
            raise ConnectionError("in-memory bus is closed")

    async def dead_letters(self, consumer: str) -> list[CloudEvent]:
        entry = self._consumers.get(consumer)
        if entry is None:
            return []
        return [CloudEvent.model_validate_json(d.body) for d in entry.dead]

    async def replay_dead_letters(self, consumer: str) -> int:
        entry = self._consumers.get(consumer)
        if entry is None:
            return 0
        parked, entry.dead = entry.dead, []
        for delivery in parked:
            self._enqueue(entry, _Delivery(delivery.body, delivery.headers))
        return len(parked)

    # ------------------------------------------------------------------ extras

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every queue is empty, no handler runs and no retry is pending.

        Raises :class:`TimeoutError` after ``timeout`` seconds (e.g. the bus was not
        started, or handlers keep publishing)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    # ------------------------------------------------------------------ internals

    def _enqueue(self, entry: _Consumer, delivery: _Delivery) -> None:
        self._outstanding += 1
        self._idle.clear()
        entry.queue.put_nowait(delivery)

    def _done(self) -> None:
        self._outstanding -= 1
        if self._outstanding == 0:
            self._idle.set()

    def _retry_later(self, entry: _Consumer, delivery: _Delivery) -> None:
        delay = self.retry_base_ms * 2 ** (delivery.attempt - 1) / 1000
        delivery.attempt += 1
        self._outstanding += 1  # counted from now so drain() also waits for the timer

        def fire() -> None:
            self._timers.discard(timer)
            entry.queue.put_nowait(delivery)

        timer = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(timer)

    async def _work(self, entry: _Consumer) -> None:
        while True:
            delivery = await entry.queue.get()
            try:
                await self._handle(entry, delivery)
            finally:
                self._done()

    async def _handle(self, entry: _Consumer, delivery: _Delivery) -> None:
        event = CloudEvent.model_validate_json(delivery.body)
        handler = entry.handler_for(event.type)
        if handler is None:  # cannot happen: only matching events are enqueued
            return
        with tracer.start_as_current_span(
            f"{entry.name} process",
            context=propagate.extract(delivery.headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "in-memory",
                "messaging.consumer.group.name": entry.name,
                "messaging.message.id": event.id,
                "cloudevents.event_type": event.type,
                "messaging.delivery.attempt": delivery.attempt,
            },
        ):
            try:
                await handler(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
                if delivery.attempt < self.max_attempts:
                    log.warning(
                        "event handler failed; retrying",
                        extra={
                            "consumer": entry.name,
                            "event_id": event.id,
                            "event_type": event.type,
                            "attempt": delivery.attempt,
                        },
                        exc_info=True,
                    )
                    self._retry_later(entry, delivery)
                else:
                    log.error(
                        "event handler failed; dead-lettered",
                        extra={
                            "consumer": entry.name,
                            "event_id": event.id,
                            "event_type": event.type,
                            "attempt": delivery.attempt,
                        },
                        exc_info=True,
                    )
                    entry.dead.append(delivery)
                    DEAD_LETTERED.labels(entry.name, event.type).inc()
