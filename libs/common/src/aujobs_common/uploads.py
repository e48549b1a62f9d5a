"""File uploads and downloads as every service handles them.

Uploads are ``multipart/form-data`` with exactly one file (in ``file``) and a few short
text fields. The body is parsed here, as it streams in (``request.stream()``), rather
than by FastAPI/Starlette, for three reasons:

* the endpoint checks the caller's permission *before* a byte is read;
* reading stops as soon as the file passes its limit — a chunked body declares no
  length, so a Content-Length check alone would let it run on — and never more than
  the limit plus a small form overhead is read in all;
* unknown fields, repeated fields and a second file are refused, not silently dropped.

Each endpoint describes its form with an :class:`UploadForm` (field allow-list, the
texts of its problems) and calls :func:`read_upload`. The client's file name is
decoded (``filename*`` RFC 5987, else ``filename``) but not trusted:
:func:`clean_filename` makes a display name of it.

Downloads of stored files go out through :func:`download` / :func:`download_headers`:
always an attachment (ASCII fallback plus the exact UTF-8 name), ``nosniff`` and a
sandboxing CSP, so a browser never renders an uploaded file as one of our pages.

Needs ``python-multipart`` (the services that take uploads declare it; this library's
own pyproject should too)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import quote, unquote

from fastapi import Request, Response
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from .errors import FieldError, ProblemError

__all__ = [
    "FILENAME_MAX",
    "Upload",
    "UploadForm",
    "clean_filename",
    "clean_text",
    "content_disposition",
    "describe_size",
    "download",
    "download_headers",
    "etag_matches",
    "read_upload",
]

KIB = 1024
MIB = 1024 * 1024
#: the longest display file name kept (extension included)
FILENAME_MAX = 200
_FIELD_NAME_SHOWN = 50


# ---------------------------------------------------------------- the form


def describe_size(size: int) -> str:
    """``5 MiB``, ``1.5 MiB``, ``64 KiB`` or ``100 bytes``: a limit as a person reads it."""
    if size >= MIB:
        return f"{size // MIB} MiB" if size % MIB == 0 else f"{size / MIB:.1f} MiB"
    if size >= KIB and size % KIB == 0:
        return f"{size // KIB} KiB"
    return f"{size} bytes"


@dataclass(frozen=True)
class UploadForm:
    """One endpoint's upload form: which text fields it takes besides ``file`` and how
    its refusals read. A frozen module-level constant per endpoint (or service)."""

    #: the problem ``detail`` of every malformed-form 422, naming what the form wants,
    #: e.g. "The upload must be multipart/form-data with the picture in the field 'file'."
    invalid_detail: str
    #: text fields besides the file, each with how many times it may be sent
    text_fields: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    #: the problem type of the 413 (``file-too-large``, ``document-too-large``)
    too_large_type: str = "file-too-large"
    #: the longest text field value, in bytes
    text_field_max_bytes: int = 4 * KIB
    #: room for the boundaries and part headers around the file and text fields
    overhead_bytes: int = 16 * KIB
    file_field: str = "file"

    def body_limit(self, max_bytes: int) -> int:
        """The most a whole body may carry: the file, every text field at its longest
        and as often as allowed, and the overhead — so a form the fields allow is never
        refused as "too large", and nothing else is read without end."""
        text = sum(self.text_fields.values()) * self.text_field_max_bytes
        return max_bytes + text + self.overhead_bytes

    def invalid(self, message: str, field_name: str | None = None) -> ProblemError:
        """A 422 for this form, the ``message`` attached to ``field_name`` (the file)."""
        return ProblemError(
            422,
            self.invalid_detail,
            type_="validation-error",
            errors=[FieldError(field=field_name or self.file_field, message=message)],
        )

    def too_large(self, max_bytes: int) -> ProblemError:
        return ProblemError(
            413, f"The file is larger than {describe_size(max_bytes)}.", type_=self.too_large_type
        )


@dataclass(frozen=True)
class Upload:
    """The file (as sent), the name the client gave it (decoded, *not* cleaned: see
    :func:`clean_filename`) and the text fields, each with its values in order."""

    data: bytes
    filename: str | None = None
    fields: Mapping[str, list[str]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def first(self, name: str) -> str | None:
        """The field's first value, ``None`` when it was not sent."""
        values = self.fields.get(name)
        return values[0] if values else None

    def values(self, name: str) -> list[str] | None:
        """Every value of the field, ``None`` when it was not sent (not ``[]``: a caller
        may need to tell "not sent" from "sent empty")."""
        values = self.fields.get(name)
        return list(values) if values is not None else None


# Parameters of a part's Content-Disposition: a quoted string is taken whole, so a
# ``;`` or ``filename*=`` inside a quoted file name never starts a parameter.
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
# Unescaped as python-multipart does: only ``\\`` and ``\"`` (browsers send a
# backslash in a name as it is; HTML5 percent-encodes quotes and line breaks instead).
_QUOTED_PAIR = re.compile(r'\\([\\"])')
_EXT_VALUE = re.compile(r"^([A-Za-z0-9!#$%&+^_`{}~-]+)'[A-Za-z0-9-]*'(.*)$", re.DOTALL)


def _disposition_params(header: bytes) -> dict[str, str]:
    """Lower-cased parameter names to their values. Header bytes are kept as they came
    (latin-1 round trip) and read as UTF-8, which is what browsers send."""
    params: dict[str, str] = {}
    for match in _PARAM.finditer(header.decode("latin-1")):
        name, value = match.group(1).lower(), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
        params.setdefault(name, value.encode("latin-1").decode("utf-8", "replace"))
    return params


def _decode_filename(params: Mapping[str, str]) -> str | None:
    """``filename*`` (RFC 5987 ``UTF-8''na%C3%AFve.pdf``) when it is readable, else
    ``filename``; a path a client (old IE) sends whole is left to :func:`clean_filename`."""
    extended = _EXT_VALUE.match(params.get("filename*", ""))
    if extended is not None:
        charset = extended.group(1).lower()
        if charset in {"utf-8", "iso-8859-1"}:
            encoding = "utf-8" if charset == "utf-8" else "latin-1"
            return unquote(extended.group(2), encoding=encoding, errors="replace")
    return params.get("filename")


@dataclass
class _FormReader:
    """python-multipart callbacks keeping one file (up to ``max_bytes``) and the allowed
    text fields. Problems are noted, not raised, inside the callbacks (the parser is
    not ours to unwind) and raised by ``check`` between chunks."""

    form: UploadForm
    max_bytes: int
    file: bytearray | None = None
    filename: str | None = None
    fields: dict[str, list[str]] = field(default_factory=dict)
    problem: ProblemError | None = None
    ended: bool = False
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
        params = _disposition_params(self._headers.get(b"content-disposition", b""))
        name = params.get("name", "")
        form = self.form
        if name == form.file_field:
            if self.file is not None:
                self._fail(form.invalid("send exactly one file"))
            self.file = bytearray()
            self.filename = _decode_filename(params)
        elif name in form.text_fields:
            limit = form.text_fields[name]
            if len(self.fields.get(name, [])) >= limit:
                times = "once" if limit == 1 else f"at most {limit} times"
                self._fail(form.invalid(f"send this field {times}", name))
        else:
            shown = name[:_FIELD_NAME_SHOWN]
            self._fail(form.invalid(f"unknown form field {shown!r}", shown or "body"))
        self._part = name

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.problem is not None:
            return
        chunk = data[start:end]
        if self._part == self.form.file_field and self.file is not None:
            if len(self.file) + len(chunk) > self.max_bytes:
                self._fail(self.form.too_large(self.max_bytes))
                return
            self.file += chunk
        elif len(self._text) + len(chunk) > self.form.text_field_max_bytes:
            self._fail(self.form.invalid("too long", self._part or "body"))
        else:
            self._text += chunk

    def on_part_end(self) -> None:
        if self._part in self.form.text_fields and self.problem is None:
            self.fields.setdefault(self._part, []).append(self._text.decode("utf-8", "replace"))

    def on_end(self) -> None:
        self.ended = True

    def check(self) -> None:
        if self.problem is not None:
            raise self.problem


_CALLBACKS = (
    "on_part_begin",
    "on_part_data",
    "on_part_end",
    "on_header_field",
    "on_header_value",
    "on_header_end",
    "on_headers_finished",
    "on_end",
)


async def read_upload(request: Request, form: UploadForm, *, max_bytes: int) -> Upload:
    """The file and text fields of ``form``, read from the body as it arrives.

    Problems: 422 (``form.invalid``) for a body that is not multipart/form-data, is
    malformed or cut short, has no file, two files, an unknown or repeated field, or an
    over-long text field; 413 (``form.too_large``) as soon as the file passes
    ``max_bytes`` or the body passes ``form.body_limit(max_bytes)`` — and before
    reading at all when the declared Content-Length already says so. An empty file is
    returned as such: what an empty file means is the caller's to say."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise form.invalid("expected a multipart/form-data body")
    limit = form.body_limit(max_bytes)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise form.too_large(max_bytes)
    reader = _FormReader(form=form, max_bytes=max_bytes)
    callbacks = {name: getattr(reader, name) for name in _CALLBACKS}
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                reader.check()  # the file's own 413 (or an earlier problem) first
                raise form.too_large(max_bytes)
            parser.write(chunk)
            reader.check()
        parser.finalize()
    except FormParserError as exc:
        raise form.invalid("the multipart body is malformed") from exc
    reader.check()
    if reader.file is None:
        raise form.invalid("a file is required")
    if not reader.ended:
        raise form.invalid("the multipart body is malformed (it ends before its closing boundary)")
    return Upload(data=bytes(reader.file), filename=reader.filename, fields=reader.fields)


# ---------------------------------------------------------------- names

_SPACES = re.compile(r"\s+")
_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,5}$")


def clean_text(value: str) -> str:
    """NFC, without control or format characters (CR/LF, bidi overrides, zero-width
    spaces), runs of white space made one space, trimmed."""
    kept = "".join(ch for ch in unicodedata.normalize("NFC", value) if unicodedata.category(ch)[0] != "C")
    return _SPACES.sub(" ", kept).strip()


def clean_filename(raw: str | None, *, extension: str, default: str, max_length: int = FILENAME_MAX) -> str:
    """A name to show and to offer on download, never used as a path: the last path
    component of what the client sent (``/`` or ``\\``), through :func:`clean_text`,
    without leading dots, at most ``max_length`` characters, and ending in
    ``extension`` (``.pdf``) — the type the bytes really are, so a download never
    opens as something else. A short extension the client gave (``.html``, ``.PDF``)
    is replaced; ``default`` stands in for a name that is left empty."""
    name = clean_text(re.split(r"[\\/]", raw or "")[-1]).lstrip(". ")
    stem, dot, ext = name.rpartition(".")
    if dot and _EXTENSION.match(ext):
        name = stem.rstrip(". ")
    name = name or default
    return name[: max_length - len(extension)].rstrip(". ") + extension


# ---------------------------------------------------------------- downloads

_NOT_IN_HEADER = re.compile(r"[\x00-\x1f\x7f]")


def _ascii_fallback(name: str, default: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = "".join(ch if ch.isprintable() and ch not in '"\\;' else "_" for ch in plain).strip()
    return default + plain if not plain or plain.startswith(".") else plain  # "履歴.pdf": "file.pdf"


def content_disposition(filename: str, *, default: str = "file") -> str:
    """``attachment`` with an ASCII fallback (``résumé.pdf`` → ``resume.pdf``) for old
    clients and the exact name as RFC 5987 UTF-8, every byte but letters, digits and
    ``_.-~`` percent-encoded (so nothing in a name can end or extend the header)."""
    exact = _NOT_IN_HEADER.sub("_", filename).strip() or default
    fallback = _ascii_fallback(exact, default)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(exact, safe='')}"


def download_headers(
    filename: str, *, cache: str = "private, no-store", etag: str | None = None, default: str = "file"
) -> dict[str, str]:
    """The headers of a stored file going out: an attachment, never sniffed, never run
    as a page of ours (CSP sandbox) whatever a browser makes of the bytes, and cached
    only by the user's own browser (``cache``: ``private, no-cache`` with an ETag to
    revalidate, ``private, no-store`` when it must not be kept)."""
    headers = {
        "Content-Disposition": content_disposition(filename, default=default),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": cache,
    }
    if etag:
        headers["ETag"] = etag
    return headers


def download(
    content: bytes,
    *,
    filename: str,
    content_type: str,
    cache: str = "private, no-store",
    default: str = "file",
) -> Response:
    """A stored file as a response, with :func:`download_headers`."""
    return Response(
        content, media_type=content_type, headers=download_headers(filename, cache=cache, default=default)
    )


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak or strong, or ``*``):
    the answer is then a 304 with the same headers and no body."""
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates
