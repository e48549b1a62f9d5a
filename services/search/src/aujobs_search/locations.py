"""Resolves the ``location`` search parameter with the postcode data
(:mod:`aujobs_common.reference`) into a :class:`~aujobs_search.query.LocationFilter`.

Accepted forms (case-insensitive, commas ignored):

* a state or territory, by code or name: ``VIC``, ``New South Wales`` — the whole
  state; a radius is ignored;
* a postcode: ``2150`` — the centre of the postcode's localities;
* a suburb or city, optionally with state and/or postcode: ``Parramatta``,
  ``Melbourne VIC``, ``Sydney NSW 2000``, ``Parramatta 2150``, ``Gold Coast`` (the three
  cities that are not a locality of their own are placed at their centre's).

A point location gets ``radius_km`` (default ``default_radius_km``); a radius of
0 means the suburb (or postcode) itself, matched exactly. A suburb name found in
several states resolves to the capital city when it names one ("Perth" is Perth WA,
not Perth TAS), at its CBD postcode; otherwise it is ambiguous and the caller must add
the state. A suburb with several postcodes is placed at its main one (see :func:`_find`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from aujobs_common.errors import FieldError, ProblemError
from aujobs_common.reference import (
    STATES,
    Locality,
    is_po_box_postcode,
    localities,
    localities_for_postcode,
)

from .query import GeoPoint, LocationFilter

DEFAULT_RADIUS_KM = 25.0
MAX_RADIUS_KM = 500.0

#: capital city -> (state, CBD postcode): the city a bare name means, and where it is
CAPITALS = {
    "sydney": ("NSW", "2000"),
    "melbourne": ("VIC", "3000"),
    "brisbane": ("QLD", "4000"),
    "perth": ("WA", "6000"),
    "adelaide": ("SA", "5000"),
    "hobart": ("TAS", "7000"),
    "darwin": ("NT", "0800"),
    "canberra": ("ACT", "2600"),
}
#: cities that are not a locality of their own -> the locality at their centre
_REGIONS = {
    "gold coast": ("Southport", "QLD"),
    "sunshine coast": ("Maroochydore", "QLD"),
    "central coast": ("Gosford", "NSW"),
}
_STATE_NAMES = {name.casefold(): code for code, name in STATES.items()}
_POSTCODE = re.compile(r"^\d{3,4}$")
_FIELD = "query.location"


@dataclass(frozen=True)
class _Parsed:
    suburb: str | None
    state: str | None
    postcode: str | None


def resolve_location(
    text: str, radius_km: float | None, *, default_radius_km: float = DEFAULT_RADIUS_KM
) -> LocationFilter:
    """The filter ``text`` names; a 400 ``unknown-location`` problem when it names
    nothing in the postcode data, 400 ``ambiguous-location`` when it names several
    places (the detail lists them)."""
    parsed = _parse(text)
    if parsed.suburb is None and parsed.postcode is None and parsed.state is not None:
        return LocationFilter(label=parsed.state, state=parsed.state)
    place = _find(parsed, text)
    radius = default_radius_km if radius_km is None else radius_km
    point = GeoPoint(latitude=place.latitude, longitude=place.longitude)
    if radius == 0:
        # the suburb (or postcode) itself
        return LocationFilter(
            label=place.label,
            point=point,
            state=place.state,
            suburb=place.suburb if parsed.suburb else None,
            postcode=place.postcode if parsed.suburb is None else None,
        )
    return LocationFilter(label=place.label, point=point, radius_km=radius)


def _parse(text: str) -> _Parsed:
    words = " ".join(text.replace(",", " ").split())
    if not words:
        raise _unknown(text)
    state = _STATE_NAMES.get(words.casefold()) or (words.upper() if words.upper() in STATES else None)
    if state:
        return _Parsed(suburb=None, state=state, postcode=None)
    tokens = words.split(" ")
    postcode = None
    if _POSTCODE.match(tokens[-1]):
        postcode = tokens.pop().zfill(4)
    state = None
    if tokens and tokens[-1].upper() in STATES:
        state = tokens.pop().upper()
    else:
        rest = " ".join(tokens).casefold()
        for name, code in _STATE_NAMES.items():
            if rest.endswith(" " + name):
                state = code
                tokens = rest[: -len(name)].split()
                break
    suburb = " ".join(tokens) or None
    region = _REGIONS.get((suburb or "").casefold())
    if region and state in (None, region[1]):
        suburb, state = region
    return _Parsed(suburb=suburb, state=state, postcode=postcode)


def _find(parsed: _Parsed, text: str) -> Locality:
    candidates = _candidates(parsed)
    if not candidates:
        raise _unknown(text)
    if parsed.suburb is None:
        return _postcode_centre(candidates)  # a few postcodes straddle a border: fine
    states = sorted({c.state for c in candidates})
    capital_state, cbd = CAPITALS.get((parsed.suburb or "").casefold(), (None, None))
    if len(states) > 1:
        if capital_state not in states:
            labels = sorted({f"{parsed.suburb} {s}" for s in states})
            raise ProblemError(
                400,
                f"{text.strip()!r} names places in several states; add the state, e.g. {labels[0]!r}.",
                type_="ambiguous-location",
                errors=[FieldError(field=_FIELD, message="one of: " + "; ".join(labels))],
            )
        candidates = [c for c in candidates if c.state == capital_state]
    in_cbd = [c for c in candidates if c.state == capital_state and c.postcode == cbd]
    if in_cbd:
        return in_cbd[0]
    # otherwise the place's main postcode: a street-delivery one shared by the most localities (a
    # delivery area, not a large-user or PO-box code: Parramatta is 2150, not 1740 or
    # 2124), lowest on a tie
    return min(
        candidates,
        key=lambda c: (is_po_box_postcode(c.postcode), -len(localities_for_postcode(c.postcode)), c.postcode),
    )


def _candidates(parsed: _Parsed) -> list[Locality]:
    if parsed.suburb is None:
        found = localities_for_postcode(parsed.postcode or "")
    else:
        found = _by_name().get(parsed.suburb.casefold(), [])
        if parsed.postcode:
            found = [loc for loc in found if loc.postcode == parsed.postcode]
    if parsed.state:
        found = [loc for loc in found if loc.state == parsed.state]
    return found


@cache
def _by_name() -> dict[str, list[Locality]]:
    index: dict[str, list[Locality]] = {}
    for loc in localities():
        index.setdefault(loc.suburb.casefold(), []).append(loc)
    return index


def _postcode_centre(candidates: list[Locality]) -> Locality:
    """A postcode covers several localities; its centre is their mean position."""
    first = candidates[0]
    return Locality(
        suburb=first.suburb,
        postcode=first.postcode,
        state=first.state,
        latitude=sum(c.latitude for c in candidates) / len(candidates),
        longitude=sum(c.longitude for c in candidates) / len(candidates),
    )


def _unknown(text: str) -> ProblemError:
    return ProblemError(
        400,
        f"Unknown location {text.strip()!r}: give a suburb, postcode, city or state.",
        type_="unknown-location",
        errors=[FieldError(field=_FIELD, message="not an Australian suburb, postcode, city or state")],
    )
