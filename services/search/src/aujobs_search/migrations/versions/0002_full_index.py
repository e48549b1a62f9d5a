"""the full posting: skills, arrangement, annual salary, geo, company, featured; trigram and geo indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

* Extensions: ``unaccent`` (accent-insensitive text), ``pg_trgm`` (typo tolerance),
  ``cube`` + ``earthdistance`` (radius search).
* ``f_unaccent(text)``: ``unaccent`` is only STABLE (its dictionary could change), so a
  generated column cannot call it; this IMMUTABLE wrapper names the dictionary
  explicitly, the usual practice. Rebuild the index if the dictionary is ever changed.
* ``job_documents.description`` becomes ``description_text`` (it always held the plain
  text), the weighted ``document`` vector is rebuilt as title A, skills B, company B,
  classification C, description D, all unaccented.
* Every index is partial on ``status = 'active'``: nothing else is ever searched.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OLD_DOCUMENT_SQL = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(company_name, '')), 'B') || "
    "setweight(to_tsvector('english', "
    "coalesce(classification, '') || ' ' || coalesce(sub_classification, '')), 'C') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'D')"
)

# Kept identical to aujobs_search.models.DOCUMENT_SQL (a migration is a frozen copy).
DOCUMENT_SQL = (
    "setweight(to_tsvector('english', f_unaccent(coalesce(title, ''))), 'A') || "
    "setweight(to_tsvector('english', f_unaccent(coalesce(skills_text, ''))), 'B') || "
    "setweight(to_tsvector('english', f_unaccent(coalesce(company_name, ''))), 'B') || "
    "setweight(to_tsvector('english', f_unaccent("
    "coalesce(classification, '') || ' ' || coalesce(sub_classification, ''))), 'C') || "
    "setweight(to_tsvector('english', f_unaccent(coalesce(description_text, ''))), 'D')"
)

ACTIVE = sa.text("status = 'active'")

# The annualisation rule of the jobs service (38 h x 52 weeks ...), for rows indexed
# before snapshots carried the annual figures.
ANNUAL_MULTIPLIER_SQL = (
    "CASE salary_period WHEN 'hourly' THEN 1976 WHEN 'daily' THEN 260 WHEN 'weekly' THEN 52 "
    "WHEN 'monthly' THEN 12 ELSE 1 END"
)


def upgrade() -> None:
    for extension in ("unaccent", "pg_trgm", "cube", "earthdistance"):
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    op.execute(
        "CREATE OR REPLACE FUNCTION f_unaccent(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT "
        "AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$"
    )

    op.drop_index("ix_job_documents_document", table_name="job_documents")
    op.drop_column("job_documents", "document")
    op.alter_column("job_documents", "description", new_column_name="description_text")

    empty = sa.text("'{}'")
    columns = [
        sa.Column("skills", ARRAY(sa.Text), nullable=False, server_default=empty),
        sa.Column("skills_text", sa.Text, nullable=False, server_default=""),
        sa.Column("skill_keys", ARRAY(sa.Text), nullable=False, server_default=empty),
        sa.Column("work_arrangement", sa.Text, nullable=False, server_default="on_site"),
        sa.Column("salary_annual_min_cents", sa.BigInteger),
        sa.Column("salary_annual_max_cents", sa.BigInteger),
        sa.Column("company_id", UUID(as_uuid=True)),
        sa.Column("company_verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("company_size", sa.Text),
        sa.Column("benefits", ARRAY(sa.Text), nullable=False, server_default=empty),
        sa.Column("benefit_keys", ARRAY(sa.Text), nullable=False, server_default=empty),
        sa.Column("featured_from", sa.DateTime(timezone=True)),
        sa.Column("featured_until", sa.DateTime(timezone=True)),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("closing_date", sa.Date),
    ]
    for column in columns:
        op.add_column("job_documents", column)
    op.execute(
        "UPDATE job_documents SET "  # noqa: S608 - built from constants only
        f"salary_annual_min_cents = salary_min_cents * {ANNUAL_MULTIPLIER_SQL}, "
        f"salary_annual_max_cents = salary_max_cents * {ANNUAL_MULTIPLIER_SQL} "
        "WHERE salary_min_cents IS NOT NULL"
    )
    op.add_column("job_documents", sa.Column("document", TSVECTOR, sa.Computed(DOCUMENT_SQL, persisted=True)))

    # full text (@@), typo tolerance (<% on title and skills), radius (earth_box @>)
    op.create_index(
        "ix_job_documents_document",
        "job_documents",
        ["document"],
        postgresql_using="gin",
        postgresql_where=ACTIVE,
    )
    op.execute(
        "CREATE INDEX ix_job_documents_title_trgm ON job_documents "
        "USING gin (f_unaccent(title) gin_trgm_ops) WHERE status = 'active'"
    )
    op.execute(
        "CREATE INDEX ix_job_documents_skills_trgm ON job_documents "
        "USING gin (f_unaccent(skills_text) gin_trgm_ops) WHERE status = 'active'"
    )
    op.execute(
        "CREATE INDEX ix_job_documents_geo ON job_documents "
        "USING gist (ll_to_earth(latitude, longitude)) "
        "WHERE status = 'active' AND latitude IS NOT NULL AND longitude IS NOT NULL"
    )
    # filters and sorts
    op.create_index(
        "ix_job_documents_skill_keys",
        "job_documents",
        ["skill_keys"],
        postgresql_using="gin",
        postgresql_where=ACTIVE,
    )
    op.create_index(
        "ix_job_documents_benefit_keys",
        "job_documents",
        ["benefit_keys"],
        postgresql_using="gin",
        postgresql_where=ACTIVE,
    )
    op.create_index(
        "ix_job_documents_active_salary",
        "job_documents",
        [sa.text("salary_annual_max_cents DESC"), "salary_annual_min_cents"],
        postgresql_where=ACTIVE,
    )
    op.create_index(
        "ix_job_documents_active_classification",
        "job_documents",
        ["classification", "sub_classification", sa.text("published_at DESC")],
        postgresql_where=ACTIVE,
    )
    op.create_index(
        "ix_job_documents_active_state", "job_documents", ["state", "suburb"], postgresql_where=ACTIVE
    )
    op.create_index(
        "ix_job_documents_active_postcode", "job_documents", ["postcode"], postgresql_where=ACTIVE
    )
    op.create_index(
        "ix_job_documents_active_featured",
        "job_documents",
        ["featured_until", "featured_from"],
        postgresql_where=sa.text("status = 'active' AND featured_until IS NOT NULL"),
    )
    # company.updated fans out by company_id; the company filter matches id or name
    op.create_index("ix_job_documents_company_id", "job_documents", ["company_id"])
    op.create_index(
        "ix_job_documents_active_company_name",
        "job_documents",
        [sa.text("lower(company_name)")],
        postgresql_where=ACTIVE,
    )

    op.create_table(
        "companies",
        sa.Column("company_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("size", sa.Text),
        sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("companies")
    for name in (
        "ix_job_documents_active_company_name",
        "ix_job_documents_company_id",
        "ix_job_documents_active_featured",
        "ix_job_documents_active_postcode",
        "ix_job_documents_active_state",
        "ix_job_documents_active_classification",
        "ix_job_documents_active_salary",
        "ix_job_documents_benefit_keys",
        "ix_job_documents_skill_keys",
        "ix_job_documents_geo",
        "ix_job_documents_skills_trgm",
        "ix_job_documents_title_trgm",
        "ix_job_documents_document",
    ):
        op.drop_index(name, table_name="job_documents")
    op.drop_column("job_documents", "document")
    for column in (
        "closing_date",
        "expires_at",
        "featured_until",
        "featured_from",
        "benefit_keys",
        "benefits",
        "company_size",
        "company_verified",
        "company_id",
        "salary_annual_max_cents",
        "salary_annual_min_cents",
        "work_arrangement",
        "skill_keys",
        "skills_text",
        "skills",
    ):
        op.drop_column("job_documents", column)
    op.alter_column("job_documents", "description_text", new_column_name="description")
    op.add_column(
        "job_documents", sa.Column("document", TSVECTOR, sa.Computed(OLD_DOCUMENT_SQL, persisted=True))
    )
    op.create_index("ix_job_documents_document", "job_documents", ["document"], postgresql_using="gin")
    op.execute("DROP FUNCTION IF EXISTS f_unaccent(text)")
