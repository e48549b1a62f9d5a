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

    # Signing keys rotate when the newest is older than this; a new key is published
    # this long before it signs (longer than any verifier's JWKS cache).
    signing_key_max_age_days: float = 30
    signing_key_publish_ahead_seconds: int = 600
    # Periodic work (key rotation, verification reminders); 0 disables the loop.
    maintenance_interval_seconds: float = 300

    # Email verification and password reset tokens (single use, stored hashed)
    email_verification_ttl_hours: float = 24
    verification_reminder_after_hours: float = 48
    password_reset_ttl_hours: float = 24

    # Two-factor sign-in (TOTP, RFC 6238)
    two_factor_issuer: str = "Australia Jobs"
    two_factor_challenge_ttl_seconds: int = 300
    two_factor_challenge_max_attempts: int = 5
    recovery_code_count: int = 10

    # Brute-force protection: after this many failures (or requests, for the emails)
    # further attempts wait base * 2^(n - limit) seconds, up to the maximum. Counters
    # live in Redis when REDIS_URL is set (shared by replicas), else in the process.
    login_failures_per_account: int = 5
    login_failures_per_ip: int = 20
    two_factor_failures_per_account: int = 5
    two_factor_failures_per_ip: int = 20
    email_requests_per_address: int = 3
    email_requests_per_ip: int = 10
    token_failures_per_ip: int = 10
    throttle_base_delay_seconds: float = 30
    throttle_max_delay_seconds: float = 900
    throttle_window_seconds: int = 3600
    # Same variable as the gateway's, so one deployment (or test run) shares a prefix.
    rate_limit_key_prefix: str = "aujobs:ratelimit"

    # Peers whose X-Real-IP / X-Forwarded-For is believed (the gateway).
    trusted_proxies: list[str] = [
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
    ]

    # Sign in with Google and LinkedIn (OpenID Connect, authorization code + PKCE). A
    # provider without a client id is disabled. Discovery: {issuer}/.well-known/openid-configuration
    google_client_id: str | None = None
    google_client_secret: str | None = None
    google_issuer: str = "https://accounts.google.com"
    linkedin_client_id: str | None = None
    linkedin_client_secret: str | None = None
    linkedin_issuer: str = "https://www.linkedin.com/oauth"
    # The public API base: the callback is {base}/api/v1/auth/{provider}/callback
    oauth_redirect_base_url: str = "http://localhost:8000"
    # Where the browser goes back to: {frontend_url}/auth/callback?code=… (or ?error=…)
    frontend_url: str = "http://localhost:3000"
    oauth_flow_ttl_seconds: int = 600
    oauth_exchange_code_ttl_seconds: int = 120
    oauth_http_timeout_seconds: float = 10
    oauth_metadata_cache_seconds: int = 3600

    @model_validator(mode="after")
    def real_secret_in_production(self) -> AuthSettings:
        if self.environment == "production" and self.auth_key_encryption_secret == DEV_SECRET:
            raise ValueError("AUTH_KEY_ENCRYPTION_SECRET must be set in production")
        return self


@lru_cache
def get_settings() -> AuthSettings:
    return AuthSettings()
