"""resumes, versions, blobs, parse jobs, share links, job view; common tables

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from aujobs_common.blobs import create_blob_table
from aujobs_common.migrations import create_common_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    create_common_tables()
    create_blob_table()
    op.create_table(
        "resumes",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("tags", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("is_primary", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("template", sa.Text),
        sa.Column("last_version_number", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.CheckConstraint("source IN ('upload','builder')", name="ck_resumes_source"),
    )
    op.create_index(
        "ix_resumes_owner_created", "resumes", ["owner_id", sa.text("created_at DESC"), sa.text("id DESC")]
    )
    # Exactly one primary resume per user who has any (at most one here; the service
    # keeps "at least one").
    op.create_index(
        "uq_resumes_one_primary", "resumes", ["owner_id"], unique=True, postgresql_where=sa.text("is_primary")
    )
    op.create_index("ix_resumes_tags", "resumes", ["tags"], postgresql_using="gin")

    op.create_table(
        "resume_versions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "resume_id", UUID(as_uuid=True), sa.ForeignKey("resumes.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("template", sa.Text),
        sa.Column("parse_status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("parse_error", sa.Text),
        sa.Column("document", JSONB),
        sa.Column("text", sa.Text),
        sa.Column("sections", JSONB),
        sa.Column("pages", sa.Integer),
        sa.Column("parsed_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.UniqueConstraint("resume_id", "number", name="uq_resume_versions_number"),
        sa.CheckConstraint("kind IN ('pdf','docx')", name="ck_resume_versions_kind"),
        sa.CheckConstraint("origin IN ('upload','builder')", name="ck_resume_versions_origin"),
        sa.CheckConstraint(
            "parse_status IN ('pending','parsing','parsed','failed')", name="ck_resume_versions_parse_status"
        ),
    )
    op.create_index("ix_resume_versions_sha256", "resume_versions", ["sha256"])

    op.create_table(
        "parse_jobs",
        sa.Column(
            "version_id",
            UUID(as_uuid=True),
            sa.ForeignKey("resume_versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending','running','done','failed')", name="ck_parse_jobs_status"),
    )
    op.create_index(
        "ix_parse_jobs_due",
        "parse_jobs",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending','running')"),
    )

    op.create_table(
        "share_links",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "resume_id", UUID(as_uuid=True), sa.ForeignKey("resumes.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "version_id",
            UUID(as_uuid=True),
            sa.ForeignKey("resume_versions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("access_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_accessed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_share_links_resume", "share_links", ["resume_id", sa.text("created_at DESC")])

    op.create_table(
        "job_view",
        sa.Column("job_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("skills", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("description_text", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    )


def downgrade() -> None:
    op.drop_table("job_view")
    op.drop_table("share_links")
    op.drop_table("parse_jobs")
    op.drop_table("resume_versions")
    op.drop_table("resumes")
    op.drop_table("blobs")
