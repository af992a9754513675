"""The `observability` config section: in-country receivers, IdP and SIEM; routes that resolve."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from stacks.config.observability import Observability, host_allowed

GOOD: dict[str, Any] = {
    "inCountryDomains": ["bank.ae"],
    "receivers": [
        {"name": "platform-oncall", "webhook": {"url": "https://alerts.bank.ae/hooks/ml"}},
        {
            "name": "risk-team",
            "email": {
                "to": ["risk-oncall@bank.ae"],
                "smarthost": "smtp.bank.ae:587",
                "from": "mlplatform@bank.ae",
            },
        },
        {"name": "in-cluster", "webhook": {"url": "https://relay.mlplatform-monitoring.svc/x"}},
    ],
    "routes": [{"receiver": "risk-team", "matchers": {"namespace": "risk"}}],
    "defaultReceiver": "platform-oncall",
    "grafana": {
        "oidc": {
            "issuerUrl": "https://idp.bank.ae/realms/bank",
            "clientId": "mlplatform-grafana",
            "clientSecret": "grafana-oidc",
            "adminGroup": "mlplatform-admins",
        }
    },
    "siem": {"host": "siem.dc1.bank.ae", "caSecret": "siem-ca"},
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as raised:
        Observability.model_validate(data)
    return str(raised.value)


def test_in_country_receivers_idp_and_siem_are_accepted() -> None:
    config = Observability.model_validate(GOOD)
    assert [r.name for r in config.receivers] == ["platform-oncall", "risk-team", "in-cluster"]
    assert config.grafana.oidc is not None and config.siem is not None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"receivers": [{"name": "x", "webhook": {"url": "https://hooks.slack.com/T0"}}]},
            "receivers[0] (x) names host 'hooks.slack.com' outside the country",
        ),
        (
            {"receivers": [{"name": "x", "webhook": {"url": "http://alerts.bank.ae/x"}}]},
            "must be an https:// URL",
        ),
        (
            {
                "receivers": [
                    {
                        "name": "x",
                        "email": {
                            "to": ["oncall@gmail.com"],
                            "smarthost": "smtp.bank.ae:587",
                            "from": "ml@bank.ae",
                        },
                    }
                ]
            },
            "names host 'gmail.com' outside the country",
        ),
        ({"routes": [{"receiver": "nobody", "matchers": {"a": "b"}}]}, "is not a receiver"),
        ({"defaultReceiver": None}, "defaultReceiver: required"),
        ({"siem": {"host": "siem.example.com"}}, "siem.host names host 'siem.example.com'"),
        (
            {
                "grafana": {
                    "oidc": {**GOOD["grafana"]["oidc"], "issuerUrl": "https://login.okta.com"}
                }
            },
            "grafana.oidc.issuerUrl names host 'login.okta.com'",
        ),
        ({"inCountryDomains": ["not a domain"]}, "must be DNS domains"),
        ({"receivers": [{"name": "x"}]}, "needs exactly one of webhook or email"),
        ({"routes": [{"receiver": "risk-team", "matchers": {"bad-label": "x"}}]}, "label names"),
    ],
)
def test_bad_observability_config_names_the_field(changes: dict[str, Any], expected: str) -> None:
    assert expected in _error(_with(**changes))


def test_host_allowed_means_under_a_domain_or_in_the_cluster() -> None:
    domains = ("bank.ae",)
    assert host_allowed("alerts.bank.ae", domains)
    assert host_allowed("bank.ae", domains)
    assert host_allowed("relay.mlplatform-monitoring.svc.cluster.local", domains)
    assert not host_allowed("notbank.ae", domains)
    assert not host_allowed("bank.ae.evil.com", domains)
