"""Fixtures for the bus / outbox / inbox tests: a database with the common tables,
RabbitMQ buses on a throw-away exchange, and a TCP proxy that can cut the broker off."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest_asyncio

from aujobs_common.bus import RabbitMQBus
from aujobs_common.db import COMMON_METADATA, Database


@pytest_asyncio.fixture
async def db(fresh_database_url: str) -> AsyncIterator[Database]:
    database = Database(fresh_database_url, pool_size=5)
    async with database.engine.begin() as conn:
        await conn.run_sync(COMMON_METADATA.create_all)
    yield database
    await database.dispose()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the broker. ``cut()`` kills every open connection
    and refuses new ones (the broker "goes away"); ``restore()`` lets them in again."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.refusing = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self, amqp_url: str) -> str:
        parts = urlsplit(amqp_url)
        netloc = parts.netloc.rsplit("@", 1)
        creds = netloc[0] + "@" if len(netloc) == 2 else ""
        return urlunsplit((parts.scheme, f"{creds}127.0.0.1:{self.port}", parts.path, "", ""))

    def cut(self) -> None:
        self.refusing = True
        for writer in list(self._writers):
            writer.transport.abort()  # RST, like a dead network path

    def restore(self) -> None:
        self.refusing = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(dst)
            dst.transport.abort()


@pytest_asyncio.fixture
async def broker_proxy(amqp_url: str) -> AsyncIterator[TcpProxy]:
    parts = urlsplit(amqp_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5672)
    await proxy.start()
    yield proxy
    await proxy.close()


RabbitFactory = Callable[..., RabbitMQBus]


@pytest_asyncio.fixture
async def rabbit_bus(amqp_url: str) -> AsyncIterator[RabbitFactory]:
    """``rabbit_bus(**kwargs)`` → a RabbitMQBus on this test's own exchange (fast retries
    by default); all of them are closed and their queues and exchange deleted after."""
    exchange = f"test.{uuid.uuid4().hex[:10]}"
    buses: list[RabbitMQBus] = []

    def make(url: str | None = None, **kwargs: Any) -> RabbitMQBus:
        options: dict[str, Any] = {
            "exchange": exchange,
            "max_attempts": 3,
            "retry_base_ms": 50,
            "reconnect_interval": 0.2,
            "publish_timeout": 3.0,
        }
        bus = RabbitMQBus(url or amqp_url, **(options | kwargs))
        buses.append(bus)
        return bus

    yield make

    consumers = {c for bus in buses for c in bus.consumers}
    for bus in buses:
        with contextlib.suppress(Exception):
            await bus.close()
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for consumer in consumers:
            for suffix in ("", ".retry", ".dlq"):
                await channel.queue_delete(f"{exchange}.{consumer}{suffix}")
        await channel.exchange_delete(exchange)
