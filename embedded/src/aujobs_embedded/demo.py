"""The demo job seeker's resume and applications for ``make run``: so the demo employer
opens a pipeline with applicants in it, and the demo seeker a resume and applications
with history. Made the way a frontend makes them — through each service's own API,
with the demo accounts' own tokens — so every event, copy and check is the real one.
Done once: nothing happens when the demo seeker already has an application."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

from aujobs_auth.seed import DEMO_PASSWORD, DEMO_USERS

log = logging.getLogger(__name__)

DEMO_RESUME: dict[str, Any] = {
    "contact": {
        "name": "Mia Nguyen",
        "email": "seeker@demo.australiajobs.example",
        "phone": "0412 345 678",
        "location": "Parramatta NSW",
        "links": ["https://www.linkedin.com/in/mia-nguyen-demo"],
    },
    "summary": "Software engineer with six years of building reliable web platforms for "
    "Australian health and finance organisations.",
    "experience": [
        {
            "title": "Senior Software Engineer",
            "employer": "Harbour Analytics",
            "location": "Sydney NSW",
            "start": "2021-03",
            "current": True,
            "highlights": [
                "Led the move of 14 services to Kubernetes, cutting hosting costs by 30%",
                "Built a Python data pipeline processing 2 million claims a day",
                "Mentored 4 graduate engineers through their first year",
            ],
        },
        {
            "title": "Software Engineer",
            "employer": "Banksia Digital",
            "location": "Melbourne VIC",
            "start": "2018-02",
            "end": "2021-02",
            "highlights": [
                "Delivered a React and TypeScript customer portal used by 250,000 members",
                "Reduced page load times by 45% with caching and query tuning in PostgreSQL",
            ],
        },
    ],
    "education": [
        {
            "institution": "University of Technology Sydney",
            "degree": "Bachelor of Engineering (Honours)",
            "area": "Software Engineering",
            "start": "2014",
            "end": "2017",
        }
    ],
    "skills": ["Python", "TypeScript", "React", "PostgreSQL", "Kubernetes", "AWS"],
    "certifications": ["AWS Certified Solutions Architect (Associate)"],
}

#: how the demo employer has moved the demo applications along, in order
DEMO_PIPELINE = (["reviewed", "shortlisted", "interview"], ["reviewed"], [])


def _answer(question: dict[str, Any]) -> Any:
    if question["kind"] == "yes_no":
        return True
    if question["kind"] == "single_choice":
        return question["options"][0]
    if question["kind"] == "multi_choice":
        return question["options"][:1]
    return "Yes: happy to discuss at interview."


async def _token(auth: httpx.AsyncClient, key: str) -> dict[str, str]:
    email, _ = DEMO_USERS[key]
    r = await auth.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def seed_demo_applications(transports: dict[str, httpx.AsyncBaseTransport], *, wait: float = 30) -> int:
    """Returns how many applications were made (0 when they exist already)."""
    clients = {
        name: httpx.AsyncClient(transport=transports[name], base_url=f"http://{name}")
        for name in ("auth", "jobs", "resumes", "applications")
    }
    try:
        seeker = await _token(clients["auth"], "job_seeker")
        employer = await _token(clients["auth"], "employer")
        apps = clients["applications"]
        r = await apps.get("/api/v1/applications", headers=seeker)
        r.raise_for_status()
        if r.json()["items"]:
            return 0
        r = await clients["resumes"].post(
            "/api/v1/resumes/builder",
            json={"title": "Mia Nguyen — Software Engineer", "template": "modern", "document": DEMO_RESUME},
            headers=seeker,
        )
        r.raise_for_status()
        resume = r.json()
        version = resume["versions"][0]
        made = 0
        for job, steps in zip(await _fitting_jobs(clients["jobs"]), DEMO_PIPELINE, strict=False):
            body = {
                "job_id": job["id"],
                "resume_id": resume["id"],
                "resume_version_id": version["id"],
                "cover_letter": f"I'd love to bring my platform experience to the {job['title']} role.",
                "answers": {q["id"]: _answer(q) for q in job.get("screening_questions", [])},
            }
            application = await _apply_when_known(apps, body, seeker, wait)
            for status in steps:
                r = await apps.post(
                    f"/api/v1/applications/{application['id']}/status",
                    json={"status": status},
                    headers=employer,
                )
                r.raise_for_status()
            made += 1
        return made
    finally:
        for client in clients.values():
            await client.aclose()


#: the demo jobs a software engineer would apply for, best first
FITTING_TITLES = ("Senior Python Developer", "Full Stack Developer", "Software Engineer", "Data Engineer")


async def _fitting_jobs(jobs: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Active demo jobs to apply for: one per fitting title first, then others that
    list skills, then any (a small seed may hold none of the fitting titles)."""
    fitting: dict[str, dict[str, Any]] = {}
    others: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        r = await jobs.get("/api/v1/jobs", params=params)
        r.raise_for_status()
        for job in r.json()["items"]:
            if job["title"] in FITTING_TITLES:
                fitting.setdefault(job["title"], job)
            else:
                others.append(job)
        cursor = r.json().get("next_cursor")
        if not cursor or len(fitting) == len(FITTING_TITLES):
            break
    others.sort(key=lambda job: not job.get("skills"))
    return [fitting[t] for t in FITTING_TITLES if t in fitting] + others


async def _apply_when_known(
    apps: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str], wait: float
) -> dict[str, Any]:
    """The applications service learns jobs and company members from events, which the
    in-memory bus delivers a moment after the seeding committed them."""
    deadline = time.monotonic() + wait
    while True:
        r = await apps.post("/api/v1/applications", json=body, headers=headers)
        if r.status_code == 201:
            return r.json()
        if r.status_code != 404 or time.monotonic() > deadline:
            raise RuntimeError(f"demo application refused: {r.status_code} {r.text}")
        await asyncio.sleep(0.2)
