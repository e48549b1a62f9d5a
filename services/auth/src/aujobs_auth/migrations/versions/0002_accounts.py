"""accounts: sessions, one-time tokens (verification, reset, 2FA challenge), TOTP and
recovery codes, the audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ts(name: str, **kwargs) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kwargs)


def upgrade() -> None:
    op.add_column("users", _ts("email_verified_at"))
    op.add_column("users", _ts("verification_reminder_sent_at"))
    op.add_column("users", _ts("password_changed_at"))
    op.add_column("users", sa.Column("totp_secret_encrypted", sa.LargeBinary))
    op.add_column("users", _ts("totp_enabled_at"))
    op.add_column("users", sa.Column("totp_last_step", sa.BigInteger))
    op.execute("UPDATE users SET email_verified_at = updated_at WHERE email_verified")
    # The reminder job's query: unverified users without a reminder, oldest first.
    op.create_index(
        "ix_users_unverified_created_at",
        "users",
        ["created_at"],
        postgresql_where=sa.text("NOT email_verified AND verification_reminder_sent_at IS NULL"),
    )

    op.create_table(
        "sessions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "user_id", UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        _ts("created_at", nullable=False, server_default=sa.func.now()),
        _ts("last_used_at", nullable=False),
        _ts("expires_at", nullable=False),
        sa.Column("user_agent", sa.Text),
        sa.Column("ip_address", sa.Text),
        _ts("revoked_at"),
        sa.Column("revoked_reason", sa.Text),
        sa.Column("last_access_jti", sa.Text),
        _ts("last_access_expires_at"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id", "id"])
    # Every existing refresh-token family becomes a session.
    op.execute(
        """
        INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent,
                              ip_address, revoked_at, revoked_reason)
        SELECT f.family_id, f.user_id, f.created_at, l.created_at, l.expires_at, l.user_agent,
               l.ip_address, l.revoked_at, CASE WHEN l.revoked_at IS NOT NULL THEN 'revoked' END
        FROM (
            SELECT family_id, (array_agg(user_id))[1] AS user_id, min(created_at) AS created_at
            FROM refresh_tokens GROUP BY family_id
        ) f
        CROSS JOIN LATERAL (
            SELECT * FROM refresh_tokens r WHERE r.family_id = f.family_id
            ORDER BY r.created_at DESC, r.id DESC LIMIT 1
        ) l
        """
    )
    op.create_foreign_key(
        "fk_refresh_tokens_family_id_sessions",
        "refresh_tokens",
        "sessions",
        ["family_id"],
        ["id"],
        ondelete="CASCADE",
    )

    op.create_table(
        "one_time_tokens",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "user_id", UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        _ts("created_at", nullable=False, server_default=sa.func.now()),
        _ts("expires_at", nullable=False),
        _ts("used_at"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint(
            "purpose IN ('verify_email', 'reset_password', 'login_challenge')",
            name="ck_one_time_tokens_purpose",
        ),
    )
    op.create_index("ix_one_time_tokens_user_id", "one_time_tokens", ["user_id", "purpose"])

    op.create_table(
        "recovery_codes",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "user_id", UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("code_hash", sa.Text, nullable=False),
        _ts("created_at", nullable=False, server_default=sa.func.now()),
        _ts("used_at"),
    )
    op.create_index("ix_recovery_codes_user_id", "recovery_codes", ["user_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        _ts("occurred_at", nullable=False, server_default=sa.func.now()),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("user_id", UUID(as_uuid=True)),
        sa.Column("actor_id", UUID(as_uuid=True)),
        sa.Column("ip_address", sa.Text),
        sa.Column("user_agent", sa.Text),
        sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    op.create_index("ix_audit_log_user_id", "audit_log", ["user_id", "id"])
    op.create_index("ix_audit_log_kind", "audit_log", ["kind", "id"])
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("recovery_codes")
    op.drop_table("one_time_tokens")
    op.drop_constraint("fk_refresh_tokens_family_id_sessions", "refresh_tokens", type_="foreignkey")
    op.drop_table("sessions")
    op.drop_index("ix_users_unverified_created_at", table_name="users")
    for column in (
        "totp_last_step",
        "totp_enabled_at",
        "totp_secret_encrypted",
        "password_changed_at",
        "verification_reminder_sent_at",
        "email_verified_at",
    ):
        op.drop_column("users", column)
