"""Uploaded documents (resumes, cover letters, attachments): the type from the bytes,
and the checks every upload passes before anything else reads it.

Why so strict: an uploaded file is later opened by the resume parser (pdfminer,
python-docx), shown to employers and re-downloaded by them. Anything that can run,
phone home or exhaust memory is refused here, once, with an answer the uploader can act
on ("save it as a PDF without a password"), so no later reader has to be defensive.

The type comes from the bytes, never the filename or the declared media type:

* **PDF**: ``%PDF-`` within the first 1024 bytes (where readers look for it).
* **DOCX**: a ZIP holding ``[Content_Types].xml`` and ``word/document.xml`` whose main
  part has the WordprocessingML document content type.
* Everything else (legacy ``.doc``, images, text, other ZIPs, executables) is 415.
  A Compound File (OLE/CFB) with an ``EncryptionInfo`` stream is how Word saves a
  password-protected DOCX, so that one gets "encrypted-document" instead.

Readers here are bounded: ZIP entries and PDF streams are decompressed in chunks with
one running budget per document (declared sizes are checked first but never trusted;
a PDF stream's whole filter chain is decoded, and a chain with two expanding layers is
refused), each DOCX XML part is capped (:data:`MAX_XML_PART_BYTES`, and
:data:`MAX_XML_ELEMENTS` in the main part), XML is parsed with expat with
DOCTYPE/ENTITY declarations refused before anything expands, and a PDF's page tree is
walked only up to :data:`MAX_PAGES` + 1 pages. A file that is both a PDF and a ZIP or
OLE file (a polyglot) is refused: another reader would open what was not checked.

pdfminer.six is imported lazily, only when a PDF is checked: it comes with the
``aujobs-common[documents]`` extra, which the services that take uploads depend on.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from enum import StrEnum
from typing import Any
from xml.parsers import expat

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
#: total uncompressed bytes a document may unpack to (ZIP entries, PDF streams)
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
#: uncompressed/compressed ratio above which a ZIP entry is treated as a bomb
MAX_COMPRESSION_RATIO = 200
MAX_ZIP_ENTRIES = 2_000
#: uncompressed bytes of any one XML part of a DOCX (python-docx builds a tree of it;
#: a long resume's document.xml is well under 1 MB)
MAX_XML_PART_BYTES = 20 * 1024 * 1024
#: XML elements in word/document.xml (each costs python-docx/lxml a few hundred bytes)
MAX_XML_ELEMENTS = 2_000_000
MAX_PAGES = 50
#: PDF objects walked when looking for active content (a resume has a few hundred)
MAX_PDF_OBJECTS = 200_000

_CHUNK = 64 * 1024
_HEADER_WINDOW = 1024
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"

# PDF names that mean "this file can run something, submit something or carry a file".
_PDF_ACTIVE_NAMES = frozenset(
    {
        "JavaScript",
        "JS",
        "Launch",
        "EmbeddedFile",
        "EmbeddedFiles",
        "RichMedia",
        "XFA",
        "SubmitForm",
        "ImportData",
    }
)
# Relationship types that pull remote content into a DOCX when it is opened.
_REMOTE_REL_TYPES = ("attachedtemplate", "frame", "subdocument", "oleobject")


class DocumentKind(StrEnum):
    pdf = "pdf"
    docx = "docx"

    @property
    def media_type(self) -> str:
        return {
            "pdf": "application/pdf",
            "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }[self.value]


class DocumentRejected(Exception):
    """Why an upload was refused: ``code`` (problem type suffix), HTTP ``status``, and a
    ``detail`` a person can act on."""

    def __init__(self, code: str, status: int, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.status = status
        self.detail = detail


# -- the rejections, worded once ------------------------------------------------------


def _unsupported(what: str) -> DocumentRejected:
    return DocumentRejected(
        "unsupported-document-type",
        415,
        f"This file is {what}. Upload your document as a PDF or a Word .docx file.",
    )


def _malformed(why: str) -> DocumentRejected:
    return DocumentRejected(
        "malformed-document",
        422,
        f"This file is damaged or incomplete ({why}). Open it, save or export it again as a "
        "PDF or .docx, and upload the new file.",
    )


def _encrypted(kind: str) -> DocumentRejected:
    return DocumentRejected(
        "encrypted-document",
        422,
        f"This {kind} is password-protected or encrypted, so it cannot be read. Save a copy "
        "without a password and upload that.",
    )


def _active(what: str) -> DocumentRejected:
    return DocumentRejected(
        "active-content",
        422,
        f"This file contains {what}, which is not accepted for security reasons. Save it "
        "again as a plain PDF or .docx (for example with 'Save as PDF') and upload that.",
    )


def _too_large_unpacked(why: str) -> DocumentRejected:
    return DocumentRejected(
        "document-too-large-unpacked",
        422,
        f"This file expands to far more data than a document should ({why}). Save it again "
        "as an ordinary PDF or .docx and upload that.",
    )


# -- entry point ----------------------------------------------------------------------


def inspect_document(
    data: bytes,
    *,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    max_unpacked: int = MAX_UNPACKED_BYTES,
    max_xml_part: int = MAX_XML_PART_BYTES,
    max_xml_elements: int = MAX_XML_ELEMENTS,
) -> DocumentKind:
    """The kind of document ``data`` is, or :class:`DocumentRejected`.

    Cheap checks first (size, magic bytes), then the structural ones, which read the
    file with bounded decompression. CPU-bound: call it in a worker thread for big files.
    The ``max_*`` limits are the module constants; tests lower them to stay small.
    """
    if not data:
        raise DocumentRejected("empty-document", 422, "The file is empty. Choose the document again.")
    if len(data) > max_bytes:
        raise DocumentRejected(
            "document-too-large",
            413,
            f"The file is {len(data) / 1048576:.1f} MB; the limit is {max_bytes / 1048576:.0f} MB. "
            "Reduce image sizes or export to PDF and try again.",
        )
    head = data[:_HEADER_WINDOW]
    budget = _Budget(max_unpacked)
    is_zip = data.startswith((b"PK\x03\x04", b"PK\x05\x06"))
    pdf_at = head.find(b"%PDF-")
    if pdf_at >= 0:
        _check_not_polyglot(data, pdf_at, is_zip=is_zip)
        _check_pdf(data, budget)
        return DocumentKind.pdf
    if is_zip:
        _check_docx(data, budget, max_xml_part=max_xml_part, max_xml_elements=max_xml_elements)
        return DocumentKind.docx
    if data.startswith(_CFB_MAGIC):
        if _cfb_has_stream(data, "EncryptionInfo"):
            raise _encrypted("Word document")
        raise _unsupported("an old-style Word (.doc) or other Office binary file")
    raise _unsupported(_describe(head))


def _polyglot(what: str) -> DocumentRejected:
    return DocumentRejected(
        "malformed-document",
        422,
        f"This file is both a PDF and {what} at once, which ordinary documents never are "
        "(it is a trick to get one kind of file past checks made for the other). Open it, "
        "save or export it again as a PDF or .docx, and upload the new file.",
    )


def _check_not_polyglot(data: bytes, pdf_at: int, *, is_zip: bool) -> None:
    """A PDF must not also be a ZIP (an Office file, possibly with macros) or an OLE file:
    a reader that goes by the ZIP directory or the OLE header would open something other
    than what was checked. So ``%PDF-`` may follow only whitespace or a prefix that is
    neither, and no ZIP directory may be reachable from the end of the file."""
    prefix = data[:pdf_at]
    if is_zip or b"PK\x03\x04" in prefix or b"PK\x05\x06" in prefix:
        raise _polyglot("a ZIP archive (such as a Word file)")
    if _CFB_MAGIC in prefix:
        raise _polyglot("an Office binary (OLE) file")
    if zipfile.is_zipfile(io.BytesIO(data)):
        raise _polyglot("a ZIP archive (such as a Word file)")


def _describe(head: bytes) -> str:
    """A human name for common wrong uploads, for the 415 detail."""
    signatures = (
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"MZ", "a program (executable)"),
        (b"\x7fELF", "a program (executable)"),
        (b"{\\rtf", "an RTF document"),
    )
    for magic, name in signatures:
        if head.startswith(magic):
            return name
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "a TIFF image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "not a PDF or Word document"
    return "plain text, not a PDF or Word document"


# -- OLE / Compound File Binary -------------------------------------------------------


def _cfb_has_stream(data: bytes, name: str) -> bool:
    """Whether the CFB directory has an entry called ``name``. Parses the header, the
    FAT chain of the directory and its 128-byte entries (bounded); a file too broken to
    parse is treated as not having it (it is rejected as unsupported either way)."""
    try:
        if len(data) < 512:
            return False
        sector_shift = struct.unpack_from("<H", data, 30)[0]
        if sector_shift not in (9, 12):
            return False
        size = 1 << sector_shift
        fat_sectors, first_dir = struct.unpack_from("<II", data, 44)
        difat = struct.unpack_from("<109I", data, 76)

        def sector(n: int) -> bytes:
            offset = (n + 1) * size
            return data[offset : offset + size]

        fat: list[int] = []
        for s in difat[: min(fat_sectors, 109)]:
            if s >= 0xFFFFFFFA:
                break
            chunk = sector(s)
            fat.extend(struct.unpack(f"<{len(chunk) // 4}I", chunk[: len(chunk) // 4 * 4]))
        wanted = name.encode("utf-16-le")
        current, seen = first_dir, 0
        while current < 0xFFFFFFFA and seen < 4096:
            chunk = sector(current)
            for i in range(0, len(chunk) - 127, 128):
                length = struct.unpack_from("<H", chunk, i + 64)[0]
                if 2 <= length <= 64 and chunk[i : i + length - 2] == wanted:
                    return True
            seen += 1
            current = fat[current] if current < len(fat) else 0xFFFFFFFE
    except (struct.error, IndexError):
        pass
    # the directory could not be walked: fall back to the UTF-16 name anywhere
    return name.encode("utf-16-le") in data


# -- DOCX -----------------------------------------------------------------------------


class _Budget:
    """The running count of bytes decompressed from one document."""

    def __init__(self, limit: int = MAX_UNPACKED_BYTES) -> None:
        self.limit = limit
        self.used = 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise _too_large_unpacked(f"over {self.limit // 1_000_000} MB uncompressed")


def _check_docx(data: bytes, budget: _Budget, *, max_xml_part: int, max_xml_elements: int) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _malformed(f"not a readable ZIP archive: {exc}") from exc
    with archive:
        # 1. the central directory: counts, declared sizes and ratios
        if len(infos) > MAX_ZIP_ENTRIES:
            raise _too_large_unpacked(f"{len(infos)} parts; at most {MAX_ZIP_ENTRIES} are accepted")
        declared = sum(info.file_size for info in infos)
        if declared > budget.limit:
            raise _too_large_unpacked(f"{declared / 1_000_000:.0f} MB uncompressed")
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels")) and info.file_size > max_xml_part:
                raise _too_large_unpacked(
                    f"part {info.filename} is {info.file_size / 1048576:.0f} MB of XML; "
                    f"at most {max_xml_part / 1048576:.0f} MB are accepted"
                )
        for info in infos:
            if info.file_size > 1024 and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
                raise _too_large_unpacked(
                    f"part {info.filename} is compressed more than {MAX_COMPRESSION_RATIO}:1"
                )
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise _malformed("the archive lists the same part twice")
        lower = {n.lower(): n for n in names}
        if "[content_types].xml" not in lower or "word/document.xml" not in lower:
            raise _unsupported("a ZIP archive, not a Word .docx document")
        if any(info.flag_bits & 0x1 for info in infos):
            raise _encrypted("Word document")

        # 2. part names that are active content whatever their content types say
        for name in lower:
            base = name.rsplit("/", 1)[-1]
            if base.startswith("vbaproject") or base == "vbadata.xml":
                raise _active("macros (VBA)")
            if "activex" in name:
                raise _active("ActiveX controls")
            if "oleobject" in name or (name.startswith("word/embeddings/") and name.endswith(".bin")):
                raise _active("embedded OLE objects")

        # 3. every XML part: bounded reads, no DTDs, well-formed; content types and
        #    relationships inspected as they are parsed
        facts = _PackageFacts()
        for info in infos:
            lname = info.filename.lower()
            if lname.endswith((".xml", ".rels")):
                _parse_part(
                    archive,
                    info,
                    budget,
                    facts,
                    max_bytes=max_xml_part,
                    max_elements=max_xml_elements if lname == "word/document.xml" else None,
                )
            else:
                _drain(archive, info, budget)

    if not any(ct for ct in facts.content_types if "macroenabled" in ct.lower()):
        main = facts.overrides.get("/word/document.xml") or facts.defaults.get("xml")
        if main is None:
            raise _unsupported("a ZIP archive without a Word document part")
        if main != _DOCX_MAIN:
            if "template" in main:
                raise _unsupported("a Word template (.dotx), not a document")
            raise _unsupported(f"an Office file of type {main}, not a Word .docx document")
    else:
        raise _active("macros (a macro-enabled Word file)")
    for ct in facts.content_types:
        low = ct.lower()
        if "vbaproject" in low or "activex" in low or "oleobject" in low:
            raise _active("macros or embedded controls")
    for rel_type, mode in facts.relationships:
        if mode == "external" and rel_type.rsplit("/", 1)[-1].lower() in _REMOTE_REL_TYPES:
            raise _active("a link that loads a remote template or frame when opened")
        if rel_type.rsplit("/", 1)[-1].lower() in ("vbaproject", "activexcontrol", "oleobject", "control"):
            raise _active("macros or embedded controls")
    if facts.ole_elements:
        raise _active("embedded OLE objects or controls")


class _PackageFacts:
    def __init__(self) -> None:
        self.content_types: list[str] = []
        self.overrides: dict[str, str] = {}
        self.defaults: dict[str, str] = {}
        self.relationships: list[tuple[str, str]] = []
        self.ole_elements = 0


def _read_chunks(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, max_bytes: int | None = None
) -> Iterator[bytes]:
    """The part's bytes in chunks, with the real (not declared) size counted against the
    budget, the per-entry ratio and ``max_bytes``, so a lying central directory gains nothing."""
    actual = 0
    limit = max(info.file_size, 0)
    try:
        with archive.open(info) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                actual += len(chunk)
                budget.take(len(chunk))
                if actual > limit + _CHUNK or (
                    actual > 1024 and actual > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
                ):
                    raise _too_large_unpacked(f"part {info.filename} expands beyond its declared size")
                if max_bytes is not None and actual > max_bytes:
                    raise _too_large_unpacked(
                        f"part {info.filename} is over {max_bytes / 1048576:.0f} MB of XML"
                    )
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise _malformed(f"part {info.filename} cannot be read: {exc}") from exc


def _drain(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> None:
    for _ in _read_chunks(archive, info, budget):
        pass


class _DoctypeFound(Exception):
    pass


class _TooManyElements(Exception):
    pass


def _parse_part(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    budget: _Budget,
    facts: _PackageFacts,
    *,
    max_bytes: int,
    max_elements: int | None,
) -> None:
    """Parse one XML part incrementally with expat. A DOCTYPE or ENTITY declaration
    aborts at once (before any entity is expanded): Word never writes one, and it is
    how XXE and "billion laughs" attacks start. The part's size is capped (python-docx
    holds the whole tree), and so is the element count of the main document part."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: Any) -> None:
        raise _DoctypeFound

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    lname = info.filename.lower()

    elements = 0

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal elements
        elements += 1
        if max_elements is not None and elements > max_elements:
            raise _TooManyElements
        local = tag.rsplit("}", 1)[-1]
        if lname == "[content_types].xml":
            content_type = attrs.get("ContentType", "")
            facts.content_types.append(content_type)
            if local == "Override":
                facts.overrides[attrs.get("PartName", "").lower()] = content_type
            elif local == "Default":
                facts.defaults[attrs.get("Extension", "").lower()] = content_type
        elif lname.endswith(".rels") and local == "Relationship":
            facts.relationships.append((attrs.get("Type", ""), attrs.get("TargetMode", "").lower()))
        elif local in ("OLEObject", "control") or (local == "object" and tag.startswith("urn:schemas")):
            facts.ole_elements += 1

    parser.StartElementHandler = start
    try:
        for chunk in _read_chunks(archive, info, budget, max_bytes):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _TooManyElements as exc:
        raise _too_large_unpacked(f"part {info.filename} has over {max_elements:,} XML elements") from exc
    except _DoctypeFound as exc:
        raise _active(f"an XML document type declaration (in {info.filename})") from exc
    except expat.ExpatError as exc:
        raise _malformed(f"part {info.filename} is not well-formed XML: {exc}") from exc


# -- PDF ------------------------------------------------------------------------------

# ``stream`` as a keyword (not the end of ``endstream``), then the rest of its line:
# pdfminer, like viewers, starts the data after that line whatever else is on it.
_STREAM_START = re.compile(rb"(?<![A-Za-z0-9])stream(?![A-Za-z0-9])[^\r\n]{0,64}(?:\r\n|\r|\n)")
_OBJ_KEYWORD = re.compile(rb"(?<![A-Za-z0-9])obj(?![A-Za-z0-9])")
_FILTER_KEY = re.compile(
    rb"/(?:Filter|F)(?![A-Za-z0-9#])\s*(\[[^\]]{0,2048}\]|/[^\s/\[\]<>()%]*|\d+\s+\d+\s+R)"
)
_LENGTH_KEY = re.compile(rb"/Length(?![A-Za-z0-9#])\s*(\d+)(?:\s+(\d+)\s+R)?")
_NAME = re.compile(rb"/([^\s/\[\]<>()%]*)")
_DICT_WINDOW = 64 * 1024

# Filter names as pdfminer decodes them (with the abbreviations it accepts).
_FLATE = frozenset({"FlateDecode", "Fl"})
_LZW = frozenset({"LZWDecode", "LZW"})
_A85 = frozenset({"ASCII85Decode", "A85"})
_AHX = frozenset({"ASCIIHexDecode", "AHx"})
_RUNLENGTH = frozenset({"RunLengthDecode", "RL"})
#: pdfminer passes these through unchanged (the image bytes are the data)
_PASS_THROUGH = frozenset({"DCTDecode", "DCT", "JBIG2Decode", "JPXDecode"})
#: decoded by pdfminer only for image data, which the text parser never asks for
_CCITT = frozenset({"CCITTFaxDecode", "CCF"})


def _name(raw: bytes) -> str:
    """A PDF name with ``#xx`` escapes decoded (``/Fl#61teDecode`` is FlateDecode)."""
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw).decode("latin-1")


def _stream_dict(data: bytes, keyword_at: int) -> bytes:
    """The text between the ``N G obj`` that opens this object and its ``stream``
    keyword: the stream's dictionary (bounded to the last 64 KB)."""
    window_start = max(0, keyword_at - _DICT_WINDOW)
    last = None
    for last in _OBJ_KEYWORD.finditer(data, window_start, keyword_at):  # noqa: B007 (the last one)
        pass
    return data[last.end() if last is not None else window_start : keyword_at]


def _stream_filters(dictionary: bytes) -> list[str]:
    """The filter chain a stream dictionary names (``/Filter`` or ``/F``). An indirect
    filter, or two different chains in one dictionary, is refused: no PDF writer does
    that, and it would let the chain pdfminer decodes differ from the one counted here."""
    specs = {m.group(1) for m in _FILTER_KEY.finditer(dictionary)}
    if not specs:
        return []
    if len(specs) > 1:
        raise _malformed("a stream names two different filter chains")
    (spec,) = specs
    if re.search(rb"\d\s+\d+\s+R", spec):
        raise _malformed("a stream's filters are given indirectly")
    return [_name(m.group(1)) for m in _NAME.finditer(spec)]


def _stream_end(data: bytes, start: int, dictionary: bytes) -> int:
    """Where pdfminer ends the stream: the first ``endstream`` at or after start +
    /Length (an indirect /Length resolved by looking the object up; the longest
    candidate wins, so a fake ``endstream`` inside the data cannot shorten it)."""
    lengths = [0]
    for m in _LENGTH_KEY.finditer(dictionary):
        if m.group(2) is None:
            lengths.append(int(m.group(1)))
        else:
            ref = re.compile(rb"(?<!\d)%s\s+%s\s+obj\s*(\d+)" % (m.group(1), m.group(2)))
            lengths.extend(int(found.group(1)) for found in ref.finditer(data))
    end = -1
    for length in sorted(set(lengths), reverse=True):
        end = data.find(b"endstream", min(start + length, len(data)))
        if end >= 0:
            break
    return len(data) if end < 0 else end


def _pieces(data: bytes, start: int, end: int) -> Iterator[bytes]:
    for at in range(start, end, _CHUNK):
        yield data[at : min(at + _CHUNK, end)]


def _inflate(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """zlib-inflate in pieces of at most _CHUNK. Damaged data yields what pdfminer's
    ``decompress_corrupted`` would recover (the output up to the bad byte), then stops."""
    inflater = zlib.decompressobj()
    for chunk in chunks:
        pending = chunk
        while pending and not inflater.eof:
            saved = inflater.copy()
            try:
                piece = inflater.decompress(pending, _CHUNK)
            except zlib.error:
                yield from _inflate_until_damage(saved, pending)
                return
            pending = inflater.unconsumed_tail
            if piece:
                yield piece
        if inflater.eof:
            return


def _inflate_until_damage(inflater: Any, data: bytes) -> Iterator[bytes]:
    """Replay ``data`` one byte at a time from a copy taken before it failed, so the
    output up to the damage is counted exactly (it may be large)."""
    for i in range(len(data)):
        pending = data[i : i + 1]
        while pending:
            try:
                piece = inflater.decompress(pending, _CHUNK)
            except zlib.error:
                return
            pending = inflater.unconsumed_tail
            if piece:
                yield piece


class _ChunkReader:
    """A ``read(n)`` file over an iterator of chunks (for pdfminer's LZW decoder)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self._at = 0

    def read(self, n: int = -1) -> bytes:
        while len(self._buffer) - self._at < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer = self._buffer[self._at :] + chunk
            self._at = 0
        out = self._buffer[self._at : self._at + n]
        self._at += len(out)
        return out


def _lzw(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """pdfminer's own LZW decoder (so the output is exactly what it would make), driven
    one code at a time and batched into pieces."""
    from pdfminer.lzw import LZWDecoder

    batch = bytearray()
    try:
        for piece in LZWDecoder(_ChunkReader(chunks)).run():  # type: ignore[arg-type]
            batch += piece
            if len(batch) >= _CHUNK:
                yield bytes(batch)
                batch.clear()
    except Exception:  # noqa: S110 (pdfminer stops at the damage too; what came out is counted)
        pass
    if batch:
        yield bytes(batch)


def _ascii_hex(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """As pdfminer: whitespace ignored, ``>`` ends it, anything else non-hex is an error."""
    carry = b""
    for chunk in chunks:
        text = carry + re.sub(rb"\s", b"", chunk)
        stop = text.find(b">")
        if stop >= 0:
            text = text[:stop] + (b"0" if stop % 2 else b"")
        even = len(text) - len(text) % 2
        try:
            out = bytes.fromhex(text[:even].decode("ascii"))
        except ValueError:
            return
        carry = text[even:]
        if out:
            yield out
        if stop >= 0:
            return


def _ascii85(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """ASCII85 in whole groups (``z`` stands for four zero bytes); the last partial
    group is decoded at the end."""
    import base64

    carry = b""
    whole = re.compile(rb"(?:z|[!-u]{5})*")
    for chunk in chunks:
        text = carry + re.sub(rb"\s", b"", chunk)
        if text.startswith(b"<~"):
            text = text[2:]
        stop = text.find(b"~")
        body = text if stop < 0 else text[:stop]
        cut = whole.match(body).end()  # type: ignore[union-attr]
        try:
            out = base64.a85decode(body[:cut])
        except ValueError:
            return
        if out:
            yield out
        carry = body[cut:]
        if stop >= 0 or len(carry) >= 5:  # the end, or a character outside the alphabet
            break
    if carry:
        try:
            yield base64.a85decode(carry)
        except ValueError:
            return


def _run_length(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """RunLengthDecode: a length byte, then a literal run (0-127) or one repeated byte
    (129-255); 128 ends it."""
    out = bytearray()
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        i = 0
        while i < len(buffer):
            length = buffer[i]
            if length == 128:
                if out:
                    yield bytes(out)
                return
            if length < 128:
                if i + 1 + length + 1 > len(buffer):
                    break
                out += buffer[i + 1 : i + 2 + length]
                i += 2 + length
            else:
                if i + 1 >= len(buffer):
                    break
                out += buffer[i + 1 : i + 2] * (257 - length)
                i += 2
            if len(out) >= _CHUNK:
                yield bytes(out)
                out.clear()
        buffer = buffer[i:]
    if out:
        yield bytes(out)


def _counted(chunks: Iterator[bytes], budget: _Budget) -> Iterator[bytes]:
    for chunk in chunks:
        budget.take(len(chunk))
        yield chunk


def _check_stream_sizes(data: bytes, budget: _Budget) -> None:
    """Decode the whole filter chain of every ``stream … endstream`` body, in pieces,
    counting each layer's output against one running budget: a PDF whose streams
    unpack past it is a bomb. This runs before pdfminer, which decodes a stream in one
    go (object and cross-reference streams already while the document is opened).

    At most one expanding layer (Flate or LZW, up to ~1000:1 each) per stream: two of
    them (a double-compressed stream) only ever serve to hide a bomb. Image codecs are
    not decoded (the text parser never asks for image data) but their bytes count."""
    position = 0
    while True:
        found = _STREAM_START.search(data, position)
        if found is None:
            return
        start = found.end()
        dictionary = _stream_dict(data, found.start())
        filters = _stream_filters(dictionary)
        end = _stream_end(data, start, dictionary)
        position = max(end, start)
        expanding = sum(1 for f in filters if f in _FLATE or f in _LZW)
        if expanding > 1:
            raise _too_large_unpacked("a stream is compressed more than once")
        is_structure = re.search(rb"/Type\s*/(?:ObjStm|XRef)(?![A-Za-z0-9#])", dictionary) is not None
        chunks: Iterator[bytes] = _counted(_pieces(data, start, end), budget)
        for index, name in enumerate(filters):
            if name in _FLATE:
                chunks = _inflate(chunks)
            elif name in _LZW:
                chunks = _lzw(chunks)
            elif name in _AHX:
                chunks = _ascii_hex(chunks)
            elif name in _A85:
                chunks = _ascii85(chunks)
            elif name in _RUNLENGTH:
                chunks = _run_length(chunks)
            elif name in _PASS_THROUGH:
                continue  # pdfminer hands the bytes on unchanged
            elif name in _CCITT:
                if is_structure or index != len(filters) - 1:
                    raise _malformed("a fax-image filter is used for something other than an image")
                break  # image data: its raw bytes are counted, it is never decoded for text
            else:
                break  # pdfminer cannot decode it either (it raises): nothing more comes out
            chunks = _counted(chunks, budget)
        for _ in chunks:
            pass


def _check_pdf(data: bytes, budget: _Budget) -> None:
    _check_stream_sizes(data, budget)
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise _encrypted("PDF") from exc
    except Exception as exc:  # pdfminer raises many kinds (PSEOF, PDFSyntaxError, KeyError …)
        raise _malformed(f"the PDF structure cannot be read: {type(exc).__name__}") from exc
    if document.encryption is not None or _has_encrypt_key(document):
        raise _encrypted("PDF")
    _check_pdf_objects(document)
    pages = 0
    try:
        for _ in PDFPage.create_pages(document):
            pages += 1
            if pages > MAX_PAGES:
                raise DocumentRejected(
                    "too-many-pages",
                    422,
                    f"This PDF has more than {MAX_PAGES} pages. Upload a shorter document "
                    "(a resume is usually 2 to 4 pages).",
                )
    except DocumentRejected:
        raise
    except Exception as exc:
        raise _malformed(f"the page tree cannot be read: {type(exc).__name__}") from exc
    if pages == 0:
        raise _malformed("the PDF has no pages")


def _has_encrypt_key(document: Any) -> bool:
    return any(
        isinstance(t, dict) and "Encrypt" in t for xref in document.xrefs for t in [xref.get_trailer()]
    )


def _check_pdf_objects(document: Any) -> None:
    """Walk every object pdfminer can reach through the cross-reference tables
    (including objects packed in object streams) and look for active-content names as
    keys or values. pdfminer decodes ``#xx`` escapes, so ``/J#61vaScript`` is seen as
    ``JavaScript``."""
    from pdfminer.pdftypes import PDFObjRef, PDFStream
    from pdfminer.psparser import PSLiteral

    seen = 0

    def visit(obj: Any, depth: int) -> None:
        if depth > 32:
            return
        if isinstance(obj, PDFStream):
            obj = obj.attrs
        if isinstance(obj, dict):
            for key, value in obj.items():
                if str(key) in _PDF_ACTIVE_NAMES:
                    raise _active(f"active content (/{key})")
                if not isinstance(value, PDFObjRef):
                    visit(value, depth + 1)
        elif isinstance(obj, list):
            for item in obj:
                if not isinstance(item, PDFObjRef):
                    visit(item, depth + 1)
        elif isinstance(obj, PSLiteral):
            if str(obj.name) in _PDF_ACTIVE_NAMES:
                raise _active(f"active content (/{obj.name})")

    for trailer in (x.get_trailer() for x in document.xrefs):
        visit(trailer, 0)
    done: set[int] = set()
    for xref in document.xrefs:
        for objid in xref.get_objids():
            if objid in done:
                continue
            done.add(objid)
            seen += 1
            if seen > MAX_PDF_OBJECTS:
                raise _too_large_unpacked(f"more than {MAX_PDF_OBJECTS} objects")
            try:
                obj = document.getobj(objid)
            except DocumentRejected:
                raise
            except Exception:  # noqa: S112 (an unreadable object cannot run either)
                continue
            visit(obj, 0)
