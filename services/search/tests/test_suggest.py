"""Suggestions and "did you mean", on a real PostgreSQL index fed by job events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from aujobs_common.bus.memory import InMemoryBus
from aujobs_common.events import JobClosed, JobLocation, JobPublished, JobStatus, WorkType
from aujobs_common.migrations import upgrade_async
from aujobs_common.testing.apps import running
from aujobs_search.app import MIGRATIONS, create_app
from aujobs_search.settings import SearchSettings
from aujobs_search.suggest import did_you_mean, edit_distance

SUGGEST = "/api/v1/search/suggest"

# (title, company, skills, status)
POSTINGS = [
    ("Registered Nurse", "Southern Cross Health", ["Patient Care"], JobStatus.active),
    ("Registered Nurse", "Southern Cross Health", [], JobStatus.active),
    ("registered nurse", "Southern Cross Health", [], JobStatus.active),
    ("Registered Nurse - ICU", "Southern Star Hospital", [], JobStatus.active),
    ("Enrolled Nurse", "Melbourne Health", [], JobStatus.active),
    ("Registered Nurse Educator", "Southern Gone Health", [], JobStatus.closed),
    ("Senior Python Developer", "Atlassian", ["Python", "JavaScript"], JobStatus.active),
    ("Python Developer", "Canva", ["Python", "Django"], JobStatus.active),
    ("Barista", "Bean There Cafe", ["Barista"], JobStatus.active),
    ("Paramedic", "Ambulance Victoria", [], JobStatus.closed),
]


def posting(title, company, skills, status):
    now = datetime.now(UTC)
    event = JobClosed if status is JobStatus.closed else JobPublished
    return event(
        job_id=uuid.uuid4(),
        version=2,
        owner_id=uuid.uuid4(),
        company_name=company,
        title=title,
        description="A great job.",
        location=JobLocation(suburb="Melbourne", state="VIC", postcode="3000"),
        work_type=WorkType.full_time,
        classification="Healthcare & Medical",
        skills=skills,
        status=status,
        created_at=now - timedelta(hours=1),
        updated_at=now,
        published_at=now,
    )


@pytest.fixture
async def search(fresh_database_url):
    await upgrade_async(MIGRATIONS, fresh_database_url)
    bus = InMemoryBus(retry_base_ms=10)
    app = create_app(SearchSettings(database_url=fresh_database_url), bus=bus)
    await bus.start()
    async with running(app) as client:
        for fields in POSTINGS:
            job = posting(*fields)
            await bus.publish(job.to_event(source="/services/jobs", subject=str(job.job_id)))
        await bus.drain(10)
        yield client
    await bus.close()


@pytest.fixture
async def session(search, fresh_database_url):
    engine = create_async_engine(fresh_database_url)
    async with AsyncSession(engine) as s:
        yield s
    await engine.dispose()


async def suggestions(client, q, **params):
    r = await client.get(SUGGEST, params={"q": q, **params})
    assert r.status_code == 200, r.text
    return [(s["kind"], s["text"]) for s in r.json()]


async def test_the_index_holds_the_postings(session):
    assert await session.scalar(sa.text("SELECT count(*) FROM job_documents WHERE status = 'active'")) == 8


@pytest.mark.parametrize(
    ("q", "first"),
    [
        ("melb", "Melbourne VIC 3000"),
        ("Melbourne", "Melbourne VIC 3000"),
        ("3000", "Melbourne VIC 3000"),
        ("parram", "Parramatta NSW 2150"),
        ("2150", "Parramatta NSW 2150"),
        ("syd", "Sydney NSW 2000"),
        ("perth", "Perth WA 6000"),
        ("vic", "VIC"),
        ("VIC", "VIC"),
        ("queensl", "QLD"),
    ],
)
async def test_locations_prefer_the_main_place(search, q, first):
    found = await suggestions(search, q)
    assert ("location", first) == found[0], found


async def test_a_suburb_is_suggested_once_at_its_main_postcode(search):
    found = await suggestions(search, "parramatta", limit=20)
    labels = [text for kind, text in found if kind == "location" and text.startswith("Parramatta NSW")]
    assert labels == ["Parramatta NSW 2150"]


async def test_titles_from_active_postings_most_common_first(search):
    found = await suggestions(search, "regis")
    titles = [text for kind, text in found if kind == "title"]
    assert titles == ["Registered Nurse", "Registered Nurse - ICU"]  # the closed one is not suggested


async def test_titles_match_at_any_word_start_after_the_prefix_matches(search):
    titles = [text for kind, text in await suggestions(search, "nurse") if kind == "title"]
    assert set(titles) == {"Registered Nurse", "Registered Nurse - ICU", "Enrolled Nurse"}
    titles = [text for kind, text in await suggestions(search, "pyth") if kind == "title"]
    assert titles == ["Python Developer", "Senior Python Developer"]


async def test_similar_titles_when_the_typed_text_has_a_typo(search):
    found = await suggestions(search, "registred nurse")
    assert ("title", "Registered Nurse") in found


async def test_companies_most_hiring_first(search):
    found = await suggestions(search, "southern")
    companies = [text for kind, text in found if kind == "company"]
    assert companies == ["Southern Cross Health", "Southern Star Hospital"]


async def test_skills_by_surface_form_preferring_skills_in_postings(search):
    found = await suggestions(search, "pyth")
    assert ("skill", "Python") in found
    skills = [text for kind, text in await suggestions(search, "java", limit=20) if kind == "skill"]
    # "java" is Oracle Java exactly; among the rest JavaScript is asked for by a posting
    assert skills[:2] == ["Oracle Java", "JavaScript"]
    skills = [text for kind, text in await suggestions(search, "js") if kind == "skill"]
    assert skills[0] == "JavaScript"


async def test_kinds_are_mixed_and_each_text_is_suggested_once(search):
    found = await suggestions(search, "barista", limit=20)
    assert [text.lower() for _, text in found].count("barista") == 1
    assert found[0] == ("title", "Barista")
    mixed = await suggestions(search, "mel", limit=20)
    assert {"location", "company"} <= {kind for kind, _ in mixed}
    texts = [text.casefold() for _, text in mixed]
    assert len(texts) == len(set(texts))


async def test_limit_bounds_the_answer(search):
    assert len(await suggestions(search, "s", limit=3)) == 3
    assert len(await suggestions(search, "s")) == 10
    assert len(await suggestions(search, "s", limit=20)) == 20


async def test_nothing_matches_nothing(search):
    assert await suggestions(search, "zzqxj") == []


@pytest.mark.parametrize(
    "params",
    [{"q": ""}, {"q": "   "}, {"q": "x" * 101}, {}, {"q": "nurse", "limit": 21}, {"q": "nurse", "limit": 0}],
)
async def test_bad_parameters_are_422_problems(search, params):
    r = await search.get(SUGGEST, params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_the_longest_allowed_query_is_answered(search):
    r = await search.get(SUGGEST, params={"q": "n" * 100})
    assert r.status_code == 200 and r.json() == []


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("pyhton developr", "python developer"),
        ("nurce", "nurse"),
        ("Registerd  Nurse", "registered nurse"),
        ("senior pyton", "senior python"),
        ("djnago", "django"),  # a skill, not in any title
    ],
)
async def test_did_you_mean_corrects_each_unknown_word(session, q, expected):
    assert await did_you_mean(session, q) == expected


@pytest.mark.parametrize(
    "q",
    [
        "nurse",  # nothing to correct
        "python developer",
        "xylophone",  # nothing close
        "paramedik",  # close only to a closed posting
        "   ",
        "!!",
    ],
)
async def test_did_you_mean_has_nothing_to_offer(session, q):
    assert await did_you_mean(session, q) is None


async def test_did_you_mean_leaves_the_callers_similarity_threshold_alone(session):
    await session.execute(sa.text("SELECT set_config('pg_trgm.word_similarity_threshold', '0.7', true)"))
    before = await session.scalar(sa.text("SELECT current_setting('pg_trgm.word_similarity_threshold')"))
    assert before == "0.7"
    assert await did_you_mean(session, "nurce") == "nurse"
    after = await session.scalar(sa.text("SELECT current_setting('pg_trgm.word_similarity_threshold')"))
    assert after == before


def test_edit_distance_counts_a_swap_as_one_edit():
    assert edit_distance("pyhton", "python") == 1
    assert edit_distance("nurce", "nurse") == 1
    assert edit_distance("developr", "developer") == 1
    assert edit_distance("abc", "xyz") == 3
    assert edit_distance("", "ab") == 2
