"""Running the real program in-process under the Pulumi SDK's mocks, recording what it declares.

`synthesize` configures the runtime with a mock monitor that records every RegisterResource
request (type, name, parent, provider, inputs and the options policies care about) and the stack
outputs, then runs the program inside a fresh root stack and waits for every RPC and output to
settle, so nothing is asserted on a half-registered graph.

`preview=True` runs it as a first `pulumi preview` sees it (the SDK's preview mode): a resource
being created echoes its inputs and nothing else, so every ID, ARN and other computed output is
unknown, and so is every input derived from one (`policies.preview.MARKER` in the record).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime import stack as runtime_stack

from infra.synth.computed import CloudIdentity, computed_call, computed_state
from policies.preview import MARKER as UNKNOWN

SECRET = "[secret]"


@dataclass
class Resource:
    """One registered resource as the engine would see it."""

    urn: str
    type: str
    name: str
    parent: str | None
    provider: str | None
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "provider": self.provider,
            "custom": self.custom,
            "id": self.id,
            "options": self.options,
            "inputs": redact(self.inputs),
        }


@dataclass
class Synthesis:
    stack: str
    resources: list[Resource]
    outputs: dict[str, Any]
    secret_outputs: list[str]

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def by_urn(self) -> dict[str, Resource]:
        return {r.urn: r for r in self.resources}


def redact(value: Any) -> Any:
    """Replace Pulumi secrets by a marker, recursively (nothing secret reaches a file).

    A secret map keeps its keys (a Secret's `stringData` stays a map of key → marker, so the
    rendered object is still a valid Kubernetes object); every value inside is hidden.
    """
    if rpc.is_rpc_secret(value):
        return _hide(unwrap(value))
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _hide(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _hide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v) for v in value]
    return SECRET


def unwrap(value: Any) -> Any:
    """Unwrap Pulumi secret markers, recursively (for in-memory checks only)."""
    if rpc.is_rpc_secret(value):
        return unwrap(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


class PlatformMocks(pulumi.runtime.Mocks):
    def __init__(self, identity: CloudIdentity):
        self.identity = identity

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        return computed_state(args.typ, args.name, unwrap(args.inputs), self.identity)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            acct = self.identity.aws_account_id
            return {"accountId": acct, "arn": f"arn:aws:iam::{acct}:root", "userId": acct}, None
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com"}, None
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.identity.aws_region, "region": self.identity.aws_region}, None
        result = computed_call(args.token, unwrap(args.args), self.identity)
        if result is not None:
            return result, []  # the mock monitor iterates the failures list
        return {}, []


class PreviewMocks(PlatformMocks):
    """A first preview: a created resource's state is its inputs; ID and computed outputs are
    unknown (what the engine returns for a create it has not run).

    Where a provider's output differs in shape from its input, the input is not echoed (it stays
    unknown): azure-native's `identity.userAssignedIdentities` is a list of IDs going in and a
    map of ID → principal/client IDs (computed) coming out."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        state = dict(args.inputs)
        identity = state.get("identity")
        if args.typ.startswith("azure-native:") and isinstance(identity, dict):
            state["identity"] = {k: v for k, v in identity.items() if k != "userAssignedIdentities"}
        return None, state


class RecordingMonitor(mocks.MockMonitor):
    def __init__(self, mocks_: PlatformMocks):
        super().__init__(mocks_)
        self.records: list[Resource] = []
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        registration = self.resources[response.urn]
        inputs = rpc.deserialize_properties(request.object)
        self.records.append(
            Resource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                provider=request.provider or None,
                custom=bool(request.custom),
                inputs=inputs,
                outputs=registration.state,
                id=registration.id if request.custom else None,
                options={
                    "protect": bool(request.protect),
                    "retainOnDelete": bool(request.retainOnDelete),
                    "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                    "additionalSecretOutputs": list(request.additionalSecretOutputs),
                    "ignoreChanges": list(request.ignoreChanges),
                    "dependsOn": sorted(request.dependencies),
                    # only when set, so the plans of resources without it keep their shape
                    **(
                        {"replaceOnChanges": list(request.replaceOnChanges)}
                        if request.replaceOnChanges
                        else {}
                    ),
                },
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.stack_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


def synthesize(
    stack: str,
    flat_config: dict[str, str],
    program: Callable[[], None],
    identity: CloudIdentity | None = None,
    project: str = "mlplatform",
    preview: bool = False,
) -> Synthesis:
    """Run `program` under mocks with the engine-style `flat_config`; return what it declared
    (as a first preview sees it with `preview`: see the module docstring)."""
    kind = PreviewMocks if preview else PlatformMocks
    monitor = RecordingMonitor(kind(identity or CloudIdentity()))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        settings.reset_options()
        mocks.set_mocks(
            monitor.mocks,
            project=project,
            stack=stack,
            preview=preview,
            monitor=monitor,
            logger=logging.getLogger("mlplatform.synth"),
        )
        # set_mocks made and finished a root stack; run the program in a fresh one, as the
        # engine does, so its exports are registered as that stack's outputs.
        settings.ROOT.set(None)
        pulumi.runtime.set_all_config(flat_config)
        loop.run_until_complete(runtime_stack.run_in_stack(program))
    finally:
        settings.reset_options()
        pulumi.runtime.set_all_config({})
        asyncio.set_event_loop(None)
        loop.close()
    outputs = monitor.stack_outputs
    secret = sorted(k for k, v in outputs.items() if _contains_secret(v))
    return Synthesis(
        stack=stack, resources=list(monitor.records), outputs=outputs, secret_outputs=secret
    )


def _contains_secret(value: Any) -> bool:
    if rpc.is_rpc_secret(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)
    return False
