"""Search-box suggestions (titles, skills, companies, locations) and "did you mean".

Everything here must answer while someone types, over an index of ~200k postings:

* Locations and skills come from reference data loaded into memory once (sorted lists,
  ``bisect`` for prefixes).
* Titles use the partial trigram index on ``f_unaccent(title)`` (migration 0002) for a
  word-start regular expression, companies the partial b-tree on
  ``lower(company_name)`` for a prefix ``LIKE``; both read a bounded sample of rows.

Ranking mixes the kinds: every candidate gets a tier (0 the query is the whole
suggestion, 1 the suggestion starts with it, 2 a later word starts with it, 3 merely
similar); within a tier the kinds take turns, each in its own order (titles and
companies by how many active postings carry them, skills by postings then O*NET hot /
in-demand flags, locations by :func:`_place_rank`). The same text (ignoring case) is
suggested once, as its best-ranked kind.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import zip_longest

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from aujobs_common.reference import STATES, is_po_box_postcode, localities
from aujobs_common.skills import catalogue, skill_key, surface_forms

from .locations import CAPITALS
from .query import Suggestion, SuggestionKind

EXACT, PREFIX, WORD_PREFIX, SIMILAR = 0, 1, 2, 3

#: Rows read to count a title or company; a popular prefix ("sen") counts a sample.
SAMPLE_ROWS = 5000
#: Titles need this many characters before the trigram index can narrow anything down.
MIN_TITLE_CHARS = 3

# The CBD postcode of each capital: the locality people mean by the city's name.
CAPITAL_CBDS = {(city, state): cbd for city, (state, cbd) in CAPITALS.items()}


@dataclass(frozen=True)
class _Candidate:
    kind: SuggestionKind
    text: str
    tier: int


def fold(text: str) -> str:
    """Case-, accent- and whitespace-insensitive form used for every comparison."""
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def _prefixed(keys: list[str], prefix: str) -> Iterator[int]:
    """Indexes of the sorted ``keys`` that start with ``prefix``."""
    i = bisect_left(keys, prefix)
    while i < len(keys) and keys[i].startswith(prefix):
        yield i
        i += 1


# --- locations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    suburb: str
    state: str
    postcode: str
    #: sorts the better-known place first (see _place_rank)
    rank: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.suburb} {self.state} {self.postcode}"


def _place_rank(suburb: str, state: str, postcode: str, lga: str, lga_size: int) -> tuple[int, ...]:
    """Bigger places first, without population data: a capital city, then the locality
    that names its local government area ("Parramatta" in City of Parramatta, "Geelong"
    in Greater Geelong: the centre of its council), then by how many localities that
    council area has (a proxy for its size); street postcodes before PO-box ones."""
    name = suburb.casefold()
    lga_words = fold(lga).removeprefix("greater ").removeprefix("city of ")
    return (
        0 if (name, state) in CAPITAL_CBDS else 1,
        0 if lga_words == fold(suburb) else 1,
        -lga_size,
        1 if is_po_box_postcode(postcode) else 0,
        len(suburb),
    )


def _main_postcode(suburb: str, state: str, postcodes: Counter[str]) -> str:
    """The postcode a place name means: a capital's CBD; otherwise its street-delivery
    postcode shared by the most localities (a delivery area, not a large-user or PO-box
    code: Parramatta is 2150, not 1740 or 2124), lowest on a tie."""
    cbd = CAPITAL_CBDS.get((suburb.casefold(), state))
    if cbd in postcodes:
        return cbd
    return min(postcodes, key=lambda p: (is_po_box_postcode(p), -postcodes[p], p))


@dataclass(frozen=True)
class _PlaceIndex:
    #: one place per suburb and state, at its main postcode, sorted by folded name
    by_name: tuple[_Place, ...]
    names: list[str]
    #: every suburb at every postcode, sorted by postcode
    by_postcode: tuple[_Place, ...]
    postcodes: list[str]


@lru_cache(maxsize=1)
def _lga_names() -> dict[tuple[str, str, str], str]:
    """(suburb, state, postcode) → local government area, from the ``province`` column
    of the postcode data (its ``Locality`` records leave it out)."""
    text = resources.files("aujobs_common.reference").joinpath("au_postcodes.csv").read_text("utf-8")
    out: dict[tuple[str, str, str], str] = {}
    for row in csv.DictReader(text.splitlines()):
        key = (row["place"].strip(), row["state_code"].strip(), row["zipcode"].strip().zfill(4))
        out.setdefault(key, row["province"].strip())
    return out


@lru_cache(maxsize=1)
def _place_index() -> _PlaceIndex:
    """Built once from the postcode data."""
    triples = sorted({(loc.suburb, loc.state, loc.postcode) for loc in localities()})
    sharing = Counter(postcode for _, _, postcode in triples)
    lgas = _lga_names()
    lga_of = {(suburb, state): lgas.get((suburb, state, postcode), "") for suburb, state, postcode in triples}
    lga_sizes = Counter((state, lga) for (_, state), lga in lga_of.items())
    postcodes_of: dict[tuple[str, str], Counter[str]] = {}
    for suburb, state, postcode in triples:
        postcodes_of.setdefault((suburb, state), Counter())[postcode] = sharing[postcode]

    by_name: list[_Place] = []
    by_postcode: list[_Place] = []
    for (suburb, state), postcodes in postcodes_of.items():
        lga = lga_of[(suburb, state)]
        size = lga_sizes[(state, lga)]
        main = _main_postcode(suburb, state, postcodes)
        by_name.append(_Place(suburb, state, main, _place_rank(suburb, state, main, lga, size)))
        by_postcode += [_Place(suburb, state, p, _place_rank(suburb, state, p, lga, size)) for p in postcodes]
    by_name.sort(key=lambda p: (fold(p.suburb), p.rank, p.state))
    by_postcode.sort(key=lambda p: (p.postcode, p.rank, p.suburb))
    return _PlaceIndex(
        by_name=tuple(by_name),
        names=[fold(p.suburb) for p in by_name],
        by_postcode=tuple(by_postcode),
        postcodes=[p.postcode for p in by_postcode],
    )


def suggest_locations(q: str, *, limit: int) -> list[_Candidate]:
    """States (by code or name), then places by postcode prefix or name prefix; exact
    matches first, then :func:`_place_rank`."""
    key = fold(q)
    out: list[tuple[int, tuple[int, ...], str]] = []
    for code, name in STATES.items():
        if key == code.casefold():
            out.append((EXACT, (), code))
        elif code.casefold().startswith(key) or fold(name).startswith(key):
            out.append((EXACT if fold(name) == key else PREFIX, (), code))
    index = _place_index()
    if key.isdigit():
        for i in _prefixed(index.postcodes, key):
            place = index.by_postcode[i]
            out.append((EXACT if place.postcode == key else PREFIX, place.rank, place.label))
    else:
        for i in _prefixed(index.names, key):
            place = index.by_name[i]
            out.append((EXACT if index.names[i] == key else PREFIX, place.rank, place.label))
    out.sort(key=lambda t: (t[0], t[1]))
    return [_Candidate(SuggestionKind.location, text, tier) for tier, _, text in out[:limit]]


# --- skills ----------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _skill_forms() -> tuple[list[str], tuple[str, ...]]:
    """(every folded surface form, sorted; the canonical name of each), built once."""
    pairs = sorted((fold(form), name) for form, name in surface_forms().items())
    return [form for form, _ in pairs], tuple(name for _, name in pairs)


async def suggest_skills(session: AsyncSession, q: str, *, limit: int) -> list[_Candidate]:
    """Skills one of whose surface forms ("js", "javascript") starts with ``q``; the
    exact form first, then those most asked for in active postings, then O*NET's hot and
    in-demand technologies, then shorter names."""
    key = fold(q)
    forms, names = _skill_forms()
    tiers: dict[str, int] = {}
    for i in _prefixed(forms, key):
        tier = EXACT if forms[i] == key else PREFIX
        tiers[names[i]] = min(tier, tiers.get(names[i], tier))
        if len(tiers) >= 4 * limit + 20:
            break
    if not tiers:
        return []
    demand = await _postings_with_skills(session, list(tiers))
    skills = catalogue()

    def rank(name: str) -> tuple[int, int, int, int, str]:
        skill = skills[name]
        return (tiers[name], -demand.get(skill_key(name), 0), -(skill.hot + skill.in_demand), len(name), name)

    return [_Candidate(SuggestionKind.skill, name, tiers[name]) for name in sorted(tiers, key=rank)[:limit]]


async def _postings_with_skills(session: AsyncSession, names: Sequence[str]) -> dict[str, int]:
    """skill key → active postings asking for it (counted up to :data:`SAMPLE_ROWS`),
    through the GIN index on ``skill_keys``."""
    keys = sorted({skill_key(name) for name in names})
    rows = await session.execute(
        sa.text(
            "SELECT k, (SELECT count(*) FROM (SELECT 1 FROM job_documents "
            "WHERE status = 'active' AND skill_keys @> ARRAY[k] LIMIT :sample) s) "
            "FROM unnest(CAST(:keys AS text[])) AS k"
        ),
        {"keys": keys, "sample": SAMPLE_ROWS},
    )
    return {k: n for k, n in rows if n}


# --- titles and companies ---------------------------------------------------------------------------


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _regex_escape(text: str) -> str:
    """``text`` literal inside a PostgreSQL regular expression."""
    return re.sub(r"([^\w\s])", r"\\\1", text)


def _best_casing(rows: Sequence[tuple[str, int]]) -> list[tuple[str, int, str]]:
    """Rows of (text, postings) merged ignoring case and accents: (the most common
    spelling, total postings, folded text)."""
    totals: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for text, n in rows:
        key = fold(text)
        totals[key] += n
        spellings.setdefault(key, Counter())[text] += n
    return [(spellings[key].most_common(1)[0][0], n, key) for key, n in totals.items()]


async def suggest_titles(session: AsyncSession, q: str, *, limit: int) -> list[_Candidate]:
    """Titles of active postings where a word starts with ``q`` (the title itself first),
    most common first; when those are too few, titles merely similar to ``q``."""
    key = fold(q)
    if len(key) < MIN_TITLE_CHARS:
        return []
    rows = (
        await session.execute(
            sa.text(
                "SELECT title, count(*) FROM (SELECT title FROM job_documents "
                "WHERE status = 'active' AND f_unaccent(title) ~* ('\\m' || f_unaccent(:pattern)) "
                "LIMIT :sample) t GROUP BY title"
            ),
            {"pattern": _regex_escape(q.strip()), "sample": SAMPLE_ROWS},
        )
    ).all()
    found = []
    for text, n, folded in _best_casing(rows):
        tier = EXACT if folded == key else PREFIX if folded.startswith(key) else WORD_PREFIX
        found.append((tier, -n, len(text), text))
    if len(found) < limit:
        found += await _similar_titles(session, q, exclude={f[3] for f in found}, limit=limit - len(found))
    found.sort()
    return [_Candidate(SuggestionKind.title, text, tier) for tier, _, _, text in found[:limit]]


async def _similar_titles(
    session: AsyncSession, q: str, *, exclude: set[str], limit: int
) -> list[tuple[int, int, int, str]]:
    """Titles with a word like ``q`` (pg_trgm ``<%``, default word-similarity threshold
    0.6, through the trigram index), most similar first."""
    rows = (
        await session.execute(
            sa.text(
                "SELECT title, count(*), max(word_similarity(f_unaccent(:q), f_unaccent(title))) AS sim "
                "FROM (SELECT title FROM job_documents "
                "WHERE status = 'active' AND f_unaccent(:q) <% f_unaccent(title) LIMIT :sample) t "
                "GROUP BY title ORDER BY sim DESC, count(*) DESC LIMIT :limit"
            ),
            {"q": q.strip(), "sample": SAMPLE_ROWS, "limit": limit + len(exclude)},
        )
    ).all()
    merged = _best_casing([(text, n) for text, n, _ in rows])
    return [(SIMILAR, -n, len(text), text) for text, n, _ in merged if text not in exclude][:limit]


async def suggest_companies(session: AsyncSession, q: str, *, limit: int) -> list[_Candidate]:
    """Companies of active postings whose name starts with ``q`` (b-tree on
    ``lower(company_name)``), the most hiring first."""
    key = fold(q)
    rows = (
        await session.execute(
            sa.text(
                "SELECT company_name, count(*) FROM (SELECT company_name FROM job_documents "
                "WHERE status = 'active' AND lower(company_name) LIKE :prefix LIMIT :sample) c "
                "GROUP BY company_name"
            ),
            {"prefix": _like_escape(q.strip().lower()) + "%", "sample": SAMPLE_ROWS},
        )
    ).all()
    found = sorted((EXACT if folded == key else PREFIX, -n, text) for text, n, folded in _best_casing(rows))
    return [_Candidate(SuggestionKind.company, text, tier) for tier, _, text in found[:limit]]


# --- all kinds ---------------------------------------------------------------------------------------

#: Whose turn comes first inside a tier.
KIND_ORDER = (SuggestionKind.title, SuggestionKind.skill, SuggestionKind.location, SuggestionKind.company)


def merge(lists: dict[SuggestionKind, list[_Candidate]], *, limit: int) -> list[Suggestion]:
    """Best tier first; inside a tier the kinds take turns (each list is already in its
    own best-first order); a text already suggested (ignoring case) is skipped."""
    out: list[Suggestion] = []
    seen: set[str] = set()
    for tier in (EXACT, PREFIX, WORD_PREFIX, SIMILAR):
        per_kind = [[c for c in lists.get(kind, []) if c.tier == tier] for kind in KIND_ORDER]
        for turn in zip_longest(*per_kind):
            for candidate in turn:
                if candidate is None or fold(candidate.text) in seen:
                    continue
                seen.add(fold(candidate.text))
                out.append(Suggestion(kind=candidate.kind, text=candidate.text))
                if len(out) == limit:
                    return out
    return out


async def suggest(session: AsyncSession, q: str, *, limit: int = 10) -> list[Suggestion]:
    """Up to ``limit`` suggestions for what has been typed so far, best first."""
    if not fold(q):
        return []
    lists = {
        SuggestionKind.title: await suggest_titles(session, q, limit=limit),
        SuggestionKind.skill: await suggest_skills(session, q, limit=limit),
        SuggestionKind.company: await suggest_companies(session, q, limit=limit),
        SuggestionKind.location: suggest_locations(q, limit=limit),
    }
    return merge(lists, limit=limit)


# --- did you mean ------------------------------------------------------------------------------------

#: Word-similarity threshold for fetching candidate titles and skill lists. pg_trgm's
#: default, 0.6, misses one-letter typos in short words ("nurce" is 0.5 of "Nurse",
#: "pyhton" 0.29 of "Python": a swap breaks three trigrams).
CANDIDATE_THRESHOLD = 0.25
PG_TRGM_DEFAULT_THRESHOLD = "0.6"
#: Matching titles (and skill lists) read per word; the most similar
#: :data:`CANDIDATE_TEXTS` of them are split into candidate words.
CANDIDATE_SAMPLE = 1000
CANDIDATE_TEXTS = 50
_WORDS = re.compile(r"[^\W_]+(?:[+#]+)?")


def _max_edits(word: str) -> int:
    return 1 if len(word) <= 4 else 2 if len(word) <= 8 else 3


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and
    swaps of neighbours ("pyhton" is one edit from "python")."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


async def _is_known(session: AsyncSession, word: str) -> bool:
    """Whether an active posting has ``word`` as a whole word of its title or skills."""
    pattern = "\\m" + _regex_escape(word) + "\\M"
    return bool(
        await session.scalar(
            sa.text(
                "SELECT EXISTS (SELECT 1 FROM job_documents WHERE status = 'active' "
                "AND f_unaccent(title) ~* :p) "
                "OR EXISTS (SELECT 1 FROM job_documents WHERE status = 'active' "
                "AND f_unaccent(skills_text) ~* :p)"
            ),
            {"p": pattern},
        )
    )


async def _closest_words(session: AsyncSession, word: str) -> list[tuple[str, float, int]]:
    """(word, trigram similarity to ``word``, texts it occurs in) for the words of the
    active titles and skill lists most like ``word``, through the trigram indexes."""
    rows = await session.execute(
        sa.text(
            "WITH texts AS ("
            "(SELECT title AS t FROM job_documents WHERE status = 'active' "
            "AND :word <% f_unaccent(title) LIMIT :sample) "
            "UNION ALL (SELECT skills_text FROM job_documents WHERE status = 'active' "
            "AND :word <% f_unaccent(skills_text) LIMIT :sample)), "
            "best AS (SELECT t FROM texts ORDER BY word_similarity(:word, f_unaccent(t)) DESC LIMIT :n) "
            "SELECT w, similarity(w, :word) AS sim, count(*) "
            "FROM best, regexp_split_to_table(lower(f_unaccent(best.t)), '[^[:alnum:]+#]+') AS w "
            "WHERE length(w) > 1 GROUP BY w ORDER BY sim DESC, count(*) DESC LIMIT 10"
        ),
        {"word": word, "sample": CANDIDATE_SAMPLE, "n": CANDIDATE_TEXTS},
    )
    return [(w, float(sim), n) for w, sim, n in rows]


async def _correction(session: AsyncSession, word: str) -> str | None:
    if len(word) < 3 or not word.isalpha() or await _is_known(session, word):
        return None
    best = None
    for candidate, sim, n in await _closest_words(session, word):
        distance = edit_distance(word, candidate)
        if distance <= _max_edits(word):
            key = (distance, -sim, -n)
            if best is None or key < best[0]:
                best = (key, candidate)
    return best[1] if best else None


async def did_you_mean(session: AsyncSession, q: str) -> str | None:
    """For a query that found nothing: the query with each unknown word replaced by the
    closest word (fewest edits, then most trigram-similar, then most common) of the
    active postings' titles and skills, or None when no word has a close match.

    Per word: one indexed existence check, and when the word is unknown one bounded read
    of the titles and skill lists that contain a similar word (``<%`` through the
    trigram indexes, at most :data:`CANDIDATE_SAMPLE` of each)."""
    words = _WORDS.findall(fold(q))
    if not words:
        return None
    # NULL until pg_trgm is loaded in this connection; then it is pg_trgm's default
    threshold = await session.scalar(
        sa.text("SELECT current_setting('pg_trgm.word_similarity_threshold', true)")
    )
    await session.execute(
        sa.text("SELECT set_config('pg_trgm.word_similarity_threshold', :v, true)"),
        {"v": str(CANDIDATE_THRESHOLD)},
    )
    try:
        corrected = [await _correction(session, word) or word for word in words]
    finally:
        # the caller's own <% queries in this transaction keep their threshold
        await session.execute(
            sa.text("SELECT set_config('pg_trgm.word_similarity_threshold', :v, true)"),
            {"v": threshold or PG_TRGM_DEFAULT_THRESHOLD},
        )
    suggestion = " ".join(corrected)
    return None if suggestion == " ".join(words) else suggestion
