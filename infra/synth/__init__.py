"""The Pulumi program run in-process under mocks: no Pulumi CLI, credentials or network.

- `recording`: runs a program with `pulumi.runtime` mocks and records every resource (type,
  name, inputs, parent, provider, options) and the stack outputs, secrets marked;
- `computed`: what the clouds would compute (IDs, ARNs, endpoints in the stack's region);
- `manifests`: the Kubernetes objects of a synthesis as YAML files (what checkov scans).

`infra.plan` builds the offline plan on it; the component and stack tests use it directly.
"""
