"""Reference data every service may need, shipped with the package.

* ``au_postcodes.csv`` — Australian postcodes and localities with coordinates.
  Contains data from GeoNames (geonames.org), CC BY 4.0.
* ``job_classifications.json`` — the 30 job classifications and their
  sub-classifications used by Australian job boards (names only).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

STATES = {
    "ACT": "Australian Capital Territory",
    "NSW": "New South Wales",
    "NT": "Northern Territory",
    "QLD": "Queensland",
    "SA": "South Australia",
    "TAS": "Tasmania",
    "VIC": "Victoria",
    "WA": "Western Australia",
}


@dataclass(frozen=True)
class Locality:
    suburb: str
    postcode: str
    state: str  # state code, e.g. VIC
    latitude: float
    longitude: float

    @property
    def label(self) -> str:
        return f"{self.suburb} {self.state} {self.postcode}"


@cache
def localities() -> tuple[Locality, ...]:
    text = resources.files(__package__).joinpath("au_postcodes.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    out = []
    for row in rows:
        try:
            out.append(
                Locality(
                    suburb=row["place"].strip(),
                    postcode=row["zipcode"].strip().zfill(4),
                    state=row["state_code"].strip(),
                    latitude=float(row["latitude"]),
                    longitude=float(row["longitude"]),
                )
            )
        except (KeyError, ValueError):
            continue
    return tuple(out)


@cache
def _by_suburb_state() -> dict[tuple[str, str], list[Locality]]:
    index: dict[tuple[str, str], list[Locality]] = {}
    for loc in localities():
        index.setdefault((loc.suburb.casefold(), loc.state), []).append(loc)
    # Street-delivery postcodes before PO-box ones (Parramatta 2150, not 1740).
    for entries in index.values():
        entries.sort(key=lambda loc: (is_po_box_postcode(loc.postcode), loc.postcode))
    return index


# Australia Post's PO-box / large-user ranges by first digits.
_PO_BOX_RANGES = (
    (200, 299),
    (900, 999),
    (1000, 1999),
    (5800, 5999),
    (6800, 6999),
    (7800, 7999),
    (8000, 9999),
)


def is_po_box_postcode(postcode: str) -> bool:
    try:
        value = int(postcode)
    except ValueError:
        return False
    return any(lo <= value <= hi for lo, hi in _PO_BOX_RANGES)


@cache
def _by_postcode() -> dict[str, list[Locality]]:
    index: dict[str, list[Locality]] = {}
    for loc in localities():
        index.setdefault(loc.postcode, []).append(loc)
    return index


def find_locality(suburb: str, state: str, postcode: str | None = None) -> Locality | None:
    """The locality named by suburb + state (+ postcode when given), case-insensitive."""
    candidates = _by_suburb_state().get((suburb.strip().casefold(), state.strip().upper()), [])
    if postcode:
        candidates = [c for c in candidates if c.postcode == postcode.strip().zfill(4)]
    return candidates[0] if candidates else None


def localities_for_postcode(postcode: str) -> list[Locality]:
    return list(_by_postcode().get(postcode.strip().zfill(4), []))


@cache
def classifications() -> dict[str, tuple[str, ...]]:
    text = resources.files(__package__).joinpath("job_classifications.json").read_text(encoding="utf-8")
    return {c["name"]: tuple(c["subclassifications"]) for c in json.loads(text)}


def is_classification(name: str, sub: str | None = None) -> bool:
    subs = classifications().get(name)
    if subs is None:
        return False
    return sub is None or sub in subs
