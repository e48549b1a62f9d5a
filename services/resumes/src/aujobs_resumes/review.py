"""Scoring a resume and suggesting improvements.

A review is a 0-100 score plus concrete, coded suggestions a person can act on. It is
deterministic (no clock, no randomness, no model): the same document always gets the
same review, so a score can be stored with a resume version and compared over time.

Score
=====

The score is the weighted mean of named sub-scores, each 0-100, rounded to an integer:

=============  ======  ===========  ==========================================================
sub-score      weight  with a job   what it measures
=============  ======  ===========  ==========================================================
completeness   0.20    0.15         sections present: experience 35, education 20, skills 20,
                                    summary 15, a way to contact (email or phone) 10
contact        0.10    0.075        name 35, email 35, phone 20, location 10
impact         0.20    0.15         100 x square root of the share of bullets with a number
                                    (digits, %, $, "doubled", "twelve" …): half scores 71
language       0.15    0.1125       per bullet: weak phrase ("responsible for", "helped",
                                    "worked on", "duties included" …) 0, starts with a strong
                                    action verb 100, anything else 70; first person minus 10,
                                    over 40 words minus 20
length         0.15    0.1125       0.6 x words (100 between 400 and 1,000; < 250 too short,
                                    > 1,200 too long) + 0.4 x bullets per role (3-6 best)
skills         0.10    0.075        0.7 x count (5-30 best) + 0.3 x share recognised in the
                                    skills catalogue, minus 5 per duplicate
dates          0.10    0.075        100 minus 30 per role without dates, 25 per end before
                                    start, 15 per gap over 6 months, 10 per unreadable date
job-fit        —       0.25         only with a job: 0.8 x the job match score + 0.2 x share
                                    of the job title's words found in the resume's titles
=============  ======  ===========  ==========================================================

With a job every other weight is multiplied by 0.75, so the weights always sum to 1.

Suggestion codes (stable; the UI keys help text on them)
========================================================

``missing-section``, ``missing-contact-field``, ``invalid-email``,
``unquantified-achievement``, ``weak-verb``, ``first-person``, ``long-bullet``,
``too-short``, ``too-long``, ``few-bullets``, ``many-bullets``, ``no-skills``,
``few-skills``, ``too-many-skills``, ``duplicate-skill``, ``missing-dates``,
``date-order``, ``date-gap``, ``invalid-date``, ``missing-job-skill``.

Per-bullet suggestions (``unquantified-achievement``, ``weak-verb``, ``first-person``,
``long-bullet``) are capped at :data:`MAX_PER_CODE` each so a long resume is not buried;
the sub-score still counts every bullet.

Job match
=========

The job's skills and the skills its description mentions are normalised with
:func:`aujobs_common.skills.normalise_skill`, so "JS" in a resume matches "JavaScript" in a
posting. A job skill counts as shown when the resume lists it (compared by canonical
name) or when any of its spellings (canonical name or a synonym) appears as a whole word
in the resume's text. ``score`` is the weighted share shown: a listed job skill counts 1,
a skill only the description mentions counts 0.5; ``None`` when the job names no skills.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, Field

from aujobs_common.skills import normalise_skill, normalise_skills, skill_key, surface_forms

from .document import EducationEntry, ExperienceEntry, ResumeDocument

#: at most this many suggestions of one per-bullet code
MAX_PER_CODE = 5
# Bounds on what is analysed, so a pathological document (the model allows megabytes of
# bullets) costs milliseconds, not seconds. Far beyond any real resume.
_MAX_BULLETS = 300
_MAX_BULLET_CHARS = 1000
_MAX_TEXT_CHARS = 100_000

WEIGHTS: dict[str, float] = {
    "completeness": 0.20,
    "contact": 0.10,
    "impact": 0.20,
    "language": 0.15,
    "length": 0.15,
    "skills": 0.10,
    "dates": 0.10,
}
#: weight of the job-fit sub-score when reviewing against a job; the rest scale by 1 - this
JOB_FIT_WEIGHT = 0.25


class JobContext(BaseModel):
    """The job a resume is reviewed against (from the resumes service's job view)."""

    title: str | None = None
    skills: list[str] = Field(default_factory=list)
    description_text: str | None = None


class SubScore(BaseModel):
    name: str  # e.g. completeness, impact, language, length, contact, skills
    score: int  # 0-100
    weight: float


class Suggestion(BaseModel):
    code: str  # stable machine code, e.g. missing-section, unquantified-achievement, weak-verb
    message: str  # what to do, for a person
    section: str | None = None
    excerpt: str | None = None  # the line it is about, when there is one
    #: index of the experience/education entry it is about, when there is one
    entry: int | None = None


class JobMatch(BaseModel):
    matched_skills: list[str]
    missing_skills: list[str]
    score: int | None  # share of the job's skills the resume shows, 0-100
    #: the subset of ``missing_skills`` found only in the description, not the job's skill list
    missing_mentioned_skills: list[str] = Field(default_factory=list)


class ResumeReview(BaseModel):
    score: int  # 0-100, the weighted sub-scores
    sub_scores: list[SubScore]
    suggestions: list[Suggestion]
    job_match: JobMatch | None = None


# --- dates -------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
EN_DASH = "\u2013"
_PRESENT = {"present", "current", "now", "today", "ongoing", "currently"}


@dataclass(frozen=True)
class PartialDate:
    """A resume date: a year, and a month when one was given."""

    year: int
    month: int | None = None

    def first_month(self) -> int:
        """Months since year 0 of the earliest month it can mean (for starts)."""
        return self.year * 12 + (self.month or 1) - 1

    def last_month(self) -> int:
        """Months since year 0 of the latest month it can mean (for ends)."""
        return self.year * 12 + (self.month or 12) - 1

    def label(self) -> str:
        """ "Mar 2019", or "2019" when there is no month."""
        return f"{MONTH_ABBREVIATIONS[self.month - 1]} {self.year}" if self.month else str(self.year)


def is_present(value: str | None) -> bool:
    """Whether an end date says the role is ongoing ("Present", "current")."""
    return value is not None and value.strip().casefold() in _PRESENT


def parse_date(value: str | None) -> PartialDate | None:
    """``YYYY-MM`` or ``YYYY`` (the document's format), tolerating what parsers and people
    also write: ``YYYY-MM-DD``, ``YYYY/MM``, ``MM/YYYY``, ``Mar 2019``, ``March 2019``.
    ``None`` for blank or unreadable text."""
    if value is None:
        return None
    text = value.strip().casefold().replace(".", "")
    if not text:
        return None
    if m := re.fullmatch(r"(\d{4})(?:[-/](\d{1,2})(?:[-/]\d{1,2})?)?", text):
        year, month = int(m[1]), int(m[2]) if m[2] else None
    elif m := re.fullmatch(r"(\d{1,2})[-/](\d{4})", text):
        year, month = int(m[2]), int(m[1])
    elif m := re.fullmatch(r"([a-z]+),?\s*(\d{4})", text):
        if m[1] not in _MONTHS:
            return None
        year, month = int(m[2]), _MONTHS[m[1]]
    else:
        return None
    if not 1900 <= year <= 2200 or (month is not None and not 1 <= month <= 12):
        return None
    return PartialDate(year, month)


def format_date_range(start: str | None, end: str | None, current: bool = False) -> str:
    """The dates as a resume shows them: "Mar 2019 - Present", "2017 - 2019" (with an
    en dash), "Mar 2019"; unreadable dates as written; "" when there are none."""

    def show(value: str | None) -> str:
        parsed = parse_date(value)
        if parsed is not None:
            return parsed.label()
        if is_present(value):
            return "Present"
        return " ".join(value.split()) if value else ""

    first = show(start)
    last = "Present" if current or is_present(end) else show(end)
    if first and last:
        return f"{first} {EN_DASH} {last}" if first != last else first
    return first or last


# --- text analysis -------------------------------------------------------------------

STRONG_VERBS = frozenset(
    """
    accelerated accomplished achieved acquired adapted addressed administered advanced advised
    advocated analysed analyzed architected arranged assessed audited authored automated awarded
    balanced boosted briefed budgeted built calculated captured catalogued championed clarified
    closed coached collaborated combined commissioned completed composed conceived conceptualised
    conducted consolidated constructed consulted contracted contributed controlled converted
    coordinated counselled created cultivated customised cut debugged decreased defined delivered
    demonstrated deployed designed detected determined developed devised diagnosed directed
    discovered doubled drafted drove earned edited educated eliminated enabled encouraged
    engineered enhanced established evaluated exceeded executed expanded expedited facilitated
    forecasted formulated fostered founded generated grew guided halved headed hired identified
    implemented improved increased influenced initiated innovated inspected installed instituted
    instructed integrated interviewed introduced invented investigated launched lectured led
    leveraged lifted lowered maintained managed mapped marketed maximised maximized measured
    mentored merged migrated minimised minimized modelled modernised modernized monitored
    motivated negotiated onboarded operated optimised optimized orchestrated organised organized
    oversaw partnered performed piloted pioneered planned prepared presented prioritised
    processed produced programmed promoted proposed prototyped provided published qualified
    raised ran rebuilt recommended reconciled recruited redesigned reduced refactored refined
    regulated rehabilitated remodelled reorganised repaired replaced reported represented
    researched resolved restored restructured retained revamped reviewed revised saved scaled
    scheduled secured served shaped shipped simplified sold solved spearheaded standardised
    standardized steered streamlined strengthened structured succeeded supervised surpassed
    sustained taught tested tracked trained transformed translated tripled troubleshot
    uncovered unified upgraded upheld utilised validated verified won wrote
    """.split()
)

WEAK_PHRASES: tuple[str, ...] = (
    "responsible for",
    "duties included",
    "duties include",
    "worked on",
    "helped",
    "helping",
    "tasked with",
    "involved in",
    "participated in",
    "assisted with",
    "assisted in",
    "in charge of",
    "was part of",
)
_WEAK = re.compile(
    r"\b(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in WEAK_PHRASES) + r")\b", re.I
)
_QUANTIFIED = re.compile(
    r"\d|%|\$|\bper\s?cent\b|\b(?:doubled|tripled|halved|quadrupled|twice|dozens?|hundreds?|thousands?|"
    r"millions?|billions?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
    r"thirty|fifty)\b",
    re.I,
)
# "I" but not "I.T." or "Phase I." ; "me", "my", "myself" in any case
_FIRST_PERSON = re.compile(r"\b(?:I(?![.\w])|(?i:me|my|myself)\b)")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BULLET_PREFIX = re.compile(r"^\s*(?:[-*•·‣▪◦●\u2013—>]+|\(?\d{1,2}[.)])\s*")
_WORD = re.compile(r"[^\W_]+(?:['\u2019.-][^\W_]+)*")


def clean_line(text: str) -> str:
    """The line without a leading bullet mark and with whitespace collapsed."""
    return " ".join(_BULLET_PREFIX.sub("", text, count=1).split())


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _first_word(text: str) -> str:
    words = _words(text)
    return words[0].casefold() if words else ""


def _excerpt(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class _Bullet:
    text: str
    section: str | None
    entry: int | None


def _bullets(document: ResumeDocument, text: str | None) -> list[_Bullet]:
    """Every achievement line: experience highlights; or, when the document has none,
    the bullet-marked lines of the text (a parse that did not find the roles)."""
    out = [
        _Bullet(clean_line(line[:_MAX_BULLET_CHARS]), "experience", index)
        for index, role in enumerate(document.experience)
        for line in role.highlights
        if clean_line(line[:_MAX_BULLET_CHARS])
    ]
    if not out and text:
        out = [
            _Bullet(clean_line(line[:_MAX_BULLET_CHARS]), None, None)
            for line in text[:_MAX_TEXT_CHARS].splitlines()
            if _BULLET_PREFIX.match(line) and len(_words(clean_line(line[:_MAX_BULLET_CHARS]))) >= 3
        ]
    return out[:_MAX_BULLETS]


def _document_text(document: ResumeDocument) -> str:
    """All the text of the document, one field per line (for word counts and skill search)."""
    parts: list[str | None] = [
        document.contact.name,
        document.contact.location,
        document.summary,
    ]
    for role in document.experience:
        parts += [role.title, role.employer, role.location, *role.highlights]
    for school in document.education:
        parts += [school.degree, school.area, school.institution, school.location, *school.highlights]
    parts += document.skills
    parts += document.certifications
    return "\n".join(part for part in parts if part and part.strip())[:_MAX_TEXT_CHARS]


def _role_label(document: ResumeDocument, index: int) -> str:
    role = document.experience[index]
    label = " at ".join(part for part in (role.title, role.employer) if part and part.strip())
    return label or f"role {index + 1}"


def _clamp(value: float) -> int:
    return max(0, min(100, round(value)))


# --- sub-scores ------------------------------------------------------------------------


def _has_text(value: str | None) -> bool:
    return bool(value and value.strip())


def _role_has_content(role: ExperienceEntry) -> bool:
    return any(_has_text(v) for v in (role.title, role.employer)) or any(
        _has_text(h) for h in role.highlights
    )


def _school_has_content(school: EducationEntry) -> bool:
    return any(_has_text(v) for v in (school.institution, school.degree, school.area))


def _completeness(document: ResumeDocument, out: list[Suggestion]) -> int:
    contact = document.contact
    checks = (
        (
            "experience",
            35,
            any(_role_has_content(r) for r in document.experience),
            "Add your work experience: "
            "each role with title, employer, dates and two to six achievement bullets.",
        ),
        (
            "education",
            20,
            any(_school_has_content(s) for s in document.education),
            "Add your education: the qualification, institution and year (a course or certificate counts).",
        ),
        ("skills", 20, any(_has_text(s) for s in document.skills), None),  # no-skills says it
        (
            "summary",
            15,
            _has_text(document.summary),
            "Add a two- or three-sentence summary at the top: "
            "who you are, what you are best at and the role you want.",
        ),
    )
    score = 0
    for section, points, present, message in checks:
        if present:
            score += points
        elif message:
            out.append(Suggestion(code="missing-section", section=section, message=message))
    if _has_text(contact.email) or _has_text(contact.phone):
        score += 10
    return score


def _contact(document: ResumeDocument, out: list[Suggestion]) -> int:
    contact = document.contact
    fields = (
        ("name", 35, "Put your full name at the top."),
        ("email", 35, "Add an email address employers can reach you at."),
        ("phone", 20, "Add a phone number (mobile), so employers can call you."),
        ("location", 10, 'Add your suburb and state (e.g. "Parramatta NSW"): many employers hire locally.'),
    )
    score = 0
    for field, points, message in fields:
        value = getattr(contact, field)
        if _has_text(value):
            score += points
        else:
            out.append(
                Suggestion(code="missing-contact-field", section="contact", excerpt=field, message=message)
            )
    if _has_text(contact.email) and not _EMAIL.match(contact.email.strip()):
        score -= 25
        out.append(
            Suggestion(
                code="invalid-email",
                section="contact",
                excerpt=contact.email.strip(),
                message="This email address does not look complete; check it for typos.",
            )
        )
    return _clamp(score)


def _capped(out: list[Suggestion], items: Iterable[Suggestion]) -> None:
    for count, item in enumerate(items):
        if count >= MAX_PER_CODE:
            break
        out.append(item)


def _impact(bullets: list[_Bullet], out: list[Suggestion]) -> int:
    if not bullets:
        return 0
    plain = [b for b in bullets if not _QUANTIFIED.search(b.text)]
    share = 1 - len(plain) / len(bullets)
    _capped(
        out,
        (
            Suggestion(
                code="unquantified-achievement",
                section=b.section,
                entry=b.entry,
                excerpt=_excerpt(b.text),
                message="Show the result with a number: how much, how many, how often, how fast "
                '(e.g. "cut processing time by 30%", "served 120 customers a day").',
            )
            for b in plain
        ),
    )
    # the square root is lenient: not every bullet needs a number, but each one without costs a little
    return _clamp(100 * share**0.5)


def _language(bullets: list[_Bullet], out: list[Suggestion]) -> int:
    if not bullets:
        return 0
    total = 0.0
    weak: list[Suggestion] = []
    personal: list[Suggestion] = []
    long: list[Suggestion] = []
    for b in bullets:
        match = _WEAK.search(b.text)
        if match:
            points = 0.0
            weak.append(
                Suggestion(
                    code="weak-verb",
                    section=b.section,
                    entry=b.entry,
                    excerpt=_excerpt(b.text),
                    message=f'"{match[0]}" says what you were meant to do, not what you did. Start '
                    "with a strong action verb (led, built, increased, delivered) and the result.",
                )
            )
        elif _first_word(b.text) in STRONG_VERBS:
            points = 100.0
        else:
            points = 70.0
        if _FIRST_PERSON.search(b.text):
            points -= 10
            personal.append(
                Suggestion(
                    code="first-person",
                    section=b.section,
                    entry=b.entry,
                    excerpt=_excerpt(b.text),
                    message='Leave out "I" and "my": start the bullet with the verb.',
                )
            )
        if len(_words(b.text)) > 40:
            points -= 20
            long.append(
                Suggestion(
                    code="long-bullet",
                    section=b.section,
                    entry=b.entry,
                    excerpt=_excerpt(b.text),
                    message="Keep each bullet to one or two lines (under 40 words): split it or trim it.",
                )
            )
        total += max(points, 0.0)
    for group in (weak, personal, long):
        _capped(out, group)
    return _clamp(total / len(bullets))


def _word_score(words: int) -> float:
    if words < 250:
        return 60 * words / 250
    if words < 400:
        return 60 + 40 * (words - 250) / 150
    if words <= 1000:
        return 100
    if words <= 1200:
        return 100 - 15 * (words - 1000) / 200
    return max(30.0, 85 - (words - 1200) / 20)


def _bullet_count_score(count: int) -> float:
    return {0: 0.0, 1: 50.0, 2: 80.0}.get(count, 100.0 if count <= 6 else 90.0 if count <= 8 else 70.0)


def _length(document: ResumeDocument, text: str | None, out: list[Suggestion]) -> int:
    words = len(_words(text[:_MAX_TEXT_CHARS] if text and text.strip() else _document_text(document)))
    if words < 250:
        out.append(
            Suggestion(
                code="too-short",
                section=None,
                excerpt=f"{words} words",
                message="Your resume is short (under 250 words). Add achievements for each role, "
                "your skills and a summary: aim for 400 to 1,000 words.",
            )
        )
    elif words > 1200:
        out.append(
            Suggestion(
                code="too-long",
                section=None,
                excerpt=f"{words} words",
                message="Your resume is long (over 1,200 words, more than two pages). Keep the last "
                "ten years in detail and trim older roles to a line each.",
            )
        )
    roles = [(i, r) for i, r in enumerate(document.experience) if _role_has_content(r)]
    role_scores = []
    for index, role in roles:
        count = sum(1 for h in role.highlights if clean_line(h))
        role_scores.append(_bullet_count_score(count))
        if count < 2:
            out.append(
                Suggestion(
                    code="few-bullets",
                    section="experience",
                    entry=index,
                    excerpt=_role_label(document, index),
                    message="Give this role at least two bullets: what you achieved, with numbers.",
                )
            )
        elif count > 8:
            out.append(
                Suggestion(
                    code="many-bullets",
                    section="experience",
                    entry=index,
                    excerpt=_role_label(document, index),
                    message="This role has more than eight bullets: keep the six that matter most for "
                    "the jobs you want.",
                )
            )
    bullets = sum(role_scores) / len(role_scores) if role_scores else 0.0
    return _clamp(0.6 * _word_score(words) + 0.4 * bullets)


def _skills(document: ResumeDocument, out: list[Suggestion]) -> int:
    listed = [s for s in document.skills if skill_key(s)]
    if not listed:
        out.append(
            Suggestion(
                code="no-skills",
                section="skills",
                message="Add a skills section: the tools, software, licences and strengths employers "
                "search for (e.g. Excel, Xero, forklift licence, customer service).",
            )
        )
        return 0
    seen: dict[str, str] = {}
    penalty = 0
    for raw in listed:
        skill = normalise_skill(raw)
        key = skill_key(skill.name)
        if key in seen:
            penalty += 5
            out.append(
                Suggestion(
                    code="duplicate-skill",
                    section="skills",
                    excerpt=raw.strip(),
                    message=f'"{raw.strip()}" repeats "{seen[key]}": list each skill once.',
                )
            )
        else:
            seen[key] = raw.strip()
    distinct = [normalise_skill(s) for s in seen.values()]
    count = len(distinct)
    if count < 5:
        count_score = 100 * count / 5
        out.append(
            Suggestion(
                code="few-skills",
                section="skills",
                message="List at least five skills: software, tools, licences and strengths relevant to "
                "the jobs you want.",
            )
        )
    elif count <= 30:
        count_score = 100.0
    else:
        count_score = max(50.0, 100 - 2 * (count - 30))
        if count > 40:
            out.append(
                Suggestion(
                    code="too-many-skills",
                    section="skills",
                    excerpt=f"{count} skills",
                    message="More than 40 skills hides the ones that matter: keep the 15 to 30 most "
                    "relevant to the jobs you want.",
                )
            )
    recognised = sum(1 for s in distinct if s.matched) / count
    return _clamp(0.7 * count_score + 0.3 * 100 * recognised - penalty)


def _dates(document: ResumeDocument, out: list[Suggestion]) -> int:
    roles = [(i, r) for i, r in enumerate(document.experience) if _role_has_content(r)]
    if not roles:
        return 0
    score = 100
    spans: list[tuple[int, int, int]] = []  # (first month, last month or None-as-open, index)
    for index, role in roles:
        label = _role_label(document, index)
        start = parse_date(role.start)
        ongoing = role.current or is_present(role.end)
        end = None if ongoing else parse_date(role.end)
        unreadable = [
            value
            for value, parsed in ((role.start, start), (None if ongoing else role.end, end))
            if _has_text(value) and parsed is None
        ]
        for value in unreadable:
            score -= 10
            out.append(
                Suggestion(
                    code="invalid-date",
                    section="experience",
                    entry=index,
                    excerpt=value.strip(),
                    message=f'Write the dates of {label} as month and year (e.g. "Mar 2019").',
                )
            )
        if (not _has_text(role.start)) or (not ongoing and not _has_text(role.end)):
            score -= 30
            out.append(
                Suggestion(
                    code="missing-dates",
                    section="experience",
                    entry=index,
                    excerpt=label,
                    message='Add start and end dates (month and year, or "Present"): employers and '
                    "screening software look for them.",
                )
            )
        if start is not None and end is not None and end.last_month() < start.first_month():
            score -= 25
            out.append(
                Suggestion(
                    code="date-order",
                    section="experience",
                    entry=index,
                    excerpt=f"{label}: {format_date_range(role.start, role.end)}",
                    message="The end date is before the start date: check this role's dates.",
                )
            )
            continue
        if start is not None and (end is not None or ongoing):
            spans.append((start.first_month(), end.last_month() if end is not None else 10**9, index))
    spans.sort()
    covered = None
    for first, last, index in spans:
        if covered is not None and first - covered - 1 > 6:
            score -= 15
            months = first - covered - 1
            out.append(
                Suggestion(
                    code="date-gap",
                    section="experience",
                    entry=index,
                    excerpt=f"{months} months before {_role_label(document, index)}",
                    message=f"There is a gap of {months} months before this role. If you studied, "
                    "travelled, cared for family or freelanced, say so in a line.",
                )
            )
        covered = last if covered is None else max(covered, last)
    return _clamp(score)


# --- job match -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _spellings_by_key() -> dict[str, tuple[str, ...]]:
    """Canonical skill key → every lower-cased way to write it (name and synonyms)."""
    out: dict[str, list[str]] = {}
    for form, canonical in surface_forms().items():
        out.setdefault(skill_key(canonical), []).append(form)
    return {key: tuple(sorted(set(forms), key=len, reverse=True)) for key, forms in out.items()}


def _mentions(corpus: str, spelling: str) -> bool:
    """Whether ``spelling`` occurs in ``corpus`` as a whole word, ignoring case, except
    that a spelling which is also an everyday word ("go", "excel", "word") or has at most
    two letters only counts when written with a capital ("Go", not "go live")."""
    pattern = re.compile(r"(?<![\w#+.])" + re.escape(spelling) + r"(?![\w#+])", re.I)
    strict = spelling.casefold() in _AMBIGUOUS or len(skill_key(spelling)) <= 2
    return any(not (strict and m[0].islower()) for m in pattern.finditer(corpus))


# Single words that are skills in the catalogue but ordinary English more often than not;
# the fallback description scan takes them only when capitalised mid-sentence.
_AMBIGUOUS = frozenset(
    "access word words teams team go excel spark windows node elastic epic outlook project rust swift "
    "dart chef puppet salt ant slack zoom box notes mail visio sales shell".split()
)
_TOKEN = re.compile(r"[.]?[^\W_](?:[\w#+./-]*[\w#+])?")


def _scan_skills(text: str) -> list[str]:
    """Canonical skills mentioned in ``text``: the longest catalogue spelling at each word,
    up to five words. (Used when the parser's :func:`extract_skills` is not available.)"""
    tokens = [(m[0], m.start()) for m in _TOKEN.finditer(text)]
    found: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(tokens):
        step = 1
        for n in range(min(5, len(tokens) - i), 0, -1):
            phrase = " ".join(t for t, _ in tokens[i : i + n])
            if n == 1:
                word = tokens[i][0]
                if len(word) < 2:
                    continue
                before = text[max(0, tokens[i][1] - 4) : tokens[i][1]].rstrip()
                sentence_start = not before or before[-1] in ".!?:;•-*"
                if word.casefold() in _AMBIGUOUS and (word.islower() or sentence_start):
                    continue
            skill = normalise_skill(phrase) if skill_key(phrase) else None
            if skill is not None and skill.matched:
                if skill.name not in seen:
                    seen.add(skill.name)
                    found.append(skill.name)
                step = n
                break
        i += step
    return found


def _description_skills(text: str) -> list[str]:
    try:
        from .parsing import extract_skills

        return list(extract_skills(text))
    except Exception:  # the parser is optional here: fall back to the scan
        return _scan_skills(text)


_TITLE_STOP = frozenset(
    "a an and the of for in at to with senior junior lead principal graduate trainee entry level "
    "mid casual part full time contract temporary permanent i ii iii iv".split()
)


def _title_overlap(job_title: str, document: ResumeDocument) -> float | None:
    wanted = {w.casefold() for w in _words(job_title)} - _TITLE_STOP
    if not wanted:
        return None
    have_text = " ".join(filter(None, [document.summary, *(r.title for r in document.experience)])).casefold()
    have = set(_words(have_text))
    return len(wanted & have) / len(wanted)


def match_job(document: ResumeDocument, job: JobContext, *, text: str | None = None) -> JobMatch:
    """Which of the job's skills (listed, then mentioned in its description) the resume shows."""
    listed_keys = {skill_key(s.name) for s in normalise_skills([*document.skills, *document.certifications])}
    corpus = "\n".join(filter(None, [_document_text(document), (text or "")[:_MAX_TEXT_CHARS]]))

    def shown(name: str, raw: str) -> bool:
        key = skill_key(name)
        if key in listed_keys:
            return True
        spellings = {*_spellings_by_key().get(key, ()), name.casefold(), " ".join(raw.split()).casefold()}
        return any(skill_key(s) and _mentions(corpus, s) for s in spellings)

    required = [(skill.name, raw) for skill, raw in _normalised_with_raw(job.skills)]
    required_keys = {skill_key(name) for name, _ in required}
    mentioned = [
        (skill.name, raw)
        for skill, raw in _normalised_with_raw(
            _description_skills((job.description_text or "")[:_MAX_TEXT_CHARS])
        )
        if skill_key(skill.name) not in required_keys
    ]
    matched: list[str] = []
    missing: list[str] = []
    missing_mentioned: list[str] = []
    points = total = 0.0
    for group, weight in ((required, 1.0), (mentioned, 0.5)):
        for name, raw in group:
            total += weight
            if shown(name, raw):
                points += weight
                matched.append(name)
            else:
                missing.append(name)
                if weight < 1:
                    missing_mentioned.append(name)
    return JobMatch(
        matched_skills=matched,
        missing_skills=missing,
        score=_clamp(100 * points / total) if total else None,
        missing_mentioned_skills=missing_mentioned,
    )


def _normalised_with_raw(texts: Iterable[str]) -> Iterator[tuple]:
    """(Skill, as written) for each distinct skill, first spelling kept."""
    seen: set[str] = set()
    for raw in texts:
        if not skill_key(raw):
            continue
        skill = normalise_skill(raw)
        key = skill_key(skill.name)
        if key not in seen:
            seen.add(key)
            yield skill, raw


# --- the review ------------------------------------------------------------------------


def review_resume(
    document: ResumeDocument, *, text: str | None = None, job: JobContext | None = None
) -> ResumeReview:
    """Score ``document`` and list what to improve; against ``job`` when given.

    ``text`` is the resume's full extracted text when it came from a file: it is what the
    word count and skill search use, and where bullets are read from when the parse found
    no roles. Pure and CPU-light (milliseconds; the first job review also builds the skill
    spelling index once)."""
    suggestions: list[Suggestion] = []
    bullets = _bullets(document, text)
    scores: dict[str, int] = {
        "completeness": _completeness(document, suggestions),
        "contact": _contact(document, suggestions),
        "impact": _impact(bullets, suggestions),
        "language": _language(bullets, suggestions),
        "length": _length(document, text, suggestions),
        "skills": _skills(document, suggestions),
        "dates": _dates(document, suggestions),
    }
    scale = 1.0
    job_match: JobMatch | None = None
    sub_scores: list[SubScore] = []
    if job is not None:
        job_match = match_job(document, job, text=text)
        title = _title_overlap(job.title, document) if job.title else None
        if job_match.score is not None and title is not None:
            fit: float | None = 0.8 * job_match.score + 0.2 * 100 * title
        elif job_match.score is not None:
            fit = job_match.score
        elif title is not None:
            fit = 100 * title
        else:
            fit = None
        if fit is not None:
            scale = 1 - JOB_FIT_WEIGHT
            sub_scores.append(SubScore(name="job-fit", score=_clamp(fit), weight=JOB_FIT_WEIGHT))
        for name in job_match.missing_skills:
            suggestions.append(
                Suggestion(
                    code="missing-job-skill",
                    section="skills",
                    excerpt=name,
                    message=f"This job asks for {name}. If you have experience with {name}, say so: add it "
                    "to your skills and mention it in the role where you used it.",
                )
            )
    sub_scores[:0] = [
        SubScore(name=name, score=score, weight=round(WEIGHTS[name] * scale, 4))
        for name, score in scores.items()
    ]
    total = sum(s.score * s.weight for s in sub_scores) / sum(s.weight for s in sub_scores)
    return ResumeReview(
        score=_clamp(total), sub_scores=sub_scores, suggestions=suggestions, job_match=job_match
    )
