from __future__ import annotations

from functools import lru_cache

from aujobs_common.settings import ServiceSettings


class SearchSettings(ServiceSettings):
    service_name: str = "search"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/aujobs_search"
    # postgres (default) | opensearch (arrives with the search issue)
    search_backend: str = "postgres"
    opensearch_url: str | None = None


@lru_cache
def get_settings() -> SearchSettings:
    return SearchSettings()
