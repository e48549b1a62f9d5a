"""Resolving a suburb/state/postcode that a user typed to a known Australian locality
(with coordinates), for postings and company locations alike."""

from __future__ import annotations

from aujobs_common.errors import FieldError, ProblemError
from aujobs_common.reference import Locality, find_locality

from .schemas import LocationIn


def resolve_location(location: LocationIn, *, field: str = "location") -> Locality:
    """The locality, or a 422 problem naming ``field`` when it is not a real place."""
    found = find_locality(location.suburb, location.state, location.postcode)
    if found is None:
        where = f"{location.suburb} {location.state} {location.postcode or ''}".strip()
        raise ProblemError(
            422,
            f"Unknown Australian location: {where}.",
            type_="unknown-location",
            errors=[FieldError(field=field, message="suburb/state/postcode not found")],
        )
    return found
