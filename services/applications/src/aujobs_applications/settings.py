from __future__ import annotations

from functools import lru_cache

from aujobs_common.settings import ServiceSettings


class ApplicationsSettings(ServiceSettings):
    service_name: str = "applications"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/aujobs_applications"

    # The resumes service: an application copies the chosen resume version from it,
    # asking with the applicant's own access token (so only their own resumes resolve).
    resumes_url: str = "http://127.0.0.1:8005"
    resumes_timeout_s: float = 10.0

    # A person applies once per job. Withdrawn applications count as applied unless this
    # is set, in which case someone whose every application to the job was withdrawn may
    # apply again (a rejected or open application still blocks).
    allow_reapply_after_withdraw: bool = False

    # Files sent with an application (cover letter file, certificates, portfolio).
    attachments_max: int = 5
    attachment_max_bytes: int = 10 * 1024 * 1024
    # The largest resume version that will be copied.
    resume_max_bytes: int = 10 * 1024 * 1024


@lru_cache
def get_settings() -> ApplicationsSettings:
    return ApplicationsSettings()
