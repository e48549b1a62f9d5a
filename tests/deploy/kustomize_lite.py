"""A small, strict subset of `kustomize build`, in Python, for offline tests.

It renders exactly the kustomization features ``deploy/`` uses and refuses anything
else (an unknown kustomization field is an error, never silently ignored), so a test
built on it cannot pass because a feature was skipped:

* ``resources``: YAML files (multi-document) and directories holding a
  ``kustomization.yaml``, rendered recursively;
* ``namespace`` (namespaced kinds only), ``labels`` (``pairs`` with
  ``includeSelectors: false``, optionally ``includeTemplates``), ``commonAnnotations``;
* ``configMapGenerator`` (``literals``, ``files``, ``envs``; ``behavior``
  create/merge/replace; ``options`` and ``generatorOptions``), with kustomize's
  content-hash name suffix (same algorithm as ``api/hasher`` in kustomize) and the
  references to the generated ConfigMaps rewritten to the suffixed name;
* ``images`` (``newName``, ``newTag``, ``digest``) and ``replicas``.

As in kustomize, each kustomization's transformers apply to what it accumulated,
so an overlay's ``images`` entry matches the image name as the base left it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_FIELDS = {
    "apiVersion",
    "kind",
    "namespace",
    "labels",
    "commonAnnotations",
    "resources",
    "configMapGenerator",
    "generatorOptions",
    "images",
    "replicas",
}
CLUSTER_SCOPED_KINDS = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "IngressClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
REPLICATED_KINDS = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}

# Internal bookkeeping on generated ConfigMaps, removed before the result is returned.
_GENERATED = "kustomize-lite.internal/generated-name"
_NO_HASH = "kustomize-lite.internal/no-hash"


class KustomizeError(Exception):
    """The kustomization is invalid or uses a feature this renderer does not support."""


# --------------------------------------------------------------------------- public API


def build(path: str | Path) -> list[Resource]:
    """Render the kustomization in directory ``path`` like ``kustomize build path``."""
    resources = _render(Path(path).resolve(), stack=())
    return _finalize(resources)


def configmap_hash(configmap: Resource) -> str:
    """kustomize's name suffix for a ConfigMap (api/hasher: encodeConfigMap + encode)."""
    encoded: dict[str, Any] = {
        "kind": "ConfigMap",
        "name": configmap.get("metadata", {}).get("name", ""),
        "data": configmap.get("data", ""),
    }
    if isinstance(configmap.get("binaryData"), dict):
        encoded["binaryData"] = configmap["binaryData"]
    digest = hashlib.sha256(_go_json(encoded).encode()).hexdigest()
    return digest[:10].translate(str.maketrans("013ae", "ghkmt"))


def pod_specs(resource: Resource) -> Iterator[Resource]:
    """Every pod spec inside a workload (Deployment & co, Job, CronJob, Pod)."""
    kind = resource.get("kind")
    spec = resource.get("spec") or {}
    if kind in WORKLOAD_KINDS:
        yield spec.get("template", {}).get("spec", {})
    elif kind == "CronJob":
        yield spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
    elif kind == "Pod":
        yield spec


def containers(pod_spec: Resource) -> Iterator[Resource]:
    yield from pod_spec.get("initContainers") or []
    yield from pod_spec.get("containers") or []


# --------------------------------------------------------------------------- rendering


def _render(directory: Path, stack: tuple[Path, ...]) -> list[Resource]:
    if directory in stack:
        raise KustomizeError(f"cycle in resources: {' -> '.join(map(str, (*stack, directory)))}")
    kustomization = _load_kustomization(directory)
    unknown = set(kustomization) - SUPPORTED_FIELDS
    if unknown:
        raise KustomizeError(f"{directory}: unsupported kustomization fields {sorted(unknown)}")

    accumulated: list[Resource] = []
    for entry in kustomization.get("resources") or []:
        target = (directory / entry).resolve()
        if "://" in entry or entry.startswith("github.com/"):
            raise KustomizeError(f"{directory}: remote resource {entry!r} is not supported")
        if target.is_dir():
            loaded = _render(target, (*stack, directory))
        elif target.is_file():
            loaded = _load_documents(target)
        else:
            raise KustomizeError(f"{directory}: resource {entry!r} does not exist")
        for resource in loaded:
            _add(accumulated, resource, origin=str(target))

    _generate_configmaps(directory, kustomization, accumulated)

    namespace = kustomization.get("namespace")
    for resource in accumulated:
        if namespace and resource["kind"] not in CLUSTER_SCOPED_KINDS:
            resource["metadata"]["namespace"] = namespace
    for label_set in kustomization.get("labels") or []:
        _apply_labels(directory, label_set, accumulated)
    if kustomization.get("commonAnnotations"):
        _apply_annotations(kustomization["commonAnnotations"], accumulated)
    for image in kustomization.get("images") or []:
        _apply_image(directory, image, accumulated)
    for replica in kustomization.get("replicas") or []:
        _apply_replicas(directory, replica, accumulated)
    return accumulated


def _load_kustomization(directory: Path) -> Resource:
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            data = yaml.safe_load(candidate.read_text()) or {}
            if not isinstance(data, dict):
                raise KustomizeError(f"{candidate}: not a mapping")
            if data.get("kind", "Kustomization") != "Kustomization":
                raise KustomizeError(f"{candidate}: kind must be Kustomization")
            return data
    raise KustomizeError(f"{directory}: no kustomization.yaml")


def _load_documents(path: Path) -> list[Resource]:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for doc in documents:
        if not isinstance(doc, dict) or not doc.get("kind") or not doc.get("apiVersion"):
            raise KustomizeError(f"{path}: every document needs apiVersion and kind")
        if not doc.get("metadata", {}).get("name"):
            raise KustomizeError(f"{path}: a {doc['kind']} without metadata.name")
        if doc["kind"] == "List":
            raise KustomizeError(f"{path}: kind List is not supported")
    return documents


def _resource_id(resource: Resource) -> tuple[str, str, str, str]:
    meta = resource["metadata"]
    group = resource["apiVersion"].rpartition("/")[0]
    name = meta.get("annotations", {}).get(_GENERATED, meta["name"])
    return group, resource["kind"], meta.get("namespace", ""), name


def _add(accumulated: list[Resource], resource: Resource, origin: str) -> None:
    new_id = _resource_id(resource)
    if any(_resource_id(existing) == new_id for existing in accumulated):
        raise KustomizeError(f"{origin}: duplicate resource {new_id}")
    accumulated.append(resource)


# --------------------------------------------------------------------------- generators


def _generate_configmaps(directory: Path, kustomization: Resource, accumulated: list) -> None:
    global_options = kustomization.get("generatorOptions") or {}
    for generator in kustomization.get("configMapGenerator") or []:
        name = generator.get("name")
        if not name:
            raise KustomizeError(f"{directory}: configMapGenerator entry without name")
        unknown = set(generator) - {
            "name",
            "namespace",
            "behavior",
            "literals",
            "files",
            "envs",
            "options",
        }
        if unknown:
            raise KustomizeError(f"{directory}: configMapGenerator {name}: unsupported {unknown}")
        data = _generator_data(directory, generator)
        options = {**global_options, **(generator.get("options") or {})}
        behavior = generator.get("behavior", "create")
        namespace = generator.get("namespace", "")

        existing = [
            r
            for r in accumulated
            if r["kind"] == "ConfigMap"
            and r["metadata"].get("annotations", {}).get(_GENERATED) == name
            and (not namespace or r["metadata"].get("namespace", "") == namespace)
        ]
        if behavior == "create":
            configmap: Resource = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "annotations": {_GENERATED: name}},
                "data": data,
            }
            if namespace:
                configmap["metadata"]["namespace"] = namespace
            _apply_generator_options(configmap, options)
            _add(accumulated, configmap, origin=f"{directory} configMapGenerator")
        elif behavior in {"merge", "replace"}:
            if len(existing) != 1:
                raise KustomizeError(
                    f"{directory}: configMapGenerator {name} behavior {behavior} needs exactly "
                    f"one generated ConfigMap {name} from a base, found {len(existing)}"
                )
            target = existing[0]
            if behavior == "merge":
                target["data"] = {**(target.get("data") or {}), **data}
            else:
                target["data"] = data
            _apply_generator_options(target, options)
        else:
            raise KustomizeError(f"{directory}: configMapGenerator {name}: behavior {behavior!r}")


def _generator_data(directory: Path, generator: Resource) -> dict[str, str]:
    data: dict[str, str] = {}

    def put(key: str, value: str) -> None:
        if key in data:
            raise KustomizeError(f"configMapGenerator {generator['name']}: duplicate key {key}")
        data[key] = value

    for literal in generator.get("literals") or []:
        key, sep, value = str(literal).partition("=")
        if not sep or not key:
            raise KustomizeError(f"configMapGenerator {generator['name']}: bad literal {literal!r}")
        put(key, _remove_quotes(value))
    for entry in generator.get("files") or []:
        key, sep, rel = str(entry).partition("=")
        if not sep:
            key, rel = Path(entry).name, entry
        put(key, (directory / rel).read_text())
    for env_file in generator.get("envs") or []:
        for line in (directory / env_file).read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise KustomizeError(f"{env_file}: line without '=': {line!r}")
            put(key.strip(), value)
    return data


def _remove_quotes(value: str) -> str:
    # kustomize strips one pair of matching surrounding quotes from a literal value
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _apply_generator_options(configmap: Resource, options: Resource) -> None:
    unknown = set(options) - {"labels", "annotations", "disableNameSuffixHash", "immutable"}
    if unknown:
        raise KustomizeError(f"generator options {sorted(unknown)} are not supported")
    meta = configmap["metadata"]
    if options.get("labels"):
        meta.setdefault("labels", {}).update({k: str(v) for k, v in options["labels"].items()})
    if options.get("annotations"):
        meta["annotations"].update({k: str(v) for k, v in options["annotations"].items()})
    if options.get("disableNameSuffixHash"):
        meta["annotations"][_NO_HASH] = "true"
    if options.get("immutable"):
        configmap["immutable"] = True


# --------------------------------------------------------------------------- transformers


def _templates(resource: Resource) -> Iterator[Resource]:
    spec = resource.get("spec") or {}
    if resource["kind"] in WORKLOAD_KINDS:
        yield spec.setdefault("template", {})
    elif resource["kind"] == "CronJob":
        job_template = spec.setdefault("jobTemplate", {})
        yield job_template
        yield job_template.setdefault("spec", {}).setdefault("template", {})


def _apply_labels(directory: Path, label_set: Resource, accumulated: list[Resource]) -> None:
    unknown = set(label_set) - {"pairs", "includeSelectors", "includeTemplates"}
    if unknown:
        raise KustomizeError(f"{directory}: labels: unsupported {sorted(unknown)}")
    if label_set.get("includeSelectors"):
        raise KustomizeError(
            f"{directory}: labels.includeSelectors (and commonLabels) are not supported: "
            "selectors are immutable, keep them out of generic labels"
        )
    pairs = {k: str(v) for k, v in (label_set.get("pairs") or {}).items()}
    for resource in accumulated:
        resource["metadata"].setdefault("labels", {}).update(pairs)
        if label_set.get("includeTemplates"):
            for template in _templates(resource):
                template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def _apply_annotations(annotations: Resource, accumulated: list[Resource]) -> None:
    values = {k: str(v) for k, v in annotations.items()}
    for resource in accumulated:
        resource["metadata"].setdefault("annotations", {}).update(values)
        for template in _templates(resource):
            template.setdefault("metadata", {}).setdefault("annotations", {}).update(values)


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """``registry/repo:tag@digest`` -> (name, tag, digest)."""
    name, _, digest = image.partition("@")
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > last_slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest or None


def _apply_image(directory: Path, rule: Resource, accumulated: list[Resource]) -> None:
    unknown = set(rule) - {"name", "newName", "newTag", "digest"}
    if unknown or "name" not in rule:
        raise KustomizeError(f"{directory}: images entry {rule}: unsupported or missing name")
    for resource in accumulated:
        for pod_spec in pod_specs(resource):
            for container in containers(pod_spec):
                name, tag, digest = split_image(container.get("image", ""))
                if name != rule["name"]:
                    continue
                name = rule.get("newName", name)
                if "newTag" in rule:
                    tag, digest = str(rule["newTag"]), None
                if "digest" in rule:
                    tag, digest = None, str(rule["digest"])
                container["image"] = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _apply_replicas(directory: Path, rule: Resource, accumulated: list[Resource]) -> None:
    matched = [
        r for r in accumulated if r["kind"] in REPLICATED_KINDS and r["metadata"]["name"] == rule.get("name")
    ]
    if not matched:
        raise KustomizeError(f"{directory}: replicas: no workload named {rule.get('name')!r}")
    for resource in matched:
        resource.setdefault("spec", {})["replicas"] = int(rule["count"])


# --------------------------------------------------------------------------- finishing


def _finalize(resources: list[Resource]) -> list[Resource]:
    resources = copy.deepcopy(resources)
    renamed: dict[tuple[str, str], str] = {}  # (namespace, original name) -> final name
    for resource in resources:
        annotations = resource["metadata"].get("annotations", {})
        original = annotations.pop(_GENERATED, None)
        no_hash = annotations.pop(_NO_HASH, None)
        if not annotations:
            resource["metadata"].pop("annotations", None)
        if original is None:
            continue
        final = original if no_hash else f"{original}-{configmap_hash(resource)}"
        resource["metadata"]["name"] = final
        renamed[(resource["metadata"].get("namespace", ""), original)] = final

    for resource in resources:
        namespace = resource["metadata"].get("namespace", "")
        for pod_spec in pod_specs(resource):
            _rewrite_configmap_refs(pod_spec, namespace, renamed)
    return resources


def _rewrite_configmap_refs(pod_spec: Resource, namespace: str, renamed: dict) -> None:
    def fix(ref: Resource | None) -> None:
        if ref and (namespace, ref.get("name")) in renamed:
            ref["name"] = renamed[(namespace, ref["name"])]

    for container in containers(pod_spec):
        for source in container.get("envFrom") or []:
            fix(source.get("configMapRef"))
        for env in container.get("env") or []:
            fix((env.get("valueFrom") or {}).get("configMapKeyRef"))
    for volume in pod_spec.get("volumes") or []:
        fix(volume.get("configMap"))
        for source in (volume.get("projected") or {}).get("sources") or []:
            fix(source.get("configMap"))


def _go_json(value: Any) -> str:
    """encoding/json.Marshal of a map: sorted keys, no spaces, HTML characters escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text
