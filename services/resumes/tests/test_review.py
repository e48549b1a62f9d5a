"""Resume review: the score a job seeker sees and the suggestions that explain it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aujobs_resumes.document import Contact, EducationEntry, ExperienceEntry, ResumeDocument
from aujobs_resumes.review import (
    JOB_FIT_WEIGHT,
    JobContext,
    ResumeReview,
    _scan_skills,
    format_date_range,
    parse_date,
    review_resume,
)


def strong_resume() -> ResumeDocument:
    """A resume that does everything the review asks for: it gets no suggestions."""
    return ResumeDocument(
        contact=Contact(
            name="Jane Citizen",
            email="jane.citizen@example.com",
            phone="0412 345 678",
            location="Parramatta NSW",
            links=["linkedin.com/in/janecitizen"],
        ),
        summary=(
            "Senior software engineer with nine years building web platforms for Australian retailers "
            "and government agencies. Known for shipping reliable services, improving delivery speed and "
            "mentoring developers. Looking for a lead engineering role in a product company in Sydney."
        ),
        experience=[
            ExperienceEntry(
                title="Senior Software Engineer",
                employer="Acme Retail Pty Ltd",
                location="Sydney NSW",
                start="2019-03",
                current=True,
                highlights=[
                    "Led a team of 6 engineers to rebuild the checkout platform, lifting online conversion "
                    "by 12% in the first quarter after launch",
                    "Cut median page load time from 4.2 seconds to 1.1 seconds by moving rendering to the "
                    "edge and caching product data close to customers",
                    "Mentored 4 graduate developers, two of whom were promoted to mid-level roles within "
                    "18 months of joining the team",
                    "Designed the event-driven order pipeline in Python and PostgreSQL that now handles "
                    "2 million orders a month without manual intervention",
                    "Reduced cloud hosting costs by $180,000 a year by right-sizing clusters and removing "
                    "unused environments",
                ],
            ),
            ExperienceEntry(
                title="Software Engineer",
                employer="Service NSW",
                location="Sydney NSW",
                start="2015-02",
                end="2019-02",
                highlights=[
                    "Built the online licence renewal service used by 300,000 people a year, replacing a "
                    "paper process that took three weeks",
                    "Automated deployment with Jenkins and Terraform, reducing release time from 2 days to "
                    "40 minutes and enabling weekly releases",
                    "Reduced support tickets by 35% by redesigning error pages and help content together "
                    "with the user experience team",
                    "Delivered accessibility fixes to reach WCAG 2.1 AA across 40 public forms before the "
                    "government deadline",
                ],
            ),
            ExperienceEntry(
                title="Junior Developer",
                employer="Harbour Web Studio",
                location="Newcastle NSW",
                start="2013-01",
                end="2015-01",
                highlights=[
                    "Developed 25 client websites in PHP and JavaScript, each delivered on time and within "
                    "the agreed budget",
                    "Introduced automated testing that caught 90% of regressions before release to clients",
                    "Trained 3 colleagues in Git, code review and continuous integration practices",
                ],
            ),
            ExperienceEntry(
                title="IT Support Officer",
                employer="University of Newcastle",
                location="Newcastle NSW",
                start="2011-06",
                end="2012-12",
                highlights=[
                    "Resolved an average of 30 help desk requests a day for students and academic staff "
                    "across two campuses",
                    "Wrote 15 self-help guides that cut password reset calls by 40% in the first semester",
                    "Automated laptop imaging with PowerShell scripts, saving the team 10 hours every week",
                ],
            ),
        ],
        education=[
            EducationEntry(
                institution="University of Newcastle",
                degree="Bachelor of Computer Science",
                location="Newcastle NSW",
                start="2009",
                end="2012",
                highlights=["Graduated with distinction, top 5% of the 2012 cohort"],
            )
        ],
        skills=[
            "Python",
            "JavaScript",
            "PostgreSQL",
            "React",
            "AWS",
            "Terraform",
            "Jenkins",
            "Docker",
            "Kubernetes",
            "Agile",
            "Leadership",
        ],
        certifications=["AWS Certified Solutions Architect - Associate"],
    )


def thin_resume() -> ResumeDocument:
    return ResumeDocument(
        contact=Contact(name="Bob", email="bob@example.com"),
        experience=[
            ExperienceEntry(
                title="Sales assistant", employer="Corner Shop", highlights=["Responsible for sales"]
            )
        ],
        skills=["Sales"],
    )


def codes(review: ResumeReview) -> list[str]:
    return [s.code for s in review.suggestions]


def weighted(review: ResumeReview) -> float:
    return sum(s.score * s.weight for s in review.sub_scores)


def test_a_strong_resume_scores_high_with_nothing_to_fix() -> None:
    review = review_resume(strong_resume())

    assert review.score > 80
    assert review.suggestions == []
    assert {s.name for s in review.sub_scores} == {
        "completeness",
        "contact",
        "impact",
        "language",
        "length",
        "skills",
        "dates",
    }
    assert sum(s.weight for s in review.sub_scores) == pytest.approx(1.0)
    assert review.score == round(weighted(review))
    assert review.job_match is None


def test_a_thin_resume_scores_low_and_says_why() -> None:
    review = review_resume(thin_resume())

    assert review.score < 50
    assert {"missing-section", "weak-verb", "unquantified-achievement", "too-short", "few-bullets"} <= set(
        codes(review)
    )
    assert {s.excerpt for s in review.suggestions if s.code == "missing-section"} == {None}
    assert {s.section for s in review.suggestions if s.code == "missing-section"} == {"education", "summary"}


def test_an_empty_document_does_not_crash_and_scores_zero() -> None:
    empty = ResumeDocument()

    review = review_resume(empty)
    assert review.score == 0
    assert "no-skills" in codes(review)
    assert review_resume(empty, text="", job=JobContext()).job_match.score is None
    assert (
        0 <= review_resume(empty, text="   ", job=JobContext(title="Chef", skills=["Cooking"])).score <= 100
    )


def test_the_review_is_deterministic() -> None:
    job = JobContext(title="Lead Engineer", skills=["Go", "React"], description_text="We use Kafka.")
    first = review_resume(strong_resume(), job=job)
    assert review_resume(strong_resume(), job=job).model_dump() == first.model_dump()


def _set(path: str, value) -> Callable[[ResumeDocument], None]:
    def change(document: ResumeDocument) -> None:
        target = document
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if part.isdigit() else getattr(target, part)
        setattr(target, last, value)

    return change


def _add_bullet(text: str, role: int = 0) -> Callable[[ResumeDocument], None]:
    return lambda document: document.experience[role].highlights.append(text)


def _pad_experience(document: ResumeDocument) -> None:
    """Twelve more roles of five long bullets: far beyond two pages."""
    bullet = (
        "Delivered 14 projects for enterprise clients across retail, banking and health, coordinating "
        "vendors, budgets and schedules while keeping every stakeholder informed each week"
    )
    for year in range(2000, 2012):
        document.experience.append(
            ExperienceEntry(
                title="Consultant",
                employer=f"Firm {year}",
                start=f"{year}-01",
                end=f"{year}-12",
                highlights=[bullet] * 5,
            )
        )


LONG_BULLET = (
    "Coordinated 12 suppliers and the internal finance, legal, marketing and operations teams across three "
    "states to deliver the new loyalty programme, which included drafting the requirements, running the "
    "tender, negotiating the contracts and reporting progress to the executive team every fortnight"
)

# code -> (a change to the strong resume that should produce it, expected section)
CASES: dict[str, tuple[Callable[[ResumeDocument], None], str | None]] = {
    "missing-section": (_set("summary", None), "summary"),
    "missing-contact-field": (_set("contact.phone", "  "), "contact"),
    "invalid-email": (_set("contact.email", "jane.citizen.example.com"), "contact"),
    "unquantified-achievement": (
        _add_bullet("Improved the onboarding process for new starters"),
        "experience",
    ),
    "weak-verb": (_add_bullet("Responsible for the weekly release of 3 services"), "experience"),
    "first-person": (_add_bullet("I rewrote my team's 12 deployment scripts"), "experience"),
    "long-bullet": (_add_bullet(LONG_BULLET), "experience"),
    "too-short": (lambda d: setattr(d, "experience", d.experience[:1]), None),
    "too-long": (_pad_experience, None),
    "few-bullets": (
        _set("experience.1.highlights", ["Built 3 services used by 300,000 people"]),
        "experience",
    ),
    "many-bullets": (
        _set("experience.1.highlights", [f"Shipped release {n} to 40,000 users" for n in range(10)]),
        "experience",
    ),
    "no-skills": (_set("skills", []), "skills"),
    "few-skills": (_set("skills", ["Python", "React", "AWS"]), "skills"),
    "too-many-skills": (_set("skills", [f"Tool {n}" for n in range(45)]), "skills"),
    "duplicate-skill": (_set("skills", ["JavaScript", "Python", "React", "AWS", "Docker", "JS"]), "skills"),
    "missing-dates": (_set("experience.1.start", None), "experience"),
    "date-order": (_set("experience.1.end", "2014-06"), "experience"),
    "date-gap": (_set("experience.2.end", "2014-01"), "experience"),
    "invalid-date": (_set("experience.2.start", "a while ago"), "experience"),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_code_appears_when_it_should_and_not_otherwise(code: str) -> None:
    change, section = CASES[code]
    document = strong_resume()
    change(document)

    review = review_resume(document)

    found = [s for s in review.suggestions if s.code == code]
    assert found, f"{code} not produced: {codes(review)}"
    assert found[0].section == section
    assert found[0].message
    strong = review_resume(strong_resume())
    assert code not in codes(strong)
    # the problem costs points somewhere
    before = {s.name: s.score for s in strong.sub_scores}
    assert any(s.score < before[s.name] for s in review.sub_scores), review.sub_scores
    assert 0 <= review.score <= 100


@pytest.mark.parametrize(
    "bullet",
    [
        "Responsible for stock control",
        "Helped customers choose phone plans",
        "Worked on the billing system",
        "Duties included cleaning and restocking",
        "Was involved in the office move",
    ],
)
def test_weak_phrases_point_at_the_line(bullet: str) -> None:
    document = strong_resume()
    document.experience[1].highlights.append("• " + bullet)

    review = review_resume(document)

    weak = [s for s in review.suggestions if s.code == "weak-verb"]
    assert [(s.excerpt, s.section, s.entry) for s in weak] == [(bullet, "experience", 1)]
    assert [s.excerpt for s in review.suggestions if s.code == "unquantified-achievement"] == [bullet]


def test_strong_verbs_and_numbers_are_not_flagged() -> None:
    document = strong_resume()
    document.experience[0].highlights.append("Managed the weekly roster for 25 staff across 2 stores")
    document.experience[0].highlights.append("Doubled repeat bookings by introducing reminder texts")

    assert review_resume(document).suggestions == []


def test_date_gap_names_the_role_after_the_gap() -> None:
    document = strong_resume()
    document.experience[2].end = "2014-01"  # next role starts 2015-02: 12 months between

    (gap,) = [s for s in review_resume(document).suggestions if s.code == "date-gap"]

    assert gap.entry == 1
    assert "12 months" in gap.excerpt
    # six months or less is not a gap worth explaining
    document.experience[2].end = "2014-08"
    assert "date-gap" not in codes(review_resume(document))


def test_suggestions_per_bullet_are_capped() -> None:
    document = strong_resume()
    document.experience[0].highlights = [f"Responsible for task number {w}" for w in "abcdefghij"]

    review = review_resume(document)

    assert codes(review).count("weak-verb") == 5
    # but the score counts them all: 10 weak bullets (0) and 10 strong ones (100)
    assert next(s.score for s in review.sub_scores if s.name == "language") == 50


@pytest.mark.parametrize(
    "document",
    [
        ResumeDocument(),
        thin_resume(),
        strong_resume(),
        ResumeDocument(skills=["x"] * 200),
        ResumeDocument(
            experience=[
                ExperienceEntry(start="2030-13", end="1800", highlights=["I I I my " * 500] * 30)
                for _ in range(50)
            ]
        ),
        ResumeDocument(contact=Contact(email="@"), summary="!" * 5000),
    ],
)
def test_the_score_is_always_between_0_and_100(document: ResumeDocument) -> None:
    job = JobContext(title="Anything", skills=["Go", "JS", "", "  "], description_text="Kafka " * 100)
    for review in (review_resume(document), review_resume(document, job=job, text="word " * 3000)):
        assert 0 <= review.score <= 100
        assert all(0 <= s.score <= 100 for s in review.sub_scores)


def test_text_is_used_when_the_parse_found_no_roles() -> None:
    text = (
        "Jane Citizen\nExperience\n• Responsible for opening and closing the store\n- Trained 4 new staff\n"
    )

    review = review_resume(ResumeDocument(), text=text)

    weak = [s for s in review.suggestions if s.code == "weak-verb"]
    assert [(s.excerpt, s.section) for s in weak] == [("Responsible for opening and closing the store", None)]
    assert next(s.score for s in review.sub_scores if s.name == "impact") == 71  # one of two quantified


def test_job_match_compares_skills_through_synonyms() -> None:
    job = JobContext(title="Senior Software Engineer", skills=["JS", "Postgres", "k8s", "GraphQL"])

    review = review_resume(strong_resume(), job=job)

    match = review.job_match
    assert match is not None
    assert match.matched_skills == ["JavaScript", "PostgreSQL", "Kubernetes"]
    assert match.missing_skills == ["GraphQL"]
    assert match.score == 75
    (suggestion,) = [s for s in review.suggestions if s.code == "missing-job-skill"]
    assert suggestion.excerpt == "GraphQL"
    assert "If you have experience with GraphQL, say so" in suggestion.message


def test_job_fit_is_a_weighted_sub_score() -> None:
    matching = JobContext(title="Senior Software Engineer", skills=["Python", "React"])
    other = JobContext(title="Registered Nurse", skills=["Patient Care", "Medication Administration"])

    fit = review_resume(strong_resume(), job=matching)
    misfit = review_resume(strong_resume(), job=other)

    job_fit = next(s for s in fit.sub_scores if s.name == "job-fit")
    assert (job_fit.score, job_fit.weight) == (100, JOB_FIT_WEIGHT)
    assert sum(s.weight for s in fit.sub_scores) == pytest.approx(1.0)
    assert fit.score == round(weighted(fit))
    assert next(s.score for s in misfit.sub_scores if s.name == "job-fit") == 0
    assert misfit.score < fit.score
    assert "missing-job-skill" not in codes(fit)


def test_a_job_skill_mentioned_in_a_bullet_counts_but_an_everyday_word_does_not() -> None:
    document = strong_resume()
    document.skills = ["Python"]
    document.experience[0].highlights.append(
        "Migrated 40 services to the new platform so we could go live early"
    )
    job = JobContext(skills=["Terraform", "Go"])  # Terraform is in a Service NSW bullet

    match = review_resume(document, job=job).job_match

    assert match.matched_skills == ["IBM Terraform"]
    assert match.missing_skills == ["Go"]


def test_skills_only_the_description_mentions_count_half() -> None:
    job = JobContext(
        skills=["Python"],
        description_text="You will build data pipelines on Snowflake and Apache Kafka with Docker.",
    )

    match = review_resume(strong_resume(), job=job).job_match

    assert {"Snowflake", "Apache Kafka"} <= set(match.missing_mentioned_skills)
    assert set(match.missing_mentioned_skills) <= set(match.missing_skills)
    assert "Python" in match.matched_skills and "Docker" in match.matched_skills
    assert "Python" not in match.missing_skills
    # Python and Docker count 1 + 0.5 out of 1 + 0.5 per description skill
    described = len(match.matched_skills) - 1 + len(match.missing_mentioned_skills)
    assert match.score == round(100 * (1 + 0.5 * (len(match.matched_skills) - 1)) / (1 + 0.5 * described))


def test_the_fallback_skill_scan_ignores_everyday_words() -> None:
    found = _scan_skills("Go above and beyond. You will excel with Microsoft Excel, Go and node js on AWS.")

    assert found == ["Microsoft Excel", "Go", "Node.js", "Amazon Web Services AWS software"]


def test_dates_are_read_and_shown_as_resumes_write_them() -> None:
    assert format_date_range("2019-03", None, current=True) == "Mar 2019 \u2013 Present"
    assert format_date_range("2017", "2019-11") == "2017 \u2013 Nov 2019"
    assert format_date_range("March 2019", "present") == "Mar 2019 \u2013 Present"
    assert format_date_range("2019-03", "2019-03") == "Mar 2019"
    assert format_date_range(None, "2020-01") == "Jan 2020"
    assert format_date_range("Summer 2019", None) == "Summer 2019"
    assert format_date_range(None, None) == ""
    assert parse_date("03/2019") == parse_date("2019-03-15") == parse_date("Mar. 2019")
    assert parse_date("2019-13") is None and parse_date("soon") is None and parse_date("") is None
