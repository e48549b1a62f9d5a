"""Merging every upstream's OpenAPI document into the one the gateway publishes.

* Only paths the gateway actually routes to that upstream are kept.
* Components (schemas, responses, parameters, ...) are merged by name; a name two
  upstreams define differently is renamed with an area prefix in each of them
  (``Profile`` -> ``AuthProfile`` / ``JobsProfile``) and their ``$ref``s rewritten.
* Upstream security schemes are replaced by the gateway's bearer-JWT scheme, required
  on every operation that is not a public route (optional on public ones).
* Each operation is tagged with its area.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BEARER_SCHEME = "bearerAuth"
_REF = "#/components/"


@dataclass
class SpecSource:
    """One upstream's document. ``route_area(path)`` is the area through which the
    gateway routes ``path`` to this upstream, or ``None`` when it does not."""

    name: str
    doc: dict[str, Any]
    route_area: Callable[[str], str | None]


def _prefix(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = renames.get(value, value)
            elif key == "mapping" and isinstance(value, dict):
                # discriminator mappings name schemas by $ref too
                out[key] = {
                    k: renames.get(v, v) if isinstance(v, str) else _rewrite_refs(v, renames)
                    for k, v in value.items()
                }
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def merge_openapi(
    sources: list[SpecSource],
    *,
    is_public: Callable[[str, str], bool],
    title: str = "Australia Jobs API",
    version: str = "1.0.0",
    description: str | None = None,
    unavailable: list[str] | None = None,
) -> dict[str, Any]:
    # 1. every definition of every component name, per source
    defs: dict[tuple[str, str], dict[str, Any]] = {}  # (kind, name) -> source -> definition
    for source in sources:
        for kind, entries in (source.doc.get("components") or {}).items():
            if kind == "securitySchemes" or not isinstance(entries, dict):
                continue
            for name, definition in entries.items():
                defs.setdefault((kind, name), {})[source.name] = definition

    # 2. conflicts: names defined differently by two sources. A definition that refers
    #    to a conflicting name differs between sources as well, so repeat until stable.
    def provisional(source_name: str, conflicts: set[tuple[str, str]]) -> dict[str, str]:
        return {
            f"{_REF}{kind}/{name}": f"{_REF}{kind}/{source_name}:{name}"
            for kind, name in conflicts
            if source_name in defs[(kind, name)]
        }

    conflicts: set[tuple[str, str]] = set()
    changed = True
    while changed:
        changed = False
        maps = {s.name: provisional(s.name, conflicts) for s in sources}
        for key, by_source in defs.items():
            if key in conflicts or len(by_source) < 2:
                continue
            variants = {_canonical(_rewrite_refs(d, maps[s])) for s, d in by_source.items()}
            if len(variants) > 1:
                conflicts.add(key)
                changed = True

    # 3. final names: each source's variant of a conflicting name gets its area prefix
    renames: dict[str, dict[str, str]] = {source.name: {} for source in sources}
    taken = {name for _, name in defs}
    for kind, name in sorted(conflicts):
        for source_name in sorted(defs[(kind, name)]):
            new = f"{_prefix(source_name)}{name}"
            counter = 2
            while new in taken:
                new = f"{_prefix(source_name)}{name}{counter}"
                counter += 1
            taken.add(new)
            renames[source_name][f"{_REF}{kind}/{name}"] = f"{_REF}{kind}/{new}"

    merged_components: dict[str, dict[str, Any]] = {}
    for (kind, name), by_source in defs.items():
        target = merged_components.setdefault(kind, {})
        for source_name, definition in by_source.items():
            new_ref = renames[source_name].get(f"{_REF}{kind}/{name}", f"{_REF}{kind}/{name}")
            target[new_ref.rsplit("/", 1)[1]] = _rewrite_refs(definition, renames[source_name])

    paths: dict[str, Any] = {}
    tags: dict[str, dict[str, str]] = {}
    operation_ids: set[str] = set()
    for source in sources:
        for path, item in (source.doc.get("paths") or {}).items():
            area = source.route_area(path)
            if area is None or path in paths:
                continue
            item = _rewrite_refs(copy.deepcopy(item), renames[source.name])
            for method in HTTP_METHODS:
                operation = item.get(method)
                if not isinstance(operation, dict):
                    continue
                operation["tags"] = [area]
                tags.setdefault(area, {"name": area, "description": f"The {area} service"})
                if is_public(method.upper(), path):
                    operation["security"] = [{}, {BEARER_SCHEME: []}]
                else:
                    operation["security"] = [{BEARER_SCHEME: []}]
                op_id = operation.get("operationId")
                if isinstance(op_id, str):
                    if op_id in operation_ids:
                        op_id = f"{area}_{op_id}"
                        operation["operationId"] = op_id
                    operation_ids.add(op_id)
            paths[path] = item

    merged_components = {k: dict(sorted(v.items())) for k, v in merged_components.items() if v}
    merged_components["securitySchemes"] = {
        BEARER_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "Access token from POST /api/v1/auth/login or /api/v1/auth/refresh.",
        }
    }
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    info["x-unavailable"] = sorted(unavailable or [])
    return {
        "openapi": "3.1.0",
        "info": info,
        "paths": dict(sorted(paths.items())),
        "components": merged_components,
        "tags": [tags[name] for name in sorted(tags)],
    }
