"""RabbitMQ adapter of the event bus (distributed mode), on aio-pika 10.

Topology (DESIGN.md §3), for exchange ``X`` and consumer ``C``:

* ``X``: durable topic exchange; routing key = event type.
* ``X.C``: durable quorum queue bound to ``X`` by each of C's patterns.
* ``X.C.retry``: quorum queue without consumers. A failed message is published here
  with a per-message TTL of ``base * 2^(attempt-1)`` ms; on expiry the broker
  dead-letters it (through the default exchange) back to ``X.C``.
* ``X.C.dlq``: quorum queue where a message lands after ``max_attempts`` failures,
  with the last error in a header; it is inspected and replayed from here.

A delivery is acked only after the handler succeeded, or after its retry/DLQ copy
was confirmed by the broker, so a crash at any point redelivers rather than loses
(consumers are idempotent through the inbox).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from ..events import CloudEvent
from .base import DEAD_LETTERED, EventBus, EventHandler, PublishError, topic_matches

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

CONTENT_TYPE = "application/cloudevents+json"
ATTEMPT_HEADER = "aujobs-attempt"
ERROR_HEADER = "aujobs-last-error"
_QUORUM: dict[str, Any] = {"x-queue-type": "quorum"}
# Errors that mean "the broker does not have the message" (connection, channel, nack).
_BROKER_ERRORS = (aiormq.exceptions.AMQPError, ConnectionError, OSError, RuntimeError)


class RabbitMQBus(EventBus):
    def __init__(
        self,
        url: str,
        *,
        exchange: str = "aujobs.events",
        max_attempts: int = 5,
        retry_base_ms: int = 500,
        prefetch: int = 16,
        publish_timeout: float = 10.0,
        reconnect_interval: float = 2.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.url = url
        self.exchange_name = exchange
        self.max_attempts = max_attempts
        self.retry_base_ms = retry_base_ms
        self.prefetch = prefetch
        self.publish_timeout = publish_timeout
        self.reconnect_interval = reconnect_interval
        self._subscriptions: dict[str, list[tuple[list[str], EventHandler]]] = {}
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractRobustChannel | None = None
        # Held strongly: the robust connection keeps only a WeakSet of its channels,
        # so do not rely on incidental references for it to be restored on reconnect.
        self._consume_channel: AbstractRobustChannel | None = None
        self._exchange: AbstractExchange | None = None

    # ------------------------------------------------------------------ names

    @property
    def consumers(self) -> list[str]:
        """The consumers subscribed on this bus (each owns three queues)."""
        return list(self._subscriptions)

    def queue_name(self, consumer: str) -> str:
        return f"{self.exchange_name}.{consumer}"

    def retry_queue_name(self, consumer: str) -> str:
        return f"{self.exchange_name}.{consumer}.retry"

    def dlq_name(self, consumer: str) -> str:
        return f"{self.exchange_name}.{consumer}.dlq"

    # ------------------------------------------------------------------ port

    def subscribe(self, consumer: str, patterns: list[str], handler: EventHandler) -> None:
        if self._connection is not None:
            raise RuntimeError("subscribe before start()")
        if not patterns:
            raise ValueError("at least one pattern is required")
        self._subscriptions.setdefault(consumer, []).append((list(patterns), handler))

    async def start(self) -> None:
        if self._connection is not None:
            return
        # Robust: reconnects, then re-declares the topology and resumes consumers.
        connection = await aio_pika.connect_robust(self.url, reconnect_interval=self.reconnect_interval)
        self._connection = connection
        try:
            # Confirms are on by default: publish() waits for the broker's ack.
            self._publish_channel = await connection.channel(publisher_confirms=True)
            self._exchange = await self._publish_channel.declare_exchange(
                self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
            )
            if self._subscriptions:
                consume_channel = await connection.channel(publisher_confirms=False)
                self._consume_channel = consume_channel
                await consume_channel.set_qos(prefetch_count=self.prefetch)
                exchange = await consume_channel.declare_exchange(
                    self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
                )
                for consumer, subs in self._subscriptions.items():
                    await self._declare_consumer(consume_channel, exchange, consumer, subs)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        self._exchange = self._publish_channel = self._consume_channel = None
        if connection is not None:
            await connection.close()

    async def publish(self, event: CloudEvent) -> None:
        if self._exchange is None:
            raise PublishError("RabbitMQ bus is not started")
        # Parent span: the trace the event was created in (carried by the outbox
        # envelope), else whatever is current.
        parent = propagate.extract({"traceparent": event.traceparent}) if event.traceparent else None
        with tracer.start_as_current_span(
            f"{event.type} publish",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.destination.name": self.exchange_name,
                "messaging.rabbitmq.destination.routing_key": event.type,
                "messaging.message.id": event.id,
            },
        ):
            headers: dict[str, Any] = {}
            propagate.inject(headers)
            message = aio_pika.Message(
                event.model_dump_json().encode(),
                headers=headers,
                content_type=CONTENT_TYPE,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=event.id,
                type=event.type,
                timestamp=event.time,
            )
            # Not mandatory: an event type nobody subscribes to is not an error (as
            # with any pub/sub); a mandatory return would wedge the outbox behind it.
            await self._publish(self._exchange, message, event.type, mandatory=False)

    async def ping(self) -> None:
        connection, channel = self._connection, self._publish_channel
        if connection is None or channel is None:
            raise ConnectionError("RabbitMQ bus is not started")
        if connection.is_closed or not connection.connected.is_set() or channel.is_closed:
            raise ConnectionError("RabbitMQ connection is down (reconnecting)")

    async def dead_letters(self, consumer: str) -> list[CloudEvent]:
        """Reads the DLQ by rotating it: each message is re-published to the tail of
        the DLQ (confirmed) before the original is acked, so nothing is lost and the
        quorum queue's delivery counter (delivery-limit) is never bumped, which a
        get + nack(requeue) would do."""
        dlq = self.dlq_name(consumer)
        events: list[CloudEvent] = []

        def keep(message: AbstractIncomingMessage) -> str:
            with suppress(ValidationError):
                events.append(CloudEvent.model_validate_json(message.body))
            return dlq

        await self._move_dead_letters(consumer, keep, reset_attempts=False)
        return events

    async def replay_dead_letters(self, consumer: str) -> int:
        main = self.queue_name(consumer)
        # Straight to this consumer's queue (default exchange), not the topic exchange:
        # other consumers already handled these events.
        return await self._move_dead_letters(consumer, lambda _: main, reset_attempts=True)

    # ------------------------------------------------------------------ topology

    async def _declare_consumer(
        self,
        channel: AbstractChannel,
        exchange: AbstractExchange,
        consumer: str,
        subs: list[tuple[list[str], EventHandler]],
    ) -> None:
        main = self.queue_name(consumer)
        await self._declare_side_queues(channel, consumer)
        queue = await channel.declare_queue(main, durable=True, arguments=_QUORUM)
        for pattern in dict.fromkeys(p for patterns, _ in subs for p in patterns):
            await queue.bind(exchange, routing_key=pattern)

        async def on_message(message: AbstractIncomingMessage) -> None:
            await self._on_message(consumer, subs, message)

        await queue.consume(on_message, no_ack=False)

    async def _declare_side_queues(self, channel: AbstractChannel, consumer: str) -> AbstractQueue:
        """Declares the retry queue and the DLQ; returns the DLQ."""
        await channel.declare_queue(
            self.retry_queue_name(consumer),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.queue_name(consumer),
                # Quorum queues dead-letter at-most-once by default; a retry must not
                # vanish if the main queue is briefly unavailable.
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        return await channel.declare_queue(self.dlq_name(consumer), durable=True, arguments=_QUORUM)

    # ------------------------------------------------------------------ consuming

    async def _on_message(
        self,
        consumer: str,
        subs: list[tuple[list[str], EventHandler]],
        message: AbstractIncomingMessage,
    ) -> None:
        attempt = _int_header(message.headers.get(ATTEMPT_HEADER), default=1)
        try:
            event = CloudEvent.model_validate_json(message.body)
        except ValidationError as exc:
            # A poison message cannot get better by retrying.
            await self._settle_failure(consumer, message, self.max_attempts, f"bad envelope: {exc}")
            return
        handler = next(
            (h for patterns, h in subs if any(topic_matches(p, event.type) for p in patterns)),
            None,
        )
        if handler is None:
            # A binding left on the durable queue by an older deployment.
            log.warning(
                "no handler for event; dropped",
                extra={"consumer": consumer, "event_type": event.type, "event_id": event.id},
            )
            await _settle(message.ack())
            return
        carrier = {
            k: v.decode() if isinstance(v, bytes) else v
            for k, v in message.headers.items()
            if isinstance(v, str | bytes)
        }
        with tracer.start_as_current_span(
            f"{self.queue_name(consumer)} process",
            context=propagate.extract(carrier),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.destination.name": self.queue_name(consumer),
                "messaging.consumer.group.name": consumer,
                "messaging.message.id": event.id,
                "cloudevents.event_type": event.type,
                "messaging.delivery.attempt": attempt,
            },
        ):
            try:
                await handler(event)
            except Exception as exc:
                log.warning(
                    "event handler failed",
                    extra={
                        "consumer": consumer,
                        "event_id": event.id,
                        "event_type": event.type,
                        "attempt": attempt,
                    },
                    exc_info=True,
                )
                await self._settle_failure(consumer, message, attempt, f"{type(exc).__name__}: {exc}")
                return
        await _settle(message.ack())

    async def _settle_failure(
        self, consumer: str, message: AbstractIncomingMessage, attempt: int, error: str
    ) -> None:
        headers = _own_headers(message)
        if attempt < self.max_attempts:
            headers[ATTEMPT_HEADER] = attempt + 1
            target = self.retry_queue_name(consumer)
            expiration: float | None = self.retry_base_ms * 2 ** (attempt - 1) / 1000
        else:
            headers[ATTEMPT_HEADER] = attempt
            headers[ERROR_HEADER] = error[:1000]
            target = self.dlq_name(consumer)
            expiration = None
            DEAD_LETTERED.labels(consumer, message.type or "unknown").inc()
            log.error(
                "event dead-lettered",
                extra={
                    "consumer": consumer,
                    "message_id": message.message_id,
                    # The text stays in the DLQ message header for operators; logs get
                    # only its type, as exception text can carry personal data.
                    "error_type": error.split(":", 1)[0],
                },
            )
        channel = self._publish_channel
        try:
            if channel is None:
                raise PublishError("RabbitMQ bus is closed")
            await self._publish(
                channel.default_exchange,
                _copy(message, headers, expiration=expiration),
                target,
                mandatory=True,
            )
        except PublishError:
            # The copy is not safe with the broker: give the original back instead.
            log.warning("could not park failed message; requeued", exc_info=True)
            await _settle(message.nack(requeue=True))
            return
        await _settle(message.ack())

    # ------------------------------------------------------------------ helpers

    async def _publish(
        self,
        exchange: AbstractExchange,
        message: aio_pika.Message,
        routing_key: str,
        *,
        mandatory: bool,
    ) -> None:
        try:
            result = await asyncio.wait_for(
                exchange.publish(message, routing_key, mandatory=mandatory),
                self.publish_timeout,
            )
        except TimeoutError as exc:
            raise PublishError(f"no publisher confirm within {self.publish_timeout}s") from exc
        except _BROKER_ERRORS as exc:
            raise PublishError(f"publish failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(result, aiormq.spec.Basic.Ack):
            # A returned (unroutable, mandatory) message comes back instead of an ack.
            raise PublishError(f"message not routed to {routing_key!r}")

    @asynccontextmanager
    async def _temp_channel(self) -> AsyncIterator[AbstractChannel]:
        if self._connection is None:
            raise ConnectionError("RabbitMQ bus is not started")
        # Closing the channel requeues whatever it still holds unacked.
        async with self._connection.channel(publisher_confirms=True) as channel:
            yield channel

    async def _move_dead_letters(
        self,
        consumer: str,
        route: Callable[[AbstractIncomingMessage], str],
        *,
        reset_attempts: bool,
    ) -> int:
        """Takes each message that is in the DLQ now, publishes a copy (confirmed) to
        ``route(message)``, then acks the original. Returns how many were moved."""
        async with self._temp_channel() as channel:
            dlq = await self._declare_side_queues(channel, consumer)
            # Only what is there now: rotated or replayed-and-failed-again copies
            # re-enter the tail and must not be read twice.
            count = dlq.declaration_result.message_count or 0
            moved = 0
            for _ in range(count):
                message = await dlq.get(no_ack=False, fail=False)
                if message is None:
                    break
                headers = _own_headers(message)
                if reset_attempts:
                    headers.pop(ATTEMPT_HEADER, None)
                    headers.pop(ERROR_HEADER, None)
                await self._publish(
                    channel.default_exchange,
                    _copy(message, headers),
                    route(message),
                    mandatory=True,
                )
                await message.ack()
                moved += 1
            return moved


def _copy(
    message: AbstractIncomingMessage, headers: dict[str, Any], *, expiration: float | None = None
) -> aio_pika.Message:
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type or CONTENT_TYPE,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        type=message.type,
        timestamp=message.timestamp,
        expiration=expiration,
    )


def _own_headers(message: AbstractIncomingMessage) -> dict[str, Any]:
    # Broker-managed headers (x-death, x-first-death-*, …) are not ours to re-publish.
    return {k: v for k, v in message.headers.items() if not k.startswith("x-")}


def _int_header(value: object, *, default: int) -> int:
    try:
        return int(value) if value is not None else default  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default


async def _settle(ack: Awaitable[None]) -> None:
    # An ack on a channel lost to a connection drop fails; the broker redelivers.
    try:
        await ack
    except _BROKER_ERRORS:
        log.info("could not settle delivery (channel closed); it will be redelivered")
