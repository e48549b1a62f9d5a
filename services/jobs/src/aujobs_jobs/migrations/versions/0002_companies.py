"""companies, their members and invitations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("website", sa.Text),
        sa.Column("industry", sa.Text),
        sa.Column("size", sa.Text),
        sa.Column("locations", JSONB, nullable=False, server_default="[]"),
        sa.Column("culture", sa.Text),
        sa.Column("benefits", JSONB, nullable=False, server_default="[]"),
        sa.Column("social_links", JSONB, nullable=False, server_default="{}"),
        sa.Column("abn", sa.Text),
        sa.Column("verification_status", sa.Text, nullable=False, server_default="unverified"),
        sa.Column("verification_reason", sa.Text),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("created_by", UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "verification_status IN ('unverified','pending','verified','rejected')",
            name="ck_company_verification_status",
        ),
        sa.CheckConstraint("abn IS NULL OR abn ~ '^[0-9]{11}$'", name="ck_company_abn"),
    )
    op.create_table(
        "company_members",
        sa.Column(
            "company_id",
            UUID(as_uuid=True),
            sa.ForeignKey("companies.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("role IN ('owner','recruiter')", name="ck_company_member_role"),
    )
    op.create_index("ix_company_members_user_id", "company_members", ["user_id"])
    op.create_table(
        "company_invitations",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "company_id",
            UUID(as_uuid=True),
            sa.ForeignKey("companies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False, server_default="recruiter"),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("invited_by", UUID(as_uuid=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.Column("accepted_by", UUID(as_uuid=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_company_invitations_company_id", "company_invitations", ["company_id"])


def downgrade() -> None:
    op.drop_table("company_invitations")
    op.drop_table("company_members")
    op.drop_table("companies")
