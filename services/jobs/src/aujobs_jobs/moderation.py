"""Content checks that send a posting to the moderation queue even when its company is
verified. Each flag is a stable code the moderator (and the employer) sees; the
checks are deliberately simple and explainable, not a classifier.

* ``contact_details_in_description``: an email address or Australian phone number in
  the text, the usual way scams pull applicants off the platform.
* ``salary_below_minimum_wage``: the hourly rate implied by the range is below the
  national minimum wage (Fair Work, from 1 July 2025: $24.95 an hour). Applied to
  hourly/daily/weekly/monthly ranges and to annual ranges of full-time jobs (an annual
  figure for a part-time job may be pro rata).
* ``suspicious_phrases``: phrases typical of job scams (upfront fees, payments in
  crypto or gift cards, "earn $… from home").
* ``link_shortener``: an external application URL on a link shortener, which hides
  where applicants are sent.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from aujobs_common.events import SalaryPeriod, WorkType

#: National minimum wage, Fair Work Commission annual wage review, from 1 July 2025.
MINIMUM_WAGE_CENTS_PER_HOUR = 2495
#: Hours in the annualisation rule (38 h x 52 weeks, salary.py).
HOURS_PER_YEAR = 38 * 52

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# 04xx xxx xxx mobiles, (0x) xxxx xxxx landlines, +61 forms, 13/1300/1800 numbers
_PHONE = re.compile(
    r"(?<!\d)(?:\+?61[\s-]?|0)[2-478](?:[\s-]?\d){8}(?!\d)|(?<!\d)1[38]00(?:[\s-]?\d){6}(?!\d)"
)
_SUSPICIOUS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?:upfront|up-front|registration|training|starter)\s+(?:fee|payment|kit)\b",
        r"\bpay\s+(?:a\s+)?(?:small\s+)?fee\b",
        r"\b(?:bitcoin|crypto(?:currency)?|gift\s*cards?|western\s+union|moneygram)\b",
        r"\bearn\s+\$?\d[\d,]*\s*(?:k\b)?.{0,30}\b(?:from\s+home|per\s+day|a\s+day|daily)\b",
        r"\bno\s+experience\s+(?:needed|required).{0,40}\bearn\b",
        r"\b(?:whatsapp|telegram)\s+(?:me|us|only)\b",
    )
]
_SHORTENERS = frozenset(
    {"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly", "t.ly"}
)


def content_flags(
    *,
    text: str,
    salary_min_cents: int | None,
    salary_period: str | None,
    work_type: str,
    application_url: str | None,
) -> list[str]:
    """The flags that hold ``text`` (the title and plain-text description) back."""
    flags: list[str] = []
    if _EMAIL.search(text) or _PHONE.search(text):
        flags.append("contact_details_in_description")
    if salary_min_cents is not None and salary_period is not None:
        if _below_minimum_wage(salary_min_cents, SalaryPeriod(salary_period), WorkType(work_type)):
            flags.append("salary_below_minimum_wage")
    if any(p.search(text) for p in _SUSPICIOUS):
        flags.append("suspicious_phrases")
    if application_url and (urlsplit(application_url).hostname or "").lower() in _SHORTENERS:
        flags.append("link_shortener")
    return flags


def _below_minimum_wage(minimum_cents: int, period: SalaryPeriod, work_type: WorkType) -> bool:
    hours = {
        SalaryPeriod.hourly: 1,
        SalaryPeriod.daily: 38 / 5,
        SalaryPeriod.weekly: 38,
        SalaryPeriod.monthly: HOURS_PER_YEAR / 12,
        SalaryPeriod.annual: HOURS_PER_YEAR,
    }[period]
    if period is SalaryPeriod.annual and work_type is not WorkType.full_time:
        return False
    return minimum_cents / hours < MINIMUM_WAGE_CENTS_PER_HOUR
