"""How well a resume covers a job's skills."""

from __future__ import annotations

from collections.abc import Iterable

from aujobs_common.skills import normalise_skill, skill_key


def _keys(skills: Iterable[str]) -> set[str]:
    """Comparison keys of the canonical names (so "JS" on one side meets "JavaScript"
    on the other); blanks dropped."""
    return {skill_key(normalise_skill(s).name) for s in skills if skill_key(s)}


def match_score(job_skills: Iterable[str], resume_skills: Iterable[str] | None) -> int | None:
    """The share (0-100, rounded) of the job's skills found among the resume's parsed
    skills; ``None`` when the job lists no skills or the resume is not parsed yet."""
    wanted = _keys(job_skills)
    if not wanted or resume_skills is None:
        return None
    found = wanted & _keys(resume_skills)
    return round(100 * len(found) / len(wanted))
