"""companies.logo_media_id: a company's logo without a query on every read

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("companies", sa.Column("logo_media_id", UUID(as_uuid=True)))
    op.execute(
        "UPDATE companies SET logo_media_id = m.id FROM company_media m "
        "WHERE m.company_id = companies.id AND m.kind = 'logo'"
    )


def downgrade() -> None:
    op.drop_column("companies", "logo_media_id")
