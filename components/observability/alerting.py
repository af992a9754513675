"""Who gets paged: the Alertmanager configuration built from the stack's typed routing.

Receivers are the bank's in-country endpoints (webhooks over HTTPS, e-mail through its relay
with STARTTLS required); the stack config validates their hosts (`stacks.config.observability`).
Routes match alert labels (`namespace`, `team`, `severity`...) in order; what no route takes
goes to the default receiver. Without any receiver configured every alert goes to `unrouted`,
a receiver with no integration: alerts stay visible in Alertmanager and Grafana, and the plan's
compliance report says nobody is paged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNROUTED = "unrouted"
# kube-prometheus-stack's default rules: Watchdog always fires (a dead-man's switch for an
# external monitor), InfoInhibitor only inhibits; neither pages anyone here.
SILENT = "silent"
SILENT_ALERTS = ("Watchdog", "InfoInhibitor")


@dataclass(frozen=True)
class WebhookReceiver:
    name: str
    url: str


@dataclass(frozen=True)
class EmailReceiver:
    name: str
    to: tuple[str, ...]
    smarthost: str
    sender: str
    ca_file: str | None = (
        None  # the relay's CA as mounted in Alertmanager (alertmanagerSpec.secrets)
    )


@dataclass(frozen=True)
class AlertRoute:
    receiver: str
    matchers: dict[str, str]
    continue_: bool = False


@dataclass(frozen=True)
class AlertRouting:
    receivers: tuple[WebhookReceiver | EmailReceiver, ...] = ()
    routes: tuple[AlertRoute, ...] = ()
    default: str | None = None
    secrets: tuple[str, ...] = field(default=())  # Secrets Alertmanager mounts (relay CAs)

    @property
    def pages_someone(self) -> bool:
        return bool(self.receivers)


def _receiver(r: WebhookReceiver | EmailReceiver) -> dict[str, Any]:
    if isinstance(r, WebhookReceiver):
        return {"name": r.name, "webhook_configs": [{"url": r.url, "send_resolved": True}]}
    email: dict[str, Any] = {
        "to": ", ".join(r.to),
        "from": r.sender,
        "smarthost": r.smarthost,
        "require_tls": True,
        "send_resolved": True,
    }
    if r.ca_file:
        email["tls_config"] = {"ca_file": r.ca_file}
    return {"name": r.name, "email_configs": [email]}


def alertmanager_config(routing: AlertRouting) -> dict[str, Any]:
    """alertmanager.yml: receivers, the routing tree and inhibitions (critical mutes warning)."""
    receivers = [_receiver(r) for r in routing.receivers] or [{"name": UNROUTED}]
    default = routing.default or receivers[0]["name"]
    silent = {
        "receiver": SILENT,
        "matchers": [f'alertname=~"{"|".join(SILENT_ALERTS)}"'],
        "continue": False,
    }
    routes = [silent] + [
        {
            "receiver": r.receiver,
            "matchers": [f'{k}="{v}"' for k, v in sorted(r.matchers.items())],
            "continue": r.continue_,
        }
        for r in routing.routes
    ]
    return {
        "route": {
            "receiver": default,
            "group_by": ["alertname", "namespace", "model"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes,
        },
        "receivers": [*receivers, {"name": SILENT}],
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["alertname", "namespace"],
            }
        ],
    }
