"""Signing real RS256 access tokens in tests, with a key source to verify them."""

from __future__ import annotations

import time
import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt

from ..security import StaticKeySource

ISSUER = "https://auth.australiajobs.local"
AUDIENCE = "australia-jobs"


class TokenFactory:
    def __init__(self, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        self.issuer = issuer
        self.audience = audience
        self.kid = uuid.uuid4().hex
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        public = jwk.construct(public_pem, "RS256").to_dict()
        self.public_jwk = {
            **{k: (v.decode() if isinstance(v, bytes) else v) for k, v in public.items()},
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
        }
        self.key_source = StaticKeySource([self.public_jwk])

    def token(
        self,
        user_id: uuid.UUID | None = None,
        *,
        roles: list[str] | None = None,
        email_verified: bool = True,
        ttl: int = 300,
        **overrides: Any,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id or uuid.uuid4()),
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "typ": "access",
            "roles": roles or ["job_seeker"],
            "email_verified": email_verified,
        }
        claims.update(overrides)
        return jwt.encode(claims, self.private_pem, algorithm="RS256", headers={"kid": self.kid})

    def headers(self, user_id: uuid.UUID | None = None, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id, **kwargs)}"}
