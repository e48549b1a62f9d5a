"""Offline checks of everything under deploy/ plus the Dockerfile and docker-compose.yml.

No kustomize, kubectl, Docker or cluster is needed: the kustomizations are rendered
by ``kustomize_lite`` (a strict subset of ``kustomize build``, beside this file), every
rendered object is validated against the Kubernetes OpenAPI schemas that the
``kubernetes-validate`` package ships (strict mode: unknown fields are errors), and
then the platform's own rules are checked: each service has what it needs to run, pods
are hardened, every Secret/ConfigMap a pod names exists or is documented, the network
policies let only the gateway take outside traffic.

Each rule is a function returning a list of problems; the tests assert it is empty for
the real manifests and, with deliberately broken copies, that it is not (so a rule
that cannot fail would itself fail a test).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BASE = DEPLOY / "k8s" / "base"
PRODUCTION = DEPLOY / "k8s" / "overlays" / "production"
OBSERVABILITY = DEPLOY / "observability"
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"

# The Kubernetes release the manifests must be valid for. kubernetes-validate ships
# schemas for 1.25 ... 1.37 (kubernetes_validate/kubernetes-json-schema/v<ver>-local*).
KUBERNETES_VERSION = "1.33.0"

NAMESPACE = "australia-jobs"
SERVICES_WITH_DATABASE = ("auth", "jobs", "search", "notifications", "resumes", "applications")
DEPLOYABLES = (*SERVICES_WITH_DATABASE, "gateway")
PORTS = {
    "gateway": 8000,
    "auth": 8001,
    "jobs": 8002,
    "search": 8003,
    "notifications": 8004,
    "resumes": 8005,
    "applications": 8006,
}
HPA_SCALED = {"gateway", "search"}
INGRESS_HOST = "api.australiajobs.example"
# Custom resources (prometheus-operator) have no schema in kubernetes-validate; they
# get their own checks below.
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
}
# Namespaces that may reach pods (besides pods of this namespace):
INGRESS_CONTROLLER_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"


def _load_renderer():
    path = Path(__file__).with_name("kustomize_lite.py")
    spec = importlib.util.spec_from_file_location("aujobs_deploy_kustomize_lite", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


kustomize = _load_renderer()

Resource = dict[str, Any]
Check = Callable[[list[Resource]], list[str]]


# =========================================================================== fixtures


@pytest.fixture(scope="module")
def base() -> list[Resource]:
    return kustomize.build(BASE)


@pytest.fixture(scope="module")
def production() -> list[Resource]:
    return kustomize.build(PRODUCTION)


@pytest.fixture(scope="module")
def observability() -> list[Resource]:
    return kustomize.build(OBSERVABILITY)


@pytest.fixture(scope="module")
def required_secrets() -> set[tuple[str, str]]:
    return load_required_secrets(BASE / "REQUIRED_SECRETS")


@pytest.fixture(scope="module")
def compose() -> Resource:
    return yaml.safe_load(COMPOSE_FILE.read_text())


# =========================================================================== helpers


def load_required_secrets(path: Path) -> set[tuple[str, str]]:
    """``<secret> <key>  # comment`` lines -> {(secret, key)}."""
    entries = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        assert len(fields) == 2, f"REQUIRED_SECRETS: expected '<secret> <key>', got {raw!r}"
        entries.add((fields[0], fields[1]))
    return entries


def by_kind(resources: list[Resource], kind: str) -> dict[str, Resource]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def find(resources: list[Resource], kind: str, name: str) -> Resource:
    found = by_kind(resources, kind).get(name)
    assert found is not None, f"no {kind}/{name}"
    return found


def pod_template_labels(workload: Resource) -> dict[str, str]:
    return workload["spec"]["template"].get("metadata", {}).get("labels", {})


def selects(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def workloads(resources: list[Resource]) -> Iterator[tuple[str, Resource, Resource]]:
    """(``Kind/name``, resource, pod spec) of every workload."""
    for resource in resources:
        for pod_spec in kustomize.pod_specs(resource):
            yield f"{resource['kind']}/{resource['metadata']['name']}", resource, pod_spec


def container_env(container: Resource) -> dict[str, Resource]:
    return {env["name"]: env for env in container.get("env") or []}


def configmap_data(resources: list[Resource], pod_spec: Resource, container: Resource) -> dict:
    """The environment a container gets from its envFrom ConfigMaps and literal env."""
    maps = by_kind(resources, "ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef")
        if ref and ref["name"] in maps:
            env.update(maps[ref["name"]].get("data") or {})
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = item["value"]
    return env


def balanced(expr: str) -> bool:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    in_string = None
    for char in expr:
        if in_string:
            if char == in_string:
                in_string = None
            continue
        if char in "\"'`":
            in_string = char
        elif char in "([{":
            stack.append(char)
        elif char in pairs:
            if not stack or stack.pop() != pairs[char]:
                return False
    return not stack and in_string is None


# =========================================================================== rules


def check_schemas(resources: list[Resource]) -> list[str]:
    """Every built-in object is valid for KUBERNETES_VERSION (strict: no unknown fields)."""
    problems = []
    expected = kubernetes_validate.utils.major_minor(KUBERNETES_VERSION)
    for resource in resources:
        what = f"{resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
        if (resource.get("apiVersion"), resource.get("kind")) in CUSTOM_KINDS:
            continue
        try:
            validated = kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            problems.append(f"{what}: {path}: {error.message}")
            continue
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{what}: {error.message}")
            continue
        if validated != expected:
            problems.append(f"{what}: validated against {validated}, not {expected}")
    return problems


def check_namespace(resources: list[Resource]) -> list[str]:
    problems = []
    if "Namespace" in {r["kind"] for r in resources}:
        if NAMESPACE not in by_kind(resources, "Namespace"):
            problems.append(f"Namespace {NAMESPACE} is not rendered")
    for r in resources:
        if r["kind"] == "Namespace":
            continue
        if r["metadata"].get("namespace") != NAMESPACE:
            problems.append(f"{r['kind']}/{r['metadata']['name']} not in namespace {NAMESPACE}")
        if r["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") != "australia-jobs":
            problems.append(f"{r['kind']}/{r['metadata']['name']} lacks the part-of label")
    return problems


def check_services_complete(resources: list[Resource]) -> list[str]:
    """Each service: Deployment, Service, ServiceAccount, PDB, NetworkPolicy; a migration
    Job for those with a database; the gateway an Ingress."""
    problems = []
    deployments = by_kind(resources, "Deployment")
    services = by_kind(resources, "Service")
    jobs = by_kind(resources, "Job")
    for name in DEPLOYABLES:
        for kind in (
            "Deployment",
            "Service",
            "ServiceAccount",
            "PodDisruptionBudget",
            "NetworkPolicy",
        ):
            if name not in by_kind(resources, kind):
                problems.append(f"{name}: no {kind}")
        deployment = deployments.get(name)
        if deployment:
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            command = container.get("command", []) + container.get("args", [])
            expected = ["python", "-m", f"aujobs_{name}", "serve"]
            if command[:4] != expected:
                problems.append(f"Deployment/{name}: command {command} does not start {expected}")
            ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
            if ports.get("http") != PORTS[name]:
                problems.append(
                    f"Deployment/{name}: port http is {ports.get('http')}, expected {PORTS[name]}"
                )
            if "--port" in command and command[command.index("--port") + 1] != str(PORTS[name]):
                problems.append(f"Deployment/{name}: --port disagrees with containerPort")
            if container_env(container).get("SERVICE_NAME", {}).get("value") != name:
                problems.append(f"Deployment/{name}: SERVICE_NAME is not {name!r}")
        service = services.get(name)
        if service and [p["port"] for p in service["spec"]["ports"]] != [PORTS[name]]:
            problems.append(f"Service/{name}: must expose exactly port {PORTS[name]}")
        if service and service["spec"].get("type", "ClusterIP") != "ClusterIP":
            problems.append(f"Service/{name}: must be ClusterIP (the Ingress is the way in)")

    for name in SERVICES_WITH_DATABASE:
        job = jobs.get(f"{name}-migrate")
        if job is None:
            problems.append(f"{name}: no migration Job {name}-migrate")
            continue
        container = job["spec"]["template"]["spec"]["containers"][0]
        if container.get("command") != ["python", "-m", f"aujobs_{name}", "migrate"]:
            problems.append(f"Job/{name}-migrate: command is {container.get('command')}")
        deployment = deployments.get(name)
        if deployment:
            image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
            if container["image"] != image:
                problems.append(f"Job/{name}-migrate: image {container['image']} != {image}")
            dep_env = container_env(deployment["spec"]["template"]["spec"]["containers"][0])
            if container_env(container).get("DATABASE_URL") != dep_env.get("DATABASE_URL"):
                problems.append(f"Job/{name}-migrate: DATABASE_URL differs from the Deployment")
        if job["spec"]["template"]["spec"].get("restartPolicy") not in {"Never", "OnFailure"}:
            problems.append(f"Job/{name}-migrate: restartPolicy must be Never or OnFailure")

    ingresses = [
        i
        for i in by_kind(resources, "Ingress").values()
        for rule in i["spec"].get("rules") or []
        for path in (rule.get("http") or {}).get("paths") or []
        if path["backend"].get("service", {}).get("name") == "gateway"
    ]
    if not ingresses:
        problems.append("gateway: no Ingress routes to Service gateway")
    for ingress in by_kind(resources, "Ingress").values():
        hosts = {rule.get("host") for rule in ingress["spec"].get("rules") or []}
        tls_hosts = {h for tls in ingress["spec"].get("tls") or [] for h in tls.get("hosts", [])}
        if INGRESS_HOST not in hosts or INGRESS_HOST not in tls_hosts:
            problems.append(f"Ingress/{ingress['metadata']['name']}: {INGRESS_HOST} without TLS")
        for rule in ingress["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = path["backend"].get("service", {})
                if backend.get("name") != "gateway":
                    problems.append(
                        f"Ingress/{ingress['metadata']['name']}: routes to "
                        f"{backend.get('name')}, only the gateway is public"
                    )
                if not path.get("path", "/").startswith(PUBLIC_PREFIXES):
                    problems.append(
                        f"Ingress/{ingress['metadata']['name']}: exposes {path.get('path')!r}; "
                        "only the public API is routed (/metrics, /readyz stay internal)"
                    )
    return problems


PUBLIC_PREFIXES = ("/api/", "/.well-known/", "/docs")


def check_probes(resources: list[Resource]) -> list[str]:
    """Every Deployment container: startup, liveness (/healthz) and readiness (/readyz)
    probes on a port the container declares."""
    problems = []
    for name, deployment in by_kind(resources, "Deployment").items():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            where = f"Deployment/{name} container {container['name']}"
            port_names = {p.get("name") for p in container.get("ports") or []}
            port_numbers = {p["containerPort"] for p in container.get("ports") or []}
            for probe_name, path in (
                ("livenessProbe", "/healthz"),
                ("readinessProbe", "/readyz"),
                ("startupProbe", "/healthz"),
            ):
                probe = container.get(probe_name)
                if not probe:
                    problems.append(f"{where}: no {probe_name}")
                    continue
                http = probe.get("httpGet")
                if not http or http.get("path") != path:
                    problems.append(f"{where}: {probe_name} must GET {path}")
                    continue
                if http.get("port") not in port_names | port_numbers:
                    problems.append(f"{where}: {probe_name} port {http.get('port')} not declared")
    return problems


def check_hardening(resources: list[Resource]) -> list[str]:
    """Every pod (Deployments and Jobs): non-root, seccomp RuntimeDefault, no service
    account token, read-only root with an emptyDir /tmp, no privilege escalation, ALL
    capabilities dropped, requests and limits, a pinned image."""
    problems = []
    for where, _, pod in workloads(resources):
        pod_security = pod.get("securityContext") or {}
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: automountServiceAccountToken must be false")
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for container in kustomize.containers(pod):
            at = f"{where} container {container['name']}"
            security = container.get("securityContext") or {}

            def effective(key: str, security=security, pod_security=pod_security) -> Any:
                return security.get(key, pod_security.get(key))

            if effective("runAsNonRoot") is not True:
                problems.append(f"{at}: runAsNonRoot must be true")
            if effective("runAsUser") in (0, None):
                problems.append(f"{at}: runAsUser must be a non-zero uid")
            if (effective("seccompProfile") or {}).get("type") != "RuntimeDefault":
                problems.append(f"{at}: seccompProfile must be RuntimeDefault")
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{at}: allowPrivilegeEscalation must be false")
            if security.get("privileged"):
                problems.append(f"{at}: privileged")
            if security.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{at}: readOnlyRootFilesystem must be true")
            if "ALL" not in (security.get("capabilities") or {}).get("drop", []):
                problems.append(f"{at}: must drop ALL capabilities")
            if (security.get("capabilities") or {}).get("add"):
                problems.append(f"{at}: adds capabilities")
            tmp = [m for m in container.get("volumeMounts") or [] if m["mountPath"] == "/tmp"]
            if not tmp or "emptyDir" not in volumes.get(tmp[0]["name"], {}):
                problems.append(f"{at}: /tmp must be an emptyDir (root filesystem is read-only)")
            resources_ = container.get("resources") or {}
            for section in ("requests", "limits"):
                for resource_name in ("cpu", "memory"):
                    if resource_name not in (resources_.get(section) or {}):
                        problems.append(f"{at}: no resources.{section}.{resource_name}")
            _, tag, digest = kustomize.split_image(container.get("image", ""))
            if not (digest or (tag and tag != "latest")):
                problems.append(f"{at}: image {container.get('image')!r} is not pinned")
    for name, account in by_kind(resources, "ServiceAccount").items():
        if account.get("automountServiceAccountToken") is not False:
            problems.append(f"ServiceAccount/{name}: automountServiceAccountToken must be false")
    return problems


def check_references(resources: list[Resource], required: set[tuple[str, str]]) -> list[str]:
    """Every Secret/ConfigMap a pod or Ingress names is rendered or in REQUIRED_SECRETS,
    and every REQUIRED_SECRETS line is used."""
    problems = []
    configmaps = by_kind(resources, "ConfigMap")
    secrets = by_kind(resources, "Secret")
    documented = {name for name, _ in required}
    used: set[tuple[str, str]] = set()

    def secret(name: str, key: str | None, where: str) -> None:
        if name in secrets:
            if key and key not in (secrets[name].get("data") or {}) | (secrets[name].get("stringData") or {}):
                problems.append(f"{where}: Secret {name} has no key {key}")
            return
        if key is None:
            if name not in documented:
                problems.append(f"{where}: Secret {name} is neither rendered nor documented")
            used.update(entry for entry in required if entry[0] == name)
        elif (name, key) in required:
            used.add((name, key))
        else:
            problems.append(
                f"{where}: Secret {name} key {key} is neither rendered nor listed in REQUIRED_SECRETS"
            )

    def configmap(name: str, key: str | None, where: str) -> None:
        if name not in configmaps:
            problems.append(f"{where}: ConfigMap {name} is not rendered")
        elif key and key not in (configmaps[name].get("data") or {}):
            problems.append(f"{where}: ConfigMap {name} has no key {key}")

    for where, _, pod in workloads(resources):
        for container in kustomize.containers(pod):
            at = f"{where} container {container['name']}"
            for source in container.get("envFrom") or []:
                if "configMapRef" in source:
                    configmap(source["configMapRef"]["name"], None, at)
                if "secretRef" in source:
                    secret(source["secretRef"]["name"], None, at)
            for env in container.get("env") or []:
                value_from = env.get("valueFrom") or {}
                if "secretKeyRef" in value_from:
                    ref = value_from["secretKeyRef"]
                    secret(ref["name"], ref["key"], f"{at} env {env['name']}")
                if "configMapKeyRef" in value_from:
                    ref = value_from["configMapKeyRef"]
                    configmap(ref["name"], ref["key"], f"{at} env {env['name']}")
        for volume in pod.get("volumes") or []:
            if "secret" in volume:
                secret(volume["secret"]["secretName"], None, f"{where} volume {volume['name']}")
            if "configMap" in volume:
                configmap(volume["configMap"]["name"], None, f"{where} volume {volume['name']}")
    for name, ingress in by_kind(resources, "Ingress").items():
        for tls in ingress["spec"].get("tls") or []:
            for key in ("tls.crt", "tls.key"):
                secret(tls["secretName"], key, f"Ingress/{name} tls")
    for stale in sorted(required - used):
        problems.append(f"REQUIRED_SECRETS lists {stale[0]} {stale[1]}, which nothing uses")
    return problems


def check_wiring(resources: list[Resource]) -> list[str]:
    """Selectors, ports and URLs fit together: Services, PDBs, NetworkPolicies and HPAs
    find their pods; GATEWAY_ROUTES and JWKS_URL name real Services and ports."""
    problems = []
    deployments = by_kind(resources, "Deployment")
    services = by_kind(resources, "Service")

    def matching(selector: dict[str, str] | None) -> list[Resource]:
        return [d for d in deployments.values() if selects(selector, pod_template_labels(d))]

    for name, deployment in deployments.items():
        selector = deployment["spec"]["selector"].get("matchLabels")
        if not selects(selector, pod_template_labels(deployment)):
            problems.append(f"Deployment/{name}: selector does not match its pod labels")
        account = deployment["spec"]["template"]["spec"].get("serviceAccountName")
        if account not in by_kind(resources, "ServiceAccount"):
            problems.append(f"Deployment/{name}: ServiceAccount {account} is not rendered")
    for name, service in services.items():
        targets = matching(service["spec"].get("selector"))
        if not targets:
            problems.append(f"Service/{name}: selector matches no Deployment")
        for target in targets:
            container_ports = [
                p for c in target["spec"]["template"]["spec"]["containers"] for p in c.get("ports") or []
            ]
            for port in service["spec"]["ports"]:
                wanted = port.get("targetPort", port["port"])
                if not any(wanted in (p.get("name"), p["containerPort"]) for p in container_ports):
                    problems.append(
                        f"Service/{name}: targetPort {wanted} not on Deployment/{target['metadata']['name']}"
                    )
    for name, budget in by_kind(resources, "PodDisruptionBudget").items():
        if not matching(budget["spec"].get("selector", {}).get("matchLabels")):
            problems.append(f"PodDisruptionBudget/{name}: selects no Deployment")
    for name, policy in by_kind(resources, "NetworkPolicy").items():
        selector = policy["spec"]["podSelector"].get("matchLabels")
        if selector and not matching(selector):
            problems.append(f"NetworkPolicy/{name}: selects no Deployment")
    hpa_targets = set()
    for name, hpa in by_kind(resources, "HorizontalPodAutoscaler").items():
        target = hpa["spec"]["scaleTargetRef"]
        if target["kind"] != "Deployment" or target["name"] not in deployments:
            problems.append(f"HorizontalPodAutoscaler/{name}: target {target} is not rendered")
        hpa_targets.add(target["name"])
    for name in HPA_SCALED:
        if name not in hpa_targets:
            problems.append(f"{name}: no HorizontalPodAutoscaler")
    for name in hpa_targets & set(deployments):
        if "replicas" in deployments[name]["spec"]:
            problems.append(f"Deployment/{name}: sets replicas although an HPA scales it")

    def resolves(url: str, where: str) -> None:
        parts = urlsplit(url)
        service = services.get(parts.hostname or "")
        if service is None:
            problems.append(f"{where}: {url} names no rendered Service")
        elif parts.port not in [p["port"] for p in service["spec"]["ports"]]:
            problems.append(f"{where}: {url}: Service {parts.hostname} has no port {parts.port}")

    for where, _, pod in workloads(resources):
        for container in pod["containers"]:
            env = configmap_data(resources, pod, container)
            if "JWKS_URL" in env:
                resolves(env["JWKS_URL"], f"{where} JWKS_URL")
            if "GATEWAY_ROUTES" in env:
                routes = json.loads(env["GATEWAY_ROUTES"])
                if set(routes) != {
                    "auth",
                    "jobs",
                    "companies",
                    "search",
                    "notifications",
                    "resumes",
                    "applications",
                }:
                    problems.append(f"{where}: GATEWAY_ROUTES areas are {sorted(routes)}")
                for area, url in routes.items():
                    resolves(url, f"{where} GATEWAY_ROUTES[{area}]")
            if "CORS_ALLOW_ORIGINS" in env:
                json.loads(env["CORS_ALLOW_ORIGINS"])
    return problems


def check_environment(resources: list[Resource]) -> list[str]:
    """The variables the code reads (libs/common settings and per-service extras)."""
    problems = []
    shared = {
        "SERVICE_NAME",
        "ENVIRONMENT",
        "LOG_LEVEL",
        "LOG_JSON",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "JWKS_URL",
        "REDIS_URL",
    }
    expected = {
        "auth": shared
        | {"DATABASE_URL", "AMQP_URL", "AUTH_KEY_ENCRYPTION_SECRET", "ACCESS_TOKEN_TTL_SECONDS"},
        "jobs": shared | {"DATABASE_URL", "AMQP_URL", "FRONTEND_URL", "PUBLIC_API_URL", "TRUSTED_PROXIES"},
        "search": shared | {"DATABASE_URL", "AMQP_URL", "SEARCH_BACKEND", "OPENSEARCH_URL"},
        "notifications": shared | {"DATABASE_URL", "AMQP_URL", "SMTP_URL", "FRONTEND_URL", "MAIL_FROM"},
        "resumes": shared | {"DATABASE_URL", "AMQP_URL"},
        "applications": shared | {"DATABASE_URL", "AMQP_URL", "RESUMES_URL"},
        "gateway": shared
        | {"GATEWAY_ROUTES", "CORS_ALLOW_ORIGINS", "RATE_LIMIT_PER_MINUTE", "MAX_BODY_BYTES"},
    }
    for name, deployment in by_kind(resources, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        names = set(configmap_data(resources, pod, container)) | set(container_env(container))
        for missing in sorted(expected.get(name, set()) - names):
            problems.append(f"Deployment/{name}: no {missing}")
    return problems


def check_network_policies(resources: list[Resource]) -> list[str]:
    """Default deny; the gateway alone takes traffic from the ingress controller; every
    service accepts the gateway; auth also accepts the other services (JWKS)."""
    problems = []
    policies = by_kind(resources, "NetworkPolicy").values()
    if not any(
        not p["spec"]["podSelector"]
        and "Ingress" in p["spec"].get("policyTypes", [])
        and not p["spec"].get("ingress")
        for p in policies
    ):
        problems.append("no default-deny ingress NetworkPolicy")

    for name, deployment in by_kind(resources, "Deployment").items():
        labels = pod_template_labels(deployment)
        applying = [p for p in policies if selects(p["spec"]["podSelector"].get("matchLabels"), labels)]
        if not applying:
            problems.append(f"Deployment/{name}: no NetworkPolicy selects it")
        pod_peers: set[str] = set()
        external: list[str] = []
        for policy in applying:
            for rule in policy["spec"].get("ingress") or []:
                if not rule.get("from"):
                    external.append("any source (rule without from)")
                for peer in rule.get("from") or []:
                    if "ipBlock" in peer:
                        external.append(f"ipBlock {peer['ipBlock'].get('cidr')}")
                    elif "namespaceSelector" in peer:
                        ns = (peer["namespaceSelector"].get("matchLabels") or {}).get(
                            "kubernetes.io/metadata.name"
                        )
                        if ns != MONITORING_NAMESPACE:
                            external.append(f"namespace {ns or 'any'}")
                    else:
                        peer_labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
                        if not peer_labels:
                            external.append("every pod in the namespace")
                        pod_peers.add(peer_labels.get("app.kubernetes.io/name", "?"))
        if name == "gateway":
            if f"namespace {INGRESS_CONTROLLER_NAMESPACE}" not in external:
                problems.append("gateway: does not accept the ingress controller")
            external = [e for e in external if e != f"namespace {INGRESS_CONTROLLER_NAMESPACE}"]
        if external:
            problems.append(f"{name}: accepts traffic from {external}")
        jwks_clients = {"jobs", "search", "notifications", "resumes", "applications"}
        # applications copies the chosen resume version from resumes when someone applies
        callers = {"auth": jwks_clients, "resumes": {"applications"}}
        allowed = {"gateway"} | callers.get(name, set())
        if name != "gateway":
            if not {"gateway"} <= pod_peers:
                problems.append(f"{name}: does not accept the gateway")
            if name == "auth" and not jwks_clients <= pod_peers:
                problems.append(f"auth: {sorted(jwks_clients - pod_peers)} cannot fetch the JWKS")
            if pod_peers - allowed:
                problems.append(f"{name}: accepts pods {sorted(pod_peers - allowed)}")
        elif pod_peers:
            problems.append(f"gateway: accepts pods {sorted(pod_peers)} (only the ingress)")
    return problems


def check_compose(compose: Resource) -> list[str]:
    problems = []
    services = compose.get("services") or {}
    for name in ("postgres", "rabbitmq", "redis", "opensearch"):
        if name not in services:
            problems.append(f"compose: no {name}")
    for name in (*DEPLOYABLES, *(f"{s}-migrate" for s in SERVICES_WITH_DATABASE)):
        service = services.get(name)
        if service is None:
            problems.append(f"compose: no service {name}")
            continue
        app = name.removesuffix("-migrate")
        build = service.get("build") or {}
        if (
            not isinstance(build, dict)
            or build.get("context") != "."
            or build.get("dockerfile", "Dockerfile") != "Dockerfile"
        ):
            problems.append(f"compose {name}: not built from ./Dockerfile")
        elif (build.get("args") or {}).get("SERVICE") != app:
            problems.append(
                f"compose {name}: build arg SERVICE is "
                f"{(build.get('args') or {}).get('SERVICE')!r}, expected {app!r}"
            )
        env = service.get("environment") or {}
        if not isinstance(env, dict):
            problems.append(f"compose {name}: environment must be a mapping")
            env = {}
        if env.get("SERVICE_NAME") != app:
            problems.append(f"compose {name}: SERVICE_NAME is not {app!r}")
        if app in SERVICES_WITH_DATABASE:
            url = env.get("DATABASE_URL", "")
            if not url.startswith("postgresql+asyncpg://") or not url.endswith(f"/aujobs_{app}"):
                problems.append(f"compose {name}: DATABASE_URL {url!r} is not aujobs_{app}")
        if name.endswith("-migrate"):
            if service.get("command") != ["python", "-m", f"aujobs_{app}", "migrate"]:
                problems.append(f"compose {name}: command is {service.get('command')}")
            continue
        if not (service.get("healthcheck") or {}).get("test"):
            problems.append(f"compose {name}: no healthcheck")
        command = service.get("command") or []
        serves = command[:4] == ["python", "-m", f"aujobs_{app}", "serve"]
        if not serves or str(PORTS[app]) not in command:
            problems.append(f"compose {name}: command {command} does not serve on {PORTS[app]}")
        depends = service.get("depends_on") or {}
        if app in SERVICES_WITH_DATABASE:
            condition = (depends.get(f"{app}-migrate") or {}).get("condition")
            if condition != "service_completed_successfully":
                problems.append(f"compose {name}: does not wait for {app}-migrate to succeed")
            if env.get("AMQP_URL", "").split("://")[0] != "amqp":
                problems.append(f"compose {name}: AMQP_URL is not an amqp:// URL")
        if app == "gateway":
            routes = json.loads(env.get("GATEWAY_ROUTES", "{}"))
            for area, url in routes.items():
                parts = urlsplit(url)
                if parts.hostname not in services or parts.port != PORTS.get(parts.hostname):
                    problems.append(f"compose gateway: route {area} -> {url} matches no service")
            if not any(
                str(p).split(":")[-2:] == ["8000", "8000"] or str(p) == "8000:8000"
                for p in service.get("ports") or []
            ):
                problems.append("compose gateway: port 8000 is not published")
        elif service.get("ports"):
            problems.append(f"compose {name}: only the gateway is published")
    for name in ("postgres", "rabbitmq", "redis", "opensearch"):
        if name in services and not (services[name].get("healthcheck") or {}).get("test"):
            problems.append(f"compose {name}: no healthcheck")
    return problems


def check_alert_rules(document: Resource) -> list[str]:
    problems = []
    groups = (document.get("spec") or {}).get("groups") or document.get("groups")
    if not groups:
        return ["alerts: no rule groups"]
    names = []
    for group in groups:
        if not group.get("name") or not group.get("rules"):
            problems.append(f"alerts: group {group.get('name')!r} without name or rules")
        for rule in group.get("rules") or []:
            label = rule.get("alert") or rule.get("record")
            expr = rule.get("expr")
            if not label:
                problems.append(f"alerts: a rule in {group.get('name')} has no alert/record name")
            if not isinstance(expr, str) or not expr.strip():
                problems.append(f"alerts: {label}: no expr")
                continue
            if not balanced(expr):
                problems.append(f"alerts: {label}: unbalanced brackets in expr")
            if rule.get("alert"):
                names.append(rule["alert"])
                severity = (rule.get("labels") or {}).get("severity")
                if severity not in {"critical", "warning", "info"}:
                    problems.append(f"alerts: {label}: no severity label")
                if not (rule.get("annotations") or {}).get("summary"):
                    problems.append(f"alerts: {label}: no summary annotation")
                if "for" in rule and not re.fullmatch(r"\d+[smhd]", str(rule["for"])):
                    problems.append(f"alerts: {label}: bad 'for' {rule['for']!r}")
    if len(names) != len(set(names)):
        problems.append("alerts: duplicate alert names")
    exprs = " ".join(r.get("expr", "") for g in groups for r in g.get("rules") or [])
    for metric in (
        'up{job="australia-jobs"',
        'http_requests_total{status=~"5.."}',
        "http_request_duration_seconds_bucket",
        "aujobs_outbox_lag_seconds",
        "aujobs_bus_dead_lettered_total",
        'aujobs_events_consumed_total{outcome="failed"}',
        'aujobs_resume_parse_jobs_total{outcome="failed"}',
    ):
        if metric not in exprs:
            problems.append(f"alerts: nothing alerts on {metric}")
    return problems


def check_dashboard(dashboard: Resource) -> list[str]:
    problems = []
    for key in ("uid", "title", "panels", "schemaVersion"):
        if key not in dashboard:
            problems.append(f"dashboard: no {key}")
    ids = []
    exprs = []
    for panel in dashboard.get("panels") or []:
        ids.append(panel.get("id"))
        if "gridPos" not in panel:
            problems.append(f"dashboard panel {panel.get('title')}: no gridPos")
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"dashboard panel {panel.get('title')}: no targets")
        for target in targets:
            expr = target.get("expr", "")
            if not expr.strip() or not balanced(expr):
                problems.append(f"dashboard panel {panel.get('title')}: bad expr {expr!r}")
            exprs.append(expr)
    if len(ids) != len(set(ids)) or None in ids:
        problems.append("dashboard: panel ids missing or not unique")
    variables = {v["name"] for v in (dashboard.get("templating") or {}).get("list", [])}
    used = set(re.findall(r"\$(\w+)", " ".join(exprs))) - {
        "__rate_interval",
        "__range",
        "__interval",
    }
    if used - variables:
        problems.append(f"dashboard: undefined variables {sorted(used - variables)}")
    joined = " ".join(exprs)
    for metric in (
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "aujobs_events_published_total",
        "aujobs_events_consumed_total",
        "aujobs_outbox_lag_seconds",
        "aujobs_gateway_upstream_requests_total",
        "aujobs_gateway_rate_limited_total",
        "aujobs_applications_submitted_total",
        "aujobs_resume_parse_duration_seconds_bucket",
    ):
        if metric not in joined:
            problems.append(f"dashboard: no panel shows {metric}")
    for label in (
        "service",
        "route",
        "method",
        "status",
        "event_type",
        "consumer",
        "outcome",
        "upstream",
    ):
        if not re.search(rf"by \([^)]*\b{label}\b", joined):
            problems.append(f"dashboard: nothing is broken down by {label}")
    return problems


# =========================================================================== tests: renderer


def test_pinned_kubernetes_version_is_shipped_by_kubernetes_validate() -> None:
    assert KUBERNETES_VERSION in all_versions(), all_versions()


def test_configmap_hash_matches_kustomize() -> None:
    # vectors from kustomize's api/hasher/hasher_test.go
    assert kustomize.configmap_hash({"kind": "ConfigMap"}) == "6ct58987ht"
    assert kustomize.configmap_hash({"kind": "ConfigMap", "data": {"one": ""}}) == "9g67k2htb6"
    three = {"kind": "ConfigMap", "data": {"two": 2, "one": "", "three": 3}}
    assert kustomize.configmap_hash(three) == "7757f9kkct"
    both = {"kind": "ConfigMap", "data": {"one": ""}, "binaryData": {"two": ""}}
    assert kustomize.configmap_hash(both) == "698h7c7t9m"


def test_renderer_refuses_what_it_does_not_understand(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\npatches: []\n")
    with pytest.raises(kustomize.KustomizeError, match="unsupported"):
        kustomize.build(tmp_path)


def test_generated_configmaps_are_hashed_and_references_follow(base, production) -> None:
    for rendered in (base, production):
        names = set(by_kind(rendered, "ConfigMap"))
        assert any(re.fullmatch(r"aujobs-config-[a-z0-9]{10}", n) for n in names), names
        for where, _, pod in workloads(rendered):
            for container in pod["containers"]:
                for source in container.get("envFrom") or []:
                    assert source["configMapRef"]["name"] in names, where
    base_config = next(c for n, c in by_kind(base, "ConfigMap").items() if n.startswith("aujobs-config-"))
    prod_config = next(
        c for n, c in by_kind(production, "ConfigMap").items() if n.startswith("aujobs-config-")
    )
    # the overlay merged a key in: new content, new name, same base keys
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in prod_config["data"]
    assert base_config["data"].items() <= prod_config["data"].items()
    assert base_config["metadata"]["name"] != prod_config["metadata"]["name"]


# =========================================================================== tests: manifests


@pytest.mark.parametrize("tree", ["base", "production", "observability"])
def test_every_manifest_is_valid_kubernetes(tree: str, request) -> None:
    rendered = request.getfixturevalue(tree)
    assert rendered
    assert check_schemas(rendered) == []


@pytest.mark.parametrize("tree", ["base", "production"])
def test_platform_rules_hold(tree: str, request, required_secrets) -> None:
    rendered = request.getfixturevalue(tree)
    problems = (
        check_namespace(rendered)
        + check_services_complete(rendered)
        + check_probes(rendered)
        + check_hardening(rendered)
        + check_references(rendered, required_secrets)
        + check_wiring(rendered)
        + check_environment(rendered)
        + check_network_policies(rendered)
    )
    assert problems == []


def test_production_overlay_pins_images_and_sizes(production) -> None:
    deployments = by_kind(production, "Deployment")
    for _, _, pod in workloads(production):
        for container in pod["containers"]:
            name, tag, _ = kustomize.split_image(container["image"])
            assert name.startswith("registry.australiajobs.example/aujobs/"), container["image"]
            assert tag, container["image"]
    assert deployments["auth"]["spec"]["replicas"] == 3
    assert deployments["jobs"]["spec"]["replicas"] == 3


def test_required_secrets_are_documented_in_the_readme(required_secrets) -> None:
    readme = (DEPLOY / "README.md").read_text()
    for name in sorted({name for name, _ in required_secrets}):
        assert name in readme, f"deploy/README.md does not say how to create {name}"


# =========================================================================== tests: rules can fail


def _deployment(resources: list[Resource], name: str) -> Resource:
    return find(resources, "Deployment", name)


def _container(resources: list[Resource], name: str) -> Resource:
    return _deployment(resources, name)["spec"]["template"]["spec"]["containers"][0]


def _drop_probe(r):
    del _container(r, "jobs")["livenessProbe"]


def _drop_limits(r):
    del _container(r, "search")["resources"]["limits"]


def _run_as_root(r):
    pod = _deployment(r, "auth")["spec"]["template"]["spec"]
    pod["securityContext"]["runAsNonRoot"] = False


def _writable_root(r):
    _container(r, "gateway")["securityContext"]["readOnlyRootFilesystem"] = False


def _unknown_secret(r):
    _container(r, "jobs")["env"].append(
        {"name": "STRIPE_KEY", "valueFrom": {"secretKeyRef": {"name": "stripe", "key": "key"}}}
    )


def _unknown_configmap(r):
    _container(r, "jobs")["envFrom"].append({"configMapRef": {"name": "aujobs-config"}})


def _no_migration_job(r):
    r.remove(find(r, "Job", "search-migrate"))


def _no_service(r):
    r.remove(find(r, "Service", "jobs"))


def _no_ingress(r):
    r.remove(find(r, "Ingress", "gateway"))


def _ingress_exposes_everything(r):
    find(r, "Ingress", "gateway")["spec"]["rules"][0]["http"]["paths"][0]["path"] = "/"


def _jobs_open_to_ingress(r):
    policy = find(r, "NetworkPolicy", "jobs")
    policy["spec"]["ingress"].append(
        {
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": INGRESS_CONTROLLER_NAMESPACE}
                    }
                }
            ]
        }
    )


def _wrong_route(r):
    config = next(c for n, c in by_kind(r, "ConfigMap").items() if n.startswith("aujobs-gateway-config-"))
    config["data"]["GATEWAY_ROUTES"] = json.dumps(
        {
            "auth": "http://auth:8001",
            "jobs": "http://jobs:9999",
            "companies": "http://jobs:8002",
            "search": "http://search:8003",
            "notifications": "http://notifications:8004",
            "resumes": "http://resumes:8005",
            "applications": "http://applications:8006",
        }
    )


def _service_selector_typo(r):
    find(r, "Service", "auth")["spec"]["selector"]["app.kubernetes.io/name"] = "atuh"


def _replicas_under_hpa(r):
    _deployment(r, "gateway")["spec"]["replicas"] = 2


def _latest_image(r):
    _container(r, "auth")["image"] = "ghcr.io/australia-jobs/aujobs-auth:latest"


BREAKAGES = {
    "probe missing": (_drop_probe, "livenessProbe"),
    "limits missing": (_drop_limits, "resources.limits"),
    "runs as root": (_run_as_root, "runAsNonRoot"),
    "writable root": (_writable_root, "readOnlyRootFilesystem"),
    "undocumented secret": (_unknown_secret, "stripe"),
    "unhashed configmap name": (_unknown_configmap, "aujobs-config is not rendered"),
    "no migration job": (_no_migration_job, "search-migrate"),
    "no service": (_no_service, "jobs: no Service"),
    "no ingress": (_no_ingress, "no Ingress"),
    "ingress exposes /metrics": (_ingress_exposes_everything, "only the public API is routed"),
    "jobs reachable from ingress": (_jobs_open_to_ingress, "jobs: accepts traffic"),
    "route to a wrong port": (_wrong_route, "jobs:9999"),
    "selector typo": (_service_selector_typo, "Service/auth: selector"),
    "replicas fight the HPA": (_replicas_under_hpa, "sets replicas"),
    "latest image": (_latest_image, "not pinned"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_rules_catch_a_broken_manifest(breakage: str, base, required_secrets) -> None:
    mutate, expected = BREAKAGES[breakage]
    broken = copy.deepcopy(base)
    mutate(broken)
    problems = (
        check_services_complete(broken)
        + check_probes(broken)
        + check_hardening(broken)
        + check_references(broken, required_secrets)
        + check_wiring(broken)
        + check_network_policies(broken)
    )
    assert any(expected in p for p in problems), problems


def test_schema_validation_catches_a_typo(base) -> None:
    broken = copy.deepcopy(base)
    _container(broken, "auth")["readinessprobe"] = _container(broken, "auth").pop("readinessProbe")
    problems = check_schemas(broken)
    assert any("readinessprobe" in p for p in problems), problems
    # ... and a wrong type
    broken = copy.deepcopy(base)
    _container(broken, "auth")["ports"][0]["containerPort"] = "8001"
    assert check_schemas(broken)


# =========================================================================== tests: compose, Docker


def test_compose_runs_every_service_from_the_one_dockerfile(compose) -> None:
    assert check_compose(compose) == []


def test_compose_rules_can_fail(compose) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["jobs"]["build"] = {
        **broken["services"]["jobs"]["build"],
        "args": {"SERVICE": "search"},
    }
    del broken["services"]["search"]["healthcheck"]
    del broken["services"]["auth"]["depends_on"]["auth-migrate"]
    problems = check_compose(broken)
    assert any("jobs: build arg SERVICE" in p for p in problems), problems
    assert any("search: no healthcheck" in p for p in problems), problems
    assert any("auth: does not wait for auth-migrate" in p for p in problems), problems


def test_compose_databases_exist_in_the_init_script(compose) -> None:
    volumes = compose["services"]["postgres"]["volumes"]
    mounted = [v for v in volumes if "init-databases.sql" in v]
    assert mounted and "/docker-entrypoint-initdb.d/" in mounted[0]
    script = (REPO / mounted[0].split(":")[0]).read_text()
    for name in SERVICES_WITH_DATABASE:
        assert re.search(rf"CREATE DATABASE aujobs_{name}\b", script), name
        url = compose["services"][name]["environment"]["DATABASE_URL"]
        user, password = urlsplit(url).username, urlsplit(url).password
        assert re.search(rf"CREATE ROLE {user} LOGIN PASSWORD '{password}'", script), name


def test_dockerfile_builds_one_workspace_member_per_service() -> None:
    text = DOCKERFILE.read_text()
    instructions = [
        line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "ARG SERVICE" in instructions
    assert any(re.match(r"FROM python:\$\{PYTHON_VERSION\}-slim AS builder", i) for i in instructions)
    assert re.search(r"^ARG PYTHON_VERSION=3\.11$", text, re.M)
    assert re.search(r"^FROM ghcr\.io/astral-sh/uv:\$\{UV_VERSION\} AS uv$", text, re.M)
    syncs = re.findall(r"uv sync ([^\n]+)", text)
    assert len(syncs) == 2, syncs
    assert all("--frozen" in s and "--no-dev" in s and '--package "aujobs-${SERVICE}"' in s for s in syncs)
    assert "--no-install-workspace" in syncs[0] and "--no-install-workspace" not in syncs[1]
    assert text.count("--mount=type=cache,target=/root/.cache/uv") == 2
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and not user[-1].startswith(("root", "0"))
    assert re.search(r"^EXPOSE \$\{PORT\}$", text, re.M)
    assert "aujobs_${SERVICE}" in text and "serve --host 0.0.0.0 --port" in text
    ignored = (REPO / ".dockerignore").read_text().split()
    for path in (".venv", ".git", ".data", ".tools"):
        assert path in ignored, path


def test_workspace_members_match_the_dockerfile() -> None:
    """aujobs-<service> exists in the lockfile with module aujobs_<service>."""
    lock = (REPO / "uv.lock").read_text()
    for name in DEPLOYABLES:
        assert f'name = "aujobs-{name}"' in lock, name
        member = REPO / ("gateway" if name == "gateway" else f"services/{name}")
        assert (member / "src" / f"aujobs_{name}").is_dir(), member


# =========================================================================== tests: observability


def test_alert_rules_parse_and_cover_the_platform() -> None:
    document = yaml.safe_load((OBSERVABILITY / "prometheus" / "alerts.yaml").read_text())
    assert check_alert_rules(document) == []


def test_alert_rules_can_fail() -> None:
    document = yaml.safe_load((OBSERVABILITY / "prometheus" / "alerts.yaml").read_text())
    del document["spec"]["groups"][0]["rules"][0]["expr"]
    document["spec"]["groups"][1]["rules"][0]["expr"] = "sum(rate(x[5m])"
    problems = check_alert_rules(document)
    assert any("no expr" in p for p in problems), problems
    assert any("unbalanced" in p for p in problems), problems


def test_grafana_dashboard_loads_and_shows_the_platform_metrics() -> None:
    dashboard = json.loads((OBSERVABILITY / "grafana" / "dashboards" / "platform-overview.json").read_text())
    assert check_dashboard(dashboard) == []
    broken = copy.deepcopy(dashboard)
    broken["panels"] = [p for p in broken["panels"] if "outbox" not in json.dumps(p)]
    assert any("aujobs_outbox_lag_seconds" in p for p in check_dashboard(broken))


def test_observability_kustomization_ships_the_dashboard(observability) -> None:
    configmap = find(observability, "ConfigMap", "aujobs-grafana-dashboards")
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    shipped = json.loads(configmap["data"]["platform-overview.json"])
    assert shipped["uid"] == "aujobs-platform-overview"
    kinds = {(r["apiVersion"], r["kind"]) for r in observability}
    assert CUSTOM_KINDS <= kinds
    monitor = find(observability, "PodMonitor", "australia-jobs")
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [NAMESPACE]
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "http"
