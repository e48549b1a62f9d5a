"""applications, their history, notes and attachments; the job and company read models;
blobs; and the common outbox/inbox tables

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from aujobs_common.blobs import create_blob_table
from aujobs_common.migrations import create_common_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_common_tables()
    create_blob_table()
    op.create_table(
        "job_view",
        sa.Column("job_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("company_id", UUID(as_uuid=True)),
        sa.Column("company_name", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("screening_questions", JSONB, nullable=False, server_default="[]"),
        sa.Column("skills", JSONB, nullable=False, server_default="[]"),
        sa.Column("closing_date", sa.Date),
        sa.Column("expires_at", TS),
        sa.Column("application_method", sa.Text, nullable=False, server_default="on_platform"),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_job_view_company_id", "job_view", ["company_id"])
    op.create_table(
        "company_member_sets",
        sa.Column("company_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("changed_at", TS, nullable=False),
    )
    op.create_table(
        "company_members",
        sa.Column("company_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
    )
    op.create_index("ix_company_members_user_id", "company_members", ["user_id"])
    op.create_table(
        "applications",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("job_id", UUID(as_uuid=True), nullable=False),
        sa.Column("company_id", UUID(as_uuid=True)),
        sa.Column("applicant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
        sa.Column("status", sa.Text, nullable=False, server_default="submitted"),
        sa.Column("furthest_stage", sa.Text, nullable=False, server_default="submitted"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("job_title", sa.Text, nullable=False),
        sa.Column("company_name", sa.Text),
        sa.Column("cover_letter", sa.Text),
        sa.Column("answers", JSONB, nullable=False, server_default="{}"),
        sa.Column("resume_id", UUID(as_uuid=True), nullable=False),
        sa.Column("resume_version_id", UUID(as_uuid=True), nullable=False),
        sa.Column("resume_filename", sa.Text, nullable=False),
        sa.Column("resume_content_type", sa.Text, nullable=False),
        sa.Column("resume_size_bytes", sa.BigInteger, nullable=False),
        sa.Column("resume_sha256", sa.String(64), nullable=False),
        sa.Column("resume_skills", JSONB),
        sa.Column("match_score", sa.Integer),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("first_reviewed_at", TS),
        sa.Column("hired_at", TS),
        sa.Column("closed_at", TS),
        sa.UniqueConstraint("job_id", "applicant_id", "attempt", name="uq_applications_job_applicant"),
        sa.CheckConstraint(
            "status IN ('submitted','reviewed','shortlisted','interview','offer','hired',"
            "'rejected','withdrawn')",
            name="ck_applications_status",
        ),
        sa.CheckConstraint(
            "match_score IS NULL OR match_score BETWEEN 0 AND 100", name="ck_applications_score"
        ),
    )
    op.create_index("ix_applications_job_submitted", "applications", ["job_id", "submitted_at", "id"])
    op.create_index(
        "ix_applications_applicant_submitted", "applications", ["applicant_id", "submitted_at", "id"]
    )
    op.create_index("ix_applications_company", "applications", ["company_id"])
    op.create_index("ix_applications_resume_version_id", "applications", ["resume_version_id"])
    op.create_table(
        "application_status_history",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "application_id",
            UUID(as_uuid=True),
            sa.ForeignKey("applications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("changed_by", UUID(as_uuid=True)),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("message", sa.Text),
    )
    op.create_index(
        "ix_application_status_history_application_id", "application_status_history", ["application_id"]
    )
    op.create_table(
        "application_notes",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "application_id",
            UUID(as_uuid=True),
            sa.ForeignKey("applications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author_id", UUID(as_uuid=True), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_application_notes_application_id", "application_notes", ["application_id"])
    op.create_table(
        "application_attachments",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "application_id",
            UUID(as_uuid=True),
            sa.ForeignKey("applications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("kind IN ('cover_letter','other')", name="ck_attachments_kind"),
    )
    op.create_index(
        "ix_application_attachments_application_id", "application_attachments", ["application_id"]
    )


def downgrade() -> None:
    for table in (
        "application_attachments",
        "application_notes",
        "application_status_history",
        "applications",
        "company_members",
        "company_member_sets",
        "job_view",
        "blobs",
    ):
        op.drop_table(table)
