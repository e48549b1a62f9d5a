"""RFC 9457 problem details for every error path: raised problems, HTTP errors,
request validation and unhandled exceptions (which never leak internals)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://australiajobs.example/problems/"


class FieldError(BaseModel):
    field: str
    message: str
    code: str | None = None


class Problem(BaseModel):
    """The RFC 9457 document (also used as the OpenAPI schema of error responses)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        type_: str | None = None,
        title: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title or str(status))
        self.status = status
        self.detail = detail
        self.type = PROBLEM_BASE + type_ if type_ and "://" not in type_ else (type_ or "about:blank")
        self.title = title or _phrase(status)
        self.errors = errors
        self.headers = headers or {}
        #: RFC 9457 §3.2 extension members, e.g. the id of the application that exists
        self.extensions = extensions or {}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    type_: str = "about:blank",
    title: str | None = None,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    # extension members never replace the standard ones
    body: dict[str, Any] = dict(extensions or {})
    body.update({"type": type_, "title": title or _phrase(status), "status": status})
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    if errors:
        body["errors"] = [e.model_dump(exclude_none=True) for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _loc_to_field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if where == "body" and rest else ".".join([where, *rest])
    return ".".join(parts)


def validation_problem(errors: Sequence[Any]) -> ProblemError:
    """The 422 for pydantic's errors: of a request, or of a model a service builds from
    what the caller sent (``ValidationError.errors()``)."""
    return ProblemError(
        422,
        "The request is not valid; see errors for each field.",
        type_="validation-error",
        title="Validation failed",
        errors=[
            FieldError(field=_loc_to_field(e.get("loc", ())), message=e.get("msg", ""), code=e.get("type"))
            for e in errors
        ],
    )


def sqlstate(exc: DBAPIError) -> str:
    """The PostgreSQL error code behind a database error ("" when unknown)."""
    for error in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(error, "sqlstate", None)
        if isinstance(code, str):
            return code
    return ""


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            type_=exc.type,
            title=exc.title,
            instance=request.url.path,
            errors=exc.errors,
            headers=exc.headers,
            extensions=exc.extensions,
        )

    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        if detail == _phrase(exc.status_code):
            detail = None
        return problem_response(
            exc.status_code,
            detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return await on_problem(request, validation_problem(exc.errors()))

    async def on_database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # SQLSTATE class 22 ("data exception": a NUL character in text, a number out of
        # range, …) is the client's input that no validator caught; 23505 (a unique key
        # taken) is a concurrent request that got there first. Either way the transaction
        # has rolled back, so nothing changed. Anything else is ours: 500.
        if sqlstate(exc) == "23505":
            return problem_response(
                409,
                "Another request changed the same thing at the same moment; try again.",
                type_=PROBLEM_BASE + "conflict",
                instance=request.url.path,
            )
        if sqlstate(exc) in ("40P01", "40001"):
            # A deadlock or serialization failure: PostgreSQL chose this transaction to
            # roll back; the same request sent again succeeds. Logged: lock order is ours.
            log.warning("transaction rolled back by the database", extra={"sqlstate": sqlstate(exc)})
            return problem_response(
                503,
                "The request collided with another one changing the same data; please send it again.",
                type_=PROBLEM_BASE + "retry",
                instance=request.url.path,
                headers={"Retry-After": "1"},
            )
        if sqlstate(exc).startswith("22"):
            log.info("input the database refused", extra={"sqlstate": sqlstate(exc)})
            return problem_response(
                422,
                "The request holds a value that cannot be stored (for example a NUL character "
                "in text, or a number out of range).",
                type_=PROBLEM_BASE + "invalid-input",
                title="Invalid input",
                instance=request.url.path,
            )
        return await on_unhandled(request, exc)

    async def on_unhandled(request: Request, exc: Exception) -> JSONResponse:
        # Type and frames only: exception text may carry personal data or secrets.
        log.error(
            "unhandled error",
            extra={
                "error_type": type(exc).__name__,
                "stack": "".join(traceback.format_tb(exc.__traceback__)),
            },
        )
        return problem_response(
            500,
            "An unexpected error occurred. It has been logged; please try again later.",
            instance=request.url.path,
        )

    app.add_exception_handler(ProblemError, on_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, on_database_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, on_unhandled)


#: Add to a router's ``responses=`` so the OpenAPI shows problem+json for errors.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": _phrase(code)}
    for code in (400, 401, 403, 404, 409, 422, 429)
}
