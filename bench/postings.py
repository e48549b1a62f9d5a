"""Realistic Australian postings for the search benchmark, generated deterministically
(seeded RNG) from the jobs service's demo vocabularies (``aujobs_jobs.seed``: roles with
their classification, pay and period, weighted job markets, blurbs, work types) and the
postcode data (every suburb of every state, with its coordinates).

Each posting is the :class:`~aujobs_common.events.JobPublished` snapshot the jobs
service would publish: salaries annualised by the jobs service's own rule
(``aujobs_jobs.salary``), 30-day expiry, published over the last 30 days, a few
featured. Companies (~2,000 by default) are fictional, each hiring in one to three
classifications.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from aujobs_common.events import (
    CompanySize,
    JobLocation,
    JobPublished,
    JobStatus,
    SalaryPeriod,
    SalaryRange,
    SuperMode,
    WorkArrangement,
    WorkType,
)
from aujobs_common.reference import Locality, find_locality, is_po_box_postcode, localities
from aujobs_common.skills import normalise_skills
from aujobs_jobs.salary import annual_range, format_salary
from aujobs_jobs.seed import BLURBS, DEMO_COMPANIES, PLACES, ROLES, WORK_TYPES

LIFETIME = timedelta(days=30)  # the jobs service's posting lifetime
#: share of postings in the weighted big job markets (the rest: any suburb in the country)
BIG_MARKET_SHARE = 0.7
FEATURED_SHARE = 0.03

# Skills employers list, per classification (normalised against the catalogue below).
SKILLS: dict[str, tuple[str, ...]] = {
    "Accounting": ("Xero", "MYOB", "Microsoft Excel", "Financial reporting", "Reconciliation", "SAP"),
    "Administration & Office Support": ("Microsoft Office", "Data entry", "Scheduling", "Customer Service"),
    "Advertising, Arts & Media": ("Adobe Photoshop", "Copywriting", "WordPress", "Social media", "SEO"),
    "Banking & Financial Services": ("Microsoft Excel", "Risk management", "Compliance", "Salesforce", "SQL"),
    "Call Centre & Customer Service": ("Customer Service", "Zendesk", "Communication", "Salesforce"),
    "CEO & General Management": ("Leadership", "Strategic planning", "Budgeting", "Stakeholder management"),
    "Community Services & Development": (
        "First aid",
        "Working with Children Check",
        "NDIS Worker Screening Check",
        "Case management",
        "Driver licence",
    ),
    "Construction": ("White Card", "AutoCAD", "Procore", "Microsoft Project", "Estimating"),
    "Consulting & Strategy": (
        "Stakeholder management",
        "Change management",
        "Microsoft PowerPoint",
        "Tableau",
    ),
    "Design & Architecture": ("Revit", "AutoCAD", "Figma", "Adobe Illustrator", "SketchUp"),
    "Education & Training": ("Working with Children Check", "Curriculum development", "Google Classroom"),
    "Engineering": ("AutoCAD", "MATLAB", "SolidWorks", "Project management", "Python"),
    "Farming, Animals & Conservation": ("Forklift licence", "Driver licence", "Chainsaw", "First aid"),
    "Government & Defence": ("Policy development", "Stakeholder management", "Microsoft Word", "Research"),
    "Healthcare & Medical": ("AHPRA registration", "First aid", "Patient care", "Epic Systems", "CPR"),
    "Hospitality & Tourism": (
        "Responsible Service of Alcohol (RSA)",
        "Food safety",
        "Barista",
        "Customer Service",
    ),
    "Human Resources & Recruitment": ("Workday", "LinkedIn Recruiter", "Employee relations", "Payroll"),
    "Information & Communication Technology": (
        "Python",
        "JavaScript",
        "TypeScript",
        "React",
        "Amazon Web Services AWS software",
        "Docker",
        "Kubernetes",
        "SQL",
        "Java",
        "C#",
        "Microsoft Azure software",
        "Terraform",
        "PostgreSQL",
        "Linux",
    ),
    "Insurance & Superannuation": ("Claims management", "Guidewire", "Customer Service", "Microsoft Excel"),
    "Legal": ("LEAP", "Legal research", "Contract drafting", "Litigation"),
    "Manufacturing, Transport & Logistics": (
        "Forklift licence",
        "HR licence",
        "MR licence",
        "SAP",
        "Warehouse management",
    ),
    "Marketing & Communications": ("Google Analytics", "SEO", "HubSpot", "Content marketing", "Canva"),
    "Mining, Resources & Energy": ("White Card", "HR licence", "Working at heights", "Confined space", "GIS"),
    "Real Estate & Property": ("PropertyMe", "Property management", "Negotiation", "Customer Service"),
    "Retail & Consumer Products": (
        "Point of sale",
        "Visual merchandising",
        "Customer Service",
        "Stock control",
    ),
    "Sales": ("Salesforce", "Negotiation", "Account management", "Business development", "HubSpot"),
    "Science & Technology": ("Python", "R", "Laboratory techniques", "Statistics", "Machine learning"),
    "Self Employment": ("Driver licence", "ABN", "Customer Service"),
    "Sport & Recreation": ("Certificate IV in Fitness", "First aid", "CPR", "Customer Service"),
    "Trades & Services": (
        "White Card",
        "Electrical licence",
        "Plumbing licence",
        "Driver licence",
        "Welding",
    ),
}

BENEFITS = (
    "Salary packaging",
    "Hybrid work",
    "Flexible hours",
    "Paid parental leave",
    "Learning budget",
    "Employee assistance program",
    "Company vehicle",
    "Bonus scheme",
    "Extra week of leave",
    "Wellbeing allowance",
    "Staff discount",
    "End-of-trip facilities",
)

COMPANY_WORDS = (
    "Acacia", "Banksia", "Bluegum", "Boab", "Brolga", "Bunya", "Cassowary", "Coolabah", "Coral",
    "Currawong", "Dingo", "Echidna", "Emu", "Eucalypt", "Galah", "Grevillea", "Harbour", "Ironbark",
    "Jacaranda", "Jarrah", "Kakadu", "Karri", "Kestrel", "Koala", "Kookaburra", "Kurrajong", "Lyrebird",
    "Magpie", "Mallee", "Melaleuca", "Mulga", "Murray", "Numbat", "Outback", "Pandanus", "Platypus",
    "Quokka", "Red Gum", "Riverina", "Rosella", "Saltbush", "Southern Cross", "Spinifex", "Tasman",
    "Telopea", "Waratah", "Wattle", "Wombat", "Yarra", "Gidgee",
)  # fmt: skip
# Words that name a business of that classification ("Wattle Health", "Mulga Mining").
SECTOR_WORDS: dict[str, tuple[str, ...]] = {
    "Accounting": ("Accountants", "Tax & Advisory", "Bookkeeping"),
    "Administration & Office Support": ("Business Services", "Office Solutions"),
    "Advertising, Arts & Media": ("Media", "Creative", "Studios"),
    "Banking & Financial Services": ("Financial", "Credit Union", "Capital"),
    "Call Centre & Customer Service": ("Contact Centres", "Customer Care"),
    "CEO & General Management": ("Holdings", "Group"),
    "Community Services & Development": ("Community Care", "Support Services", "Disability Services"),
    "Construction": ("Builders", "Constructions", "Civil"),
    "Consulting & Strategy": ("Consulting", "Advisory", "Partners"),
    "Design & Architecture": ("Architects", "Design Studio"),
    "Education & Training": ("Education", "Learning", "College"),
    "Engineering": ("Engineering", "Engineers"),
    "Farming, Animals & Conservation": ("Farms", "Pastoral Co", "Vets"),
    "Government & Defence": ("Council", "Shire Council"),
    "Healthcare & Medical": ("Health", "Medical Centre", "Hospital"),
    "Hospitality & Tourism": ("Hotels", "Resorts", "Kitchen"),
    "Human Resources & Recruitment": ("Recruitment", "People & Culture"),
    "Information & Communication Technology": ("Software", "Digital", "Technology", "Cloud"),
    "Insurance & Superannuation": ("Insurance", "Super"),
    "Legal": ("Lawyers", "Legal"),
    "Manufacturing, Transport & Logistics": ("Logistics", "Transport", "Manufacturing"),
    "Marketing & Communications": ("Marketing", "Communications"),
    "Mining, Resources & Energy": ("Mining", "Resources", "Energy"),
    "Real Estate & Property": ("Realty", "Property Group"),
    "Retail & Consumer Products": ("Retail", "Stores", "Outfitters"),
    "Sales": ("Sales", "Distribution"),
    "Science & Technology": ("Laboratories", "Scientific"),
    "Self Employment": ("Couriers", "Delivery"),
    "Sport & Recreation": ("Fitness", "Leisure"),
    "Trades & Services": ("Electrical", "Plumbing", "Trades", "Automotive"),
}
SUFFIXES = ("Pty Ltd", "", "", "Group", "Australia", "& Co")
SIZES = list(CompanySize)
SIZE_WEIGHTS = [14, 22, 22, 14, 10, 10, 8]


@dataclass(frozen=True)
class BenchCompany:
    company_id: uuid.UUID
    name: str
    size: CompanySize
    verified: bool
    hires: tuple[str, ...]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def companies(count: int, seed: int = 2026) -> list[BenchCompany]:
    """``count`` fictional companies (the jobs service's demo companies first), each
    hiring in its main classification and up to two others."""
    rng = random.Random(seed)
    classes = list(SECTOR_WORDS)
    out = [
        BenchCompany(_uuid(rng), demo.name, demo.size, True, demo.hires) for demo in DEMO_COMPANIES[:count]
    ]
    names = {c.name for c in out}
    while len(out) < count:
        main = rng.choice(classes)
        name = " ".join(
            w for w in (rng.choice(COMPANY_WORDS), rng.choice(SECTOR_WORDS[main]), rng.choice(SUFFIXES)) if w
        )
        if name in names:
            continue
        names.add(name)
        others = rng.sample(classes, rng.randint(0, 2))
        size = rng.choices(SIZES, SIZE_WEIGHTS)[0]
        hires = tuple(dict.fromkeys([main, *others]))
        out.append(BenchCompany(_uuid(rng), name, size, rng.random() < 0.85, hires))
    return out


@lru_cache
def _skills(classification: str) -> tuple[str, ...]:
    """Canonical names, as the jobs service stores a posting's skills."""
    return tuple(s.name for s in normalise_skills(SKILLS[classification]))


@lru_cache
def _places() -> tuple[list[Locality], list[int], list[Locality]]:
    """The weighted big job markets, and every street-address locality in the country."""
    big = [(find_locality(suburb, state), weight) for suburb, state, weight in PLACES]
    everywhere = [loc for loc in localities() if not is_po_box_postcode(loc.postcode)]
    return [loc for loc, _ in big if loc], [w for loc, w in big if loc], everywhere


def _title(rng: random.Random, base: str, period: str) -> tuple[str, float]:
    """The role's title, sometimes with a seniority, and the pay factor that goes with it."""
    roll = rng.random()
    if roll < 0.15 and not base.startswith(("Senior", "Lead", "General")):
        return f"Senior {base}", 1.15
    if roll < 0.22 and period == "annual" and not base.startswith(("Senior", "General")):
        return f"Junior {base}", 0.85
    if roll < 0.26 and period == "annual" and not base.startswith("General"):
        return f"Lead {base}", 1.25
    return base, 1.0


def _description(rng: random.Random, title: str, company: str, suburb: str, skills: list[str]) -> str:
    lines = [
        f"{company} is hiring a {title} based in {suburb}.",
        *rng.sample(BLURBS, 3),
        f"You will bring experience with {', '.join(skills)}." if skills else "",
        "To apply you must have full working rights in Australia.",
    ]
    return " ".join(line for line in lines if line)


def postings(
    count: int, employers: list[BenchCompany], *, now: datetime | None = None, seed: int = 7
) -> Iterator[JobPublished]:
    """``count`` published postings of ``employers``, deterministic for a given seed
    (ids included) apart from the timestamps, which are relative to ``now``."""
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    big, weights, everywhere = _places()
    by_class: dict[str, list[BenchCompany]] = {}
    for company in employers:
        for classification in company.hires:
            by_class.setdefault(classification, []).append(company)
    roles = [r for r in ROLES if r[0] in by_class]
    owner_id = _uuid(rng)
    for _ in range(count):
        classification, sub, base_title, low, high, period = rng.choice(roles)
        company = rng.choice(by_class[classification])
        place = rng.choices(big, weights)[0] if rng.random() < BIG_MARKET_SHARE else rng.choice(everywhere)
        title, factor = _title(rng, base_title, period)
        factor *= rng.uniform(0.92, 1.08)
        digits = 2 if period == "hourly" else 0
        lo, hi = int(round(low * factor, digits) * 100), int(round(high * factor, digits) * 100)
        salary_period = SalaryPeriod(period)
        annual_lo, annual_hi = annual_range(lo, hi, salary_period)
        work_type = (
            WorkType.casual_vacation if period == "hourly" and rng.random() < 0.4 else rng.choice(WORK_TYPES)
        )
        arrangement = rng.choices(list(WorkArrangement), [60, 30, 10])[0]
        skills = rng.sample(_skills(classification), min(len(_skills(classification)), rng.randint(2, 5)))
        text = _description(rng, title, company.name, place.suburb, skills)
        published = now - timedelta(seconds=rng.uniform(60, LIFETIME.total_seconds() - 3600))
        featured = rng.random() < FEATURED_SHARE
        yield JobPublished(
            job_id=_uuid(rng),
            version=2,  # created (1), then published
            owner_id=owner_id,
            company_id=company.company_id,
            company_name=company.name,
            company_verified=company.verified,
            title=title,
            description=f"<p>{text}</p>",
            description_text=text,
            location=JobLocation(
                suburb=place.suburb,
                state=place.state,
                postcode=place.postcode,
                latitude=place.latitude,
                longitude=place.longitude,
            ),
            work_arrangement=arrangement,
            salary=SalaryRange(
                minimum_cents=lo,
                maximum_cents=hi,
                period=salary_period,
                display_text=format_salary(lo, hi, salary_period, SuperMode.plus_super),
                annual_minimum_cents=annual_lo,
                annual_maximum_cents=annual_hi,
            ),
            work_type=work_type,
            classification=classification,
            sub_classification=sub,
            skills=skills,
            benefits=rng.sample(BENEFITS, rng.randint(0, 3)),
            status=JobStatus.active,
            featured=featured,
            featured_from=published if featured else None,
            featured_until=published + timedelta(days=14) if featured else None,
            created_at=published - timedelta(hours=rng.uniform(0.1, 48)),
            updated_at=published,
            published_at=published,
            expires_at=published + LIFETIME,
        )
