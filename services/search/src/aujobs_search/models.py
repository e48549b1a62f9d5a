from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class SearchBase(DeclarativeBase):
    metadata = sa.MetaData()


# Weighted, unaccented document: title A, skills B, company B, classification C,
# description D. ``f_unaccent`` is the IMMUTABLE wrapper created by migration 0002.
DOCUMENT_SQL = (
    "setweight(to_tsvector('english', f_unaccent(coalesce(title, ''))), 'A') || "
    "setweight(to_tsvector('english', f_unaccent(coalesce(skills_text, ''))), 'B') || "
    "setweight(to_tsvector('english', f_unaccent(coalesce(company_name, ''))), 'B') || "
    "setweight(to_tsvector('english', f_unaccent("
    "coalesce(classification, '') || ' ' || coalesce(sub_classification, ''))), 'C') || "
    "setweight(to_tsvector('english', f_unaccent(coalesce(description_text, ''))), 'D')"
)


class JobDocument(SearchBase):
    """Search's own read model of a posting, built from job events. ``version`` is the
    posting's version: an older event never overwrites a newer one. The company columns
    follow ``company.updated`` events (see :class:`Company`)."""

    __tablename__ = "job_documents"

    job_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.Text)
    title: Mapped[str] = mapped_column(sa.Text)
    #: the plain text of the description (never the HTML): tags are not words
    description_text: Mapped[str] = mapped_column(sa.Text)
    company_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    company_name: Mapped[str | None] = mapped_column(sa.Text)
    company_verified: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    company_size: Mapped[str | None] = mapped_column(sa.Text)
    classification: Mapped[str] = mapped_column(sa.Text)
    sub_classification: Mapped[str | None] = mapped_column(sa.Text)
    work_type: Mapped[str] = mapped_column(sa.Text)
    work_arrangement: Mapped[str] = mapped_column(sa.Text, server_default="on_site")
    #: canonical skill names as published; ``skills_text`` is them joined (for the
    #: document and trigram matching), ``skill_keys`` their lookup keys (for the filter)
    skills: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default=sa.text("'{}'"))
    skills_text: Mapped[str] = mapped_column(sa.Text, server_default="")
    skill_keys: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default=sa.text("'{}'"))
    benefits: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default=sa.text("'{}'"))
    benefit_keys: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default=sa.text("'{}'"))
    suburb: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.Text)
    postcode: Mapped[str] = mapped_column(sa.Text)
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    salary_min_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    salary_max_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    salary_period: Mapped[str | None] = mapped_column(sa.Text)
    salary_annual_min_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    salary_annual_max_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    featured_from: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    featured_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closing_date: Mapped[date | None] = mapped_column(sa.Date)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    indexed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    document: Mapped[str] = mapped_column(TSVECTOR, sa.Computed(DOCUMENT_SQL, persisted=True))


class Company(SearchBase):
    """The latest ``company.updated`` seen per company (version-guarded): the source of
    the company name, size and verified flag on that company's documents, so a rename
    reaches every posting without waiting for each posting's next event."""

    __tablename__ = "companies"

    company_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.Text)
    size: Mapped[str | None] = mapped_column(sa.Text)
    verified: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
