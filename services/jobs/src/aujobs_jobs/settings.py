from __future__ import annotations

from functools import lru_cache

from aujobs_common.settings import ServiceSettings


class JobsSettings(ServiceSettings):
    service_name: str = "jobs"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/aujobs_jobs"

    # Where job seekers see a posting: {frontend_url}/jobs/{id} (JSON-LD url).
    frontend_url: str = "http://localhost:3000"
    # The public API origin (the gateway), for absolute media URLs in JSON-LD.
    public_api_url: str = "http://localhost:8000"

    # Posting workflow: active postings expire after this many days unless renewed;
    # the owner is reminded this many days before. The workflow worker looks for
    # due scheduled publishes, reminders and expiries every poll interval.
    posting_lifetime_days: int = 30
    expiry_reminder_days: int = 3
    workflow_poll_interval_s: float = 30.0
    # Page views are counted in memory and written this often.
    view_flush_interval_s: float = 5.0

    # Company logo and image uploads.
    media_max_bytes: int = 5 * 1024 * 1024
    media_max_pixels: int = 40_000_000
    company_images_max: int = 12

    # Company reviews: one per person per company per this many days; more than
    # ``review_burst_limit`` reviews from one account or IP inside the burst window
    # are held back for moderation.
    review_cooldown_days: int = 365
    review_burst_limit: int = 3
    review_burst_window_minutes: int = 60

    # Peers whose X-Real-IP / X-Forwarded-For is believed (the gateway).
    trusted_proxies: list[str] = [
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
    ]


@lru_cache
def get_settings() -> JobsSettings:
    return JobsSettings()
