"""Resume export: what a job seeker downloads, read back the way an employer's software reads it."""

from __future__ import annotations

import io

import docx
import pdfplumber
import pytest

from aujobs_resumes.document import Contact, EducationEntry, ExperienceEntry, ResumeDocument
from aujobs_resumes.export import (
    MAX_EXPORT_WORDS,
    TEMPLATES,
    ExportTooLargeError,
    latin_text,
    render_docx,
    render_pdf,
)

EN_DASH = "\u2013"


def resume() -> ResumeDocument:
    return ResumeDocument(
        contact=Contact(
            name="Jane Citizen",
            email="jane.citizen@example.com",
            phone="0412 345 678",
            location="Parramatta NSW",
            links=["linkedin.com/in/janecitizen"],
        ),
        summary="Software engineer with nine years building web platforms for Australian retailers.",
        experience=[
            ExperienceEntry(
                title="Senior Software Engineer",
                employer="Acme Retail Pty Ltd",
                location="Sydney NSW",
                start="2019-03",
                current=True,
                highlights=[
                    "Led a team of 6 engineers to rebuild the checkout platform, lifting conversion by 12%",
                    "Cut page load time from 4.2 s to 1.1 s <b>without</b> new servers & kept R&D costs flat",
                ],
            ),
            ExperienceEntry(
                title="Software Engineer",
                employer="Service NSW",
                start="2015-02",
                end="2019-02",
                highlights=["Built the licence renewal service used by 300,000 people a year"],
            ),
        ],
        education=[
            EducationEntry(
                institution="University of Newcastle",
                degree="Bachelor of Computer Science",
                start="2009",
                end="2012",
            )
        ],
        skills=["Python", "JavaScript", "PostgreSQL", "C#", "Terraform"],
        certifications=["AWS Certified Solutions Architect"],
    )


def pdf_text(data: bytes) -> tuple[str, int]:
    """The PDF's text with line breaks and wrapping undone, and its page count."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
        return " ".join(text.split()), len(pdf.pages)


def docx_text(data: bytes) -> str:
    return " ".join(" ".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs).split())


def read(fmt: str, data: bytes) -> str:
    return pdf_text(data)[0] if fmt == "pdf" else docx_text(data)


RENDER = {"pdf": render_pdf, "docx": render_docx}


def assert_in_order(text: str, expected: list[str]) -> None:
    position = 0
    for item in expected:
        found = text.find(item, position)
        assert found >= 0, f"{item!r} missing after position {position} in {text!r}"
        position = found + len(item)


def test_the_templates_are_listed_with_a_description() -> None:
    assert {"classic", "modern", "compact"} <= set(TEMPLATES)
    assert all(description.strip() for description in TEMPLATES.values())


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_shows_the_content_in_order(template: str, fmt: str) -> None:
    document = resume()

    text = read(fmt, RENDER[fmt](document, template))

    assert_in_order(
        text,
        [
            "Jane Citizen",
            "jane.citizen@example.com",
            "0412 345 678",
            "Software engineer with nine years",
            "Senior Software Engineer",
            "Acme Retail Pty Ltd",
            *document.experience[0].highlights,
            "Software Engineer",
            "Service NSW",
            document.experience[1].highlights[0],
            "Bachelor of Computer Science",
            "University of Newcastle",
            *document.skills,
            "AWS Certified Solutions Architect",
        ],
    )
    # each entry's dates come with its heading, before its bullets
    assert_in_order(text, ["Senior Software Engineer", f"Mar 2019 {EN_DASH} Present", "Led a team"])
    assert_in_order(text, ["Led a team", f"Feb 2015 {EN_DASH} Feb 2019", "Built the licence"])
    assert_in_order(text, ["Bachelor of Computer Science", f"2009 {EN_DASH} 2012", "Python"])
    # section headings, whatever their case
    assert_in_order(text.casefold(), ["summary", "experience", "education", "skills", "certifications"])


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_markup_characters_print_literally(fmt: str) -> None:
    document = resume()
    document.experience[0].highlights = [
        'Wrote <font color="red">x</font> & <a href="https://evil.example">y</a> for the <b> tag',
        "Kept A&B < C > D & E",
    ]
    document.contact.name = "Jane <i>Citizen</i> & Co"

    text = read(fmt, RENDER[fmt](document, "modern"))

    assert_in_order(text, ["Jane <i>Citizen</i> & Co", *document.experience[0].highlights])


def test_a_long_resume_runs_to_several_pages() -> None:
    document = resume()
    document.experience = [
        ExperienceEntry(
            title=f"Engineer {n}",
            employer=f"Employer {n}",
            start=f"{2000 + n}-01",
            end=f"{2000 + n}-12",
            highlights=[
                f"Delivered project {n}.{b} for 1,000 customers across three states" for b in range(8)
            ],
        )
        for n in range(20)
    ]

    for template in TEMPLATES:
        text, pages = pdf_text(render_pdf(document, template))
        assert pages > 1, template
        assert_in_order(text, [f"Employer {n}" for n in range(20)])
        assert "Delivered project 19.7 for 1,000 customers across three states" in text


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_pdf_metadata_and_a4_pages(template: str) -> None:
    with pdfplumber.open(io.BytesIO(render_pdf(resume(), template))) as pdf:
        assert pdf.metadata["Title"] == "Jane Citizen \u2014 Resume"
        assert pdf.metadata["Author"] == "Jane Citizen"
        page = pdf.pages[0]
        assert (round(page.width), round(page.height)) == (595, 842)
        links = [link["uri"] for link in page.hyperlinks]
        assert links == ["mailto:jane.citizen@example.com", "https://linkedin.com/in/janecitizen"]


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_docx_uses_real_headings_and_bullets(template: str) -> None:
    document = docx.Document(io.BytesIO(render_docx(resume(), template)))

    styled = [(p.style.name, p.text) for p in document.paragraphs]
    assert styled[0] == ("Title", "Jane Citizen")
    headings = [text.casefold() for style, text in styled if style == "Heading 1"]
    assert headings == ["summary", "experience", "education", "skills", "certifications"]
    bullets = [text for style, text in styled if style == "List Bullet"]
    assert bullets[:3] == [*resume().experience[0].highlights, resume().experience[1].highlights[0]]
    assert ("Heading 2", "Senior Software Engineer \u2014 Acme Retail Pty Ltd") in styled
    assert document.core_properties.title == "Jane Citizen \u2014 Resume"
    assert document.core_properties.author == "Jane Citizen"
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)


@pytest.mark.parametrize("render", [render_pdf, render_docx])
def test_an_unknown_template_is_a_value_error(render) -> None:
    with pytest.raises(ValueError, match="classic"):
        render(resume(), "fancy")


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_sparse_documents_render_without_empty_headings(template: str, fmt: str) -> None:
    empty = read(fmt, RENDER[fmt](ResumeDocument(), template))
    assert empty == ""

    sparse = ResumeDocument(
        contact=Contact(name="Sam Lee"),
        summary="   ",
        experience=[
            ExperienceEntry(employer="Woolworths", start="2022-05", highlights=["", "  "]),
            ExperienceEntry(),
        ],
        education=[EducationEntry()],
        skills=["", "  "],
        certifications=[" "],
    )
    text = read(fmt, RENDER[fmt](sparse, template))
    assert text.casefold().split() == ["sam", "lee", "experience", "woolworths", "may", "2022"]


def test_characters_beyond_latin_1_degrade_in_pdf_and_survive_in_docx() -> None:
    document = resume()
    document.contact.name = "Ayşe Y\u0131lmaz"
    document.education[0].institution = "Boğaziçi Üniversitesi"
    document.experience[0].highlights = [
        "Grew sales 20% \u2265 target \U0001f680 for \u5317\u4eac office, \u201cfast\u201d"
    ]

    for template in TEMPLATES:
        data = render_pdf(document, template)
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            assert pdf.metadata["Author"] == "Ayşe Y\u0131lmaz"  # metadata is Unicode
        text, _ = pdf_text(data)
        assert "Ayse Yilmaz" in text
        assert "Bogaziçi Üniversitesi" in text
        assert "Grew sales 20% >= target for ?? office, \u201cfast\u201d" in text
        assert f"Mar 2019 {EN_DASH} Present" in text
    assert_in_order(
        docx_text(render_docx(document, "classic")),
        ["Ayşe Y\u0131lmaz", *document.experience[0].highlights, "Boğaziçi"],
    )


def test_latin_text_keeps_windows_1252_and_drops_what_it_cannot_show() -> None:
    assert latin_text("Café – “Zoë” €5 • ok") == "Café – “Zoë” €5 · ok"  # noqa: RUF001
    assert latin_text("ﬁnance Łódź 😀\u200b") == "finance Lódz "


def test_control_characters_do_not_break_either_format() -> None:
    document = resume()
    document.experience[0].highlights = ["Tab\tand\x00null\x0bvertical\x1fcontrol"]

    for template in TEMPLATES:
        assert "Tab and" in pdf_text(render_pdf(document, template))[0]
        assert "nullvertical" in docx_text(render_docx(document, template))


def test_pdf_output_is_deterministic() -> None:
    assert render_pdf(resume(), "classic") == render_pdf(resume(), "classic")


def test_very_long_fields_still_render() -> None:
    document = resume()
    document.experience[0].title = "Engineer " * 22
    document.experience[0].highlights = ["x" * 3000 + " done", "word " * 500]
    document.skills = ["y" * 3000, "Python"]

    for template in TEMPLATES:
        text, _ = pdf_text(render_pdf(document, template))
        assert "Python" in text and "done" in text
        assert "x" * 3000 in docx_text(render_docx(document, template))


@pytest.mark.parametrize("render", [render_pdf, render_docx])
def test_a_document_beyond_the_word_limit_is_refused_as_a_value_error(render) -> None:
    document = resume()
    document.experience = [
        ExperienceEntry(title="Engineer", highlights=["word " * (MAX_EXPORT_WORDS // 40)] * 20)
        for _ in range(3)
    ]

    with pytest.raises(ExportTooLargeError) as raised:
        render(document, "classic")
    assert isinstance(raised.value, ValueError)

    document.experience = document.experience[:1]  # about a third of the limit
    assert render(document, "classic")
