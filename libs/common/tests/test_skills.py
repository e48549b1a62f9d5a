"""Skills normalisation: what a posting's skills become, and what the resumes matcher sees."""

from __future__ import annotations

import pytest

from aujobs_common.skills import (
    AU_EXTRA_SKILLS,
    GENERAL,
    GENERAL_SKILLS,
    LICENCE,
    LICENCES,
    SYNONYMS,
    Skill,
    catalogue,
    normalise_skill,
    normalise_skills,
    surface_forms,
)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("JS", "JavaScript"),
        ("TS", "TypeScript"),
        ("Postgres", "PostgreSQL"),
        ("postgresql", "PostgreSQL"),
        ("k8s", "Kubernetes"),
        ("ReactJS", "React"),
        ("React.js", "React"),
        ("Node", "Node.js"),
        ("NodeJS", "Node.js"),
        ("MS Excel", "Microsoft Excel"),
        ("Excel", "Microsoft Excel"),
        ("AWS", "Amazon Web Services AWS software"),
        ("GCP", "Google Cloud software"),
        ("Azure", "Microsoft Azure software"),
        (".NET", "Microsoft .NET Framework"),
        ("Golang", "Go"),
        ("MYOB", "MYOB"),
        ("Xero", "Xero"),
    ],
)
def test_common_variants_map_to_the_catalogue_name(given: str, canonical: str) -> None:
    skill = normalise_skill(given)
    assert skill.name == canonical
    assert skill.matched is True


def test_every_synonym_resolves_to_its_own_target() -> None:
    """Catches typos in targets and variants silently shadowed by a catalogue name."""
    assert len(SYNONYMS) >= 80
    wrong = {
        v: normalise_skill(v).name for v, target in SYNONYMS.items() if normalise_skill(v).name != target
    }
    assert wrong == {}


def test_curated_names_are_not_shadowed_by_onet_names() -> None:
    for name in [*AU_EXTRA_SKILLS, *LICENCES, *GENERAL_SKILLS]:
        assert normalise_skill(name).name == name


@pytest.mark.parametrize("given", ["node js", "Node.JS", "NODEJS", " node-js ", "Node . js"])
def test_lookup_ignores_case_whitespace_and_punctuation(given: str) -> None:
    assert normalise_skill(given).name == "Node.js"


def test_hash_and_plus_keep_c_languages_apart() -> None:
    assert [normalise_skill(s).name for s in ("C", "c#", "C++", "c sharp")] == ["C", "C#", "C++", "C#"]


def test_catalogue_entry_carries_onet_category_and_hot_flag() -> None:
    python = normalise_skill("python")
    assert python == catalogue()["Python"]
    assert python.category == "Object or component oriented development software"
    assert python.hot is True
    assert python.in_demand is True
    obscure = catalogue()["100 Plus Hatch Pattern Library"]
    assert obscure.hot is False
    assert obscure.matched is True


def test_unknown_skill_is_kept_as_given_but_unmatched() -> None:
    skill = normalise_skill("  Underwater   BASKET weaving ")
    assert skill == Skill(name="Underwater BASKET weaving", category=None, hot=False, matched=False)


def test_blank_skill_is_rejected() -> None:
    with pytest.raises(ValueError, match="letter or digit"):
        normalise_skill(" -- ")


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("RSA", "Responsible Service of Alcohol (RSA)"),
        ("white card", "White Card"),
        ("Working With Children Check", "Working with Children Check"),
        ("WWCC", "Working with Children Check"),
        ("forklift license", "Forklift Licence"),
        ("Driver's Licence", "Driver Licence"),
        ("HR licence", "Heavy Rigid (HR) Licence"),
        ("First Aid", "First Aid Certificate"),
    ],
)
def test_australian_licences_are_recognised(given: str, canonical: str) -> None:
    skill = normalise_skill(given)
    assert (skill.name, skill.category, skill.matched) == (canonical, LICENCE, True)


def test_general_skills_are_recognised() -> None:
    skill = normalise_skill("customer service skills")
    assert (skill.name, skill.category, skill.matched) == ("Customer Service", GENERAL, True)


def test_normalise_skills_dedups_by_canonical_name_and_keeps_order() -> None:
    skills = normalise_skills(
        ["ReactJS", "JS", "Basket weaving", "react", "JavaScript", "", "  ", "basket  WEAVING", "k8s"]
    )
    assert [s.name for s in skills] == ["React", "JavaScript", "Basket weaving", "Kubernetes"]
    assert [s.matched for s in skills] == [True, True, False, True]


def test_catalogue_size_is_plausible() -> None:
    cat = catalogue()
    assert 8_000 < len(cat) < 12_000
    assert sum(s.hot for s in cat.values()) > 100
    assert all(s.matched for s in cat.values())


def test_surface_forms_cover_names_and_synonyms_lower_cased() -> None:
    forms = surface_forms()
    assert forms["k8s"] == "Kubernetes"
    assert forms["node.js"] == "Node.js"
    assert forms["nodejs"] == "Node.js"
    assert forms["white card"] == "White Card"
    assert forms["microsoft excel"] == "Microsoft Excel"
    assert all(form == form.lower() for form in forms)
    assert set(forms.values()) <= set(catalogue())


def test_catalogue_is_loaded_once() -> None:
    assert catalogue() is catalogue()
