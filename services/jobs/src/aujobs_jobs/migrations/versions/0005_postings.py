"""the full job posting: fields, workflow, templates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATUSES = "'draft','pending','scheduled','active','closed','expired'"


def upgrade() -> None:
    add = op.add_column
    add(
        "job_postings",
        sa.Column("company_id", UUID(as_uuid=True), sa.ForeignKey("companies.id", ondelete="RESTRICT")),
    )
    add("job_postings", sa.Column("description_text", sa.Text))
    add("job_postings", sa.Column("work_arrangement", sa.Text, nullable=False, server_default="on_site"))
    add("job_postings", sa.Column("salary_super_mode", sa.Text))
    add("job_postings", sa.Column("salary_display_text", sa.Text))
    add("job_postings", sa.Column("salary_annual_min_cents", sa.BigInteger))
    add("job_postings", sa.Column("salary_annual_max_cents", sa.BigInteger))
    add("job_postings", sa.Column("skills", JSONB, nullable=False, server_default="[]"))
    add("job_postings", sa.Column("benefits", JSONB, nullable=False, server_default="[]"))
    add("job_postings", sa.Column("screening_questions", JSONB, nullable=False, server_default="[]"))
    add(
        "job_postings", sa.Column("application_method", sa.Text, nullable=False, server_default="on_platform")
    )
    add("job_postings", sa.Column("application_url", sa.Text))
    add("job_postings", sa.Column("closing_date", sa.Date))
    add("job_postings", sa.Column("moderation_flags", JSONB, nullable=False, server_default="[]"))
    add("job_postings", sa.Column("moderation_reason", sa.Text))
    add("job_postings", sa.Column("featured_from", sa.DateTime(timezone=True)))
    add("job_postings", sa.Column("featured_until", sa.DateTime(timezone=True)))
    add("job_postings", sa.Column("publish_at", sa.DateTime(timezone=True)))
    add("job_postings", sa.Column("expires_at", sa.DateTime(timezone=True)))
    add("job_postings", sa.Column("expiry_reminded_at", sa.DateTime(timezone=True)))
    op.drop_constraint("ck_job_status", "job_postings", type_="check")
    op.create_check_constraint("ck_job_status", "job_postings", f"status IN ({STATUSES})")
    op.create_check_constraint(
        "ck_job_application_method",
        "job_postings",
        "application_method IN ('on_platform','external')"
        " AND (application_method = 'on_platform' OR application_url IS NOT NULL)",
    )
    # Postings published before the workflow existed live their 30 days from publishing.
    op.execute(
        "UPDATE job_postings SET expires_at = published_at + interval '30 days' "
        "WHERE status = 'active' AND expires_at IS NULL"
    )
    op.execute("UPDATE job_postings SET description_text = description WHERE description_text IS NULL")
    op.create_index("ix_job_postings_company_id", "job_postings", ["company_id"])
    op.create_index(
        "ix_job_postings_company_created", "job_postings", ["company_id", sa.text("created_at DESC"), "id"]
    )
    op.create_index(
        "ix_job_postings_publish_due",
        "job_postings",
        ["publish_at"],
        postgresql_where=sa.text("status = 'scheduled'"),
    )
    op.create_index(
        "ix_job_postings_expiry_due",
        "job_postings",
        ["expires_at"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "job_templates",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "company_id",
            UUID(as_uuid=True),
            sa.ForeignKey("companies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("fields", JSONB, nullable=False),
        sa.Column("created_by", UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("company_id", "name", name="uq_job_templates_company_name"),
    )
    op.create_index("ix_job_templates_company_id", "job_templates", ["company_id"])


def downgrade() -> None:
    op.drop_table("job_templates")
    for index in (
        "ix_job_postings_expiry_due",
        "ix_job_postings_publish_due",
        "ix_job_postings_company_created",
        "ix_job_postings_company_id",
    ):
        op.drop_index(index, table_name="job_postings")
    op.drop_constraint("ck_job_application_method", "job_postings", type_="check")
    op.drop_constraint("ck_job_status", "job_postings", type_="check")
    op.execute("UPDATE job_postings SET status = 'draft' WHERE status IN ('pending','scheduled')")
    op.create_check_constraint(
        "ck_job_status", "job_postings", "status IN ('draft','active','closed','expired')"
    )
    for column in (
        "expiry_reminded_at",
        "expires_at",
        "publish_at",
        "featured_until",
        "featured_from",
        "moderation_reason",
        "moderation_flags",
        "closing_date",
        "application_url",
        "application_method",
        "screening_questions",
        "benefits",
        "skills",
        "salary_annual_max_cents",
        "salary_annual_min_cents",
        "salary_display_text",
        "salary_super_mode",
        "work_arrangement",
        "description_text",
        "company_id",
    ):
        op.drop_column("job_postings", column)
