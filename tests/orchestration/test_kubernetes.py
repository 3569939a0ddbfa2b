"""deploy/kubernetes/ and the env files: valid Kubernetes objects, and every variable a setting.

Each document is validated against the Kubernetes API's own schemas (kubernetes-validate ships
them, strict: unknown fields are errors); every STRIDES_* name must be a field of strides'
Settings and every PREFECT_* name one of Prefect's settings, so a typo cannot go unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib.util import find_spec
from typing import Any

import pytest
import yaml

from strides.config import Settings
from tests.conftest import ROOT
from tests.tools import require

KUBERNETES = ROOT / "deploy" / "kubernetes"
DOCUMENTS = [
    (path.name, document)
    for path in sorted(KUBERNETES.glob("*.yaml"))
    for document in yaml.safe_load_all(path.read_text())
    if document
]
WORKLOADS = ("Deployment", "StatefulSet", "Job")
KUBERNETES_VERSION = "1.33.0"


def named(kind: str, name: str) -> dict[str, Any]:
    found = [d for _, d in DOCUMENTS if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"one {kind} {name!r} expected, found {len(found)}"
    return found[0]


def containers() -> Iterator[tuple[str, dict[str, Any]]]:
    """strides' and Prefect's containers (PostgreSQL's image has its own variables)."""
    for _, document in DOCUMENTS:
        if document["kind"] in WORKLOADS:
            for container in document["spec"]["template"]["spec"]["containers"]:
                if "strides" in container["image"] or "prefect" in container["image"]:
                    yield document["metadata"]["name"], container


def environment(container: dict[str, Any]) -> dict[str, str]:
    """The variables a container gets: its ConfigMaps' and Secrets' keys, then its own env."""
    found: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            found.update(named("ConfigMap", source["configMapRef"]["name"])["data"])
        else:
            found.update(named("Secret", source["secretRef"]["name"])["stringData"])
    found.update({e["name"]: e.get("value", "") for e in container.get("env", [])})
    return found


def strides_setting(name: str) -> bool:
    return name.removeprefix("STRIDES_").lower() in Settings.model_fields


def prefect_setting(name: str) -> bool:
    import prefect.settings

    return hasattr(prefect.settings, name)


def check_names(names: list[str]) -> list[str]:
    """The names that are neither a strides nor a Prefect setting (nor a known outside one)."""
    outside = {"DO_NOT_TRACK", "PGDATA"}
    return [
        name
        for name in names
        if not (
            name in outside
            or (name.startswith("STRIDES_") and strides_setting(name))
            or (name.startswith("PREFECT_") and prefect_setting(name))
        )
    ]


@pytest.mark.parametrize(("file", "document"), DOCUMENTS, ids=lambda v: v if isinstance(v, str) else "")
def test_every_document_is_a_valid_kubernetes_object(file: str, document: dict[str, Any]):
    require(
        find_spec("kubernetes_validate"), "kubernetes-validate is not installed (the dev extra brings it)"
    )
    import kubernetes_validate

    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{file}: {document['kind']} {document['metadata']['name']}: {exc.message} at {exc.path}")
    if document["kind"] != "Namespace":
        assert document["metadata"]["namespace"] == "strides", file


def test_the_manifest_holds_every_part_of_the_production_topology():
    kinds = {(d["kind"], d["metadata"]["name"]) for _, d in DOCUMENTS}
    assert {
        ("Namespace", "strides"),
        ("StatefulSet", "postgres"),
        ("Service", "postgres"),
        ("Deployment", "prefect-server"),
        ("Service", "prefect-server"),
        ("Job", "strides-setup"),
        ("Deployment", "strides-worker"),
        ("Deployment", "strides-listen"),
        ("Deployment", "strides-http"),
        ("Service", "strides-http"),
    } <= kinds
    assert named("Deployment", "strides-worker")["spec"]["replicas"] >= 2
    # One listener: it handles events in order and catches up after a restart.
    listener = named("Deployment", "strides-listen")
    assert listener["spec"]["replicas"] == 1
    assert listener["spec"]["template"]["spec"]["containers"][0]["command"] == ["strides", "listen"]


def test_services_select_pods_that_exist_and_ports_they_name():
    for _, service in DOCUMENTS:
        if service["kind"] != "Service":
            continue
        workload = next(
            d
            for _, d in DOCUMENTS
            if d["kind"] in WORKLOADS
            and service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        )
        ports = {p["name"] for c in workload["spec"]["template"]["spec"]["containers"] for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports, service["metadata"]["name"]


def test_every_variable_given_to_a_container_is_a_strides_or_prefect_setting():
    assert len(list(containers())) == 5
    for name, container in containers():
        assert check_names(sorted(environment(container))) == [], name


def test_each_part_gets_what_it_needs():
    server = environment(named("Deployment", "prefect-server")["spec"]["template"]["spec"]["containers"][0])
    assert server["PREFECT_API_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://")
    for workload in ("strides-worker", "strides-listen", "strides-http", "strides-setup"):
        kind = "Job" if workload == "strides-setup" else "Deployment"
        env = environment(named(kind, workload)["spec"]["template"]["spec"]["containers"][0])
        assert env["PREFECT_API_URL"] == "http://prefect-server.strides.svc:4200/api", workload
        assert env["STRIDES_DATABASE_URL"].startswith("postgresql+psycopg://"), workload
        # What the settings would make of this environment is valid (types, not just names).
        values = {k.removeprefix("STRIDES_").lower(): v for k, v in env.items() if k.startswith("STRIDES_")}
        assert Settings.model_validate(values).database_url == env["STRIDES_DATABASE_URL"]
    assert "STRIDES_HR_SECRET" in environment(
        named("Deployment", "strides-http")["spec"]["template"]["spec"]["containers"][0]
    )


def test_workers_pull_from_the_work_pool_prefect_yaml_deploys_to():
    declared = yaml.safe_load((ROOT / "deploy" / "prefect.yaml").read_text())
    pools = {d["work_pool"]["name"] for d in declared["deployments"]}
    command = named("Deployment", "strides-worker")["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:3] == ["prefect", "worker", "start"]
    assert {command[command.index("--pool") + 1]} == pools
    assert command[command.index("--type") + 1] == "process"
    setup = " ".join(named("Job", "strides-setup")["spec"]["template"]["spec"]["containers"][0]["args"])
    assert f"prefect work-pool create {pools.pop()} --type process" in setup
    assert "--prefect-file deploy/prefect.yaml" in setup


@pytest.mark.parametrize("name", ["strides.env", "prefect-server.env"])
def test_the_systemd_env_files_name_only_settings_too(name: str):
    lines = (ROOT / "deploy" / name).read_text().splitlines()
    names = [line.split("=", 1)[0].lstrip("# ").strip() for line in lines if "=" in line]
    names = [n for n in names if n.isupper()]
    assert names and check_names(names) == []
