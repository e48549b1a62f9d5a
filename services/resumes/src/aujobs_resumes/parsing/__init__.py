"""Reading a resume file into a :class:`~aujobs_resumes.document.ParsedResume`.

* :mod:`.layout`: lines in reading order (PDF via pdfplumber, column-aware; DOCX via
  python-docx: paragraphs, tables, heading and list styles).
* :mod:`.sections`: which lines are headings and what they mean.
* :mod:`.resume`: contact details, experience and education entries, skills.
* :mod:`.skills`: the spaCy ``PhraseMatcher`` over the O*NET catalogue.
* :mod:`.dates`: date ranges.

Accuracy on the RenderCV sample CVs and on SkillSpan is measured by ``bench/resumes.py``.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from aujobs_common.documents import DocumentKind

from ..document import ParsedResume
from . import skills as _skills
from .layout import docx_lines, pdf_lines
from .resume import build

#: paragraphs in a DOCX's main part: a long resume has a few hundred. Anything far beyond
#: that is not a resume, and each paragraph still costs the section and entry passes
#: work, so such a file is refused up front with a clear reason.
MAX_DOCX_PARAGRAPHS = 5_000
_PARAGRAPH = re.compile(rb"<(?:[\w.-]+:)?p[\s/>]")


def _docx_paragraphs(data: bytes) -> int:
    """Paragraph elements in word/document.xml (already size-checked at upload)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = archive.read("word/document.xml")
    return len(_PARAGRAPH.findall(body))


def parse_resume(data: bytes, kind: DocumentKind) -> ParsedResume:
    """CPU-bound and synchronous: the service runs it in a separate, memory-limited
    process (:mod:`aujobs_resumes.worker`). Raises ``ValueError`` for a file whose text
    cannot be read, and lets ``MemoryError`` through (the caller tells the user the file
    needs too much memory, rather than that it is damaged).

    ``data`` must already have passed :func:`aujobs_common.documents.inspect_document`
    (which bounds decompression and refuses active content).
    """
    if kind not in (DocumentKind.pdf, DocumentKind.docx):
        raise ValueError(f"Cannot parse a {kind} document.")
    paragraphs = 0
    if kind == DocumentKind.docx:
        try:
            paragraphs = _docx_paragraphs(data)
        except (zipfile.BadZipFile, KeyError, OSError, EOFError, zlib.error):
            pass  # damaged: python-docx says so below, with the usual message
    if paragraphs > MAX_DOCX_PARAGRAPHS:
        raise ValueError(
            f"This document has {paragraphs:,} paragraphs, far more than a resume. Upload your "
            "resume on its own (a few pages)."
        )
    try:
        if kind == DocumentKind.pdf:
            lines, pages, links = pdf_lines(data)
        else:
            lines, pages, links = docx_lines(data), 0, []
    except MemoryError:
        raise
    except Exception as exc:  # the readers raise many kinds on damaged files
        raise ValueError(
            f"The {kind.value.upper()} file could not be read ({type(exc).__name__}). "
            "Save or export it again and upload the new file."
        ) from exc
    return build(lines, pages=pages, links=links)


def warm() -> None:
    """Build the process-wide skill matcher now (a parse process calls this at start, so
    the first parse does not pay the build time)."""
    _skills.matcher()


def extract_skills(text: str, *, listing: bool = False) -> list[str]:
    """Canonical skill names mentioned in ``text``, in order of first mention.

    ``listing=True`` treats the text as a list of skills (a skills section), where
    product names that are also English words ("Word", "Access", "Spark") count however
    they are placed; by default they must look like names in a list (see :mod:`.skills`).
    """
    return _skills.extract_skills(text, listing=listing)


__all__ = ["extract_skills", "parse_resume", "warm"]
