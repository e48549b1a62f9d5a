"""The judged query set: a small corpus of realistic Australian postings with near
misses on purpose, and queries with the postings that should rank first (graded
3 = exactly it, 2 = a good answer, 1 = acceptable). ``test_relevance.py`` reports
nDCG@10 over it and fails when the mean drops below the recorded value.

The corpus and judgements were written by hand for this project; change them only with
a reason in the commit message, and re-record the value."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Posting:
    key: str
    title: str
    description: str
    company: str
    suburb: str
    state: str
    postcode: str
    classification: str
    work_type: str = "full_time"
    skills: tuple[str, ...] = ()
    salary: tuple[int, int, str] | None = None  # dollars, period
    days_ago: int = 3
    arrangement: str = "on_site"


@dataclass(frozen=True)
class Judged:
    query: dict[str, str]
    grades: dict[str, int] = field(default_factory=dict)


IT = "Information & Communication Technology"
HEALTH = "Healthcare & Medical"
TRADES = "Trades & Services"
HOSP = "Hospitality & Tourism"
LOGISTICS = "Manufacturing, Transport & Logistics"
EDUCATION = "Education & Training"
ACCOUNTING = "Accounting"
ADMIN = "Administration & Office Support"

CORPUS: tuple[Posting, ...] = (
    # --- software
    Posting(
        "py_syd",
        "Senior Python Developer",
        "Build APIs in Python and FastAPI for a national marketplace. "
        "You will own services end to end, review code and mentor.",
        "Eucalypt Software",
        "Sydney",
        "NSW",
        "2000",
        IT,
        skills=("Python", "PostgreSQL", "Amazon Web Services AWS software"),
        salary=(150_000, 180_000, "annual"),
    ),
    Posting(
        "py_parra",
        "Python Developer",
        "Join our Parramatta team building data pipelines and web services "
        "in Python. Django experience is a plus.",
        "Westside Analytics",
        "Parramatta",
        "NSW",
        "2150",
        IT,
        skills=("Python", "Django"),
        salary=(110_000, 130_000, "annual"),
    ),
    Posting(
        "py_melb",
        "Python Software Engineer",
        "Work on our Python platform for logistics customers across "
        "Victoria. Hybrid, two days in the Melbourne office.",
        "Southern Freight Tech",
        "Melbourne",
        "VIC",
        "3000",
        IT,
        skills=("Python", "Kubernetes"),
        salary=(130_000, 150_000, "annual"),
        arrangement="hybrid",
    ),
    Posting(
        "java_syd",
        "Java Developer",
        "Spring Boot microservices for a bank. Some Python scripting for "
        "automation is useful but not required.",
        "Harbour Bank",
        "Sydney",
        "NSW",
        "2000",
        IT,
        skills=("Oracle Java", "Spring Framework"),
        salary=(140_000, 160_000, "annual"),
    ),
    Posting(
        "data_eng",
        "Data Engineer",
        "Design data pipelines with Python, Spark and Airflow. Work with analysts and data scientists.",
        "Koala Insights",
        "Brisbane City",
        "QLD",
        "4000",
        IT,
        skills=("Python", "Apache Spark"),
        salary=(130_000, 150_000, "annual"),
    ),
    Posting(
        "frontend",
        "Frontend Developer (React)",
        "Build accessible React interfaces in TypeScript for our customers.",
        "Wattle Digital",
        "Melbourne",
        "VIC",
        "3000",
        IT,
        skills=("React", "TypeScript"),
    ),
    Posting(
        "devops",
        "DevOps Engineer",
        "Run Kubernetes clusters on AWS, automate with Terraform and Python.",
        "Cloudy Bay Systems",
        "Hobart",
        "TAS",
        "7000",
        IT,
        skills=("Kubernetes", "Python"),
    ),
    Posting(
        "helpdesk",
        "IT Support Officer",
        "First-level support for staff: laptops, accounts, printers. Friendly and patient.",
        "Riverina Council",
        "Wagga Wagga",
        "NSW",
        "2650",
        IT,
    ),
    # --- nursing
    Posting(
        "rn_melb",
        "Registered Nurse - Surgical Ward",
        "Provide patient-centred care on a busy surgical ward. "
        "AHPRA registration as a Registered Nurse required.",
        "Southern Cross Health",
        "Melbourne",
        "VIC",
        "3000",
        HEALTH,
        salary=(45, 55, "hourly"),
    ),
    Posting(
        "rn_syd",
        "Registered Nurse (RN) - Emergency",
        "Emergency department RN role with rotating rosters and great education support.",
        "Harbourside Hospital",
        "Sydney",
        "NSW",
        "2000",
        HEALTH,
        salary=(48, 58, "hourly"),
    ),
    Posting(
        "rn_aged",
        "Registered Nurse - Aged Care",
        "Lead care for residents in a modern aged care home. RN registration required.",
        "Banksia Aged Care",
        "Geelong",
        "VIC",
        "3220",
        HEALTH,
        salary=(44, 52, "hourly"),
    ),
    Posting(
        "en_melb",
        "Enrolled Nurse",
        "Enrolled Nurse for a rehabilitation unit, working under the direction of registered nurses.",
        "Southern Cross Health",
        "Melbourne",
        "VIC",
        "3000",
        HEALTH,
    ),
    Posting(
        "nurse_unit",
        "Nurse Unit Manager - Cardiology",
        "Manage the cardiology nursing team. Registered Nurse with leadership experience.",
        "Harbourside Hospital",
        "Sydney",
        "NSW",
        "2000",
        HEALTH,
        salary=(140_000, 160_000, "annual"),
    ),
    Posting(
        "ain",
        "Assistant in Nursing",
        "Support nurses with personal care of patients. Certificate III required.",
        "Banksia Aged Care",
        "Geelong",
        "VIC",
        "3220",
        HEALTH,
        work_type="casual_vacation",
    ),
    Posting(
        "physio",
        "Physiotherapist",
        "Outpatient musculoskeletal physiotherapy in a friendly clinic.",
        "Move Well Physio",
        "Adelaide",
        "SA",
        "5000",
        HEALTH,
    ),
    Posting(
        "nursery",
        "Nursery Hand",
        "Plant nursery work: potting, watering and dispatching orders. Not a nursing role.",
        "Greenleaf Growers",
        "Toowoomba City",
        "QLD",
        "4350",
        "Farming, Animals & Conservation",
    ),
    # --- trades
    Posting(
        "elec_perth",
        "Electrician",
        "Commercial electrician for fit-outs in Perth. A-grade licence required.",
        "Swan Electrical",
        "Perth",
        "WA",
        "6000",
        TRADES,
        salary=(50, 60, "hourly"),
    ),
    Posting(
        "elec_bris",
        "Electrician - Maintenance",
        "Industrial maintenance electrician on a day shift roster.",
        "Moreton Manufacturing",
        "Brisbane City",
        "QLD",
        "4000",
        TRADES,
    ),
    Posting(
        "elec_apprentice",
        "Apprentice Electrician",
        "Start your career as a sparky. 1st or 2nd year apprentices welcome.",
        "Swan Electrical",
        "Perth",
        "WA",
        "6000",
        TRADES,
    ),
    Posting(
        "carpenter",
        "Carpenter",
        "Residential framing and fit-out carpenter for a busy builder.",
        "Gumtree Homes",
        "Newcastle",
        "NSW",
        "2300",
        TRADES,
    ),
    Posting(
        "plumber",
        "Plumber",
        "Licensed plumber for maintenance and new builds.",
        "Gumtree Homes",
        "Newcastle",
        "NSW",
        "2300",
        TRADES,
    ),
    Posting(
        "hvac",
        "Air Conditioning Technician",
        "Service and install split systems. Refrigerant licence required. Electrical licence is a bonus.",
        "Cool Change Services",
        "Perth",
        "WA",
        "6000",
        TRADES,
    ),
    # --- hospitality
    Posting(
        "barista_syd",
        "Barista",
        "Experienced barista for a busy specialty cafe in Surry Hills.",
        "Bean There Cafe",
        "Surry Hills",
        "NSW",
        "2010",
        HOSP,
        work_type="part_time",
    ),
    Posting(
        "barista_melb",
        "Barista / All-rounder",
        "Coffee, counter and kitchen help in a Fitzroy cafe.",
        "Little Lane Coffee",
        "Fitzroy",
        "VIC",
        "3065",
        HOSP,
        work_type="casual_vacation",
    ),
    Posting(
        "chef",
        "Chef de Partie",
        "Modern Australian restaurant seeks a chef de partie.",
        "Saltbush Dining",
        "Adelaide",
        "SA",
        "5000",
        HOSP,
    ),
    Posting(
        "bartender",
        "Bartender",
        "Cocktail bartender for a rooftop bar. RSA required.",
        "Skyline Bar",
        "Brisbane City",
        "QLD",
        "4000",
        HOSP,
        work_type="casual_vacation",
    ),
    # --- logistics
    Posting(
        "forklift",
        "Forklift Driver",
        "LF licence holder to load and unload trucks in our warehouse.",
        "Outback Logistics",
        "Truganina",
        "VIC",
        "3029",
        LOGISTICS,
        skills=("forklift licence",),
        salary=(30, 34, "hourly"),
    ),
    Posting(
        "storeperson",
        "Storeperson",
        "Pick and pack orders. A forklift licence is an advantage.",
        "Outback Logistics",
        "Truganina",
        "VIC",
        "3029",
        LOGISTICS,
    ),
    Posting(
        "truck_hr",
        "HR Truck Driver",
        "Heavy rigid truck driver for metro deliveries. HR licence required.",
        "Red Centre Transport",
        "Adelaide",
        "SA",
        "5000",
        LOGISTICS,
    ),
    Posting(
        "courier",
        "Courier Driver",
        "Van courier for parcel deliveries around Perth.",
        "Quokka Couriers",
        "Perth",
        "WA",
        "6000",
        LOGISTICS,
    ),
    # --- education
    Posting(
        "teacher_primary",
        "Primary School Teacher",
        "Classroom teacher for Year 3. Teacher registration required.",
        "Lakeside Primary School",
        "Canberra",
        "ACT",
        "2600",
        EDUCATION,
    ),
    Posting(
        "teacher_maths",
        "Secondary Maths Teacher",
        "Teach mathematics to Years 7-12.",
        "Coastal College",
        "Surfers Paradise",
        "QLD",
        "4217",
        EDUCATION,
    ),
    Posting(
        "childcare",
        "Early Childhood Educator",
        "Diploma-qualified educator for our long day care centre.",
        "Little Wattles Childcare",
        "Canberra",
        "ACT",
        "2600",
        EDUCATION,
    ),
    # --- accounting and admin
    Posting(
        "accountant",
        "Accountant",
        "Management accounts, month-end close and BAS for a growing business. CPA or CA qualified.",
        "Banksia Financial Group",
        "Sydney",
        "NSW",
        "2000",
        ACCOUNTING,
        skills=("Xero",),
        salary=(95_000, 110_000, "annual"),
    ),
    Posting(
        "accounts_payable",
        "Accounts Payable Officer",
        "Process supplier invoices and payments.",
        "Red Centre Mining",
        "Perth",
        "WA",
        "6000",
        ACCOUNTING,
    ),
    Posting(
        "bookkeeper",
        "Bookkeeper",
        "Part-time bookkeeper using Xero and MYOB.",
        "Small Biz Books",
        "Hobart",
        "TAS",
        "7000",
        ACCOUNTING,
        work_type="part_time",
        skills=("Xero",),
    ),
    Posting(
        "receptionist",
        "Receptionist",
        "Front desk of a busy medical centre: bookings and billing.",
        "Harbourside Hospital",
        "Sydney",
        "NSW",
        "2000",
        ADMIN,
    ),
    Posting(
        "pa",
        "Personal Assistant to the CEO",
        "Diary management, travel and board papers for our CEO.",
        "Red Centre Mining",
        "Perth",
        "WA",
        "6000",
        ADMIN,
    ),
)

JUDGED: tuple[Judged, ...] = (
    Judged(
        {"q": "registered nurse"}, {"rn_melb": 3, "rn_syd": 3, "rn_aged": 3, "nurse_unit": 2, "en_melb": 1}
    ),
    Judged({"q": "RN"}, {"rn_melb": 3, "rn_syd": 3, "rn_aged": 3, "nurse_unit": 2}),
    Judged(
        {"q": "nurse"}, {"rn_melb": 3, "rn_syd": 3, "rn_aged": 3, "en_melb": 3, "nurse_unit": 2, "ain": 1}
    ),
    Judged({"q": "python developer"}, {"py_syd": 3, "py_parra": 3, "py_melb": 2, "data_eng": 1, "devops": 1}),
    Judged({"q": "pythn developer"}, {"py_syd": 3, "py_parra": 3, "py_melb": 2}),
    Judged({"q": "python", "location": "Parramatta", "radius_km": "30"}, {"py_parra": 3, "py_syd": 2}),
    Judged({"q": "python", "location": "VIC"}, {"py_melb": 3}),
    Judged({"q": "developer", "location": "Melbourne"}, {"py_melb": 3, "frontend": 3}),
    Judged({"q": "electrician"}, {"elec_perth": 3, "elec_bris": 3, "elec_apprentice": 2, "hvac": 1}),
    Judged({"q": "sparky"}, {"elec_perth": 3, "elec_bris": 3, "elec_apprentice": 3}),
    Judged({"q": "electrician", "location": "Perth"}, {"elec_perth": 3, "elec_apprentice": 2, "hvac": 1}),
    Judged({"q": "barista"}, {"barista_syd": 3, "barista_melb": 3}),
    Judged({"q": "cafe"}, {"barista_syd": 3, "barista_melb": 3}),
    Judged({"q": "forklift"}, {"forklift": 3, "storeperson": 2}),
    Judged({"q": "truck driver"}, {"truck_hr": 3, "courier": 1}),
    Judged({"q": "teacher"}, {"teacher_primary": 3, "teacher_maths": 3, "childcare": 1}),
    Judged({"q": "maths teacher"}, {"teacher_maths": 3, "teacher_primary": 1}),
    Judged({"q": "accountant"}, {"accountant": 3, "bookkeeper": 1, "accounts_payable": 1}),
    Judged({"q": "xero"}, {"bookkeeper": 3, "accountant": 3}),
    Judged({"q": "personal assistant"}, {"pa": 3, "receptionist": 1}),
    Judged({"q": "PA"}, {"pa": 3}),
    Judged({"q": "kubernetes"}, {"devops": 3, "py_melb": 2}),
    Judged({"q": "react"}, {"frontend": 3}),
    Judged({"q": "chef"}, {"chef": 3}),
    Judged({"q": "carpenter newcastle"}, {"carpenter": 3}),
)
