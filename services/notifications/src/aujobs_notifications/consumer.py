"""Turns the auth service's user events into queued emails. Runs inside the inbox
transaction (``aujobs_common.inbox``), so an event queues its email at most once; the
``event_id`` unique key is a second guard. Only INSERTs: sending is the sender's job.

Logs carry event and message ids only: never addresses, never tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.events import (
    CloudEvent,
    UserEmailVerificationRequested,
    UserEmailVerified,
    UserPasswordResetRequested,
    UserSecurityAlert,
)

from .rendering import EmailRenderer, RenderedEmail
from .service import queue_email

USER_EVENTS = ["au.jobs.user.*.v1"]


def user_event_handler(
    renderer: EmailRenderer, on_queued: Callable[[], None] | None = None
) -> Callable[[AsyncSession, CloudEvent], Awaitable[None]]:
    """The subscription handler; ``on_queued`` runs after the transaction that queued
    an email commits (it wakes the sender)."""

    async def handle(session: AsyncSession, event: CloudEvent) -> None:
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
        if queued is not None and on_queued is not None:
            callback = on_queued
            sa_event.listen(session.sync_session, "after_commit", lambda _session: callback(), once=True)

    return handle
