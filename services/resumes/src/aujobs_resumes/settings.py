from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from aujobs_common.documents import MAX_DOCUMENT_BYTES
from aujobs_common.settings import ServiceSettings


class ResumesSettings(ServiceSettings):
    service_name: str = "resumes"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/aujobs_resumes"

    # Uploads: the largest file accepted (the body is read as it arrives and refused as
    # soon as it passes this, plus a little room for the multipart framing).
    upload_max_bytes: int = Field(default=MAX_DOCUMENT_BYTES, ge=1)
    # Per user: how many resumes, and how many versions each may keep.
    resumes_per_user_max: int = Field(default=20, ge=1)
    versions_per_resume_max: int = Field(default=50, ge=1)

    # Background parsing. The worker looks for pending parse jobs every poll interval
    # (and at once after an upload); 0 switches the loop off (tests call run_once()).
    parse_poll_interval_s: float = Field(default=5.0, ge=0)
    # One parse may take this long; a job claimed longer ago than this by a worker that
    # died is claimed again.
    parse_timeout_s: float = Field(default=120.0, gt=0)
    # Attempts per version (a crash or an unexpected error is retried with back-off:
    # base * 2**(attempt-1)); then the version is ``failed``.
    parse_max_attempts: int = Field(default=3, ge=1)
    parse_retry_base_s: float = Field(default=30.0, gt=0)
    parse_batch_size: int = Field(default=4, ge=1)
    # Parses running at once in this process (each holds a file and its text in memory).
    parse_concurrency: int = Field(default=2, ge=1)
    # Each parse runs in its own process with this address-space limit (MB; 0: none): a
    # file that needs more fails ("needs too much memory") instead of exhausting the host.
    # About 350 MB of it is the interpreter, spaCy and the skill matcher.
    parse_memory_limit_mb: int = Field(default=1024, ge=0)

    # Share links: lifetime bounds (days) and how many live links one resume may have.
    share_default_days: int = Field(default=14, ge=1, le=90)
    share_max_days: int = Field(default=90, ge=1, le=365)
    share_links_per_resume_max: int = Field(default=20, ge=1)


@lru_cache
def get_settings() -> ResumesSettings:
    return ResumesSettings()
