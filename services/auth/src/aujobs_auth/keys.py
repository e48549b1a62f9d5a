"""Signing keys: generated here, stored encrypted, published as a JWKS.

Rotation (DESIGN.md §4): a new key is published in the JWKS before it signs
(``activates_at`` in the future), the old key keeps being published after it is
retired until every token it signed has expired."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.db import Database

from .models import SigningKey
from .settings import AuthSettings


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def _public_jwk(private_pem: bytes, kid: str) -> dict[str, Any]:
    key = serialization.load_pem_private_key(private_pem, password=None)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    doc = jwk.construct(public_pem, "RS256").to_dict()
    doc = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in doc.items()}
    return {**doc, "kid": kid, "use": "sig", "alg": "RS256"}


class KeyManager:
    def __init__(self, db: Database, settings: AuthSettings) -> None:
        self.db = db
        self.settings = settings
        self._fernet = _fernet(settings.auth_key_encryption_secret)
        self._signing: tuple[str, bytes] | None = None
        self._published: list[dict[str, Any]] = []
        self._loaded_at = 0.0

    async def create_key(self, session: AsyncSession, *, activates_at: datetime | None = None) -> SigningKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=self.settings.signing_key_bits)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        kid = uuid.uuid4().hex
        key = SigningKey(
            kid=kid,
            algorithm="RS256",
            private_key_encrypted=self._fernet.encrypt(pem),
            public_jwk=_public_jwk(pem, kid),
            activates_at=activates_at or datetime.now(UTC),
        )
        session.add(key)
        await session.flush()
        return key

    async def ensure_key(self) -> None:
        """Make sure a usable key exists (first start). Serialised with an advisory
        lock so replicas starting together create one key, not several."""
        async with self.db.transaction() as session:
            await session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('auth.signing_keys'))"))
            now = datetime.now(UTC)
            active = await session.scalar(
                sa.select(sa.func.count())
                .select_from(SigningKey)
                .where(SigningKey.retired_at.is_(None), SigningKey.activates_at <= now)
            )
            if not active:
                await self.create_key(session)
        await self.reload()

    async def rotate(self, *, publish_ahead: timedelta = timedelta(minutes=10)) -> str:
        """Publish a new key now that starts signing after ``publish_ahead`` (so every
        verifier's JWKS cache has it first); the current keys retire when it activates."""
        async with self.db.transaction() as session:
            new = await self.rotate_in(session, publish_ahead=publish_ahead)
        await self.reload()
        return new.kid

    async def rotate_in(
        self, session: AsyncSession, *, publish_ahead: timedelta = timedelta(minutes=10)
    ) -> SigningKey:
        """:meth:`rotate` inside the caller's transaction (call :meth:`reload` after it
        commits). Serialised with the other key changes by the advisory lock."""
        await session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('auth.signing_keys'))"))
        return await self._rotate(session, publish_ahead)

    async def _rotate(self, session: AsyncSession, publish_ahead: timedelta) -> SigningKey:
        new = await self.create_key(session, activates_at=datetime.now(UTC) + publish_ahead)
        await session.execute(
            sa.update(SigningKey)
            .where(SigningKey.retired_at.is_(None), SigningKey.kid != new.kid)
            .values(retired_at=new.activates_at)
        )
        return new

    async def rotate_if_due(
        self, session: AsyncSession, *, max_age: timedelta, publish_ahead: timedelta, now: datetime
    ) -> SigningKey | None:
        """Rotate when the newest key was created more than ``max_age`` before ``now``.
        Only the replica that gets the advisory lock looks; the others return ``None``."""
        got = await session.scalar(sa.text("SELECT pg_try_advisory_xact_lock(hashtext('auth.signing_keys'))"))
        if not got:
            return None
        newest = await session.scalar(
            sa.select(sa.func.max(SigningKey.created_at)).where(SigningKey.retired_at.is_(None))
        )
        if newest is not None and newest > now - max_age:
            return None
        return await self._rotate(session, publish_ahead)

    async def reload(self) -> None:
        now = datetime.now(UTC)
        # Keep publishing retired keys until tokens they signed have expired.
        keep_after = now - timedelta(seconds=self.settings.access_token_ttl_seconds + 300)
        async with self.db.session() as session:
            keys = (
                await session.scalars(
                    sa.select(SigningKey)
                    .where(sa.or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > keep_after))
                    .order_by(SigningKey.activates_at.desc())
                )
            ).all()
        self._published = [k.public_jwk for k in keys]
        signing = next(
            (k for k in keys if k.activates_at <= now and (k.retired_at is None or k.retired_at > now)),
            None,
        )
        if signing is None:
            raise RuntimeError("no active signing key")
        self._signing = (signing.kid, self._fernet.decrypt(signing.private_key_encrypted))
        self._loaded_at = time.monotonic()

    async def _fresh(self) -> None:
        if self._signing is None or time.monotonic() - self._loaded_at > 60:
            await self.reload()

    async def jwks(self) -> dict[str, Any]:
        await self._fresh()
        return {"keys": self._published}

    async def public_keys(self) -> list[dict[str, Any]]:
        await self._fresh()
        return self._published

    async def sign(self, claims: dict[str, Any]) -> str:
        await self._fresh()
        assert self._signing is not None
        kid, pem = self._signing
        return jwt.encode(claims, pem.decode(), algorithm="RS256", headers={"kid": kid})
