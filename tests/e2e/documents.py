"""Files a job seeker might upload, good and bad, made in memory for the end-to-end
tests (no fixtures on disk besides the real CVs)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from docx import Document
from reportlab.lib import pdfencrypt
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[2]
#: A real CV typeset by RenderCV (MIT, see the licence beside it); its YAML is the truth.
REAL_CV = ROOT / "services/resumes/tests/data/rendercv/John_Doe_ClassicTheme_CV.pdf"


def resume_lines(name: str) -> list[str]:
    """A short but real resume's lines for ``name``."""
    handle = name.lower().replace(" ", ".")
    return [
        name,
        f"{handle}@example.com.au | 0412 345 678 | Sydney NSW",
        "Experience",
        "Machine Learning Engineer, Harbour Analytics    Mar 2020 - Present",
        "- Built Python and PyTorch models serving 2M predictions a day",
        "Education",
        "Bachelor of Computer Science, University of Sydney    2016 - 2019",
        "Skills",
        "Python, PyTorch, Kubernetes, SQL",
    ]


def resume_pdf(name: str) -> bytes:
    return pdf(resume_lines(name))


def pdf(lines: list[str], *, encrypt: bool = False) -> bytes:
    out = io.BytesIO()
    options = {"encrypt": pdfencrypt.StandardEncryption("user-pw", "owner-pw")} if encrypt else {}
    page = canvas.Canvas(out, pagesize=A4, **options)
    y = 800
    for line in lines:
        page.drawString(60, y, line)
        y -= 16
    page.save()
    return out.getvalue()


def _raw_pdf(objects: list[bytes]) -> bytes:
    """A minimal, well-formed PDF (header, objects, xref table, trailer) from bodies."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    """Opens with a script, the name written with a #xx escape as malware does."""
    stream = b"BT /F1 12 Tf 60 800 Td (Jane Citizen) Tj ET"
    return _raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 6 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /S /J#61vaScript /JS (app.alert\\('hello'\\)) >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def docx(paragraphs: list[str]) -> bytes:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _rezip(data: bytes, extra: dict[str, bytes], *, replace: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in source.infolist():
            body = (replace or {}).get(item.filename, source.read(item.filename))
            z.writestr(item.filename, body)
        for name, body in extra.items():
            z.writestr(name, body)
    return out.getvalue()


def docx_with_macros() -> bytes:
    return _rezip(docx(["Jane Citizen"]), {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 512})


def docx_bomb() -> bytes:
    """A valid DOCX with one more part that unpacks ~1,000 times (50 KB to 50 MB)."""
    return _rezip(docx(["Jane Citizen"]), {"word/media/padding.bin": b"\0" * (50 * 1024 * 1024)})


def legacy_word_document() -> bytes:
    """An OLE compound file, as Word 97-2003 saves .doc (not accepted)."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096


def oversized_pdf(megabytes: float = 10.5) -> bytes:
    body = pdf(["Jane Citizen"])
    return body + b"%" + b"x" * int(megabytes * 1024 * 1024)
