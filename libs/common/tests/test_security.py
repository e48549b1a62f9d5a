"""Access-token verification: every way a token can be wrong is refused."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
import pytest
from jose import jwt

from aujobs_common.security import InvalidToken, JWKSClient, MemoryDenylist, TokenVerifier
from aujobs_common.testing.tokens import AUDIENCE, ISSUER, TokenFactory


@pytest.fixture(scope="module")
def tokens() -> TokenFactory:
    return TokenFactory()


def verifier(tokens: TokenFactory, **kwargs) -> TokenVerifier:
    return TokenVerifier(tokens.key_source, issuer=ISSUER, audience=AUDIENCE, **kwargs)


def _b64(doc: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")


async def test_valid_token_gives_principal(tokens):
    user = uuid.uuid4()
    principal = await verifier(tokens).verify(tokens.token(user, roles=["employer"]))
    assert principal.user_id == user and principal.roles == {"employer"} and principal.email_verified


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda t: t.token(ttl=-120), "expired"),
        (lambda t: t.token(aud="someone-else"), "not meant"),
        (lambda t: t.token(iss="https://evil.example"), "not meant"),
        (lambda t: t.token(typ="refresh"), "not an access token"),
        (lambda t: "not.a.token", "malformed"),
        (lambda t: t.token(sub="not-a-uuid"), "subject"),
    ],
)
async def test_bad_claims_are_refused(tokens, make, reason):
    with pytest.raises(InvalidToken) as info:
        await verifier(tokens).verify(make(tokens))
    assert reason in info.value.reason


async def test_token_signed_by_another_key_with_same_kid_is_refused(tokens):
    forger = TokenFactory()
    forger.kid = tokens.kid  # claims to be our key
    with pytest.raises(InvalidToken, match="signature"):
        await verifier(tokens).verify(forger.token())


async def test_alg_none_and_hmac_with_public_key_are_refused(tokens):
    claims = jwt.get_unverified_claims(tokens.token())
    unsigned = f"{_b64({'alg': 'none', 'kid': tokens.kid})}.{_b64(claims)}."
    with pytest.raises(InvalidToken, match="algorithm"):
        await verifier(tokens).verify(unsigned)
    # The classic confusion attack: HS256 keyed with the public key.
    hmac = jwt.encode(claims, json.dumps(tokens.public_jwk), algorithm="HS256", headers={"kid": tokens.kid})
    with pytest.raises(InvalidToken, match="algorithm"):
        await verifier(tokens).verify(hmac)


def test_symmetric_algorithms_cannot_be_configured(tokens):
    with pytest.raises(ValueError):
        TokenVerifier(tokens.key_source, issuer=ISSUER, audience=AUDIENCE, algorithms=["HS256"])


async def test_revoked_token_is_refused(tokens):
    denylist = MemoryDenylist()
    token = tokens.token()
    v = verifier(tokens, denylist=denylist)
    principal = await v.verify(token)
    await denylist.revoke(principal.token_id, 60)
    with pytest.raises(InvalidToken, match="revoked"):
        await v.verify(token)


async def test_jwks_client_caches_by_kid_and_refetches_for_new_keys(tokens):
    calls = []
    keys = {"keys": [tokens.public_jwk]}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        return httpx.Response(200, json=keys)

    client = JWKSClient(
        "http://auth/.well-known/jwks.json",
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        min_refetch_seconds=0,
    )
    assert await client.get_key(tokens.kid) == tokens.public_jwk
    assert await client.get_key(tokens.kid) == tokens.public_jwk
    assert len(calls) == 1, "a known kid is served from the cache"
    rotated = TokenFactory()
    keys["keys"].append(rotated.public_jwk)
    assert await client.get_key(rotated.kid) == rotated.public_jwk
    assert len(calls) == 2, "an unknown kid triggers one refetch"


async def test_jwks_refetch_floor_limits_forged_kids(tokens):
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json={"keys": [tokens.public_jwk]})

    client = JWKSClient(
        "http://auth/jwks",
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        min_refetch_seconds=60,
    )
    await client.get_key(tokens.kid)
    for _ in range(20):
        assert await client.get_key(uuid.uuid4().hex) is None
    assert len(calls) == 1
