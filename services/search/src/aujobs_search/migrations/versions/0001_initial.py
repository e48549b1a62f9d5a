"""job documents with a weighted full-text vector, and the common outbox/inbox tables

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID

from aujobs_common.migrations import create_common_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DOCUMENT_SQL = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(company_name, '')), 'B') || "
    "setweight(to_tsvector('english', "
    "coalesce(classification, '') || ' ' || coalesce(sub_classification, '')), 'C') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'D')"
)


def upgrade() -> None:
    create_common_tables()
    op.create_table(
        "job_documents",
        sa.Column("job_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("company_name", sa.Text),
        sa.Column("classification", sa.Text, nullable=False),
        sa.Column("sub_classification", sa.Text),
        sa.Column("work_type", sa.Text, nullable=False),
        sa.Column("suburb", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("postcode", sa.Text, nullable=False),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("salary_min_cents", sa.BigInteger),
        sa.Column("salary_max_cents", sa.BigInteger),
        sa.Column("salary_period", sa.Text),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("document", TSVECTOR, sa.Computed(DOCUMENT_SQL, persisted=True)),
    )
    op.create_index("ix_job_documents_document", "job_documents", ["document"], postgresql_using="gin")
    op.create_index(
        "ix_job_documents_active_published",
        "job_documents",
        [sa.text("published_at DESC"), "job_id"],
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_table("job_documents")
