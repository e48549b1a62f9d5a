"""indexes for broad searches: newest first, and facets from the index alone

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

* ``ix_job_documents_active_posted``: active postings newest first (the ``date`` order
  and the relevance order without ``q`` walk it to find their top candidates instead of
  ranking every match).
* ``ix_job_documents_active_facets``: every column the facet counts and the usual
  filters read, so counting facets over a broad filtered set is an index-only scan of a
  narrow index rather than a scan of the whole table (descriptions and vectors included).
* ``st_job_documents_posted``: statistics on the posting date expression (see below).
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_job_documents_active_posted ON job_documents "
        "((coalesce(published_at, updated_at)) DESC, job_id DESC) WHERE status = 'active'"
    )
    op.execute(
        "CREATE INDEX ix_job_documents_active_facets ON job_documents "
        "(classification, work_type) INCLUDE (sub_classification, work_arrangement, state, suburb, "
        "postcode, salary_annual_min_cents, salary_annual_max_cents, published_at, updated_at, "
        "expires_at, company_size, featured_from, featured_until, company_id, company_name, job_id) "
        "WHERE status = 'active'"
    )
    # The planner has no statistics for an expression of a partial index: without these
    # it guesses a third of the table for "posted >= <the N-th newest>" and scans it all.
    op.execute(
        "CREATE STATISTICS st_job_documents_posted ON (coalesce(published_at, updated_at)) FROM job_documents"
    )
    op.execute("ANALYZE job_documents")


def downgrade() -> None:
    op.execute("DROP STATISTICS IF EXISTS st_job_documents_posted")
    op.drop_index("ix_job_documents_active_facets", table_name="job_documents")
    op.drop_index("ix_job_documents_active_posted", table_name="job_documents")
