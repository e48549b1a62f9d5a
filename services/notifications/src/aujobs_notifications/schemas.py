from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from .models import AttemptOutcome, EmailCategory, EmailKind, EmailStatus


class DeliveryAttemptOut(BaseModel):
    attempt: int
    outcome: AttemptOutcome
    error: str | None = Field(description="Error type (and SMTP code); never the server's reply text")
    smtp_code: int | None
    attempted_at: datetime
    duration_ms: int


class Delivery(BaseModel):
    """An email in the delivery log. Bodies are never returned: they hold one-time links."""

    id: uuid.UUID
    kind: EmailKind
    category: EmailCategory
    status: EmailStatus
    to_address: str | None = Field(description="None when the recipient's address was unknown")
    user_id: uuid.UUID | None
    subject: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="When the next attempt is due (queued mail only)")
    sent_at: datetime | None


class DeliveryDetail(Delivery):
    attempt_log: list[DeliveryAttemptOut]


class DeliveryPage(BaseModel):
    items: list[Delivery]
    next_cursor: str | None = None
