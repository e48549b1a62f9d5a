from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator


def password_field() -> Any:
    return Field(min_length=12, max_length=256, description="At least 12 characters, not a common password")


def totp_code_field(**kwargs: Any) -> Any:
    return Field(min_length=6, max_length=10, description="The 6-digit code from the app", **kwargs)


def recovery_code_field(**kwargs: Any) -> Any:
    return Field(min_length=16, max_length=40, description="One of the recovery codes", **kwargs)


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = password_field()
    # Only the two self-service roles; admin is never self-granted.
    role: Literal["job_seeker", "employer"]


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class TwoFactorLoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge_token: str = Field(min_length=20, max_length=200)
    code: str | None = totp_code_field(default=None)
    recovery_code: str | None = recovery_code_field(default=None)

    @model_validator(mode="after")
    def exactly_one(self) -> TwoFactorLoginRequest:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send either code or recovery_code")
        return self


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=20, max_length=200)


class LogoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(default=None, min_length=20, max_length=200)


class EmailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class ResetPasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = password_field()


class ChangePasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = password_field()


class TwoFactorCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = totp_code_field()


class TwoFactorDisableRequest(BaseModel):
    """Confirm with the password, a current code, or a recovery code."""

    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(default=None, min_length=1, max_length=256)
    code: str | None = totp_code_field(default=None)
    recovery_code: str | None = recovery_code_field(default=None)

    @model_validator(mode="after")
    def exactly_one(self) -> TwoFactorDisableRequest:
        given = [v for v in (self.password, self.code, self.recovery_code) if v is not None]
        if len(given) != 1:
            raise ValueError("send exactly one of password, code or recovery_code")
        return self


class UserOut(BaseModel):
    """The one shape of a user everywhere the API returns one."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    roles: list[str]
    email_verified: bool
    two_factor_enabled: bool = False
    created_at: datetime


class TokenResponse(BaseModel):
    two_factor_required: Literal[False] = False
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - OAuth token type, not a secret
    expires_in: int
    refresh_token: str
    user: UserOut


class TwoFactorChallenge(BaseModel):
    """The password was right and the account has two-factor sign-in: send a code with
    this token to ``POST /api/v1/auth/login/2fa`` within ``expires_in`` seconds."""

    two_factor_required: Literal[True] = True
    challenge_token: str
    expires_in: int


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    detail: str


class SessionOut(BaseModel):
    id: uuid.UUID
    device: str
    user_agent: str | None
    ip_address: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool


class TwoFactorSetup(BaseModel):
    secret: str = Field(description="Base32 secret, for typing into an authenticator app")
    otpauth_uri: str = Field(description="otpauth:// URI, for a QR code")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="Shown once; each works once")
    user: UserOut


class SigningKeyOut(BaseModel):
    kid: str
    activates_at: datetime


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    occurred_at: datetime
    kind: str
    user_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    ip_address: str | None
    user_agent: str | None
    detail: dict[str, Any]
