"""A local server speaking the slice of OpenSearch's REST protocol the backend uses,
so the backend is tested over real HTTP without a cluster.

What it implements like OpenSearch: index templates applied on index creation,
indices and aliases (atomic ``_aliases``, write index, ``require_alias``), external
versioning with 409 ``version_conflict_engine_exception``, ``_bulk`` NDJSON with
per-item results, ``_mget``, ``_update_by_query`` (simple ``ctx._source.x = params.y``
scripts, bumping ``_version`` by one as OpenSearch does), and ``_search`` with filter
evaluation (``bool``, ``term(s)``, ``ids``, ``range``, ``exists``, ``match_all``),
sorting with missing values, ``search_after``, ``terms``/``filters`` aggregations,
highlighting of the query words (html encoder honoured), completion suggesters with
category contexts and term suggesters (corrections from ``term_corrections``).

What it does not: scoring (every hit scores 1.0) and text analysis — full-text and
geo clauses match every document. Every request is recorded in ``requests``; the
next responses can be forced to an error with :meth:`OpenSearchStub.fail`.
"""

from __future__ import annotations

import asyncio
import copy
import fnmatch
import functools
import html
import json
import math
import re
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

LONG_MIN = -(2**63)
LONG_MAX = 2**63 - 1


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    body: Any  # parsed JSON, or a list of parsed NDJSON lines for _bulk


@dataclass
class Doc:
    version: int
    source: dict[str, Any]


@dataclass
class Index:
    settings: dict[str, Any]
    mappings: dict[str, Any]
    docs: dict[str, Doc] = field(default_factory=dict)


class Problem(Exception):
    def __init__(self, status: int, type_: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.type, self.reason = status, type_, reason


class OpenSearchStub:
    def __init__(self) -> None:
        self.templates: dict[str, dict[str, Any]] = {}
        self.indices: dict[str, Index] = {}
        self.aliases: dict[str, dict[str, dict[str, Any]]] = {}
        self.requests: list[Recorded] = []
        self.term_corrections: dict[str, str] = {}
        self._failures: list[tuple[int, str | None]] = []
        self.url = ""

    # ------------------------------------------------------------ test helpers

    def fail(self, status: int = 503, *, times: int = 1, path_contains: str | None = None) -> None:
        """Answer the next ``times`` matching requests with ``status``."""
        self._failures += [(status, path_contains)] * times

    def requests_to(self, suffix: str, method: str | None = None) -> list[Recorded]:
        return [
            r for r in self.requests if r.path.endswith(suffix) and (method is None or r.method == method)
        ]

    def alias_targets(self, alias: str) -> list[str]:
        return sorted(self.aliases.get(alias, {}))

    def source(self, index: str, doc_id: str) -> dict[str, Any] | None:
        doc = self.indices[index].docs.get(doc_id)
        return doc.source if doc else None

    def version(self, index: str, doc_id: str) -> int | None:
        doc = self.indices[index].docs.get(doc_id)
        return doc.version if doc else None

    # ------------------------------------------------------------ HTTP

    def app(self) -> Starlette:
        methods = ["GET", "HEAD", "PUT", "POST", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", self._endpoint, methods=methods)])

    async def _endpoint(self, request: Request) -> Response:
        raw = await request.body()
        path = "/" + request.path_params["path"]
        params = dict(request.query_params)
        if path == "/_bulk":
            body: Any = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
        else:
            body = json.loads(raw) if raw else None
        self.requests.append(Recorded(request.method, path, params, body))
        for position, (status, contains) in enumerate(self._failures):
            if contains is None or contains in path:
                del self._failures[position]
                return _error(status, "stub_forced_error", "forced by the test")
        try:
            status, answer = self._route(request.method, path, params, body)
        except Problem as problem:
            return _error(problem.status, problem.type, problem.reason)
        if request.method == "HEAD":
            return Response(status_code=status)
        return JSONResponse(answer, status_code=status)

    def _route(self, method: str, path: str, params: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["_index_template"] and method == "PUT":
            self.templates[parts[1]] = body
            return 200, {"acknowledged": True}
        if parts == ["_aliases"] and method == "POST":
            return self._update_aliases(body["actions"])
        if parts[:1] == ["_alias"]:
            return self._get_alias(parts[1])
        if parts == ["_bulk"]:
            return self._bulk(body)
        if len(parts) == 1:
            return self._index_api(method, parts[0], body)
        target, action = parts[0], parts[1]
        if action == "_doc" and method == "PUT":
            return self._put_doc(target, parts[2], params, body)
        if action == "_mget":
            index = self._write_index(target, require_alias=False)
            docs = [self._mget_one(index, str(i)) for i in body["ids"]]
            return 200, {"docs": docs}
        if action == "_search":
            return 200, self._search(target, body or {})
        if action == "_update_by_query":
            return 200, self._update_by_query(target, body)
        if action == "_settings" and method == "PUT":
            self._index(target).settings = _merge(self._index(target).settings, body)
            return 200, {"acknowledged": True}
        if action == "_refresh":
            self._index(target)
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        raise Problem(400, "illegal_argument_exception", f"the stub does not implement {method} {path}")

    # ------------------------------------------------------------ indices and aliases

    def _index(self, name: str) -> Index:
        if name not in self.indices:
            raise Problem(404, "index_not_found_exception", f"no such index [{name}]")
        return self.indices[name]

    def _index_api(self, method: str, name: str, body: Any) -> tuple[int, Any]:
        if method == "HEAD":
            return (200 if name in self.indices or name in self.aliases else 404), None
        if method == "GET":
            index = self._index(name)
            aliases = {a: {} for a, targets in self.aliases.items() if name in targets}
            return 200, {name: {"aliases": aliases, "mappings": index.mappings, "settings": index.settings}}
        if method == "DELETE":
            self._index(name)
            del self.indices[name]
            for targets in self.aliases.values():
                targets.pop(name, None)
            self.aliases = {a: t for a, t in self.aliases.items() if t}
            return 200, {"acknowledged": True}
        if method == "PUT":
            if name in self.indices or name in self.aliases:
                raise Problem(400, "resource_already_exists_exception", f"index [{name}] already exists")
            settings, mappings = self._template_for(name)
            body = body or {}
            self.indices[name] = Index(
                settings=_merge(settings, body.get("settings", {})),
                mappings=_merge(mappings, body.get("mappings", {})),
            )
            return 200, {"acknowledged": True, "index": name}
        raise Problem(405, "method_not_allowed", method)

    def _template_for(self, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        matching = [
            t for t in self.templates.values() if any(fnmatch.fnmatch(name, p) for p in t["index_patterns"])
        ]
        if not matching:
            return {}, {}
        best = max(matching, key=lambda t: t.get("priority", 0))["template"]
        return copy.deepcopy(best.get("settings", {})), copy.deepcopy(best.get("mappings", {}))

    def _update_aliases(self, actions: list[dict[str, Any]]) -> tuple[int, Any]:
        aliases = copy.deepcopy(self.aliases)  # all or nothing, as OpenSearch does
        for action in actions:
            ((kind, spec),) = action.items()
            index, alias = spec["index"], spec["alias"]
            self._index(index)
            if kind == "add":
                aliases.setdefault(alias, {})[index] = {"is_write_index": bool(spec.get("is_write_index"))}
            elif kind == "remove":
                if index not in aliases.get(alias, {}):
                    raise Problem(404, "aliases_not_found_exception", f"aliases [{alias}] missing")
                del aliases[alias][index]
            else:
                raise Problem(400, "illegal_argument_exception", kind)
        self.aliases = {a: t for a, t in aliases.items() if t}
        return 200, {"acknowledged": True}

    def _get_alias(self, alias: str) -> tuple[int, Any]:
        if alias not in self.aliases:
            return 404, {"error": f"alias [{alias}] missing", "status": 404}
        return 200, {index: {"aliases": {alias: meta}} for index, meta in self.aliases[alias].items()}

    def _read_indices(self, target: str) -> list[str]:
        if target in self.aliases:
            return sorted(self.aliases[target])
        self._index(target)
        return [target]

    def _write_index(self, target: str, *, require_alias: bool) -> str:
        if target in self.aliases:
            targets = self.aliases[target]
            writers = [i for i, meta in targets.items() if meta.get("is_write_index")]
            if len(writers) == 1:
                return writers[0]
            if len(targets) == 1:
                return next(iter(targets))
            raise Problem(
                400, "illegal_argument_exception", f"no write index is defined for alias [{target}]"
            )
        if require_alias:
            raise Problem(404, "index_not_found_exception", f"[{target}] is not an alias (require_alias)")
        self._index(target)
        return target

    # ------------------------------------------------------------ documents

    def _put_doc(self, target: str, doc_id: str, params: dict[str, str], body: Any) -> tuple[int, Any]:
        index = self._write_index(target, require_alias=params.get("require_alias") == "true")
        return self._versioned_put(index, doc_id, params.get("version"), params.get("version_type"), body)

    def _versioned_put(
        self, index: str, doc_id: str, version: Any, version_type: str | None, source: dict[str, Any]
    ) -> tuple[int, Any]:
        docs = self._index(index).docs
        current = docs.get(doc_id)
        if version_type in ("external", "external_gte"):
            new = int(version)
            stale = current is not None and (
                current.version >= new if version_type == "external" else current.version > new
            )
            if stale:
                raise Problem(
                    409,
                    "version_conflict_engine_exception",
                    f"[{doc_id}]: version conflict, current version [{current.version}] is higher or equal "
                    f"to the one provided [{new}]",
                )
        else:
            new = (current.version + 1) if current else 1
        docs[doc_id] = Doc(version=new, source=source)
        status = 200 if current else 201
        return status, {
            "_index": index,
            "_id": doc_id,
            "_version": new,
            "result": "updated" if current else "created",
        }

    def _mget_one(self, index: str, doc_id: str) -> dict[str, Any]:
        doc = self.indices[index].docs.get(doc_id)
        if doc is None:
            return {"_index": index, "_id": doc_id, "found": False}
        return {"_index": index, "_id": doc_id, "_version": doc.version, "found": True, "_source": doc.source}

    def _bulk(self, lines: list[dict[str, Any]]) -> tuple[int, Any]:
        items = []
        for action, source in zip(lines[0::2], lines[1::2], strict=True):
            spec = action["index"]
            try:
                index = self._write_index(spec["_index"], require_alias=False)
                status, result = self._versioned_put(
                    index, spec["_id"], spec.get("version"), spec.get("version_type"), source
                )
                items.append({"index": {**result, "status": status}})
            except Problem as problem:
                error = {"type": problem.type, "reason": problem.reason}
                items.append(
                    {
                        "index": {
                            "_index": spec["_index"],
                            "_id": spec["_id"],
                            "status": problem.status,
                            "error": error,
                        }
                    }
                )
        errors = any(item["index"]["status"] >= 300 for item in items)
        return 200, {"took": 1, "errors": errors, "items": items}

    def _update_by_query(self, target: str, body: dict[str, Any]) -> dict[str, Any]:
        script = body["script"]
        assignments = re.findall(r"ctx\._source\.(\w+)\s*=\s*params\.(\w+)", script["source"])
        updated = 0
        for index in self._read_indices(target):
            mappings = self.indices[index].mappings
            for doc in self.indices[index].docs.values():
                if _matches(body.get("query", {"match_all": {}}), doc.source, mappings):
                    for name, param in assignments:
                        doc.source[name] = script["params"][param]
                    doc.version += 1  # update_by_query uses internal versioning
                    updated += 1
        return {"took": 1, "total": updated, "updated": updated, "version_conflicts": 0, "failures": []}

    # ------------------------------------------------------------ search

    def _search(self, target: str, body: dict[str, Any]) -> dict[str, Any]:
        matched: list[tuple[str, str, Doc]] = []
        query = body.get("query", {"match_all": {}})
        for index in self._read_indices(target):
            mappings = self.indices[index].mappings
            matched += [
                (index, doc_id, doc)
                for doc_id, doc in self.indices[index].docs.items()
                if _matches(query, doc.source, mappings, doc_id)
            ]
        answer: dict[str, Any] = {"took": 1, "timed_out": False}
        sort = body.get("sort", [{"_score": "desc"}])
        keyed = [
            (_sort_values(sort, doc.source, doc_id), index, doc_id, doc) for index, doc_id, doc in matched
        ]
        compare = functools.partial(_compare, sort)
        keyed.sort(key=functools.cmp_to_key(lambda a, b: compare(a[0], b[0])))
        if "search_after" in body:
            keyed = [k for k in keyed if compare(k[0], body["search_after"]) > 0]
        words = _query_words(query)
        hits = []
        for values, index, doc_id, doc in keyed[: body.get("size", 10)]:
            hit: dict[str, Any] = {
                "_index": index,
                "_id": doc_id,
                "_score": 1.0,
                "_source": _filter_source(doc.source, body.get("_source")),
                "sort": values,
            }
            if "highlight" in body:
                hit["highlight"] = _highlight(body["highlight"], doc.source, words)
            hits.append(hit)
        answer["hits"] = {"total": {"value": len(matched), "relation": "eq"}, "hits": hits}
        if "aggs" in body:
            answer["aggregations"] = _aggregate(body["aggs"], matched, self.indices)
        if "suggest" in body:
            answer["suggest"] = self._suggest(target, body["suggest"], body.get("_source"))
        return answer

    def _suggest(self, target: str, spec: dict[str, Any], source_filter: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        text = spec.get("text")
        for name, suggestion in spec.items():
            if name == "text":
                continue
            if "completion" in suggestion:
                answer[name] = [self._completion(target, suggestion, source_filter)]
            elif "term" in suggestion:
                answer[name] = self._term_suggest(suggestion.get("text", text))
        return answer

    def _completion(self, target: str, suggestion: dict[str, Any], source_filter: Any) -> dict[str, Any]:
        prefix, spec = suggestion["prefix"], suggestion["completion"]
        wanted = (spec.get("contexts") or {}).get("status")
        options, seen = [], set()
        for index in self._read_indices(target):
            for doc_id, doc in self.indices[index].docs.items():
                if wanted is not None and doc.source.get("status") not in wanted:
                    continue
                for entry in (doc.source.get(spec["field"]) or {}).get("input", []):
                    if not entry.casefold().startswith(prefix.casefold()):
                        continue
                    if spec.get("skip_duplicates") and entry in seen:
                        continue
                    seen.add(entry)
                    options.append(
                        {
                            "text": entry,
                            "_index": index,
                            "_id": doc_id,
                            "_score": 1.0,
                            "_source": _filter_source(doc.source, source_filter),
                        }
                    )
        return {"text": prefix, "offset": 0, "length": len(prefix), "options": options[: spec.get("size", 5)]}

    def _term_suggest(self, text: str) -> list[dict[str, Any]]:
        entries = []
        for match in re.finditer(r"\w+", text):
            word = match.group().casefold()
            options = (
                [{"text": self.term_corrections[word], "score": 0.8, "freq": 3}]
                if word in self.term_corrections
                else []
            )
            entries.append({"text": word, "offset": match.start(), "length": len(word), "options": options})
        return entries


# ---------------------------------------------------------------- query evaluation


def _mapping(mappings: dict[str, Any], path: str) -> dict[str, Any]:
    node: dict[str, Any] = {"properties": mappings.get("properties", {})}
    for part in path.split("."):
        children = node.get("properties") or node.get("fields") or {}
        if part not in children:
            return {}
        node = children[part]
    return node


def _values(source: dict[str, Any], path: str) -> list[Any]:
    """A field's values; ``a.b`` on a scalar ``a`` is the subfield ``b`` of ``a``."""
    current: Any = source
    for part in path.split("."):
        if isinstance(current, dict):
            if part not in current:
                return []
            current = current[part]
        else:
            break
    if current is None:
        return []
    return current if isinstance(current, list) else [current]


def _normalise(value: Any, mapping: dict[str, Any]) -> Any:
    if mapping.get("type") == "date" and isinstance(value, str):
        return datetime.fromisoformat(value)
    if mapping.get("normalizer") and isinstance(value, str):
        return value.casefold()
    return value


def _matches(
    query: dict[str, Any], source: dict[str, Any], mappings: dict[str, Any], doc_id: str = ""
) -> bool:
    ((kind, spec),) = query.items()
    if kind == "match_all":
        return True
    if kind == "function_score":
        return _matches(spec.get("query", {"match_all": {}}), source, mappings, doc_id)
    if kind == "bool":

        def listed(key: str) -> list[dict[str, Any]]:
            value = spec.get(key, [])
            return value if isinstance(value, list) else [value]

        if not all(_matches(q, source, mappings, doc_id) for q in listed("must") + listed("filter")):
            return False
        if any(_matches(q, source, mappings, doc_id) for q in listed("must_not")):
            return False
        should = listed("should")
        default = 0 if listed("must") or listed("filter") else 1
        needed = int(spec.get("minimum_should_match", default)) if should else 0
        return sum(_matches(q, source, mappings, doc_id) for q in should) >= needed
    if kind == "ids":
        return doc_id in spec["values"]
    if kind in ("term", "terms", "range", "exists"):
        name = spec["field"] if kind == "exists" else next(iter(spec))
        mapping = _mapping(mappings, name)
        values = [_normalise(v, mapping) for v in _values(source, name)]
        if kind == "exists":
            return bool(values)
        if kind == "term":
            wanted = spec[name]["value"] if isinstance(spec[name], dict) else spec[name]
            return _normalise(wanted, mapping) in values
        if kind == "terms":
            return any(_normalise(w, mapping) in values for w in spec[name])
        bounds = {op: _normalise(v, mapping) for op, v in spec[name].items()}
        checks = {
            "gt": lambda v, b: v > b,
            "gte": lambda v, b: v >= b,
            "lt": lambda v, b: v < b,
            "lte": lambda v, b: v <= b,
        }
        return any(all(checks[op](v, b) for op, b in bounds.items()) for v in values)
    return True  # full text, geo: no analysis here, everything matches


def _query_words(query: Any) -> list[str]:
    """The words of the first multi_match/match text in the query (for highlighting)."""
    if isinstance(query, dict):
        for kind, spec in query.items():
            if kind == "multi_match":
                return re.findall(r"\w+", spec["query"])
            found = _query_words(spec)
            if found:
                return found
    if isinstance(query, list):
        for item in query:
            found = _query_words(item)
            if found:
                return found
    return []


def _sort_values(sort: list[Any], source: dict[str, Any], doc_id: str) -> list[Any]:
    values = []
    for clause in sort:
        name, spec = (clause, "asc") if isinstance(clause, str) else next(iter(clause.items()))
        if name == "_score":
            values.append(1.0)
            continue
        if name == "_geo_distance":
            where = source.get("location")
            values.append(_km(spec["location"], where) if where else math.inf)
            continue
        order = spec if isinstance(spec, str) else spec.get("order", "asc")
        found = _values(source, name)
        if not found:
            values.append(LONG_MIN if order == "desc" else LONG_MAX)  # missing: _last
            continue
        value = found[0]
        if isinstance(value, str) and re.match(r"\d{4}-\d\d-\d\dT", value):
            value = int(datetime.fromisoformat(value).timestamp() * 1000)  # dates sort as epoch millis
        values.append(value)
    return values


def _compare(sort: list[Any], left: list[Any], right: list[Any]) -> int:
    for clause, a, b in zip(sort, left, right, strict=True):
        spec = "asc" if isinstance(clause, str) else next(iter(clause.values()))
        order = spec if isinstance(spec, str) else spec.get("order", "asc")
        if a == b:
            continue
        result = -1 if a < b else 1
        return -result if order == "desc" else result
    return 0


def _km(origin: dict[str, float], where: dict[str, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (origin["lat"], origin["lon"], where["lat"], where["lon"]))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371.0088 * 2 * math.asin(math.sqrt(a))


def _filter_source(source: dict[str, Any], spec: Any) -> dict[str, Any]:
    if spec is None:
        return source
    if isinstance(spec, list):
        return {k: v for k, v in source.items() if k in spec}
    excludes = spec.get("excludes", [])
    return {k: v for k, v in source.items() if not any(fnmatch.fnmatch(k, p) for p in excludes)}


def _highlight(spec: dict[str, Any], source: dict[str, Any], words: list[str]) -> dict[str, list[str]]:
    encode = html.escape if spec.get("encoder") == "html" else (lambda text: text)
    pre, post = spec.get("pre_tags", ["<em>"])[0], spec.get("post_tags", ["</em>"])[0]
    answer = {}
    for name, options in spec["fields"].items():
        text = " ".join(str(v) for v in _values(source, name))
        if not text:
            continue
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.I) if words else None
        if pattern and pattern.search(text):
            pieces = pattern.split(text)  # even: plain text, odd: a matched word
            answer[name] = [
                "".join(pre + encode(p) + post if i % 2 else encode(p) for i, p in enumerate(pieces))
            ]
        elif options.get("no_match_size"):
            answer[name] = [encode(text[: options["no_match_size"]])]
    return answer


def _aggregate(
    aggs: dict[str, Any], matched: list[tuple[str, str, Doc]], indices: dict[str, Index]
) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for name, spec in aggs.items():
        if "terms" in spec:
            counts: Counter[Any] = Counter()
            for _, _, doc in matched:
                counts.update(set(_values(doc.source, spec["terms"]["field"])))
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[
                : spec["terms"].get("size", 10)
            ]
            answer[name] = {"buckets": [{"key": k, "doc_count": c} for k, c in ordered]}
        elif "filters" in spec:
            answer[name] = {
                "buckets": {
                    key: {
                        "doc_count": sum(
                            _matches(query, doc.source, indices[index].mappings, doc_id)
                            for index, doc_id, doc in matched
                        )
                    }
                    for key, query in spec["filters"]["filters"].items()
                }
            }
        else:
            raise Problem(
                400, "illegal_argument_exception", f"the stub does not implement aggregation {name}"
            )
    return answer


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _error(status: int, type_: str, reason: str) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "reason": reason}, "status": status}, status_code=status)


@asynccontextmanager
async def running_stub() -> AsyncIterator[OpenSearchStub]:
    """The stub on 127.0.0.1 at a free port, in this event loop."""
    stub = OpenSearchStub()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(stub.app(), log_level="warning", lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    stub.url = f"http://127.0.0.1:{port}"
    try:
        yield stub
    finally:
        server.should_exit = True
        await task
        sock.close()
