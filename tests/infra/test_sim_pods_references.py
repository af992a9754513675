"""The pods custom resources imply, and the references check over pods and custom resources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.simulate import references
from infra.simulate.pods import pod_templates
from infra.simulate.references import Prerequisite


@dataclass(frozen=True)
class Origin:
    text: str = "program urn"

    def describe(self) -> str:
        return self.text


@dataclass(frozen=True)
class Obj:
    body: dict[str, Any]
    origin: Origin = Origin()


RUNTIME = {
    "apiVersion": "trainer.kubeflow.org/v1alpha1",
    "kind": "ClusterTrainingRuntime",
    "metadata": {"name": "torch"},
    "spec": {
        "template": {
            "spec": {
                "replicatedJobs": [
                    {
                        "name": "node",
                        "template": {
                            "spec": {
                                "template": {
                                    "metadata": {"labels": {"runtime": "torch"}},
                                    "spec": {
                                        "containers": [
                                            {
                                                "name": "node",
                                                "image": "runtime:1",
                                                "command": ["torchrun"],
                                            }
                                        ],
                                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                                        "imagePullSecrets": [{"name": "pull"}],
                                    },
                                }
                            }
                        },
                    }
                ]
            }
        }
    },
}
TRAINJOB = {
    "apiVersion": "trainer.kubeflow.org/v1alpha1",
    "kind": "TrainJob",
    "metadata": {
        "name": "train",
        "namespace": "team",
        "labels": {"kueue.x-k8s.io/queue-name": "default"},
    },
    "spec": {
        "runtimeRef": {"kind": "ClusterTrainingRuntime", "name": "torch"},
        "trainer": {"image": "job:2", "resourcesPerNode": {"limits": {"nvidia.com/gpu": "1"}}},
        "runtimePatches": [
            {
                "manager": "platform",
                "trainingRuntimeSpec": {
                    "template": {
                        "spec": {
                            "replicatedJobs": [
                                {
                                    "name": "node",
                                    "template": {
                                        "spec": {
                                            "template": {
                                                "spec": {
                                                    "serviceAccountName": "workloads",
                                                    "volumes": [
                                                        {
                                                            "name": "creds",
                                                            "secret": {"secretName": "store"},
                                                        }
                                                    ],
                                                }
                                            }
                                        }
                                    },
                                }
                            ]
                        }
                    }
                },
            }
        ],
    },
}


def test_a_trainjob_runs_its_runtime_pod_with_its_own_image_resources_and_patches() -> None:
    (pod,) = pod_templates([Obj(RUNTIME), Obj(TRAINJOB)])
    assert pod.namespace == "team" and pod.kind == "TrainJob"
    (container,) = pod.spec["containers"]
    assert container["image"] == "job:2" and container["command"] == ["torchrun"]
    assert container["resources"] == {"limits": {"nvidia.com/gpu": "1"}}
    assert [v["name"] for v in pod.spec["volumes"]] == ["tmp", "creds"]  # merged by name
    assert pod.spec["serviceAccountName"] == "workloads"
    assert "ClusterTrainingRuntime torch" in pod.describe()


def test_an_inference_service_runs_its_runtime_with_the_model_container() -> None:
    runtime = {
        "apiVersion": "serving.kserve.io/v1alpha1",
        "kind": "ClusterServingRuntime",
        "metadata": {"name": "rt"},
        "spec": {
            "containers": [{"name": "kserve-container", "image": "serve:1"}],
            "supportedModelFormats": [],
        },
    }
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "m", "namespace": "team"},
        "spec": {
            "predictor": {
                "serviceAccountName": "workloads",
                "model": {
                    "runtime": "rt",
                    "modelFormat": {"name": "mlflow"},
                    "env": [{"name": "A", "value": "1"}],
                },
            }
        },
    }
    (pod,) = pod_templates([Obj(runtime), Obj(isvc)])
    (container,) = pod.spec["containers"]
    assert container["image"] == "serve:1" and container["env"] == [{"name": "A", "value": "1"}]
    assert pod.spec["serviceAccountName"] == "workloads"
    assert pod.labels["serving.kserve.io/inferenceservice"] == "m"


def test_strimzi_pools_run_pods_with_the_restricted_provider_when_the_operator_says_so() -> None:
    kafka = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "Kafka",
        "metadata": {"name": "k", "namespace": "kafka"},
        "spec": {"kafka": {}},
    }
    pool = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaNodePool",
        "metadata": {
            "name": "brokers",
            "namespace": "kafka",
            "labels": {"strimzi.io/cluster": "k"},
        },
        "spec": {"roles": ["broker"], "resources": {"requests": {"cpu": "2"}}},
    }
    operator = {
        "kind": "Deployment",
        "metadata": {"name": "strimzi", "namespace": "kafka"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "o",
                            "env": [
                                {
                                    "name": "STRIMZI_POD_SECURITY_PROVIDER_CLASS",
                                    "value": "restricted",
                                }
                            ],
                        }
                    ]
                }
            }
        },
    }
    pods = pod_templates([Obj(kafka), Obj(pool), Obj(operator)])
    broker = next(p for p in pods if p.kind == "KafkaNodePool")
    assert broker.labels["strimzi.io/broker-role"] == "true"
    assert broker.spec["containers"][0]["securityContext"]["runAsNonRoot"] is True
    without_operator = next(
        p for p in pod_templates([Obj(kafka), Obj(pool)]) if p.kind == "KafkaNodePool"
    )
    assert without_operator.spec["containers"][0]["securityContext"] == {}


def namespace(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": labels or {}},
    }


def run_check(
    bodies: list[dict[str, Any]],
    prerequisites: list[Prerequisite] | None = None,
    target: str = "aws",
):
    objects = [Obj(b) for b in bodies]
    pods = pod_templates(objects)
    return references.check(
        [(o.body, o.origin.describe()) for o in objects], pods, target, prerequisites or []
    )


def deployment(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "team"},
        "spec": {"template": {"spec": spec}},
    }


def test_a_secret_nothing_provides_is_a_finding_naming_it_and_where() -> None:
    app = deployment(
        {
            "containers": [
                {
                    "name": "c",
                    "env": [
                        {"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}}
                    ],
                }
            ]
        }
    )
    run, _ = run_check([namespace("team"), app])
    assert run.status == "fail"
    (finding,) = run.findings
    assert finding.check == "SIM-REF-001"
    assert "Secret team/db (containers[c] env P)" in finding.message
    optional = deployment(
        {
            "containers": [
                {"name": "c", "envFrom": [{"secretRef": {"name": "db", "optional": True}}]}
            ]
        }
    )
    assert run_check([namespace("team"), optional])[0].status == "pass"


def test_what_operators_and_kubernetes_provide_counts() -> None:
    bundle = {
        "apiVersion": "trust.cert-manager.io/v1alpha1",
        "kind": "Bundle",
        "metadata": {"name": "ca-bundle"},
        "spec": {
            "sources": [{"secret": {"name": "root", "key": "ca.crt"}}],
            "target": {
                "configMap": {"key": "ca.crt"},
                "namespaceSelector": {"matchLabels": {"part-of": "p"}},
            },
        },
    }
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "tls", "namespace": "team"},
        "spec": {"secretName": "tls", "issuerRef": {"kind": "ClusterIssuer", "name": "ca"}},
    }
    issuer = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": "ca"},
        "spec": {"selfSigned": {}},
    }
    root = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "root", "namespace": "cert-manager"},
    }
    app = deployment(
        {
            "containers": [{"name": "c"}],
            "volumes": [
                {"name": "a", "configMap": {"name": "ca-bundle"}},
                {"name": "b", "secret": {"secretName": "tls"}},
                {"name": "c", "configMap": {"name": "kube-root-ca.crt"}},
            ],
        }
    )
    bodies = [
        namespace("team", {"part-of": "p"}),
        namespace("cert-manager"),
        bundle,
        certificate,
        issuer,
        root,
        app,
    ]
    run, _ = run_check(bodies)
    assert run.status == "pass", run.findings
    bodies.remove(issuer)
    assert "ClusterIssuer ca (spec.issuerRef)" in run_check(bodies)[0].findings[0].message


def test_a_declared_site_prerequisite_satisfies_the_reference_and_records_who_needs_it() -> None:
    app = deployment({"containers": [{"name": "c"}], "imagePullSecrets": [{"name": "harbor-pull"}]})
    declared = Prerequisite.from_contract(
        {
            "kind": "Secret",
            "name": "harbor-pull",
            "namespaces": ["team"],
            "purpose": "pull",
            "howToCreate": "kubectl create secret docker-registry …",
        }
    )
    run, used = run_check([namespace("team"), app], declared, target="onprem")
    assert run.status == "pass"
    assert [r.via for r in used[("Secret", "team", "harbor-pull")]] == ["imagePullSecrets"]


def test_storage_and_priority_classes_and_runtimes() -> None:
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "d", "namespace": "team"},
        "spec": {"storageClassName": "fast"},
    }
    app = deployment({"containers": [{"name": "c"}], "priorityClassName": "system-node-critical"})
    assert (
        run_check([namespace("team"), claim, app], target="azure")[0]
        .findings[0]
        .message.startswith("references StorageClass fast")
    )
    claim["spec"]["storageClassName"] = "managed-csi"  # built into AKS
    assert run_check([namespace("team"), claim, app], target="azure")[0].status == "pass"
    run, _ = run_check([namespace("team"), TRAINJOB])
    messages = " ".join(f.message for f in run.findings)
    assert "ClusterTrainingRuntime torch" in messages and "LocalQueue team/default" in messages


def test_pods_in_a_namespace_the_plan_does_not_create() -> None:
    run, _ = run_check([deployment({"containers": [{"name": "c"}]})])
    assert any("Namespace team" in f.message for f in run.findings)


def test_pods_pulling_from_the_mirror_need_its_pull_secret_on_the_pod_or_service_account() -> None:
    registry = references.Registry("harbor.example.ae/ml", "harbor-pull")
    app = deployment({"containers": [{"name": "c", "image": "harbor.example.ae/ml/app:1"}]})
    objects = [Obj(namespace("team")), Obj(app)]
    pods = pod_templates(objects)
    run, _ = references.check([(o.body, "urn") for o in objects], pods, "onprem", [], registry)
    assert "without its pull Secret harbor-pull" in run.findings[0].message
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": "team"},
        "imagePullSecrets": [{"name": "harbor-pull"}],
    }
    objects.append(Obj(account))
    with_account = [(o.body, "urn") for o in objects]
    declared = Prerequisite.from_contract(
        {"kind": "Secret", "name": "harbor-pull", "namespaces": ["team"]}
    )
    assert references.check(with_account, pods, "onprem", declared, registry)[0].status == "pass"
    public = references.Registry("elsewhere.example.ae", "harbor-pull")
    bare = [(o.body, "urn") for o in objects[:2]]
    assert references.check(bare, pods, "onprem", [], public)[0].status == "pass"
