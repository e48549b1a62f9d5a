"""schema.org JobPosting JSON-LD: what Google for Jobs reads from a public job page."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from aujobs_common.events import (
    ApplicationMethod,
    ApplicationMethodKind,
    JobLocation,
    JobPostingSnapshot,
    JobStatus,
    SalaryPeriod,
    SalaryRange,
    SuperMode,
    WorkArrangement,
    WorkType,
)
from aujobs_jobs.structured_data import job_posting_json_ld, json_ld_script_body

NOW = datetime(2025, 8, 4, 2, 0, tzinfo=UTC)  # Monday 12:00 in Sydney
JOB_ID = uuid.UUID("0190f6a8-1111-7000-8000-000000000001")


def snapshot(**changes: Any) -> JobPostingSnapshot:
    fields: dict[str, Any] = {
        "job_id": JOB_ID,
        "version": 3,
        "owner_id": uuid.uuid4(),
        "company_id": uuid.uuid4(),
        "company_name": "Eucalypt Software",
        "title": "Senior Python Developer",
        "description": "<p>Build <b>great</b> things.</p>",
        "location": JobLocation(
            suburb="Parramatta", state="NSW", postcode="2150", latitude=-33.8136, longitude=151.0034
        ),
        "work_arrangement": WorkArrangement.hybrid,
        "salary": SalaryRange(
            minimum_cents=140_000_00,
            maximum_cents=160_500_00,
            period=SalaryPeriod.annual,
            super_mode=SuperMode.plus_super,
        ),
        "work_type": WorkType.full_time,
        "classification": "Information & Communication Technology",
        "skills": ["Python", "PostgreSQL"],
        "benefits": ["Hybrid work", "Extra leave"],
        "status": JobStatus.active,
        "created_at": datetime(2025, 7, 31, 20, 0, tzinfo=UTC),
        "updated_at": datetime(2025, 7, 31, 21, 0, tzinfo=UTC),
        "published_at": datetime(2025, 7, 31, 21, 0, tzinfo=UTC),  # 1 Aug 07:00 in Sydney
        "expires_at": datetime(2025, 8, 30, 21, 0, tzinfo=UTC),
    }
    fields.update(changes)
    return JobPostingSnapshot(**fields)


def ld(job: JobPostingSnapshot, now: datetime = NOW, **kwargs: Any) -> dict[str, Any] | None:
    options: dict[str, Any] = {
        "company_url": "https://eucalypt.example",
        "company_logo": "https://cdn.example/logo.png",
        "job_url": f"https://aujobs.example/jobs/{JOB_ID}",
    }
    options.update(kwargs)
    return job_posting_json_ld(job, now=now, **options)


def test_active_posting_has_every_field() -> None:
    assert ld(snapshot()) == {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "title": "Senior Python Developer",
        "description": "<p>Build <b>great</b> things.</p>",
        "datePosted": "2025-08-01",
        "validThrough": "2025-08-30T21:00:00+00:00",
        "employmentType": "FULL_TIME",
        "hiringOrganization": {
            "@type": "Organization",
            "name": "Eucalypt Software",
            "sameAs": "https://eucalypt.example",
            "logo": "https://cdn.example/logo.png",
        },
        "jobLocation": {
            "@type": "Place",
            "address": {
                "@type": "PostalAddress",
                "addressLocality": "Parramatta",
                "addressRegion": "NSW",
                "postalCode": "2150",
                "addressCountry": "AU",
            },
            "geo": {"@type": "GeoCoordinates", "latitude": -33.8136, "longitude": 151.0034},
        },
        "baseSalary": {
            "@type": "MonetaryAmount",
            "currency": "AUD",
            "value": {
                "@type": "QuantitativeValue",
                "minValue": 140000,
                "maxValue": 160500,
                "unitText": "YEAR",
            },
        },
        "identifier": {"@type": "PropertyValue", "name": "Australia Jobs", "value": str(JOB_ID)},
        "directApply": True,
        "industry": "Information & Communication Technology",
        "skills": "Python, PostgreSQL",
        "jobBenefits": "Hybrid work, Extra leave",
        "url": f"https://aujobs.example/jobs/{JOB_ID}",
    }


def test_output_is_json_serialisable() -> None:
    data = ld(snapshot())
    assert json.loads(json.dumps(data)) == data


def test_remote_posting_is_telecommute_in_australia_and_keeps_its_location() -> None:
    data = ld(snapshot(work_arrangement=WorkArrangement.remote))
    assert data["jobLocationType"] == "TELECOMMUTE"
    assert data["applicantLocationRequirements"] == {"@type": "Country", "name": "Australia"}
    assert data["jobLocation"]["address"]["addressLocality"] == "Parramatta"


@pytest.mark.parametrize("arrangement", [WorkArrangement.on_site, WorkArrangement.hybrid])
def test_on_site_and_hybrid_are_not_telecommute(arrangement: WorkArrangement) -> None:
    data = ld(snapshot(work_arrangement=arrangement))
    assert "jobLocationType" not in data and "applicantLocationRequirements" not in data


def test_no_salary_skills_benefits_coordinates_or_company() -> None:
    job = snapshot(
        salary=None,
        skills=[],
        benefits=[],
        company_id=None,
        company_name=None,
        location=JobLocation(suburb="Hobart", state="TAS", postcode="7000"),
    )
    data = ld(job, company_url=None, company_logo=None)
    assert "baseSalary" not in data and "skills" not in data and "jobBenefits" not in data
    assert "geo" not in data["jobLocation"]
    assert data["hiringOrganization"] == {"@type": "Organization", "name": "Private Advertiser"}


def test_hourly_salary_in_dollars_and_cents() -> None:
    salary = SalaryRange(minimum_cents=45_50, maximum_cents=55_00, period=SalaryPeriod.hourly)
    value = ld(snapshot(salary=salary))["baseSalary"]["value"]
    assert (value["minValue"], value["maxValue"], value["unitText"]) == (45.5, 55, "HOUR")


@pytest.mark.parametrize(
    ("period", "unit"),
    [(SalaryPeriod.daily, "DAY"), (SalaryPeriod.weekly, "WEEK"), (SalaryPeriod.monthly, "MONTH")],
)
def test_salary_unit_text(period: SalaryPeriod, unit: str) -> None:
    salary = SalaryRange(minimum_cents=100_00, maximum_cents=200_00, period=period)
    assert ld(snapshot(salary=salary))["baseSalary"]["value"]["unitText"] == unit


@pytest.mark.parametrize(
    ("work_type", "expected"),
    [
        (WorkType.full_time, "FULL_TIME"),
        (WorkType.part_time, "PART_TIME"),
        (WorkType.contract_temp, ["CONTRACTOR", "TEMPORARY"]),
        (WorkType.casual_vacation, ["PART_TIME", "PER_DIEM"]),
    ],
)
def test_employment_type_mapping(work_type: WorkType, expected: str | list[str]) -> None:
    assert ld(snapshot(work_type=work_type))["employmentType"] == expected


def test_external_application_is_not_direct_apply() -> None:
    method = ApplicationMethod(kind=ApplicationMethodKind.external, url="https://ats.example/apply/1")
    assert ld(snapshot(application_method=method))["directApply"] is False


@pytest.mark.parametrize("status", [s for s in JobStatus if s is not JobStatus.active])
def test_not_active_has_no_structured_data(status: JobStatus) -> None:
    assert ld(snapshot(status=status)) is None


def test_past_expiry_has_no_structured_data() -> None:
    job = snapshot()
    assert ld(job, now=job.expires_at - timedelta(seconds=1)) is not None
    assert ld(job, now=job.expires_at) is None


def test_closing_date_earlier_than_expiry_sets_valid_through_at_end_of_sydney_day() -> None:
    job = snapshot(closing_date=date(2025, 8, 15))
    assert ld(job)["validThrough"] == "2025-08-15T23:59:59+10:00"
    # 23:59:59 AEST is 13:59:59 UTC: live until then, not after
    assert ld(job, now=datetime(2025, 8, 15, 13, 59, 58, tzinfo=UTC)) is not None
    assert ld(job, now=datetime(2025, 8, 15, 14, 0, tzinfo=UTC)) is None


def test_closing_date_in_daylight_saving_uses_aedt() -> None:
    job = snapshot(closing_date=date(2025, 12, 1), expires_at=datetime(2025, 12, 31, tzinfo=UTC))
    assert ld(job)["validThrough"] == "2025-12-01T23:59:59+11:00"


def test_expiry_earlier_than_closing_date_wins() -> None:
    job = snapshot(closing_date=date(2025, 9, 30))
    assert ld(job)["validThrough"] == "2025-08-30T21:00:00+00:00"


def test_no_expiry_and_no_closing_date_omits_valid_through() -> None:
    assert "validThrough" not in ld(snapshot(expires_at=None))


def test_description_is_sanitised_even_if_the_snapshot_was_not() -> None:
    job = snapshot(description='<p onclick="x()">Hi there, apply now<script>alert(1)</script></p>')
    assert ld(job)["description"] == "<p>Hi there, apply now</p>"


def test_script_body_cannot_close_the_script_element() -> None:
    data = ld(snapshot(title="</script><script>alert(1)</script> & co"))
    body = json_ld_script_body(data)
    assert "<" not in body and ">" not in body and "&" not in body
    assert json.loads(body) == data
