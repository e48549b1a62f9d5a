"""Dates and date ranges as resumes write them, to ``"YYYY-MM"`` / ``"YYYY"``.

"Mar 2019 – Present", "March 2019 - Current", "2019-03 to 2021-06", "03/2019 – 06/2021",
"2018 - 2020", "Sept 2018 – May 2023", "Jan. 2020 – now", "Since 2021" (current).
Numeric day-month-year dates are rare in resumes and ambiguous ("04/05/2019"); only
month/year and year/month forms are read.
"""

# ruff: noqa: RUF001, RUF002 (dashes, bullets and typographic quotes are what resumes contain)

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_YEAR = r"(?:19|20)\d{2}"
_DATE = (
    rf"(?:{_MONTH}\.?,?\s*(?:'\d{{2}}|{_YEAR})"  # Mar 2019, March, 2019, Sept. 2018, Mar '19
    rf"|{_YEAR}[-/.](?:0?[1-9]|1[0-2])(?![\d])"  # 2019-03, 2019/3
    rf"|(?:0?[1-9]|1[0-2])[-/.]{_YEAR}"  # 03/2019, 3.2019
    rf"|{_YEAR})"  # 2019
)
_PRESENT = r"(?:present|current(?:ly)?|now|today|ongoing|to\s+date|date)"
_SEP = r"\s*(?:–|—|-|−|to|until|till|through|→|>)\s*"
RANGE = re.compile(
    rf"(?<![\w/-])(?:(?:from|since)\s+)?(?P<start>{_DATE})(?:{_SEP}(?P<end>{_DATE}|{_PRESENT}))?(?![\w/])",
    re.IGNORECASE,
)
_SINCE = re.compile(r"\bsince\b", re.IGNORECASE)
DURATION = re.compile(
    r"^\(?\s*(?:\d+\s*(?:years?|yrs?|months?|mos?)\s*)+\)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateRange:
    start: str | None
    end: str | None
    current: bool
    #: the characters matched, in the text searched
    span: tuple[int, int]


def parse_date(text: str) -> str | None:
    """One date as ``YYYY-MM`` or ``YYYY``; None when it is not one."""
    t = text.strip().lower().rstrip(".")
    m = re.fullmatch(rf"({_MONTH})\.?,?\s*('\d{{2}}|{_YEAR})", t)
    if m:
        month = _MONTHS[m.group(1).rstrip(".")[:3] if m.group(1)[:3] != "sep" else "sep"]
        year = m.group(2)
        if year.startswith("'"):
            year = ("20" if int(year[1:]) < 50 else "19") + year[1:]
        return f"{year}-{month:02d}"
    m = re.fullmatch(rf"({_YEAR})[-/.](0?[1-9]|1[0-2])", t)
    if m:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    m = re.fullmatch(rf"(0?[1-9]|1[0-2])[-/.]({_YEAR})", t)
    if m:
        return f"{m.group(2)}-{int(m.group(1)):02d}"
    m = re.fullmatch(_YEAR, t)
    if m:
        return t
    return None


def find_range(text: str) -> DateRange | None:
    """The first date or date range in ``text``."""
    for m in RANGE.finditer(text):
        start = parse_date(m.group("start"))
        if start is None:
            continue
        end_text = m.group("end")
        current = False
        end: str | None = None
        if end_text:
            end = parse_date(end_text)
            if end is None:
                current = True
        elif _SINCE.match(m.group(0)):
            current = True
        return DateRange(start, end, current, m.span())
    return None


def is_date_only(text: str) -> bool:
    """Whether ``text`` is nothing but a date, a range or a duration ("2 years 4 months")."""
    stripped = text.strip(" ()|,·•")
    if not stripped:
        return False
    if DURATION.match(stripped):
        return True
    found = find_range(stripped)
    return found is not None and found.span == (0, len(stripped))
