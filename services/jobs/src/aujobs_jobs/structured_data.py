"""schema.org ``JobPosting`` JSON-LD for a public job page (Google for Jobs).

Only a live posting gets structured data: Google asks that expired jobs lose it, so
:func:`job_posting_json_ld` returns ``None`` for anything not active, past its expiry
or past its closing date. Money is given in dollars (cents / 100) and times with their
offset; closing dates are Australian, so a closing date ends at 23:59:59 in Sydney.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aujobs_common.events import (
    ApplicationMethodKind,
    JobPostingSnapshot,
    JobStatus,
    SalaryPeriod,
    WorkArrangement,
    WorkType,
)
from aujobs_common.sydney import SYDNEY, end_of_day

from .richtext import sanitise_html

PLATFORM_NAME = "Australia Jobs"
#: Hiring organisation shown when the advertiser has no company profile (the name
#: Australian job boards use for ads placed by individuals).
PRIVATE_ADVERTISER = "Private Advertiser"

# Google's employmentType values: FULL_TIME, PART_TIME, CONTRACTOR, TEMPORARY, INTERN,
# VOLUNTEER, PER_DIEM, OTHER. PER_DIEM is work "on an as-needed basis with a flexible
# schedule" (Google Cloud Talent definition): the Australian casual. Casual roles are
# mostly short of full-time hours, so they are PART_TIME too. Contract/temp is both
# CONTRACTOR (engaged on a contract) and TEMPORARY (short-term, e.g. through an agency).
EMPLOYMENT_TYPES: dict[WorkType, str | list[str]] = {
    WorkType.full_time: "FULL_TIME",
    WorkType.part_time: "PART_TIME",
    WorkType.contract_temp: ["CONTRACTOR", "TEMPORARY"],
    WorkType.casual_vacation: ["PART_TIME", "PER_DIEM"],
}

UNIT_TEXT: dict[SalaryPeriod, str] = {
    SalaryPeriod.hourly: "HOUR",
    SalaryPeriod.daily: "DAY",
    SalaryPeriod.weekly: "WEEK",
    SalaryPeriod.monthly: "MONTH",
    SalaryPeriod.annual: "YEAR",
}


def valid_through(job: JobPostingSnapshot) -> datetime | None:
    """When the ad stops taking applications: the earlier of its expiry and the end of
    its closing date."""
    candidates = [job.expires_at] if job.expires_at else []
    if job.closing_date:
        candidates.append(end_of_day(job.closing_date))
    return min(candidates, default=None)


def _dollars(cents: int) -> int | float:
    return cents // 100 if cents % 100 == 0 else cents / 100


def _organisation(job: JobPostingSnapshot, url: str | None, logo: str | None) -> dict[str, Any]:
    org: dict[str, Any] = {"@type": "Organization", "name": job.company_name or PRIVATE_ADVERTISER}
    if url:
        org["sameAs"] = url
    if logo:
        org["logo"] = logo
    return org


def _place(job: JobPostingSnapshot) -> dict[str, Any]:
    loc = job.location
    place: dict[str, Any] = {
        "@type": "Place",
        "address": {
            "@type": "PostalAddress",
            "addressLocality": loc.suburb,
            "addressRegion": loc.state,
            "postalCode": loc.postcode,
            "addressCountry": "AU",
        },
    }
    if loc.latitude is not None and loc.longitude is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": loc.latitude, "longitude": loc.longitude}
    return place


def job_posting_json_ld(
    job: JobPostingSnapshot,
    *,
    company_url: str | None,
    company_logo: str | None,
    job_url: str,
    now: datetime,
) -> dict[str, Any] | None:
    """The JSON-LD object for ``job`` as of ``now``, or ``None`` when it is not live."""
    until = valid_through(job)
    if job.status != JobStatus.active or (until is not None and now >= until):
        return None
    posted = job.published_at or job.created_at
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "title": job.title,
        # Already sanitised when stored; again here because this lands in a public page.
        "description": sanitise_html(job.description),
        "datePosted": posted.astimezone(SYDNEY).date().isoformat(),
        "employmentType": EMPLOYMENT_TYPES[job.work_type],
        "hiringOrganization": _organisation(job, company_url, company_logo),
        # Google accepts a location with TELECOMMUTE; a remote ad keeps its base.
        "jobLocation": _place(job),
        "identifier": {"@type": "PropertyValue", "name": PLATFORM_NAME, "value": str(job.job_id)},
        "directApply": job.application_method.kind == ApplicationMethodKind.on_platform,
        "industry": job.classification,
        "url": job_url,
    }
    if until is not None:
        data["validThrough"] = until.isoformat()
    if job.work_arrangement == WorkArrangement.remote:
        data["jobLocationType"] = "TELECOMMUTE"
        data["applicantLocationRequirements"] = {"@type": "Country", "name": "Australia"}
    if job.salary is not None:
        data["baseSalary"] = {
            "@type": "MonetaryAmount",
            "currency": job.salary.currency,
            "value": {
                "@type": "QuantitativeValue",
                "minValue": _dollars(job.salary.minimum_cents),
                "maxValue": _dollars(job.salary.maximum_cents),
                "unitText": UNIT_TEXT[job.salary.period],
            },
        }
    if job.skills:
        data["skills"] = ", ".join(job.skills)
    if job.benefits:
        data["jobBenefits"] = ", ".join(job.benefits)
    return data


def json_ld_script_body(data: dict[str, Any]) -> str:
    """``data`` as JSON safe to place inside ``<script type="application/ld+json">``:
    ``<``, ``>`` and ``&`` are escaped so a title such as "</script>" cannot end the
    element early."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
