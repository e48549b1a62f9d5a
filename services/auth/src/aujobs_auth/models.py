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
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), onupdate=sa.func.now()
    )


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


class RefreshToken(AuthBase):
    """Opaque refresh tokens, stored as SHA-256 hashes; single use, rotating within a
    family. Presenting a rotated token again revokes the whole family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    token_hash: Mapped[str] = mapped_column(sa.Text, unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    user_agent: Mapped[str | None] = mapped_column(sa.Text)
    ip_address: Mapped[str | None] = mapped_column(sa.Text)
