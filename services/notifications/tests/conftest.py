"""A real SMTP server (aiosmtpd) for the notification tests, and the service wired to
it on a fresh database with an in-memory bus."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller

from aujobs_common.bus.memory import InMemoryBus
from aujobs_common.events import CloudEvent
from aujobs_common.migrations import upgrade_async
from aujobs_common.testing.apps import running
from aujobs_common.testing.tokens import TokenFactory
from aujobs_notifications.app import MIGRATIONS, create_app
from aujobs_notifications.settings import NotificationsSettings

FRONTEND = "https://www.australiajobs.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


class SmtpServer:
    """aiosmtpd on 127.0.0.1: records every message; refuses recipients whose local
    part starts with ``bounce`` with a permanent 550."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce"):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=default_policy).parsebytes(envelope.original_content)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    async def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, server_hostname="smtp.test")
        await asyncio.to_thread(self._controller.start)

    async def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            await asyncio.to_thread(controller.stop)


@pytest_asyncio.fixture
async def start_smtp_server() -> AsyncIterator[Callable[..., Awaitable[SmtpServer]]]:
    """``await start_smtp_server(port=None)``: a started server, stopped after the test."""
    servers: list[SmtpServer] = []

    async def start(port: int | None = None) -> SmtpServer:
        server = SmtpServer(port)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest_asyncio.fixture
async def smtp_server(start_smtp_server) -> SmtpServer:
    return await start_smtp_server()


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on (an SMTP server that is down)."""
    return free_port()


class Service:
    """The running notifications service: HTTP client, bus, published events."""

    def __init__(self, client: httpx.AsyncClient, bus: InMemoryBus, tokens: TokenFactory, app: Any):
        self.client = client
        self.bus = bus
        self.tokens = tokens
        self.app = app
        self.delivered: list[CloudEvent] = []
        self.frontend = FRONTEND

    @property
    def db(self):
        return self.app.state.runtime.db

    def admin(self) -> dict[str, str]:
        return self.tokens.headers(roles=["admin"])

    async def publish(
        self,
        payload,
        *,
        event: CloudEvent | None = None,
        source: str = "/services/auth",
        time: datetime | None = None,
    ) -> CloudEvent:
        """Publish ``payload`` as ``source`` would (``time``: the event's time), or
        ``event`` as it is (a redelivery)."""
        if event is None:
            subject = getattr(payload, "user_id", None) or getattr(payload, "job_id", None)
            event = payload.to_event(source=source, subject=str(subject) if subject else None)
            if time is not None:
                event = event.model_copy(update={"time": time})
        await self.bus.publish(event)
        return event

    async def deliveries(self, **params: Any) -> dict[str, Any]:
        """A page of the delivery log (admin API)."""
        r = await self.client.get("/api/v1/notifications/deliveries", params=params, headers=self.admin())
        assert r.status_code == 200, r.text
        return r.json()


ServiceFactory = Callable[..., Awaitable[Service]]


@pytest_asyncio.fixture
async def make_service(fresh_database_url) -> AsyncIterator[ServiceFactory]:
    """``await make_service(smtp_url=..., **settings)``: the service with fast polling
    and back-off; stopped after the test."""
    await upgrade_async(MIGRATIONS, fresh_database_url)
    stack: list[tuple[Any, InMemoryBus]] = []

    async def make(smtp_url: str, **overrides: Any) -> Service:
        options: dict[str, Any] = {
            "database_url": fresh_database_url,
            "smtp_url": smtp_url,
            "frontend_url": FRONTEND,
            "outbox_poll_interval_s": 0.05,
            "mail_poll_interval_seconds": 0.05,
            "mail_retry_base_seconds": 0.1,
            "mail_retry_max_seconds": 0.4,
            "mail_max_attempts": 3,
            "smtp_timeout_seconds": 3,
            "log_json": True,
        }
        tokens = TokenFactory()
        bus = InMemoryBus(retry_base_ms=10)
        app = create_app(
            NotificationsSettings(**(options | overrides)), bus=bus, key_source=tokens.key_source
        )
        context = running(app)
        client = await context.__aenter__()
        service = Service(client, bus, tokens, app)

        async def collect(event: CloudEvent) -> None:
            service.delivered.append(event)

        bus.subscribe("test", ["au.jobs.notification.*.v1"], collect)
        await bus.start()
        stack.append((context, bus))
        return service

    yield make
    for context, bus in reversed(stack):
        await context.__aexit__(None, None, None)
        await bus.close()


@pytest.fixture
async def service(make_service, smtp_server) -> Service:
    return await make_service(smtp_server.url)
