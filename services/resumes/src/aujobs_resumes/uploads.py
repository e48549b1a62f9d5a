"""Reading a resume upload and naming its file. The form is read as it streams in by
``aujobs_common.uploads`` (the caller is authorised before a byte is read, and reading
stops as soon as the file passes the limit); here are the resume form's fields and
problem texts, and the display filename, kept only after sanitising (it is shown and
sent back in Content-Disposition, never used as a path)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from fastapi import Request

from aujobs_common import uploads
from aujobs_common.documents import DocumentKind
from aujobs_common.uploads import FILENAME_MAX, clean_text

__all__ = ["FILENAME_MAX", "FORM", "Upload", "clean_text", "display_filename", "read_upload"]

#: the file, an optional title, and tags (once per tag, or comma-separated)
FORM = uploads.UploadForm(
    invalid_detail="The upload must be multipart/form-data with the resume in the field 'file'.",
    text_fields={"title": 1, "tags": 20},
    too_large_type="document-too-large",
)
_EXTENSIONS = {DocumentKind.pdf: ".pdf", DocumentKind.docx: ".docx"}


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None
    title: str | None
    tags: list[str] | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


async def read_upload(request: Request, *, max_bytes: int) -> Upload:
    """The file and text fields, read as the body arrives (see
    ``aujobs_common.uploads.read_upload``): a 413 ``document-too-large`` as soon as
    the file passes ``max_bytes``."""
    upload = await uploads.read_upload(request, FORM, max_bytes=max_bytes)
    tags = upload.values("tags")
    return Upload(
        data=upload.data,
        filename=upload.filename,
        title=upload.first("title"),
        tags=[t for value in tags for t in value.split(",")] if tags is not None else None,
    )


def display_filename(raw: str | None, kind: DocumentKind) -> str:
    """The client's name without path, control characters or its own extension, at
    most 200 characters, ending in the extension of the type the bytes really are."""
    return uploads.clean_filename(raw, extension=_EXTENSIONS[kind], default="resume")


def title_from_filename(filename: str) -> str:
    stem = filename.rpartition(".")[0] or filename
    return clean_text(stem.replace("_", " "))[:200] or "Resume"
