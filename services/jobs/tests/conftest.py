"""The jobs service on a fresh database, with tokens signed by a test key and a clock
the tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aujobs_common.testing.apps import service_under_test
from aujobs_common.testing.tokens import TokenFactory
from aujobs_jobs.app import MIGRATIONS, create_app
from aujobs_jobs.settings import JobsSettings


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
def start_jobs(fresh_database_url):
    def start(watch: list[str] | None = None, *, clock: Clock | None = None, **overrides):
        """``overrides``: JobsSettings fields (limits) for this test."""
        tokens = TokenFactory()
        settings = JobsSettings(
            database_url=fresh_database_url,
            outbox_poll_interval_s=0.05,
            workflow_poll_interval_s=0,
            **overrides,
        )
        return tokens, service_under_test(
            create_app,
            settings,
            migrations=MIGRATIONS,
            watch=watch,
            key_source=tokens.key_source,
            clock=clock,
        )

    return start
