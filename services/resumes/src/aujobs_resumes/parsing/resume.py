"""From lines in reading order to a :class:`ParsedResume`: sections, contact details,
experience and education entries, skills and certifications.

Entries are split by layout, not by wording: within a section, a non-bullet line that
is not the wrapped continuation of a bullet (PDF: it starts left of the bullet text, or
is bold, or carries a date) starts an entry; the lines before its first bullet are its
header. Dates are read from anywhere in the header and from date-only segments of its
bullet lines (layouts that right-align dates put them beside the first bullet). The
header's remaining pieces (split at wide gaps, " – ", " | ", ", ", " at ") are
assigned by what they look like: a place ("Sydney NSW", "Princeton, NJ"), a job title
(ends in a title noun: "Engineer", "Intern", "CTO"), an institution ("University",
"TAFE"), a degree ("Bachelor of …", "PhD", "Cert IV"). This copes with both
"Title, Company" and "Company, Title" orders and with one- or two-line headers.
"""

# ruff: noqa: RUF001, RUF002 (dashes, bullets and typographic quotes are what resumes contain)

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..document import Contact, EducationEntry, ExperienceEntry, ParsedResume, ResumeDocument
from .dates import DateRange, find_range, is_date_only
from .layout import Line, clean
from .sections import canonical_heading, is_heading
from .skills import extract_skills, listed_skills

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+])(?:\+\s?\d[\d\s().-]{6,20}\d|\(0\d\)[\d\s-]{7,12}\d|0\d[\d\s-]{7,12}\d|1[38]00[\d\s]{6,9}\d)"
)
URL = re.compile(
    r"(?:https?://|www\.)[^\s|,;•·]+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|dev|me|co|ai|app|au|uk|nz)(?:\.au)?(?:/[^\s|,;•·]*)?",
    re.IGNORECASE,
)
_AU_STATE = (
    r"(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT|New South Wales|Victoria|Queensland|Western Australia"
    r"|South Australia|Tasmania)"
)
_LOCATION = re.compile(
    rf"^(?:[^\W\d_][\w.'’ -]*,\s*[^\W\d_][\w.'’ -]*"  # City, Region
    rf"|[^\W\d_][\w.'’ -]*\s{_AU_STATE}(?:,?\s*\d{{4}})?(?:,?\s*Australia)?"  # Parramatta NSW 2150
    rf"|(?:remote|hybrid|on-?site)(?:\s*\(.*\))?)$",
    re.IGNORECASE,
)
_AU_PLACE = re.compile(
    rf"^[^\W\d_][\w.'’ -]*\s{_AU_STATE}(?:,?\s*\d{{4}})?$|^(?:remote|hybrid)$", re.IGNORECASE
)
_SPLIT_DASH = re.compile(r"\s+[–—|-]\s+|\s+\|\s*")
_SPLIT_AT = re.compile(r"\s+(?:at|@)\s+|\s*,\s+|\s+\|\s+", re.IGNORECASE)

TITLE_NOUNS = frozenset(
    """
    intern engineer developer manager director cto ceo cfo coo cio cmo founder co-founder cofounder analyst
    consultant researcher scientist lead officer assistant designer architect administrator specialist
    coordinator nurse teacher technician head president vp chef cook accountant associate supervisor
    worker operator driver clerk representative advisor adviser agent partner owner programmer tester
    electrician plumber carpenter labourer laborer receptionist attendant cashier barista waiter waitress
    bartender tutor lecturer professor fellow student volunteer trainee apprentice graduate executive
    secretary editor writer producer physiotherapist pharmacist doctor therapist counsellor counselor
    mechanic storeperson picker packer crew member staff principal chief controller auditor bookkeeper
    strategist planner estimator surveyor inspector instructor coach trainer facilitator paralegal lawyer
    solicitor barrister clinician psychologist dentist carer aide educator librarian marketer recruiter
    buyer merchandiser ambassador contractor freelancer handyman cleaner housekeeper porter guard
    officer sonographer radiographer midwife paramedic dietitian optometrist veterinarian vet
    superintendent foreman forewoman leader expert steward host hostess courier postdoc
    """.split()
)
TITLE_WORDS = frozenset({"senior", "junior", "graduate", "lead", "principal", "staff", "assistant", "deputy"})
COMPANY_WORDS = frozenset(
    """
    pty ltd limited inc inc. llc llp plc corp corporation company co group bank university college school
    institute hospital health council department government agency labs lab ai technologies technology
    solutions services systems consulting partners holdings australia international research studio
    studios foundation trust club hotel restaurant cafe store stores retail media capital ventures network
    networks airlines airways energy mining logistics insurance telecom bakery clinic pharmacy gmbh ag
    """.split()
)
INSTITUTION = re.compile(
    r"\b(universit\w*|college|institute|institut|school|tafe|academy|polytechnic|conservatorium|"
    r"conservatory|campus|seminary|RMIT|UNSW|UTS|QUT|ANU|MIT|ETH|EPFL)\b",
    re.IGNORECASE,
)
DEGREE = re.compile(
    r"^(?:(?:Ph\.?\s?D\.?|D\.?Phil\.?|Doctor(?:ate)?(?: of [A-Z][\w ]*?)?"
    r"|Master(?:'s|s)?(?: of [A-Z][\w&, ]*?)?"
    r"|Bachelor(?:'s|s)?(?: of [A-Z][\w&, ]*?)?|Associate Degree(?: in| of)?|Graduate (?:Diploma|Certificate)"
    r"|Advanced Diploma|Diploma|Certificate (?:I{1,3}|IV|[1-4])|Cert\.? (?:I{1,3}|IV|[1-4])"
    r"|High School(?: Certificate| Diploma)?|Year 12|HSC|VCE|WACE|QCE|SACE|ATAR|IB Diploma"
    r"|MBA|EMBA|LLB|LLM|JD|MD|MBBS|BBA|BCom|MCom|BEng|MEng|BSc|MSc|BA|MA|BS|MS|BFA|MFA|BEd|MEd|BIT|MIT|BN|MN"
    r"|B\.(?:Sc|A|Eng|Com|S)\.?|M\.(?:Sc|A|Eng|S)\.?)(?:\s*\(Hons?\.?\)|\s+\(?Honou?rs\)?)?)(?=$|[\s,(–-])",
)
_NAME = re.compile(r"^[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){1,3}$")


@dataclass
class _Entry:
    headers: list[Line] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    bullet_lines: list[Line] = field(default_factory=list)
    dates: DateRange | None = None


def body_size(lines: list[Line]) -> float:
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def build(lines: list[Line], *, pages: int, links: list[tuple[str, float]] | None = None) -> ParsedResume:
    """The parse of ``lines`` (in reading order). ``links``: (URI, top) of the first
    page's link annotations; those above the first heading are contact links."""
    if sum(ch.isalnum() for line in lines for ch in line.text) < 20:
        raise ValueError(
            "No text could be read from this file: it looks like a scanned image or an empty "
            "document. Upload a PDF with selectable text (exported from Word or Google Docs) or a .docx file."
        )
    size = body_size(lines)
    name_index = _name_line(lines, size)
    # sections
    sections: dict[str, list[Line]] = {}
    order: list[str] = []
    current = "contact"
    sections[current] = []
    first_heading_top: float | None = None
    for i, line in enumerate(lines):
        heading, canonical = (False, None) if i == name_index else is_heading(line, size)
        if heading:
            if first_heading_top is None and line.page == 0:
                first_heading_top = line.top
            current = canonical or line.text.rstrip(":").strip()
            if current not in sections:
                sections[current] = []
                order.append(current)
            continue
        sections[current].append(line)

    text = "\n".join(line.display for line in lines)
    section_text = {name: "\n".join(line.display for line in body) for name, body in sections.items() if body}

    contact_links = [uri for uri, top in links or [] if first_heading_top is None or top < first_heading_top]
    contact = _contact(sections.get("contact", []), lines, name_index, contact_links)
    experience = [e for e in (_experience(entry) for entry in _entries(sections.get("experience", []))) if e]
    education = [e for e in (_education(entry) for entry in _entries(sections.get("education", []))) if e]
    skills = _skills(sections)
    certifications = [
        clean(line.text)[:200] for line in sections.get("certifications", []) if clean(line.text)
    ][:50]
    summary = section_text.get("summary")
    document = ResumeDocument(
        contact=contact,
        summary=summary[:5000] if summary else None,
        experience=experience[:50],
        education=education[:20],
        skills=skills[:200],
        certifications=certifications,
    )
    return ParsedResume(document=document, text=text, sections=section_text, pages=pages)


# -- contact --------------------------------------------------------------------------


_NOT_NAMES = frozenset({"curriculum vitae", "resume", "résumé", "cv", "cover letter", "personal details"})


def _looks_like_name(text: str) -> bool:
    t = text.strip()
    return (
        t.lower() not in _NOT_NAMES
        and bool(_NAME.match(t))
        and len(t) <= 60
        and canonical_heading(t) is None
        and not _LOCATION.match(t)
        and not any(w.lower() in TITLE_NOUNS for w in t.split()[-1:])
    )


def _name_line(lines: list[Line], size: float) -> int | None:
    """The index of the name: the most prominent line near the top (PDF: largest type;
    DOCX: a Title style or the first line that reads like a name)."""
    top = lines[:12]
    candidates = [
        (line.size, -i) for i, line in enumerate(top) if _looks_like_name(line.text) and line.page == 0
    ]
    if candidates:
        big = max(candidates)
        if big[0] >= size * 1.3:
            return -big[1]
    for i, line in enumerate(top):
        if line.extra.get("title") and _looks_like_name(line.text):
            return i
    for i, line in enumerate(top[:6]):
        if _looks_like_name(line.text) and not line.bullet:
            return i
    return None


def phones(text: str) -> list[str]:
    """Phone numbers written in Australian (+61 4xx xxx xxx, 04xx xxx xxx, (02) xxxx xxxx,
    1300/1800) or international (+CC …) form, as written."""
    out = []
    for m in _PHONE_CANDIDATE.finditer(text):
        raw = m.group(0).strip()
        digits = re.sub(r"\D", "", raw)
        if raw.startswith("+"):
            australian = digits.startswith("61")
            ok = (australian and len(digits) == 11) or (not australian and 8 <= len(digits) <= 15)
        elif raw.startswith(("1300", "1800")):
            ok = len(digits) == 10
        else:
            ok = len(digits) == 10 and digits[1] in "23478"
        if ok:
            out.append(" ".join(raw.split()))
    return out


def _link_key(url: str) -> str:
    return re.sub(r"^(https?://)?(www\.)?", "", url.lower()).rstrip("/")


def _contact(block: list[Line], lines: list[Line], name_index: int | None, links: list[str]) -> Contact:
    name = clean(lines[name_index].text) if name_index is not None else None
    block_text = "\n".join(line.text for line in block)
    full_text = "\n".join(line.text for line in lines)
    emails = EMAIL.findall(block_text) or EMAIL.findall(full_text)
    numbers = phones(block_text) or phones(full_text)
    found_links: list[str] = []
    seen: set[str] = set()
    for candidate in [*URL.findall(EMAIL.sub(" ", block_text)), *links]:
        candidate = candidate.rstrip(".,)")
        if candidate.lower().startswith(("mailto:", "tel:")) or "@" in candidate:
            continue
        key = _link_key(candidate)
        if key and key not in seen and not any(k.startswith(key) or key.startswith(k) for k in seen):
            seen.add(key)
            found_links.append(candidate)
    location = None
    for line in block:
        if name_index is not None and line is lines[name_index]:
            continue
        for piece in _pieces_of(line.segments, r"\s+[|•·]\s+|\s{2,}"):
            if _LOCATION.match(piece) and "@" not in piece and not URL.search(piece):
                location = piece
                break
        if location:
            break
    return Contact(
        name=name[:200] if name else None,
        email=emails[0][:320] if emails else None,
        phone=numbers[0][:40] if numbers else None,
        location=location[:200] if location else None,
        links=found_links[:10],
    )


def _pieces_of(segments: list[str], pattern: str) -> list[str]:
    out = []
    for segment in segments:
        out.extend(p.strip() for p in re.split(pattern, segment) if p.strip())
    return out


# -- entries --------------------------------------------------------------------------


def _has_header_date(line: Line) -> bool:
    """A date that dates an entry: a date-only segment, or a range or month-year inside
    text (a bare year inside text is too often something else: "Class of 2022")."""
    for segment in line.segments:
        if is_date_only(segment):
            return True
        found = find_range(segment)
        if found is None:
            continue
        bare = re.fullmatch(r"(?:19|20)\d{2}", segment[found.span[0] : found.span[1]])
        at_edge = found.span[0] == 0 or found.span[1] >= len(segment.rstrip(" )."))
        if not bare or (at_edge and not segment[: found.span[0]].rstrip().endswith(("of", "(", "in"))):
            return True
    return False


def _entries(lines: list[Line]) -> list[_Entry]:
    entries: list[_Entry] = []
    current: _Entry | None = None
    previous = ""  # "header" | "bullet" | "text"
    for line in lines:
        if line.bullet:
            if current is None:
                current = _Entry()
                entries.append(current)
            text_parts = []
            for segment in line.segments:
                if is_date_only(segment):
                    if current.dates is None:
                        current.dates = find_range(segment)
                else:
                    text_parts.append(segment)
            current.bullets.append(" ".join(text_parts))
            current.bullet_lines.append(line)
            previous = "bullet"
            continue
        if current is not None and previous in ("bullet", "text") and _continues(line, current):
            body = " ".join(s for s in line.segments if not is_date_only(s))
            for segment in line.segments:
                if is_date_only(segment) and current.dates is None:
                    current.dates = find_range(segment)
            if current.bullets:
                last = current.bullets[-1]
                joined = last[:-1] + body if last.endswith("-") and body[:1].islower() else f"{last} {body}"
                current.bullets[-1] = joined.strip()
            else:
                current.bullets.append(body)
            previous = "text"
            continue
        if current is not None and previous == "header" and _is_sentence(line):
            # a description under the header ("Led the billing platform team.")
            current.bullets.append(" ".join(line.segments))
            previous = "text"
            continue
        if (
            current is not None
            and previous == "header"
            and len(current.headers) < 3
            and not (_has_header_date(line) and any(_has_header_date(h) for h in current.headers))
            and not (line.table and any(h.table for h in current.headers))  # a table row per entry
        ):
            current.headers.append(line)
            continue
        current = _Entry(headers=[line])
        entries.append(current)
        previous = "header"
    return entries


def _is_sentence(line: Line) -> bool:
    """Prose rather than a header line: long, or a full sentence, and not bold."""
    if line.bold or len(line.segments) > 1 or _has_header_date(line):
        return False
    text = line.text.strip()
    return len(text.split()) >= 9 or (text.endswith(".") and len(text.split()) >= 4)


def _continues(line: Line, entry: _Entry) -> bool:
    """Whether a non-bullet line after bullets continues the last one (a wrapped line)
    rather than starting the next entry."""
    if _has_header_date(line) and not all(is_date_only(s) for s in line.segments[1:] or ["x"]):
        if any(find_range(s) and not is_date_only(s) for s in line.segments) or len(line.segments) > 1:
            return False
    if line.bold:
        return False
    last = entry.bullet_lines[-1] if entry.bullet_lines else None
    if last is None or line.style_heading is not None:
        # DOCX: a plain paragraph after bullets is a description, a bold or dated one a header
        return not line.bold and not _has_header_date(line) and not line.table
    # PDF: a wrapped line starts right of the bullet marker (under the bullet's text)
    return line.x0 > last.x0 + 1.5


def _header_parts(entry: _Entry) -> tuple[list[str], str | None, DateRange | None]:
    """(main pieces in order, location, dates) of an entry header."""
    pieces: list[tuple[str, bool]] = []
    dates = None
    for line in entry.headers:
        for index, segment in enumerate(line.segments):
            if is_date_only(segment):
                dates = dates or find_range(segment)
                continue
            found = find_range(segment)
            if found is not None and (found.span[0] == 0 or found.span[1] >= len(segment.rstrip(" )"))):
                if (
                    not re.fullmatch(r"(?:19|20)\d{2}", segment[found.span[0] : found.span[1]].strip())
                    or dates is None
                ):
                    dates = dates or found
                    segment = (segment[: found.span[0]] + segment[found.span[1] :]).strip(" |,–—-()")
            if segment:
                pieces.append((segment, index > 0))
    dates = dates or entry.dates
    location = None
    main: list[str] = []
    places = [
        i
        for i, (piece, later) in enumerate(pieces)
        if later and _LOCATION.match(piece) and not INSTITUTION.search(piece) and _title_score(piece) <= 0
    ]
    if places:
        location = pieces[places[-1]][0]
        pieces = [p for i, p in enumerate(pieces) if i != places[-1]]
    for piece, _later in pieces:
        parts = [p.strip() for p in _SPLIT_DASH.split(piece) if p.strip()]
        if len(parts) > 1 and location is None and _LOCATION.match(parts[-1]):
            location = parts.pop()
        if location is None and ", " in parts[-1]:
            # "Coles Supermarkets, Richmond VIC": an Australian place after a comma
            head, _, tail = parts[-1].rpartition(", ")
            if _AU_PLACE.match(tail) and head:
                location, parts[-1] = tail, head
        main.extend(parts)
    return main, location, dates


def _title_score(text: str) -> float:
    words = [w.strip(",.()&").lower() for w in text.split()]
    words = [w for w in words if w]
    if not words:
        return -10
    score = 0.0
    last = words[-1]
    if last in TITLE_NOUNS:
        score += 2
    if last in COMPANY_WORDS:
        score -= 2
    for w in words[:-1]:
        parts = re.split(r"[-/]", w)
        if w in TITLE_NOUNS or any(p in TITLE_NOUNS for p in parts) or w in TITLE_WORDS:
            score += 1
        elif w in COMPANY_WORDS:
            score -= 1
    return score


def _experience(entry: _Entry) -> ExperienceEntry | None:
    main, location, dates = _header_parts(entry)
    if not main and not entry.bullets:
        return None
    title = employer = None
    candidates = main[:2]
    if len(candidates) == 1:
        parts = [p for p in _SPLIT_AT.split(candidates[0], maxsplit=1) if p.strip()]
        if len(parts) == 2:
            candidates = parts
    if len(candidates) >= 2:
        a, b = candidates[0].strip(), candidates[1].strip()
        if _title_score(b) > _title_score(a):
            title, employer = b, a
        else:
            title, employer = a, b
    elif candidates:
        only = candidates[0].strip()
        if _title_score(only) > 0:
            title = only
        else:
            employer = only
    highlights = [clean(b)[:500] for b in entry.bullets if clean(b)]
    if len(main) > 2:
        highlights = [*main[2:], *highlights]
    return ExperienceEntry(
        title=title[:200] if title else None,
        employer=employer[:200] if employer else None,
        location=location[:200] if location else None,
        start=dates.start if dates else None,
        end=None if dates is None or dates.current else dates.end,
        current=bool(dates and dates.current),
        highlights=highlights[:30],
    )


def split_degree(text: str) -> tuple[str | None, str | None, str]:
    """(degree, area, what is left) of text that starts with a degree: "PhD in Computer
    Science" → ("PhD", "Computer Science", ""); "Bachelor of Commerce (Accounting)" →
    ("Bachelor of Commerce", "Accounting", ""); "BS Boğaziçi University" → ("BS", None,
    "Boğaziçi University")."""
    text = text.strip()
    m = DEGREE.match(text)
    if not m:
        return None, None, text
    degree = m.group(0).strip()
    rest = text[m.end() :].strip()
    area = None
    in_area = re.match(r"^(?:in|of)\s+(.+)$", rest, re.IGNORECASE)
    paren = re.match(r"^\(([^)]+)\)\s*(.*)$", rest)
    if " in " in degree:  # "Master of Science in Data" matched lazily up to "in"
        degree, area = degree.split(" in ", 1)
    if in_area:
        area, rest = in_area.group(1).strip(), ""
    elif paren:
        area, rest = paren.group(1).strip(), paren.group(2).strip()
    elif rest and re.match(r"^[-–—:,]\s*", rest):
        rest = re.sub(r"^[-–—:,]\s*", "", rest)
        if not INSTITUTION.search(rest):
            area, rest = rest, ""
    return degree, area, rest


def _education(entry: _Entry) -> EducationEntry | None:
    main, location, dates = _header_parts(entry)
    if not main:
        return None
    parts: list[str] = []
    for piece in main:
        parts.extend(p.strip() for p in re.split(r",\s+|\s+[–—|]\s+", piece) if p.strip())
    institution = degree = area = None
    leftovers: list[str] = []
    for part in parts:
        d, a, rest = split_degree(part)
        if d and degree is None:
            degree, area = d, a or area
            if rest:
                if INSTITUTION.search(rest) and institution is None:
                    institution = rest
                else:
                    leftovers.append(rest)
            continue
        if institution is None and INSTITUTION.search(part):
            institution = part
            continue
        leftovers.append(part)
    for part in leftovers:
        if institution is None and not (degree and area is None):
            institution = part
        elif area is None and degree is not None:
            area = part
        elif institution is None:
            institution = part
        elif location is None and _LOCATION.match(part):
            location = part
    highlights = [clean(b)[:500] for b in entry.bullets if clean(b)]
    start, end = (dates.start, None if dates.current else dates.end) if dates else (None, None)
    if dates and end is None and not dates.current:
        start, end = None, dates.start  # a single date on a qualification is when it was completed
    return EducationEntry(
        institution=institution[:200] if institution else None,
        degree=degree[:200] if degree else None,
        area=area[:200] if area else None,
        location=location[:200] if location else None,
        start=start,
        end=end,
        highlights=highlights[:20],
    )


# -- skills ---------------------------------------------------------------------------


def _is_entry_header(line: Line) -> bool:
    return line.bold or _has_header_date(line) or len(line.segments) > 1 or bool(line.table)


def _skills(sections: dict[str, list[Line]]) -> list[str]:
    """Skills as listed in a skills section first (canonical names where known, as
    written otherwise), then catalogue skills mentioned in the summary, experience and
    certifications (prose rules: see :mod:`.skills`)."""
    names: list[str] = []
    listing = "\n".join(line.text for line in sections.get("skills", []))
    if listing:
        names.extend(listed_skills(listing))
    # prose: the summary, experience bullets (not entry headers: employers such as
    # "Canva" or "Google" are catalogue names too) and certifications
    prose_lines = [line.text for line in sections.get("summary", [])]
    prose_lines += [
        line.text for line in sections.get("experience", []) if line.bullet or not _is_entry_header(line)
    ]
    prose_lines += [line.text for line in sections.get("certifications", [])]
    prose = "\n".join(prose_lines)
    if prose:
        names.extend(extract_skills(prose))
    seen: set[str] = set()
    out = []
    for name in names:
        key = name.lower()
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out
