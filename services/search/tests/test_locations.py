"""The ``location`` parameter resolved with the postcode data (no database needed)."""

from __future__ import annotations

import pytest

from aujobs_common.errors import ProblemError
from aujobs_search.locations import resolve_location


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Parramatta", "Parramatta NSW 2150"),
        ("parramatta nsw", "Parramatta NSW 2150"),
        ("Parramatta, NSW 2150", "Parramatta NSW 2150"),
        ("Parramatta New South Wales", "Parramatta NSW 2150"),
        ("Sydney NSW 2000", "Sydney NSW 2000"),
        ("Sydney", "Sydney NSW 2000"),
        ("Melbourne VIC", "Melbourne VIC 3000"),
        ("Perth", "Perth WA 6000"),  # the capital, not Perth TAS
        ("Perth TAS", "Perth TAS 7300"),
        ("Richmond VIC", "Richmond VIC 3121"),
        ("3000", "Melbourne VIC 3000"),
        ("800", "Darwin City NT 0800"),
        ("Gold Coast", "Southport QLD 4215"),
    ],
)
def test_places_resolve_to_a_point_with_the_default_radius(text, label):
    found = resolve_location(text, None)
    assert found.label == label
    assert found.radius_km == 25 and found.point is not None and found.state is None


def test_a_postcode_is_centred_on_its_localities():
    found = resolve_location("2150", 5)
    assert found.radius_km == 5
    assert found.point is not None
    assert -33.83 < found.point.latitude < -33.81 and 151.0 < found.point.longitude < 151.01


@pytest.mark.parametrize(("text", "state"), [("VIC", "VIC"), ("vic", "VIC"), ("Western Australia", "WA")])
def test_a_state_is_the_whole_state(text, state):
    found = resolve_location(text, 10)
    assert found.state == state and found.point is None and found.radius_km is None


def test_radius_zero_means_the_place_itself():
    suburb = resolve_location("Westmead", 0)
    assert (suburb.suburb, suburb.state, suburb.postcode, suburb.radius_km) == ("Westmead", "NSW", None, None)
    postcode = resolve_location("2145", 0)
    assert (postcode.postcode, postcode.suburb) == ("2145", None)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Atlantis", "unknown-location"),
        ("Parramatta VIC", "unknown-location"),
        ("9999", "unknown-location"),
        (" , ", "unknown-location"),
        ("Richmond", "ambiguous-location"),
    ],
)
def test_unknown_and_ambiguous_places_are_problems(text, slug):
    with pytest.raises(ProblemError) as raised:
        resolve_location(text, None)
    assert raised.value.status == 400 and raised.value.type.endswith("/" + slug)
