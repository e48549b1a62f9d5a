"""Rendering a structured resume as PDF or Word.

Both formats carry the same content in the same order — name, contact line, summary,
experience, education, skills, certifications — and leave out any section (or line)
with nothing in it, so a half-filled builder draft exports cleanly. Pages are A4.

Design choices, and why:

* PDF uses reportlab's built-in Type 1 fonts (Times, Helvetica): nothing to ship or
  install. Those fonts encode text as Windows-1252, so characters outside it are
  degraded before rendering, never passed through (reportlab would write the wrong
  glyphs): accents are stripped ("Boğaziçi" → "Bogaziçi"), common punctuation is
  mapped ("≥" → ">="), symbols and emoji are dropped and any other letter (e.g. CJK)
  becomes "?". The en dash of "Mar 2019 - Present", curly quotes, "€" and Western
  European accents are all in Windows-1252 and render as written. DOCX keeps full Unicode.
* User text is escaped before it reaches reportlab's paragraph markup, so "<b>" or
  "R&D" in a bullet prints literally.
* DOCX uses Word's own "Title", "Heading 1/2" and "List Bullet" styles and no tables
  or text boxes, so applicant tracking systems read it in order.
* Output is deterministic for a given document and template (reportlab's invariant
  mode), which makes exports cacheable.

Both renderers raise ``ValueError`` for a template not in :data:`TEMPLATES`, and
:class:`ExportTooLargeError` (a ``ValueError`` subclass) for a document of more than
:data:`MAX_EXPORT_WORDS` words; anything else they raise is a bug. They are synchronous
and CPU-bound (tens of milliseconds for a real resume, a few seconds at the word limit):
call them in a worker thread from async code.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from xml.sax.saxutils import escape

from docx import Document as new_docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    LayoutError,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .document import EducationEntry, ExperienceEntry, ResumeDocument
from .review import clean_line, format_date_range

#: template name -> what it looks like (for the API's list of templates)
TEMPLATES: dict[str, str] = {
    "classic": "Traditional: Times serif, centred name and contact line, thin black section rules.",
    "modern": "Clean sans-serif (Helvetica) with a coloured name and coloured section rules.",
    "compact": "Dense: smaller Helvetica, tight spacing, skills in two columns; fits more on a page.",
}


@dataclass(frozen=True)
class _Look:
    """How a template looks, for both formats."""

    regular: str  # reportlab font names
    bold: str
    italic: str
    word_font: str  # DOCX font family
    size: float  # body size, points
    leading: float
    name_size: float
    heading_size: float
    centred: bool
    accent: tuple[int, int, int]  # name and section heading colour
    rule: tuple[int, int, int]
    rule_width: float
    margin_mm: float
    gap: float  # points between sections
    bullet: str
    uppercase_headings: bool
    skill_columns: int


_LOOKS: dict[str, _Look] = {
    "classic": _Look(
        regular="Times-Roman",
        bold="Times-Bold",
        italic="Times-Italic",
        word_font="Times New Roman",
        size=11,
        leading=14,
        name_size=22,
        heading_size=12,
        centred=True,
        accent=(0, 0, 0),
        rule=(0, 0, 0),
        rule_width=0.6,
        margin_mm=20,
        gap=10,
        bullet="·",
        uppercase_headings=True,
        skill_columns=1,
    ),
    "modern": _Look(
        regular="Helvetica",
        bold="Helvetica-Bold",
        italic="Helvetica-Oblique",
        word_font="Arial",
        size=10,
        leading=13.5,
        name_size=24,
        heading_size=12.5,
        centred=False,
        accent=(0x0B, 0x5C, 0x8A),
        rule=(0x2A, 0x9D, 0xC4),
        rule_width=1.6,
        margin_mm=18,
        gap=11,
        bullet="\u2013",
        uppercase_headings=False,
        skill_columns=1,
    ),
    "compact": _Look(
        regular="Helvetica",
        bold="Helvetica-Bold",
        italic="Helvetica-Oblique",
        word_font="Arial",
        size=8.5,
        leading=10.5,
        name_size=16,
        heading_size=9.5,
        centred=False,
        accent=(0x22, 0x22, 0x22),
        rule=(0x99, 0x99, 0x99),
        rule_width=0.5,
        margin_mm=12,
        gap=6,
        bullet="\u2013",
        uppercase_headings=True,
        skill_columns=2,
    ),
}

_SECTION_TITLES = {
    "summary": "Summary",
    "experience": "Experience",
    "education": "Education",
    "skills": "Skills",
    "certifications": "Certifications",
}


#: a document with more words than this is refused: ~30 pages, far beyond any resume, and
#: it bounds the CPU one export can take (layout costs ~15 microseconds a word)
MAX_EXPORT_WORDS = 15_000


class ExportTooLargeError(ValueError):
    """The document has more than :data:`MAX_EXPORT_WORDS` words."""


def _check(document: ResumeDocument, template: str) -> _Look:
    """The template's look, after checking the request can be rendered at all."""
    look = _look(template)
    contact = document.contact
    fields: list[str | None] = [
        contact.name,
        contact.email,
        contact.phone,
        contact.location,
        document.summary,
    ]
    fields += contact.links + document.skills + document.certifications
    for role in document.experience:
        fields += [role.title, role.employer, role.location, *role.highlights]
    for school in document.education:
        fields += [school.degree, school.area, school.institution, school.location, *school.highlights]
    # long unbroken runs are split every 80 characters when rendered: count them so
    words = sum(len(word) // 80 + 1 for field in fields if field for word in field.split())
    if words > MAX_EXPORT_WORDS:
        raise ExportTooLargeError(
            f"This resume has about {words:,} words; export takes at most {MAX_EXPORT_WORDS:,}."
        )
    return look


def _look(template: str) -> _Look:
    try:
        return _LOOKS[template]
    except KeyError:
        known = ", ".join(sorted(TEMPLATES))
        raise ValueError(f"Unknown resume template {template!r}; choose one of {known}.") from None


# --- text --------------------------------------------------------------------------------

# Characters XML 1.0 forbids (python-docx refuses them; reportlab would choke).
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _tidy(value: str | None) -> str:
    """One line of user text: illegal characters removed, whitespace collapsed."""
    if not value:
        return ""
    return " ".join(_XML_ILLEGAL.sub("", value).split())


def _cp1252_safe() -> frozenset[str]:
    chars = set()
    for byte in range(0x20, 0x100):
        try:
            chars.add(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            continue
    # encodable, but reportlab writes them so that text extraction (and so ATS) loses them
    return frozenset(chars - {"\x7f", "•", "\xad", "\xa0"})


_SAFE = _cp1252_safe()
_REPLACEMENTS = {
    "•": "·",
    "\xa0": " ",
    "\xad": "",
    "\u0131": "i",
    "İ": "I",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ħ": "h",
    "Ħ": "H",
    "ŋ": "ng",
    "Ŋ": "Ng",
    "ə": "e",
    "Ə": "E",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "\u2013",
    "\u2015": "—",
    "\u2212": "-",
    "\u2032": "'",
    "\u2033": '"',
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "→": "->",
    "←": "<-",
    "⇒": "=>",
    "✓": "",
    "✔": "",
    "★": "*",
    "☆": "*",
}


def latin_text(text: str) -> str:
    """``text`` reduced to what reportlab's standard fonts can show (Windows-1252),
    degrading the rest readably instead of printing wrong glyphs."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        if char in _SAFE:
            out.append(char)
            continue
        if char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if c in _SAFE)
        if base:
            out.append(base)
            continue
        category = unicodedata.category(char)
        if category.startswith("Z"):
            out.append(" ")
        elif category[0] in "LN":
            out.append("?")
        # symbols, emoji, marks and controls are dropped
    return "".join(out)


_LONG_WORD = re.compile(r"\S{80,}")


def _break_long_words(text: str) -> str:
    """A space every 80 characters inside longer "words" (pasted URLs, keyboard mashing):
    reportlab splits those letter by letter, which is slow enough to matter."""
    return _LONG_WORD.sub(lambda m: " ".join(m[0][i : i + 80] for i in range(0, len(m[0]), 80)), text)


def _markup(value: str | None) -> str:
    """User text made safe for reportlab paragraph markup."""
    return escape(_break_long_words(latin_text(_tidy(value))))


def _joined(parts: list[str | None], separator: str) -> str:
    return separator.join(p for p in (_tidy(x) for x in parts) if p)


def _highlights(lines: list[str]) -> list[str]:
    return [line for line in (clean_line(_tidy(raw)) for raw in lines) if line]


def _role_heading(role: ExperienceEntry) -> tuple[str, str]:
    """("Senior Engineer", "Acme Pty Ltd"), either possibly empty."""
    return _tidy(role.title), _tidy(role.employer)


def _school_heading(school: EducationEntry) -> str:
    degree, area = _tidy(school.degree), _tidy(school.area)
    if degree and area and area.casefold() not in degree.casefold():
        return f"{degree}, {area}"
    return degree or area


def _has_role(role: ExperienceEntry) -> bool:
    return bool(_tidy(role.title) or _tidy(role.employer) or _highlights(role.highlights))


def _has_school(school: EducationEntry) -> bool:
    return bool(_school_heading(school) or _tidy(school.institution) or _highlights(school.highlights))


def _contact_parts(document: ResumeDocument) -> list[str]:
    contact = document.contact
    parts = [contact.email, contact.phone, contact.location, *contact.links]
    return [p for p in (_tidy(x) for x in parts) if p]


def _skills(document: ResumeDocument) -> list[str]:
    seen: set[str] = set()
    out = []
    for raw in document.skills:
        skill = _tidy(raw)
        if skill and skill.casefold() not in seen:
            seen.add(skill.casefold())
            out.append(skill)
    return out


def _title(document: ResumeDocument) -> str:
    name = _tidy(document.contact.name)
    return f"{name} — Resume" if name else "Resume"


# --- PDF ---------------------------------------------------------------------------------


def _rgb(value: tuple[int, int, int]) -> colors.Color:
    return colors.Color(*(c / 255 for c in value))


def _link(part: str) -> str:
    """A contact item as markup, clickable when it is an email address or a web address."""
    text = _markup(part)
    if " " in part:
        return text
    if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", part):
        href = "mailto:" + part
    elif re.match(r"(?i)(https?://|www\.)|[\w-]+(\.[\w-]+)+/", part):
        href = part if re.match(r"(?i)https?://", part) else "https://" + part
    else:
        return text
    href = escape(latin_text(href), {'"': "&quot;"})
    return f'<a href="{href}">{text}</a>'


class _Styles:
    def __init__(self, look: _Look) -> None:
        accent = _rgb(look.accent)
        base = {"fontName": look.regular, "fontSize": look.size, "leading": look.leading}
        self.name = ParagraphStyle(
            "name",
            fontName=look.bold,
            fontSize=look.name_size,
            leading=look.name_size * 1.2,
            textColor=accent,
            alignment=TA_CENTER if look.centred else TA_LEFT,
            spaceAfter=2,
        )
        self.contact = ParagraphStyle(
            "contact",
            **base,
            alignment=TA_CENTER if look.centred else TA_LEFT,
            textColor=colors.Color(0.2, 0.2, 0.2),
        )
        self.heading = ParagraphStyle(
            "heading",
            fontName=look.bold,
            fontSize=look.heading_size,
            leading=look.heading_size * 1.25,
            textColor=accent,
            spaceBefore=look.gap,
            spaceAfter=1,
            keepWithNext=True,
        )
        self.body = ParagraphStyle("body", **base)
        self.entry = ParagraphStyle("entry", **{**base, "fontName": look.bold}, keepWithNext=True)
        self.dates = ParagraphStyle("dates", **base, alignment=TA_RIGHT)
        self.detail = ParagraphStyle("detail", **{**base, "fontName": look.italic}, keepWithNext=True)
        self.bullet = ParagraphStyle(
            "bullet",
            **base,
            leftIndent=look.size * 1.6,
            bulletIndent=look.size * 0.2,
            bulletFontName=look.regular,
            bulletFontSize=look.size * (1.5 if look.bullet == "·" else 1.0),
            spaceBefore=1,
        )
        self.bullet_text = look.bullet
        self.footer = ParagraphStyle("footer", fontName=look.regular, fontSize=7.5, leading=9)


def _bullets(lines: list[str], styles: _Styles) -> list[Flowable]:
    """One paragraph per line with a hanging bullet: plain paragraphs split across pages
    however long they are (a ListFlowable can refuse to)."""
    return [Paragraph(_markup(line), styles.bullet, bulletText=styles.bullet_text) for line in lines]


def _heading_row(left: str, right: str, look: _Look, styles: _Styles, width: float) -> Flowable:
    """An entry's bold first line with its dates right-aligned on the same line."""
    if not right:
        return Paragraph(left, styles.entry)
    date_width = min(width * 0.35, 4 + look.size * 0.55 * len(right))
    table = Table(
        [[Paragraph(left, styles.entry), Paragraph(right, styles.dates)]],
        colWidths=[width - date_width, date_width],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    table.keepWithNext = True
    return table


def _section(title: str, body: list[Flowable], look: _Look, styles: _Styles) -> list[Flowable]:
    if not body:
        return []
    text = title.upper() if look.uppercase_headings else title
    heading = [
        Paragraph(escape(text), styles.heading),
        HRFlowable(
            width="100%", thickness=look.rule_width, color=_rgb(look.rule), spaceBefore=0, spaceAfter=3
        ),
    ]
    # the heading never ends a page alone: keep it with the first entry's heading and bullet
    return [KeepTogether([*heading, *body[:3]]), *body[3:]]


def _skills_table(skills: list[str], look: _Look, styles: _Styles, width: float) -> Flowable:
    columns = look.skill_columns
    cells = [Paragraph(look.bullet + " " + _markup(s[:150]), styles.body) for s in skills]
    rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
    rows[-1] += [Paragraph("", styles.body)] * (columns - len(rows[-1]))
    table = Table(rows, colWidths=[width / columns] * columns, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
            ]
        )
    )
    return table


def _pdf_story(document: ResumeDocument, look: _Look, width: float, *, tables: bool) -> list[Flowable]:
    styles = _Styles(look)
    story: list[Flowable] = []
    name = _tidy(document.contact.name)
    if name:
        story.append(Paragraph(_markup(name), styles.name))
    contact = _contact_parts(document)
    if contact:
        story.append(Paragraph(" | ".join(_link(p) for p in contact), styles.contact))
    if story:
        story.append(Spacer(1, look.gap / 2))

    summary = _tidy(document.summary)
    story += _section("Summary", [Paragraph(_markup(summary), styles.body)] if summary else [], look, styles)

    def entry_block(first: str, second: str, dates: str, lines: list[str]) -> list[Flowable]:
        block: list[Flowable] = []
        head = first or second
        if head:
            date_markup = _markup(dates)
            if tables:
                block.append(_heading_row(head, date_markup, look, styles, width))
            else:
                block.append(Paragraph(head + (f" — {date_markup}" if date_markup else ""), styles.entry))
        if second:
            block.append(Paragraph(second, styles.detail))
        if not head and dates:
            block.append(Paragraph(_markup(dates), styles.detail))
        block += _bullets(lines, styles)
        block.append(Spacer(1, look.gap * 0.5))
        return block

    experience: list[Flowable] = []
    for role in document.experience:
        if not _has_role(role):
            continue
        title, employer = _role_heading(role)
        where = _markup(_joined([employer, role.location], ", "))
        first, second = (_markup(title), where) if title else (where, "")
        experience += entry_block(
            first, second, format_date_range(role.start, role.end, role.current), _highlights(role.highlights)
        )
    story += _section("Experience", experience, look, styles)

    education: list[Flowable] = []
    for school in document.education:
        if not _has_school(school):
            continue
        heading = _school_heading(school)
        place = _joined([school.institution, school.location], ", ")
        first, second = (_markup(heading), _markup(place)) if heading else (_markup(place), "")
        education += entry_block(
            first, second, format_date_range(school.start, school.end), _highlights(school.highlights)
        )
    story += _section("Education", education, look, styles)

    skills = _skills(document)
    if skills:
        if look.skill_columns > 1 and tables:
            body: list[Flowable] = [_skills_table(skills, look, styles, width)]
        else:
            body = [Paragraph(", ".join(_markup(s) for s in skills), styles.body)]
        story += _section("Skills", body, look, styles)

    certifications = _highlights(document.certifications)
    story += _section("Certifications", _bullets(certifications, styles), look, styles)
    return story


def render_pdf(document: ResumeDocument, template: str) -> bytes:
    """The resume as an A4 PDF in ``template``. Raises ``ValueError`` for an unknown template
    and :class:`ExportTooLargeError` (a ``ValueError``) for a document over the word limit."""
    look = _check(document, template)
    name = latin_text(_tidy(document.contact.name))
    margin = look.margin_mm * mm
    width = A4[0] - 2 * margin - 12  # the frame pads 6 points each side

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(look.regular, 7.5)
        canvas.setFillColor(colors.Color(0.45, 0.45, 0.45))
        label = f"{name} — page {doc.page}" if name else f"Page {doc.page}"
        canvas.drawRightString(A4[0] - margin, margin / 2, label)
        canvas.restoreState()

    def build(tables: bool) -> bytes:
        buffer = io.BytesIO()
        pdf = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=margin,
            rightMargin=margin,
            topMargin=margin,
            bottomMargin=margin,
            # the document information dictionary is Unicode: the name as written
            title=_title(document),
            author=_tidy(document.contact.name),
            subject="Resume",
            creator="Australia Jobs",
            invariant=True,
        )
        story = _pdf_story(document, look, width, tables=tables) or [Spacer(1, 1)]
        pdf.build(story, onFirstPage=lambda c, d: None, onLaterPages=footer)
        return buffer.getvalue()

    try:
        return build(tables=True)
    except LayoutError:
        # a cell too tall for a page (absurdly long skill or title): plain paragraphs always fit
        return build(tables=False)


# --- DOCX --------------------------------------------------------------------------------


def _set_font(style, family: str, size: float | None, color: tuple[int, int, int] | None, bold=None) -> None:
    font = style.font
    font.name = family
    # the default template's heading styles name theme fonts, which win over font.name
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    fonts.set(qn("w:eastAsia"), family)
    fonts.set(qn("w:cs"), family)
    if size is not None:
        font.size = Pt(size)
    if color is not None:
        font.color.rgb = RGBColor(*color)
    if bold is not None:
        font.bold = bold


def _docx_styles(doc, look: _Look) -> None:
    styles = doc.styles
    _set_font(styles["Normal"], look.word_font, look.size, None)
    styles["Normal"].paragraph_format.space_after = Pt(2)
    _set_font(styles["Title"], look.word_font, look.name_size, look.accent, bold=True)
    title = styles["Title"]
    title.paragraph_format.space_after = Pt(2)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER if look.centred else WD_ALIGN_PARAGRAPH.LEFT
    # drop the default template's coloured bottom border under the title
    paragraph_props = title.element.pPr
    if paragraph_props is not None:
        for border in paragraph_props.findall(qn("w:pBdr")):
            paragraph_props.remove(border)
    _set_font(styles["Heading 1"], look.word_font, look.heading_size, look.accent, bold=True)
    styles["Heading 1"].paragraph_format.space_before = Pt(look.gap)
    styles["Heading 1"].paragraph_format.space_after = Pt(2)
    _set_font(styles["Heading 2"], look.word_font, look.size + 0.5, (0, 0, 0), bold=True)
    styles["Heading 2"].paragraph_format.space_before = Pt(look.gap * 0.6)
    styles["Heading 2"].paragraph_format.space_after = Pt(0)
    _set_font(styles["List Bullet"], look.word_font, look.size, None)
    styles["List Bullet"].paragraph_format.space_after = Pt(1)


def render_docx(document: ResumeDocument, template: str) -> bytes:
    """The resume as a Word document in ``template``. Raises ``ValueError`` for an unknown
    template and :class:`ExportTooLargeError` (a ``ValueError``) for a document over the word limit."""
    look = _check(document, template)
    doc = new_docx()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    margin = Cm(look.margin_mm / 10)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = margin
    _docx_styles(doc, look)

    name = _tidy(document.contact.name)
    properties = doc.core_properties
    # core properties are limited to 255 characters each (python-docx raises beyond)
    properties.title = _title(document)[:255]
    properties.author = name[:255]
    properties.last_modified_by = name[:255]
    properties.subject = "Resume"
    properties.comments = ""
    keywords: list[str] = []
    for skill in _skills(document):
        if len(", ".join([*keywords, skill])) > 255:
            break
        keywords.append(skill)
    properties.keywords = ", ".join(keywords)

    if name:
        doc.add_heading(name, level=0)
    contact = _contact_parts(document)
    if contact:
        paragraph = doc.add_paragraph(" | ".join(contact))
        if look.centred:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER

    bullet_style, entry_style = doc.styles["List Bullet"].style_id, doc.styles["Heading 2"].style_id

    def styled(text: str, style_id: str) -> None:
        # python-docx resolves a style argument with a scan of every style, per paragraph
        # (~2 ms each); setting the id directly keeps a 1,500-bullet export fast
        doc.add_paragraph(text)._p.get_or_add_pPr().style = style_id

    def heading(title: str) -> None:
        doc.add_heading(title.upper() if look.uppercase_headings else title, level=1)

    def entry(first: str, second: str, dates: str, lines: list[str]) -> None:
        if first:
            styled(first, entry_style)
        detail = " | ".join(p for p in (second, dates) if p)
        if detail:
            run = doc.add_paragraph().add_run(detail)
            run.italic = True
        for line in lines:
            styled(line, bullet_style)

    summary = _tidy(document.summary)
    if summary:
        heading(_SECTION_TITLES["summary"])
        doc.add_paragraph(summary)

    roles = [r for r in document.experience if _has_role(r)]
    if roles:
        heading(_SECTION_TITLES["experience"])
        for role in roles:
            title, employer = _role_heading(role)
            if title:
                first, second = (f"{title} — {employer}" if employer else title), _tidy(role.location)
            else:
                first, second = _joined([employer, role.location], ", "), ""
            entry(
                first,
                second,
                format_date_range(role.start, role.end, role.current),
                _highlights(role.highlights),
            )

    schools = [s for s in document.education if _has_school(s)]
    if schools:
        heading(_SECTION_TITLES["education"])
        for school in schools:
            degree = _school_heading(school)
            place = _joined([school.institution, school.location], ", ")
            first, second = (degree, place) if degree else (place, "")
            entry(first, second, format_date_range(school.start, school.end), _highlights(school.highlights))

    skills = _skills(document)
    if skills:
        heading(_SECTION_TITLES["skills"])
        doc.add_paragraph(", ".join(skills))

    certifications = _highlights(document.certifications)
    if certifications:
        heading(_SECTION_TITLES["certifications"])
        for line in certifications:
            styled(line, bullet_style)

    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
