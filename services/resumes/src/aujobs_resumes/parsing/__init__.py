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

from aujobs_common.documents import DocumentKind

from ..document import ParsedResume
from . import skills as _skills
from .layout import docx_lines, pdf_lines
from .resume import build


def parse_resume(data: bytes, kind: DocumentKind) -> ParsedResume:
    """CPU-bound and synchronous: call it in a worker thread. Raises ``ValueError`` for a
    file whose text cannot be read.

    ``data`` must already have passed :func:`aujobs_common.documents.inspect_document`
    (which bounds decompression and refuses active content).
    """
    if kind not in (DocumentKind.pdf, DocumentKind.docx):
        raise ValueError(f"Cannot parse a {kind} document.")
    try:
        if kind == DocumentKind.pdf:
            lines, pages, links = pdf_lines(data)
        else:
            lines, pages, links = docx_lines(data), 0, []
    except Exception as exc:  # the readers raise many kinds on damaged files
        raise ValueError(
            f"The {kind.value.upper()} file could not be read ({type(exc).__name__}). "
            "Save or export it again and upload the new file."
        ) from exc
    return build(lines, pages=pages, links=links)


def extract_skills(text: str, *, listing: bool = False) -> list[str]:
    """Canonical skill names mentioned in ``text``, in order of first mention.

    ``listing=True`` treats the text as a list of skills (a skills section), where
    product names that are also English words ("Word", "Access", "Spark") count however
    they are placed; by default they must look like names in a list (see :mod:`.skills`).
    """
    return _skills.extract_skills(text, listing=listing)


__all__ = ["extract_skills", "parse_resume"]
