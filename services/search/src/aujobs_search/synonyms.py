"""Job-title synonyms: what people type ("senior dev", "RN", "sparky") and what
postings say ("Senior Developer", "Registered Nurse", "Electrician").

Two sources, curated first (a curated meaning wins where both define an abbreviation,
e.g. PA is a personal assistant here, not the US physician assistant):

1. :data:`CURATED` — groups of equivalent terms, Australian usage and the common
   abbreviations of job ads, reviewed by hand.
2. ``data/onet_title_abbreviations.tsv`` — abbreviation → expansion pairs derived from
   the Alternate Titles file of the O*NET 29.2 Database (USDOL/ETA, CC BY 4.0; see
   NOTICE). Derivation: every alternate title of the form ``Long Title (ABBR)`` or
   ``ABBR (Long Title)``; the words both sides share at the start and end are dropped
   ("Chief Financial Officer (CFO)" → cfo / chief financial officer, "Business
   Development Officer (BD Officer)" → bd / business development); kept when the short
   side is one all-caps token of 2-6 letters or digits equal to the initials of the long
   side (ignoring "and", "of", "&", ...); per abbreviation the most frequent expansion,
   kept only when it occurs in at least two alternate titles and at least twice as
   often as any other meaning; then US-only bodies and tests, everyday English words
   ("is", "or", "us"), state codes ("SA", "ACT") and clashes with skills ("PHP") were
   removed by review. The ``onet_titles`` column is the number of alternate titles
   that support the pair.

:func:`alternatives` serves the PostgreSQL backend (it ORs the full-text queries of
the rewrites); :func:`synonym_rules` gives the same knowledge to OpenSearch's
``synonym_graph`` filter.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

#: At most this many rewrites besides the original text.
MAX_REWRITES = 4

# Each group lists equivalent terms, lower-case; the first term is the usual full form.
# A term may sit in several groups ("admin"): its alternatives are the union, in order.
CURATED: tuple[tuple[str, ...], ...] = (
    # software and IT
    ("developer", "dev", "programmer"),
    ("software developer", "software engineer", "software dev"),
    ("web developer", "web dev"),
    ("front end developer", "frontend developer", "front-end developer", "front end dev"),
    ("back end developer", "backend developer", "back-end developer", "back end dev"),
    ("full stack developer", "fullstack developer", "full-stack developer", "full stack dev"),
    ("engineer", "eng"),
    ("quality assurance", "qa"),
    ("test analyst", "qa analyst", "software tester"),
    ("site reliability engineer", "sre"),
    ("database administrator", "dba"),
    ("system administrator", "sysadmin", "systems administrator"),
    ("user experience", "ux"),
    ("user interface", "ui"),
    ("information technology", "it"),
    ("information and communication technology", "ict"),
    ("machine learning", "ml"),
    ("artificial intelligence", "ai"),
    ("javascript", "js"),
    ("help desk", "helpdesk", "service desk"),
    # management and business
    ("business analyst", "ba"),
    ("project manager", "pm"),
    ("product manager", "product owner"),
    ("human resources", "hr"),
    ("general manager", "gm"),
    ("chief executive officer", "ceo"),
    ("chief financial officer", "cfo"),
    ("chief operating officer", "coo"),
    ("chief technology officer", "cto"),
    ("chief information officer", "cio"),
    ("managing director", "md"),
    ("second in charge", "2ic", "second-in-charge"),
    ("assistant manager", "asst manager"),
    ("manager", "mgr"),
    ("personal assistant", "pa"),
    ("executive assistant", "ea"),
    ("administrator", "admin"),
    ("administration", "admin"),
    ("administrative assistant", "admin assistant"),
    ("receptionist", "front desk"),
    ("customer service representative", "csr", "customer service officer"),
    ("key account manager", "kam"),
    ("business development manager", "bdm"),
    ("business development", "bd"),
    ("accounts payable", "ap"),
    ("accounts receivable", "ar"),
    ("chartered accountant", "ca"),
    ("certified practising accountant", "cpa"),
    ("work health and safety", "whs", "ohs", "occupational health and safety"),
    ("health safety and environment", "hse"),
    ("recruitment consultant", "recruiter"),
    ("talent acquisition", "recruitment"),
    # health and care
    ("registered nurse", "rn"),
    ("enrolled nurse", "en"),
    ("assistant in nursing", "ain"),
    ("nurse practitioner", "np"),
    ("clinical nurse specialist", "cns"),
    ("nurse unit manager", "num"),
    ("general practitioner", "gp"),
    ("resident medical officer", "rmo"),
    ("occupational therapist", "ot"),
    ("physiotherapist", "physio", "physical therapist"),
    ("psychologist", "psych"),
    ("speech pathologist", "speechie", "speech therapist"),
    ("personal care assistant", "pca", "personal care worker", "pcw"),
    ("disability support worker", "dsw"),
    ("support worker", "carer"),
    ("aged care", "aged-care"),
    ("intensive care unit", "icu"),
    ("emergency department", "ed"),
    ("early childhood educator", "ece", "childcare educator"),
    ("teacher aide", "teachers aide", "education support officer"),
    # trades and labour
    ("tradesperson", "tradie", "tradesman"),
    ("electrician", "sparky", "sparkie"),
    ("carpenter", "chippy", "chippie"),
    ("plumber", "plumbing"),
    ("bricklayer", "brickie"),
    ("labourer", "laborer", "labouring"),
    ("apprentice", "appy"),
    ("air conditioning", "aircon"),
    ("heating ventilation and air conditioning", "hvac"),
    ("refrigeration mechanic", "fridgie"),
    ("diesel mechanic", "diesel fitter"),
    ("heavy diesel mechanic", "hd fitter", "heavy diesel fitter"),
    ("boilermaker", "boilo"),
    ("forklift operator", "forklift driver"),
    ("truck driver", "truckie"),
    ("heavy rigid driver", "hr driver"),
    ("multi combination driver", "mc driver"),
    ("fly in fly out", "fifo", "fly-in fly-out"),
    ("drive in drive out", "dido", "drive-in drive-out"),
    ("computer numerical control", "cnc"),
    ("storeperson", "storeman", "store person"),
    # hospitality and retail
    ("barista", "coffee maker"),
    ("chef de partie", "cdp"),
    ("food and beverage", "f&b", "f and b"),
    ("front of house", "foh"),
    ("back of house", "boh"),
    ("kitchen hand", "kitchenhand", "kitchen-hand", "dishwasher"),
    ("waiter", "waitress", "waitstaff", "wait staff"),
    ("bartender", "bar attendant"),
    ("retail assistant", "sales assistant", "shop assistant"),
    # employment terms
    ("part time", "part-time", "pt"),
    ("full time", "full-time", "ft"),
    ("work from home", "wfh", "remote"),
    ("graduate", "grad"),
    ("senior", "snr", "sr"),
    ("junior", "jnr", "jr"),
    ("assistant", "asst"),
    ("coordinator", "co-ordinator", "coord"),
    ("organisation", "organization"),
)

# What may not touch a term for it to be a whole word: a word character, or "." / "-"
# joining word characters ("node.js" holds no "js", "dev-ops" no "dev"; "Sr. Dev" has both).
_BEFORE = r"(?<![\w&+#])(?<!\w[.-])"
_AFTER = r"(?![\w&+#])(?![.-]\w)"


@lru_cache(maxsize=1)
def _onet_pairs() -> tuple[tuple[str, str], ...]:
    text = resources.files(__package__).joinpath("data", "onet_title_abbreviations.tsv").read_text("utf-8")
    pairs = []
    for line in text.splitlines()[1:]:  # header: abbreviation, expansion, onet_titles
        abbreviation, expansion, _count = line.split("\t")
        pairs.append((abbreviation, expansion))
    return tuple(pairs)


@lru_cache(maxsize=1)
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """Every group of equivalent terms: the curated ones, then the O*NET abbreviation
    pairs whose abbreviation the curated groups do not already define."""
    curated_terms = {term for group in CURATED for term in group}
    derived = tuple(
        (expansion, abbreviation)
        for abbreviation, expansion in _onet_pairs()
        if abbreviation not in curated_terms and expansion not in curated_terms
    )
    return CURATED + derived


@lru_cache(maxsize=1)
def _equivalents() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """term → (its expansions: the full form of each group it abbreviates, then its
    other equivalents), each without duplicates."""
    expansions: dict[str, list[str]] = {}
    others: dict[str, list[str]] = {}
    for group in synonym_groups():
        full = group[0]
        for term in group:
            ups, rest = expansions.setdefault(term, []), others.setdefault(term, [])
            if term != full and full not in ups:
                ups.append(full)
            rest.extend(t for t in group[1:] if t != term and t not in rest)
    return {
        term: (tuple(ups), tuple(t for t in others[term] if t not in ups)) for term, ups in expansions.items()
    }


@lru_cache(maxsize=1)
def _term_pattern() -> re.Pattern[str]:
    """One alternation of every term, longest first so "software engineer" wins over
    "engineer"; whole words only (a term never matches inside "devops")."""
    terms = sorted(_equivalents(), key=lambda t: (-len(t), t))
    body = "|".join(r"\s+".join(re.escape(word) for word in term.split()) for term in terms)
    return re.compile(rf"{_BEFORE}(?:{body}){_AFTER}", re.IGNORECASE)


def _tidy(text: str) -> str:
    return " ".join(text.split())


def alternatives(text: str) -> list[str]:
    """``text`` (whitespace normalised) first, then up to :data:`MAX_REWRITES` rewrites
    with known terms replaced by equivalents, most useful first: every abbreviation
    expanded at once, then one term expanded at a time, then one term at a time by its
    other equivalents (a full form by its abbreviation), taking turns between terms.
    Matching is case-insensitive and whole-word; replacements are lower-case; no two
    entries are equal ignoring case."""
    original = _tidy(text)
    if not original:
        return []
    matches = list(_term_pattern().finditer(original))
    table = _equivalents()
    options = [table[_tidy(m.group(0)).lower()] for m in matches]

    def replaced(picks: dict[int, str]) -> str:
        parts, last = [], 0
        for i, match in enumerate(matches):
            if i in picks:
                parts += [original[last : match.start()], picks[i]]
                last = match.end()
        parts.append(original[last:])
        return "".join(parts)

    candidates = [replaced({i: ups[0] for i, (ups, _) in enumerate(options) if ups})]
    candidates += [replaced({i: up}) for i, (ups, _) in enumerate(options) for up in ups]
    for turn in range(max((len(rest) for _, rest in options), default=0)):
        candidates += [replaced({i: rest[turn]}) for i, (_, rest) in enumerate(options) if turn < len(rest)]

    out, seen = [original], {original.lower()}
    for candidate in candidates:
        if len(out) > MAX_REWRITES:
            break
        if candidate.lower() not in seen:
            seen.add(candidate.lower())
            out.append(candidate)
    return out


def synonym_rules() -> list[str]:
    """The groups as Solr/OpenSearch equivalence rules ("dev, developer"), lower-case,
    one per group, for a ``synonym_graph`` token filter."""
    return [", ".join(group) for group in synonym_groups()]
