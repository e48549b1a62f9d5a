"""The applications service on a fresh database with an in-memory bus, tokens signed by a
test key, a clock the tests move, and a fake resumes service (httpx.MockTransport)
serving the two endpoints the service calls, honouring whose token asks."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from jose import jwt

from aujobs_applications.app import MIGRATIONS, create_app
from aujobs_applications.settings import ApplicationsSettings
from aujobs_common.testing.apps import service_under_test
from aujobs_common.testing.tokens import TokenFactory

WATCH = ["au.jobs.application.*.v1"]


class Clock:
    """The service's now, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class StoredVersion:
    owner_id: uuid.UUID
    resume_id: uuid.UUID
    version_id: uuid.UUID
    content: bytes
    filename: str
    skills: list[str] | None

    def body(self) -> dict[str, Any]:
        return {
            "id": str(self.version_id),
            "resume_id": str(self.resume_id),
            "owner_id": str(self.owner_id),
            "number": 1,
            "filename": self.filename,
            "content_type": "application/pdf",
            "size_bytes": len(self.content),
            "sha256": hashlib.sha256(self.content).hexdigest(),
            "created_at": "2026-11-01T00:00:00Z",
            "parse_status": "parsed" if self.skills is not None else "pending",
            "parsed": {"skills": self.skills} if self.skills is not None else None,
        }


@dataclass
class FakeResumes:
    """The resumes service's two version endpoints; a version resolves for the token of
    its owner or of an admin (404 otherwise), as the real service answers."""

    versions: dict[uuid.UUID, StoredVersion] = field(default_factory=dict)
    down: bool = False
    calls: list[str] = field(default_factory=list)

    def add(
        self,
        owner_id: uuid.UUID,
        *,
        skills: list[str] | None = None,
        content: bytes | None = None,
        filename: str = "resume.pdf",
    ) -> StoredVersion:
        version = StoredVersion(
            owner_id=owner_id,
            resume_id=uuid.uuid4(),
            version_id=uuid.uuid4(),
            content=content or b"%PDF-1.7\n" + uuid.uuid4().bytes + b"\n%%EOF",
            filename=filename,
            skills=skills,
        )
        self.versions[version.version_id] = version
        return version

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        if self.down:
            return httpx.Response(502)
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return httpx.Response(401)
        claims = jwt.get_unverified_claims(auth.removeprefix("Bearer "))
        caller, is_admin = uuid.UUID(claims["sub"]), "admin" in claims.get("roles", [])
        parts = request.url.path.strip("/").split("/")
        # api/v1/resumes/{rid}/versions/{vid}[/file]
        if len(parts) not in (6, 7) or parts[:3] != ["api", "v1", "resumes"] or parts[4] != "versions":
            return httpx.Response(404)
        try:
            version = self.versions.get(uuid.UUID(parts[5]))
            resume_id = uuid.UUID(parts[3])
        except ValueError:
            return httpx.Response(404)
        if version is None or version.resume_id != resume_id or (version.owner_id != caller and not is_admin):
            return httpx.Response(404, json={"type": "about:blank", "title": "Not Found", "status": 404})
        if len(parts) == 7:
            if parts[6] != "file":
                return httpx.Response(404)
            return httpx.Response(200, content=version.content, headers={"content-type": "application/pdf"})
        return httpx.Response(200, json=version.body())


@pytest.fixture
def start_applications(fresh_database_url):
    def start(**overrides):
        """``overrides``: ApplicationsSettings fields for this test."""
        tokens = TokenFactory()
        clock = Clock()
        resumes = FakeResumes()
        settings = ApplicationsSettings(
            database_url=fresh_database_url, outbox_poll_interval_s=0.05, **overrides
        )
        context = service_under_test(
            create_app,
            settings,
            migrations=MIGRATIONS,
            watch=WATCH,
            key_source=tokens.key_source,
            clock=clock,
            resumes_transport=httpx.MockTransport(resumes.handle),
        )
        return tokens, clock, resumes, context

    return start


@pytest_asyncio.fixture
async def api(start_applications):
    tokens, clock, resumes, context = start_applications()
    async with context as client:
        client.tokens, client.clock, client.resumes = tokens, clock, resumes
        yield client
