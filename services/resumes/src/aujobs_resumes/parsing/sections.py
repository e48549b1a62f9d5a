"""Section headings: which lines are headings, and what each one means.

A line is a heading when it names a known section ("Work History:", "E X P E R I E N C E",
"Skills & Tools", "LICENCES") and is short and on its own, or when it is styled as one
(a DOCX heading style, or a PDF line set noticeably larger than the body text). Known
headings map to the canonical names of :attr:`ParsedResume.sections`; other headings
are kept as written.
"""

from __future__ import annotations

import re
import unicodedata

from .dates import find_range
from .layout import Line

CANONICAL: dict[str, tuple[str, ...]] = {
    "contact": (
        "contact", "contact details", "contact information", "contact info", "personal details",
        "personal information", "details",
    ),
    "summary": (
        "summary", "profile", "professional summary", "career summary", "career objective", "objective",
        "about me", "about", "personal profile", "professional profile", "executive summary",
        "career profile", "personal statement", "overview", "introduction", "personal summary",
        "career overview",
    ),
    "experience": (
        "experience", "work experience", "professional experience", "employment", "employment history",
        "work history", "career history", "relevant experience", "professional history", "career",
        "employment experience", "work", "experience and employment", "career experience",
        "professional background", "positions held", "research experience", "industry experience",
    ),
    "education": (
        "education", "qualifications", "education and training", "academic qualifications",
        "education and qualifications", "qualifications and education", "academic background",
        "educational background", "tertiary education", "academic history", "training and education",
        "education history", "formal education", "academic",
    ),
    "skills": (
        "skills", "technical skills", "key skills", "core skills", "core competencies", "competencies",
        "skills and abilities", "technologies", "tools", "technical proficiencies", "areas of expertise",
        "expertise", "skill set", "skillset", "skills summary", "capabilities", "software",
        "technical expertise", "skills and tools", "tools and technologies", "technical summary",
        "computer skills", "it skills",
        "key competencies", "professional skills", "skills and competencies", "strengths",
        "languages and tools",
    ),
    "certifications": (
        "certifications", "certificates", "licences", "licenses", "licences and certifications",
        "certifications and licences", "licenses and certifications", "certifications and licenses",
        "tickets", "licences and tickets", "tickets and licences", "accreditations", "credentials",
        "professional certifications", "licences and certificates", "certificates and licences",
        "training and certifications", "professional registrations", "registrations",
    ),
}  # fmt: skip
_LOOKUP = {variant: name for name, variants in CANONICAL.items() for variant in variants}
#: variants with the spaces taken out → the variant ("workhistory" → "work history")
_JOINED = {variant.replace(" ", ""): variant for variant in _LOOKUP}
_KEYWORDS = (
    ("experience", re.compile(r"\b(experience|employment|work history|career history)\b")),
    ("education", re.compile(r"\b(education|qualifications?|academic)\b")),
    ("certifications", re.compile(r"\b(certific\w*|licen[cs]es?|tickets?|accreditations?)\b")),
    ("skills", re.compile(r"\b(skills?|competenc\w*|technolog\w*|expertise)\b")),
    ("summary", re.compile(r"\b(summary|profile|objective)\b")),
)


def normalise_heading(text: str) -> str:
    """Lower-cased words only: "Skills & Tools:" → "skills and tools", "E X P E R I E N C E"
    → "experience", "W O R K  H I S T O R Y" → "work history" (spaced letters, whether or
    not the gap between words survived extraction)."""
    t = unicodedata.normalize("NFKC", text).strip().rstrip(":").strip()
    if re.fullmatch(r"\w(?:\s+\w)+", t):
        words = re.split(r"\s{2,}", t)
        if len(words) > 1:
            t = " ".join(w.replace(" ", "") for w in words)
        else:
            joined = t.replace(" ", "").lower()
            t = _JOINED.get(joined, joined)
    t = t.replace("&", " and ").replace("+", " and ")
    t = re.sub(r"[^\w\s]", " ", t.lower())
    return " ".join(t.split())


def canonical_heading(text: str) -> str | None:
    """The canonical section a heading names, or None."""
    key = normalise_heading(text)
    if key in _LOOKUP:
        return _LOOKUP[key]
    if len(key.split()) <= 5:
        for name, pattern in _KEYWORDS:
            if pattern.search(key):
                return name
    return None


def is_heading(line: Line, body_size: float) -> tuple[bool, str | None]:
    """(is a heading, canonical name or None)."""
    if line.bullet or len(line.segments) != 1:
        return False, None
    text = line.text.strip()
    words = text.split()
    if not words or len(words) > 8 or len(text) > 60:
        return False, None
    if text.endswith((".", ",")) or find_range(text) is not None or "@" in text:
        return False, None
    core = text.rstrip(":").strip()
    canonical = canonical_heading(core)
    exact = normalise_heading(core) in _LOOKUP
    if exact and len(words) <= 6:
        return True, canonical
    styled = bool(line.style_heading) or (line.style_heading is None and line.size >= body_size * 1.15)
    shouted = core.isupper() and len(words) <= 4 and (line.bold or line.size > body_size)
    if styled or shouted or (canonical and (line.bold or text.endswith(":") or core.isupper())):
        if re.search(r"[A-Za-z]", text) is None:
            return False, None
        return True, canonical
    return False, None
