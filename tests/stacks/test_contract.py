"""The tenant contract: every shipped stack/variant exports a document valid against the schema."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
import yaml

from infra.plan import VARIANTS
from infra.synth.recording import unwrap
from stacks.contract import CONTRACT_VERSION, schema


def _contract(stack_plan, variant) -> dict[str, Any]:
    try:
        result = stack_plan(variant.stack, *variant.overrides)
    except NotImplementedError as missing:  # a target/Kafka kind still being built
        pytest.skip(f"{variant.name} does not synthesize yet: {missing}")
    return unwrap(result.synthesis.outputs)


@pytest.fixture(params=VARIANTS, ids=[v.name for v in VARIANTS])
def contract(request, stack_plan) -> dict[str, Any]:
    return _contract(stack_plan, request.param)


def test_outputs_validate_against_the_published_schema(contract):
    jsonschema.Draft202012Validator.check_schema(schema())
    errors = sorted(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema()).iter_errors(contract)
    )
    assert errors == []
    assert contract["contract_version"] == CONTRACT_VERSION


def test_every_tenant_gets_https_mlflow_and_a_secret_free_feast_client(contract):
    assert contract["tenants"], "the shipped stacks define tenants"
    for name, tenant in contract["tenants"].items():
        assert tenant["mlflow"]["trackingUri"].startswith("https://")
        assert tenant["mlflow"]["experimentPrefix"] == f"{name}/"
        feast = tenant["feast"]
        assert feast["featureServer"].startswith("https://")
        client = yaml.safe_load(feast["featureStoreYaml"])
        assert client["project"] == feast["project"]
        assert client["registry"]["registry_type"] == "remote" and client["registry"]["is_tls"]
        assert client["online_store"] == feast["onlineStore"]
        # its own project and online server; offline data read with its own identity (1.2)
        assert feast["project"] == f"tenant_{name.replace('-', '_')}"
        assert f"feast-online-{name}." in feast["featureServer"]
        assert client["offline_store"] == {"type": "dask"}
        assert str(feast["offlineDataUri"]).endswith(f"/{name}")
        assert client["auth"] == {"type": "kubernetes"}
        text = feast["featureStoreYaml"]
        assert "password" not in text and "postgresql" not in text
        assert "{name}" in tenant["kserve"]["hostPattern"]
        assert tenant["namespace"] in tenant["kserve"]["hostPattern"]


def test_the_platform_section_omits_the_per_tenant_client_file(contract):
    feast = contract["platform"]["feast"]
    assert "featureStoreYaml" not in feast
    assert feast["featureServer"].startswith("https://")
    assert contract["platform"]["mlflow"]["trackingUri"].startswith("https://")


def test_sample_tenant_lists_its_workloads(stack_plan):
    result = stack_plan("uae-onprem")
    sample = result.config.sample_workloads
    tenants = unwrap(result.synthesis.outputs)["tenants"]
    workloads = tenants[sample.tenant]["sampleWorkloads"]
    assert workloads["trainJob"] == f"{sample.model_name}-train"
    assert workloads["inferenceService"] == sample.model_name
    assert workloads["modelUri"] == f"models:/{sample.model_name}@champion"
    assert workloads["host"].endswith(f".tenant-{sample.tenant}.svc.cluster.local")
    others = [t for name, t in tenants.items() if name != sample.tenant]
    assert all("sampleWorkloads" not in t for t in others)


def test_schema_rejects_a_plain_http_tracking_uri(stack_plan):
    """The validation above can fail: an http MLflow URI breaks the contract."""
    contract = copy.deepcopy(_contract(stack_plan, VARIANTS[0]))
    tenant = next(iter(contract["tenants"].values()))
    tenant["mlflow"]["trackingUri"] = "http://mlflow.mlflow.svc.cluster.local"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(contract, schema(), cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    ("variant", "break_cluster", "error"),
    [
        ("uae-onprem", lambda c: c.update(sshKey="x"), "sshKey"),
        ("uae-onprem", lambda c: c.update(keyProvider="kms"), "kms"),
        ("uae-cloud", lambda c: c.pop("workload_roles"), "workload_roles"),
        ("uae-cloud-msk", lambda c: c["kafka_egress"].update(port=0), "0"),
        ("uae-cloud-azure", lambda c: c.update(storageRedundancy="Standard_GRS"), "GRS"),
        ("uae-cloud-azure-eventhubs", lambda c: c.update(kafkaTenantTopics={}), "kafkaTenant"),
    ],
)
def test_schema_types_stack_cluster_per_platform(stack_plan, variant, break_cluster, error):
    """`stack.cluster` is typed by `stack.platform`: a key too many, one missing or a value
    outside its type breaks the contract (it was a bare `object`)."""
    (chosen,) = [v for v in VARIANTS if v.name == variant]
    contract = copy.deepcopy(_contract(stack_plan, chosen))
    validator = jsonschema.Draft202012Validator(schema())
    assert not list(validator.iter_errors(contract))
    break_cluster(contract["stack"]["cluster"])
    messages = [e.message for e in validator.iter_errors(contract)]
    assert messages and any(error in m for m in messages), messages


def test_each_tenant_reads_its_own_document_and_no_other_tenants(stack_plan):
    """`tenant-<name>` and the ConfigMap in its namespace carry its block and nobody else's."""
    from infra.synth import manifests
    from stacks.contract import TENANT_CONFIG_KEY, TENANT_CONFIG_MAP

    result = stack_plan("uae-onprem")
    outputs = unwrap(result.synthesis.outputs)
    names = set(outputs["tenants"])
    assert len(names) >= 2, "the shipped stack defines several tenants"
    maps = {
        obj["metadata"]["namespace"]: obj
        for r in result.synthesis.resources
        if manifests.is_kubernetes_object(r)
        for obj in [manifests.to_object(r)]
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == TENANT_CONFIG_MAP
    }
    for name in names:
        own = outputs[f"tenant-{name}"]
        assert own["tenant"] == outputs["tenants"][name]
        assert own["platform"] == outputs["platform"]
        assert own["contract_version"] == CONTRACT_VERSION
        assert set(own["stack"]) <= set(outputs["stack"]) and "cluster" not in own["stack"]
        namespace = own["tenant"]["namespace"]
        text = maps[namespace]["data"][TENANT_CONFIG_KEY]
        assert _without_nulls(yaml.safe_load(text)) == own  # outputs drop unset (None) keys
        for other in names - {name}:
            assert f"tenant-{other}" not in text and f'"{other}.' not in text, (name, other)
    assert set(maps) == {f"tenant-{n}" for n in names}


def test_schema_rejects_another_tenants_block_in_a_tenant_document(stack_plan):
    outputs = unwrap(stack_plan("uae-onprem").synthesis.outputs)
    broken = copy.deepcopy(outputs)
    broken["tenant-risk"]["tenants"] = outputs["tenants"]
    errors = list(jsonschema.Draft202012Validator(schema()).iter_errors(broken))
    assert any("tenants" in e.message for e in errors), [e.message for e in errors]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
