"""Who gets paged: the Alertmanager configuration from the stack's routing, checked by amtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.observability.alerting import (
    SILENT,
    UNROUTED,
    AlertRoute,
    AlertRouting,
    EmailReceiver,
    WebhookReceiver,
    alertmanager_config,
)

AMTOOL = shutil.which("amtool")
ROUTING = AlertRouting(
    receivers=(
        WebhookReceiver("platform-oncall", "https://alerts.bank.ae/hooks/mlplatform"),
        EmailReceiver(
            "risk-team",
            ("risk-oncall@bank.ae",),
            "smtp.bank.ae:587",
            "mlplatform@bank.ae",
            ca_file="/etc/alertmanager/secrets/smtp-ca/ca.crt",
        ),
    ),
    routes=(AlertRoute("risk-team", {"namespace": "risk"}),),
    default="platform-oncall",
)


def _amtool(tmp_path: Path, config: dict) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run(
        [str(AMTOOL), "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_routes_send_a_tenant_s_alerts_to_its_team_and_the_rest_to_the_default() -> None:
    config = alertmanager_config(ROUTING)
    route = config["route"]
    assert route["receiver"] == "platform-oncall"
    assert route["routes"][0]["receiver"] == SILENT  # Watchdog / InfoInhibitor page nobody
    assert route["routes"][1] == {
        "receiver": "risk-team",
        "matchers": ['namespace="risk"'],
        "continue": False,
    }
    email = config["receivers"][1]["email_configs"][0]
    assert email["require_tls"] is True
    assert email["to"] == "risk-oncall@bank.ae"


def test_without_receivers_alerts_are_kept_but_page_nobody() -> None:
    config = alertmanager_config(AlertRouting())
    assert config["route"]["receiver"] == UNROUTED
    assert {"name": UNROUTED} in config["receivers"]
    assert not AlertRouting().pages_someone


@pytest.mark.skipif(AMTOOL is None, reason="amtool not installed (`make observability-tools`)")
def test_amtool_accepts_the_configuration(tmp_path: Path) -> None:
    for routing in (ROUTING, AlertRouting()):
        done = _amtool(tmp_path, alertmanager_config(routing))
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(AMTOOL is None, reason="amtool not installed (`make observability-tools`)")
def test_amtool_refuses_a_route_to_a_receiver_that_does_not_exist(tmp_path: Path) -> None:
    broken = AlertRouting(ROUTING.receivers, (AlertRoute("nobody", {"team": "x"}),), "risk-team")
    done = _amtool(tmp_path, alertmanager_config(broken))
    assert done.returncode != 0
    assert '"nobody"' in done.stdout + done.stderr
