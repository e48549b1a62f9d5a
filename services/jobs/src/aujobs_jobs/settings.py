from __future__ import annotations

from functools import lru_cache

from aujobs_common.settings import ServiceSettings


class JobsSettings(ServiceSettings):
    service_name: str = "jobs"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/aujobs_jobs"


@lru_cache
def get_settings() -> JobsSettings:
    return JobsSettings()
