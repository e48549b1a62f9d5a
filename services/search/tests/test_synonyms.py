"""Job-title synonyms: the rewrites the PostgreSQL backend ORs, and the OpenSearch rules."""

from __future__ import annotations

import re

import pytest

from aujobs_search.synonyms import CURATED, MAX_REWRITES, alternatives, synonym_groups, synonym_rules


def test_abbreviation_in_a_query_is_expanded_and_the_original_comes_first():
    assert alternatives("senior dev sydney")[:2] == ["senior dev sydney", "senior developer sydney"]
    assert alternatives("RN") == ["RN", "registered nurse"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("EN", "enrolled nurse"),
        ("AIN aged care", "assistant in nursing aged care"),
        ("PA to the CEO", "personal assistant to the chief executive officer"),
        ("sparky", "electrician"),
        ("chippy", "carpenter"),
        ("tradie", "tradesperson"),
        ("HR", "human resources"),
        ("BA", "business analyst"),
        ("PM", "project manager"),
        ("SRE", "site reliability engineer"),
        ("DBA", "database administrator"),
        ("CFO", "chief financial officer"),
        ("GM", "general manager"),
        ("2IC", "second in charge"),
        ("FIFO driller", "fly in fly out driller"),
        ("laborer", "labourer"),
        ("programmer", "developer"),
        ("software engineer", "software developer"),
        ("admin", "administrator"),
        ("admin", "administration"),
        ("QA tester", "quality assurance tester"),
        # from the O*NET alternate titles
        ("LPN", "licensed practical nurse"),
        ("CAD drafter", "computer aided design drafter"),
    ],
)
def test_known_abbreviations_and_synonyms(query, expected):
    assert expected in alternatives(query)


def test_full_phrases_also_get_their_abbreviation():
    assert "rn" in alternatives("registered nurse")
    assert "hr manager" in alternatives("human resources manager")


def test_matching_is_case_insensitive():
    for query in ("rn", "Rn", "RN"):
        assert alternatives(query)[1] == "registered nurse"
    assert "Senior developer" in alternatives("Senior DEV")


def test_only_whole_words_are_replaced():
    assert alternatives("devops") == ["devops"]
    assert alternatives("dev-ops") == ["dev-ops"]
    assert alternatives("brno") == ["brno"]
    assert alternatives("node.js") == ["node.js"]  # "js" is JavaScript, but not inside node.js
    assert "devops developer" in alternatives("devops dev")


def test_longest_phrase_wins():
    assert "senior software developer" in alternatives("senior software engineer")
    assert not any("software eng" == a.split(" ", 1)[-1] for a in alternatives("senior software engineer"))


def test_whitespace_is_normalised_and_blank_has_nothing():
    assert alternatives("  senior   dev\tsydney ")[0] == "senior dev sydney"
    assert alternatives("   ") == []


def test_unknown_text_has_no_rewrites():
    assert alternatives("underwater basket weaving") == ["underwater basket weaving"]


@pytest.mark.parametrize("query", ["HR BA PM QA dev admin RN", "admin", "senior dev sydney", "sparky fifo"])
def test_output_is_bounded_and_has_no_duplicates(query):
    out = alternatives(query)
    assert 1 < len(out) <= 1 + MAX_REWRITES
    assert len({a.lower() for a in out}) == len(out)


def test_curated_list_is_substantial():
    assert len(CURATED) >= 60


def test_rules_are_well_formed():
    rules = synonym_rules()
    assert len(rules) == len(synonym_groups()) > len(CURATED)
    assert "developer, dev, programmer" in rules
    assert "registered nurse, rn" in rules
    for rule in rules:
        terms = rule.split(", ")
        assert len(terms) >= 2, rule
        assert len(set(terms)) == len(terms), rule
        for term in terms:
            assert term and term == term.strip() and term == term.lower(), rule
            assert "," not in term and "=>" not in term, rule
            assert re.fullmatch(r"[a-z0-9&+#.' -]+", term), rule


def test_curated_meaning_wins_over_onet():
    # O*NET's PA is a US physician assistant; here it is a personal assistant.
    assert "physician assistant" not in alternatives("PA")
    assert not any(rule.endswith(", pa") and "physician" in rule for rule in synonym_rules())
