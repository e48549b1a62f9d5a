"""Demo data for ``make run``: a few hundred realistic Australian job postings,
created and published through the service layer so their events flow to search
like any other posting's. Deterministic (seeded RNG), and skipped when jobs exist."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from aujobs_common.db import Database
from aujobs_common.events import SalaryPeriod, WorkType
from aujobs_common.reference import find_locality
from aujobs_common.security import Principal

from . import service
from .models import JobPosting
from .schemas import JobCreate, LocationIn, SalaryIn
from .settings import JobsSettings

# (classification, sub-classification, title, pay min, pay max, period)
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
    ("Hospitality & Tourism", "Waiting Staff", "Barista and Waiter", 27, 31, "hourly"),
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
    ("Retail & Consumer Products", "Retail Assistants", "Retail Sales Assistant", 26, 29, "hourly"),
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
    ("Self Employment", "Self Employment", "Independent Rideshare Driver Partner", 300, 600, "daily"),
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

# Fictional employers by classification, so a nurse is hired by a health provider.
COMPANIES: dict[str, list[str]] = {
    "Accounting": ["Banksia Chartered Accountants", "Harbourside Advisory"],
    "Administration & Office Support": ["Harbourside Group", "Wattle Business Services"],
    "Advertising, Arts & Media": ["Boomerang Media", "Southerly Studios"],
    "Banking & Financial Services": ["Banksia Financial", "Tasman Mutual Bank"],
    "Call Centre & Customer Service": ["Koala Energy Retail", "Tasman Telco"],
    "CEO & General Management": ["Murray River Foods", "Outback Energy"],
    "Community Services & Development": ["Waratah Community Care", "Lighthouse Youth Services"],
    "Construction": ["Bluegum Constructions", "Ironbark Builders"],
    "Consulting & Strategy": ["Great Southern Consulting", "Meridian Advisory"],
    "Design & Architecture": ["Sandstone Architects", "Jacaranda Design Studio"],
    "Education & Training": ["Wattle Education", "Riverbank Grammar School"],
    "Engineering": ["Tasman Engineering", "Snowy Range Engineering"],
    "Farming, Animals & Conservation": ["Riverina Growers", "Gumtree Veterinary Hospital"],
    "Government & Defence": ["Department of Regional Services", "City of Harbourside Council"],
    "Healthcare & Medical": ["Southern Cross Health", "Coastal Private Hospital"],
    "Hospitality & Tourism": ["Coral Coast Hospitality", "Laneway Espresso Bar"],
    "Human Resources & Recruitment": ["Anzac People Partners", "Harbourside Group"],
    "Information & Communication Technology": ["Eucalypt Software", "Platypus Labs", "Kookaburra Cloud"],
    "Insurance & Superannuation": ["Southern Cross Super", "Tasman Insurance"],
    "Legal": ["Great Dividing Legal", "Macquarie Street Lawyers"],
    "Manufacturing, Transport & Logistics": ["Koala Logistics", "Hume Freight"],
    "Marketing & Communications": ["Boomerang Marketing", "Kookaburra Retail"],
    "Mining, Resources & Energy": ["Red Centre Mining", "Pilbara Iron Resources"],
    "Real Estate & Property": ["Anzac Property Partners", "Bayside Realty"],
    "Retail & Consumer Products": ["Kookaburra Retail", "Wombat Outdoor Supplies"],
    "Sales": ["Tasman Telco", "Outback Energy"],
    "Science & Technology": ["Platypus Labs", "Southern Ocean Research Institute"],
    "Self Employment": ["Jumpa Rides"],
    "Sport & Recreation": ["Aquatic & Fitness Centres Australia", "Bondi Strength Club"],
    "Trades & Services": ["Sparky Bros Electrical", "Ironbark Builders", "Harbour City Plumbing"],
}

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


def demo_postings(count: int, seed: int = 2026) -> list[JobCreate]:
    rng = random.Random(seed)
    places = [p for p in PLACES if find_locality(p[0], p[1])]
    weights = [p[2] for p in places]
    out: list[JobCreate] = []
    for _ in range(count):
        classification, sub, title, low, high, period = rng.choice(ROLES)
        suburb, state, _w = rng.choices(places, weights)[0]
        company = rng.choice(COMPANIES[classification])
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
                title=title,
                description=_description(title, company, suburb, rng),
                location=LocationIn(suburb=suburb, state=state),
                salary=SalaryIn(
                    minimum_cents=int(lo * 100), maximum_cents=int(hi * 100), period=SalaryPeriod(period)
                ),
                work_type=work_type,
                classification=classification,
                sub_classification=sub if sub else None,
                company_name=company,
            )
        )
    return out


async def seed_demo_jobs(
    settings: JobsSettings, *, owner_id: uuid.UUID | None = None, count: int = 300, db: Database | None = None
) -> int:
    """Create and publish ``count`` demo postings unless the database has jobs already.
    Returns how many were created."""
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
        postings = demo_postings(count)
        async with db.transaction() as session:
            for i, data in enumerate(postings):
                # Spread publication dates over the last four weeks.
                published = now - timedelta(minutes=rng.randint(0, 28 * 24 * 60), seconds=i)
                job = await service.create_job(session=session, owner=owner, data=data, now=published)
                await service.publish_job(session=session, job=job, now=published)
        return len(postings)
    finally:
        if own_db:
            await db.dispose()
