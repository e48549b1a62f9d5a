"""Demo data for ``make run``: a dozen verified Australian companies and a few hundred
realistic postings of theirs, created, verified and published through the service
layer so their events flow to search like any other's. Deterministic (seeded RNG), and
skipped when jobs exist."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.db import Database
from aujobs_common.events import CompanySize, SalaryPeriod, WorkType
from aujobs_common.reference import find_locality
from aujobs_common.security import Principal

from . import companies, service
from .models import Company, JobPosting
from .schemas import ABN_WEIGHTS, CompanyCreate, JobCreate, LocationIn, SalaryIn
from .settings import JobsSettings

# (classification, sub-classification, title, pay min, pay max, period). Pay is jittered
# by up to -8 %, so hourly minima stay at $27.12 or more: above the minimum wage, which
# would otherwise hold the posting for moderation (moderation.py).
ROLES: list[tuple[str, str, str, float, float, str]] = [
    (
        "Accounting",
        "Financial Accounting & Reporting",
        "Senior Financial Accountant",
        110_000,
        130_000,
        "annual",
    ),
    ("Accounting", "Accounts Payable", "Accounts Payable Officer", 65_000, 75_000, "annual"),
    ("Accounting", "Taxation", "Tax Accountant", 85_000, 105_000, "annual"),
    ("Administration & Office Support", "Receptionists", "Receptionist", 30, 34, "hourly"),
    (
        "Administration & Office Support",
        "PA, EA & Secretarial",
        "Executive Assistant",
        85_000,
        100_000,
        "annual",
    ),
    ("Advertising, Arts & Media", "Journalism & Writing", "Digital Content Writer", 70_000, 85_000, "annual"),
    ("Banking & Financial Services", "Financial Planning", "Financial Adviser", 100_000, 140_000, "annual"),
    ("Banking & Financial Services", "Credit", "Credit Analyst", 90_000, 110_000, "annual"),
    (
        "Call Centre & Customer Service",
        "Customer Service - Call Centre",
        "Customer Service Consultant",
        29,
        32,
        "hourly",
    ),
    (
        "CEO & General Management",
        "General/Business Unit Manager",
        "General Manager Operations",
        180_000,
        220_000,
        "annual",
    ),
    (
        "Community Services & Development",
        "Aged & Disability Support",
        "Disability Support Worker",
        32,
        38,
        "hourly",
    ),
    (
        "Community Services & Development",
        "Child Welfare, Youth & Family Services",
        "Youth Case Manager",
        80_000,
        92_000,
        "annual",
    ),
    ("Construction", "Project Management", "Construction Project Manager", 150_000, 180_000, "annual"),
    ("Construction", "Estimating", "Senior Estimator", 130_000, 150_000, "annual"),
    ("Consulting & Strategy", "Management & Change Consulting", "Change Manager", 140_000, 165_000, "annual"),
    ("Design & Architecture", "Architecture", "Project Architect", 100_000, 125_000, "annual"),
    ("Design & Architecture", "Web & Interaction Design", "UX Designer", 105_000, 130_000, "annual"),
    (
        "Education & Training",
        "Teaching - Secondary",
        "Secondary Mathematics Teacher",
        80_000,
        115_000,
        "annual",
    ),
    (
        "Education & Training",
        "Teaching - Early Childhood",
        "Early Childhood Teacher",
        78_000,
        95_000,
        "annual",
    ),
    ("Engineering", "Civil/Structural Engineering", "Civil Engineer", 100_000, 130_000, "annual"),
    ("Engineering", "Electrical/Electronic Engineering", "Electrical Engineer", 110_000, 140_000, "annual"),
    ("Farming, Animals & Conservation", "Farm Labour", "Farm Hand", 28, 32, "hourly"),
    (
        "Farming, Animals & Conservation",
        "Veterinary Services & Animal Welfare",
        "Veterinary Nurse",
        60_000,
        70_000,
        "annual",
    ),
    ("Government & Defence", "Government - State", "Policy Officer", 95_000, 110_000, "annual"),
    (
        "Healthcare & Medical",
        "Nursing - General Medical & Surgical",
        "Registered Nurse",
        75_000,
        105_000,
        "annual",
    ),
    (
        "Healthcare & Medical",
        "Physiotherapy, OT & Rehabilitation",
        "Physiotherapist",
        85_000,
        110_000,
        "annual",
    ),
    ("Healthcare & Medical", "Pharmacy", "Hospital Pharmacist", 95_000, 115_000, "annual"),
    ("Hospitality & Tourism", "Chefs/Cooks", "Chef de Partie", 65_000, 75_000, "annual"),
    ("Hospitality & Tourism", "Bar & Beverage Staff", "Bartender", 28, 33, "hourly"),
    ("Hospitality & Tourism", "Waiting Staff", "Barista and Waiter", 28, 32, "hourly"),
    (
        "Human Resources & Recruitment",
        "Recruitment - Internal",
        "Talent Acquisition Partner",
        95_000,
        115_000,
        "annual",
    ),
    (
        "Human Resources & Recruitment",
        "Consulting & Generalist HR",
        "HR Business Partner",
        120_000,
        140_000,
        "annual",
    ),
    (
        "Information & Communication Technology",
        "Developers/Programmers",
        "Senior Python Developer",
        150_000,
        180_000,
        "annual",
    ),
    (
        "Information & Communication Technology",
        "Developers/Programmers",
        "Full Stack Developer",
        120_000,
        150_000,
        "annual",
    ),
    (
        "Information & Communication Technology",
        "Engineering - Software",
        "Software Engineer",
        130_000,
        160_000,
        "annual",
    ),
    (
        "Information & Communication Technology",
        "Help Desk & IT Support",
        "IT Support Officer",
        65_000,
        80_000,
        "annual",
    ),
    (
        "Information & Communication Technology",
        "Database Development & Administration",
        "Data Engineer",
        140_000,
        170_000,
        "annual",
    ),
    (
        "Information & Communication Technology",
        "Security",
        "Cyber Security Analyst",
        130_000,
        160_000,
        "annual",
    ),
    ("Insurance & Superannuation", "Claims", "Claims Consultant", 70_000, 80_000, "annual"),
    ("Legal", "Corporate & Commercial Law", "Corporate Lawyer", 130_000, 170_000, "annual"),
    ("Legal", "Law Clerks & Paralegals", "Paralegal", 65_000, 78_000, "annual"),
    (
        "Manufacturing, Transport & Logistics",
        "Warehousing, Storage & Distribution",
        "Warehouse Storeperson",
        30,
        34,
        "hourly",
    ),
    (
        "Manufacturing, Transport & Logistics",
        "Couriers, Drivers & Postal Services",
        "HR Truck Driver",
        35,
        42,
        "hourly",
    ),
    (
        "Marketing & Communications",
        "Digital & Search Marketing",
        "Digital Marketing Specialist",
        85_000,
        100_000,
        "annual",
    ),
    ("Marketing & Communications", "Brand Management", "Brand Manager", 120_000, 140_000, "annual"),
    (
        "Mining, Resources & Energy",
        "Mining - Operations",
        "Haul Truck Operator (FIFO)",
        120_000,
        150_000,
        "annual",
    ),
    (
        "Mining, Resources & Energy",
        "Mining - Exploration & Geoscience",
        "Exploration Geologist",
        130_000,
        170_000,
        "annual",
    ),
    (
        "Real Estate & Property",
        "Residential Leasing & Property Management",
        "Property Manager",
        70_000,
        85_000,
        "annual",
    ),
    ("Retail & Consumer Products", "Retail Assistants", "Retail Sales Assistant", 28, 31, "hourly"),
    ("Retail & Consumer Products", "Management - Store", "Store Manager", 75_000, 90_000, "annual"),
    ("Sales", "New Business Development", "Business Development Manager", 120_000, 150_000, "annual"),
    ("Sales", "Sales Representatives/Consultants", "Sales Representative", 70_000, 85_000, "annual"),
    (
        "Science & Technology",
        "Laboratory & Technical Services",
        "Laboratory Technician",
        65_000,
        78_000,
        "annual",
    ),
    (
        "Science & Technology",
        "Mathematics, Statistics & Information Sciences",
        "Data Scientist",
        130_000,
        160_000,
        "annual",
    ),
    ("Self Employment", "Self Employment", "Owner-Driver Courier Partner", 300, 600, "daily"),
    ("Sport & Recreation", "Fitness & Personal Training", "Personal Trainer", 32, 45, "hourly"),
    ("Trades & Services", "Electricians", "A-Grade Electrician", 45, 55, "hourly"),
    ("Trades & Services", "Plumbers", "Licensed Plumber", 42, 52, "hourly"),
    ("Trades & Services", "Carpentry & Cabinet Making", "Qualified Carpenter", 40, 50, "hourly"),
    ("Trades & Services", "Automotive Trades", "Light Vehicle Mechanic", 36, 44, "hourly"),
]

# (suburb, state, weight) — weighted roughly by the size of each job market.
PLACES: list[tuple[str, str, int]] = [
    ("Sydney", "NSW", 14),
    ("Parramatta", "NSW", 5),
    ("North Sydney", "NSW", 3),
    ("Newcastle", "NSW", 3),
    ("Wollongong", "NSW", 2),
    ("Penrith", "NSW", 1),
    ("Liverpool", "NSW", 1),
    ("Chatswood", "NSW", 2),
    ("Melbourne", "VIC", 13),
    ("Docklands", "VIC", 3),
    ("Richmond", "VIC", 2),
    ("Geelong", "VIC", 2),
    ("Dandenong", "VIC", 1),
    ("Ballarat", "VIC", 1),
    ("Bendigo", "VIC", 1),
    ("Brisbane City", "QLD", 8),
    ("Fortitude Valley", "QLD", 2),
    ("Southport", "QLD", 2),
    ("Townsville", "QLD", 1),
    ("Cairns", "QLD", 1),
    ("Toowoomba", "QLD", 1),
    ("Maroochydore", "QLD", 1),
    ("Perth", "WA", 6),
    ("Fremantle", "WA", 1),
    ("Joondalup", "WA", 1),
    ("Karratha", "WA", 1),
    ("Kalgoorlie", "WA", 1),
    ("Adelaide", "SA", 4),
    ("Mawson Lakes", "SA", 1),
    ("Hobart", "TAS", 2),
    ("Launceston", "TAS", 1),
    ("Canberra", "ACT", 3),
    ("Barton", "ACT", 1),
    ("Darwin", "NT", 1),
    ("Alice Springs", "NT", 1),
]

# Fictional employers: a dozen Australian companies covering the 30 classifications
# (``hires``), so a nurse is hired by a health provider. ABNs are made valid from a
# nine-digit serial by the checksum rule (``demo_abn``); they belong to nobody.


@dataclass(frozen=True)
class DemoCompany:
    name: str
    industry: str
    size: CompanySize
    head_office: tuple[str, str]
    abn_serial: str
    about: str
    hires: tuple[str, ...]
    benefits: tuple[str, ...] = ()

    @property
    def website(self) -> str:
        return "https://" + "".join(c for c in self.name.lower() if c.isalnum()) + ".example"


DEMO_COMPANIES: list[DemoCompany] = [
    DemoCompany(
        "Eucalypt Software",
        "Information & Communication Technology",
        CompanySize.medium,
        ("Parramatta", "NSW"),
        "824753556",
        "Australian-built software for councils, schools and health services.",
        ("Information & Communication Technology", "Design & Architecture", "Science & Technology"),
        ("Hybrid work", "Learning budget", "Extra week of leave"),
    ),
    DemoCompany(
        "Southern Cross Health",
        "Healthcare & Medical",
        CompanySize.enterprise,
        ("Melbourne", "VIC"),
        "418230917",
        "A not-for-profit network of hospitals, clinics and community health centres.",
        ("Healthcare & Medical", "Community Services & Development"),
        ("Salary packaging", "Paid parental leave", "Employee assistance program"),
    ),
    DemoCompany(
        "Banksia Financial Group",
        "Banking & Financial Services",
        CompanySize.very_large,
        ("Sydney", "NSW"),
        "306115842",
        "A customer-owned bank, insurer and super fund serving two million members.",
        (
            "Banking & Financial Services",
            "Accounting",
            "Insurance & Superannuation",
            "Call Centre & Customer Service",
        ),
        ("Discounted home loans", "Bonus scheme", "Volunteering days"),
    ),
    DemoCompany(
        "Ironbark Builders",
        "Construction",
        CompanySize.large,
        ("Brisbane City", "QLD"),
        "557204318",
        "Commercial and residential builders across South East Queensland since 1987.",
        ("Construction", "Trades & Services", "Engineering"),
        ("Company vehicle", "RDO every second Friday", "Apprentice mentoring"),
    ),
    DemoCompany(
        "Red Centre Mining",
        "Mining, Resources & Energy",
        CompanySize.very_large,
        ("Perth", "WA"),
        "690341275",
        "Iron ore, lithium and gold operations in the Pilbara and the Goldfields.",
        ("Mining, Resources & Energy", "Engineering", "Science & Technology"),
        ("FIFO roster 8/6", "Site allowances", "Flights from Perth"),
    ),
    DemoCompany(
        "Coral Coast Hospitality",
        "Hospitality & Tourism",
        CompanySize.large,
        ("Cairns", "QLD"),
        "172093648",
        "Resorts, restaurants and reef tours from Cairns to the Whitsundays.",
        ("Hospitality & Tourism", "Sport & Recreation"),
        ("Staff meals", "Accommodation assistance", "Discounted stays"),
    ),
    DemoCompany(
        "Kookaburra Retail",
        "Retail & Consumer Products",
        CompanySize.enterprise,
        ("Melbourne", "VIC"),
        "845126093",
        "Homewares and outdoor stores in every state, and a busy online shop.",
        (
            "Retail & Consumer Products",
            "Marketing & Communications",
            "Sales",
            "Advertising, Arts & Media",
            "Call Centre & Customer Service",
        ),
        ("Staff discount", "Career pathways", "Birthday leave"),
    ),
    DemoCompany(
        "Koala Logistics",
        "Manufacturing, Transport & Logistics",
        CompanySize.larger,
        ("Newcastle", "NSW"),
        "263908154",
        "Warehousing, line haul and last-mile delivery along the east coast.",
        ("Manufacturing, Transport & Logistics", "Self Employment"),
        ("Overtime rates", "Licence upgrades paid", "Safety-first culture"),
    ),
    DemoCompany(
        "Wattle Education",
        "Education & Training",
        CompanySize.larger,
        ("Canberra", "ACT"),
        "731560429",
        "Early learning centres, schools and youth programs in the ACT and NSW.",
        ("Education & Training", "Community Services & Development"),
        ("School-holiday leave", "Professional development", "Salary packaging"),
    ),
    DemoCompany(
        "Harbourside Group",
        "CEO & General Management",
        CompanySize.large,
        ("North Sydney", "NSW"),
        "409817362",
        "A family-owned group in property, business services and people services.",
        (
            "CEO & General Management",
            "Administration & Office Support",
            "Human Resources & Recruitment",
            "Real Estate & Property",
        ),
        ("Flexible hours", "Wellbeing allowance", "End-of-trip facilities"),
    ),
    DemoCompany(
        "Great Southern Advisory",
        "Consulting & Strategy",
        CompanySize.medium,
        ("Adelaide", "SA"),
        "598273640",
        "Strategy, legal and policy advice for governments and growing businesses.",
        ("Consulting & Strategy", "Government & Defence", "Legal"),
        ("Hybrid work", "Study leave", "Paid professional memberships"),
    ),
    DemoCompany(
        "Riverina Growers",
        "Farming, Animals & Conservation",
        CompanySize.small,
        ("Wagga Wagga", "NSW"),
        "127649835",
        "A growers' cooperative of orchards, vineyards and livestock farms.",
        ("Farming, Animals & Conservation",),
        ("On-farm accommodation", "Seasonal bonus", "Produce to take home"),
    ),
]


def demo_abn(serial: str) -> str:
    """A valid ABN ending in the nine-digit ``serial``: the two leading digits are
    chosen so that the checksum (schemas.normalise_abn) holds."""
    weighted = sum(w * int(d) for w, d in zip(ABN_WEIGHTS[2:], serial, strict=True))
    prefix = -weighted % 89 + 10  # (d1 - 1) * 10 + d2 == prefix - 10, which is -weighted mod 89
    abn = f"{prefix}{serial}"
    return f"{abn[:2]} {abn[2:5]} {abn[5:8]} {abn[8:]}"


def _company_data(company: DemoCompany) -> CompanyCreate:
    suburb, state = company.head_office
    return CompanyCreate(
        name=company.name,
        description=company.about,
        website=company.website,
        industry=company.industry,
        size=company.size,
        locations=[LocationIn(suburb=suburb, state=state)],
        benefits=list(company.benefits),
        abn=demo_abn(company.abn_serial),
    )


BLURBS = [
    "Join a friendly, high-performing team that values flexibility and growth.",
    "You will work closely with stakeholders across the business to deliver great outcomes.",
    "We offer ongoing training, salary packaging and a genuine commitment to wellbeing.",
    "This role suits someone who takes ownership and enjoys solving practical problems.",
    "Enjoy a modern workplace close to public transport with end-of-trip facilities.",
]

WORK_TYPES = [WorkType.full_time] * 7 + [WorkType.part_time, WorkType.contract_temp, WorkType.casual_vacation]


def _description(title: str, company: str, suburb: str, rng: random.Random) -> str:
    lines = [
        f"{company} is hiring a {title} based in {suburb}.",
        *rng.sample(BLURBS, 3),
        "To apply you must have full working rights in Australia.",
    ]
    return " ".join(lines)


def hiring(classification: str) -> list[str]:
    """The demo companies that advertise in ``classification``."""
    return [c.name for c in DEMO_COMPANIES if classification in c.hires]


#: What demo postings ask for, by title (normalised against the skills catalogue when
#: the posting is created, like any employer's).
SKILLS_BY_TITLE: dict[str, list[str]] = {
    "Senior Financial Accountant": ["Microsoft Excel", "Xero", "SAP"],
    "Accounts Payable Officer": ["Microsoft Excel", "MYOB", "Xero"],
    "Tax Accountant": ["Microsoft Excel", "Xero"],
    "Executive Assistant": ["Microsoft Outlook", "Microsoft Excel", "Microsoft PowerPoint"],
    "Credit Analyst": ["Microsoft Excel", "SQL"],
    "Customer Service Consultant": ["Salesforce", "Zendesk"],
    "Construction Project Manager": ["Microsoft Project", "Procore"],
    "Senior Estimator": ["Microsoft Excel", "AutoCAD"],
    "Project Architect": ["Revit", "AutoCAD", "SketchUp"],
    "UX Designer": ["Figma", "Adobe Creative Cloud", "HTML"],
    "Civil Engineer": ["AutoCAD", "Civil 3D", "MATLAB"],
    "Electrical Engineer": ["AutoCAD", "MATLAB"],
    "Talent Acquisition Partner": ["LinkedIn", "Workday"],
    "HR Business Partner": ["Workday", "Microsoft Excel"],
    "Senior Python Developer": ["Python", "Django", "PostgreSQL", "Docker", "AWS"],
    "Full Stack Developer": ["TypeScript", "React", "Node.js", "PostgreSQL"],
    "Software Engineer": ["Python", "Java", "Kubernetes", "Git"],
    "IT Support Officer": ["Microsoft Windows", "Microsoft 365", "Active Directory"],
    "Data Engineer": ["Python", "SQL", "Apache Spark", "AWS", "Apache Airflow"],
    "Cyber Security Analyst": ["Splunk", "Linux", "Python"],
    "Digital Marketing Specialist": ["Google Analytics", "Google Ads", "HubSpot"],
    "Brand Manager": ["Adobe Creative Cloud", "Microsoft PowerPoint"],
    "Exploration Geologist": ["ArcGIS", "Leapfrog"],
    "Property Manager": ["PropertyMe", "Microsoft Excel"],
    "Business Development Manager": ["Salesforce", "HubSpot"],
    "Sales Representative": ["Salesforce"],
    "Data Scientist": ["Python", "R", "SQL", "scikit-learn", "Tableau"],
}


def demo_postings(count: int, company_ids: dict[str, uuid.UUID], seed: int = 2026) -> list[JobCreate]:
    """``count`` postings of the demo companies (``company_ids`` by name)."""
    rng = random.Random(seed)
    places = [p for p in PLACES if find_locality(p[0], p[1])]
    weights = [p[2] for p in places]
    out: list[JobCreate] = []
    for _ in range(count):
        classification, sub, title, low, high, period = rng.choice(ROLES)
        suburb, state, _w = rng.choices(places, weights)[0]
        company = rng.choice(hiring(classification))
        factor = rng.uniform(0.92, 1.08)
        lo, hi = (
            round(low * factor, 2 if period == "hourly" else 0),
            round(high * factor, 2 if period == "hourly" else 0),
        )
        work_type = (
            WorkType.casual_vacation if period == "hourly" and rng.random() < 0.4 else rng.choice(WORK_TYPES)
        )
        out.append(
            JobCreate(
                company_id=company_ids[company],
                title=title,
                description=_description(title, company, suburb, rng),
                location=LocationIn(suburb=suburb, state=state),
                salary=SalaryIn(
                    minimum_cents=int(lo * 100), maximum_cents=int(hi * 100), period=SalaryPeriod(period)
                ),
                work_type=work_type,
                classification=classification,
                sub_classification=sub if sub else None,
                skills=SKILLS_BY_TITLE.get(title, []),
            )
        )
    return out


async def _demo_companies(session: AsyncSession, owner: Principal, now: datetime) -> dict[str, uuid.UUID]:
    """The demo companies owned by ``owner``, created and verified (as an admin would)
    where missing; their ids by name."""
    existing = {
        c.name: c.id
        for c in await session.scalars(
            sa.select(Company).where(
                Company.created_by == owner.user_id, Company.name.in_([c.name for c in DEMO_COMPANIES])
            )
        )
    }
    joined = now - timedelta(days=90)
    for demo in DEMO_COMPANIES:
        if demo.name in existing:
            continue
        company = await companies.create_company(
            session=session, owner=owner, data=_company_data(demo), now=joined
        )
        await companies.request_verification(session=session, company=company, now=joined)
        await companies.decide_verification(
            session=session, company=company, approve=True, reason=None, now=joined + timedelta(days=1)
        )
        existing[demo.name] = company.id
    return existing


async def seed_demo_jobs(
    settings: JobsSettings, *, owner_id: uuid.UUID | None = None, count: int = 300, db: Database | None = None
) -> int:
    """Create the demo companies (verified, owned by ``owner_id``) and publish ``count``
    demo postings of theirs, unless the database has jobs already. Returns how many
    postings were created."""
    own_db = db is None
    db = db or Database(settings.database_url)
    try:
        async with db.session() as session:
            if await session.scalar(sa.select(sa.func.count()).select_from(JobPosting)):
                return 0
        owner = Principal(
            user_id=owner_id or uuid.UUID(int=1), roles=frozenset({"employer"}), email_verified=True
        )
        now = datetime.now(UTC)
        rng = random.Random(7)
        async with db.transaction() as session:
            company_ids = await _demo_companies(session, owner, now)
            postings = demo_postings(count, company_ids)
            for i, data in enumerate(postings):
                # Spread over the last three weeks: none is near its 30-day expiry yet.
                published = now - timedelta(minutes=rng.randint(0, 21 * 24 * 60), seconds=i)
                job = await service.create_job(session=session, principal=owner, data=data, now=published)
                await service.publish_job(session=session, job=job, now=published)
        return len(postings)
    finally:
        if own_db:
            await db.dispose()
