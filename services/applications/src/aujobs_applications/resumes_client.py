"""A small typed client of the resumes service (DESIGN.md §1: a service asks another
over HTTP through a typed client, never through its database).

Calls are made with the *applicant's own* ``Authorization`` header, so the resumes
service's object-level authorisation decides what resolves: a resume that is not the
caller's answers 404 there, exactly like one that does not exist."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError


class ParsedProfile(BaseModel):
    skills: list[str] = []


class ResumeVersion(BaseModel):
    id: uuid.UUID
    resume_id: uuid.UUID
    #: the resume's owner: an admin's token reads anyone's, so ownership is checked here
    owner_id: uuid.UUID
    number: int | None = None
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime | None = None
    parse_status: str | None = None
    parsed: ParsedProfile | None = None


class ResumeNotFound(Exception):
    """The resume or version does not exist, or is not the caller's."""


class ResumesUnavailable(Exception):
    """The resumes service could not be reached or answered with an error: try again."""


class ResumesClient:
    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), transport=transport, timeout=timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, authorization: str) -> httpx.Response:
        try:
            response = await self._http.get(path, headers={"Authorization": authorization})
        except httpx.HTTPError as exc:
            raise ResumesUnavailable(type(exc).__name__) from exc
        if response.status_code in (403, 404):
            raise ResumeNotFound()
        if response.status_code != 200:
            # 401 too: the token was good enough for us, so this is a platform problem.
            raise ResumesUnavailable(f"HTTP {response.status_code}")
        return response

    async def get_version(
        self, resume_id: uuid.UUID, version_id: uuid.UUID, *, authorization: str
    ) -> ResumeVersion:
        response = await self._get(f"/api/v1/resumes/{resume_id}/versions/{version_id}", authorization)
        try:
            body: Any = response.json()
            version = ResumeVersion.model_validate(body)
        except (ValueError, ValidationError) as exc:
            raise ResumesUnavailable("unexpected answer") from exc
        if version.id != version_id or version.resume_id != resume_id:
            raise ResumeNotFound()
        return version

    async def get_file(
        self, resume_id: uuid.UUID, version_id: uuid.UUID, *, authorization: str, max_bytes: int
    ) -> bytes:
        """The bytes of the version (at most ``max_bytes``: a bigger answer is an error)."""
        path = f"/api/v1/resumes/{resume_id}/versions/{version_id}/file"
        try:
            async with self._http.stream("GET", path, headers={"Authorization": authorization}) as response:
                if response.status_code in (403, 404):
                    raise ResumeNotFound()
                if response.status_code != 200:
                    raise ResumesUnavailable(f"HTTP {response.status_code}")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        raise ResumesUnavailable("file larger than allowed")
                return bytes(data)
        except httpx.HTTPError as exc:
            raise ResumesUnavailable(type(exc).__name__) from exc
