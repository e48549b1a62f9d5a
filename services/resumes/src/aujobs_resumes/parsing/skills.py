"""Skills in free text: a spaCy ``PhraseMatcher`` over every surface form of the O*NET
catalogue and its synonyms (:mod:`aujobs_common.skills`), without a trained model
(``spacy.blank("en")``: the tokenizer only).

The hard part is not finding names but not finding them where they are words. The
catalogue is full of products named after ordinary English ("Word", "Access", "Go",
"Make", "Box", "Chef", "Spark", "Teams", "Ray"), so a match is kept according to where
it is and how it is written:

* **Listings** (a skills section, or a ``Label: a, b, c`` line): every match counts,
  except one- and two-letter names ("C", "R"), which must be written in their own case.
* **Prose** (experience bullets, summaries): a *plain* name (a technical term that is
  not an English word, e.g. "Kubernetes", "PostgreSQL") counts however it is written.
  A :data:`CASED` one ("Excel", "Outlook", "Slack") counts when capitalised and not the
  first word of a sentence or line. A :data:`STRICT` one ("Go", "Make", "Chef",
  "Spark", "Teams", "Word", "Access") and any English stop word count only when
  capitalised inside a list (next to a comma, slash, ``|``, ``:``, parenthesis, or
  "and"/"or" joining it to another capitalised word). "Head Chef", "excel at" and "go
  live" are thus not skills; "Python, Go and SQL" has three.

The matcher is built once per process (:func:`matcher`, cached): about 9,000 forms,
0.3–0.5 s on one core (``bench/resumes.py`` prints the figure).
"""

# ruff: noqa: RUF001, RUF002 (dashes, bullets and typographic quotes are what resumes contain)

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aujobs_common.skills import normalise_skill, surface_forms

# Catalogue forms that are also ordinary English words (lower-cased), in two tiers.
# Curated from the catalogue's single-word forms and from the forms that fired outside
# gold spans on the SkillSpan *training* split (bench/resumes.py measures on dev).
#: in prose only inside a list ("Python, Go and SQL"): too common as words or titles
STRICT: frozenset[str] = frozenset(
    """
    access act ada alert basic box bridge chef coach compass connect core dig draft
    express flow focus frame gate go impact insight launch lean link live make map
    matrix notes office pages paint pilot plus project quest rally ray reason rest ride
    rust julia shell spark spring stack storm stream swift tag teams track trace unity
    vision wave web word works sketch sage solver scribe snap studio capture content
    scheme square google fear magic reduce bing
    design contact claims claim budget balance cash collect dispatch player portal edge
    """.split()
) | {"best practice", "after the deadline", "medical software"}
#: in prose when written capitalised, not first in a sentence or line (or in a list)
CASED: frozenset[str] = frozenset(
    """
    acrobat angular ant apex arc atlas audition aurora backup beam blackboard blender
    bloom canvas carbon catalyst chart chrome circuit clarity cloud comet composer concur
    conduit confluence cosmos crystal cube cucumber curl dart dash delta desk domino
    eagle echo eclipse elastic elixir ember epic excel falcon fiddler finder fire flash
    flask flutter forge fusion galaxy gateway genesis ghost glass glue graphite groove
    harbor harmony harvest helix helm hive horizon hub hudson ignite ionic iris jade
    jasmine jet karma keeper lasso lens lightning loom looker lotus lucid maple mariner
    maven meridian mesa mirror mocha momentum monarch mosaic motion nexus nova nuke
    octave onyx opera oracle orbit outlook panorama paradox passport pearl phoenix photos
    pioneer pivot planner polaris postman presto prism prospect pulse puppet radar react
    relay remedy ripple rocket route ruby salt sentinel sentry shield signal slack
    spectrum sphinx symphony tableau tempo terminal thrift titan torch tracker transit
    triton vault vector velocity vertex vista voyager watson zoom zen
    """.split()
)
#: short names people write that aujobs_common.skills.SYNONYMS lacks (proposed upstream);
#: used only here, and only where the canonical name is in the catalogue
LOCAL_SYNONYMS: dict[str, str] = {
    "Access": "Microsoft Access",
    "MS Access": "Microsoft Access",
    "Microsoft Word": "Microsoft Word",
    "Sheets": "Google Sheets",
    "Google Docs": "Google Docs",
    "GitHub Actions": "GitHub Actions",
    "Kotlin": "Kotlin",
}
_LIST_PUNCT = frozenset({",", "/", "|", ";", ":", "(", ")", "&", "•", "·"})
_LIST_WORDS = frozenset({"and", "or", "with", "using", "including", "e.g.", "like"})
_SENTENCE_END = frozenset({".", "!", "?", "•", "-", "–", "—", ":", "\n"})


_LOCK = threading.Lock()


@dataclass(frozen=True)
class SkillMatcher:
    nlp: Any
    matcher: Any
    #: pattern key → (canonical name, form as written in the catalogue/synonyms)
    forms: dict[str, tuple[str, str]]
    build_seconds: float


def _key(form: str) -> str:
    return form.lower()


@lru_cache(maxsize=1)
def matcher() -> SkillMatcher:
    """The process-wide matcher, built on first use (two threads racing may both build
    it; one is kept). Call it at startup to take the build time off the first upload."""
    import spacy
    from spacy.matcher import PhraseMatcher

    started = time.perf_counter()
    nlp = spacy.blank("en")
    phrase = PhraseMatcher(nlp.vocab, attr="LOWER")
    forms: dict[str, tuple[str, str]] = {}
    written = _written_forms()
    for lower, canonical in surface_forms().items():
        forms[lower] = (canonical, written.get(lower, canonical))
    for variant, canonical in _local_synonyms().items():
        forms.setdefault(variant.lower(), (canonical, variant))
    keys = list(forms)
    # one label per surface form, so each match names the form it matched
    for key, doc in zip(keys, nlp.tokenizer.pipe(keys), strict=True):
        phrase.add(key, [doc])
    return SkillMatcher(nlp, phrase, forms, time.perf_counter() - started)


def _local_synonyms() -> dict[str, str]:
    from aujobs_common.skills import catalogue

    known = catalogue()
    return {variant: canonical for variant, canonical in LOCAL_SYNONYMS.items() if canonical in known}


def canonical_name(item: str) -> tuple[str, bool]:
    """(canonical name, known) of one listed skill: the catalogue's, a local synonym's,
    or the item as written (tidied)."""
    local = _local_synonyms()
    for variant, canonical in local.items():
        if variant.lower() == " ".join(item.split()).lower():
            return canonical, True
    skill = normalise_skill(item)
    return skill.name, skill.matched


def _written_forms() -> dict[str, str]:
    """Lower-cased form → the form as the catalogue or synonym list writes it (for the
    case checks: "Go", "R", "Word")."""
    from aujobs_common.skills import SYNONYMS, catalogue

    out = {name.lower(): name for name in catalogue()}
    for variant in SYNONYMS:
        out.setdefault(variant.lower(), variant)
    return out


@dataclass(frozen=True)
class Found:
    name: str
    start: int  # character offsets in the text
    end: int
    text: str


def find_skills(text: str, *, listing: bool = False) -> list[Found]:
    """Every accepted mention in ``text``, longest match first where they overlap, in
    order of appearance. ``listing``: the text is a list of skills (a skills section)."""
    m = matcher()
    with _LOCK:  # the tokenizer adds to the shared vocabulary: one thread at a time
        doc = m.nlp.make_doc(text)
        spans = [(start, end, m.nlp.vocab.strings[match_id]) for match_id, start, end in m.matcher(doc)]
    # longest first, then leftmost; drop overlaps
    spans.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
    taken: set[int] = set()
    out: list[Found] = []
    for start, end, key in spans:
        if any(i in taken for i in range(start, end)):
            continue
        canonical, written = m.forms[key]
        span = doc[start:end]
        if not _accept(doc, start, end, key, written, listing):
            continue
        taken.update(range(start, end))
        out.append(Found(canonical, span.start_char, span.end_char, span.text))
    out.sort(key=lambda f: f.start)
    return out


def _accept(doc: Any, start: int, end: int, key: str, written: str, listing: bool) -> bool:
    span_text = doc[start:end].text
    letters = re.sub(r"[^A-Za-z]", "", key)
    single = len(doc[start:end]) == 1
    if len(letters) <= 2 and single:
        # "C", "R", "Go", "JS", "ML": as written in the catalogue, never in lower case
        if span_text != written and span_text != written.upper():
            return False
        if listing:
            return True
        after = doc[end] if end < len(doc) else None
        if after is not None and after.is_alpha and after.lower_ not in ("and", "or"):
            return False  # "C class", "R package" …: a letter in a phrase
        return _in_list(doc, start, end)
    if listing:
        return True
    if (key in STRICT or key in CASED) and _in_proper_name(doc, start, end):
        return False
    if key in STRICT or (single and key in _stop_words()):
        return span_text[:1].isupper() and _in_list(doc, start, end)
    if key in CASED:
        if span_text[:1].islower():
            return False
        first = start == 0 or doc[start - 1].text in _SENTENCE_END or "\n" in doc[start - 1].whitespace_
        return not first or _in_list(doc, start, end)
    return True


def _in_proper_name(doc: Any, start: int, end: int) -> bool:
    """Whether the span is glued to another capitalised word ("Head Chef", "Google
    DeepMind", "Box Hill"): then it is part of a longer name, not a product."""
    after = doc[end] if end < len(doc) else None
    if after is not None and after.text[:1].isupper() and after.is_alpha and not after.whitespace_ == "\n":
        return True
    before = doc[start - 1] if start > 0 else None
    if before is not None and before.text[:1].isupper() and before.is_alpha and start - 1 > 0:
        prev = doc[start - 2]
        if prev.text not in _SENTENCE_END and "\n" not in prev.whitespace_:
            return True
    return False


def _in_list(doc: Any, start: int, end: int) -> bool:
    """Whether the span sits in an enumeration: punctuation of a list next to it, or
    "and"/"or" joining it to something capitalised."""
    before = doc[start - 1] if start > 0 else None
    after = doc[end] if end < len(doc) else None
    if before is not None and before.text in _LIST_PUNCT:
        return True
    if after is not None and after.text in _LIST_PUNCT:
        return True
    if before is not None and before.lower_ in _LIST_WORDS and start > 1:
        prev = doc[start - 2]
        if prev.text in _LIST_PUNCT or prev.text[:1].isupper():
            return True
    if after is not None and after.lower_ in ("and", "or") and end + 1 < len(doc):
        if doc[end + 1].text[:1].isupper():
            return True
    return False


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def extract_skills(text: str, *, listing: bool = False) -> list[str]:
    """Canonical skill names mentioned in ``text``, in order of first mention."""
    seen: set[str] = set()
    out: list[str] = []
    for found in find_skills(text, listing=listing):
        if found.name not in seen:
            seen.add(found.name)
            out.append(found.name)
    return out


_ITEM_SPLIT = re.compile(r"\s*(?:[,;|•·▪●◦]|\s/\s|\band\b(?=\s+[A-Z]))\s*")


def _logical_lines(section: str) -> list[str]:
    """Lines with wrapped ones joined back: a line that ends in a comma, or a long one
    followed by one starting in lower case, continues on the next."""
    out: list[str] = []
    for raw in section.splitlines():
        line = raw.strip()
        bullet = line[:1] in "•◦▪●*·" or line[:2] in ("- ", "– ")
        line = line.lstrip("•◦▪●-*–· ").strip()
        if not line:
            continue
        wrapped = line[:1].islower() and len(out[-1]) > 60 if out else False
        if out and not bullet and (out[-1].endswith((",", ";", "/")) or wrapped):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def listed_skills(section: str) -> list[str]:
    """Skills from a skills section as the person listed them: each line's items
    (``Label: a, b, c``) normalised to canonical names when the catalogue knows them,
    kept as written otherwise; plus catalogue names found inside longer items."""
    names: list[str] = []
    for line in _logical_lines(section):
        label, sep, rest = line.partition(":")
        if sep and len(label.split()) <= 5:
            line = rest
        for item in _ITEM_SPLIT.split(line):
            item = item.strip(" .()[]")
            if not item:
                continue
            words = item.split()
            if len(words) > 6 or re.search(r"\d{4}", item):
                names.extend(extract_skills(item, listing=True))
                continue
            name, known = canonical_name(item)
            if known:
                names.append(name)
                continue
            inside = extract_skills(item, listing=True)  # "Python programming" → Python
            names.extend(inside or ([name] if len(words) <= 4 else []))
    return names
