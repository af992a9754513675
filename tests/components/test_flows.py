"""components.flows: the flows a client declares follow the egress rules it is given."""

from __future__ import annotations

import pytest

from components.flows import External, Pods, egress_flows, object_store
from components.network_policies import NetworkPeer

PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


def test_a_store_reached_through_a_block_with_exceptions_declares_the_same_block() -> None:
    """S3 through the gateway endpoint: public addresses only. The declared flow must say so,
    or the simulation sees a flow to 0.0.0.0/0 that the policy admits only in part."""
    peer = NetworkPeer((443,), cidr="0.0.0.0/0", except_cidrs=PRIVATE, name="object-store")
    store = object_store("https://s3.me-central-1.amazonaws.com")
    found = {f.name: f for f in egress_flows("mlflow", Pods(), [store], [peer])}
    flow = found["mlflow→object-store"]
    assert flow.destination == External("object-store", "0.0.0.0/0", PRIVATE)
    assert flow.ports == (443,)


def test_a_store_without_a_rule_on_its_port_is_refused() -> None:
    peer = NetworkPeer((443,), cidr="0.0.0.0/0", name="object-store")
    store = object_store("https://minio.dc1.example.ae:9000")
    with pytest.raises(ValueError, match="no egress rule reaches object-store on port 9000"):
        egress_flows("mlflow", Pods(), [store], [peer])
