"""The outbound email queue.

The event consumer only INSERTs rendered messages (in its inbox transaction); the
sender (``sender.py``) claims due rows with ``FOR UPDATE SKIP LOCKED`` (several
replicas may run), sends them, and records each attempt. A claimed row is ``sending``
with a claim deadline in ``next_attempt_at``: if its sender dies, the row is claimed
again once the deadline passes."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.db import Database
from aujobs_common.errors import ProblemError
from aujobs_common.events import NotificationDelivered
from aujobs_common.ids import uuid7
from aujobs_common.outbox import enqueue
from aujobs_common.pagination import encode_cursor

from .models import AttemptOutcome, EmailDeliveryAttempt, EmailMessage, EmailStatus
from .rendering import RenderedEmail
from .schemas import Delivery, DeliveryAttemptOut, DeliveryDetail, DeliveryPage

log = logging.getLogger(__name__)

SOURCE = "/services/notifications"
ACTIVE = (EmailStatus.queued.value, EmailStatus.sending.value)


def valid_address(address: str) -> bool:
    """One plain ``local@domain`` address that can go into a header and an envelope."""
    if not address or len(address) > 320 or any(c in address for c in '\r\n\0<>,;"() '):
        return False
    name, parsed = parseaddr(address)
    local, _, domain = parsed.rpartition("@")
    return parsed == address and not name and bool(local) and "." in domain


async def queue_email(
    session: AsyncSession,
    *,
    event_id: str,
    user_id: uuid.UUID | None,
    to_address: str | None,
    email: RenderedEmail,
) -> uuid.UUID | None:
    """Queue ``email`` for ``to_address``, once per ``event_id`` (``None`` if it was
    queued before). An unusable address, or none (``to_address=None``: the recipient is
    not in the directory), is logged as ``failed`` at once instead of queued: retrying
    would not find an address either."""
    usable = to_address is not None and valid_address(to_address)
    error = None if usable else ("UnknownRecipient" if to_address is None else "InvalidRecipient")
    values: dict[str, Any] = {
        "id": uuid7(),
        "event_id": event_id,
        "kind": email.kind.value,
        "category": email.category.value,
        "user_id": user_id,
        "to_address": to_address,
        "subject": email.subject,
        "html": email.html if usable else None,
        "text": email.text if usable else None,
        "status": EmailStatus.queued.value if usable else EmailStatus.failed.value,
        "last_error": error,
    }
    inserted = await session.scalar(
        insert(EmailMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[EmailMessage.event_id])
        .returning(EmailMessage.id)
    )
    extra = {"message_id": str(inserted), "kind": email.kind.value, "event_id": event_id}
    if inserted is None:
        log.info("email for this event already queued", extra=extra)
    elif usable:
        log.info("email queued", extra=extra)
    elif error == "UnknownRecipient":
        log.warning("email not queued: recipient not in the directory", extra=extra)
    else:
        log.warning("email not queued: unusable recipient address", extra=extra)
    return inserted


# ---------------------------------------------------------------------- sending


@dataclass(frozen=True)
class ClaimedMessage:
    id: uuid.UUID
    kind: str
    user_id: uuid.UUID | None
    to_address: str
    subject: str
    html: str
    text: str
    attempt: int  # this attempt's number (1 = first)


async def claim_due(
    db: Database, *, limit: int, max_attempts: int, claim_timeout: timedelta
) -> list[ClaimedMessage]:
    """Claim up to ``limit`` due messages for one sending round (``sending``,
    ``attempts`` + 1); rows other senders hold are skipped."""
    m = EmailMessage.__table__.c
    async with db.transaction() as session:
        # A claim that expired on its last allowed attempt: its sender died; give up.
        await session.execute(
            sa.update(EmailMessage)
            .where(
                m.status == EmailStatus.sending.value,
                m.next_attempt_at <= sa.func.now(),
                m.attempts >= max_attempts,
            )
            .values(status=EmailStatus.failed.value, last_error="ClaimExpired", html=None, text=None)
        )
        due = (
            sa.select(m.id)
            .where(m.status.in_(ACTIVE), m.next_attempt_at <= sa.func.now(), m.attempts < max_attempts)
            .order_by(m.next_attempt_at, m.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list((await session.scalars(due)).all())
        if not ids:
            return []
        rows = (
            await session.execute(
                sa.update(EmailMessage)
                .where(m.id.in_(ids))
                .values(
                    status=EmailStatus.sending.value,
                    attempts=m.attempts + 1,
                    next_attempt_at=sa.func.now() + claim_timeout,
                )
                .returning(m.id, m.kind, m.user_id, m.to_address, m.subject, m.html, m.text, m.attempts)
            )
        ).all()
    return [
        ClaimedMessage(
            id=r.id,
            kind=r.kind,
            user_id=r.user_id,
            to_address=r.to_address,
            subject=r.subject,
            html=r.html or "",
            text=r.text or "",
            attempt=r.attempts,
        )
        for r in sorted(rows, key=lambda r: ids.index(r.id))
    ]


def _still_ours(message: ClaimedMessage) -> list[sa.ColumnElement[bool]]:
    # Only while our claim stands (the row may have been claimed again after a timeout).
    return [
        EmailMessage.id == message.id,
        EmailMessage.status == EmailStatus.sending.value,
        EmailMessage.attempts == message.attempt,
    ]


async def record_sent(
    db: Database, message: ClaimedMessage, *, attempted_at: datetime, duration_ms: int
) -> None:
    """Mark ``message`` sent (bodies erased), log the attempt and publish
    ``notification.delivered`` through the outbox, in one transaction."""
    async with db.transaction() as session:
        sent_at = await session.scalar(
            sa.update(EmailMessage)
            .where(*_still_ours(message))
            .values(
                status=EmailStatus.sent.value,
                sent_at=sa.func.clock_timestamp(),
                last_error=None,
                html=None,
                text=None,
            )
            .returning(EmailMessage.sent_at)
        )
        session.add(
            EmailDeliveryAttempt(
                id=uuid7(),
                message_id=message.id,
                attempt=message.attempt,
                outcome=AttemptOutcome.sent.value,
                attempted_at=attempted_at,
                duration_ms=duration_ms,
            )
        )
        if sent_at is None:
            log.warning("sent an email whose claim had expired", extra={"message_id": str(message.id)})
            return
        await enqueue(
            session,
            NotificationDelivered(
                message_id=message.id,
                kind=message.kind,
                user_id=message.user_id,
                channel="email",
                delivered_at=sent_at,
            ).to_event(source=SOURCE, subject=str(message.user_id or message.id)),
        )


async def record_failure(
    db: Database,
    message: ClaimedMessage,
    *,
    error: str,
    smtp_code: int | None,
    permanent: bool,
    retry_in: timedelta,
    max_attempts: int,
    attempted_at: datetime,
    duration_ms: int,
) -> AttemptOutcome:
    """Schedule the next attempt after ``retry_in``, or fail the message for good when
    the refusal is permanent or this was its last attempt."""
    final = permanent or message.attempt >= max_attempts
    outcome = AttemptOutcome.failed if final else AttemptOutcome.retry
    values: dict[str, Any] = {"last_error": error}
    if final:
        values.update(status=EmailStatus.failed.value, html=None, text=None)
    else:
        values.update(status=EmailStatus.queued.value, next_attempt_at=sa.func.clock_timestamp() + retry_in)
    async with db.transaction() as session:
        await session.execute(sa.update(EmailMessage).where(*_still_ours(message)).values(**values))
        session.add(
            EmailDeliveryAttempt(
                id=uuid7(),
                message_id=message.id,
                attempt=message.attempt,
                outcome=outcome.value,
                error=error,
                smtp_code=smtp_code,
                attempted_at=attempted_at,
                duration_ms=duration_ms,
            )
        )
    return outcome


# ---------------------------------------------------------------------- delivery log


def _delivery(row: EmailMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "category": row.category,
        "status": row.status,
        "to_address": row.to_address,
        "user_id": row.user_id,
        "subject": row.subject,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "next_attempt_at": row.next_attempt_at if row.status == EmailStatus.queued.value else None,
        "sent_at": row.sent_at,
    }


async def list_deliveries(
    session: AsyncSession,
    *,
    status: str | None,
    kind: str | None,
    recipient: str | None,
    limit: int,
    cursor: dict[str, Any] | None,
) -> DeliveryPage:
    """Newest first, ties broken by id; the cursor is the last item's (created_at, id)."""
    m = EmailMessage
    filters: list[sa.ColumnElement[bool]] = []
    if status:
        filters.append(m.status == status)
    if kind:
        filters.append(m.kind == kind)
    if recipient:
        filters.append(sa.func.lower(m.to_address) == recipient.strip().lower())
    if cursor is not None:
        try:
            after = (datetime.fromisoformat(cursor["c"]), uuid.UUID(cursor["i"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProblemError(400, "The cursor is not valid.", type_="invalid-cursor") from exc
        filters.append(sa.tuple_(m.created_at, m.id) < after)
    rows = list(
        (
            await session.scalars(
                sa.select(m).where(*filters).order_by(m.created_at.desc(), m.id.desc()).limit(limit + 1)
            )
        ).all()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor({"c": rows[-1].created_at.astimezone(UTC).isoformat(), "i": str(rows[-1].id)})
        if more
        else None
    )
    return DeliveryPage(items=[Delivery(**_delivery(r)) for r in rows], next_cursor=next_cursor)


async def get_delivery(session: AsyncSession, message_id: uuid.UUID) -> DeliveryDetail | None:
    row = await session.get(EmailMessage, message_id)
    if row is None:
        return None
    attempts = (
        await session.scalars(
            sa.select(EmailDeliveryAttempt)
            .where(EmailDeliveryAttempt.message_id == message_id)
            .order_by(EmailDeliveryAttempt.attempt, EmailDeliveryAttempt.attempted_at)
        )
    ).all()
    return DeliveryDetail(
        **_delivery(row),
        attempt_log=[
            DeliveryAttemptOut(
                attempt=a.attempt,
                outcome=cast(Any, a.outcome),
                error=a.error,
                smtp_code=a.smtp_code,
                attempted_at=a.attempted_at,
                duration_ms=a.duration_ms,
            )
            for a in attempts
        ],
    )
