"""The jobs service on a fresh database, with tokens signed by a test key."""

from __future__ import annotations

import pytest

from aujobs_common.testing.apps import service_under_test
from aujobs_common.testing.tokens import TokenFactory
from aujobs_jobs.app import MIGRATIONS, create_app
from aujobs_jobs.settings import JobsSettings


@pytest.fixture
def start_jobs(fresh_database_url):
    def start(watch: list[str]):
        tokens = TokenFactory()
        settings = JobsSettings(database_url=fresh_database_url, outbox_poll_interval_s=0.05)
        return tokens, service_under_test(
            create_app, settings, migrations=MIGRATIONS, watch=watch, key_source=tokens.key_source
        )

    return start
