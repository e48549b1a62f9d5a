"""search query log and clicks

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


def upgrade() -> None:
    # One row per results page served; nothing about who searched (see querylog.py).
    op.create_table(
        "search_queries",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("q", sa.Text),
        sa.Column("filters", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("first_page", sa.Boolean, nullable=False),
        sa.CheckConstraint("total >= 0", name="ck_search_queries_total"),
        sa.CheckConstraint("latency_ms >= 0", name="ck_search_queries_latency"),
    )
    op.create_index("ix_search_queries_created_at", "search_queries", ["created_at"])
    # The first click on a job of a results page; purged with its search.
    op.create_table(
        "search_clicks",
        sa.Column(
            "query_id",
            UUID(as_uuid=True),
            sa.ForeignKey("search_queries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("job_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("position BETWEEN 1 AND 1000", name="ck_search_clicks_position"),
    )
    op.create_index("ix_search_clicks_created_at", "search_clicks", ["created_at"])


def downgrade() -> None:
    op.drop_table("search_clicks")
    op.drop_table("search_queries")
