"""The status workflow of an application, as one table.

Pipeline: submitted → reviewed → shortlisted → interview → offer → hired.

* The hiring company (owners and recruiters of the job's company) moves an application
  *forward* along the pipeline, one stage or several at once (submitted → shortlisted,
  reviewed → interview, offer → hired, even submitted → hired for a hire after a phone
  call): real pipelines skip stages, but they never move backwards — a change of mind is
  a rejection, not an un-shortlisting, so the applicant's timeline never rewinds.
  A skipped stage counts as passed in the funnel (``furthest_stage``).
* The company may reject from any open state (submitted … offer).
* The applicant may withdraw from any open state.
* hired, rejected and withdrawn are final: nothing leaves them.

Anything else is ``409 invalid-transition`` and changes nothing. Admins read every
pipeline but do not move applications (they are not the employer).
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from aujobs_common.events import ApplicationStatus as S


class Actor(StrEnum):
    employer = "employer"
    applicant = "applicant"


PIPELINE: tuple[S, ...] = (S.submitted, S.reviewed, S.shortlisted, S.interview, S.offer, S.hired)
OPEN: frozenset[S] = frozenset({S.submitted, S.reviewed, S.shortlisted, S.interview, S.offer})
FINAL: frozenset[S] = frozenset({S.hired, S.rejected, S.withdrawn})


def _table() -> dict[tuple[S, S], Actor]:
    table: dict[tuple[S, S], Actor] = {}
    for i, current in enumerate(PIPELINE):
        if current not in OPEN:
            continue
        for later in PIPELINE[i + 1 :]:
            table[(current, later)] = Actor.employer
        table[(current, S.rejected)] = Actor.employer
        table[(current, S.withdrawn)] = Actor.applicant
    return table


#: (from, to) → who may make that change. The only source of truth for transitions.
TRANSITIONS: MappingProxyType[tuple[S, S], Actor] = MappingProxyType(_table())


def allowed(current: str, target: str, actor: Actor) -> bool:
    try:
        return TRANSITIONS.get((S(current), S(target))) is actor
    except ValueError:
        return False


def stage_index(status: str) -> int:
    """Position in the pipeline (-1 for rejected/withdrawn)."""
    try:
        return PIPELINE.index(S(status))
    except ValueError:
        return -1


def furthest(current_furthest: str, target: str) -> str:
    return target if stage_index(target) > stage_index(current_furthest) else current_furthest
