"""Turns events into queued emails: the auth service's user events (which carry the
address, and keep the recipient directory up to date), and the jobs service's company
invitations and job ad events (addressed by owner id, through the directory). Runs
inside the inbox transaction (``aujobs_common.inbox``), so an event queues its email at
most once; the ``event_id`` unique key is a second guard. Only INSERTs (and directory
upserts): sending is the sender's job.

Logs carry event and message ids only: never addresses, never tokens."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.events import (
    ApplicationStatusChanged,
    ApplicationSubmitted,
    CloudEvent,
    CompanyMemberInvited,
    JobExpired,
    JobExpiryReminder,
    JobRejected,
    UserEmailVerificationRequested,
    UserEmailVerified,
    UserPasswordResetRequested,
    UserSecurityAlert,
)

from .directory import address_of, record_from_event
from .rendering import APPLICATION_HEADLINES, EmailRenderer, RenderedEmail
from .service import queue_email

USER_EVENTS = ["au.jobs.user.*.v1"]
# Named one by one: every other job event (updated, published, …) is none of our business.
JOB_EVENTS = [
    CompanyMemberInvited.event_type,
    JobExpiryReminder.event_type,
    JobExpired.event_type,
    JobRejected.event_type,
]
APPLICATION_EVENTS = [ApplicationSubmitted.event_type, ApplicationStatusChanged.event_type]

Handler = Callable[[AsyncSession, CloudEvent], Awaitable[None]]


def _wake_after_commit(session: AsyncSession, on_queued: Callable[[], None] | None) -> None:
    if on_queued is not None:
        callback = on_queued
        sa_event.listen(session.sync_session, "after_commit", lambda _session: callback(), once=True)


def user_event_handler(renderer: EmailRenderer, on_queued: Callable[[], None] | None = None) -> Handler:
    """The subscription handler; ``on_queued`` runs after the transaction that queued
    an email commits (it wakes the sender).

    Every user event that carries an address also updates the recipient directory: on
    one queue a message goes to the first matching subscription only, so the directory
    cannot be a subscription of its own on the same user events."""

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        await record_from_event(session, event)
        email: RenderedEmail
        if event.type == UserEmailVerificationRequested.event_type:
            verify = UserEmailVerificationRequested.model_validate(event.data)
            user_id, to = verify.user_id, verify.email
            email = renderer.verify_email(
                to_address=to, token=verify.token, expires_at=verify.expires_at, reminder=verify.reminder
            )
        elif event.type == UserPasswordResetRequested.event_type:
            reset = UserPasswordResetRequested.model_validate(event.data)
            user_id, to = reset.user_id, reset.email
            email = renderer.password_reset(to_address=to, token=reset.token, expires_at=reset.expires_at)
        elif event.type == UserEmailVerified.event_type:
            verified = UserEmailVerified.model_validate(event.data)
            user_id, to = verified.user_id, verified.email
            email = renderer.email_verified(to_address=to, verified_at=verified.verified_at)
        elif event.type == UserSecurityAlert.event_type:
            # Security mail is always sent, whatever the user's preferences.
            alert = UserSecurityAlert.model_validate(event.data)
            user_id, to = alert.user_id, alert.email
            email = renderer.security_alert(
                to_address=to, kind=alert.kind, occurred_at=alert.occurred_at, detail=alert.detail
            )
        else:
            # user.registered (the verification request carries the welcome), deleted, …
            return
        queued = await queue_email(session, event_id=event.id, user_id=user_id, to_address=to, email=email)
        if queued is not None:
            _wake_after_commit(session, on_queued)

    return handle


def job_event_handler(renderer: EmailRenderer, on_queued: Callable[[], None] | None = None) -> Handler:
    """Company invitations (to the invited address) and job ad news for the ad's owner,
    whose address comes from the recipient directory. An owner missing from the
    directory is logged as undeliverable (``failed``, ``UnknownRecipient``) and the
    event counts as handled: retrying it would not find an address either."""

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        # For an unknown owner the email is still rendered (its kind and subject go into
        # the delivery log); the bodies are not kept.
        user_id: uuid.UUID | None
        to: str | None
        email: RenderedEmail
        if event.type == CompanyMemberInvited.event_type:
            invited = CompanyMemberInvited.model_validate(event.data)
            user_id, to = None, invited.email
            email = renderer.company_invitation(
                to_address=to,
                company_name=invited.company_name,
                token=invited.token,
                expires_at=invited.expires_at,
            )
        elif event.type == JobExpiryReminder.event_type:
            reminder = JobExpiryReminder.model_validate(event.data)
            user_id, to = reminder.owner_id, await address_of(session, reminder.owner_id)
            email = renderer.job_expiry_reminder(
                to_address=to or "",
                job_id=reminder.job_id,
                title=reminder.title,
                expires_at=reminder.expires_at,
            )
        elif event.type == JobExpired.event_type:
            expired = JobExpired.model_validate(event.data)
            user_id, to = expired.owner_id, await address_of(session, expired.owner_id)
            email = renderer.job_expired(
                to_address=to or "",
                job_id=expired.job_id,
                title=expired.title,
                expired_at=expired.expires_at or expired.updated_at,
            )
        elif event.type == JobRejected.event_type:
            rejected = JobRejected.model_validate(event.data)
            user_id, to = rejected.owner_id, await address_of(session, rejected.owner_id)
            email = renderer.job_rejected(
                to_address=to or "", job_id=rejected.job_id, title=rejected.title, reason=rejected.reason
            )
        else:
            return
        queued = await queue_email(session, event_id=event.id, user_id=user_id, to_address=to, email=email)
        if queued is not None:
            _wake_after_commit(session, on_queued)

    return handle


def application_event_handler(
    renderer: EmailRenderer, on_queued: Callable[[], None] | None = None
) -> Handler:
    """Tells the applicant: their application was sent, and the employer moved it to a
    stage they should hear about (with the employer's message, if any). Addressed by
    user id through the recipient directory, like job ad news."""

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
        email: RenderedEmail
        if event.type == ApplicationSubmitted.event_type:
            submitted = ApplicationSubmitted.model_validate(event.data)
            user_id, to = submitted.applicant_id, await address_of(session, submitted.applicant_id)
            email = renderer.application_received(
                to_address=to or "",
                application_id=submitted.application_id,
                job_title=submitted.job_title or "a job",
                company_name=submitted.company_name,
            )
        elif event.type == ApplicationStatusChanged.event_type:
            changed = ApplicationStatusChanged.model_validate(event.data)
            if changed.status.value not in APPLICATION_HEADLINES:
                return
            user_id, to = changed.applicant_id, await address_of(session, changed.applicant_id)
            email = renderer.application_status_changed(
                to_address=to or "",
                application_id=changed.application_id,
                job_title=changed.job_title or "a job",
                company_name=changed.company_name,
                status=changed.status.value,
                message=changed.message,
            )
        else:
            return
        queued = await queue_email(session, event_id=event.id, user_id=user_id, to_address=to, email=email)
        if queued is not None:
            _wake_after_commit(session, on_queued)

    return handle
