"""Resume parsing: the RenderCV sample CV in four layouts against its YAML source, and
built-in-the-test PDFs and DOCX files for the layouts and formats those do not cover
(two columns, Word styles and tables, Australian phone numbers, date ranges, heading
variants, product names that are ordinary words)."""

# ruff: noqa: RUF001 (dashes, bullets and typographic quotes are what resumes contain)

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from docx import Document
from docx.shared import Pt
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from aujobs_common.documents import DocumentKind, inspect_document
from aujobs_common.skills import skill_key
from aujobs_resumes.parsing import extract_skills, parse_resume
from aujobs_resumes.parsing.dates import find_range
from aujobs_resumes.parsing.resume import phones
from aujobs_resumes.parsing.sections import canonical_heading
from aujobs_resumes.parsing.skills import canonical_name

RENDERCV = Path(__file__).parent / "data" / "rendercv"
LAYOUTS = ["Classic", "Engineeringresumes", "Moderncv", "Sb2nov"]
#: measured 1.00 on all four layouts (bench/resumes.py); the floor leaves room for one miss
SKILL_RECALL_FLOOR = 0.9


def canonical(name: str) -> str:
    return canonical_name(name)[0]


# -- the RenderCV sample, four layouts ---------------------------------------------------


@pytest.fixture(scope="module")
def gold() -> dict[str, Any]:
    return yaml.safe_load((RENDERCV / "John_Doe_ClassicTheme_CV.yaml").read_text())["cv"]


@pytest.fixture(scope="module", params=LAYOUTS)
def parsed(request: pytest.FixtureRequest) -> Any:
    data = (RENDERCV / f"John_Doe_{request.param}Theme_CV.pdf").read_bytes()
    assert inspect_document(data) is DocumentKind.pdf
    return parse_resume(data, DocumentKind.pdf)


def test_the_four_yaml_sources_hold_the_same_cv() -> None:
    cvs = [yaml.safe_load((RENDERCV / f"John_Doe_{n}Theme_CV.yaml").read_text())["cv"] for n in LAYOUTS]
    assert all(cv == cvs[0] for cv in cvs)


def test_contact(parsed: Any, gold: dict[str, Any]) -> None:
    contact = parsed.document.contact
    assert contact.name == gold["name"]
    assert contact.email == gold["email"]
    assert contact.location == gold["location"]
    keys = " ".join(contact.links).lower()
    assert "linkedin.com/in/rendercv" in keys and "github.com/rendercv" in keys and "rendercv.com" in keys


def test_every_education_entry(parsed: Any, gold: dict[str, Any]) -> None:
    got = [(e.institution, e.degree, e.area, e.start, e.end) for e in parsed.document.education]
    want = [
        (e["institution"], e["degree"], e["area"], e["start_date"], e["end_date"])
        for e in gold["sections"]["education"]
    ]
    assert got == want


def test_every_experience_entry(parsed: Any, gold: dict[str, Any]) -> None:
    got = [(e.employer, e.title, e.start, e.end, e.current) for e in parsed.document.experience]
    want = [
        (
            e["company"],
            e["position"],
            e["start_date"],
            None if e["end_date"] == "present" else e["end_date"],
            e["end_date"] == "present",
        )
        for e in gold["sections"]["experience"]
    ]
    assert got == want


def test_experience_locations_and_highlights(parsed: Any, gold: dict[str, Any]) -> None:
    for entry, source in zip(parsed.document.experience, gold["sections"]["experience"], strict=True):
        assert entry.location == source["location"]
        # wrapped bullet lines are joined back (the first highlight wraps in two layouts)
        assert entry.highlights[0] == source["highlights"][0]


def test_skill_recall(parsed: Any, gold: dict[str, Any]) -> None:
    wanted = {
        skill_key(canonical(item))
        for group in gold["sections"]["skills"]
        for item in group["details"].split(",")
    }
    found = {skill_key(s) for s in parsed.document.skills}
    recall = len(wanted & found) / len(wanted)
    assert recall >= SKILL_RECALL_FLOOR, sorted(wanted - found)
    assert canonical("AWS") in parsed.document.skills  # a synonym, stored canonically


def test_sections_and_text(parsed: Any) -> None:
    assert {"contact", "education", "experience", "skills"} <= set(parsed.sections)
    assert "Selected Honors" in parsed.sections  # other headings kept as written
    assert parsed.pages in (2, 3)
    assert "Nexus AI" in parsed.text and "John Doe – 1/" not in parsed.text  # footers dropped


# -- two columns ------------------------------------------------------------------------

SIDEBAR = [
    ("CONTACT", True),
    ("jane.citizen@example.com", False),
    ("0412 345 678", False),
    ("Parramatta NSW 2150", False),
    ("SKILLS", True),
    ("Python programming", False),
    ("Kubernetes clusters", False),
    ("PostgreSQL databases", False),
    ("Terraform and Ansible", False),
    ("LANGUAGES", True),
    ("English (native speaker)", False),
    ("Mandarin (professional)", False),
]
MAIN = [
    ("PROFILE", True),
    ("Backend engineer who builds reliable services for", False),
    ("people who need them, and keeps them running well.", False),
    ("EXPERIENCE", True),
    ("Senior Engineer, Canva – Sydney NSW", True),
    ("Mar 2019 – Present", False),
    ("• Moved the billing services to Kubernetes and cut", False),
    ("   deployment time from hours to minutes for all teams", False),
    ("• Led a team of five engineers through two launches", False),
    ("EDUCATION", True),
    ("Bachelor of Science (Computer Science)", True),
    ("University of Sydney, 2012 – 2015", False),
]


def two_column_pdf() -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.setFont("Helvetica-Bold", 24)
    c.drawString(40, 790, "Jane Citizen")
    for column, x in ((SIDEBAR, 40), (MAIN, 250)):
        y = 740
        for text, bold in column:
            c.setFont("Helvetica-Bold" if bold else "Helvetica", 10)
            c.drawString(x, y, text)
            y -= 16
    c.showPage()
    c.save()
    return out.getvalue()


def test_two_columns_are_read_column_by_column() -> None:
    parsed = parse_resume(two_column_pdf(), DocumentKind.pdf)
    lines = parsed.text.splitlines()
    sidebar = [lines.index(t) for t, _ in SIDEBAR]
    main = [next(i for i, line in enumerate(lines) if t.strip("• ").split()[0] in line) for t, _ in MAIN]
    assert sidebar == sorted(sidebar) and main == sorted(main)
    assert max(sidebar) < min(main)  # the whole sidebar, then the main column
    assert not any("Kubernetes clusters" in line and "Backend" in line for line in lines)  # no interleaving

    doc = parsed.document
    assert doc.contact.name == "Jane Citizen"
    assert doc.contact.email == "jane.citizen@example.com"
    assert doc.contact.phone == "0412 345 678"
    assert doc.contact.location == "Parramatta NSW 2150"
    assert [(e.title, e.employer, e.location, e.start, e.current) for e in doc.experience] == [
        ("Senior Engineer", "Canva", "Sydney NSW", "2019-03", True)
    ]
    assert doc.experience[0].highlights[0].endswith("from hours to minutes for all teams")
    assert [(e.institution, e.degree, e.area, e.start, e.end) for e in doc.education] == [
        ("University of Sydney", "Bachelor of Science", "Computer Science", "2012", "2015")
    ]
    for skill in ("Python", "Kubernetes", "PostgreSQL", "Terraform", "Ansible"):
        assert canonical(skill) in doc.skills


def test_a_date_column_is_not_a_second_column() -> None:
    """Dates right-aligned beside entries stay on their entry's line."""
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.setFont("Helvetica-Bold", 22)
    c.drawString(40, 790, "Sam Taylor")
    c.setFont("Helvetica-Bold", 13)
    c.drawString(40, 750, "Work History")
    y = 730
    for n in range(6):
        c.setFont("Helvetica-Bold", 10)
        c.drawString(40, y, f"Store Manager, Shop {n} Pty Ltd")
        c.setFont("Helvetica", 10)
        c.drawString(450, y, f"Jan {2010 + n} – Dec {2010 + n}")
        c.drawString(50, y - 14, f"• Ran a store with {n + 5} staff and weekly stocktakes")
        y -= 40
    c.showPage()
    c.save()
    parsed = parse_resume(out.getvalue(), DocumentKind.pdf)
    assert [(e.title, e.employer, e.start, e.end) for e in parsed.document.experience] == [
        ("Store Manager", f"Shop {n} Pty Ltd", f"{2010 + n}-01", f"{2010 + n}-12") for n in range(6)
    ]


# -- DOCX -------------------------------------------------------------------------------


def make_docx() -> bytes:
    doc = Document()
    doc.add_paragraph("Alex Nguyen", style="Title")
    doc.add_paragraph(
        "alex.nguyen@example.com | +61 412 345 678 | Brisbane QLD 4000 | linkedin.com/in/alexnguyen"
    )
    doc.add_heading("Professional Summary", level=1)
    doc.add_paragraph("Payroll officer with eight years in retail and hospitality payroll.")
    doc.add_heading("WORK HISTORY", level=1)
    header = doc.add_paragraph()
    header.add_run("Payroll Officer, Woolworths Group – Brisbane QLD\t\t\tMar 2019 – Present").bold = True
    doc.add_paragraph("Processed fortnightly pay runs for 2,000 staff in SAP and Excel", style="List Bullet")
    doc.add_paragraph("Reconciled superannuation and PAYG for the ATO", style="List Bullet")
    header = doc.add_paragraph()
    header.add_run("Accounts Assistant at Bunnings\t\t\t2016 - 2019").bold = True
    doc.add_paragraph("Entered supplier invoices in MYOB", style="List Bullet")
    doc.add_heading("Education & Qualifications", level=1)
    table = doc.add_table(rows=2, cols=3)
    for row, values in zip(
        table.rows,
        [
            ("Bachelor of Commerce (Accounting)", "Griffith University", "2012 – 2015"),
            ("Certificate IV in Accounting", "TAFE Queensland", "2011"),
        ],
        strict=True,
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    doc.add_heading("Skills:", level=1)
    doc.add_paragraph("Xero, MYOB, Excel, Word, Access, Payroll, KeyPay")
    doc.add_heading("Licences", level=1)
    doc.add_paragraph("Driver's Licence (C class)", style="List Bullet")
    for paragraph in doc.paragraphs:
        for run in paragraph.runs:
            run.font.size = run.font.size or Pt(11)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_docx_headings_bullets_and_a_table() -> None:
    data = make_docx()
    assert inspect_document(data) is DocumentKind.docx
    parsed = parse_resume(data, DocumentKind.docx)
    doc = parsed.document
    assert doc.contact.name == "Alex Nguyen"
    assert doc.contact.email == "alex.nguyen@example.com"
    assert doc.contact.phone == "+61 412 345 678"
    assert doc.contact.location == "Brisbane QLD 4000"
    assert doc.contact.links == ["linkedin.com/in/alexnguyen"]
    assert doc.summary and doc.summary.startswith("Payroll officer")
    assert [(e.title, e.employer, e.location, e.start, e.end, e.current) for e in doc.experience] == [
        ("Payroll Officer", "Woolworths Group", "Brisbane QLD", "2019-03", None, True),
        ("Accounts Assistant", "Bunnings", None, "2016", "2019", False),
    ]
    assert doc.experience[0].highlights == [
        "Processed fortnightly pay runs for 2,000 staff in SAP and Excel",
        "Reconciled superannuation and PAYG for the ATO",
    ]
    assert [(e.institution, e.degree, e.area, e.start, e.end) for e in doc.education] == [
        ("Griffith University", "Bachelor of Commerce", "Accounting", "2012", "2015"),
        ("TAFE Queensland", "Certificate IV", "Accounting", None, "2011"),  # completed
    ]
    for skill in ("Xero", "MYOB", "Excel", "Word", "Access", "Payroll", "KeyPay", "SAP"):
        assert canonical(skill) in doc.skills, skill
    assert doc.certifications == ["Driver's Licence (C class)"]
    assert {"contact", "summary", "experience", "education", "skills", "certifications"} <= set(
        parsed.sections
    )


def test_docx_without_heading_styles() -> None:
    """Headings typed as bold capitals, bullets typed as "•", three-line entry headers
    (employer and place, title, dates), an Australian place after a comma, and
    qualifications with only a completion year."""
    doc = Document()
    run = doc.add_paragraph().add_run("SARAH O'BRIEN")
    run.bold, run.font.size = True, Pt(20)
    doc.add_paragraph("Melbourne VIC 3000 • 0423 456 789 • sarah.obrien@gmail.com")
    doc.add_paragraph().add_run("CAREER OBJECTIVE").bold = True
    doc.add_paragraph(
        "Retail manager seeking a store manager role. Skilled in rostering and customer service."
    )
    doc.add_paragraph().add_run("EMPLOYMENT HISTORY").bold = True
    jobs = [
        (
            "Coles Supermarkets, Richmond VIC",
            "Store Manager",
            "January 2018 – Present",
            "Ran rosters in Deputy",
        ),
        (
            "Kmart Australia, Box Hill VIC",
            "Assistant Store Manager",
            "March 2014 – December 2017",
            "Used Excel",
        ),
    ]
    for employer, title, dates, bullet in jobs:
        doc.add_paragraph().add_run(employer).bold = True
        doc.add_paragraph(title)
        doc.add_paragraph(dates)
        doc.add_paragraph(f"• {bullet}")
    doc.add_paragraph().add_run("EDUCATION").bold = True
    doc.add_paragraph("Diploma of Retail Leadership – Chisholm Institute, 2013")
    doc.add_paragraph("VCE – Box Hill High School, 2010")
    doc.add_paragraph().add_run("CERTIFICATES & LICENCES").bold = True
    doc.add_paragraph("• RSA")
    doc.add_paragraph("• First Aid (HLTAID011)")
    out = io.BytesIO()
    doc.save(out)

    parsed = parse_resume(out.getvalue(), DocumentKind.docx)
    d = parsed.document
    assert (d.contact.name, d.contact.phone, d.contact.location) == (
        "SARAH O'BRIEN",
        "0423 456 789",
        "Melbourne VIC 3000",
    )
    assert d.summary and d.summary.startswith("Retail manager")
    assert [
        (e.title, e.employer, e.location, e.start, e.end, e.current, e.highlights) for e in d.experience
    ] == [
        (
            "Store Manager",
            "Coles Supermarkets",
            "Richmond VIC",
            "2018-01",
            None,
            True,
            ["Ran rosters in Deputy"],
        ),
        (
            "Assistant Store Manager",
            "Kmart Australia",
            "Box Hill VIC",
            "2014-03",
            "2017-12",
            False,
            ["Used Excel"],
        ),
    ]
    assert [(e.institution, e.degree, e.area, e.end) for e in d.education] == [
        ("Chisholm Institute", "Diploma", "Retail Leadership", "2013"),
        ("Box Hill High School", "VCE", None, "2010"),
    ]
    assert d.certifications == ["RSA", "First Aid (HLTAID011)"]
    for skill in ("Customer Service", "Excel", "RSA", "First Aid"):
        assert canonical(skill) in d.skills, skill


# -- pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Mobile: +61 412 345 678", "+61 412 345 678"),
        ("call 0412 345 678 anytime", "0412 345 678"),
        ("0412345678", "0412345678"),
        ("Ph (02) 9876 5432", "(02) 9876 5432"),
        ("+61 2 9876 5432", "+61 2 9876 5432"),
        ("1300 123 456", "1300 123 456"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("+1 (415) 555-0100", "+1 (415) 555-0100"),
    ],
)
def test_phone_formats(text: str, number: str) -> None:
    assert phones(text) == [number]


@pytest.mark.parametrize("text", ["2018 – 2023", "ABN 51 824 753 556", "Sept 2018 – May 2023", "99.97%"])
def test_not_phone_numbers(text: str) -> None:
    assert phones(text) == []


@pytest.mark.parametrize(
    ("text", "start", "end", "current"),
    [
        ("Mar 2019 – Present", "2019-03", None, True),
        ("2019-03 to 2021-06", "2019-03", "2021-06", False),
        ("2018 - 2020", "2018", "2020", False),
        ("March 2019 - current", "2019-03", None, True),
        ("03/2019 – 06/2021", "2019-03", "2021-06", False),
        ("Sept 2018 – May 2023", "2018-09", "2023-05", False),
        ("Jan. 2020 — now", "2020-01", None, True),
        ("Since 2021", "2021", None, True),
        ("Engineer, Canva  Jun 2020 until Aug 2022", "2020-06", "2022-08", False),
    ],
)
def test_date_ranges(text: str, start: str, end: str | None, current: bool) -> None:
    found = find_range(text)
    assert found is not None
    assert (found.start, found.end, found.current) == (start, end, current)


@pytest.mark.parametrize(
    ("heading", "name"),
    [
        ("EXPERIENCE", "experience"),
        ("Work History:", "experience"),
        ("E X P E R I E N C E", "experience"),
        ("W O R K   H I S T O R Y", "experience"),
        ("Employment history", "experience"),
        ("Professional Profile", "summary"),
        ("Career Objective:", "summary"),
        ("Education & Training", "education"),
        ("QUALIFICATIONS", "education"),
        ("Technical Skills", "skills"),
        ("Core Competencies", "skills"),
        ("Licences & Tickets", "certifications"),
        ("Certifications", "certifications"),
        ("Selected Honors", None),
    ],
)
def test_heading_variants(heading: str, name: str | None) -> None:
    assert canonical_heading(heading) == name


def test_common_words_in_prose_are_not_skills() -> None:
    prose = (
        "I go to work early and make sure the team can access the box files. "
        "As Head Chef I ran a kitchen of twelve. I excel at Word games and spark ideas. "
        "Teams across the business rely on my reports. We ship to customers every day."
    )
    found = extract_skills(prose)
    for word in ("Go", "Make", "Access", "Box", "Chef", "Excel", "Word", "Spark", "Teams"):
        assert canonical(word) not in found, word
    assert found == []
    # the same words do name products in a skills list: the test above can fail
    listed = extract_skills("Go, Make, Chef, Spark, Excel, Word, Teams", listing=True)
    assert {canonical(w) for w in ("Go", "Chef", "Spark", "Excel", "Word", "Teams")} <= set(listed)


def test_product_names_in_lists_and_skill_sections_are_skills() -> None:
    prose = extract_skills("Built APIs in Python, Go and PostgreSQL; reports in Excel for the finance team.")
    assert prose == [canonical("Python"), canonical("Go"), canonical("PostgreSQL"), canonical("Excel")]
    listing = extract_skills("Word\nExcel\nAccess\nC, R", listing=True)
    assert listing == [canonical(s) for s in ("Word", "Excel", "Access", "C", "R")]


def test_single_letters_need_their_case() -> None:
    assert extract_skills("c, r and go", listing=True) == []
    assert extract_skills("Languages: C, R, Go") == [canonical("C"), canonical("R"), canonical("Go")]


def test_a_scanned_pdf_has_no_text() -> None:
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    c.rect(50, 50, 400, 600, fill=1)  # an "image" of a page: no text objects
    c.showPage()
    c.save()
    with pytest.raises(ValueError, match="scanned"):
        parse_resume(out.getvalue(), DocumentKind.pdf)


def test_an_unreadable_file_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="could not be read"):
        parse_resume(b"PK\x03\x04 not really a docx", DocumentKind.docx)


def test_docx_styles_are_looked_up_once_per_style_not_per_paragraph(monkeypatch) -> None:
    """python-docx scans every style of the document on each ``paragraph.style`` access:
    per paragraph that made a 3,000-line DOCX take 16 s to read (a CPU bomb in a 100 KB
    file). Each distinct style is looked up once per document."""
    from docx.text.paragraph import Paragraph

    from aujobs_resumes.parsing.layout import docx_lines

    document = Document()
    for n in range(600):
        document.add_paragraph(f"Delivered outcome {n} for the team", style="List Bullet" if n % 2 else None)
    out = io.BytesIO()
    document.save(out)
    lookups = []
    original = Paragraph.style

    def counted(self):
        lookups.append(self._p.style)
        return original.fget(self)

    monkeypatch.setattr(Paragraph, "style", property(counted, original.fset))
    lines = docx_lines(out.getvalue())
    assert len(lines) == 600 and sum(line.bullet for line in lines) == 300
    assert len(lookups) == len(set(lookups)) == 2
