"""company reviews, votes, reports and responses

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

RATINGS = ("overall", "work_life_balance", "pay_benefits", "culture", "management", "career_growth")


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _review_fk() -> sa.Column:
    return sa.Column(
        "review_id",
        UUID(as_uuid=True),
        sa.ForeignKey("company_reviews.id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "company_reviews",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "company_id",
            UUID(as_uuid=True),
            sa.ForeignKey("companies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author_id", UUID(as_uuid=True), nullable=False),
        sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
        *(sa.Column(name, sa.SmallInteger, nullable=False) for name in RATINGS),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("pros", sa.Text, nullable=False),
        sa.Column("cons", sa.Text, nullable=False),
        sa.Column("job_title", sa.Text),
        sa.Column("employment_status", sa.Text),
        sa.Column("location_state", sa.Text),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("hold_reasons", JSONB, nullable=False, server_default="[]"),
        sa.Column("rejection_reason", sa.Text),
        sa.Column("text_fingerprint", sa.Text, nullable=False),
        sa.Column("client_ip_hash", sa.Text),
        sa.Column("helpful_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("open_report_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("moderated_by", UUID(as_uuid=True)),
        sa.Column("moderated_at", sa.DateTime(timezone=True)),
        _created_at(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        *(
            sa.CheckConstraint(f"{name} BETWEEN 1 AND 5", name=f"ck_company_review_{name}")
            for name in RATINGS
        ),
        sa.CheckConstraint(
            "status IN ('pending','held','published','rejected','withdrawn')", name="ck_company_review_status"
        ),
        sa.CheckConstraint(
            "employment_status IS NULL OR employment_status IN ('current','former')",
            name="ck_company_review_employment_status",
        ),
        sa.CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name="ck_company_review_pub"),
    )
    # The cooldown and burst checks look up one author's recent reviews.
    op.create_index("ix_company_reviews_author_created", "company_reviews", ["author_id", "created_at"])
    op.create_index(
        "ix_company_reviews_ip_created",
        "company_reviews",
        ["client_ip_hash", "created_at"],
        postgresql_where=sa.text("client_ip_hash IS NOT NULL"),
    )
    op.create_index("ix_company_reviews_fingerprint", "company_reviews", ["text_fingerprint"])
    # Public listing (newest first) and the aggregates only ever read published rows.
    op.create_index(
        "ix_company_reviews_public",
        "company_reviews",
        ["company_id", sa.text("published_at DESC"), sa.text("id DESC")],
        postgresql_where=sa.text("status = 'published'"),
    )
    op.create_index(
        "ix_company_reviews_queue",
        "company_reviews",
        ["created_at", "id"],
        postgresql_where=sa.text("status IN ('pending','held')"),
    )
    op.create_table(
        "company_review_votes",
        _review_fk(),
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        _created_at(),
    )
    op.create_table(
        "company_review_reports",
        _review_fk(),
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        _created_at(),
    )
    op.create_table(
        "company_review_responses",
        _review_fk(),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("responded_by", UUID(as_uuid=True), nullable=False),
        _created_at(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("company_review_responses")
    op.drop_table("company_review_reports")
    op.drop_table("company_review_votes")
    op.drop_table("company_reviews")
