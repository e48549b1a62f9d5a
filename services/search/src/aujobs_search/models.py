from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class SearchBase(DeclarativeBase):
    metadata = sa.MetaData()


# Weighted document: title A, company B, classification C, description D.
DOCUMENT_SQL = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(company_name, '')), 'B') || "
    "setweight(to_tsvector('english', "
    "coalesce(classification, '') || ' ' || coalesce(sub_classification, '')), 'C') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'D')"
)


class JobDocument(SearchBase):
    """Search's own read model of a posting, built from job events. ``version`` is the
    posting's version: an older event never overwrites a newer one."""

    __tablename__ = "job_documents"

    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str] = mapped_column(sa.Text)
    company_name: Mapped[str | None] = mapped_column(sa.Text)
    classification: Mapped[str] = mapped_column(sa.Text)
    sub_classification: Mapped[str | None] = mapped_column(sa.Text)
    work_type: Mapped[str] = mapped_column(sa.Text)
    suburb: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.Text)
    postcode: Mapped[str] = mapped_column(sa.Text)
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    salary_min_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    salary_max_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    salary_period: Mapped[str | None] = mapped_column(sa.Text)
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    indexed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    document: Mapped[str] = mapped_column(TSVECTOR, sa.Computed(DOCUMENT_SQL, persisted=True))
