"""Targets of the deployed suite: discovered once per run from the stack outputs and kubectl.

Every parametrised case is a `Case`: a testinfra host URL to check, or the reason it cannot be
checked. Unconfigured (no MLP_VERIFY_OUTPUTS) every case skips and says how to configure it;
configured, a service without running pods or a kubectl error is a failure, never a skip, so a
broken deployment cannot pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import pytest

from infra.verify.contract import (
    ContractError,
    Endpoint,
    Expectations,
    PodTarget,
    expectations,
    load_outputs,
)
from infra.verify.discovery import (
    GpuNode,
    Kubectl,
    KubectlError,
    Pod,
    VerifySettings,
    kubectl_url,
    ssh_url,
)

UNCONFIGURED = (
    "no deployed stack to verify: run `mlplatform verify --stack NAME --outputs FILE` "
    "(or set MLP_VERIFY_OUTPUTS and, as needed, MLP_VERIFY_KUBE_CONTEXT)"
)


@dataclass(frozen=True)
class Case:
    id: str
    url: str | None = None
    skip: str | None = None
    fail: str | None = None
    target: PodTarget | None = None
    pods: tuple[Pod, ...] = ()
    endpoint: Endpoint | None = None
    nodes: tuple[GpuNode, ...] = ()
    expected: Expectations | None = None


@dataclass
class Discovery:
    settings: VerifySettings
    expected: Expectations | None = None
    context: str | None = None
    problem: str | None = None  # skip reason (unconfigured) or failure (broken)
    broken: bool = False
    pods: dict[str, list[Pod] | str] = field(default_factory=dict)  # service → pods or error
    nodes: list[GpuNode] | str = field(default_factory=list)

    def url(self, target: PodTarget, pod: Pod) -> str:
        return kubectl_url(
            pod.name, target.namespace, target.container, self.context, self.settings.kubeconfig
        )

    def blocked(self, case_id: str) -> Case | None:
        if self.problem is None:
            return None
        if self.broken:
            return Case(case_id, fail=self.problem)
        return Case(case_id, skip=self.problem)


@cache
def discover() -> Discovery:
    settings = VerifySettings.from_env()
    found = Discovery(settings)
    if settings.outputs is None:
        found.problem = UNCONFIGURED
        return found
    try:
        found.expected = expectations(load_outputs(settings.outputs))
    except ContractError as error:
        found.problem, found.broken = str(error), True
        return found
    found.context = settings.kube_context or found.expected.kube_context
    kubectl = Kubectl(found.context, settings.kubeconfig)
    for target in found.expected.services:
        try:
            found.pods[target.service] = kubectl.running_pods(target)
        except KubectlError as error:
            found.pods[target.service] = str(error)
    try:
        found.nodes = kubectl.gpu_nodes(found.expected.gpu_pools)
    except KubectlError as error:
        found.nodes = str(error)
    return found


def _pods(found: Discovery, target: PodTarget) -> list[Pod] | Case:
    pods = found.pods[target.service]
    if isinstance(pods, str):
        return Case(target.service, fail=pods)
    if not pods:
        where = f"namespace {target.namespace}" + (
            f", context {found.context}" if found.context else ""
        )
        return Case(
            target.service,
            fail=f"{target.service}: no running pod matches {target.label_selector} in {where}",
        )
    return pods


def pod_cases(found: Discovery, only_health: bool = False) -> list[Case]:
    blocked = found.blocked("platform-pods")
    if blocked or found.expected is None:
        return [blocked or Case("platform-pods", skip=UNCONFIGURED)]
    cases = []
    for target in found.expected.services:
        if only_health and target.health is None:
            continue
        pods = _pods(found, target)
        if isinstance(pods, Case):
            cases.append(pods)
            continue
        cases += [
            Case(f"{target.service}/{p.name}", url=found.url(target, p), target=target, pods=(p,))
            for p in pods
        ]
    return cases


def service_cases(found: Discovery) -> list[Case]:
    blocked = found.blocked("platform-services")
    if blocked or found.expected is None:
        return [blocked or Case("platform-services", skip=UNCONFIGURED)]
    cases = []
    for target in found.expected.services:
        pods = _pods(found, target)
        cases.append(
            pods
            if isinstance(pods, Case)
            else Case(target.service, target=target, pods=tuple(pods))
        )
    return cases


def probe_cases(found: Discovery) -> list[Case]:
    blocked = found.blocked("tenant-access")
    if blocked or found.expected is None:
        return [blocked or Case("tenant-access", skip=UNCONFIGURED)]
    if not found.expected.probes:
        return [
            Case(
                "tenant-access",
                skip="the contract declares no sample workloads: no tenant pod to probe from",
            )
        ]
    target = found.expected.probes[0]
    pods = _pods(found, target)
    if isinstance(pods, Case):
        return [pods]
    return [
        Case(
            f"{target.namespace}->{endpoint.name}",
            url=found.url(target, pods[0]),
            target=target,
            endpoint=endpoint,
        )
        for endpoint in found.expected.endpoints
    ]


def node_cases(found: Discovery, over_ssh: bool) -> list[Case]:
    blocked = found.blocked("gpu-nodes")
    if blocked or found.expected is None:
        return [blocked or Case("gpu-nodes", skip=UNCONFIGURED)]
    pools = found.expected.gpu_pools
    if not pools:
        return [Case("gpu-nodes", skip="the contract declares no GPU pools")]
    if isinstance(found.nodes, str):
        return [Case("gpu-nodes", fail=found.nodes)]
    if not over_ssh:
        return [
            Case(
                f"pool-{pool}",
                nodes=tuple(n for n in found.nodes if n.pool == pool),
                expected=found.expected,
            )
            for pool in pools
        ]
    if found.settings.skip_nodes:
        return [Case("gpu-nodes", skip="--skip-nodes given: no SSH checks on GPU nodes")]
    if not found.nodes:
        return [Case("gpu-nodes", fail=f"no node is labelled with a GPU pool of {list(pools)}")]
    return [
        Case(
            n.name,
            url=ssh_url(n.name, found.settings.ssh_config, found.settings.ssh_identity),
            nodes=(n,),
            expected=found.expected,
        )
        for n in found.nodes
    ]


_CASES = {
    "service_pod": lambda found: pod_cases(found),
    "health_pod": lambda found: pod_cases(found, only_health=True),
    "platform_service": service_cases,
    "tenant_probe": probe_cases,
    "gpu_pool": lambda found: node_cases(found, over_ssh=False),
    "gpu_node": lambda found: node_cases(found, over_ssh=True),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name, cases_of in _CASES.items():
        if name in metafunc.fixturenames:
            cases = cases_of(discover())
            metafunc.parametrize(name, cases, ids=[c.id for c in cases], indirect=True)


def _resolve(request: pytest.FixtureRequest) -> Case:
    case: Case = request.param
    if case.skip:
        pytest.skip(case.skip)
    if case.fail:
        pytest.fail(case.fail, pytrace=False)
    return case


@pytest.fixture
def service_pod(request: pytest.FixtureRequest) -> Case:
    return _resolve(request)


@pytest.fixture
def health_pod(request: pytest.FixtureRequest) -> Case:
    return _resolve(request)


@pytest.fixture
def platform_service(request: pytest.FixtureRequest) -> Case:
    return _resolve(request)


@pytest.fixture
def tenant_probe(request: pytest.FixtureRequest) -> Case:
    return _resolve(request)


@pytest.fixture
def gpu_pool(request: pytest.FixtureRequest) -> Case:
    return _resolve(request)


@pytest.fixture
def gpu_node(request: pytest.FixtureRequest) -> Case:
    return _resolve(request)
