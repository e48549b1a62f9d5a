"""Text lines in reading order from a PDF or a DOCX, with the layout facts the section
and entry parsers need (font size, bold, indentation, bullets, and the *segments* of a
line: pieces separated by a wide horizontal gap, such as a right-aligned date).

PDF columns: resumes are often two-column (a sidebar with contact and skills beside
the main column). Reading such a page line by line interleaves the columns, so each
page is checked for a vertical gutter: an x range that no word crosses over most of
the page's height (a full-width header and footer may cross it). A gutter counts only
when both sides carry a real share of the text (at least 15 % of the characters and
five lines each): the narrow date/location column of many one-column layouts is not a
column of its own, and reading it separately would tear dates from their entries.
"""

# ruff: noqa: RUF001, RUF002, RUF003 (dashes, bullets and typographic quotes are what resumes contain)

from __future__ import annotations

import io
import itertools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

BULLETS = "•◦▪●○■□◆◇►▸➢➤✓✔‣⁃∙·*-–—"
_CID = re.compile(r"\(cid:\d+\)")
_GLYPH_BULLETS = "•◦▪●○■□◆◇►▸➢➤✓✔‣⁃∙·"
_PAGE_FOOTER = re.compile(r"(^|\s)(page\s*)?\d+\s*(/|of)\s*\d+\s*$", re.IGNORECASE)
#: a gap wider than this many font sizes splits a line into segments
SEGMENT_GAP_EM = 1.2
#: pages read (pdfplumber takes ~0.2 s for a dense page; a resume longer than this is
#: read for its first pages, which hold what the parser looks for)
MAX_PARSE_PAGES = 15
#: the narrowest gutter between two columns, in points (a word space is about 3)
MIN_GUTTER = 8.0


@dataclass
class Line:
    segments: list[str]
    x0: float = 0.0
    top: float = 0.0
    size: float = 10.0
    bold: bool = False
    italic: bool = False
    page: int = 0
    bullet: bool = False
    #: x where the text starts (after a bullet marker)
    text_x0: float = 0.0
    #: the DOCX style said heading (None: no style information)
    style_heading: bool | None = None
    table: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "  ".join(self.segments)

    @property
    def display(self) -> str:
        return ("• " if self.bullet else "") + self.text


def clean(text: str) -> str:
    """NFC, private-use icon glyphs removed, spaces before punctuation closed (PDF
    word splitting at font changes: "Nexus AI , CTO")."""
    text = unicodedata.normalize("NFC", text)
    # glyphs without a Unicode mapping come out as "(cid:N)": alone, almost always a bullet
    text = "•" if _CID.fullmatch(text.strip()) else _CID.sub("", text)
    text = "".join(ch for ch in text if not ("\ue000" <= ch <= "\uf8ff") and ch not in "\u200b\ufeff")
    text = re.sub(r"\s+([,.;:)])", r"\1", text)
    text = re.sub(r"\(\s+", "(", text)
    return " ".join(text.split())


def _bullet_split(segments: list[str]) -> tuple[bool, list[str]]:
    """(is a bullet, segments without the marker). A dash or asterisk is a bullet only
    when a space follows it ("- Built …", not "-5%")."""
    if not segments:
        return False, segments
    first = segments[0].lstrip()
    if first[:1] in _GLYPH_BULLETS or (first[:1] in "-–—*" and first[1:2] == " "):
        rest = first[1:].strip()
        return True, ([rest] if rest else []) + segments[1:]
    return False, segments


# -- PDF ------------------------------------------------------------------------------


@dataclass
class _Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    font: str


def _words(page: Any) -> list[_Word]:
    # size and font come from the characters, not extra_attrs: splitting words at font
    # changes tears words whose accented letters come from a fallback font ("Bo ğ aziçi")
    raw = page.extract_words(keep_blank_chars=False, x_tolerance=2, return_chars=True)
    out = []
    for w in raw:
        text = clean(w["text"])
        if text:
            chars = w.get("chars") or []
            size = Counter(round(float(c["size"]), 1) for c in chars).most_common(1)[0][0] if chars else 10.0
            font = Counter(c["fontname"] for c in chars).most_common(1)[0][0] if chars else ""
            out.append(_Word(text, w["x0"], w["x1"], w["top"], w["bottom"], size, font))
    return out


def _group_lines(words: list[_Word]) -> list[list[_Word]]:
    """Words into lines: a word joins the line whose vertical extent holds its middle
    (so a larger bullet glyph or a baseline shift of a point stays on its line)."""
    lines: list[list[_Word]] = []
    bounds: list[tuple[float, float]] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        middle = (w.top + w.bottom) / 2
        for i in range(len(lines) - 1, max(-1, len(lines) - 4), -1):
            top, bottom = bounds[i]
            if top - 0.5 <= middle <= bottom + 0.5:
                lines[i].append(w)
                bounds[i] = (min(top, w.top), max(bottom, w.bottom))
                break
        else:
            lines.append([w])
            bounds.append((w.top, w.bottom))
    for line in lines:
        line.sort(key=lambda w: w.x0)
    lines.sort(key=lambda ws: min(w.top for w in ws))
    return lines


def _make_line(words: list[_Word], page: int) -> Line:
    body = [w for w in words if w.text not in BULLETS] or words
    size = Counter(round(w.size, 1) for w in body for _ in w.text).most_common(1)[0][0]
    segments: list[list[_Word]] = [[words[0]]]
    for prev, w in itertools.pairwise(words):
        if w.x0 - prev.x1 > SEGMENT_GAP_EM * max(size, 6):
            segments.append([w])
        else:
            segments[-1].append(w)
    texts = [clean(" ".join(w.text for w in seg)) for seg in segments]
    bullet, texts = _bullet_split([t for t in texts if t])
    font = body[0].font.lower()
    text_x0 = body[0].x0
    if bullet and words[0].text in BULLETS and len(words) > 1:
        text_x0 = words[1].x0
    return Line(
        segments=texts,
        x0=words[0].x0,
        top=min(w.top for w in words),
        size=size,
        bold="bold" in font or "black" in font or "heavy" in font or "semibold" in font,
        italic="italic" in font or "oblique" in font,
        page=page,
        bullet=bullet,
        text_x0=text_x0,
    )


def _find_gutter(words: list[_Word]) -> tuple[float, float, float] | None:
    """(gutter x, body top, body bottom) of a two-column page, or None."""
    if len(words) < 20:
        return None
    left = min(w.x0 for w in words)
    right = max(w.x1 for w in words)
    top = min(w.top for w in words)
    bottom = max(w.bottom for w in words)
    width, height = right - left, bottom - top
    if width < 100 or height < 100:
        return None
    best: tuple[float, float, float, float] | None = None  # (score, x, body top, body bottom)
    x = left + 0.2 * width
    while x < right - 0.2 * width:
        crossing = sorted((w for w in words if w.x0 - 1 < x < w.x1 + 1), key=lambda w: w.top)
        # the tallest stretch of the page with nothing crossing x
        edges = [top - 1, *[e for w in crossing for e in (w.top, w.bottom)], bottom + 1]
        stretch = max(
            ((edges[i], edges[i + 1]) for i in range(0, len(edges), 2)), key=lambda ab: ab[1] - ab[0]
        )
        if stretch[1] - stretch[0] >= 0.5 * height:
            inside = [w for w in words if stretch[0] <= w.top and w.bottom <= stretch[1]]
            lchars = sum(len(w.text) for w in inside if w.x1 <= x)
            rchars = sum(len(w.text) for w in inside if w.x0 >= x)
            total = lchars + rchars
            if total and min(lchars, rchars) >= 0.15 * total:
                llines = len({round(w.top) for w in inside if w.x1 <= x})
                rlines = len({round(w.top) for w in inside if w.x0 >= x})
                lo = max((w.x1 for w in inside if w.x1 <= x), default=x)
                hi = min((w.x0 for w in inside if w.x0 >= x), default=x)
                minor = [w for w in inside if (w.x1 <= x) == (lchars < rchars)]
                if min(llines, rlines) >= 5 and hi - lo >= MIN_GUTTER and not _mostly_meta(minor):
                    score = stretch[1] - stretch[0] + (hi - lo)
                    if best is None or score > best[0] + 1:
                        best = (score, x, stretch[0], stretch[1])
        x += 2
    if best is None:
        return None
    return best[1], best[2], best[3]


_META = re.compile(
    r"^(?:[^\W\d_][\w.'’ -]*,\s*[^\W\d_][\w.'’ -]*|.*\b(?:19|20)\d{2}\b.*|\d+\s*(?:years?|months?).*)$",
    re.IGNORECASE,
)


def _mostly_meta(words: list[_Word]) -> bool:
    """Whether a would-be column is mostly dates and places (the right-aligned or
    left-hand date column of a one-column layout), not a column of content."""
    rows: dict[int, list[_Word]] = {}
    for w in words:
        rows.setdefault(round(w.top / 3), []).append(w)
    texts = [" ".join(w.text for w in sorted(ws, key=lambda w: w.x0)) for ws in rows.values()]
    if not texts:
        return True
    meta = sum(1 for t in texts if len(t) < 40 and _META.match(t))
    return meta >= 0.5 * len(texts)


def _gutter_run(words: list[_Word], x: float, top: float, bottom: float) -> float:
    """The middle of the empty x range around ``x`` in the body (for a tidy split)."""
    inside = [w for w in words if top <= w.top and w.bottom <= bottom]
    lo = max((w.x1 for w in inside if w.x1 <= x), default=x)
    hi = min((w.x0 for w in inside if w.x0 >= x), default=x)
    return (lo + hi) / 2


def pdf_lines(data: bytes) -> tuple[list[Line], int, list[tuple[str, float]]]:
    """(lines in reading order, page count, (link URI, top) of the first page's link
    annotations: icon-only contact links carry their URL only there)."""
    import pdfplumber

    lines: list[Line] = []
    links: list[tuple[str, float]] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = len(pdf.pages)
        for number, page in enumerate(pdf.pages[:MAX_PARSE_PAGES]):
            if number == 0:
                for link in page.hyperlinks or []:
                    uri = link.get("uri")
                    if uri:
                        links.append((str(uri), float(link.get("top", 0.0))))
            words = _words(page)
            if not words:
                continue
            gutter = _find_gutter(words)
            if gutter is None:
                groups = [words]
            else:
                x, top, bottom = gutter
                x = _gutter_run(words, x, top, bottom)
                above = [w for w in words if w.bottom <= top + 0.5]
                below = [w for w in words if w.top >= bottom - 0.5]
                body = [w for w in words if w not in above and w not in below]
                groups = [above, [w for w in body if w.x0 < x], [w for w in body if w.x0 >= x], below]
            for group in groups:
                for ws in _group_lines(group):
                    line = _make_line(ws, number)
                    line.extra["column"] = gutter is not None
                    if line.segments:
                        lines.append(line)
    return _drop_running_lines(lines, pages), pages, links


def _drop_running_lines(lines: list[Line], pages: int) -> list[Line]:
    """Page footers ("John Doe – 1/2", "Page 2 of 3") and headers repeated on every page."""
    out = []
    repeated = Counter(line.text for line in lines)
    for line in lines:
        if _PAGE_FOOTER.search(line.text) and len(line.text) < 60:
            continue
        if pages > 2 and repeated[line.text] >= pages and len(line.text) < 80:
            continue
        out.append(line)
    return out


# -- DOCX -----------------------------------------------------------------------------


def docx_lines(data: bytes) -> list[Line]:
    """Paragraphs and tables in document order (header paragraphs first: contact details
    often live there). Headings come from paragraph styles; bullets from list styles or
    numbering; a table row of one-paragraph cells becomes one line of segments, a row of
    fuller cells (a layout table) is read cell by cell."""
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = Document(io.BytesIO(data))
    styles = _Styles()
    lines: list[Line] = []
    seen_header: set[str] = set()
    for section in document.sections:
        try:
            header = section.header
            paragraphs = [] if header.is_linked_to_previous and lines else header.paragraphs
        except Exception:  # a damaged header must not stop the body
            paragraphs = []
        for paragraph in paragraphs:
            line = _paragraph_line(paragraph, styles)
            if line is not None and line.text not in seen_header:
                seen_header.add(line.text)
                lines.append(line)

    def walk_table(table: Any) -> None:
        for row in table.rows:
            cells = []
            for cell in row.cells:
                if cells and cell._tc is cells[-1]._tc:
                    continue  # a merged cell repeats
                cells.append(cell)
            full = [c for c in cells if sum(1 for p in c.paragraphs if p.text.strip()) > 1 or c.tables]
            if full:
                for cell in cells:
                    for block in _blocks(cell._tc, cell):
                        if isinstance(block, Table):
                            walk_table(block)
                        else:
                            line = _paragraph_line(block, styles)
                            if line is not None:
                                lines.append(line)
            else:
                texts = [clean(c.text) for c in cells]
                texts = [t for t in texts if t]
                if texts:
                    first = next((p for c in cells for p in c.paragraphs if p.text.strip()), None)
                    line = _paragraph_line(first, styles) if first is not None else None
                    bullet, segments = _bullet_split(texts)
                    lines.append(
                        Line(
                            segments=segments,
                            bold=line.bold if line else False,
                            size=line.size if line else 11.0,
                            bullet=bullet or bool(line and line.bullet),
                            style_heading=line.style_heading if line else False,
                            table=True,
                        )
                    )

    for block in _blocks(document.element.body, document):
        if isinstance(block, Paragraph):
            line = _paragraph_line(block, styles)
            if line is not None:
                lines.append(line)
        else:
            walk_table(block)
    return lines


def _blocks(element: Any, parent: Any) -> list[Any]:
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[Any] = []
    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            out.append(Paragraph(child, parent))
        elif child.tag == qn("w:tbl"):
            out.append(Table(child, parent))
        elif child.tag == qn("w:sdt"):  # content controls wrap paragraphs in some templates
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                out.extend(_blocks(content, parent))
    return out


class _Styles:
    """(name, bold, size in points) of paragraph styles. python-docx finds a style by
    scanning every style of the document on each access (~1 ms, several accesses per
    paragraph: 3,000 paragraphs took 16 s); a resume's paragraphs share a handful of
    styles, so each is looked up once per document."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, str | None], tuple[str, bool, float | None]] = {}

    def of(self, paragraph: Any) -> tuple[str, bool, float | None]:
        key = (id(paragraph.part), paragraph._p.style)
        if key not in self._known:
            style = paragraph.style
            if style is None:
                self._known[key] = ("", False, None)
            else:
                size = style.font.size
                self._known[key] = (style.name or "", bool(style.font.bold), size.pt if size else None)
        return self._known[key]


def _paragraph_line(paragraph: Any, styles: _Styles) -> Line | None:
    from docx.oxml.ns import qn

    raw = paragraph.text.replace("\t", "    ")
    # tabs and runs of spaces separate columns inside a paragraph ("Title<TAB>2019 – 2021")
    segments = [clean(part) for part in re.split(r"\s{3,}", raw)]
    segments = [s for s in segments if s]
    if not segments:
        return None
    style_name, style_bold, style_size = styles.of(paragraph)
    lowered = style_name.lower()
    numbered = paragraph._p.pPr is not None and paragraph._p.pPr.find(qn("w:numPr")) is not None
    bullet, segments = _bullet_split(segments)
    if not segments:
        return None
    runs = [r for r in paragraph.runs if r.text.strip()]
    bold = bool(runs) and all(r.bold or (r.bold is None and style_bold) for r in runs)
    sizes = [r.font.size.pt for r in runs if r.font.size is not None]
    size = max(sizes) if sizes else 11.0
    if not sizes and style_size is not None:
        size = style_size
    heading = lowered.startswith("heading") or lowered == "title"
    return Line(
        segments=segments,
        bold=bold,
        size=size,
        bullet=bullet or numbered or "list" in lowered,
        style_heading=heading,
        extra={"title": lowered == "title"},
    )
