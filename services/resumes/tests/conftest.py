"""The resumes service on a fresh database, with tokens signed by a test key, a clock
the tests move, and the parse worker's loop off (tests call ``run_once()``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aujobs_common.testing.apps import service_under_test
from aujobs_common.testing.tokens import TokenFactory
from aujobs_resumes.app import MIGRATIONS, create_app
from aujobs_resumes.settings import ResumesSettings


class Clock:
    """The service's now, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def start_resumes(fresh_database_url):
    def start(watch: list[str] | None = None, *, clock: Clock | None = None, **overrides):
        """``overrides``: ResumesSettings fields (limits) for this test."""
        tokens = TokenFactory()
        values = {"outbox_poll_interval_s": 0.05, "parse_poll_interval_s": 0, **overrides}
        settings = ResumesSettings(database_url=fresh_database_url, **values)
        return tokens, service_under_test(
            create_app,
            settings,
            migrations=MIGRATIONS,
            watch=watch,
            key_source=tokens.key_source,
            clock=clock or Clock(),
        )

    return start


@pytest.fixture
async def api(start_resumes):
    """The service with default settings, watching ``resume.*`` events."""
    clock = Clock()
    tokens, service = start_resumes(["au.jobs.resume.*.v1"], clock=clock)
    async with service as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        client.clock = clock  # type: ignore[attr-defined]
        yield client
