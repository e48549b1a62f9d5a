"""Callers and checks the jobs tests share."""

from __future__ import annotations

import uuid


def employer(client, user_id=None, *, email_verified=True):
    return client.tokens.headers(user_id or uuid.uuid4(), roles=["employer"], email_verified=email_verified)


def seeker(client, user_id=None, *, email_verified=True):
    return client.tokens.headers(user_id or uuid.uuid4(), roles=["job_seeker"], email_verified=email_verified)


def admin(client):
    return client.tokens.headers(uuid.uuid4(), roles=["admin"], email_verified=True)


def is_problem(response, status, type_=None):
    """The body of a problem+json response with ``status`` (and ``type_``, if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if type_:
        assert body["type"].endswith("/" + type_), body
    return body
