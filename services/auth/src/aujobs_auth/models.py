from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aujobs_common.ids import uuid7


class AuthBase(DeclarativeBase):
    metadata = sa.MetaData()


class User(AuthBase):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    # Stored lower-cased; unique case-insensitively.
    email: Mapped[str] = mapped_column(sa.Text, unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.Text)
    roles: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    email_verified: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    email_verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    verification_reminder_sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # TOTP secret (Fernet-encrypted); set by 2FA setup, in force from totp_enabled_at.
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Time step of the last accepted code: a code is never accepted twice (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), onupdate=sa.func.now()
    )

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None


class SigningKey(AuthBase):
    """An RSA key pair for access tokens. Published in the JWKS from ``created_at``,
    signs from ``activates_at``, and stays published after ``retired_at`` until tokens
    it signed have expired."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    algorithm: Mapped[str] = mapped_column(sa.Text, default="RS256")
    private_key_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    public_jwk: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    activates_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class UserSession(AuthBase):
    """A signed-in device: one refresh-token family. Its id is the family id and the
    ``sid`` claim of the access tokens issued in it."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    last_used_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    user_agent: Mapped[str | None] = mapped_column(sa.Text)
    ip_address: Mapped[str | None] = mapped_column(sa.Text)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(sa.Text)
    # The newest access token of the session, denylisted when the session is revoked.
    last_access_jti: Mapped[str | None] = mapped_column(sa.Text)
    last_access_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class RefreshToken(AuthBase):
    """Opaque refresh tokens, stored as SHA-256 hashes; single use, rotating within a
    family. Presenting a rotated token again revokes the whole family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    user_agent: Mapped[str | None] = mapped_column(sa.Text)
    ip_address: Mapped[str | None] = mapped_column(sa.Text)


class OneTimeToken(AuthBase):
    """Email verification, password reset and two-factor login challenge tokens:
    random, single use, expiring; only their SHA-256 hash is stored."""

    __tablename__ = "one_time_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(sa.Text)  # verify_email | reset_password | login_challenge
    token_hash: Mapped[str] = mapped_column(sa.Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)


class RecoveryCode(AuthBase):
    """Two-factor recovery codes: 80 random bits each, stored as SHA-256, single use."""

    __tablename__ = "recovery_codes"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class AuditEvent(AuthBase):
    """Security audit log. Never holds passwords, tokens, codes or secrets. ``user_id``
    is the account concerned (no foreign key: the trail outlives the account),
    ``actor_id`` who acted when that is someone else (an admin)."""

    __tablename__ = "audit_log"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    kind: Mapped[str] = mapped_column(sa.Text)
    user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    ip_address: Mapped[str | None] = mapped_column(sa.Text)
    user_agent: Mapped[str | None] = mapped_column(sa.Text)
    detail: Mapped[dict] = mapped_column(JSONB, default=dict)


class OAuthFlow(AuthBase):
    """A sign-in (or linking) flow with Google or LinkedIn: created when the browser is
    sent to the provider, used once by the callback (``used_at``), then — on success —
    holding a short-lived single-use exchange code the frontend swaps for tokens.
    State and exchange code are stored as SHA-256 hashes; the PKCE verifier encrypted."""

    __tablename__ = "oauth_flows"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    provider: Mapped[str] = mapped_column(sa.Text)
    state_hash: Mapped[str] = mapped_column(sa.Text, unique=True)
    code_verifier_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    nonce: Mapped[str] = mapped_column(sa.Text)
    # Set when a signed-in user links the provider to their account.
    link_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    return_to: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # After a successful sign-in callback: who signed in, and the exchange code.
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    exchange_code_hash: Mapped[str | None] = mapped_column(sa.Text, unique=True)
    exchange_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    exchanged_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class OAuthIdentity(AuthBase):
    """An account at Google or LinkedIn linked to a user: one per (provider, subject),
    one per provider per user. Provider tokens are Fernet-encrypted at rest."""

    __tablename__ = "oauth_identities"
    __table_args__ = (
        sa.UniqueConstraint("provider", "subject", name="uq_oauth_identities_provider_subject"),
        sa.UniqueConstraint("user_id", "provider", name="uq_oauth_identities_user_provider"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(sa.Text)
    subject: Mapped[str] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.Text)
    email_verified: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    name: Mapped[str | None] = mapped_column(sa.Text)
    picture: Mapped[str | None] = mapped_column(sa.Text)
    headline: Mapped[str | None] = mapped_column(sa.Text)
    access_token_encrypted: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    refresh_token_encrypted: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), onupdate=sa.func.now()
    )
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
