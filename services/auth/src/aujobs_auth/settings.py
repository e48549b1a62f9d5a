from __future__ import annotations

from functools import lru_cache

from pydantic import model_validator

from aujobs_common.settings import ServiceSettings

DEV_SECRET = "development-only-key-encryption-secret"  # noqa: S105 - refused in production below


class AuthSettings(ServiceSettings):
    service_name: str = "auth"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/aujobs_auth"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    # Encrypts signing private keys at rest. The default is for development only;
    # deployments set AUTH_KEY_ENCRYPTION_SECRET from a secret store.
    auth_key_encryption_secret: str = DEV_SECRET
    signing_key_bits: int = 2048
    password_min_length: int = 12

    @model_validator(mode="after")
    def real_secret_in_production(self) -> AuthSettings:
        if self.environment == "production" and self.auth_key_encryption_secret == DEV_SECRET:
            raise ValueError("AUTH_KEY_ENCRYPTION_SECRET must be set in production")
        return self


@lru_cache
def get_settings() -> AuthSettings:
    return AuthSettings()
