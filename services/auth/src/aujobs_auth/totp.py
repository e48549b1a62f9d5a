"""Two-factor sign-in: TOTP (RFC 6238, 30-second steps, 6 digits, SHA-1 — what every
authenticator app speaks) and one-time recovery codes.

The TOTP secret is stored encrypted with the service's key-encryption secret. A code is
accepted for the current step and one step either side (clock drift), and never twice
(RFC 6238 §5.2): the step of the last accepted code is kept on the user."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
from cryptography.fernet import Fernet

STEP_SECONDS = 30
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


class SecretBox:
    """Encrypts TOTP secrets at rest (a key of its own, derived from the service secret)."""

    def __init__(self, secret: str) -> None:
        digest = hashlib.sha256(b"aujobs-auth-totp:" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode()


def new_secret() -> str:
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def matching_step(secret: str, code: str, *, last_step: int | None, now: float | None = None) -> int | None:
    """The time step ``code`` belongs to (now ±1 step), or ``None`` when it does not
    match or that step (or a later one) was already used."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // STEP_SECONDS)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            if last_step is not None and step <= last_step:
                return None  # replayed
            return step
    return None


def new_recovery_codes(count: int) -> list[str]:
    """``count`` codes of 16 characters (80 bits), shown as xxxx-xxxx-xxxx-xxxx."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()
