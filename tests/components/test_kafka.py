"""Strimzi Kafka: KRaft, TLS only, SCRAM or mTLS, simple authorization, prefixed tenant access."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import rpc

from components import conventions as c
from components.api_server import ApiServer
from components.kafka import (
    CREDENTIALS_SECRET,
    PLATFORM_TOPICS,
    StrimziKafka,
    StrimziKafkaArgs,
    StrimziTenantAccess,
    StrimziTenantAccessArgs,
)
from infra.synth import manifests
from infra.synth.recording import unwrap
from tests.support.schemas import core_object_errors, custom_resource_errors, require_crds
from version_catalogue import CHARTS, IMAGES, KAFKA_VERSION

API = ApiServer(("10.10.0.11/32",))  # the API server's endpoint (components.api_server)

MIRROR = "harbor.dc1.example.ae/mlplatform"
LABELS = {
    "owner": "ml-platform-team",
    "residency": "uae",
    "app.kubernetes.io/part-of": "mlplatform",
}


def _synth(run_program, authentication: str, protect: bool = True):
    def program() -> None:
        opts = pulumi.ResourceOptions(provider=k8s.Provider("k8s", kubeconfig="{}"))
        kafka = StrimziKafka(
            "kafka",
            StrimziKafkaArgs(
                mirror=MIRROR,
                labels=LABELS,
                storage_class="encrypted-ssd",
                chart=CHARTS["strimzi"],
                operator_image=IMAGES["strimzi-operator"],
                kafka_version=KAFKA_VERSION,
                cluster_name="mlplatform",
                # None of these is the config model's default: each must reach the CRs as given.
                authentication=authentication,
                brokers=5,
                controllers=3,
                broker_storage_gi=250,
                controller_storage_gi=30,
                replication_factor=4,
                min_insync_replicas=3,
                retention_hours=72,
                partitions=12,
                pull_secret="harbor-pull",
                api_server=API,
                protect=protect,
            ),
            opts=opts,
        )
        StrimziTenantAccess(
            "kafka-risk",
            kafka,
            StrimziTenantAccessArgs("risk", "tenant-risk", ("transactions", "scores"), LABELS),
            opts=opts,
        )

    return run_program(program)


@pytest.fixture(params=["tls", "scram-sha-512"])
def synthesis(request, run_program):
    return request.param, _synth(run_program, request.param)


@pytest.fixture
def mtls(run_program):
    return _synth(run_program, "tls")


@pytest.fixture
def scram(run_program):
    return _synth(run_program, "scram-sha-512")


def _one(synthesis, kind, name):
    return next(
        r
        for r in synthesis.resources
        if r.type.endswith(f":{kind}") and (r.inputs.get("metadata") or {}).get("name") == name
    )


def test_only_tls_listeners_are_declared(synthesis):
    _, result = synthesis
    spec = _one(result, "Kafka", "mlplatform").inputs["spec"]["kafka"]
    assert spec["listeners"] and all(listener["tls"] is True for listener in spec["listeners"])
    (listener,) = spec["listeners"]
    assert listener["port"] == 9093 and listener["type"] == "internal"
    assert (
        listener["configuration"]["brokerCertChainAndKey"]["secretName"] == "mlplatform-kafka-tls"
    )
    assert spec["authorization"] == {"type": "simple"}
    assert spec["version"] == KAFKA_VERSION
    assert spec["config"]["auto.create.topics.enable"] is False
    assert spec["config"]["ssl.enabled.protocols"] == "TLSv1.3,TLSv1.2"


def test_replication_settings_come_from_args(synthesis):
    _, result = synthesis
    config = _one(result, "Kafka", "mlplatform").inputs["spec"]["kafka"]["config"]
    assert config["min.insync.replicas"] == 3 and config["default.replication.factor"] == 4
    assert config["offsets.topic.replication.factor"] == 4
    assert config["transaction.state.log.min.isr"] == 3
    assert config["log.retention.hours"] == 72 and config["num.partitions"] == 12


def test_mtls_listener_requires_client_certificates_from_the_kafka_clients_ca(mtls):
    spec = _one(mtls, "Kafka", "mlplatform").inputs["spec"]["kafka"]
    auth = spec["listeners"][0]["authentication"]
    assert auth["type"] == "custom" and auth["sasl"] is False
    assert auth["listenerConfig"]["ssl.client.auth"] == "required"
    volume = spec["template"]["pod"]["volumes"][0]
    assert volume["configMap"]["name"] == "mlplatform-kafka-clients-ca"
    mount = spec["template"]["kafkaContainer"]["volumeMounts"][0]
    assert auth["listenerConfig"]["ssl.truststore.location"].startswith(mount["mountPath"])
    bundle = _one(mtls, "Bundle", "mlplatform-kafka-clients-ca").inputs["spec"]["target"]
    assert bundle["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": c.NS_KAFKA}
    }


def test_kafka_namespace_denies_ingress_except_what_strimzi_allows(synthesis):
    _, result = synthesis
    deny = _one(result, "NetworkPolicy", "default-deny-ingress").inputs
    assert deny["metadata"]["namespace"] == c.NS_KAFKA
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    listener = _one(result, "Kafka", "mlplatform").inputs["spec"]["kafka"]["listeners"][0]
    assert listener["networkPolicyPeers"] == [
        {"namespaceSelector": {"matchLabels": {"app.kubernetes.io/part-of": "mlplatform"}}}
    ]


def test_scram_listener_uses_scram_sha_512(scram):
    spec = _one(scram, "Kafka", "mlplatform").inputs["spec"]["kafka"]
    assert spec["listeners"][0]["authentication"] == {"type": "scram-sha-512"}
    assert "template" not in spec


def test_kraft_node_pools_are_persistent_spread_and_protected(synthesis):
    _, result = synthesis
    pools = (("controllers", "controller", "30Gi", 3), ("brokers", "broker", "250Gi", 5))
    for pool, role, size, replicas in pools:
        resource = _one(result, "KafkaNodePool", pool)
        spec = resource.inputs["spec"]
        assert spec["roles"] == [role] and spec["replicas"] == replicas
        assert spec["storage"]["type"] == "persistent-claim" and spec["storage"]["size"] == size
        assert (
            spec["storage"]["class"] == "encrypted-ssd" and spec["storage"]["deleteClaim"] is False
        )
        spread = spec["template"]["pod"]["topologySpreadConstraints"][0]
        assert spread["topologyKey"] == "kubernetes.io/hostname"
        assert resource.inputs["metadata"]["labels"]["strimzi.io/cluster"] == "mlplatform"
        assert resource.options["protect"] is True
    assert _one(result, "Kafka", "mlplatform").options["protect"] is True


def test_nothing_is_protected_in_ephemeral_stacks(run_program):
    result = _synth(run_program, "tls", protect=False)
    assert not any(r.options["protect"] for r in result.resources)


def test_platform_topics_exist_with_configured_durability(synthesis):
    _, result = synthesis
    for topic in PLATFORM_TOPICS.values():
        resource = _one(result, "KafkaTopic", topic)
        spec = resource.inputs["spec"]
        assert spec["topicName"] == topic and spec["replicas"] == 4
        assert spec["partitions"] == 12
        assert spec["config"]["min.insync.replicas"] == "3"
        assert spec["config"]["retention.ms"] == str(72 * 3600 * 1000)
        assert resource.options["protect"] is True


def test_tenant_topics_are_prefixed_with_the_tenant(synthesis):
    _, result = synthesis
    for topic in ("risk.transactions", "risk.scores"):
        resource = _one(result, "KafkaTopic", topic)
        assert resource.inputs["metadata"]["namespace"] == c.NS_KAFKA
        assert resource.inputs["metadata"]["labels"]["strimzi.io/cluster"] == "mlplatform"


def test_tenant_acls_are_limited_to_its_prefix(synthesis):
    _, result = synthesis
    acls = _one(result, "KafkaUser", "tenant-risk").inputs["spec"]["authorization"]["acls"]
    prefixed = [a for a in acls if a["resource"]["patternType"] == "prefix"]
    assert {a["resource"]["type"] for a in prefixed} == {"topic", "group", "transactionalId"}
    assert all(a["resource"]["name"] == "risk." for a in prefixed)
    literal = [a for a in acls if a["resource"]["patternType"] == "literal"]
    assert {a["resource"]["name"] for a in literal} == set(PLATFORM_TOPICS.values())
    assert all(a["operations"] == ["Read", "Describe"] for a in literal)  # read-only (issue 13)
    assert not any(a["resource"].get("name") in ("*", "") for a in acls)
    assert not any("All" in a["operations"] for a in acls)


def test_scram_password_is_generated_secret_and_lands_in_the_tenant_namespace(scram):
    user = _one(scram, "KafkaUser", "tenant-risk").inputs["spec"]["authentication"]
    ref = user["password"]["valueFrom"]["secretKeyRef"]
    assert user["type"] == "scram-sha-512" and ref["key"] == "password"
    source = _one(scram, "Secret", ref["name"])
    assert source.inputs["metadata"]["namespace"] == c.NS_KAFKA
    tenant = _one(scram, "Secret", CREDENTIALS_SECRET)
    assert tenant.inputs["metadata"]["namespace"] == "tenant-risk"
    assert rpc.is_rpc_secret(tenant.inputs["stringData"])
    assert rpc.is_rpc_secret(source.inputs["stringData"])
    data = unwrap(tenant.inputs["stringData"])
    assert data["password"] == unwrap(source.inputs["stringData"])["password"]
    assert data["security.protocol"] == "SASL_SSL" and data["sasl.mechanism"] == "SCRAM-SHA-512"
    assert 'username="tenant-risk"' in data["sasl.jaas.config"]
    assert data["bootstrap.servers"] == "mlplatform-kafka-bootstrap.kafka.svc:9093"


def test_mtls_client_certificate_is_issued_into_the_tenant_namespace(mtls):
    user = _one(mtls, "KafkaUser", "tenant-risk").inputs["spec"]["authentication"]
    assert user == {"type": "tls-external"}
    cert = _one(mtls, "Certificate", CREDENTIALS_SECRET).inputs
    assert cert["metadata"]["namespace"] == "tenant-risk"
    assert cert["spec"]["commonName"] == "tenant-risk"
    assert cert["spec"]["usages"] == ["client auth", "digital signature"]
    assert cert["spec"]["issuerRef"]["name"] == "mlplatform-kafka-clients"
    assert not mtls.of_type("kubernetes:core/v1:Secret")  # nothing copied out of `kafka`


def test_operator_is_pinned_from_the_mirror_and_watches_only_kafka(synthesis):
    _, result = synthesis
    (release,) = result.of_type("kubernetes:helm.sh/v3:Release")
    assert release.inputs["chart"] == f"oci://{MIRROR}/charts/strimzi-kafka-operator"
    assert release.inputs["version"] == CHARTS["strimzi"].version == "1.2.0"
    values = release.inputs["values"]
    assert values["defaultImageRegistry"] == MIRROR
    assert f"{values['defaultImageRepository']}/operator" == IMAGES["strimzi-operator"].path
    assert values["watchAnyNamespace"] is False and values["watchNamespaces"] == []
    envs = {e["name"]: e["value"] for e in values["extraEnvs"]}
    assert envs["STRIMZI_POD_SECURITY_PROVIDER_CLASS"] == "restricted"


def test_inconsistent_replication_is_refused(run_program):
    def program() -> None:
        StrimziKafka(
            "kafka",
            StrimziKafkaArgs(
                mirror=MIRROR,
                labels=LABELS,
                storage_class="ssd",
                chart=CHARTS["strimzi"],
                operator_image=IMAGES["strimzi-operator"],
                kafka_version=KAFKA_VERSION,
                cluster_name="mlplatform",
                authentication="tls",
                brokers=3,
                controllers=3,
                broker_storage_gi=100,
                controller_storage_gi=20,
                replication_factor=2,
                min_insync_replicas=3,
                retention_hours=168,
                partitions=6,
                pull_secret=None,
                api_server=API,
            ),
        )

    with pytest.raises(Exception, match=r"min\.insync\.replicas"):
        run_program(program)


def test_every_object_validates(synthesis):
    require_crds()
    _, result = synthesis
    checked = 0
    for resource in result.resources:
        if not manifests.is_kubernetes_object(resource):
            continue
        obj = manifests.to_object(resource)
        group = obj["apiVersion"].split("/")[0]
        if group in ("kafka.strimzi.io", "cert-manager.io"):
            assert obj["apiVersion"] != "kafka.strimzi.io/v1beta2"
            assert custom_resource_errors(obj) == []
        elif group == "trust.cert-manager.io":
            continue  # not in the reference CRD set
        elif obj["kind"] == "Secret":
            # The rendering redacts secret stringData as a whole; validate the real shape.
            assert core_object_errors(manifests.prune(unwrap(resource.inputs)), "1.34") == []
        else:
            assert core_object_errors(obj, "1.34") == []
        checked += 1
    assert checked >= 10


def test_broker_and_controller_containers_have_a_read_only_root_filesystem(synthesis):
    _, result = synthesis
    for pool in ("controllers", "brokers"):
        spec = _one(result, "KafkaNodePool", pool).inputs["spec"]
        security = spec["template"]["kafkaContainer"]["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["runAsNonRoot"] is True and security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
