"""The recipient directory: user id → current email address (and whether it is
verified), kept from the auth service's user events. Jobs events name their
recipients by user id only; this is how the notifications service finds the address
without reading the auth database (DESIGN.md §1: a local read model built from events).

Never logs addresses."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.events import (
    CloudEvent,
    UserEmailVerificationRequested,
    UserEmailVerified,
    UserPasswordResetRequested,
    UserRegistered,
    UserSecurityAlert,
)

from .models import Recipient

#: User events that state the user's current address (``user_id``, ``email``) as of the
#: event's time. A new user event that does must be added here.
ADDRESS_EVENTS: frozenset[str] = frozenset(
    m.event_type
    for m in (
        UserRegistered,
        UserEmailVerificationRequested,
        UserEmailVerified,
        UserPasswordResetRequested,
        UserSecurityAlert,
    )
)


class _UserAddress(BaseModel):
    """The part of those events the directory keeps."""

    model_config = ConfigDict(extra="ignore")
    user_id: uuid.UUID
    email: str


async def record_address(
    session: AsyncSession, *, user_id: uuid.UUID, email: str, verified: bool, at: datetime
) -> None:
    """Apply "``user_id``'s address is ``email`` as of ``at``" (``verified``: this event
    proves the address verified), in one statement, safe against concurrent events.

    The newest event wins the address. The verified flag follows the address: an event
    about the same address keeps it (and a verification sets it, even when it arrives
    late); a newer, different address starts unverified unless this event verifies it."""
    stmt = insert(Recipient).values(user_id=user_id, email=email, verified=verified, updated_at=at)
    stored, new = Recipient.__table__.c, stmt.excluded
    newer = stored.updated_at <= new.updated_at
    same_address = sa.func.lower(stored.email) == sa.func.lower(new.email)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Recipient.user_id],
            set_={
                "email": sa.case((newer, new.email), else_=stored.email),
                "verified": sa.case(
                    (same_address, stored.verified | new.verified),
                    (newer, new.verified),
                    else_=stored.verified,
                ),
                "updated_at": sa.func.greatest(stored.updated_at, new.updated_at),
            },
        )
    )


async def record_from_event(session: AsyncSession, event: CloudEvent) -> bool:
    """Update the directory from a user event that carries an address; ``False`` if the
    event carries none."""
    if event.type not in ADDRESS_EVENTS:
        return False
    payload = _UserAddress.model_validate(event.data)
    await record_address(
        session,
        user_id=payload.user_id,
        email=payload.email,
        verified=event.type == UserEmailVerified.event_type,
        at=event.time,
    )
    return True


async def address_of(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    """The user's current address, or ``None`` if no user event about them arrived."""
    return await session.scalar(sa.select(Recipient.email).where(Recipient.user_id == user_id))
