"""deploy/prefect.yaml declares what `strides serve` serves, in a form Prefect accepts."""

from __future__ import annotations

import importlib

import pytest
import yaml

from strides.flows.deployments import SPECS
from tests.conftest import ROOT

PREFECT_YAML = ROOT / "deploy" / "prefect.yaml"


@pytest.fixture(scope="module")
def declared() -> dict[str, dict]:
    document = yaml.safe_load(PREFECT_YAML.read_text())
    return {d["name"]: d for d in document["deployments"]}


def test_prefect_yaml_declares_every_served_deployment_and_nothing_else(declared):
    assert sorted(declared) == sorted(spec.name for spec in SPECS)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_each_declared_deployment_matches_what_serve_builds(declared, spec):
    entry = declared[spec.name]
    assert entry["entrypoint"] == spec.entrypoint
    assert entry["work_pool"]["name"] == "strides"
    assert entry.get("concurrency_limit") == spec.concurrency_limit
    assert [s["cron"] for s in entry.get("schedules", [])] == ([spec.cron] if spec.cron else [])
    # The same triggers, disabled: in production `strides listen` reacts to the events instead.
    assert [
        {k: v for k, v in t.items() if k not in ("type", "enabled")} for t in entry.get("triggers", [])
    ] == [{k: v for k, v in t.items() if k != "enabled"} for t in spec.triggers]
    assert all(t["enabled"] is False for t in entry.get("triggers", []))
    path, function = spec.entrypoint.split(":")
    assert (ROOT / path).is_file()
    flow = getattr(importlib.import_module(spec.module), function)
    assert flow.name == spec.name or spec.name == "on-event"


@pytest.mark.parametrize("spec", [s for s in SPECS if s.triggers], ids=lambda s: s.name)
def test_event_triggers_are_valid_prefect_triggers_on_strides_resources(spec):
    from prefect.events import DeploymentEventTrigger

    for raw in spec.triggers:
        trigger = DeploymentEventTrigger(**raw)
        assert all(name.startswith("strides.") for name in trigger.expect)
        for pattern in trigger.match.get("prefect.resource.id"):
            assert pattern.startswith(("strides.goal.", "strides.person."))
