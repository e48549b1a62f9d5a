"""The distributed topology as real local processes: each service and the gateway in
its own process, a database per service on a PostgreSQL server, RabbitMQ and Redis.

Used by ``make run-distributed``, the end-to-end tests and ``make bench``. Each process
is started with exactly the environment a container would get (DESIGN.md §2)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import httpx
from redis.asyncio import Redis

from aujobs_common.pg import drop_database, ensure_database, to_sqlalchemy_url, with_database

SERVICES = ("auth", "jobs", "search", "notifications", "resumes", "applications")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Topology:
    postgres_admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    redis_url: str | None = "redis://127.0.0.1:6379/0"
    database_prefix: str = "aujobs_"
    exchange: str = "aujobs.events"
    gateway_port: int = 8000
    service_ports: dict[str, int] = field(
        default_factory=lambda: {
            "auth": 8001,
            "jobs": 8002,
            "search": 8003,
            "notifications": 8004,
            "resumes": 8005,
            "applications": 8006,
        }
    )
    # Where notifications delivers email (SMTP_URL; e.g. an aiosmtpd server in tests,
    # Mailpit locally); None leaves the service's default (smtp://127.0.0.1:1025).
    smtp_url: str | None = None
    log_dir: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @classmethod
    def isolated(cls, tag: str, **kwargs: object) -> Topology:
        """Fresh databases, exchange and ports: for tests beside other runs."""
        ports = {name: free_port() for name in SERVICES}
        return cls(
            database_prefix=f"e2e_{tag}_",
            exchange=f"aujobs.e2e.{tag}",
            gateway_port=free_port(),
            service_ports=ports,
            **kwargs,  # type: ignore[arg-type]
        )

    @property
    def search_cache_prefix(self) -> str:
        return f"{self.exchange}:search"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.service_ports[name]}"

    def database_url(self, name: str) -> str:
        return to_sqlalchemy_url(with_database(self.postgres_admin_url, self.database_prefix + name))

    def env_for(self, name: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k in {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR", "CI"}
        }
        env.update(
            SERVICE_NAME=name,
            AMQP_URL=self.amqp_url,
            BUS_EXCHANGE=self.exchange,
            JWKS_URL=f"{self.service_url('auth')}/.well-known/jwks.json",
            LOG_JSON="true",
            LOG_LEVEL=os.environ.get("LOG_LEVEL", "INFO"),
            OUTBOX_POLL_INTERVAL_S="0.5",
            PYTHONUNBUFFERED="1",
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        if name == "search":  # this topology's own cached results
            env["SEARCH_CACHE_PREFIX"] = self.search_cache_prefix
        if name == "gateway":
            routes = {s: self.service_url(s) for s in SERVICES}
            routes["companies"] = self.service_url("jobs")  # companies live in the jobs service
            env["GATEWAY_ROUTES"] = json.dumps(routes)
        else:
            env["DATABASE_URL"] = self.database_url(name)
        if name == "applications":  # copies the chosen resume version when someone applies
            env["RESUMES_URL"] = self.service_url("resumes")
        if name == "notifications" and self.smtp_url:
            env["SMTP_URL"] = self.smtp_url
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, args: list[str], port: int | None = None) -> subprocess.Popen[bytes]:
        out = subprocess.DEVNULL
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")
        cmd = [sys.executable, "-m", f"aujobs_{name}", *args]
        if port is not None:
            cmd += ["--host", "127.0.0.1", "--port", str(port)]
        return subprocess.Popen(cmd, env=self.env_for(name), stdout=out, stderr=subprocess.STDOUT)

    async def prepare(self) -> None:
        """Create the databases and apply every service's migrations (the migration Jobs)."""
        for name in SERVICES:
            await ensure_database(self.postgres_admin_url, self.database_prefix + name)
        procs = {name: self._spawn(name, ["migrate"]) for name in SERVICES}
        for name, proc in procs.items():
            code = await asyncio.to_thread(proc.wait, 120)
            if code != 0:
                raise RuntimeError(f"migrations of {name} failed with exit code {code}")

    async def start(self, *, timeout: float = 60) -> None:
        await self.prepare()
        for name in SERVICES:
            self.processes[name] = self._spawn(name, ["serve"], self.service_ports[name])
        for name in SERVICES:
            await self.wait_ready(name, self.service_url(name), timeout)
        self.processes["gateway"] = self._spawn("gateway", ["serve"], self.gateway_port)
        await self.wait_ready("gateway", self.gateway_url, timeout)

    async def wait_ready(self, name: str, base_url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                proc = self.processes.get(name)
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {proc.returncode}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{base_url}/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready within {timeout}s")
                await asyncio.sleep(0.2)

    def kill(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.processes.pop(name, None)
        if proc is None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    async def restart(self, name: str, *, timeout: float = 60) -> None:
        port = self.gateway_port if name == "gateway" else self.service_ports[name]
        self.processes[name] = self._spawn(name, ["serve"], port)
        await self.wait_ready(
            name, self.gateway_url if name == "gateway" else self.service_url(name), timeout
        )

    async def remove_resources(self) -> None:
        """Drop what an isolated topology created: its databases, queues and exchange,
        its cached search results and its rate-limit keys in Redis (``RATE_LIMIT_KEY_PREFIX``
        of ``extra_env``)."""
        for name in SERVICES:
            with contextlib.suppress(Exception):
                await drop_database(self.postgres_admin_url, self.database_prefix + name)
        with contextlib.suppress(Exception):
            connection = await aio_pika.connect(self.amqp_url)
            async with connection:
                for name in SERVICES:
                    for suffix in ("", ".retry", ".dlq"):
                        # a channel dies with a failed operation: one per deletion
                        with contextlib.suppress(Exception):
                            channel = await connection.channel()
                            await channel.queue_delete(f"{self.exchange}.{name}{suffix}")
                            await channel.close()
                channel = await connection.channel()
                await channel.exchange_delete(self.exchange)
        prefixes = [self.search_cache_prefix, self.extra_env.get("RATE_LIMIT_KEY_PREFIX")]
        if self.redis_url:
            with contextlib.suppress(Exception):
                redis = Redis.from_url(self.redis_url)
                try:
                    for prefix in filter(None, prefixes):
                        keys = [k async for k in redis.scan_iter(match=f"{prefix}*", count=500)]
                        if keys:
                            await redis.delete(*keys)
                finally:
                    await redis.aclose()

    def stop(self) -> None:
        for name in ["gateway", *reversed(SERVICES)]:
            self.kill(name)


def main() -> None:
    parser = argparse.ArgumentParser(prog="run-distributed", description=__doc__)
    parser.add_argument(
        "--postgres", default=os.environ.get("POSTGRES_ADMIN_URL", Topology.postgres_admin_url)
    )
    parser.add_argument("--amqp", default=os.environ.get("AMQP_URL", Topology.amqp_url))
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", Topology.redis_url))
    parser.add_argument(
        "--smtp", default=os.environ.get("SMTP_URL"), help="SMTP_URL for notifications (e.g. Mailpit)"
    )
    parser.add_argument("--seed-jobs", type=int, default=int(os.environ.get("SEED_JOBS", "300")))
    args = parser.parse_args()
    topo = Topology(
        postgres_admin_url=args.postgres,
        amqp_url=args.amqp,
        redis_url=args.redis or None,
        smtp_url=args.smtp or None,
    )
    topo.log_dir = None

    async def run() -> None:
        await topo.start()
        if args.seed_jobs:
            await seed(topo, args.seed_jobs)
        print(
            f"\nAustralia Jobs (distributed) on {topo.gateway_url} — API docs {topo.gateway_url}/docs\n"
            + "".join(f"  {n}: {topo.service_url(n)}\n" for n in SERVICES)
            + "Ctrl-C stops.",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()

    try:
        asyncio.run(run())
    finally:
        topo.stop()


async def seed(topo: Topology, count: int) -> None:
    """Demo accounts and jobs, through each service's own seeding code and database."""
    from aujobs_auth.seed import ensure_demo_users
    from aujobs_common.db import Database
    from aujobs_jobs.seed import seed_demo_jobs
    from aujobs_jobs.settings import JobsSettings

    auth_db = Database(topo.database_url("auth"))
    try:
        users = await ensure_demo_users(auth_db)
    finally:
        await auth_db.dispose()
    await seed_demo_jobs(
        JobsSettings(database_url=topo.database_url("jobs")), owner_id=users["employer"], count=count
    )


if __name__ == "__main__":
    main()
