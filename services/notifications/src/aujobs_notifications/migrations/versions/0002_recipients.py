"""the recipient directory (user id → address), and email rows without a known address

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipients",
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # A job event whose owner is not in the directory is logged with no address.
    op.alter_column("email_messages", "to_address", existing_type=sa.Text, nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM email_messages WHERE to_address IS NULL")
    op.alter_column("email_messages", "to_address", existing_type=sa.Text, nullable=False)
    op.drop_table("recipients")
