"""Skills normalised against the O*NET technology catalogue, with synonyms.

Employers type skills however they like ("JS", "ReactJS", "MS Excel", "white card");
job seekers' resumes say the same things differently again. Both sides are mapped to
one canonical name so that search, matching and recommendations compare like with
like. The jobs service normalises a posting's skills with :func:`normalise_skills`;
the resumes service builds a spaCy ``PhraseMatcher`` from :func:`surface_forms`.

Sources, in lookup order (a later source never overrides an earlier canonical name):

1. ``data/onet_technology_skills.tsv.gz`` — the distinct "Example" names of the O*NET
   29.2 Technology Skills file (O*NET 29.2 Database by USDOL/ETA, CC BY 4.0; see NOTICE). Columns:
   ``name``, ``category`` (the commodity title the name is filed under most often,
   ties broken alphabetically), ``hot`` (O*NET "Hot Technology"), ``in_demand``
   (flagged "In Demand" for at least one occupation). Derived by taking every distinct
   ``Example`` of ``onet_technology_skills.tsv``, sorted case-insensitively, gzipped.
2. :data:`AU_EXTRA_SKILLS` — software Australian ads ask for that O*NET does not list.
3. :data:`LICENCES` — Australian licences, tickets and checks (category ``licence``).
4. :data:`GENERAL_SKILLS` — common non-technology skills (category ``general``).

:data:`SYNONYMS` maps abbreviations and variants to those canonical names.

Lookup is case-insensitive and ignores whitespace and punctuation except ``#`` and
``+`` ("node js", "Node.JS" and "NodeJS" are all Node.js; C, C# and C++ stay apart).
A skill that matches nothing is kept as given (whitespace trimmed and collapsed,
capitalisation untouched) with ``matched=False``, so employers are never silently
overruled and the unmatched ones can be reviewed to grow the synonym list.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

LICENCE = "licence"
GENERAL = "general"


@dataclass(frozen=True)
class Skill:
    name: str
    category: str | None
    hot: bool
    matched: bool
    #: O*NET "In Demand" for at least one occupation
    in_demand: bool = False


# Software common in Australian job ads that O*NET 29.2 does not list (O*NET is a US
# catalogue: it has "MYOB BusinessEssentials" but not MYOB as ads use it, and no Xero).
# Categories reuse O*NET commodity titles so they sit with the rest of the catalogue.
AU_EXTRA_SKILLS: dict[str, str] = {
    "Xero": "Accounting software",
    "MYOB": "Accounting software",
    "Reckon": "Accounting software",
    "Employment Hero": "Human resources software",
    "KeyPay": "Human resources software",
    "Oracle Aconex": "Project management software",
    "SafetyCulture": "Compliance software",
    "Best Practice": "Medical software",
    "MedicalDirector": "Medical software",
    "Cin7": "Inventory management software",
    "Shopify": "Web platform development software",
    "Snowflake": "Data base management system software",
    "Databricks": "Business intelligence and data analysis software",
    "dbt": "Data base management system software",
    "Next.js": "Web platform development software",
    "Flutter": "Development environment software",
    "FastAPI": "Web platform development software",
    "Laravel": "Web platform development software",
    "Cypress": "Program testing software",
    "Playwright": "Program testing software",
    "Datadog": "Network monitoring software",
    "Nginx": "Application server software",
    "Zendesk": "Helpdesk or call center software",
    "Microsoft Power Apps": "Development environment software",
    "Microsoft Visual Studio Code": "Development environment software",
}

# Australian licences, tickets and checks employers ask for.
LICENCES: tuple[str, ...] = (
    "Responsible Service of Alcohol (RSA)",
    "Responsible Conduct of Gambling (RCG)",
    "White Card",
    "Working with Children Check",
    "National Police Check",
    "NDIS Worker Screening Check",
    "Driver Licence",
    "Forklift Licence",
    "Heavy Rigid (HR) Licence",
    "Medium Rigid (MR) Licence",
    "Light Rigid (LR) Licence",
    "Heavy Combination (HC) Licence",
    "Multi Combination (MC) Licence",
    "First Aid Certificate",
    "CPR Certificate",
    "Food Safety Supervisor Certificate",
    "Working at Heights",
    "Confined Space Entry",
    "Elevating Work Platform (EWP) Licence",
    "Dogging Licence",
    "Rigging Licence",
    "Crane Licence",
    "Electrical Licence",
    "Plumbing Licence",
    "Gas Fitting Licence",
    "Traffic Control Ticket",
    "Asbestos Removal Licence",
    "Security Licence",
    "AHPRA Registration",
    "Certificate III in Individual Support",
    "Certificate IV in Training and Assessment (TAE)",
)

# Common non-technology skills.
GENERAL_SKILLS: tuple[str, ...] = (
    "Customer Service",
    "Communication",
    "Teamwork",
    "Leadership",
    "Problem Solving",
    "Time Management",
    "Attention to Detail",
    "Stakeholder Management",
    "Project Management",
    "Sales",
    "Negotiation",
    "Data Entry",
    "Cash Handling",
    "Bookkeeping",
    "Payroll",
    "Accounts Payable",
    "Accounts Receivable",
    "Inventory Management",
    "Merchandising",
    "Barista",
    "Food Preparation",
    "Cleaning",
    "Manual Handling",
    "Aged Care",
    "Disability Support",
    "Child Care",
    "Patient Care",
    "Medication Administration",
    "Administration",
    "Reception",
    "Recruitment",
    "Marketing",
    "Social Media Marketing",
    "Copywriting",
    "Budgeting",
    "Financial Reporting",
    "Auditing",
    "Risk Management",
    "Work Health and Safety (WHS)",
    "Agile",
    "Scrum",
    "ITIL",
    "Lean Six Sigma",
    "Machine Learning",
)

# Abbreviations and variants → canonical name (an O*NET name or one of the curated
# lists above). Written as people type them: each one is also a surface form for the
# resumes matcher. Variants that differ from a canonical name only in case, spacing or
# punctuation ("Node JS") match anyway; some are listed for the matcher's sake.
SYNONYMS: dict[str, str] = {
    # languages
    "JS": "JavaScript",
    "ES6": "JavaScript",
    "ECMAScript": "JavaScript",
    "Vanilla JS": "JavaScript",
    "TS": "TypeScript",
    "Java": "Oracle Java",
    "Golang": "Go",
    "Python 3": "Python",
    "C Sharp": "C#",
    "CSharp": "C#",
    "Rust": "Rust programming language",
    "Objective-C": "Objective C",
    "VBA": "Microsoft Visual Basic for Applications VBA",
    "SQL": "Structured query language SQL",
    "T-SQL": "Transact-SQL",
    "PL/SQL": "Oracle PL/SQL",
    "HTML": "Hypertext markup language HTML",
    "HTML5": "Hypertext markup language HTML",
    "CSS": "Cascading style sheets CSS",
    "CSS3": "Cascading style sheets CSS",
    "SASS": "Syntactically awesome style sheets SASS",
    "SCSS": "Syntactically awesome style sheets SASS",
    "JSON": "JavaScript Object Notation JSON",
    "XML": "Extensible markup language XML",
    "REST": "RESTful API",
    "REST API": "RESTful API",
    "Shell Scripting": "Shell script",
    "Bash Scripting": "Bash",
    "PowerShell": "Microsoft PowerShell",
    # frameworks and runtimes
    "ReactJS": "React",
    "React.js": "React",
    "Redux": "React Redux",
    "Node": "Node.js",
    "NodeJS": "Node.js",
    "Node JS": "Node.js",
    "Angular": "Google Angular",
    "AngularJS": "Google Angular",
    "Vue": "Vue.js",
    "VueJS": "Vue.js",
    "NextJS": "Next.js",
    ".NET": "Microsoft .NET Framework",
    "dotnet": "Microsoft .NET Framework",
    ".NET Framework": "Microsoft .NET Framework",
    "ASP.NET": "Microsoft ASP.NET",
    "sklearn": "Scikit-learn",
    "Jupyter": "Jupyter Notebook",
    # databases and data
    "Postgres": "PostgreSQL",
    "Postgre SQL": "PostgreSQL",
    "MS SQL": "Microsoft SQL Server",
    "MSSQL": "Microsoft SQL Server",
    "SQL Server": "Microsoft SQL Server",
    "Mongo": "MongoDB",
    "Elastic": "Elasticsearch",
    "Kafka": "Apache Kafka",
    "Spark": "Apache Spark",
    "Hadoop": "Apache Hadoop",
    "Airflow": "Apache Airflow",
    "Tomcat": "Apache Tomcat",
    "Cassandra": "Apache Cassandra",
    "Power BI": "Microsoft Power BI",
    "PowerBI": "Microsoft Power BI",
    "Looker": "Google Looker Analytics",
    "Qlik": "Qlik software",
    "QlikView": "Qlik Tech QlikView",
    "Splunk": "Splunk Enterprise",
    "SPSS": "IBM SPSS Statistics",
    "Stata": "StataCorp Stata",
    "MATLAB": "The MathWorks MATLAB",
    "ArcGIS": "Esri ArcGIS",
    # cloud and devops
    "AWS": "Amazon Web Services AWS software",
    "Amazon Web Services": "Amazon Web Services AWS software",
    "EC2": "Amazon Elastic Compute Cloud EC2",
    "S3": "Amazon Simple Storage Service S3",
    "CloudFormation": "Amazon Web Services AWS CloudFormation",
    "GCP": "Google Cloud software",
    "Google Cloud": "Google Cloud software",
    "Google Cloud Platform": "Google Cloud software",
    "Azure": "Microsoft Azure software",
    "Microsoft Azure": "Microsoft Azure software",
    "Azure DevOps": "Microsoft Azure DevOps Services",
    "k8s": "Kubernetes",
    "OpenShift": "Red Hat OpenShift",
    "RHEL": "Red Hat Enterprise Linux",
    "Terraform": "IBM Terraform",
    "HashiCorp Terraform": "IBM Terraform",
    "Ansible": "Ansible software",
    "Jenkins": "Jenkins CI",
    "JIRA": "Atlassian JIRA",
    "Confluence": "Atlassian Confluence",
    "Bitbucket": "Atlassian Bitbucket",
    "VS Code": "Microsoft Visual Studio Code",
    "VSCode": "Microsoft Visual Studio Code",
    "Visual Studio": "Microsoft Visual Studio",
    # operating systems
    "Windows": "Microsoft Windows",
    "macOS": "Apple macOS",
    "Mac OS": "Apple macOS",
    "OS X": "Apple macOS",
    "iOS": "Apple iOS",
    "Android": "Google Android",
    "Active Directory": "Microsoft Active Directory",
    # office and business software
    "Excel": "Microsoft Excel",
    "MS Excel": "Microsoft Excel",
    "Word": "Microsoft Word",
    "MS Word": "Microsoft Word",
    "PowerPoint": "Microsoft PowerPoint",
    "MS PowerPoint": "Microsoft PowerPoint",
    "Outlook": "Microsoft Outlook",
    "MS Office": "Microsoft Office software",
    "Microsoft Office": "Microsoft Office software",
    "Office 365": "Microsoft Office software",
    "Microsoft 365": "Microsoft Office software",
    "M365": "Microsoft Office software",
    "MS Project": "Microsoft Project",
    "Visio": "Microsoft Visio",
    "SharePoint": "Microsoft SharePoint",
    "Teams": "Microsoft Teams",
    "MS Teams": "Microsoft Teams",
    "Power Automate": "Microsoft Power Automate",
    "Power Apps": "Microsoft Power Apps",
    "PowerApps": "Microsoft Power Apps",
    "Dynamics 365": "Microsoft Dynamics",
    "D365": "Microsoft Dynamics",
    "MS Dynamics": "Microsoft Dynamics",
    "Google Workspace": "Google Workspace software",
    "G Suite": "Google Workspace software",
    "Salesforce": "Salesforce software",
    "SFDC": "Salesforce software",
    "SAP": "SAP software",
    "Workday": "Workday software",
    "HubSpot": "HubSpot software",
    "SEO": "Search engine optimization SEO software",
    "NetSuite": "Oracle NetSuite",
    "QuickBooks": "Intuit QuickBooks",
    "MYOB AccountRight": "MYOB",
    "Xero Accounting": "Xero",
    "Aconex": "Oracle Aconex",
    "iAuditor": "SafetyCulture",
    "Epic": "Epic Systems",
    "Procore": "Procore software",
    # design
    "Photoshop": "Adobe Photoshop",
    "Illustrator": "Adobe Illustrator",
    "InDesign": "Adobe InDesign",
    "Premiere Pro": "Adobe Premiere Pro",
    "Acrobat": "Adobe Acrobat",
    "AutoCAD": "Autodesk AutoCAD",
    "Revit": "Autodesk Revit",
    "SolidWorks": "Dassault Systemes SolidWorks",
    # licences, tickets and checks
    "RSA": "Responsible Service of Alcohol (RSA)",
    "Responsible Service of Alcohol": "Responsible Service of Alcohol (RSA)",
    "RSA Certificate": "Responsible Service of Alcohol (RSA)",
    "RCG": "Responsible Conduct of Gambling (RCG)",
    "Responsible Conduct of Gambling": "Responsible Conduct of Gambling (RCG)",
    "Construction Induction Card": "White Card",
    "General Construction Induction": "White Card",
    "WWCC": "Working with Children Check",
    "WWC Check": "Working with Children Check",
    "Blue Card": "Working with Children Check",
    "Police Check": "National Police Check",
    "Police Clearance": "National Police Check",
    "NDIS Check": "NDIS Worker Screening Check",
    "NDIS Worker Check": "NDIS Worker Screening Check",
    "Drivers Licence": "Driver Licence",
    "Driver's Licence": "Driver Licence",
    "Drivers License": "Driver Licence",
    "Driver's License": "Driver Licence",
    "Car Licence": "Driver Licence",
    "C Class Licence": "Driver Licence",
    "Forklift License": "Forklift Licence",
    "Forklift Ticket": "Forklift Licence",
    "LF Licence": "Forklift Licence",
    "HR Licence": "Heavy Rigid (HR) Licence",
    "Heavy Rigid Licence": "Heavy Rigid (HR) Licence",
    "MR Licence": "Medium Rigid (MR) Licence",
    "Medium Rigid Licence": "Medium Rigid (MR) Licence",
    "LR Licence": "Light Rigid (LR) Licence",
    "HC Licence": "Heavy Combination (HC) Licence",
    "MC Licence": "Multi Combination (MC) Licence",
    "First Aid": "First Aid Certificate",
    "HLTAID011": "First Aid Certificate",
    "CPR": "CPR Certificate",
    "HLTAID009": "CPR Certificate",
    "Food Safety Supervisor": "Food Safety Supervisor Certificate",
    "Working at Height": "Working at Heights",
    "Heights Ticket": "Working at Heights",
    "Confined Space": "Confined Space Entry",
    "Confined Space Ticket": "Confined Space Entry",
    "EWP Licence": "Elevating Work Platform (EWP) Licence",
    "EWP Ticket": "Elevating Work Platform (EWP) Licence",
    "Dogman": "Dogging Licence",
    "Dogging Ticket": "Dogging Licence",
    "A Grade Electrical Licence": "Electrical Licence",
    "Traffic Controller Ticket": "Traffic Control Ticket",
    "Traffic Management Ticket": "Traffic Control Ticket",
    "AHPRA": "AHPRA Registration",
    "Cert III Individual Support": "Certificate III in Individual Support",
    "TAE40122": "Certificate IV in Training and Assessment (TAE)",
    "Cert IV TAE": "Certificate IV in Training and Assessment (TAE)",
    # general
    "Customer Service Skills": "Customer Service",
    "Communication Skills": "Communication",
    "Team Player": "Teamwork",
    "Time-Management": "Time Management",
    "Stakeholder Engagement": "Stakeholder Management",
    "Accounts Payable (AP)": "Accounts Payable",
    "Accounts Receivable (AR)": "Accounts Receivable",
    "Coffee Making": "Barista",
    "Childcare": "Child Care",
    "WHS": "Work Health and Safety (WHS)",
    "OH&S": "Work Health and Safety (WHS)",
    "OHS": "Work Health and Safety (WHS)",
    "Work Health and Safety": "Work Health and Safety (WHS)",
    "Six Sigma": "Lean Six Sigma",
    "ML": "Machine Learning",
}

_DROP = re.compile(r"[^\w#+]|_")


def skill_key(text: str) -> str:
    """The comparison key of a skill: case-folded, compatibility-normalised, with every
    character but letters, digits, ``#`` and ``+`` removed."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).casefold())


def _tidy(text: str) -> str:
    return " ".join(text.split())


def _onet_rows() -> Iterable[tuple[str, str, bool, bool]]:
    data = resources.files(__package__).joinpath("data", "onet_technology_skills.tsv.gz").read_bytes()
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    for line in lines[1:]:  # header: name, category, hot, in_demand
        name, category, hot, in_demand = line.split("\t")
        yield name, category, hot == "Y", in_demand == "Y"


@lru_cache(maxsize=1)
def _index() -> tuple[Mapping[str, Skill], Mapping[str, Skill], Mapping[str, str]]:
    """(canonical name → Skill, key → Skill, lower-cased surface form → canonical name),
    built once."""
    by_key: dict[str, Skill] = {}

    def add(skill: Skill) -> None:
        by_key.setdefault(skill_key(skill.name), skill)

    for name, category, hot, in_demand in _onet_rows():
        add(Skill(name=name, category=category, hot=hot, matched=True, in_demand=in_demand))
    for name, category in AU_EXTRA_SKILLS.items():
        add(Skill(name=name, category=category, hot=False, matched=True))
    for name in LICENCES:
        add(Skill(name=name, category=LICENCE, hot=False, matched=True))
    for name in GENERAL_SKILLS:
        add(Skill(name=name, category=GENERAL, hot=False, matched=True))

    by_name = {skill.name: skill for skill in by_key.values()}
    forms = {name.lower(): name for name in by_name}
    for variant, canonical in SYNONYMS.items():
        skill = by_name[canonical]  # a KeyError here is a typo in SYNONYMS
        by_key.setdefault(skill_key(variant), skill)
        forms.setdefault(variant.lower(), canonical)
    return MappingProxyType(by_name), MappingProxyType(by_key), MappingProxyType(forms)


def catalogue() -> Mapping[str, Skill]:
    """Every known skill by canonical name (O*NET, AU extras, licences, general)."""
    return _index()[0]


def surface_forms() -> Mapping[str, str]:
    """Every lower-cased canonical name and synonym → canonical name (for phrase matchers)."""
    return _index()[2]


def normalise_skill(text: str) -> Skill:
    """The catalogue entry ``text`` names, or ``text`` itself (tidied) marked unmatched.

    Raises ``ValueError`` for blank text: there is no skill to keep.
    """
    tidy = _tidy(text)
    key = skill_key(tidy)
    if not key:
        raise ValueError("A skill needs at least one letter or digit.")
    known = _index()[1].get(key)
    if known is not None:
        return known
    return Skill(name=tidy, category=None, hot=False, matched=False)


def normalise_skills(texts: Iterable[str]) -> list[Skill]:
    """Each skill normalised, blanks dropped, duplicates (same canonical name, compared
    case- and punctuation-insensitively) removed; first occurrence wins, order kept."""
    seen: set[str] = set()
    out: list[Skill] = []
    for text in texts:
        if not skill_key(text):
            continue
        skill = normalise_skill(text)
        key = skill_key(skill.name)
        if key not in seen:
            seen.add(key)
            out.append(skill)
    return out
