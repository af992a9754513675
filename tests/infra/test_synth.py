"""The synthesis harness records what a program declares, as the engine would see it."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import yaml

from infra.synth import manifests
from infra.synth.recording import SECRET, redact


def _program() -> None:
    provider = aws.Provider("aws", region="me-central-1")
    key = aws.kms.Key(
        "data",
        enable_key_rotation=True,
        opts=pulumi.ResourceOptions(provider=provider, protect=True),
    )
    kube = k8s.Provider("k8s", kubeconfig="{}")
    k8s.core.v1.Secret(
        "creds",
        metadata={"name": "creds", "namespace": "mlflow"},
        string_data={"password": pulumi.Output.secret("s3cret")},
        opts=pulumi.ResourceOptions(provider=kube),
    )
    k8s.core.v1.ConfigMap(
        "cm",
        metadata={"name": "settings", "namespace": "mlflow", "annotations": None},
        data={"keyArn": key.arn},
        opts=pulumi.ResourceOptions(provider=kube),
    )
    pulumi.export("keyArn", key.arn)
    pulumi.export("password", pulumi.Output.secret("s3cret"))
    pulumi.export("target", pulumi.Config("mlplatform").require("target"))


def test_records_resources_with_provider_parent_and_options(run_program):
    synthesis = run_program(_program, {"mlplatform:target": "onprem"})
    (key,) = synthesis.of_type("aws:kms/key:Key")
    (provider,) = synthesis.of_type("pulumi:providers:aws")
    assert key.inputs == {"enableKeyRotation": True}
    assert key.options["protect"] is True
    assert key.provider.startswith(provider.urn + "::")
    assert provider.inputs["region"] == "me-central-1"
    assert key.parent.endswith("pulumi:pulumi:Stack::mlplatform-test")


def test_computed_values_are_realistic_and_flow_into_dependents(run_program):
    synthesis = run_program(_program, {"mlplatform:target": "onprem"})
    arn = synthesis.outputs["keyArn"]
    assert arn.startswith("arn:aws:kms:me-central-1:111122223333:key/")
    (cm,) = synthesis.of_type("kubernetes:core/v1:ConfigMap")
    assert cm.inputs["data"]["keyArn"] == arn


def test_config_reaches_the_program_and_exports_are_captured(run_program):
    synthesis = run_program(_program, {"mlplatform:target": "cloud"})
    assert synthesis.outputs["target"] == "cloud"
    assert synthesis.secret_outputs == ["password"]
    assert redact(synthesis.outputs)["password"] == SECRET


def test_runs_are_isolated(run_program):
    first = run_program(_program, {"mlplatform:target": "onprem"})
    second = run_program(_program, {"mlplatform:target": "onprem"})
    assert len(first.resources) == len(second.resources) == 5
    assert sorted(r.urn for r in first.resources) == sorted(r.urn for r in second.resources)


def test_manifests_drop_nulls_and_never_contain_secret_values(run_program, tmp_path):
    synthesis = run_program(_program, {"mlplatform:target": "onprem"})
    written = manifests.write(synthesis.resources, tmp_path)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert names == ["mlflow/configmap-settings.yaml", "mlflow/secret-creds.yaml"]
    secret = (tmp_path / "mlflow/secret-creds.yaml").read_text()
    assert "s3cret" not in secret and SECRET in secret
    configmap = (tmp_path / "mlflow/configmap-settings.yaml").read_text()
    assert "annotations" not in configmap
    assert configmap.startswith("apiVersion: v1\nkind: ConfigMap\nmetadata:")


def test_manifests_read_back_as_the_objects_written(tmp_path):
    """libyaml's emitter writes them (issue 17); long quoted text is folded, never changed."""
    assert manifests.DUMPER is yaml.CSafeDumper  # the pinned PyYAML wheel has libyaml
    document = json.dumps({"rules": [{"name": f"tenant-{i}", "verbs": ["get"]} for i in range(40)]})
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "long", "namespace": "ns", "labels": {"a": "true", "b": "0123"}},
        "data": {"doc.json": json.dumps(document, indent=2), "tab": "a\tb \u00e9 \\ 'q'"},
    }
    text = manifests.yaml_text(obj)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert yaml.safe_load(text) == obj
    assert list(yaml.safe_load(text)) == ["apiVersion", "kind", "metadata", "data"]


def test_a_secret_map_keeps_its_keys_and_hides_every_value():
    from pulumi.runtime import rpc

    wrapped = {rpc._special_sig_key: rpc._special_secret_sig, "value": {"user": "a", "pw": ["b"]}}
    assert redact({"stringData": wrapped}) == {"stringData": {"user": SECRET, "pw": [SECRET]}}


def test_prune_keeps_empty_selectors_and_restores_integers():
    obj = {"spec": {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}}
    assert manifests.prune(obj) == obj
    assert manifests.prune({"runAsUser": 10001.0, "weight": 0.5, "x": None}) == {
        "runAsUser": 10001,
        "weight": 0.5,
    }
