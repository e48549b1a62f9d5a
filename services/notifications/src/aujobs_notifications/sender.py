"""SMTP delivery of the outbound queue (aiosmtplib), as a background task of the
service: claim due messages, send each over its own connection, record the attempt;
retry with exponential back-off up to ``MAIL_MAX_ATTEMPTS``, then ``failed``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from prometheus_client import Counter

from aujobs_common.db import Database
from aujobs_common.worker import BackgroundWorker

from .models import AttemptOutcome
from .service import ClaimedMessage, claim_due, record_failure, record_sent
from .settings import NotificationsSettings

log = logging.getLogger(__name__)

EMAILS = Counter(
    "aujobs_emails_total",
    "Email delivery attempts by kind and outcome (sent, retry, failed)",
    ["kind", "outcome"],
)

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpConfig:
    hostname: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # implicit TLS (smtps)
    start_tls: bool = False
    timeout: float = 15.0

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 15.0) -> SmtpConfig:
        """``smtp://[user:pass@]host[:port][?starttls=true]``, ``smtp+starttls://…``,
        ``smtps://…``."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in {"smtp", "smtp+starttls", "smtps"} or not parts.hostname:
            raise ValueError("SMTP_URL must be smtp://, smtp+starttls:// or smtps:// with a host")
        query = parse_qs(parts.query)
        start_tls = scheme == "smtp+starttls" or query.get("starttls", [""])[0].lower() in _TRUE
        use_tls = scheme == "smtps"
        default_port = 465 if use_tls else 587 if start_tls else 25
        return cls(
            hostname=parts.hostname,
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
            start_tls=start_tls,
            timeout=timeout,
        )


class DeliveryFailed(Exception):
    def __init__(self, error: str, *, code: int | None, permanent: bool) -> None:
        super().__init__(error)
        self.error = error
        self.code = code
        self.permanent = permanent


def classify(exc: BaseException) -> DeliveryFailed:
    """Type and SMTP code only (replies can quote the address). A 5xx refusal of the
    recipient or the content is permanent; anything else (connection refused, timeouts,
    4xx, authentication) may pass later."""
    name = type(exc).__name__
    code: int | None = None
    permanent = False
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        code = codes[0] if codes else None
        permanent = bool(codes) and all(c >= 500 for c in codes)
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        code = exc.code
        permanent = code >= 500 and isinstance(
            exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError
        )
    return DeliveryFailed(f"{name} ({code})" if code else name, code=code, permanent=permanent)


class SmtpTransport:
    def __init__(self, config: SmtpConfig, *, mail_from: str) -> None:
        self.config = config
        self.mail_from = mail_from
        self.envelope_from = parseaddr(mail_from)[1]
        self.domain = self.envelope_from.rpartition("@")[2] or "australiajobs.example"

    def build(self, message: ClaimedMessage) -> MimeMessage:
        mime = MimeMessage()
        mime["From"] = self.mail_from
        mime["To"] = message.to_address
        mime["Subject"] = message.subject
        mime["Date"] = format_datetime(datetime.now(UTC))
        # Stable across retries, so a receiver can drop a copy sent twice.
        mime["Message-ID"] = f"<{message.id}@{self.domain}>"
        mime["Auto-Submitted"] = "auto-generated"
        mime["X-Auto-Response-Suppress"] = "All"
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
        return mime

    async def send(self, message: ClaimedMessage) -> None:
        c = self.config
        await aiosmtplib.send(
            self.build(message),
            sender=self.envelope_from,
            recipients=[message.to_address],
            hostname=c.hostname,
            port=c.port,
            username=c.username,
            password=c.password,
            use_tls=c.use_tls,
            start_tls=c.start_tls,
            timeout=c.timeout,
        )


class EmailSender(BackgroundWorker):
    """The background sender. Several may run against one database (replicas)."""

    task_name = "email-sender"

    def __init__(
        self,
        db: Database,
        settings: NotificationsSettings,
        *,
        transport: SmtpTransport | None = None,
        on_events_committed: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.transport = transport or SmtpTransport(
            SmtpConfig.from_url(settings.smtp_url, timeout=settings.smtp_timeout_seconds),
            mail_from=settings.mail_from,
        )
        self.on_events_committed = on_events_committed
        super().__init__()

    async def stop(self, grace: float | None = None) -> None:
        """Let sends in flight finish (up to ``grace``, default the SMTP timeout); rows
        left ``sending`` are claimed again after MAIL_CLAIM_TIMEOUT_SECONDS."""
        await super().stop(grace or self.settings.smtp_timeout_seconds)

    # ------------------------------------------------------------------ work

    def retry_delay(self, attempt: int) -> timedelta:
        s = self.settings
        delay = min(s.mail_retry_base_seconds * 2 ** (attempt - 1), s.mail_retry_max_seconds)
        return timedelta(seconds=delay * (1 + random.uniform(0, 0.1)))

    async def run_once(self) -> int:
        """One round: claim due messages and send them concurrently; returns how many."""
        s = self.settings
        batch = await claim_due(
            self.db,
            limit=s.mail_batch_size,
            max_attempts=s.mail_max_attempts,
            claim_timeout=timedelta(seconds=s.mail_claim_timeout_seconds),
        )
        results = await asyncio.gather(*(self._deliver(m) for m in batch), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result  # e.g. the database went away while recording
        return len(batch)

    async def _deliver(self, message: ClaimedMessage) -> None:
        s = self.settings
        attempted_at = datetime.now(UTC)
        started = time.monotonic()
        failure: DeliveryFailed | None = None
        try:
            await self.transport.send(message)
        except Exception as exc:  # every failure is an attempt; classify() decides if final
            failure = classify(exc)
        duration_ms = int((time.monotonic() - started) * 1000)
        extra = {"message_id": str(message.id), "kind": message.kind, "attempt": message.attempt}
        if failure is None:
            await record_sent(self.db, message, attempted_at=attempted_at, duration_ms=duration_ms)
            EMAILS.labels(message.kind, AttemptOutcome.sent.value).inc()
            log.info("email sent", extra=extra)
            if self.on_events_committed is not None:
                self.on_events_committed()
            return
        outcome = await record_failure(
            self.db,
            message,
            error=failure.error,
            smtp_code=failure.code,
            permanent=failure.permanent,
            retry_in=self.retry_delay(message.attempt),
            max_attempts=s.mail_max_attempts,
            attempted_at=attempted_at,
            duration_ms=duration_ms,
        )
        EMAILS.labels(message.kind, outcome.value).inc()
        log.warning(
            "email failed for good" if outcome is AttemptOutcome.failed else "email failed; will retry",
            extra={**extra, "error_type": failure.error},
        )

    async def _run(self) -> None:
        failures = 0
        poll = self.settings.mail_poll_interval_seconds
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                sent = await self.run_once()
                failures = 0
            except Exception:
                log.exception("email sender round failed")  # e.g. the database is unavailable
                failures += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), min(poll * 2**failures, 30.0))
                continue
            if sent >= self.settings.mail_batch_size:
                continue  # more are probably due
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), poll)
