from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from aujobs_common.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/aujobs_notifications"

    # Where one-time links in emails point: {FRONTEND_URL}/verify-email/<token>, …
    frontend_url: str = "http://localhost:3000"
    # Times in emails are shown in this zone (AEST/AEDT), whatever the server's zone.
    display_timezone: str = "Australia/Sydney"

    # Outgoing mail: smtp://[user:password@]host[:port][?starttls=true] (plain, or STARTTLS
    # when asked; port 25 by default, 587 with STARTTLS), smtp+starttls://… (same as
    # ?starttls=true) or smtps://… (implicit TLS, port 465). User and password are
    # percent-decoded. The default is a local sink such as Mailpit.
    smtp_url: str = "smtp://127.0.0.1:1025"
    smtp_timeout_seconds: float = 15.0
    mail_from: str = "Australia Jobs <no-reply@australiajobs.example>"

    # The outbound queue: attempts per message (then ``failed``), and exponential
    # back-off between them: base * 2**(attempt-1), capped, with up to 10 % jitter.
    mail_max_attempts: int = Field(default=8, ge=1)
    mail_retry_base_seconds: float = Field(default=30.0, gt=0)
    mail_retry_max_seconds: float = Field(default=3600.0, gt=0)
    mail_poll_interval_seconds: float = Field(default=2.0, gt=0)
    mail_batch_size: int = Field(default=20, ge=1)
    # A message claimed (``sending``) longer than this by a sender that died is claimed
    # again (at most one extra copy of that email; SMTP is at-least-once anyway).
    mail_claim_timeout_seconds: float = Field(default=300.0, gt=0)
    # Run the background sender in this process (off: only consume and queue).
    mail_sender_enabled: bool = True


@lru_cache
def get_settings() -> NotificationsSettings:
    return NotificationsSettings()
