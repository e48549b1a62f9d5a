"""sign in with Google and LinkedIn: pending OAuth flows and linked identities

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ts(name: str, **kwargs) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kwargs)


def _user_fk(name: str, **kwargs) -> sa.Column:
    return sa.Column(name, UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), **kwargs)


def upgrade() -> None:
    op.create_table(
        "oauth_flows",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("state_hash", sa.Text, nullable=False, unique=True),
        sa.Column("code_verifier_encrypted", sa.LargeBinary, nullable=False),
        sa.Column("nonce", sa.Text, nullable=False),
        _user_fk("link_user_id"),
        sa.Column("return_to", sa.Text),
        _ts("created_at", nullable=False, server_default=sa.func.now()),
        _ts("expires_at", nullable=False),
        _ts("used_at"),
        _user_fk("user_id"),
        sa.Column("exchange_code_hash", sa.Text, unique=True),
        _ts("exchange_expires_at"),
        _ts("exchanged_at"),
    )
    op.create_index("ix_oauth_flows_expires_at", "oauth_flows", ["expires_at"])

    op.create_table(
        "oauth_identities",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        _user_fk("user_id", nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("email_verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("name", sa.Text),
        sa.Column("picture", sa.Text),
        sa.Column("headline", sa.Text),
        sa.Column("access_token_encrypted", sa.LargeBinary),
        _ts("access_token_expires_at"),
        sa.Column("refresh_token_encrypted", sa.LargeBinary),
        _ts("created_at", nullable=False, server_default=sa.func.now()),
        _ts("updated_at", nullable=False, server_default=sa.func.now()),
        _ts("last_login_at"),
        sa.UniqueConstraint("provider", "subject", name="uq_oauth_identities_provider_subject"),
        sa.UniqueConstraint("user_id", "provider", name="uq_oauth_identities_user_provider"),
    )
    op.create_index("ix_oauth_identities_user_id", "oauth_identities", ["user_id"])


def downgrade() -> None:
    op.drop_table("oauth_identities")
    op.drop_table("oauth_flows")
