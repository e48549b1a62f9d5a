"""Who calls a service in its tests, and the check every refusal shares. ``client`` is
a test client carrying ``.tokens`` (a :class:`~aujobs_common.testing.tokens.TokenFactory`)."""

from __future__ import annotations

import uuid
from typing import Any


def seeker(client: Any, user_id: uuid.UUID | None = None, *, email_verified: bool = True) -> dict[str, str]:
    return client.tokens.headers(user_id or uuid.uuid4(), roles=["job_seeker"], email_verified=email_verified)


def employer(client: Any, user_id: uuid.UUID | None = None, *, email_verified: bool = True) -> dict[str, str]:
    return client.tokens.headers(user_id or uuid.uuid4(), roles=["employer"], email_verified=email_verified)


def admin(client: Any) -> dict[str, str]:
    return client.tokens.headers(uuid.uuid4(), roles=["admin"], email_verified=True)


def is_problem(response: Any, status: int, type_: str | None = None) -> dict[str, Any]:
    """The body of a problem+json response with ``status`` (and ``type_``, if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if type_:
        assert body["type"].endswith("/" + type_), body
    return body
