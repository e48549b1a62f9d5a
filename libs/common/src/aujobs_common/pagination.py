"""Cursor pagination, one way everywhere: ``?limit=&cursor=``, an opaque cursor encoding
the sort key of the last item, a capped limit, and a stable order (ties broken by id)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from .errors import FieldError, ProblemError

T = TypeVar("T")

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(value, dict):
            raise ValueError("cursor is not an object")
        return value
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProblemError(
            400,
            "The cursor is not valid; use next_cursor from a previous page.",
            type_="invalid-cursor",
            errors=[FieldError(field="query.cursor", message="malformed cursor")],
        ) from exc


class PageParams(BaseModel):
    limit: int
    cursor: dict[str, Any] | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of the previous page")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=decode_cursor(cursor) if cursor else None)


def cursor_uuid(page: PageParams, key: str = "id") -> uuid.UUID | None:
    """The id a keyset cursor continues after (``None`` on the first page); a cursor
    without a valid id is a 400 problem."""
    if page.cursor is None:
        return None
    try:
        return uuid.UUID(str(page.cursor.get(key)))
    except ValueError as exc:
        raise ProblemError(
            400, "The cursor is not valid; use next_cursor from a previous page.", type_="invalid-cursor"
        ) from exc
