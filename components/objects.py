"""Small helpers every component uses: object metadata, and passing `depends_on` to children."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def object_meta(
    name: str,
    namespace: str,
    labels: dict[str, str],
    annotations: dict[str, pulumi.Input[str]] | None = None,
) -> k8s.meta.v1.ObjectMetaArgsDict:
    """Metadata of a namespaced platform object; `annotations` only when given (even empty)."""
    metadata: k8s.meta.v1.ObjectMetaArgsDict = {
        "name": name,
        "namespace": namespace,
        "labels": labels,
    }
    if annotations is not None:
        metadata["annotations"] = annotations
    return metadata


def upstream(opts: pulumi.ResourceOptions | None) -> list[Any]:
    """A component's explicit `depends_on`, to hand to its first children.

    Pulumi does not pass a component's `depends_on` down to the resources it creates, so a
    Certificate could otherwise be sent before cert-manager's CRDs exist.
    """
    if opts is None or opts.depends_on is None:
        return []
    deps = opts.depends_on
    return list(deps) if isinstance(deps, list | tuple) else [deps]
