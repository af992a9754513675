"""Shared helpers for the AWS component and stack tests (run under the SDK mocks)."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws.common import AwsSite
from infra.synth.recording import Resource, Synthesis, synthesize, unwrap

ACCOUNT = "111122223333"
REGION = "me-central-1"
TAGS = {
    "owner": "ml-platform-team",
    "cost-centre": "cc-4410",
    "data-classification": "confidential",
    "system": "mlplatform",
    "residency": "uae",
    "pii": "false",
    "environment": "test",
}
MANDATORY_TAGS = ("owner", "data-classification", "system", "residency", "pii")
SITE = AwsSite(account_id=ACCOUNT, region=REGION, tags=TAGS, protect=True)
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-4000-8000-000000000001"
LOGS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/00000000-0000-4000-8000-000000000002"
ARN = re.compile(r"arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):")


def run_aws(build: Callable[[pulumi.ResourceOptions], Any]) -> Synthesis:
    """Run `build(opts)` with a provider pinned like the stack's; return the synthesis."""

    def program() -> None:
        provider = aws.Provider(
            "aws-test", region=REGION, allowed_account_ids=[ACCOUNT], skip_region_validation=False
        )
        build(pulumi.ResourceOptions(providers=[provider]))

    return synthesize("test", {}, program)


def inputs(resource: Resource) -> dict[str, Any]:
    return unwrap(resource.inputs)


def one(synthesis: Synthesis, typ: str) -> Resource:
    found = synthesis.of_type(typ)
    assert len(found) == 1, f"expected one {typ}, found {[r.name for r in found]}"
    return found[0]


def policy(resource: Resource, key: str = "policy") -> dict[str, Any]:
    return json.loads(inputs(resource)[key])


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["Statement"])


def by_sid(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements(document)}


def principals(document: dict[str, Any]) -> Iterator[str]:
    """Every principal value named by a policy (`"*"` included as such)."""
    for st in statements(document):
        value = st.get("Principal")
        if value is None:
            continue
        if isinstance(value, str):
            yield value
            continue
        for names in value.values():
            yield from [names] if isinstance(names, str) else names


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        if value[:1] in "{[":
            with contextlib.suppress(ValueError):
                yield from strings(json.loads(value))
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from strings(v)


def arn_regions(synthesis: Synthesis) -> set[str]:
    """Regions named by every ARN in every input and output (empty for global services)."""
    found = set()
    for resource in synthesis.resources:
        for text in strings([unwrap(resource.inputs), unwrap(resource.outputs)]):
            found |= {m.group(2) for m in ARN.finditer(text)}
    return found


def aws_class(typ: str) -> type | None:
    """`aws:s3/bucket:Bucket` → `pulumi_aws.s3.Bucket` (None for providers and components)."""
    if not typ.startswith("aws:"):
        return None
    module = typ.split(":")[1].split("/")[0]
    package = importlib.import_module("pulumi_aws" if module == "index" else f"pulumi_aws.{module}")
    return getattr(package, typ.rsplit(":", 1)[1], None)


def taggable(typ: str) -> bool:
    cls = aws_class(typ)
    return cls is not None and "tags" in inspect.signature(cls._internal_init).parameters
