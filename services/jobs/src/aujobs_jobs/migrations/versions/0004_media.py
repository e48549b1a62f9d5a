"""company logo and image renditions; per-posting analytics and hires

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _counter(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "company_media",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "company_id",
            UUID(as_uuid=True),
            sa.ForeignKey("companies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("alt_text", sa.Text),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("source_format", sa.Text, nullable=False),
        sa.Column("source_bytes", sa.Integer, nullable=False),
        sa.Column("created_by", UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('logo','image')", name="ck_company_media_kind"),
    )
    op.create_index("ix_company_media_company", "company_media", ["company_id", "kind", "id"])
    op.create_index(
        "uq_company_media_one_logo",
        "company_media",
        ["company_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'logo'"),
    )
    op.create_table(
        "company_media_renditions",
        sa.Column(
            "media_id",
            UUID(as_uuid=True),
            sa.ForeignKey("company_media.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "job_daily_stats",
        sa.Column(
            "job_id",
            UUID(as_uuid=True),
            sa.ForeignKey("job_postings.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("day", sa.Date, primary_key=True),
        _counter("views"),
        _counter("apply_starts"),
        _counter("applications"),
    )
    op.create_table(
        "job_hires",
        sa.Column(
            "job_id",
            UUID(as_uuid=True),
            sa.ForeignKey("job_postings.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("application_id", UUID(as_uuid=True), nullable=False),
        sa.Column("hired_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_hires")
    op.drop_table("job_daily_stats")
    op.drop_table("company_media_renditions")
    op.drop_table("company_media")
