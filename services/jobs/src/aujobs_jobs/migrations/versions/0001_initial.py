"""job postings, and the common outbox/inbox tables

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from aujobs_common.migrations import create_common_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_common_tables()
    op.create_table(
        "job_postings",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("company_name", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("suburb", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("postcode", sa.Text, nullable=False),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("salary_min_cents", sa.BigInteger),
        sa.Column("salary_max_cents", sa.BigInteger),
        sa.Column("salary_currency", sa.Text, nullable=False, server_default="AUD"),
        sa.Column("salary_period", sa.Text),
        sa.Column("work_type", sa.Text, nullable=False),
        sa.Column("classification", sa.Text, nullable=False),
        sa.Column("sub_classification", sa.Text),
        sa.Column("status", sa.Text, nullable=False, server_default="draft"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('draft','active','closed','expired')", name="ck_job_status"),
        sa.CheckConstraint(
            "salary_min_cents IS NULL OR (salary_min_cents >= 0 AND salary_max_cents >= salary_min_cents)",
            name="ck_job_salary_range",
        ),
    )
    op.create_index("ix_job_postings_owner_id", "job_postings", ["owner_id"])
    op.create_index(
        "ix_job_postings_status_published",
        "job_postings",
        ["status", sa.text("published_at DESC"), "id"],
    )
    op.create_index(
        "ix_job_postings_owner_created", "job_postings", ["owner_id", sa.text("created_at DESC"), "id"]
    )


def downgrade() -> None:
    op.drop_table("job_postings")
