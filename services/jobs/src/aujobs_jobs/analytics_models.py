"""Per-posting analytics: daily counters and the first hire of each posting."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from .models import JobsBase


class JobDailyStats(JobsBase):
    """Counts for one posting on one Australia/Sydney calendar day; rows are upserted
    with ``x = x + 1`` so concurrent bumps never lose a count."""

    __tablename__ = "job_daily_stats"

    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("job_postings.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    views: Mapped[int] = mapped_column(sa.Integer, default=0)
    apply_starts: Mapped[int] = mapped_column(sa.Integer, default=0)
    applications: Mapped[int] = mapped_column(sa.Integer, default=0)


class JobHire(JobsBase):
    """The earliest hire for a posting (time to fill = ``hired_at`` - ``published_at``)."""

    __tablename__ = "job_hires"

    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("job_postings.id", ondelete="CASCADE"), primary_key=True
    )
    application_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    hired_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
