"""``Idempotency-Key`` for unsafe creates (DESIGN.md §5).

The key is claimed by inserting a row in the *same transaction* as the create, so a
crash leaves neither; a concurrent retry blocks on the row until the first commits and
then replays its stored response. A key reused with a different body is an error."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .db import idempotency_table
from .errors import ProblemError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


def request_fingerprint(body: Any) -> str:
    canonical = json.dumps(jsonable_encoder(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_key(key: str) -> None:
    if not (1 <= len(key) <= 255) or not key.isprintable():
        raise ProblemError(
            400, "Idempotency-Key must be 1-255 printable characters.", type_="invalid-idempotency-key"
        )


async def run_idempotent(
    session: AsyncSession,
    *,
    key: str | None,
    principal: str,
    body: Any,
    create: Callable[[], Awaitable[tuple[int, Any]]],
    request: Request | None = None,
    method: str | None = None,
    path: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Run ``create`` (returning status and a JSON-able body) at most once per key.

    The key is scoped to the method and path of ``request`` (or the ``method`` and
    ``path`` given). ``session`` must be inside the transaction that ``create`` writes in."""
    if request is not None:
        method, path = request.method, request.url.path
    if method is None or path is None:
        raise TypeError("run_idempotent needs the request, or its method and path")
    if key is None:
        status, result = await create()
        return JSONResponse(jsonable_encoder(result), status_code=status, headers=headers)
    _check_key(key)
    fingerprint = request_fingerprint(body)
    claimed = await session.execute(
        insert(idempotency_table)
        .values(principal=principal, key=key, method=method, path=path, request_hash=fingerprint)
        .on_conflict_do_nothing()
        .returning(idempotency_table.c.key)
    )
    if claimed.first() is None:
        row = (
            await session.execute(
                sa.select(idempotency_table).where(
                    idempotency_table.c.principal == principal, idempotency_table.c.key == key
                )
            )
        ).one()
        if row.request_hash != fingerprint or row.method != method or row.path != path:
            raise ProblemError(
                422,
                "This Idempotency-Key was already used for a different request.",
                type_="idempotency-key-reused",
            )
        return JSONResponse(
            row.response_body,
            status_code=row.status_code,
            headers={**(headers or {}), REPLAYED_HEADER: "true"},
        )
    status, result = await create()
    encoded = jsonable_encoder(result)
    await session.execute(
        sa.update(idempotency_table)
        .where(idempotency_table.c.principal == principal, idempotency_table.c.key == key)
        .values(status_code=status, response_body=encoded)
    )
    return JSONResponse(encoded, status_code=status, headers=headers)
