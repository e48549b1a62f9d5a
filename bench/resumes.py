"""Resume parsing accuracy and speed (no services needed): ``python -c "import bench.resumes as r; r.run()"``.

1. **RenderCV sample CVs** (``services/resumes/tests/data/rendercv``, MIT, see its
   RENDERCV_LICENSE): the same CV rendered in four layouts (classic, engineeringresumes,
   moderncv, sb2nov), each with the YAML it was made from as ground truth. Per CV and
   overall: name and email exact match; education entries (correct = institution,
   degree, start and end all equal); experience entries (correct = company, position,
   start and end all equal, "present" = current); skills (the YAML ``skills[].details``
   items, each normalised with :func:`aujobs_common.skills.normalise_skill`, against
   ``document.skills``). Recall = gold entries found / gold; precision = correct
   parsed / parsed.
2. **SkillSpan** dev splits (``bench/data/skillspan``, tech and house job postings; see
   SKILLSPAN_LICENSE): :func:`extract_skills` (prose mode) on each sentence against the
   union of the gold *skill* and *knowledge* BIO spans. A predicted span counts as
   correct when it overlaps a gold span (token overlap); a gold span counts as found
   when any prediction overlaps it. SkillSpan's skills are mostly phrases ("work in a
   team", "design scalable systems") that no catalogue lists, so recall is low by
   construction; precision is the figure that shows false positives.
3. **Timings**: building the skill matcher (cold, once per process) and parsing each CV
   (median of 5, warm).
"""

# ruff: noqa: RUF001 (dashes, bullets and typographic quotes are what resumes contain)

from __future__ import annotations

import bisect
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from aujobs_common.documents import DocumentKind, inspect_document
from aujobs_common.skills import normalise_skill, skill_key
from aujobs_resumes.document import ParsedResume
from aujobs_resumes.parsing import parse_resume
from aujobs_resumes.parsing import skills as skills_module

ROOT = Path(__file__).resolve().parent.parent
RENDERCV = ROOT / "services" / "resumes" / "tests" / "data" / "rendercv"
SKILLSPAN = Path(__file__).resolve().parent / "data" / "skillspan"
LAYOUTS = ("Classic", "Engineeringresumes", "Moderncv", "Sb2nov")


def _norm(text: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text or "")).casefold().split())


def _date(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() == "present" else text


def truth(cv_name: str) -> dict[str, Any]:
    """The ground truth of one CV, from its YAML source."""
    cv = yaml.safe_load((RENDERCV / f"John_Doe_{cv_name}Theme_CV.yaml").read_text())["cv"]
    sections = cv["sections"]
    return {
        "name": cv["name"],
        "email": cv["email"],
        "education": [
            (
                _norm(e["institution"]),
                _norm(e["degree"]),
                _date(e.get("start_date")),
                _date(e.get("end_date")),
            )
            for e in sections.get("education", [])
        ],
        "experience": [
            (_norm(e["company"]), _norm(e["position"]), _date(e.get("start_date")), _date(e.get("end_date")))
            for e in sections.get("experience", [])
        ],
        "skills": {
            skill_key(normalise_skill(item).name)
            for group in sections.get("skills", [])
            for item in str(group["details"]).split(",")
            if item.strip()
        },
    }


def _prf(correct_pred: int, predicted: int, found_gold: int, gold: int) -> tuple[float, float]:
    precision = correct_pred / predicted if predicted else 0.0
    recall = found_gold / gold if gold else 1.0
    return recall, precision


def score_cv(parsed: ParsedResume, gold: dict[str, Any]) -> dict[str, float]:
    doc = parsed.document
    education = [(_norm(e.institution), _norm(e.degree), e.start, e.end) for e in doc.education]
    experience = [
        (_norm(e.employer), _norm(e.title), e.start, None if e.current else e.end) for e in doc.experience
    ]
    out: dict[str, float] = {
        "name": float(doc.contact.name == gold["name"]),
        "email": float(_norm(doc.contact.email) == _norm(gold["email"])),
    }
    for key, parsed_entries in (("education", education), ("experience", experience)):
        gold_entries = gold[key]
        hits = sum(1 for g in gold_entries if g in parsed_entries)
        correct = sum(1 for p in parsed_entries if p in gold_entries)
        out[f"{key}_recall"], out[f"{key}_precision"] = _prf(
            correct, len(parsed_entries), hits, len(gold_entries)
        )
        out[f"{key}_gold"] = len(gold_entries)
        out[f"{key}_hits"] = hits
        out[f"{key}_parsed"] = len(parsed_entries)
        out[f"{key}_correct"] = correct
    predicted = {skill_key(s) for s in doc.skills}
    hit = len(predicted & gold["skills"])
    out["skills_recall"], out["skills_precision"] = _prf(hit, len(predicted), hit, len(gold["skills"]))
    out["skills_gold"], out["skills_parsed"], out["skills_hits"] = len(gold["skills"]), len(predicted), hit
    return out


# -- SkillSpan ------------------------------------------------------------------------


def _read_conll(path: Path) -> list[list[list[str]]]:
    sentences: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
                current = []
            continue
        current.append(line.split("\t"))
    if current:
        sentences.append(current)
    return sentences


def _spans(tags: list[str]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    start: int | None = None
    for i, tag in enumerate([*tags, "O"]):
        if tag.startswith("B") or tag == "O" or (tag.startswith("I") and start is None):
            if start is not None:
                out.append((start, i))
                start = None
            if tag[:1] in ("B", "I"):
                start = i
    return out


last_false_positives: Counter[str] = Counter()


def skillspan(paths: list[Path]) -> dict[str, float]:
    predicted = correct = gold_total = found = 0
    last_false_positives.clear()
    for path in paths:
        for sentence in _read_conll(path):
            tokens = [row[0] for row in sentence]
            gold = _spans([row[1] for row in sentence]) + _spans([row[2] for row in sentence])
            text, starts = "", []
            for token in tokens:
                starts.append(len(text))
                text += token + " "
            spans = []
            for f in skills_module.find_skills(text):
                span = (bisect.bisect_right(starts, f.start) - 1, bisect.bisect_left(starts, f.end))
                spans.append(span)
                if not any(span[0] < g1 and g0 < span[1] for g0, g1 in gold):
                    last_false_positives[f.text.lower()] += 1
            predicted += len(spans)
            correct += sum(1 for a, b in spans if any(a < g1 and g0 < b for g0, g1 in gold))
            gold_total += len(gold)
            found += sum(1 for g0, g1 in gold if any(a < g1 and g0 < b for a, b in spans))
    precision = correct / predicted if predicted else 0.0
    recall = found / gold_total if gold_total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "predicted": predicted,
        "gold": gold_total,
    }


# -- report ---------------------------------------------------------------------------


def _table(print_fn: Callable[..., Any], title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def fmt(row: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    print_fn(f"\n{title}")
    print_fn(fmt(header))
    print_fn("-" * len(fmt(header)))
    for row in rows:
        print_fn(fmt(row))


def _entries_cell(score: dict[str, float], key: str) -> str:
    return f"{score[key + '_hits']:.0f}/{score[key + '_gold']:.0f} · {score[key + '_precision']:.0%}"


def run(print_fn: Callable[..., Any] = print) -> dict[str, float]:
    """Measure, print the tables, and return the figures (flat, dotted keys)."""
    figures: dict[str, float] = {}
    started = time.perf_counter()
    import spacy  # noqa: F401 (timed apart from the build: the import is paid once by any spaCy user)

    figures["resumes.spacy_import_s"] = time.perf_counter() - started
    skills_module.matcher.cache_clear()
    started = time.perf_counter()
    skills_module.matcher()
    figures["resumes.matcher_build_s"] = time.perf_counter() - started

    rows = []
    totals: dict[str, float] = {}
    for layout in LAYOUTS:
        data = (RENDERCV / f"John_Doe_{layout}Theme_CV.pdf").read_bytes()
        kind = inspect_document(data)
        assert kind is DocumentKind.pdf
        parse_resume(data, kind)  # warm
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            parsed = parse_resume(data, kind)
            times.append(time.perf_counter() - t0)
        score = score_cv(parsed, truth(layout))
        ms = statistics.median(times) * 1000
        key = layout.lower()
        figures[f"resumes.{key}.parse_ms"] = ms
        for metric in (
            "name", "email", "education_recall", "education_precision", "experience_recall",
            "experience_precision", "skills_recall", "skills_precision",
        ):  # fmt: skip
            figures[f"resumes.{key}.{metric}"] = score[metric]
        for counter in (
            "education_gold", "education_hits", "education_parsed", "education_correct", "experience_gold",
            "experience_hits", "experience_parsed", "experience_correct", "skills_gold", "skills_parsed",
            "skills_hits", "name", "email",
        ):  # fmt: skip
            totals[counter] = totals.get(counter, 0) + score[counter]
        rows.append(
            [
                layout,
                "✓" if score["name"] else "✗",
                "✓" if score["email"] else "✗",
                _entries_cell(score, "education"),
                _entries_cell(score, "experience"),
                f"{score['skills_recall']:.0%} · {score['skills_precision']:.0%}",
                f"{ms:.0f}",
            ]
        )
    n = len(LAYOUTS)
    overall = {
        "name": totals["name"] / n,
        "email": totals["email"] / n,
        "education_recall": totals["education_hits"] / totals["education_gold"],
        "education_precision": totals["education_correct"] / max(totals["education_parsed"], 1),
        "experience_recall": totals["experience_hits"] / totals["experience_gold"],
        "experience_precision": totals["experience_correct"] / max(totals["experience_parsed"], 1),
        "skills_recall": totals["skills_hits"] / totals["skills_gold"],
        "skills_precision": totals["skills_hits"] / max(totals["skills_parsed"], 1),
    }
    for metric, value in overall.items():
        figures[f"resumes.overall.{metric}"] = value
    rows.append(
        [
            "overall",
            f"{overall['name']:.0%}",
            f"{overall['email']:.0%}",
            f"{overall['education_recall']:.0%} · {overall['education_precision']:.0%}",
            f"{overall['experience_recall']:.0%} · {overall['experience_precision']:.0%}",
            f"{overall['skills_recall']:.0%} · {overall['skills_precision']:.0%}",
            f"{statistics.median(figures[f'resumes.{lay.lower()}.parse_ms'] for lay in LAYOUTS):.0f}",
        ]
    )
    _table(
        print_fn,
        "Resume parsing: RenderCV sample CV in 4 layouts against its YAML "
        "(entries: found/gold · precision; skills: recall · precision)",
        ["layout", "name", "email", "education", "experience", "skills", "parse ms"],
        rows,
    )

    span_rows = []
    paths = {
        "tech": [SKILLSPAN / "skillspan_tech_dev.conll"],
        "house": [SKILLSPAN / "skillspan_house_dev.conll"],
    }
    paths["both"] = paths["tech"] + paths["house"]
    for name, files in paths.items():
        started = time.perf_counter()
        result = skillspan(files)
        elapsed = time.perf_counter() - started
        for metric in ("precision", "recall", "f1"):
            figures[f"skillspan.{name}.{metric}"] = result[metric]
        span_rows.append(
            [
                name,
                f"{result['gold']:.0f}",
                f"{result['predicted']:.0f}",
                f"{result['precision']:.1%}",
                f"{result['recall']:.1%}",
                f"{result['f1']:.1%}",
                f"{elapsed:.1f}",
            ]
        )
    _table(
        print_fn,
        "SkillSpan dev: extract_skills (prose mode) vs gold skill ∪ knowledge spans; "
        "a predicted span is correct when it overlaps a gold span",
        ["split", "gold spans", "predicted", "precision", "recall", "F1", "s"],
        span_rows,
    )
    print_fn("most frequent false positives (predicted spans overlapping no gold span), both splits:")
    print_fn("  " + ", ".join(f"{text} ×{n}" for text, n in last_false_positives.most_common(15)))
    print_fn(
        f"\nskill matcher build: {figures['resumes.matcher_build_s']:.2f}s once per process "
        f"({len(skills_module.matcher().forms):,} surface forms; spaCy import "
        f"{figures['resumes.spacy_import_s']:.2f}s before it)"
    )
    return figures


if __name__ == "__main__":
    run()
