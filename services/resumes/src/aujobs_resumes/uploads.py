"""Reading a resume upload: ``multipart/form-data`` parsed here as it streams in (not by
FastAPI), so the caller is authorised before a byte is read and reading stops as soon
as the file passes the limit — the body is never buffered beyond it. Also the display
filename, kept only after sanitising (it is shown and sent back in Content-Disposition,
never used as a path)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import unquote

from fastapi import Request
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from aujobs_common.documents import DocumentKind
from aujobs_common.errors import FieldError, ProblemError

# Room for the multipart boundaries, part headers and the short text fields.
FORM_OVERHEAD = 64 * 1024
TEXT_FIELD_MAX_BYTES = 4 * 1024
#: text fields and how often each may be sent (tags: once per tag, or comma-separated)
TEXT_FIELDS = {"title": 1, "tags": 20}
FILENAME_MAX = 200
_EXTENSIONS = {DocumentKind.pdf: ".pdf", DocumentKind.docx: ".docx"}


def invalid_form(message: str, field_name: str = "file") -> ProblemError:
    return ProblemError(
        422,
        "The upload must be multipart/form-data with the resume in the field 'file'.",
        type_="validation-error",
        errors=[FieldError(field=field_name, message=message)],
    )


def too_large(max_bytes: int) -> ProblemError:
    size = f"{max_bytes / (1024 * 1024):g} MB" if max_bytes >= 1024 * 1024 else f"{max_bytes} bytes"
    return ProblemError(413, f"The file is larger than {size}.", type_="document-too-large")


@dataclass
class _FormReader:
    """python-multipart callbacks keeping one file (up to ``max_bytes``) and a few short
    text fields. Problems are noted inside the callbacks and raised between chunks."""

    max_bytes: int
    file: bytearray | None = None
    filename: str | None = None
    fields: dict[str, list[str]] = field(default_factory=dict)
    problem: ProblemError | None = None
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _header_name: bytes = b""
    _header_value: bytes = b""
    _part: str | None = None
    _text: bytearray = field(default_factory=bytearray)

    def _fail(self, problem: ProblemError) -> None:
        self.problem = self.problem or problem

    def on_part_begin(self) -> None:
        self._headers, self._part, self._text = {}, None, bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name == "file":
            if self.file is not None:
                self._fail(invalid_form("send exactly one file"))
            self.file = bytearray()
            raw = options.get(b"filename*") or options.get(b"filename")
            if raw is not None:
                self.filename = _decode_filename(raw)
        elif name in TEXT_FIELDS:
            if len(self.fields.get(name, [])) >= TEXT_FIELDS[name]:
                self._fail(invalid_form("sent too many times", name))
        else:
            self._fail(invalid_form(f"unknown form field {name[:50]!r}", "body"))
        self._part = name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.problem is not None:
            return
        chunk = data[start:end]
        if self._part == "file" and self.file is not None:
            if len(self.file) + len(chunk) > self.max_bytes:
                self._fail(too_large(self.max_bytes))
                return
            self.file += chunk
        else:
            if len(self._text) + len(chunk) > TEXT_FIELD_MAX_BYTES:
                self._fail(invalid_form("too long", self._part or "body"))
                return
            self._text += chunk

    def on_part_end(self) -> None:
        if self._part in TEXT_FIELDS and self.problem is None:
            self.fields.setdefault(self._part, []).append(self._text.decode("utf-8", "replace"))

    def check(self) -> None:
        if self.problem is not None:
            raise self.problem


def _decode_filename(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    # RFC 5987 ext-value (filename*=UTF-8''name%20here)
    if "''" in text and text.split("''", 1)[0].lower() in {"utf-8", "iso-8859-1"}:
        charset, _, encoded = text.partition("''")
        return unquote(
            encoded, encoding="utf-8" if charset.lower() == "utf-8" else "latin-1", errors="replace"
        )
    return text


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
    """The file and text fields, read as the body arrives; a 413 as soon as the file
    passes ``max_bytes`` (or before reading, when Content-Length already says so), and
    never more than ``max_bytes`` + the form overhead read in all."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise invalid_form("expected a multipart/form-data body")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD:
        raise too_large(max_bytes)
    reader = _FormReader(max_bytes=max_bytes)
    callbacks = {
        name: getattr(reader, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes + FORM_OVERHEAD:
                raise too_large(max_bytes)
            parser.write(chunk)
            reader.check()
        parser.finalize()
    except FormParserError as exc:
        raise invalid_form("the multipart body is malformed") from exc
    reader.check()
    if reader.file is None:
        raise invalid_form("a file is required")
    titles = reader.fields.get("title")
    tags = reader.fields.get("tags")
    return Upload(
        data=bytes(reader.file),
        filename=reader.filename,
        title=titles[0] if titles else None,
        tags=[t for value in tags for t in value.split(",")] if tags is not None else None,
    )


# ---------------------------------------------------------------- names

_SPACES = re.compile(r"\s+")


def clean_text(value: str) -> str:
    """No control or format characters (bidi overrides, zero-width), spaces collapsed."""
    kept = "".join(ch for ch in unicodedata.normalize("NFC", value) if unicodedata.category(ch)[0] != "C")
    return _SPACES.sub(" ", kept).strip()


def display_filename(raw: str | None, kind: DocumentKind) -> str:
    """A name to show and to offer on download: the last path component of what the
    client sent, without control characters, at most 200 characters, and ending in the
    extension of the type the bytes really are (so a download never opens as something
    else)."""
    extension = _EXTENSIONS[kind]
    name = clean_text(re.split(r"[\\/]", raw or "")[-1])
    name = name.lstrip(". ")
    stem, dot, ext = name.rpartition(".")
    if dot and ("." + ext.lower()) in _EXTENSIONS.values():
        name = stem.rstrip(". ")
    elif dot and 1 <= len(ext) <= 5 and ext.isalnum():
        name = stem.rstrip(". ")  # another type's extension: the bytes decide
    name = name or "resume"
    return name[: FILENAME_MAX - len(extension)].rstrip(". ") + extension


def title_from_filename(filename: str) -> str:
    stem = filename.rpartition(".")[0] or filename
    return clean_text(stem.replace("_", " "))[:200] or "Resume"
