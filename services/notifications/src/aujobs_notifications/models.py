"""The outbound email queue and its delivery log (DESIGN.md §1: notifications owns
templates, the outbound queue and the delivery log)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class NotificationsBase(DeclarativeBase):
    metadata = sa.MetaData()


class EmailKind(StrEnum):
    verify_email = "verify_email"
    password_reset = "password_reset"  # noqa: S105 (a kind of email, not a secret)
    email_verified = "email_verified"
    security_alert = "security_alert"
    company_invitation = "company_invitation"
    job_expiry_reminder = "job_expiry_reminder"
    job_expired = "job_expired"
    job_rejected = "job_rejected"
    application_received = "application_received"
    application_status_changed = "application_status_changed"


class EmailCategory(StrEnum):
    """``security`` mail is always sent; ``transactional`` mail is what user preferences
    may switch off one day (the preferences arrive with the notifications issue)."""

    security = "security"
    transactional = "transactional"


CATEGORY_OF: dict[EmailKind, EmailCategory] = {
    EmailKind.verify_email: EmailCategory.transactional,
    EmailKind.email_verified: EmailCategory.transactional,
    # A reset link is the key to the account: never suppressed.
    EmailKind.password_reset: EmailCategory.security,
    EmailKind.security_alert: EmailCategory.security,
    EmailKind.company_invitation: EmailCategory.transactional,
    EmailKind.job_expiry_reminder: EmailCategory.transactional,
    EmailKind.job_expired: EmailCategory.transactional,
    EmailKind.job_rejected: EmailCategory.transactional,
    EmailKind.application_received: EmailCategory.transactional,
    EmailKind.application_status_changed: EmailCategory.transactional,
}


class EmailStatus(StrEnum):
    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class AttemptOutcome(StrEnum):
    sent = "sent"
    retry = "retry"  # failed, another attempt is scheduled
    failed = "failed"  # failed for good (permanent refusal, or the last attempt)


class EmailMessage(NotificationsBase):
    """One rendered email and where it is in the queue.

    The bodies hold one-time links, so they are erased once the message is ``sent``
    or ``failed``: the log keeps who, what kind, subject, status and timings."""

    __tablename__ = "email_messages"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # The event this email answers: one email per event, whatever the redeliveries.
    event_id: Mapped[str] = mapped_column(sa.Text, unique=True)
    kind: Mapped[str] = mapped_column(sa.Text)
    category: Mapped[str] = mapped_column(sa.Text)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # None: the recipient's address is unknown (``failed`` with ``UnknownRecipient``).
    to_address: Mapped[str | None] = mapped_column(sa.Text)
    subject: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)
    text: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text, server_default=EmailStatus.queued.value)
    attempts: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    # The error's type (and SMTP code) only: SMTP replies can quote addresses.
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="ck_email_status"),
        sa.CheckConstraint("category IN ('security', 'transactional')", name="ck_email_category"),
        sa.Index(
            "ix_email_messages_due",
            "next_attempt_at",
            postgresql_where=sa.text("status IN ('queued', 'sending')"),
        ),
        sa.Index("ix_email_messages_created", sa.text("created_at DESC"), sa.text("id DESC")),
        sa.Index("ix_email_messages_recipient", sa.text("lower(to_address)")),
    )


class EmailDeliveryAttempt(NotificationsBase):
    __tablename__ = "email_delivery_attempts"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("email_messages.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(sa.Integer)
    outcome: Mapped[str] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    smtp_code: Mapped[int | None] = mapped_column(sa.Integer)
    attempted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    duration_ms: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (
        sa.CheckConstraint("outcome IN ('sent', 'retry', 'failed')", name="ck_attempt_outcome"),
    )


class Recipient(NotificationsBase):
    """The recipient directory: a user's current address, built from the auth service's
    user events, so events that carry only a user id (jobs) can be emailed.

    ``updated_at`` is the time of the newest event applied: an older event arriving
    late never overwrites a newer address."""

    __tablename__ = "recipients"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    email: Mapped[str] = mapped_column(sa.Text)
    verified: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
