from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from aujobs_common.settings import ServiceSettings


class SearchSettings(ServiceSettings):
    service_name: str = "search"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/aujobs_search"
    #: postgres (default; the index lives in this service's database) | opensearch
    search_backend: str = "postgres"
    opensearch_url: str | None = None
    #: at most this many hits from one company on a results page (0 = no cap)
    search_per_company_cap: int = Field(default=3, ge=0)
    #: radius around a suburb, postcode or city when the request gives none
    search_default_radius_km: float = Field(default=25.0, gt=0, le=500)
    #: OpenSearch: the write/read alias (versioned indices behind it) and the companies index
    opensearch_index_prefix: str = "aujobs-jobs"
    opensearch_companies_index: str = "aujobs-companies"
    #: results cached in Redis (REDIS_URL) for this long; any index change invalidates them
    search_cache_ttl_seconds: int = Field(default=60, ge=1)
    #: Redis key prefix of the cache: one per deployment sharing a Redis
    search_cache_prefix: str = "aujobs:search"
    #: the anonymised query log: written in batches this often, kept this many days
    query_log_flush_interval_s: float = Field(default=5.0, gt=0)
    query_log_retention_days: int = Field(default=90, ge=1)


@lru_cache
def get_settings() -> SearchSettings:
    return SearchSettings()
